"""Meetings in a real browser, as each role meets them: the participant finds the next meeting
in their own time zone, sends apologies, asks for interpretation, takes the calendar file and a
reading; a visitor is sent to sign in; every page passes axe-core at desktop and phone widths."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django_scopes import scopes_disabled
from icalendar import Calendar

from asi_wg.demo import DEMO_PASSWORD
from meetings.models import Meeting
from tests.e2e.axe import assert_accessible
from tests.e2e.test_public_pages import HAS_HORIZONTAL_SCROLL, header

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

NEXT = "Alignment with ISO 14021 and EU rules"


def sign_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/?next=/asi/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/asi/")


def test_a_participant_prepares_for_the_next_meeting(page: Page, tmp_path: Path) -> None:
    sign_in(page, "participant@asi.example")
    header(page).get_by_role("link", name="My meetings").click()
    page.wait_for_url("**/asi/meetings/")
    assert_accessible(page)
    upcoming = page.get_by_role("region", name="Upcoming")
    card = upcoming.get_by_role("listitem").filter(has_text=NEXT)
    # Planned at 14:00 in London; Pat Participant lives in Zurich, an hour ahead all year.
    assert re.search(r"15:00–16:30 \(Europe/Zurich\)", card.inner_text())
    assert "planned as" in card.inner_text()
    assert "14:00–15:30 (Europe/London)" in card.inner_text()
    card.get_by_role("link", name=re.compile(NEXT)).click()

    page.wait_for_url(re.compile(r"/asi/meetings/[0-9a-f-]+/$"))
    assert page.get_by_role("link", name="Join the videoconference").is_visible()
    assert page.get_by_text("Antitrust statement").is_visible()
    assert_accessible(page)

    page.get_by_label("Note to the secretariat (optional)").fill("Travelling to a plant visit.")
    page.get_by_role("button", name="Send apologies").click()
    assert page.get_by_text("Your apologies are sent to the secretariat.").is_visible()
    assert page.get_by_text("You sent apologies (“Travelling to a plant visit.”)").is_visible()
    page.get_by_role("button", name="I will attend after all").click()
    assert page.get_by_text("you are expected at the meeting").is_visible()

    page.get_by_label("Interpretation into").select_option(label="Spanish")
    page.get_by_role("button", name="Request interpretation").click()
    assert page.get_by_text("You asked for interpretation into Spanish.").is_visible()
    assert_accessible(page)

    with page.expect_download() as calendar_download:
        page.get_by_role("link", name="Add to my calendar (.ics)").click()
    ics = tmp_path / "meeting.ics"
    calendar_download.value.save_as(ics)
    (event,) = Calendar.from_ical(ics.read_bytes()).walk("VEVENT")
    assert str(event["SUMMARY"]) == f"Circularity: {NEXT}"
    assert "video.example.org" in str(event["DESCRIPTION"])

    with page.expect_download() as reading:
        page.get_by_role("link", name="Draft criteria for meeting 7").click()
    saved = tmp_path / "reading.pdf"
    reading.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF-")
    assert reading.value.suggested_filename == "circularity-draft-7.pdf"

    page.goto("/asi/me/calendar/")
    assert page.get_by_label("Your private calendar address").input_value().endswith(".ics")
    assert_accessible(page)


def test_the_meetings_pages_fit_a_phone(phone_page: Page) -> None:
    page = phone_page
    sign_in(page, "participant@asi.example")
    page.goto("/asi/meetings/")
    assert not page.evaluate(HAS_HORIZONTAL_SCROLL)
    assert_accessible(page)
    with scopes_disabled():
        meeting = Meeting.objects.get(title=NEXT)
    page.goto(f"/asi/meetings/{meeting.uid}/")
    assert not page.evaluate(HAS_HORIZONTAL_SCROLL)
    assert_accessible(page)


def test_a_visitor_is_asked_to_sign_in_and_sees_no_link(page: Page) -> None:
    with scopes_disabled():
        meeting = Meeting.objects.get(title=NEXT)
    page.goto(f"/asi/meetings/{meeting.uid}/")
    page.wait_for_url("**/accounts/login/**")
    assert "video.example.org" not in page.content()
