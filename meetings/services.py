"""Writes about meetings. Each function is one transaction that writes its audit entry and
queues its e-mails to run after the commit (``membership.services.notification_queue``).

A meeting's ``revision`` (the calendar's SEQUENCE) rises with each change that calendar
programs must re-read: time, duration, title, link, cancellation. Invitations are keyed by
revision, so a changed time is sent again while a retry of the same change sends nothing twice.
"""

from __future__ import annotations

import datetime
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
from meetings import uploads
from meetings.models import (
    LANGUAGE_CODES,
    Apology,
    CalendarFeed,
    InterpretationRequest,
    Material,
    Meeting,
)
from meetings.selectors import meeting_access
from membership import services as membership_services

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


@transaction.atomic
def apology_withdraw(*, meeting: Meeting, user: User) -> None:
    """Take apologies back: the person will attend after all."""
    _participant_check(meeting, user)
    updated = Apology.objects.filter(
        meeting=meeting, person=user, withdrawn_at__isnull=True
    ).update(withdrawn_at=timezone.now())
    if updated:
        audit_record(
            organisation=meeting.organisation,
            actor=user,
            action="apology.withdraw",
            target=meeting,
        )


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
    _participant_check(meeting, user)
    updated = InterpretationRequest.objects.filter(
        meeting=meeting, person=user, withdrawn_at__isnull=True
    ).update(withdrawn_at=timezone.now())
    if updated:
        audit_record(
            organisation=meeting.organisation,
            actor=user,
            action="interpretation.withdraw",
            target=meeting,
        )


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
    audit_record(organisation=organisation, actor=user, action="calendar_feed.create")
    return feed


@transaction.atomic
def calendar_feed_reset(*, organisation: Organisation, user: User) -> CalendarFeed:
    """Revoke the person's feed address and give them a new one (the old one answers 404)."""
    CalendarFeed.objects.select_for_update().filter(
        organisation=organisation, user=user, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    feed = CalendarFeed.objects.create(organisation=organisation, user=user, token=_new_token())
    audit_record(organisation=organisation, actor=user, action="calendar_feed.reset")
    return feed
