"""The meetings demo: Circularity's Phase 1 (meetings held with attendance, notes and readings,
one cancelled, two to come), one meeting for each other group, and participants near and at the
non-attendance threshold. Dates are placed around the day the demo is loaded. Safe to run again:
nothing is added to a group that already has meetings."""

from __future__ import annotations

import datetime
import zoneinfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.timezone import now
from django_scopes import scope

from asi_wg.demo import Demo
from asi_wg.models import Organisation, User
from groups.models import WorkingGroup
from meetings import services
from meetings.models import Meeting
from membership import services as membership_services
from membership.models import Seat

LONDON = zoneinfo.ZoneInfo("Europe/London")
CIRCULARITY = [
    ("Kick-off: scope and ways of working", "held"),
    ("Recycled content: definitions and claims", "held"),
    ("Pre-consumer scrap: first draft criteria", "held"),
    ("Industrial Users: circularity expectations", "cancelled"),
    ("Product stewardship and end of life", "held"),
    ("Review of the consultation draft criteria", "held"),
    ("Alignment with ISO 14021 and EU rules", "upcoming"),
    ("Wrap-up and recommendations for Phase 2", "upcoming"),
]
AGENDA = """1. Welcome and apologies
2. Actions from the last meeting
3. {title}: the secretariat introduces the draft, then a round of views
    - relevance and clarity of each criterion
    - feasibility of implementation across the value chain
4. Links with the other working groups
5. Next steps and any other business
"""
NOTES = """**Decisions**

- The group supports the direction of the draft; the definitions section needs examples.

**Actions**

| action | owner | due |
|---|---|---|
| Circulate worked examples of the definitions | Secretariat | before the next meeting |
| Share company practice on scrap segregation | Participants who offered | two weeks |
"""
OTHER_GROUPS = {
    "climate-change": (
        "Introductory meeting: decarbonisation pathways",
        "Asia/Singapore",
        (9, 0),
    ),
    "nature": (
        "Introductory meeting: biodiversity and mine rehabilitation",
        "Europe/Paris",
        (15, 0),
    ),
    "community-rights-and-participation": (
        "Introductory meeting: FPIC in practice",
        "America/Sao_Paulo",
        (10, 0),
    ),
    "labour-rights-health-and-safety": (
        "Introductory meeting: due diligence on labour rights",
        "Europe/London",
        (13, 0),
    ),
    "chain-of-custody-and-claims": (
        "Introductory meeting: claims and product carbon footprints",
        "Europe/Zurich",
        (14, 0),
    ),
}


def demo_pdf(title: str) -> bytes:
    """A small, valid one-page PDF with ``title`` on it, written by hand (no PDF library needed
    for a demo reading)."""
    text = title.replace("\\", "").replace("(", "").replace(")", "")
    stream = f"BT /F1 18 Tf 72 760 Td ({text}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _at(day: datetime.date, zone: str, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), zoneinfo.ZoneInfo(zone))


def _tuesday_near(day: datetime.date) -> datetime.date:
    return day + datetime.timedelta(days=(1 - day.weekday()) % 7)


def _circularity(asi: Organisation, staff: User, today: datetime.date) -> list[Meeting]:
    group = WorkingGroup.objects.get(organisation=asi, slug="circularity")
    phase = group.phases.get(number=1)
    meetings = []
    for number, (title, state) in enumerate(CIRCULARITY, start=1):
        # Every four weeks; the sixth (the last held) a fortnight or so ago.
        day = _tuesday_near(today + datetime.timedelta(days=(number - 6) * 28 - 16))
        meeting = services.meeting_schedule(
            group=group,
            phase=phase,
            title=title,
            starts_at=_at(day, "Europe/London", 14),
            time_zone="Europe/London",
            join_url=f"https://video.example.org/j/88120{number:02d}4471",
            agenda=AGENDA.format(title=title),
            interpretation_languages=["fr", "es", "pt", "zh"],
            acting_user=staff,
        )
        if state == "cancelled":
            meeting = services.meeting_cancel(
                meeting=meeting, acting_user=staff, reason="Too few participants available."
            )
        meetings.append(meeting)
    return meetings


