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


def test_the_secretariat_schedules_records_attendance_and_follows_up(
    page: Page, tmp_path: Path
) -> None:
    sign_in(page, "secretariat@asi.example")
    header(page).get_by_role("link", name="Meetings", exact=True).click()
    page.wait_for_url("**/asi/staff/meetings/")
    assert page.get_by_text("7 of 6–8 planned.").is_visible()  # one of eight is cancelled
    assert_accessible(page)

    # Schedule a meeting in the admin: planned in São Paulo's zone, for Nature.
    page.get_by_role("link", name="Schedule a meeting").click()
    page.wait_for_url("**/asi/admin/meetings/meeting/add/")
    assert_accessible(page)
    page.get_by_label("Group:").select_option(label="Nature")
    page.get_by_label("Phase:").select_option(label="Nature: Phase 1")
    page.get_by_label("Title:").fill("Nature metrics, second look")
    page.get_by_label("Starts (in the time zone below):").fill("2027-01-20T10:00")
    page.get_by_label("Time zone:").select_option("America/Sao_Paulo")
    page.get_by_label("Videoconference link:").fill("https://video.example.org/j/777")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/asi/admin/meetings/meeting/")
    assert page.get_by_text("was added successfully").is_visible()
    with scopes_disabled():
        scheduled = Meeting.objects.get(title="Nature metrics, second look")
        assert scheduled.number == 2
        assert scheduled.starts_at.isoformat() == "2027-01-20T13:00:00+00:00"

    # Participation: the flag of the person who missed three meetings in a row, and a request.
    page.goto("/asi/staff/meetings/")
    header(page).get_by_role("link", name="Participation", exact=True).click()
    page.wait_for_url("**/asi/staff/participation/")
    assert_accessible(page)
    flags = page.get_by_role("region", name=re.compile("Missing meetings"))
    flags.get_by_role("button", name=re.compile("Send step-down request")).first.click()
    page.wait_for_load_state()
    assert page.get_by_text(re.compile("step-down request", re.IGNORECASE)).first.is_visible()
    with page.expect_download() as export:
        page.get_by_role("link", name="Excel (XLSX)").click()
    saved = tmp_path / "participation.xlsx"
    export.value.save_as(saved)
    from openpyxl import load_workbook

    rows = list(load_workbook(saved).active.iter_rows(values_only=True))
    assert len(rows) == 31  # a header and the thirty seated in Circularity
    assert any(row and "Pat Participant" in str(row) for row in rows)

    # The latest meeting held has no register yet: mark everyone present at once.
    page.goto("/asi/staff/meetings/")
    latest = page.get_by_role("row").filter(has_text="Review of the consultation draft criteria")
    latest.get_by_role("link", name="Register").click()
    page.wait_for_url(re.compile(r"/attendance/$"))
    assert_accessible(page)
    page.get_by_role("button", name=re.compile("Mark everyone not yet marked as present")).click()
    assert page.get_by_text("30 not yet marked are now marked present").is_visible()
    with scopes_disabled():
        latest_held = Meeting.objects.get(title="Review of the consultation draft criteria")
        assert latest_held.attendance.filter(status="present").count() == 30
        assert latest_held.attendance_recorded_at is not None


def test_the_secretariats_meetings_pages_fit_a_phone(phone_page: Page) -> None:
    page = phone_page
    sign_in(page, "secretariat@asi.example")
    with scopes_disabled():
        meeting = Meeting.objects.get(title="Review of the consultation draft criteria")
    for path in (
        "/asi/staff/meetings/",
        f"/asi/staff/meetings/{meeting.uid}/attendance/",
        f"/asi/staff/meetings/{meeting.uid}/notes/",
        "/asi/staff/participation/",
        f"/asi/meetings/{meeting.uid}/",
        "/asi/me/calendar/",
    ):
        page.goto(path)
        assert not page.evaluate(HAS_HORIZONTAL_SCROLL), path
        assert_accessible(page)
