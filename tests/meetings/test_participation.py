"""Participation records (a worked example with exact hours), the participant's own record,
non-attendance flags, step-down requests, ending a seat, the export, and notes."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from asi_wg.models import AuditEntry, Organisation, User
from groups.models import Phase
from meetings import selectors, services
from meetings.models import Meeting
from membership import tasks
from membership.models import Application, Offer, Seat
from tests.conftest import make_secretariat
from tests.factories import (
    ApplicationFactory,
    LinkMaterialFactory,
    PhaseFactory,
    WorkingGroupFactory,
)
from tests.meetings.conftest import Circle, client_for, seat_person
from tests.meetings.past import past_meeting, seated

pytestmark = pytest.mark.django_db


def ago(days: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def current_phase(circle: Circle) -> Phase:
    with scopes_disabled():
        Phase.objects.filter(pk=circle.phase.pk).update(
            starts_on=(timezone.now() - datetime.timedelta(days=100)).date(),
            ends_on=(timezone.now() + datetime.timedelta(days=100)).date(),
        )
        circle.phase.refresh_from_db()
    return circle.phase


def mark(meeting: Meeting, staff: User, marks: dict[int, tuple[str, int | None]]) -> None:
    with scope(organisation=meeting.organisation):
        services.attendance_record(meeting=meeting, marks=marks, acting_user=staff)


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The notifications handed to the queue (Celery) after commit."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(tasks.notification_send, "delay", lambda **kw: calls.append(kw))
    return calls


@pytest.fixture
def example(circle: Circle, secretariat: User) -> dict[str, Any]:
    """Pat sits from the start; Quinn from between the first and second meeting.

    M1 (90 min): readings 60 + 30 published, 40 withdrawn. Pat present 80 min.
    M2 (90 min): reading 45 published, 20 not yet published. Pat present (no minutes: the whole
      90), Quinn absent.
    M3 (90 min): no readings. Pat apologies, Quinn present 75 min.
    M4 cancelled (reading 100); M5 in the future (reading 50): neither counts.
    """
    phase = current_phase(circle)
    group = circle.group
    with scopes_disabled():
        Seat.objects.filter(group=group).update(ended_at=ago(300), end_reason="other")
    (pat,) = seated(group, secretariat, 1)
    with scopes_disabled():
        pat.full_name = "Pat Example"
        pat.save()
    m1 = past_meeting(group, phase, days_ago=30)
    m2 = past_meeting(group, phase, days_ago=20)
    m3 = past_meeting(group, phase, days_ago=10)
    m4 = past_meeting(group, phase, days_ago=5, status=Meeting.Status.CANCELLED)
    with scopes_disabled():
        quinn = seat_person(group, secretariat)
        Seat.objects.filter(pk=quinn.pk).update(started_at=ago(25))
        quinn_user = quinn.holder
        quinn_user.full_name = "Quinn Example"
        quinn_user.save()
        m5 = Meeting.objects.get(pk=circle.meeting.pk)  # scheduled in 10 days
        for meeting, minutes in [(m1, 60), (m1, 30), (m2, 45), (m4, 100), (m5, 50)]:
            LinkMaterialFactory.create(meeting=meeting, reading_minutes=minutes)
        LinkMaterialFactory.create(meeting=m1, reading_minutes=40, withdrawn_at=ago(1))
        LinkMaterialFactory.create(meeting=m2, reading_minutes=20, publish_at=ago(-3))
    mark(m1, secretariat, {pat.pk: ("present", 80)})
    mark(m2, secretariat, {pat.pk: ("present", None), quinn_user.pk: ("absent", None)})
    mark(m3, secretariat, {pat.pk: ("apologies", None), quinn_user.pk: ("present", 75)})
    return {"pat": pat, "quinn": quinn_user, "meetings": [m1, m2, m3, m4, m5]}


def test_participation_numbers_of_the_worked_example(
    example: dict[str, Any], org: Organisation
) -> None:
    with scope(organisation=org):
        records = {r.person.full_name: r for r in selectors.participation_records(organisation=org)}
    pat, quinn = records["Pat Example"], records["Quinn Example"]
    assert (pat.meetings, pat.attended, pat.apologies, pat.absences, pat.rate) == (3, 2, 1, 0, 67)
    assert (pat.minutes_attended, pat.reading_minutes, pat.total_minutes) == (170, 135, 305)
    assert pat.hours == 5.1
    assert pat.target_hours == 20
    assert not pat.meets_target
    assert (quinn.meetings, quinn.attended, quinn.absences, quinn.rate) == (2, 1, 1, 50)
    assert (quinn.minutes_attended, quinn.reading_minutes, quinn.hours) == (75, 45, 2.0)


def test_each_participant_sees_their_own_record(example: dict[str, Any]) -> None:
    html = client_for(example["pat"]).get("/alu/meetings/").content.decode()
    assert "My participation" in html
    assert "5.1 of 20 hours" in html
    assert "2 of 3" in html  # meetings attended
    assert "67%" in html
    assert "Quinn Example" not in html


def test_staff_see_everyones_records_with_a_rate_chart(
    example: dict[str, Any], secretariat: User
) -> None:
    html = client_for(secretariat).get("/alu/staff/participation/").content.decode()
    assert "Pat Example" in html
    assert "Quinn Example" in html
    assert "5.1 of 20 hours" in html
    assert "2.0 of 20 hours" in html
    assert 'class="bar-chart"' in html
    assert '<th scope="row">Pat Example</th>' in html


def _rows_of(content: bytes, file_format: str) -> list[dict[str, Any]]:
    if file_format == "csv":
        return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    return [dict(zip(values[0], row, strict=True)) for row in values[1:]]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_export_holds_the_tenants_records_only(
    example: dict[str, Any],
    secretariat: User,
    other_org: Organisation,
    other_secretariat: User,
    file_format: str,
) -> None:
    with scopes_disabled():
        elsewhere = WorkingGroupFactory.create(organisation=other_org, slug="water")
        PhaseFactory.create(group=elsewhere)
        seat_person(elsewhere, other_secretariat).holder.__class__.objects.filter(
            seats__group=elsewhere
        ).update(full_name="Other Tenant Person")
    response = client_for(secretariat).get(f"/alu/staff/participation/export.{file_format}")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    rows = _rows_of(response.content, file_format)
    assert sorted(str(row["participant"]) for row in rows) == ["Pat Example", "Quinn Example"]
    pat = next(row for row in rows if row["participant"] == "Pat Example")
    assert str(pat["hours"]) == "5.1"
    assert str(pat["attended"]) == "2"
    assert str(pat["attendance rate (%)"]) == "67"
    assert str(pat["reading minutes"]) == "135"


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_export_writes_a_formula_name_as_inert_text(
    example: dict[str, Any], secretariat: User, file_format: str
) -> None:
    from tests.spreadsheets import assert_inert, rows_of

    with scopes_disabled():
        User.objects.filter(full_name="Pat Example").update(full_name="=cmd|' /C calc'!A0")
    response = client_for(secretariat).get(f"/alu/staff/participation/export.{file_format}")
    rows = rows_of(response.content, file_format)
    assert_inert(rows, file_format)
    assert "'=cmd|' /C calc'!A0" in [row[2] for row in rows]


@pytest.mark.parametrize("size", [1, 30])
def test_my_meetings_query_count_does_not_grow(
    circle: Circle, secretariat: User, size: int
) -> None:
    phase = current_phase(circle)
    with scopes_disabled():
        Seat.objects.filter(group=circle.group).update(started_at=ago(400))
    for n in range(size):
        meeting = past_meeting(circle.group, phase, days_ago=n + 1)
        with scopes_disabled():
            LinkMaterialFactory.create(meeting=meeting, reading_minutes=30)
        mark(meeting, secretariat, {circle.participant.pk: ("present", 60)})
    client = client_for(circle.participant)
    client.get("/alu/meetings/")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/alu/meetings/")
    assert response.status_code == 200
    assert len(response.context["mine"].past) == size
    assert response.context["records"][0].attended == size
    assert len(queries) == 13, "\n".join(q["sql"] for q in queries.captured_queries)


# --- Non-attendance -------------------------------------------------------------------------


@pytest.fixture
def missing(circle: Circle, secretariat: User) -> dict[str, Any]:
    """Three recorded meetings: Sam absent at each, without apologies."""
    phase = current_phase(circle)
    with scopes_disabled():
        Seat.objects.filter(group=circle.group).update(ended_at=ago(300), end_reason="other")
    sam, kim = seated(circle.group, secretariat, 2)
    with scopes_disabled():
        sam.full_name = "Sam Absent"
        sam.save()
    meetings = [past_meeting(circle.group, phase, days_ago=d) for d in (30, 20, 10)]
    for meeting in meetings:
        mark(meeting, secretariat, {sam.pk: ("absent", None), kim.pk: ("present", 90)})
    return {"sam": sam, "kim": kim, "meetings": meetings}


def wait_for_a_seat(circle: Circle) -> Application:
    with scopes_disabled():
        return ApplicationFactory.create(group=circle.group, status=Application.Status.WAITING)


def flagged(org: Organisation) -> list[str]:
    with scope(organisation=org):
        return [f.person.email for f in selectors.non_attendance_flags(organisation=org)]


def test_a_flag_needs_a_waiting_list(
    missing: dict[str, Any], circle: Circle, org: Organisation
) -> None:
    assert flagged(org) == []
    wait_for_a_seat(circle)
    assert flagged(org) == [missing["sam"].email]


def test_a_flag_needs_the_set_number_of_unexcused_absences_in_a_row(
    missing: dict[str, Any], circle: Circle, org: Organisation, secretariat: User
) -> None:
    wait_for_a_seat(circle)
    org.missed_meetings_flag = 4
    org.save()
    assert flagged(org) == []
    org.missed_meetings_flag = 3
    org.save()
    assert flagged(org) == [missing["sam"].email]
    # Present at the latest meeting: the run is broken.
    mark(missing["meetings"][2], secretariat, {missing["sam"].pk: ("present", 30)})
    assert flagged(org) == []
    # Apologies for the latest: excused, so no flag either.
    mark(missing["meetings"][2], secretariat, {missing["sam"].pk: ("apologies", None)})
    assert flagged(org) == []


def test_absences_before_the_seat_started_do_not_count(
    missing: dict[str, Any], circle: Circle, org: Organisation
) -> None:
    wait_for_a_seat(circle)
    with scopes_disabled():
        Seat.objects.filter(holder=missing["sam"], group=circle.group).update(started_at=ago(15))
    assert flagged(org) == []


def test_staff_send_a_step_down_request_and_end_the_seat_which_offers_it_onwards(
    missing: dict[str, Any],
    circle: Circle,
    org: Organisation,
    secretariat: User,
    queued: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    waiting = wait_for_a_seat(circle)
    client = client_for(secretariat)
    html = client.get("/alu/staff/participation/").content.decode()
    assert "Missing meetings (1)" in html
    assert "Send step-down request" in html
    with scopes_disabled():
        seat = Seat.objects.get(holder=missing["sam"], ended_at__isnull=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/alu/staff/participation/seats/{seat.pk}/step-down/")
    assert response.status_code == 302
    assert queued == [
        {"organisation_id": org.pk, "kind": "step_down_request", "object_id": seat.pk}
    ]
    with scopes_disabled():
        assert AuditEntry.objects.filter(
            action="seat.step_down_request", target_id=str(seat.pk)
        ).exists()
    assert "Send again" in client.get("/alu/staff/participation/").content.decode()

    confirm = client.get(f"/alu/staff/participation/seats/{seat.pk}/end/")
    assert confirm.status_code == 200
    assert "Missed the last 3 meetings without apologies" in confirm.content.decode()
    with scopes_disabled():
        assert Seat.objects.get(pk=seat.pk).ended_at is None  # the GET only asks
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/alu/staff/participation/seats/{seat.pk}/end/", {"note": "Three in a row"}
        )
    assert response.status_code == 302
    with scopes_disabled():
        ended = Seat.objects.get(pk=seat.pk)
        offer = Offer.objects.get(status=Offer.Status.OPEN)
    assert ended.end_reason == Seat.EndReason.NON_ATTENDANCE
    assert ended.end_note == "Three in a row"
    assert offer.application_id == waiting.pk
    assert {"kind": "seat_ended", "organisation_id": org.pk, "object_id": seat.pk} in queued
    assert flagged(org) == []


def test_a_step_down_request_without_a_waiting_list_is_refused(
    missing: dict[str, Any], circle: Circle, org: Organisation, secretariat: User
) -> None:
    with scopes_disabled():
        seat = Seat.objects.get(holder=missing["sam"], ended_at__isnull=True)
    with scope(organisation=org), pytest.raises(services.DomainError, match="Nobody is waiting"):
        services.step_down_request(seat=seat, acting_user=secretariat)


def test_another_tenants_seat_cannot_be_ended_here(
    missing: dict[str, Any], other_org: Organisation
) -> None:
    with scopes_disabled():
        seat = Seat.objects.get(holder=missing["sam"], ended_at__isnull=True)
    other_staff = make_secretariat(other_org)
    client = client_for(other_staff)
    assert client.post(f"/other/staff/participation/seats/{seat.pk}/end/").status_code == 404
    assert client.post(f"/other/staff/participation/seats/{seat.pk}/step-down/").status_code == 404
    with scopes_disabled():
        assert Seat.objects.get(pk=seat.pk).ended_at is None


# --- Notes ------------------------------------------------------------------------------------


def test_notes_are_drafted_then_published_sanitised_and_participants_are_told(
    circle: Circle,
    secretariat: User,
    org: Organisation,
    queued: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    meeting = past_meeting(circle.group, circle.phase, days_ago=1)
    client = client_for(secretariat)
    url = f"/alu/staff/meetings/{meeting.uid}/notes/"
    detail = f"/alu/meetings/{meeting.uid}/"
    notes = (
        "## Decisions\n\n- Scope agreed\n\n## Actions\n\n"
        "- Circulate the draft — Owner: Secretariat — Due: 30 May\n\n<script>alert(1)</script>"
    )
    preview = client.post(url, {"notes": notes, "action": "preview"}).content.decode()
    assert "<h2>Decisions</h2>" in preview
    assert "<script>alert(1)</script>" not in preview

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"notes": notes, "action": "save"}).status_code == 302
    assert "Scope agreed" not in client_for(circle.participant).get(detail).content.decode()
    assert queued == []

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"notes": notes, "action": "publish"}).status_code == 302
    page = client_for(circle.participant).get(detail).content.decode()
    assert "Scope agreed" in page
    assert "alert(1)</script>" not in page
    assert queued == [
        {"organisation_id": org.pk, "kind": "notes_published", "object_id": meeting.pk}
    ]

    # A correction is published without telling everyone again; a draft is no longer possible.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"notes": notes + "\n\n- Typo fixed", "action": "publish"})
    assert len(queued) == 1
    response = client.post(url, {"notes": "draft", "action": "save"})
    assert response.status_code == 400
    with scopes_disabled():
        actions = list(
            AuditEntry.objects.filter(action__startswith="notes.")
            .order_by("id")
            .values_list("action", flat=True)
        )
    assert actions == ["notes.save", "notes.publish", "notes.publish"]


def test_notes_of_a_future_meeting_are_not_published(circle: Circle, secretariat: User) -> None:
    with scope(organisation=circle.meeting.organisation), pytest.raises(services.NotYetStarted):
        services.notes_publish(meeting=circle.meeting, notes="Early", acting_user=secretariat)
