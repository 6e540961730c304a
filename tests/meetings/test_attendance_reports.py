"""Videoconference attendance reports: Zoom's participant report and Teams' attendance report,
as the tools export them, applied to a meeting's register once, all or nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scope, scopes_disabled

from asi_wg.models import AuditEntry, Organisation, User
from meetings import attendance_reports, services
from meetings.attendance_reports import ReportInvalid
from meetings.models import Attendance, AttendanceReport, Meeting
from tests.meetings.conftest import Circle, client_for
from tests.meetings.past import past_meeting, seated

pytestmark = pytest.mark.django_db

ZOOM_HEADER = (
    "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest,"
    "Recording Consent,In Waiting Room\r\n"
)


def zoom(rows: list[str], *, meeting_data: bool = True) -> bytes:
    """Zoom's participant report: UTF-8 with a byte-order mark, CRLF lines; with "Export with
    meeting data", a meeting section and a blank line first."""
    text = ""
    if meeting_data:
        text += (
            "Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants\r\n"
            "835 1234 5678,Circularity WG,11/20/2026 01:58:12 PM,11/20/2026 03:31:40 PM,"
            "host@alu.example,94,5\r\n\r\n"
        )
    text += ZOOM_HEADER + "".join(row + "\r\n" for row in rows)
    return b"\xef\xbb\xbf" + text.encode("utf-8")


def teams(participants: list[str], activities: list[str] | None = None) -> bytes:
    """Teams' attendance report: UTF-16 with its byte-order mark, tab-separated, in sections."""
    lines = [
        "1. Summary",
        "Meeting title\tCircularity WG",
        f"Attended participants\t{len(participants)}",
        "Start time\t11/20/26, 1:58:12 PM",
        "End time\t11/20/26, 3:31:40 PM",
        "Meeting duration\t1h 33m 28s",
        "Average attendance time\t1h 20m 5s",
        "",
        "2. Participants",
        "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\tParticipant ID (UPN)\tRole",
        *participants,
        "",
        "3. In-Meeting Activities",
        "Name\tJoin Time\tLeave Time\tDuration\tEmail\tRole",
        *(activities or []),
    ]
    return "\r\n".join(lines).encode("utf-16")


@pytest.fixture
def held(circle: Circle, secretariat: User) -> dict[str, Any]:
    """A meeting that took place, with three more seated people named for the reports."""
    people = seated(circle.group, secretariat, 3)
    with scopes_disabled():
        for person, (name, email) in zip(
            people,
            [
                ("Ana Lima", "ana.lima@recycling.example"),
                ("Ben Okafor", "Ben.Okafor@smelter.example"),
                ("Chen Wei", "chen.wei@packaging.example"),
            ],
            strict=True,
        ):
            person.full_name, person.email = name, email
            person.save()
    meeting = past_meeting(circle.group, circle.phase, days_ago=9)
    return {"meeting": meeting, "ana": people[0], "ben": people[1], "chen": people[2]}


def apply(meeting: Meeting, staff: User, content: bytes, name: str = "report.csv") -> Any:
    with scope(organisation=meeting.organisation):
        return services.attendance_report_apply(
            meeting=meeting, file_name=name, content=content, acting_user=staff
        )


def marks(meeting: Meeting) -> dict[str, tuple[str, int | None, str]]:
    with scopes_disabled():
        return {
            a.person.email: (a.status, a.minutes, a.source)
            for a in Attendance.objects.filter(meeting=meeting).select_related("person")
        }


ZOOM_ROWS = [
    # Ana dropped out and came back: two rows, 52 + 38 minutes.
    "Ana Lima,ana.lima@recycling.example,11/20/2026 01:59:03 PM,11/20/2026 02:51:10 PM,52,No,,No",
    "Ana Lima,ana.lima@recycling.example,11/20/2026 02:53:00 PM,11/20/2026 03:31:00 PM,38,No,,No",
    # Ben's address in another case than the one on his account.
    "Ben O. (Ben Okafor),BEN.OKAFOR@SMELTER.EXAMPLE,11/20/2026 02:00:00 PM,"
    "11/20/2026 03:30:00 PM,90,No,,No",
    # A guest without an e-mail, and someone not seated.
    "Phone caller,,11/20/2026 02:05:00 PM,11/20/2026 02:45:00 PM,40,Yes,,No",
    "Dana Visitor,dana@visitor.example,11/20/2026 02:00:00 PM,11/20/2026 02:30:00 PM,30,No,,No",
]


