"""Writes about meetings. Each function is one transaction that writes its audit entry and
queues its e-mails to run after the commit (``membership.services.notification_queue``).

A meeting's ``revision`` (the calendar's SEQUENCE) rises with each change that calendar
programs must re-read: time, duration, title, link, cancellation. Invitations are keyed by
revision, so a changed time is sent again while a retry of the same change sends nothing twice.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from typing import IO, Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from asi_wg.audit import audit_record
from asi_wg.errors import DomainError
from asi_wg.models import Organisation, User
from asi_wg.tenancy import same_organisation
from groups.models import Phase, WorkingGroup
from meetings import attendance_reports, selectors, uploads
from meetings.models import (
    LANGUAGE_CODES,
    Apology,
    Attendance,
    AttendanceReport,
    CalendarFeed,
    InterpretationRequest,
    Material,
    Meeting,
)
from meetings.selectors import meeting_access
from membership import services as membership_services
from membership.models import Application, Seat

# The fields whose change calendar programs must see: each raises the revision and re-sends
# the invitation.
CALENDAR_FIELDS = ("title", "starts_at", "time_zone", "duration_minutes", "join_url")
EDITABLE_FIELDS = (
    *CALENDAR_FIELDS,
    "agenda",
    "language",
    "interpretation_languages",
)


class MeetingCancelled(DomainError):
    default_message = _("This meeting is cancelled.")


class MeetingOver(DomainError):
    default_message = _("This meeting has already taken place.")


class NotInTheGroup(DomainError):
    default_message = _("Only the group's seated participants do this.")


def _lock(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().select_related("group", "phase").get(pk=meeting.pk)


def _check_languages(codes: list[str]) -> list[str]:
    unknown = [code for code in codes if code not in LANGUAGE_CODES]
    if unknown:
        raise DomainError(_("Unknown language: %(codes)s.") % {"codes": ", ".join(unknown)})
    return sorted(set(codes), key=codes.index)


def _check_phase(group: WorkingGroup, phase: Phase) -> None:
    if phase.group_id != group.pk:
        raise DomainError(_("Choose a phase of this group."))


# --- Scheduling -------------------------------------------------------------------------------


@transaction.atomic
def meeting_schedule(
    *,
    group: WorkingGroup,
    phase: Phase,
    title: str,
    starts_at: datetime.datetime,
    time_zone: str,
    acting_user: User,
    duration_minutes: int = 90,
    join_url: str = "",
    agenda: str = "",
    language: str = "en",
    interpretation_languages: list[str] | None = None,
) -> Meeting:
    """Add a meeting to a group's phase with the next number in that phase, and e-mail each
    seated participant an invitation with the calendar file."""
    same_organisation(group.organisation, group, phase)
    _check_phase(group, phase)
    if timezone.is_naive(starts_at):
        raise DomainError(_("A meeting's start needs its time zone."))
    if group.archived_at is not None:
        raise DomainError(_("%(group)s is archived.") % {"group": group.name})
    Phase.objects.select_for_update().filter(pk=phase.pk).first()  # numbers in a phase queue
    number = (Meeting.objects.filter(phase=phase).aggregate(n=Max("number"))["n"] or 0) + 1
    meeting = Meeting(
        organisation=group.organisation,
        group=group,
        phase=phase,
        number=number,
        title=title.strip(),
        starts_at=starts_at,
        time_zone=time_zone,
        duration_minutes=duration_minutes,
        join_url=join_url,
        agenda=agenda,
        language=language,
        interpretation_languages=_check_languages(interpretation_languages or []),
    )
    meeting.full_clean()
    meeting.save()
    audit_record(
        organisation=group.organisation,
        actor=acting_user,
        action="meeting.schedule",
        target=meeting,
        data={"starts_at": starts_at, "time_zone": time_zone, "number": number},
    )
    membership_services.notification_queue(
        "meeting_invitation", meeting, organisation=group.organisation
    )
    return meeting


@transaction.atomic
def meeting_update(*, meeting: Meeting, acting_user: User, **changes: Any) -> Meeting:
    """Change a scheduled meeting. A change calendars must see raises the revision and sends
    the invitation again, marked as an update."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable here: {sorted(unknown)}")
    meeting = _lock(meeting)
    if meeting.is_cancelled:
        raise MeetingCancelled()
    if "interpretation_languages" in changes:
        changes["interpretation_languages"] = _check_languages(changes["interpretation_languages"])
    before = {name: getattr(meeting, name) for name in changes}
    changed = {name for name, value in changes.items() if before[name] != value}
    if not changed:
        return meeting
    for name in changed:
        setattr(meeting, name, changes[name])
    if changed & set(CALENDAR_FIELDS):
        meeting.revision += 1
    meeting.full_clean()
    meeting.save()
    audit_record(
        organisation=meeting.organisation,
        actor=acting_user,
        action="meeting.update",
        target=meeting,
        data={name: {"from": before[name], "to": changes[name]} for name in sorted(changed)},
    )
    if changed & set(CALENDAR_FIELDS):
        membership_services.notification_queue(
            "meeting_invitation", meeting, organisation=meeting.organisation
        )
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, acting_user: User, reason: str = "") -> Meeting:
    """Cancel a meeting (never delete it): calendars receive a cancellation of the same event."""
    meeting = _lock(meeting)
    if meeting.is_cancelled:
        raise MeetingCancelled(_("This meeting is already cancelled."))
    if meeting.status == Meeting.Status.HELD:
        raise MeetingOver()
    meeting.status = Meeting.Status.CANCELLED
    meeting.revision += 1
    meeting.save(update_fields=["status", "revision", "updated_at"])
    audit_record(
        organisation=meeting.organisation,
        actor=acting_user,
        action="meeting.cancel",
        target=meeting,
        data={"reason": reason.strip()},
    )
    membership_services.notification_queue(
        "meeting_cancelled", meeting, organisation=meeting.organisation
    )
    return meeting


