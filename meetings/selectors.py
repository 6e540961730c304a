"""Reads about meetings that several views, tasks and e-mails need, already scoped and filtered
to what the person may see.

Who sees what: the secretariat sees every meeting of its organisation, with join links and
materials. A participant sees the meetings of the groups they hold a seat in, with the join
link; they read the materials only once they have acknowledged the current antitrust policy
(``membership.selectors.participant_access``). Nobody else sees a meeting at all.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from asi_wg.models import AuditEntry, Organisation, OrganisationRole, User
from groups.models import Phase, WorkingGroup
from meetings.models import (
    Apology,
    Attendance,
    AttendanceReport,
    InterpretationRequest,
    Material,
    Meeting,
)
from membership.models import Application, Seat
from membership.selectors import antitrust_status


@dataclass(frozen=True)
class MeetingAccess:
    """What one person may do with one meeting."""

    staff: bool = False
    seated: bool = False
    acknowledged: bool = False

    @property
    def can_view(self) -> bool:
        return self.staff or self.seated

    @property
    def can_join(self) -> bool:
        return self.staff or self.seated

    @property
    def can_read_materials(self) -> bool:
        return self.staff or (self.seated and self.acknowledged)


def is_secretariat(*, organisation: Organisation, user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.has_perm(f"asi_wg.{OrganisationRole.SECRETARIAT.value}", organisation)
    )


def seated_group_ids(*, organisation: Organisation, user: Any) -> set[int]:
    """The groups of ``organisation`` in which ``user`` holds a seat now."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    return set(
        Seat.objects.filter(
            holder=user, ended_at__isnull=True, group__organisation=organisation
        ).values_list("group_id", flat=True)
    )


def seated_groups(*, organisation: Organisation, user: Any) -> list[WorkingGroup]:
    """The groups of ``organisation`` in which ``user`` holds a seat now, by number (one
    query)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    seats = Seat.objects.filter(
        holder=user, ended_at__isnull=True, group__organisation=organisation
    ).select_related("group")
    by_id = {seat.group_id: seat.group for seat in seats}
    return sorted(by_id.values(), key=lambda group: (group.number, group.pk))


def meeting_access(*, organisation: Organisation, user: Any, meeting: Meeting) -> MeetingAccess:
    if meeting.organisation_id != organisation.pk:
        return MeetingAccess()
    if is_secretariat(organisation=organisation, user=user):
        return MeetingAccess(staff=True)
    if meeting.group_id not in seated_group_ids(organisation=organisation, user=user):
        return MeetingAccess()
    acknowledged = antitrust_status(organisation=organisation, user=user).acknowledged
    return MeetingAccess(seated=True, acknowledged=acknowledged)


def published_materials(now: datetime.datetime | None = None) -> QuerySet[Material]:
    now = now or timezone.now()
    return Material.objects.filter(withdrawn_at__isnull=True, publish_at__lte=now).order_by(
        "publish_at", "id"
    )


def _with_details(
    meetings: QuerySet[Meeting], *, user: User, now: datetime.datetime
) -> QuerySet[Meeting]:
    """Group, phase, published materials and the person's own apology and interpretation
    request: a fixed number of queries for any number of meetings."""
    return meetings.select_related("group", "phase").prefetch_related(
        Prefetch("materials", queryset=published_materials(now), to_attr="published"),
        Prefetch(
            "apologies",
            queryset=Apology.objects.filter(person=user, withdrawn_at__isnull=True),
            to_attr="my_apologies",
        ),
        Prefetch(
            "interpretation_requests",
            queryset=InterpretationRequest.objects.filter(person=user, withdrawn_at__isnull=True),
            to_attr="my_interpretation",
        ),
    )


@dataclass
class ParticipantMeetings:
    upcoming: list[Meeting]
    past: list[Meeting]
    groups: list[WorkingGroup]
    acknowledged: bool


def meetings_for_participant(
    *, organisation: Organisation, user: User, now: datetime.datetime | None = None
) -> ParticipantMeetings:
    """The meetings of every group the person sits in, upcoming first (soonest first), then
    past ones (latest first)."""
    now = now or timezone.now()
    groups = seated_groups(organisation=organisation, user=user)
    group_ids = {group.pk for group in groups}
    meetings = list(
        _with_details(
            Meeting.objects.filter(organisation=organisation, group_id__in=group_ids),
            user=user,
            now=now,
        ).order_by("starts_at", "id")
    )
    return ParticipantMeetings(
        upcoming=[m for m in meetings if m.ends_at >= now],
        past=[m for m in reversed(meetings) if m.ends_at < now],
        groups=groups,
        acknowledged=bool(group_ids)
        and antitrust_status(organisation=organisation, user=user).acknowledged,
    )


def meeting_detail(
    *, organisation: Organisation, user: User, uid: Any, now: datetime.datetime | None = None
) -> Meeting | None:
    return (
        _with_details(
            Meeting.objects.filter(organisation=organisation, uid=uid),
            user=user,
            now=now or timezone.now(),
        )
        .select_related("organisation")
        .first()
    )


def meetings_for_feed(*, organisation: Organisation, user: User) -> tuple[list[Meeting], set[int]]:
    """Every meeting a person's calendar feed lists (their groups' meetings, cancelled ones too
    so that calendars remove them), and the groups whose join links it may carry."""
    if is_secretariat(organisation=organisation, user=user):
        meetings = Meeting.objects.filter(organisation=organisation)
        groups = set(meetings.values_list("group_id", flat=True))
    else:
        groups = seated_group_ids(organisation=organisation, user=user)
        meetings = Meeting.objects.filter(organisation=organisation, group_id__in=groups)
    return list(meetings.select_related("group", "phase").order_by("starts_at")), groups


def seated_participants(group: WorkingGroup) -> list[User]:
    """Who holds a seat in the group now, by name."""
    return list(
        User.objects.filter(
            Q(seats__group=group) & Q(seats__ended_at__isnull=True), is_active=True
        ).order_by("full_name", "email")
    )


# --- Attendance, participation and notes ------------------------------------------------------


def _seat_covers(seat: Seat, meeting: Meeting) -> bool:
    """Whether ``seat`` was held at some point during ``meeting``."""
    return seat.started_at <= meeting.ends_at and (
        seat.ended_at is None or seat.ended_at >= meeting.starts_at
    )


def seats_at_meeting(meeting: Meeting) -> list[Seat]:
    """The seats of the meeting's group held at some point during the meeting, one per person
    (the latest), by name. One query."""
    seats = (
        Seat.objects.filter(group_id=meeting.group_id, started_at__lte=meeting.ends_at)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=meeting.starts_at))
        .select_related("holder")
        .order_by("holder__full_name", "holder__email", "started_at")
    )
    latest: dict[int, Seat] = {}
    for seat in seats:
        latest[seat.holder_id] = seat
    return list(latest.values())


@dataclass
class RegisterRow:
    """One seated participant in a meeting's attendance register."""

    seat: Seat
    attendance: Attendance | None
    apology: Apology | None

    @property
    def person(self) -> User:
        return self.seat.holder

    @property
    def status(self) -> str:
        """What the register shows as chosen: the recorded mark, else apologies if sent."""
        if self.attendance is not None:
            return self.attendance.status
        if self.apology is not None:
            return Attendance.Status.APOLOGIES
        return ""

    @property
    def minutes(self) -> int | None:
        return self.attendance.minutes if self.attendance is not None else None

    @property
    def recorded(self) -> bool:
        return self.attendance is not None


