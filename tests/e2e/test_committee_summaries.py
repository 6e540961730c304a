"""The Standards Committee's summaries in a real browser: a committee member finds the closed
round's summary from the navigation, reads its counts, rating charts and comments with their
dispositions, moves on to the document's and a group's summary; every page passes axe-core at
desktop and phone widths without sideways scrolling. A participant has no way in."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from feedback.demo_closed import TITLE as CLOSED_ROUND
from tests.e2e.axe import assert_accessible
from tests.e2e.test_meetings_flow import sign_in
from tests.e2e.test_public_pages import HAS_HORIZONTAL_SCROLL, header

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

DOCUMENT = "Performance Standard V4, consultation draft 1"


def test_a_committee_member_reads_the_closed_rounds_summary(page: Page) -> None:
    sign_in(page, "committee@asi.example")
    header(page).get_by_role("link", name="Summaries").click()
    page.wait_for_url("**/asi/committee/summaries/")
    assert page.get_by_role("heading", name="Feedback summaries", level=1).is_visible()
    assert_accessible(page)
    row = page.get_by_role("row").filter(has_text=CLOSED_ROUND)
    assert "Closed" in row.inner_text()
    assert re.search(r"\(\w+/\w+\)", row.inner_text())  # the time zone is named
    row.get_by_role("link", name=CLOSED_ROUND).click()

    page.wait_for_url(re.compile(r"/asi/committee/summaries/rounds/\d+/$"))
    assert page.get_by_role(
        "heading", name=re.compile(f"Round summary: {CLOSED_ROUND}")
    ).is_visible()
    glance = page.get_by_role("region", name="At a glance")
    assert re.search(r"Respondents\s*\d+", glance.inner_text())
    # Twenty criteria, three charts each, every chart named by its numbers.
    charts = page.get_by_role("img", name=re.compile(r"^(Relevance|Clarity|Feasibility)"))
    assert charts.count() == 60
    name = charts.first.locator("title").text_content() or ""
    assert re.search(r"1 \(very low\): \d+; .*mean", name)
    assert page.get_by_role("table", name=re.compile(r"^Ratings of ")).count() == 20
    assert page.locator("article.committee-comment").count() > 100
    assert page.get_by_text("Disposition: ").first.is_visible()
    assert page.get_by_text("Not yet published").first.is_visible()
    assert_accessible(page)

    # The document's summary, from the index.
    page.get_by_role("navigation", name="Summaries").get_by_role("link").click()
    page.wait_for_url("**/asi/committee/summaries/")
    documents = page.get_by_role("region", name="By draft document")
    documents.get_by_role("link", name=DOCUMENT, exact=True).click()
    page.wait_for_url(re.compile(r"/asi/committee/summaries/documents/\d+/$"))
    # The document's and the group's summaries pass axe in the accessibility crawl's
    # committee account; checking these long pages again here would only cost time.
    assert page.get_by_role("heading", name=re.compile("^Document summary")).is_visible()

    page.go_back()
    page.wait_for_url("**/asi/committee/summaries/")
    documents.get_by_role("link", name=f"Circularity on {DOCUMENT}").click()
    page.wait_for_url(re.compile(r"/asi/committee/summaries/groups/circularity/documents/\d+/$"))
    assert page.get_by_role("heading", name=re.compile("^Group summary: Circularity")).is_visible()


def test_the_summaries_read_on_a_phone(phone_page: Page) -> None:
    page = phone_page
    sign_in(page, "committee@asi.example")
    page.goto("/asi/committee/summaries/")
    assert_accessible(page)
    assert not page.evaluate(HAS_HORIZONTAL_SCROLL)
    page.get_by_role("row").filter(has_text=CLOSED_ROUND).get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/asi/committee/summaries/rounds/\d+/$"))
    assert_accessible(page)
    assert not page.evaluate(HAS_HORIZONTAL_SCROLL)


def test_a_participant_has_no_way_to_the_summaries(page: Page) -> None:
    sign_in(page, "participant@asi.example")
    assert header(page).get_by_role("link", name="Summaries").count() == 0
    response = page.goto("/asi/committee/summaries/")
    assert response is not None
    assert response.status == 403