def _readings(meetings: list[Meeting], staff: User, now: datetime.datetime) -> None:
    for meeting in meetings:
        if meeting.is_cancelled:
            continue
        number = meeting.number
        services.material_add(
            meeting=meeting,
            title=f"Draft criteria for meeting {number}",
            upload=SimpleUploadedFile(
                f"circularity-draft-{number}.pdf", demo_pdf(f"Circularity draft {number}")
            ),
            reading_minutes=60,
            # Published a week before the meeting, or now for one that is closer; the last
            # one's readings wait for their date, to show scheduled publishing.
            publish_at=min(meeting.starts_at - datetime.timedelta(days=7), now)
            if number < len(CIRCULARITY)
            else meeting.starts_at - datetime.timedelta(days=7),
            acting_user=staff,
        )
    services.material_add(
        meeting=meetings[6],
        title="ISO 14021: self-declared environmental claims (summary)",
        url="https://www.iso.org/standard/66652.html",
        reading_minutes=30,
        publish_at=now,
        acting_user=staff,
    )


def _answers(meetings: list[Meeting], participant: User, others: list[User]) -> None:
    """The participant sent apologies once; someone asked for interpretation."""
    for meeting, person, note in ((meetings[6], others[4], "At our plant audit that day."),):
        services.apology_send(meeting=meeting, user=person, note=note)
    services.interpretation_request(meeting=meetings[6], user=others[5], language="es")


def _other_groups(asi: Organisation, staff: User, today: datetime.date) -> None:
    for slug, (title, zone, (hour, minute)) in OTHER_GROUPS.items():
        group = WorkingGroup.objects.get(organisation=asi, slug=slug)
        if Meeting.objects.filter(group=group).exists():
            continue
        # Tuesdays to Thursdays in a fortnight or so.
        index = list(OTHER_GROUPS).index(slug)
        day = _tuesday_near(today + datetime.timedelta(days=10)) + datetime.timedelta(
            days=index % 3 + 7 * (index // 3)
        )
        services.meeting_schedule(
            group=group,
            phase=group.phases.get(number=1),
            title=title,
            starts_at=_at(day, zone, hour, minute),
            time_zone=zone,
            join_url="https://video.example.org/j/5550001122",
            agenda=AGENDA.format(title=title),
            interpretation_languages=["fr", "es"],
            acting_user=staff,
        )


@transaction.atomic
def load(demo: Demo) -> None:
    asi = demo.organisations["asi"]
    staff = demo.users["asi_secretariat"]
    participant = demo.users["asi_participant"]
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(asi.time_zone))
    with scope(organisation=asi), membership_services.quiet():
        if not Meeting.objects.filter(group__slug="circularity", organisation=asi).exists():
            meetings = _circularity(asi, staff, today)
            _readings(meetings, staff, timezone.now())
            seated = list(
                Seat.objects.filter(group=meetings[0].group, ended_at__isnull=True)
                .exclude(holder=participant)
                .select_related("holder")
                .order_by("started_at", "id")
            )
            others = [seat.holder for seat in seated]
            _answers(meetings, participant, others)
            _history(meetings, staff, participant, others)
        _other_groups(asi, staff, today)


def _history(meetings: list[Meeting], staff: User, participant: User, others: list[User]) -> None:
    """The register and notes of the meetings held. Most attend; a few send apologies;
    ``others[10]`` missed the last three held meetings without apologies (the step-down flag,
    with people waiting), ``others[11]`` the last two (one more and they are flagged). The
    latest meeting's attendance is not recorded yet, for the secretariat to do."""
    flagged, near = others[10], others[11]
    # The membership demo seats everyone today; in this history they took their seats when the
    # phase began (a demo's back-dating, not something any service does).
    phase = meetings[0].phase
    Seat.objects.filter(group=meetings[0].group, ended_at__isnull=True).update(
        started_at=_at(phase.starts_on, "UTC", 9)
    )
    held = [m for m in meetings if m.status != Meeting.Status.CANCELLED and m.ends_at < now()]
    for index, meeting in enumerate(held[:-1]):
        marks: dict[int, tuple[str, int | None]] = {}
        for n, person in enumerate([participant, *others]):
            if (person == flagged and index >= 1) or (person == near and index >= 2):
                marks[person.pk] = ("absent", None)
            elif (n + index) % 9 == 4:
                marks[person.pk] = ("apologies", None)
            else:
                marks[person.pk] = ("present", 90 - (n * 7 + index * 5) % 25)
        services.attendance_record(meeting=meeting, marks=marks, acting_user=staff)
        services.notes_publish(meeting=meeting, notes=NOTES, acting_user=staff)
    services.notes_save(meeting=held[-1], notes=NOTES, acting_user=staff)