def test_a_zoom_report_marks_the_matched_present_and_lists_the_rest(
    held: dict[str, Any], secretariat: User
) -> None:
    meeting = held["meeting"]
    report = apply(meeting, secretariat, zoom(ZOOM_ROWS), "participants_83512345678.csv")
    assert marks(meeting) == {
        "ana.lima@recycling.example": ("present", 90, "report"),
        "Ben.Okafor@smelter.example": ("present", 90, "report"),
    }
    assert (report.rows, report.matched) == (5, 2)
    assert report.unmatched == [
        {"name": "Phone caller", "email": "", "minutes": 40},
        {"name": "Dana Visitor", "email": "dana@visitor.example", "minutes": 30},
    ]
    with scopes_disabled():
        meeting.refresh_from_db()
        entry = AuditEntry.objects.get(action="attendance.report")
    assert meeting.status == Meeting.Status.HELD
    assert meeting.attendance_recorded_at is not None
    assert entry.actor == secretariat
    assert entry.data["file_name"] == "participants_83512345678.csv"
    assert entry.data["unmatched"] == 2


def test_a_zoom_report_without_the_meeting_section_is_read_too() -> None:
    parsed = attendance_reports.parse(zoom(ZOOM_ROWS[:2], meeting_data=False))
    assert [(p.email, p.minutes, p.joins) for p in parsed.people] == [
        ("ana.lima@recycling.example", 90, 2)
    ]


def test_a_teams_report_in_utf16_with_tabs_is_read_from_its_participants_section(
    held: dict[str, Any], secretariat: User
) -> None:
    content = teams(
        [
            "Ana Lima\t11/20/26, 1:59:03 PM\t11/20/26, 3:31:00 PM\t1h 23m 5s\t"
            "ana.lima@recycling.example\tana.lima@recycling.example\tPresenter",
            # Teams' e-mail differs from the sign-in name (UPN): either may match.
            "Okafor, Ben\t11/20/26, 2:10:00 PM\t11/20/26, 2:55:29 PM\t45m 29s\t"
            "b.okafor@smelter-group.example\tben.okafor@smelter.example\tAttendee",
            "García Simón, Pedro\t11/20/26, 2:00:00 PM\t11/20/26, 2:00:40 PM\t40s\t"
            "pgsimon@visitor.example\tpgsimon@visitor.example\tAttendee",
        ],
        activities=[
            "Ana Lima\t11/20/26, 1:59:03 PM\t11/20/26, 3:31:00 PM\t1h 23m 5s\t"
            "ana.lima@recycling.example\tPresenter",
        ],
    )
    assert content.startswith(b"\xff\xfe")
    report = apply(held["meeting"], secretariat, content, "Circularity WG - Attendance report.csv")
    assert marks(held["meeting"]) == {
        "ana.lima@recycling.example": ("present", 83, "report"),
        "Ben.Okafor@smelter.example": ("present", 45, "report"),
    }
    assert report.rows == 3  # section 3 (each join) is not counted again
    assert report.unmatched == [
        {"name": "García Simón, Pedro", "email": "pgsimon@visitor.example", "minutes": 1}
    ]


def test_the_same_report_uploaded_twice_is_applied_once(
    held: dict[str, Any], secretariat: User
) -> None:
    meeting = held["meeting"]
    apply(meeting, secretariat, zoom(ZOOM_ROWS))
    with pytest.raises(services.ReportAlreadyApplied, match="already applied to this meeting"):
        apply(meeting, secretariat, zoom(ZOOM_ROWS), "again.csv")
    with scopes_disabled():
        assert AttendanceReport.objects.filter(meeting=meeting).count() == 1
        assert AuditEntry.objects.filter(action="attendance.report").count() == 1
    assert marks(meeting)["ana.lima@recycling.example"] == ("present", 90, "report")


