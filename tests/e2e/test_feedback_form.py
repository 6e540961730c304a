"""The participant's feedback form in a real browser: answers saved as one types survive closing
the tab; the same answer edited in two tabs shows the conflict with both versions; a session that
expires mid-typing loses nothing; every page passes axe-core at desktop and phone widths, in its
conflict and read-only states too.

The demo's participant@asi.example has an open Circularity round with two answers drafted."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from django_scopes import scope, scopes_disabled

from asi_wg.models import User
from feedback import services
from feedback.models import Answer, FeedbackRound
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import PHONE
from tests.e2e.test_meetings_flow import sign_in
from tests.e2e.test_public_pages import HAS_HORIZONTAL_SCROLL, header

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

PARTICIPANT = "participant@asi.example"
ROUND = "Circularity criteria: first round"


def the_round() -> FeedbackRound:
    with scopes_disabled():
        return FeedbackRound.objects.select_related("organisation").get(title=ROUND)


def comment_of(criterion_title: str) -> str | None:
    with scopes_disabled():
        answer = Answer.objects.filter(
            round__title=ROUND,
            criterion__title=criterion_title,
            author__email=PARTICIPANT,
        ).first()
    return answer.comment if answer else None


def expect_text(page: Page, selector: str, pattern: str, timeout: int = 10_000) -> None:
    from playwright.sync_api import expect

    expect(page.locator(selector)).to_contain_text(re.compile(pattern), timeout=timeout)


def open_round(page: Page) -> None:
    header(page).get_by_role("link", name="Feedback").click()
    page.wait_for_url("**/asi/feedback/")
    page.get_by_role("link", name=ROUND).click()
    page.wait_for_url(re.compile(r"/asi/feedback/rounds/\d+/$"))


def unanswered(page: Page) -> list[str]:
    """The titles of the criteria the overview shows as not started."""
    rows = page.locator("table.criteria-table tbody tr").filter(has_text="Not started")
    return [
        re.sub(r"^[\d.]+\s+", "", text.strip()) for text in rows.locator("th a").all_inner_texts()
    ]


def criterion_heading(page: Page) -> str:
    return re.sub(r"^[\d.]+\s+", "", page.locator("h1").inner_text().strip())


def test_answers_saved_as_one_types_are_there_after_closing_the_tab(
    browser: Browser, demo_site: str
) -> None:
    context = browser.new_context(base_url=demo_site)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, PARTICIPANT)
    open_round(page)
    before = page.locator(".progress-text").inner_text()
    answered, total = (int(n) for n in re.findall(r"\d+", before)[:2])
    todo = unanswered(page)[:3]
    assert len(todo) == 3
    page.get_by_role("link", name=re.compile(re.escape(todo[0]))).click()
    typed = {}
    for number in range(3):
        title = criterion_heading(page)
        typed[title] = f"Comment {number + 1} on {title[:30]}"
        page.get_by_role("group", name="Relevance").get_by_label("4 - high").check()
        page.get_by_label("Comment (optional)", exact=True).fill(typed[title])
        expect_text(page, "#save-state", r"Saved \d\d:\d\d")
        if number < 2:
            page.get_by_role("link", name=re.compile(r"^Next:")).click()
            page.wait_for_load_state()
    page.close()  # nothing submitted, nothing but the autosave

    again = context.new_page()
    again.goto("/asi/")
    open_round(again)
    progress = again.locator(".progress-text").inner_text()
    assert f"{answered + 3} of {total}" in progress
    for title, comment in typed.items():
        assert comment_of(title) == comment
        again.get_by_role("link", name=re.compile(re.escape(title))).first.click()
        again.wait_for_url(re.compile(r"/criteria/\d+/$"))
        assert again.get_by_label("Comment (optional)", exact=True).input_value() == comment
        assert again.get_by_role("group", name="Relevance").get_by_label("4 - high").is_checked()
        again.go_back()
    context.close()


def test_the_same_answer_in_two_tabs_shows_the_conflict_and_overwrites_nothing(
    browser: Browser, demo_site: str
) -> None:
    context = browser.new_context(base_url=demo_site)
    context.set_default_timeout(10_000)
    first = context.new_page()
    sign_in(first, PARTICIPANT)
    open_round(first)
    title = unanswered(first)[0]
    first.get_by_role("link", name=re.compile(re.escape(title))).click()
    url = first.url
    second = context.new_page()
    second.goto(url)

    first.get_by_label("Comment (optional)", exact=True).fill("Written in the first tab.")
    expect_text(first, "#save-state", r"Saved")
    second.get_by_label("Comment (optional)", exact=True).fill("Written in the second tab.")
    expect_text(second, "#save-state", r"Not saved: this answer was changed in another tab")
    panel = second.get_by_role("region", name="Changed in another tab or window")
    assert "Written in the first tab." in panel.inner_text()  # the saved version
    assert "Written in the second tab." in panel.inner_text()  # the person's, as typed
    assert comment_of(title) == "Written in the first tab."
    assert_accessible(second)
    # Typing on does not overwrite either: autosave waits for the person's choice.
    second.get_by_label("Comment (optional)", exact=True).fill("Written in the second tab, more.")
    second.wait_for_timeout(2500)
    assert comment_of(title) == "Written in the first tab."

    second.get_by_role("button", name=re.compile("Keep my version")).click()
    expect_text(second, "#save-state", r"Saved")
    assert comment_of(title) == "Written in the second tab, more."
    context.close()


def test_a_session_expiring_mid_typing_loses_nothing(browser: Browser, demo_site: str) -> None:
    context = browser.new_context(base_url=demo_site)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, PARTICIPANT)
    open_round(page)
    title = unanswered(page)[0]
    page.get_by_role("link", name=re.compile(re.escape(title))).click()
    comment = page.get_by_label("Comment (optional)", exact=True)
    comment.fill("Part one.")
    expect_text(page, "#save-state", r"Saved")

    context.clear_cookies(name="sessionid")  # the session expires
    comment.press_sequentially(" Part two.", delay=20)
    expect_text(page, "#save-state", r"You were signed out")
    assert page.get_by_role("link", name="Sign in again (opens a new tab)").is_visible()
    comment.press_sequentially(" Part three.", delay=20)
    page.wait_for_timeout(2000)
    assert comment_of(title) == "Part one."

    other = context.new_page()
    sign_in(other, PARTICIPANT)
    other.close()
    page.bring_to_front()
    expect_text(page, "#save-state", r"Saved", timeout=15_000)
    assert comment_of(title) == "Part one. Part two. Part three."

    # And a copy typed while signed out is put back on the next visit.
    context.clear_cookies(name="sessionid")
    comment.press_sequentially(" Part four.", delay=20)
    expect_text(page, "#save-state", r"You were signed out")
    page.close()
    back = context.new_page()
    sign_in(back, PARTICIPANT)
    back.goto(page.url)
    expect_text(back, "#local-notice", r"back in the form")
    expect_text(back, "#save-state", r"Saved")
    assert comment_of(title) == "Part one. Part two. Part three. Part four."
    context.close()


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_every_feedback_page_is_accessible(browser: Browser, demo_site: str, width: str) -> None:
    viewport: Any = PHONE if width == "phone" else {"width": 1280, "height": 900}
    context = browser.new_context(base_url=demo_site, viewport=viewport)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, PARTICIPANT)
    if width == "phone":
        page.goto("/asi/feedback/")
    else:
        header(page).get_by_role("link", name="Feedback").click()
    page.wait_for_url("**/asi/feedback/")
    assert_accessible(page)
    page.get_by_role("link", name=ROUND).click()
    assert_accessible(page)
    page.locator("table.criteria-table tbody th a").first.click()
    assert_accessible(page)
    assert not page.evaluate(HAS_HORIZONTAL_SCROLL)

    # The conflict state: the answer changed elsewhere since this page was loaded.
    feedback_round = the_round()
    with scopes_disabled():
        answer = Answer.objects.get(
            round=feedback_round,
            author__email=PARTICIPANT,
            criterion__title=criterion_heading(page),
        )
        user = User.objects.get(email=PARTICIPANT)
    with scope(organisation=feedback_round.organisation):
        services.answer_save(
            round=feedback_round,
            criterion=answer.criterion,
            user=user,
            data={"comment": "Changed on another device."},
            expected_version=answer.version,
        )
    page.get_by_label("Comment (optional)", exact=True).fill("Changed here.")
    expect_text(page, "#save-state", r"Not saved")
    assert_accessible(page)

    # The read-only state, once the round has closed.
    with scope(organisation=feedback_round.organisation), scopes_disabled():
        staff = User.objects.get(email="secretariat@asi.example")
        services.round_close(round=feedback_round, acting_user=staff)
    page.evaluate("() => window.localStorage.clear()")
    page.reload()
    assert page.get_by_text("This round closed").is_visible()
    assert page.get_by_text("Changed on another device.").is_visible()
    assert_accessible(page)
    assert not page.evaluate(HAS_HORIZONTAL_SCROLL)
    context.close()