@dataclass
class Register:
    meeting: Meeting
    rows: list[RegisterRow]
    reports: list[AttendanceReport]

    @property
    def unmarked(self) -> int:
        return sum(1 for row in self.rows if not row.recorded)

    @property
    def unmatched(self) -> list[dict[str, Any]]:
        return [
            {**entry, "report": report} for report in self.reports for entry in report.unmatched
        ]


def attendance_register(*, meeting: Meeting) -> Register:
    """The register of a meeting: every participant seated during it, with their apologies and
    their mark so far, and the reports applied. Four queries whatever the number of people."""
    seats = seats_at_meeting(meeting)
    marks = {a.person_id: a for a in Attendance.objects.filter(meeting=meeting)}
    apologies = {
        a.person_id: a for a in Apology.objects.filter(meeting=meeting, withdrawn_at__isnull=True)
    }
    reports = list(
        AttendanceReport.objects.filter(meeting=meeting)
        .select_related("uploaded_by")
        .order_by("-uploaded_at", "-id")
    )
    rows = [
        RegisterRow(seat=s, attendance=marks.get(s.holder_id), apology=apologies.get(s.holder_id))
        for s in seats
    ]
    return Register(meeting=meeting, rows=rows, reports=reports)


def held(now: datetime.datetime | None = None) -> Q:
    """Meetings that have taken place: not cancelled, and over (by their planned end)."""
    now = now or timezone.now()
    # ends_at is a property: filter on the start and check the end in Python where it matters.
    return ~Q(status=Meeting.Status.CANCELLED) & Q(starts_at__lte=now)


