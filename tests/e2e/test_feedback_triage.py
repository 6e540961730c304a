"""The secretariat's triage in a real browser: a closed round's comments are filtered, one gets
its own disposition, several get one in bulk, and the round's dispositions are published; the
rounds list, the triage and the confirmation pass axe-core at desktop and phone widths."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from asi_wg.models import Organisation, User
from feedback import services
from feedback.demo import OPEN_TITLE
from feedback.models import Answer, Disposition, DraftDocument, FeedbackRound
from groups.models import WorkingGroup
from membership.models import Seat
from tests.e2e.axe import assert_accessible
from tests.e2e.test_meetings_flow import sign_in
from tests.e2e.test_public_pages import HAS_HORIZONTAL_SCROLL, header

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

WIDE = """() => [...document.querySelectorAll('body *')].filter(
  (e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
).slice(0, 8).map((e) => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right)"""
TITLE = "Circularity criteria: closed triage round"
TECHNICAL = "The recycled-content threshold needs a test method."


def closed_round() -> tuple[FeedbackRound, list[Answer]]:
    """A closed Circularity round on the demo draft with four comments by seated participants,
    one of them technical."""
    with scopes_disabled():
        asi = Organisation.objects.get(slug="asi")
        staff = User.objects.get(email="secretariat@asi.example")
    with scope(organisation=asi):
        circularity = WorkingGroup.objects.get(organisation=asi, slug="circularity")
        document = DraftDocument.objects.get(organisation=asi)
        criteria = list(circularity.criteria.order_by("sort_key")[:2])
        now = timezone.now()
        feedback_round = services.round_create(
            group=circularity,
            document=document,
            title=TITLE,
            criteria=criteria,
            opens_at=now - datetime.timedelta(days=20),
            closes_at=now - datetime.timedelta(days=2),
            acting_user=staff,
        )
        holders = [
            seat.holder
            for seat in Seat.objects.filter(group=circularity).select_related("holder")[:4]
        ]
        assert len(holders) == 4
        answers = [
            Answer.objects.create(
                organisation=asi,
                round=feedback_round,
                criterion=criteria[n % 2],
                author=holder,
                relevance=4,
                clarity=n + 1,
                comment=TECHNICAL if n == 0 else f"General point number {n}.",
                comment_type="technical" if n == 0 else "general",
                submitted_at=now - datetime.timedelta(days=3),
            )
            for n, holder in enumerate(holders)
        ]
    return feedback_round, answers


def test_the_secretariat_triages_and_publishes_a_closed_round(page: Page, phone_page: Page) -> None:
    feedback_round, answers = closed_round()
    technical, first, second, third = answers
    sign_in(page, "secretariat@asi.example")
    header(page).get_by_role("link", name="Feedback", exact=True).click()
    page.wait_for_url("**/asi/staff/feedback/")
    assert page.get_by_role("heading", name="Feedback rounds").is_visible()
    assert_accessible(page)
    row = page.locator(f"#round-{feedback_round.pk}")
    assert "4 from 4 participants" in row.inner_text()
    row.get_by_role("link", name=TITLE, exact=True).click()

    page.wait_for_url(f"**/asi/staff/feedback/rounds/{feedback_round.pk}/")
    assert page.get_by_role("heading", name="Comments (4)").is_visible()
    assert_accessible(page)

    # Filter: technical comments only.
    page.get_by_label("Type of comment").select_option(label="Technical")
    page.get_by_role("button", name="Apply the filters").click()
    assert page.get_by_role("heading", name="Comments (1 matching the filters)").is_visible()
    comment = page.locator(f"#answer-{technical.pk}")
    assert TECHNICAL in comment.inner_text()
    comment.get_by_label("Disposition").select_option(label="Accepted with modification")
    comment.get_by_label("Response").fill("The draft will name ISO 22095 as the method.")
    comment.get_by_role("button", name="Save").click()
    assert page.get_by_text("The disposition is saved. It stays private until published.")
    assert "type=technical" in page.url  # back on the same filtered page
    assert_accessible(page)

    # Bulk: the three general comments get one disposition together.
    page.get_by_role("link", name="Clear the filters").click()
    for answer in (first, second, third):
        page.locator(f"#tick-{answer.pk}").check()
    page.locator("#bulk-status").select_option(label="Noted")
    page.locator("#bulk-response").fill("Noted for the second draft.")
    page.get_by_role("button", name="Save for the ticked comments").click()
    assert page.get_by_text("The disposition is saved for 3 comments.").is_visible()

    # Publish the round's four dispositions, after a confirmation.
    page.get_by_role("link", name="Publish dispositions (4)").click()
    assert page.get_by_text("4 dispositions will be published").is_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Publish 4 dispositions").click()
    assert page.get_by_text("4 dispositions are published").is_visible()
    assert page.get_by_text("Published dispositions are final.").count() == 4
    assert_accessible(page)
    with scopes_disabled():
        published = Disposition.objects.filter(
            answer__round=feedback_round, published_at__isnull=False
        )
        assert sorted(published.values_list("status", flat=True)) == [
            "accepted_modified",
            "noted",
            "noted",
            "noted",
        ]

    # The same pages at phone width.
    sign_in(phone_page, "secretariat@asi.example")
    for path in (
        "/asi/staff/feedback/",
        f"/asi/staff/feedback/rounds/{feedback_round.pk}/",
        f"/asi/staff/feedback/rounds/{feedback_round.pk}/?disposition=none",
    ):
        phone_page.goto(path)
        assert_accessible(phone_page)
        wide = phone_page.evaluate(WIDE)
        assert not phone_page.evaluate(HAS_HORIZONTAL_SCROLL), (path, wide)


def test_the_open_rounds_triage_flags_the_comment_changed_after_its_disposition(
    page: Page, phone_page: Page
) -> None:
    """The demo's open Circularity round: one comment was rewritten after the secretariat's early
    disposition; the triage says so beside that comment, and passes axe at both widths."""
    with scopes_disabled():
        open_round = FeedbackRound.objects.get(title=OPEN_TITLE)
        changed = Disposition.objects.get(answer__round=open_round).answer
    for browser_page in (page, phone_page):
        sign_in(browser_page, "secretariat@asi.example")
        browser_page.goto(f"/asi/staff/feedback/rounds/{open_round.pk}/")
        flagged = browser_page.locator(f"#answer-{changed.pk}")
        flagged.get_by_text("Changed after the disposition was written").wait_for()
        assert browser_page.get_by_text("Changed after the disposition was written").count() == 1
        assert_accessible(browser_page)
    assert not phone_page.evaluate(HAS_HORIZONTAL_SCROLL)
