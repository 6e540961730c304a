"""The public synopsis in a real browser: the secretariat reviews the closed demo round's
synopsis, edits the introduction and publishes a new version; a visitor without an account
finds it from the tenant's home page and reads it. Each page passes axe-core at desktop and
phone widths, and the phone layout needs no sideways scrolling."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from feedback.demo import CLOSED_TITLE
from tests.e2e.axe import assert_accessible
from tests.e2e.test_meetings_flow import sign_in
from tests.e2e.test_public_pages import HAS_HORIZONTAL_SCROLL

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

INTRO = "Second version: responses added since the first."


def test_the_secretariat_publishes_a_synopsis_and_a_visitor_reads_it(
    page: Page, phone_page: Page
) -> None:
    sign_in(page, "secretariat@asi.example")
    page.goto("/asi/staff/feedback/")
    row = page.get_by_role("row").filter(has_text=CLOSED_TITLE)
    row.get_by_role("link", name="Public synopsis").click()
    assert page.get_by_role("heading", name=f"Public synopsis: {CLOSED_TITLE}").is_visible()
    assert page.get_by_role("link", name="Version 1").is_visible()  # the demo published it
    assert_accessible(page)
    page.get_by_role("textbox", name="Introduction").fill(INTRO)
    page.get_by_role("button", name="Publish version 2").click()
    assert page.get_by_text("Version 2 of the synopsis is public.").is_visible()
    assert_accessible(page)

    for viewport_page in (phone_page, page):
        viewport_page.context.clear_cookies()  # a visitor without an account
        viewport_page.goto("/asi/")
        viewport_page.get_by_role("link", name="Consultation synopses").click()
        assert viewport_page.get_by_role("heading", name="consultation synopses").is_visible()
        assert_accessible(viewport_page)
        assert not viewport_page.evaluate(HAS_HORIZONTAL_SCROLL)
        viewport_page.get_by_role("link", name=CLOSED_TITLE).click()
        assert viewport_page.get_by_text(INTRO).is_visible()
        assert viewport_page.get_by_role(
            "heading", name="Comments by criterion and theme"
        ).is_visible()
        assert_accessible(viewport_page)
        assert not viewport_page.evaluate(HAS_HORIZONTAL_SCROLL)