@dataclass
class ParticipationRecord:
    """One participant's record in one phase of one group."""

    person: User
    group: WorkingGroup
    phase: Phase
    seat_held: bool
    target_hours: int
    meetings: int = 0  # meetings held during their seat
    attended: int = 0
    apologies: int = 0
    absences: int = 0
    minutes_attended: int = 0
    reading_minutes: int = 0

    @property
    def unrecorded(self) -> int:
        return self.meetings - self.attended - self.apologies - self.absences

    @property
    def rate(self) -> int | None:
        """Meetings attended, in per cent of those whose attendance is recorded."""
        recorded = self.attended + self.apologies + self.absences
        return round(100 * self.attended / recorded) if recorded else None

    @property
    def total_minutes(self) -> int:
        return self.minutes_attended + self.reading_minutes

    @property
    def hours(self) -> float:
        return round(self.total_minutes / 60, 1)

    @property
    def percent_of_target(self) -> int:
        return min(100, round(100 * self.total_minutes / (60 * self.target_hours)))

    @property
    def meets_target(self) -> bool:
        return self.total_minutes >= 60 * self.target_hours


def participation_records(
    *,
    organisation: Organisation,
    user: User | None = None,
    group: WorkingGroup | None = None,
    now: datetime.datetime | None = None,
) -> list[ParticipationRecord]:
    """Every participant's record per phase: meetings attended, apologies, absences, the rate,
    and hours (minutes attended plus the reading time of the published materials of the held
    meetings they were seated for) against ``organisation.commitment_hours``.

    A participant of a phase is anyone whose seat overlaps the phase's dates; a meeting counts
    for them if their seat was held during it. A present mark without minutes counts the whole
    meeting. ``user`` narrows to one person (their own page), ``group`` to one group. Five
    queries whatever the number of people, meetings and phases.
    """
    now = now or timezone.now()
    seats_qs = Seat.objects.filter(group__organisation=organisation).select_related("holder")
    if user is not None:
        seats_qs = seats_qs.filter(holder=user)
    if group is not None:
        seats_qs = seats_qs.filter(group=group)
    seats = list(seats_qs.order_by("started_at", "id"))
    group_ids = {seat.group_id for seat in seats}
    phases = list(
        Phase.objects.filter(group_id__in=group_ids)
        .select_related("group")
        .order_by("group__number", "number")
    )
    meetings = [
        m
        for m in Meeting.objects.filter(
            held(now), organisation=organisation, group_id__in=group_ids
        )
        .order_by("starts_at", "id")
        .only("id", "group_id", "phase_id", "starts_at", "duration_minutes", "status")
        if m.ends_at <= now
    ]
    meeting_ids = [m.pk for m in meetings]
    reading = dict(
        published_materials(now)
        .filter(meeting_id__in=meeting_ids)
        .order_by()
        .values("meeting_id")
        .annotate(total=Sum("reading_minutes"))
        .values_list("meeting_id", "total")
    )
    person_ids = {seat.holder_id for seat in seats}
    marks = {
        (meeting_id, person_id): (status, minutes)
        for meeting_id, person_id, status, minutes in Attendance.objects.filter(
            meeting_id__in=meeting_ids, person_id__in=person_ids
        ).values_list("meeting_id", "person_id", "status", "minutes")
    }
    meetings_by_phase: dict[int, list[Meeting]] = defaultdict(list)
    for meeting in meetings:
        meetings_by_phase[meeting.phase_id].append(meeting)

    records: dict[tuple[int, int], ParticipationRecord] = {}
    counted: dict[tuple[int, int], set[int]] = defaultdict(set)  # meetings counted per record
    for phase in phases:
        start = datetime.datetime.combine(phase.starts_on, datetime.time.min, tzinfo=datetime.UTC)
        end = datetime.datetime.combine(phase.ends_on, datetime.time.max, tzinfo=datetime.UTC)
        for seat in seats:
            if seat.group_id != phase.group_id:
                continue
            covered = [m for m in meetings_by_phase[phase.pk] if _seat_covers(seat, m)]
            overlaps = seat.started_at <= end and (seat.ended_at is None or seat.ended_at >= start)
            if not covered and not overlaps:
                continue
            key = (phase.pk, seat.holder_id)
            record = records.get(key)
            if record is None:
                record = records[key] = ParticipationRecord(
                    person=seat.holder,
                    group=phase.group,
                    phase=phase,
                    seat_held=False,
                    target_hours=organisation.commitment_hours,
                )
            record.seat_held = record.seat_held or seat.ended_at is None
            for meeting in covered:
                if meeting.pk in counted[key]:
                    continue  # seated twice during one meeting: count it once
                counted[key].add(meeting.pk)
                record.meetings += 1
                record.reading_minutes += reading.get(meeting.pk) or 0
                status, minutes = marks.get((meeting.pk, seat.holder_id), ("", None))
                if status == Attendance.Status.PRESENT:
                    record.attended += 1
                    record.minutes_attended += (
                        minutes if minutes is not None else meeting.duration_minutes
                    )
                elif status == Attendance.Status.APOLOGIES:
                    record.apologies += 1
                elif status == Attendance.Status.ABSENT:
                    record.absences += 1
    return sorted(
        records.values(),
        key=lambda r: (
            r.group.number,
            r.phase.number,
            (r.person.full_name or r.person.email).lower(),
        ),
    )


