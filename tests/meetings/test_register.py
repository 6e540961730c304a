"""The attendance register: marking, bulk marking, refusals, the audit, and the page."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope, scopes_disabled

from asi_wg.models import AuditEntry, Organisation, User
from meetings import services
from meetings.models import Apology, Attendance, Meeting
from tests.conftest import make_secretariat
from tests.factories import PhaseFactory, UserFactory, WorkingGroupFactory
from tests.meetings.conftest import Circle, client_for, seat_person
from tests.meetings.past import past_meeting, seated

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(circle: Circle, secretariat: User) -> dict[str, Any]:
    people = seated(circle.group, secretariat, 3)
    meeting = past_meeting(circle.group, circle.phase, days_ago=2)
    with scopes_disabled():
        Apology.objects.create(
            organisation=meeting.organisation, meeting=meeting, person=people[2], note="Travelling"
        )
    return {"meeting": meeting, "people": people}


def record(meeting: Meeting, staff: User, marks: dict[int, tuple[str, int | None]]) -> Meeting:
    with scope(organisation=meeting.organisation):
        return services.attendance_record(meeting=meeting, marks=marks, acting_user=staff)


def statuses(meeting: Meeting) -> dict[int, tuple[str, int | None]]:
    with scopes_disabled():
        return {
            a.person_id: (a.status, a.minutes) for a in Attendance.objects.filter(meeting=meeting)
        }


def test_marks_are_recorded_audited_and_the_meeting_is_held(
    held: dict[str, Any], secretariat: User
) -> None:
    meeting, (ana, ben, _chen) = held["meeting"], held["people"]
    record(meeting, secretariat, {ana.pk: ("present", 75), ben.pk: ("absent", None)})
    assert statuses(meeting) == {ana.pk: ("present", 75), ben.pk: ("absent", None)}
    with scopes_disabled():
        meeting.refresh_from_db()
        entry = AuditEntry.objects.get(action="attendance.record")
    assert meeting.status == Meeting.Status.HELD
    assert meeting.attendance_recorded_at is not None
    assert entry.data == {"marks": {str(ana.pk): ["present", 75], str(ben.pk): ["absent", None]}}
    # A change is audited with only what changed.
    record(meeting, secretariat, {ana.pk: ("present", 75), ben.pk: ("apologies", None)})
    with scopes_disabled():
        last = AuditEntry.objects.filter(action="attendance.record").latest("id")
    assert last.data == {"marks": {str(ben.pk): ["apologies", None]}}


@pytest.mark.parametrize(
    ("who", "mark", "error"),
    [
        ("outsider", ("present", None), services.NotSeated),
        ("stranger", ("present", None), services.NotSeated),
        ("ana", ("late", None), services.DomainError),
        ("ana", ("absent", 30), services.DomainError),
        ("ana", ("present", 2000), services.DomainError),
    ],
)
def test_refused_marks_change_nothing(
    held: dict[str, Any], circle: Circle, secretariat: User, who: str, mark: Any, error: Any
) -> None:
    meeting, (ana, ben, _chen) = held["meeting"], held["people"]
    person = {"outsider": circle.outsider, "ana": ana}.get(who) or UserFactory.create()
    with pytest.raises(error):
        record(meeting, secretariat, {ben.pk: ("present", 90), person.pk: mark})
    assert statuses(meeting) == {}
    with scopes_disabled():
        assert not AuditEntry.objects.filter(action="attendance.record").exists()


def test_someone_seated_after_the_meeting_cannot_be_marked(
    held: dict[str, Any], secretariat: User, circle: Circle
) -> None:
    with scopes_disabled():
        late = seat_person(circle.group, secretariat).holder  # seated just now
    with pytest.raises(services.NotSeated):
        record(held["meeting"], secretariat, {late.pk: ("present", None)})


def test_a_cancelled_or_future_meeting_refuses(circle: Circle, secretariat: User) -> None:
    with pytest.raises(services.NotYetStarted):
        record(circle.meeting, secretariat, {circle.participant.pk: ("present", None)})
    with scopes_disabled():
        Meeting.objects.filter(pk=circle.meeting.pk).update(status=Meeting.Status.CANCELLED)
    with pytest.raises(services.MeetingCancelled):
        record(circle.meeting, secretariat, {circle.participant.pk: ("present", None)})


def test_bulk_marks_the_unmarked_present_and_apologies_stay_apologies(
    held: dict[str, Any], secretariat: User, circle: Circle
) -> None:
    meeting, (ana, ben, chen) = held["meeting"], held["people"]
    record(meeting, secretariat, {ana.pk: ("absent", None)})
    client = client_for(secretariat)
    url = f"/alu/staff/meetings/{meeting.uid}/attendance/"
    response = client.post(url + "unmarked/")
    assert response.status_code == 302
    marks = statuses(meeting)
    assert marks[ana.pk] == ("absent", None)  # already marked: untouched
    assert marks[ben.pk] == ("present", None)
    assert marks[chen.pk] == ("apologies", None)  # sent apologies before the meeting
    assert marks[circle.participant.pk] == ("present", None)


def test_the_register_page_prefills_apologies_and_saves_the_form(
    held: dict[str, Any], secretariat: User
) -> None:
    meeting, (ana, ben, chen) = held["meeting"], held["people"]
    client = client_for(secretariat)
    url = f"/alu/staff/meetings/{meeting.uid}/attendance/"
    html = client.get(url).content.decode()
    assert f'id="status-{chen.pk}-apologies" value="apologies" checked' in html
    assert f'<label for="minutes-{ana.pk}" class="visually-hidden">' in html
    assert "Mark everyone not yet marked as present (5)" in html

    response = client.post(
        url,
        {
            f"status-{ana.pk}": "present",
            f"minutes-{ana.pk}": "abc",
            f"status-{ben.pk}": "absent",
        },
    )
    assert response.status_code == 400
    assert "Enter whole minutes from 0 to 1,440." in response.content.decode()
    assert statuses(meeting) == {}
    # Text that str.isdigit() takes for a number, and int() or the database does not.
    for minutes in ("²", "9" * 30, "1441"):
        response = client.post(url, {f"status-{ana.pk}": "present", f"minutes-{ana.pk}": minutes})
        assert response.status_code == 400, minutes
        assert "Enter whole minutes from 0 to 1,440." in response.content.decode(), minutes
    response = client.post(url, {f"status-{'9' * 30}": "present"})
    assert response.status_code in (302, 400)
    assert statuses(meeting) == {}

    response = client.post(
        url,
        {
            f"status-{ana.pk}": "present",
            f"minutes-{ana.pk}": "80",
            f"status-{ben.pk}": "absent",
            f"status-{chen.pk}": "apologies",
        },
    )
    assert response.status_code == 302
    assert statuses(meeting) == {
        ana.pk: ("present", 80),
        ben.pk: ("absent", None),
        chen.pk: ("apologies", None),
    }


def test_a_forged_person_id_is_refused_by_the_page(
    held: dict[str, Any], secretariat: User, circle: Circle
) -> None:
    client = client_for(secretariat)
    url = f"/alu/staff/meetings/{held['meeting'].uid}/attendance/"
    response = client.post(
        url, {f"status-{held['people'][0].pk}": "present", f"status-{circle.outsider.pk}": "absent"}
    )
    assert response.status_code == 400
    assert "Only participants seated in the group" in response.content.decode()
    assert statuses(held["meeting"]) == {}


@pytest.mark.parametrize("size", [1, 30])
def test_register_query_count_does_not_grow(
    circle: Circle, secretariat: User, size: int, org: Organisation
) -> None:
    with scopes_disabled():
        group = WorkingGroupFactory.create(organisation=org, slug="traceability")
        phase = PhaseFactory.create(group=group)
    people = seated(group, secretariat, size)
    meeting = past_meeting(group, phase, days_ago=1)
    record(meeting, secretariat, {p.pk: ("present", 60) for p in people[::2]})
    with scopes_disabled():
        for person in people[1::3]:
            Apology.objects.create(organisation=org, meeting=meeting, person=person)
    client = client_for(secretariat)
    url = f"/alu/staff/meetings/{meeting.uid}/attendance/"
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["rows"]) == size
    assert len(queries) == 7, "\n".join(q["sql"] for q in queries.captured_queries)


@pytest.mark.parametrize(
    "path",
    [
        "meetings/",
        "meetings/{uid}/attendance/",
        "meetings/{uid}/notes/",
        "participation/",
        "participation/export.csv",
        "participation/export.xlsx",
    ],
)
def test_staff_pages_are_for_the_tenants_secretariat_only(
    circle: Circle, secretariat: User, other_secretariat: User, path: str
) -> None:
    url = "/alu/staff/" + path.format(uid=circle.meeting.uid)
    assert client_for(secretariat).get(url).status_code == 200
    assert client_for(circle.participant).get(url).status_code == 404
    assert client_for(other_secretariat).get(url).status_code == 404
    anonymous = client_for(UserFactory.create())
    anonymous.logout()
    response = anonymous.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_another_tenants_meeting_is_not_found_by_its_secretariat(
    circle: Circle, other_org: Organisation
) -> None:
    other_staff = make_secretariat(other_org)
    url = f"/other/staff/meetings/{circle.meeting.uid}/attendance/"
    assert client_for(other_staff).get(url).status_code == 404
    assert client_for(other_staff).post(url + "unmarked/").status_code == 404


def test_the_plan_shows_whether_a_phase_holds_its_meetings(
    circle: Circle, secretariat: User
) -> None:
    html = client_for(secretariat).get("/alu/staff/meetings/").content.decode()
    assert "1 of 6–8 planned." in html
    assert "Too few: schedule 6 or more meetings in this phase." in html
    assert "/alu/admin/meetings/meeting/add/" in html
    for days in range(5):
        past_meeting(circle.group, circle.phase, days_ago=days + 1)
    html = client_for(secretariat).get("/alu/staff/meetings/").content.decode()
    assert "6 of 6–8 planned." in html
    assert "The plan holds." in html
    for days in range(3):
        past_meeting(circle.group, circle.phase, days_ago=days + 10)
    with scopes_disabled():
        last = Meeting.objects.filter(phase=circle.phase).latest("number")
        Meeting.objects.filter(pk=last.pk).update(status=Meeting.Status.CANCELLED)
    html = client_for(secretariat).get("/alu/staff/meetings/").content.decode()
    assert "8 of 6–8 planned." in html  # a cancelled meeting does not count
    past_meeting(circle.group, circle.phase, days_ago=30)
    html = client_for(secretariat).get("/alu/staff/meetings/").content.decode()
    assert "9 of 6–8 planned." in html
    assert "Too many: this phase expects at most 8 meetings." in html