# --- Reading materials ------------------------------------------------------------------------


@transaction.atomic
def material_add(
    *,
    meeting: Meeting,
    title: str,
    acting_user: User,
    upload: Any = None,
    url: str = "",
    reading_minutes: int = 60,
    publish_at: datetime.datetime | None = None,
) -> Material:
    """Add a file (its type checked from its content) or a link to a meeting's readings. The
    participants are told when it is published (a scheduled job, at ``publish_at``)."""
    if bool(upload) == bool(url):
        raise DomainError(_("Give either a file or a link."))
    material = Material(
        organisation=meeting.organisation,
        meeting=meeting,
        title=title.strip(),
        url=url,
        reading_minutes=reading_minutes,
        publish_at=publish_at or timezone.now(),
        created_by=acting_user,
    )
    if upload:
        handle: IO[bytes] = upload.file if hasattr(upload, "file") else upload
        kind = uploads.check(name=upload.name, size=upload.size, handle=handle)
        material.original_name = upload.name[:255]
        material.content_type = kind.content_type
        material.size = upload.size
        material.file.save(upload.name, upload, save=False)
    material.full_clean()
    material.save()
    audit_record(
        organisation=meeting.organisation,
        actor=acting_user,
        action="material.add",
        target=material,
        data={"meeting": meeting.pk, "publish_at": material.publish_at},
    )
    return material


@transaction.atomic
def material_withdraw(*, material: Material, acting_user: User) -> Material:
    material = Material.objects.select_for_update().get(pk=material.pk)
    if material.withdrawn_at is None:
        material.withdrawn_at = timezone.now()
        material.save(update_fields=["withdrawn_at"])
        audit_record(
            organisation=material.organisation,
            actor=acting_user,
            action="material.withdraw",
            target=material,
        )
    return material


# --- What participants say --------------------------------------------------------------------


def _participant_check(meeting: Meeting, user: User) -> None:
    access = meeting_access(organisation=meeting.organisation, user=user, meeting=meeting)
    if not access.seated:
        raise NotInTheGroup()
    if meeting.is_cancelled:
        raise MeetingCancelled()
    if meeting.ends_at <= timezone.now():
        raise MeetingOver()


@transaction.atomic
def apology_send(*, meeting: Meeting, user: User, note: str = "") -> Apology:
    """Send (or update) apologies for a meeting that has not yet ended."""
    _participant_check(meeting, user)
    apology, created = Apology.objects.select_for_update().get_or_create(
        meeting=meeting,
        person=user,
        defaults={"organisation": meeting.organisation, "note": note.strip()},
    )
    if not created:
        apology.note = note.strip()
        apology.withdrawn_at = None
        apology.sent_at = timezone.now()
        apology.save(update_fields=["note", "withdrawn_at", "sent_at"])
    audit_record(
        organisation=meeting.organisation, actor=user, action="apology.send", target=meeting
    )
    return apology