@dataclass
class NonAttendanceFlag:
    """A participant who missed the latest meetings in a row without apologies, in a group
    with people waiting for a seat."""

    seat: Seat
    missed: int
    meetings: list[Meeting]
    requested_at: datetime.datetime | None  # when a step-down request was last sent

    @property
    def person(self) -> User:
        return self.seat.holder

    @property
    def group(self) -> WorkingGroup:
        return self.seat.group


def non_attendance_flags(
    *, organisation: Organisation, now: datetime.datetime | None = None
) -> list[NonAttendanceFlag]:
    """Seated participants whose latest recorded meetings (of the phase of the group's latest
    recorded meeting, since their seat started) are at least ``organisation.missed_meetings_flag``
    absences in a row without apologies, in groups with applicants waiting. A meeting whose
    attendance is not yet recorded is skipped; a present or apologies mark, or none, ends the
    run. Five queries whatever the number of groups and people."""
    now = now or timezone.now()
    threshold = organisation.missed_meetings_flag
    # The seats held in groups with applicants waiting: one query.
    seats = list(
        Seat.objects.filter(
            Exists(
                Application.objects.filter(
                    group_id=OuterRef("group_id"), status__in=Application.POOL
                )
            ),
            group__organisation=organisation,
            ended_at__isnull=True,
        )
        .select_related("holder", "group")
        .order_by("group__number", "holder__full_name", "holder__email")
    )
    if not seats:
        return []
    waiting = {seat.group_id for seat in seats}
    recorded = list(
        Meeting.objects.filter(
            held(now),
            organisation=organisation,
            group_id__in=waiting,
            attendance_recorded_at__isnull=False,
        ).order_by("-starts_at", "-id")
    )
    latest_phase: dict[int, int] = {}
    for meeting in recorded:
        latest_phase.setdefault(meeting.group_id, meeting.phase_id)
    recorded = [m for m in recorded if latest_phase[m.group_id] == m.phase_id]
    ids = [m.pk for m in recorded]
    absent = set(
        Attendance.objects.filter(meeting_id__in=ids, status=Attendance.Status.ABSENT).values_list(
            "meeting_id", "person_id"
        )
    )
    excused = set(
        Apology.objects.filter(meeting_id__in=ids, withdrawn_at__isnull=True).values_list(
            "meeting_id", "person_id"
        )
    )
    requests: dict[str, datetime.datetime] = {}
    for target_id, created_at in (
        AuditEntry.objects.filter(
            organisation=organisation,
            action="seat.step_down_request",
            target_id__in=[str(s.pk) for s in seats],
        )
        .order_by("created_at")
        .values_list("target_id", "created_at")
    ):
        requests[target_id] = created_at
    flags = []
    for seat in seats:
        run: list[Meeting] = []
        for meeting in recorded:
            if meeting.group_id != seat.group_id:
                continue
            if meeting.starts_at < seat.started_at:
                break
            key = (meeting.pk, seat.holder_id)
            if key in absent and key not in excused:
                run.append(meeting)
            else:
                break
        if len(run) >= threshold:
            flags.append(
                NonAttendanceFlag(
                    seat=seat,
                    missed=len(run),
                    meetings=run,
                    requested_at=requests.get(str(seat.pk)),
                )
            )
    return flags


@dataclass
class PhasePlan:
    """A phase's meetings against its expected number (the Terms: 6-8 in phase 1)."""

    phase: Phase
    meetings: list[Meeting]

    @property
    def planned(self) -> int:
        return sum(1 for m in self.meetings if not m.is_cancelled)

    @property
    def too_few(self) -> bool:
        return self.planned < self.phase.meetings_min

    @property
    def too_many(self) -> bool:
        return self.planned > self.phase.meetings_max

    @property
    def holds(self) -> bool:
        return not (self.too_few or self.too_many)


def meeting_plans(*, organisation: Organisation) -> list[PhasePlan]:
    """Each phase of each group with its meetings (cancelled ones too, marked). Two queries."""
    phases = list(
        Phase.objects.filter(group__organisation=organisation)
        .select_related("group")
        .order_by("group__number", "number")
    )
    by_phase: dict[int, list[Meeting]] = defaultdict(list)
    for meeting in Meeting.objects.filter(organisation=organisation).order_by("starts_at", "id"):
        by_phase[meeting.phase_id].append(meeting)
    return [PhasePlan(phase=phase, meetings=by_phase[phase.pk]) for phase in phases]