GOOD = ZOOM_ROWS[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            b"\xef\xbb\xbfFull name,Mail,Start,End\r\nAna,ana@x.example,1,2\r\n",
            "This is not a Zoom participant report or a Teams attendance report: no row names "
            "the columns Name, E-mail, Join time, Leave time and Duration.",
            id="wrong columns",
        ),
        pytest.param(
            b"Name (Original Name),User Email,Join Time\r\nAna,ana@x.example,11/20/2026 01:59 PM",
            "The participants' table lacks the columns: Leave time, Duration.",
            id="missing columns",
        ),
        pytest.param(
            zoom([GOOD.replace("11/20/2026 02:51:10 PM", "yesterday afternoon")]),
            "Line 5: the leave time “yesterday afternoon” is not a date and time.",
            id="bad time",
        ),
        pytest.param(
            zoom([GOOD.replace("11/20/2026 02:51:10 PM", "11/20/2026 01:00:00 PM")]),
            "Line 5: the leave time is before the join time.",
            id="leaves before joining",
        ),
        pytest.param(
            zoom([GOOD.replace(",52,", ",about an hour,")]),
            "Line 5: the duration “about an hour” is not minutes or like 1h 23m 5s.",
            id="bad duration",
        ),
        pytest.param(
            zoom([GOOD.replace("ana.lima@recycling.example", "ana.lima at recycling")]),
            "Line 5: “ana.lima at recycling” is not an e-mail address.",
            id="not an e-mail",
        ),
        pytest.param(
            zoom([GOOD, ZOOM_ROWS[2], GOOD]),
            "Line 7 repeats line 5 exactly.",
            id="duplicate row",
        ),
        pytest.param(
            ZOOM_HEADER.encode() + "Zoë,zoe@x.example".encode("latin-1") + b",,,\xff\xfe\xfa",
            "The file is not UTF-8 or UTF-16 text (byte 116 cannot be read). Upload the report "
            "as Zoom or Teams exported it, or save it as “CSV UTF-8”.",
            id="not utf-8",
        ),
        pytest.param(zoom([]), "The report lists no participants.", id="no participants"),
        pytest.param(b"", "The file is empty.", id="empty"),
    ],
)
def test_a_malformed_report_is_refused_with_its_problem_and_writes_nothing(
    held: dict[str, Any], secretariat: User, content: bytes, message: str
) -> None:
    meeting = held["meeting"]
    with pytest.raises(ReportInvalid) as refused:
        apply(meeting, secretariat, content)
    assert refused.value.errors == [message]
    assert str(refused.value).startswith("The attendance report was not applied; nothing was")
    with scopes_disabled():
        assert not Attendance.objects.filter(meeting=meeting).exists()
        assert not AttendanceReport.objects.exists()
        assert not AuditEntry.objects.filter(action="attendance.report").exists()
        meeting.refresh_from_db()
    assert meeting.attendance_recorded_at is None


def test_every_problem_of_a_file_is_listed_at_once() -> None:
    content = zoom(
        [
            GOOD.replace(",52,", ",x,"),
            ZOOM_ROWS[2].replace("BEN.OKAFOR@SMELTER.EXAMPLE", "ben@"),
        ]
    )
    with pytest.raises(ReportInvalid) as refused:
        attendance_reports.parse(content)
    assert refused.value.errors == [
        "Line 5: the duration “x” is not minutes or like 1h 23m 5s.",
        "Line 6: “ben@” is not an e-mail address.",
    ]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1h 23m 5s", 4985), ("45m 29s", 2729), ("40s", 40), ("2h", 7200), ("1:02:03", 3723)],
)
def test_teams_durations(text: str, seconds: int) -> None:
    assert attendance_reports.parse_duration(text, minutes_column=False) == seconds


def test_a_report_for_a_cancelled_meeting_is_refused(
    held: dict[str, Any], secretariat: User
) -> None:
    meeting = held["meeting"]
    with scopes_disabled():
        Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.CANCELLED)
    with pytest.raises(services.MeetingCancelled):
        apply(meeting, secretariat, zoom(ZOOM_ROWS))


def test_the_upload_page_lists_errors_and_then_the_unmatched_rows(
    held: dict[str, Any], secretariat: User, org: Organisation
) -> None:
    client = client_for(secretariat)
    meeting = held["meeting"]
    url = f"/alu/staff/meetings/{meeting.uid}/attendance/"
    bad = SimpleUploadedFile("bad.csv", zoom([GOOD, GOOD]), content_type="text/csv")
    response = client.post(url + "report/", {"report": bad})
    assert response.status_code == 400
    html = response.content.decode()
    assert "The report was not applied; nothing was changed." in html
    assert "Line 6 repeats line 5 exactly." in html

    good = SimpleUploadedFile("zoom.csv", zoom(ZOOM_ROWS), content_type="text/csv")
    response = client.post(url + "report/", {"report": good})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "Rows that matched nobody seated (2)" in page
    assert "dana@visitor.example" in page
    assert "(none: guest)" in page

    again = SimpleUploadedFile("zoom (1).csv", zoom(ZOOM_ROWS), content_type="text/csv")
    response = client.post(url + "report/", {"report": again})
    assert response.status_code == 400
    assert "already applied to this meeting" in response.content.decode()