def _take_back(
    model: type[Apology] | type[InterpretationRequest], meeting: Meeting, user: User, action: str
) -> None:
    """Mark the person's live answer of this kind withdrawn (the row stays: it is history)."""
    _participant_check(meeting, user)
    updated = model.objects.filter(meeting=meeting, person=user, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now()
    )
    if updated:
        audit_record(organisation=meeting.organisation, actor=user, action=action, target=meeting)


@transaction.atomic
def apology_withdraw(*, meeting: Meeting, user: User) -> None:
    """Take apologies back: the person will attend after all."""
    _take_back(Apology, meeting, user, "apology.withdraw")


@transaction.atomic
def interpretation_request(*, meeting: Meeting, user: User, language: str) -> InterpretationRequest:
    """Ask for interpretation into one of the languages the meeting offers (one per person)."""
    _participant_check(meeting, user)
    if language not in meeting.interpretation_languages:
        raise DomainError(_("Interpretation into this language is not offered for this meeting."))
    request, created = InterpretationRequest.objects.select_for_update().get_or_create(
        meeting=meeting,
        person=user,
        defaults={"organisation": meeting.organisation, "language": language},
    )
    if not created:
        request.language = language
        request.withdrawn_at = None
        request.requested_at = timezone.now()
        request.save(update_fields=["language", "withdrawn_at", "requested_at"])
    audit_record(
        organisation=meeting.organisation,
        actor=user,
        action="interpretation.request",
        target=meeting,
        data={"language": language},
    )
    return request


@transaction.atomic
def interpretation_withdraw(*, meeting: Meeting, user: User) -> None:
    """Take back a request for interpretation."""
    _take_back(InterpretationRequest, meeting, user, "interpretation.withdraw")


# --- Calendar feeds ---------------------------------------------------------------------------


def _new_token() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def calendar_feed_get(*, organisation: Organisation, user: User) -> CalendarFeed:
    """The person's live feed, made on first use."""
    feed = (
        CalendarFeed.objects.select_for_update()
        .filter(organisation=organisation, user=user, revoked_at__isnull=True)
        .first()
    )
    if feed is not None:
        return feed
    feed = CalendarFeed.objects.create(organisation=organisation, user=user, token=_new_token())
    audit_record(organisation=organisation, actor=user, action="calendar_feed.create", target=feed)
    return feed


@transaction.atomic
def calendar_feed_reset(*, organisation: Organisation, user: User) -> CalendarFeed:
    """Revoke the person's feed address and give them a new one (the old one answers 404)."""
    CalendarFeed.objects.select_for_update().filter(
        organisation=organisation, user=user, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    feed = CalendarFeed.objects.create(organisation=organisation, user=user, token=_new_token())
    audit_record(organisation=organisation, actor=user, action="calendar_feed.reset", target=feed)
    return feed


# --- Attendance, participation and notes ------------------------------------------------------


class NotSeated(DomainError):
    default_message = _(
        "Only participants seated in the group at the time of the meeting can be marked."
    )


class NotYetStarted(DomainError):
    default_message = _("This meeting has not started yet.")


class ReportAlreadyApplied(DomainError):
    default_message = _("This attendance report was already applied to this meeting.")


def _attendance_lock(meeting: Meeting) -> Meeting:
    """Lock the meeting for a change to its attendance; a cancelled or future one refuses."""
    same_organisation(meeting.organisation, meeting)
    meeting = _lock(meeting)
    if meeting.is_cancelled:
        raise MeetingCancelled()
    if meeting.starts_at > timezone.now():
        raise NotYetStarted(_("Attendance is recorded once the meeting has started."))
    return meeting


def _attendance_recorded(meeting: Meeting) -> None:
    meeting.attendance_recorded_at = timezone.now()
    fields = ["attendance_recorded_at", "updated_at"]
    if meeting.ends_at <= timezone.now() and meeting.status == Meeting.Status.SCHEDULED:
        meeting.status = Meeting.Status.HELD
        fields.append("status")
    meeting.save(update_fields=fields)


def _write_marks(
    meeting: Meeting,
    marks: dict[int, tuple[str, int | None]],
    *,
    acting_user: User,
    source: str,
) -> dict[str, list[Any]]:
    """Create or change the marks; return what changed, by person id, for the audit."""
    existing = {a.person_id: a for a in Attendance.objects.filter(meeting=meeting)}
    now = timezone.now()
    new, changed, audit = [], [], {}
    for person_id, (status, minutes) in sorted(marks.items()):
        row = existing.get(person_id)
        if row is not None and (row.status, row.minutes) == (status, minutes):
            continue
        audit[str(person_id)] = [status, minutes]
        if row is None:
            new.append(
                Attendance(
                    organisation=meeting.organisation,
                    meeting=meeting,
                    person_id=person_id,
                    status=status,
                    minutes=minutes,
                    source=source,
                    recorded_by=acting_user,
                    recorded_at=now,
                )
            )
        else:
            row.status, row.minutes, row.source = status, minutes, source
            row.recorded_by, row.recorded_at = acting_user, now
            changed.append(row)
    Attendance.objects.bulk_create(new)
    Attendance.objects.bulk_update(
        changed, ["status", "minutes", "source", "recorded_by", "recorded_at"]
    )
    return audit


@transaction.atomic
def attendance_record(
    *,
    meeting: Meeting,
    marks: dict[int, tuple[str, int | None]],
    acting_user: User,
) -> Meeting:
    """Mark participants of a meeting present (with the minutes they attended, if known),
    apologies or absent, keyed by the person's id. Only those seated in the group during the
    meeting may be marked; any refusal changes nothing. Marks the meeting's attendance as
    recorded, and the meeting as held once it has ended. Queues nothing."""
    meeting = _attendance_lock(meeting)
    seated = {seat.holder_id for seat in selectors.seats_at_meeting(meeting)}
    unknown = sorted(set(marks) - seated)
    if unknown:
        raise NotSeated()
    clean: dict[int, tuple[str, int | None]] = {}
    for person_id, (status, minutes) in marks.items():
        if status not in Attendance.Status.values:
            raise DomainError(_("Choose present, apologies or absent."))
        if minutes is not None and not 0 <= minutes <= 1440:
            raise DomainError(_("Minutes attended are from 0 to 1,440."))
        if status != Attendance.Status.PRESENT and minutes:
            raise DomainError(_("Minutes attended are recorded only for people present."))
        clean[person_id] = (status, minutes if status == Attendance.Status.PRESENT else None)
    changes = _write_marks(
        meeting, clean, acting_user=acting_user, source=Attendance.Source.REGISTER
    )
    _attendance_recorded(meeting)
    audit_record(
        organisation=meeting.organisation,
        actor=acting_user,
        action="attendance.record",
        target=meeting,
        data={"marks": changes},
    )
    return meeting


@transaction.atomic
def attendance_mark_unmarked(*, meeting: Meeting, acting_user: User) -> int:
    """Mark everyone seated and not yet marked: present, or apologies for those who sent them.
    Returns how many were marked."""
    meeting = _attendance_lock(meeting)
    register = selectors.attendance_register(meeting=meeting)
    marks: dict[int, tuple[str, int | None]] = {
        row.person.pk: (row.status or Attendance.Status.PRESENT, None)
        for row in register.rows
        if not row.recorded
    }
    attendance_record(meeting=meeting, marks=marks, acting_user=acting_user)
    return len(marks)


@transaction.atomic
def attendance_report_apply(
    *, meeting: Meeting, file_name: str, content: bytes, acting_user: User
) -> AttendanceReport:
    """Apply a Zoom or Teams attendance report (``meetings.attendance_reports``): each row whose
    e-mail (or Teams UPN) is a seated participant's, compared case-insensitively, marks them
    present with the minutes the tool counted (their joins summed). Other rows are kept on the
    report for the secretariat to resolve. All or nothing: a file with any problem, or one
    already applied to this meeting (same content), changes nothing. Queues nothing."""
    digest = hashlib.sha256(content).hexdigest()
    meeting = _attendance_lock(meeting)
    earlier = AttendanceReport.objects.filter(meeting=meeting, digest=digest).first()
    if earlier is not None:
        raise ReportAlreadyApplied(
            _(
                "This report was already applied to this meeting on %(when)s (as “%(name)s”): "
                "nothing was changed."
            )
            % {
                "when": timezone.localtime(earlier.uploaded_at).strftime("%d %b %Y %H:%M %Z"),
                "name": earlier.file_name,
            }
        )
    parsed = attendance_reports.parse(content)
    seats = selectors.seats_at_meeting(meeting)
    by_email = {seat.holder.email.lower(): seat.holder_id for seat in seats}
    marks: dict[int, tuple[str, int | None]] = {}
    unmatched = []
    for person in parsed.people:
        person_id = next(
            (by_email[e] for e in [person.email, *person.alternates] if e in by_email), None
        )
        if person_id is None:
            unmatched.append(
                {"name": person.name, "email": person.email, "minutes": person.minutes}
            )
            continue
        before = marks.get(person_id, ("", 0))[1] or 0
        marks[person_id] = (Attendance.Status.PRESENT, min(1440, before + person.minutes))
    _write_marks(meeting, marks, acting_user=acting_user, source=Attendance.Source.REPORT)
    report = AttendanceReport.objects.create(
        organisation=meeting.organisation,
        meeting=meeting,
        digest=digest,
        file_name=file_name[:255],
        rows=parsed.rows,
        matched=len(marks),
        unmatched=unmatched,
        uploaded_by=acting_user,
    )
    _attendance_recorded(meeting)
    audit_record(
        organisation=meeting.organisation,
        actor=acting_user,
        action="attendance.report",
        target=meeting,
        data={
            "file_name": report.file_name,
            "tool": parsed.tool,
            "rows": parsed.rows,
            "matched": {str(k): v[1] for k, v in marks.items()},
            "unmatched": len(unmatched),
        },
    )
    return report


def _notes_lock(meeting: Meeting) -> Meeting:
    same_organisation(meeting.organisation, meeting)
    meeting = _lock(meeting)
    if meeting.is_cancelled:
        raise MeetingCancelled()
    return meeting


@transaction.atomic
def notes_save(*, meeting: Meeting, notes: str, acting_user: User) -> Meeting:
    """Save the notes of a meeting as a draft that only the secretariat sees. Refused once the
    notes are published (participants read them: change them by publishing). Queues nothing."""
    meeting = _notes_lock(meeting)
    if meeting.notes_published_at is not None:
        raise DomainError(
            _("These notes are published: publish your changes so participants see them.")
        )
    meeting.notes = notes.strip()
    meeting.save(update_fields=["notes", "updated_at"])
    audit_record(
        organisation=meeting.organisation,
        actor=acting_user,
        action="notes.save",
        target=meeting,
        data={"length": len(meeting.notes)},
    )
    return meeting


@transaction.atomic
def notes_publish(*, meeting: Meeting, notes: str, acting_user: User) -> Meeting:
    """Save and publish the notes of a meeting that has started: the group's participants read
    them on the meeting's page. The first publication queues the ``notes_published`` e-mail;
    publishing a correction later tells nobody again."""
    meeting = _notes_lock(meeting)
    if meeting.starts_at > timezone.now():
        raise NotYetStarted(_("Notes are published once the meeting has started."))
    if not notes.strip():
        raise DomainError(_("Write the notes before publishing them."))
    first = meeting.notes_published_at is None
    meeting.notes = notes.strip()
    meeting.notes_published_at = timezone.now()
    meeting.save(update_fields=["notes", "notes_published_at", "updated_at"])
    audit_record(
        organisation=meeting.organisation,
        actor=acting_user,
        action="notes.publish",
        target=meeting,
        data={"length": len(meeting.notes), "first": first},
    )
    if first:
        membership_services.notification_queue(
            "notes_published", meeting, organisation=meeting.organisation
        )
    return meeting


@transaction.atomic
def step_down_request(*, seat: Seat, acting_user: User) -> Seat:
    """Ask a participant who keeps missing meetings to step down (the ``step_down_request``
    e-mail). Only while someone waits for a seat in the group; the seat itself stays until the
    secretariat ends it (``membership.services.seat_end`` with ``NON_ATTENDANCE``)."""
    group = seat.group
    same_organisation(group.organisation, seat)
    WorkingGroup.objects.select_for_update().filter(pk=group.pk).first()
    seat = Seat.objects.select_for_update(of=("self",)).select_related("group").get(pk=seat.pk)
    if seat.ended_at is not None:
        raise DomainError(_("This seat has already ended."))
    if not Application.objects.filter(group=group, status__in=Application.POOL).exists():
        raise DomainError(
            _("Nobody is waiting for a seat in %(group)s: a step-down request is not sent.")
            % {"group": group.name}
        )
    audit_record(
        organisation=group.organisation,
        actor=acting_user,
        action="seat.step_down_request",
        target=seat,
    )
    membership_services.notification_queue(
        "step_down_request", seat, organisation=group.organisation
    )
    return seat
