"""E-mails about meetings: invitations and updates, cancellations, reminders, published materials
and notes, missing attendance for the secretariat, and a request to step down.

Each builder follows ``membership.notifications``: it re-fetches its object inside the tenant's
scope, returns None when the object is gone and an empty list when nothing is due any more, and
one ``Message`` per recipient with a key unique per kind, object and person, so that the unique
``SentNotification`` claim lets each e-mail out once, however often the job runs. An invitation's
key also carries the meeting's revision: a changed time is a new e-mail, a retry of the same
change is not. ``MeetingsConfig.ready()`` registers them (``membership.notifications`` may not
import this app).

Times are written in the recipient's zone with the zone named, and in the zone the meeting was
planned in when that is another. Invitations, reminders and cancellations carry the meeting's
calendar file for the recipient (REQUEST, or CANCEL for a cancellation); only seated participants
receive them, so the join link is in them. No e-mail names another participant.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.utils import timezone
from guardian.shortcuts import get_users_with_perms

from asi_wg.models import Organisation, OrganisationRole, User
from meetings.calendar import meeting_ics, meeting_url, with_attendee
from meetings.models import Material, Meeting
from meetings.selectors import seated_participants
from meetings.templatetags.meeting_time import when
from membership.models import Seat
from membership.notifications import (
    Attachment,
    Builder,
    Message,
    absolute_url,
    builder_register,
    sent_keys,
)
from membership.selectors import participant_access

#: A meeting is "attendance missing" this long after it ended (the beat job's window opens then).
ATTENDANCE_GRACE = datetime.timedelta(days=1)


def _meeting(organisation: Organisation, object_id: int) -> Meeting | None:
    return (
        Meeting.objects.filter(pk=object_id, organisation=organisation)
        .select_related("group", "phase")
        .first()
    )


def _reachable(user: User) -> bool:
    return user.is_active and bool(user.email)


def _meeting_context(organisation: Organisation, meeting: Meeting, user: User) -> dict[str, Any]:
    mine = when(meeting.starts_at, meeting.ends_at, user.time_zone)
    return {
        "meeting": meeting,
        "group": meeting.group,
        "meeting_url": meeting_url(meeting, organisation),
        "when": mine,
        # As the meeting page does: the planned time too, when the person lives elsewhere.
        "planned_when": (
            when(meeting.starts_at, meeting.ends_at, meeting.time_zone)
            if user.time_zone != meeting.time_zone
            else ""
        ),
    }


def _calendar_file(shared: bytes, user: User, method: str) -> Attachment:
    """The meeting for the recipient's calendar: their own ATTENDEE line added to the file all
    recipients share (the join link: they are seated participants), and ``method`` on both the
    file and its content type, which is what makes Outlook and Gmail show an invitation (REQUEST)
    or remove the event (CANCEL)."""
    return Attachment(
        filename="cancellation.ics" if method == "CANCEL" else "invitation.ics",
        content=with_attendee(shared, user.email),
        mimetype=f"text/calendar; method={method}; charset=utf-8",
    )


def _messages(
    organisation: Organisation,
    meeting: Meeting,
    recipients: list[User],
    *,
    kind: str,
    key: Callable[[User], str],
    method: str | None = None,
    context: dict[str, Any] | None = None,
) -> list[Message]:
    """One message per reachable recipient not yet sent this key. Keys already sent are left out
    before any calendar file is built: the beat job asks again every ten minutes."""
    people = [user for user in recipients if _reachable(user)]
    keys = {user.pk: key(user) for user in people}
    done = sent_keys(list(keys.values()))
    shared = (
        meeting_ics(meeting, organisation=organisation, with_join_link=True, method=method)
        if method and any(keys[user.pk] not in done for user in people)
        else b""
    )
    return [
        Message(
            kind=kind,
            key=keys[user.pk],
            recipient=user,
            context={**_meeting_context(organisation, meeting, user), **(context or {})},
            attachments=((_calendar_file(shared, user, method),) if method else ()),
        )
        for user in people
        if keys[user.pk] not in done
    ]


# --- The meeting's calendar -------------------------------------------------------------------


def meeting_invitation(organisation: Organisation, object_id: int) -> list[Message] | None:
    """To each seated participant, at each revision: "Invitation" first, "Updated" after."""
    meeting = _meeting(organisation, object_id)
    if meeting is None:
        return None
    if meeting.status != Meeting.Status.SCHEDULED or meeting.ends_at <= timezone.now():
        return []
    # Queued at an older revision and run after a newer one: it sends the newer one, whose own
    # job then finds its keys taken.
    return _messages(
        organisation,
        meeting,
        seated_participants(meeting.group),
        kind="meeting_invitation",
        key=lambda user: f"meeting_invitation:{meeting.pk}:{meeting.revision}:{user.pk}",
        method="REQUEST",
        context={"updated": meeting.revision > 0},
    )


def meeting_cancelled(organisation: Organisation, object_id: int) -> list[Message] | None:
    meeting = _meeting(organisation, object_id)
    if meeting is None:
        return None
    if not meeting.is_cancelled or meeting.ends_at <= timezone.now():
        return []
    return _messages(
        organisation,
        meeting,
        seated_participants(meeting.group),
        kind="meeting_cancelled",
        key=lambda user: f"meeting_cancelled:{meeting.pk}:{user.pk}",
        method="CANCEL",
    )


def _reminder(kind: str) -> Builder:
    def build(organisation: Organisation, object_id: int) -> list[Message] | None:
        meeting = _meeting(organisation, object_id)
        if meeting is None:
            return None
        if meeting.status != Meeting.Status.SCHEDULED or meeting.starts_at <= timezone.now():
            return []
        return _messages(
            organisation,
            meeting,
            seated_participants(meeting.group),
            kind=kind,
            key=lambda user: f"{kind}:{meeting.pk}:{user.pk}",
            method="REQUEST",
        )

    build.__name__ = build.__qualname__ = kind
    build.__doc__ = f"The {kind} reminder to each seated participant, with the calendar file."
    return build


meeting_reminder_7d = _reminder("meeting_reminder_7d")
meeting_reminder_1d = _reminder("meeting_reminder_1d")


# --- What the meeting produced ----------------------------------------------------------------


def material_published(organisation: Organisation, object_id: int) -> list[Message] | None:
    """To the seated participants who may read the materials (acknowledged the current antitrust
    policy). The e-mail links the meeting page, where the material opens after sign-in; never
    the file or the link itself."""
    material = (
        Material.objects.filter(pk=object_id, organisation=organisation)
        .select_related("meeting__group", "meeting__phase")
        .first()
    )
    if material is None:
        return None
    meeting = material.meeting
    if not material.is_published() or meeting.is_cancelled:
        return []
    readers = [
        user
        for user in seated_participants(meeting.group)
        if participant_access(organisation, user, meeting.group)
    ]
    return _messages(
        organisation,
        meeting,
        readers,
        kind="material_published",
        key=lambda user: f"material_published:{material.pk}:{user.pk}",
        context={"material": material},
    )


def notes_published(organisation: Organisation, object_id: int) -> list[Message] | None:
    meeting = _meeting(organisation, object_id)
    if meeting is None:
        return None
    if meeting.notes_published_at is None:
        return []
    return _messages(
        organisation,
        meeting,
        seated_participants(meeting.group),
        kind="notes_published",
        key=lambda user: f"notes_published:{meeting.pk}:{user.pk}",
    )


# --- To the secretariat, and from it ----------------------------------------------------------


def secretariat_users(organisation: Organisation) -> list[User]:
    """The people who hold the secretariat role in the organisation itself (not through a
    group), by e-mail address."""
    users = get_users_with_perms(
        organisation,
        only_with_perms_in=[OrganisationRole.SECRETARIAT.value],
        with_group_users=False,
    )
    return sorted(users, key=lambda user: user.email)


def attendance_missing(organisation: Organisation, object_id: int) -> list[Message] | None:
    """To the secretariat, once a meeting is a day over and its attendance is not recorded."""
    meeting = _meeting(organisation, object_id)
    if meeting is None:
        return None
    if (
        meeting.is_cancelled
        or meeting.attendance_recorded_at is not None
        or meeting.ends_at + ATTENDANCE_GRACE > timezone.now()
    ):
        return []
    register = absolute_url(f"/{organisation.slug}/staff/meetings/{meeting.uid}/attendance/")
    return _messages(
        organisation,
        meeting,
        secretariat_users(organisation),
        kind="attendance_missing",
        key=lambda user: f"attendance_missing:{meeting.pk}:{user.pk}",
        context={"register_url": register},
    )


def step_down_request(organisation: Organisation, object_id: int) -> list[Message] | None:
    """To a seat holder who missed several meetings while others wait: a polite request, citing
    the Terms of Reference, with the secretariat's address to reply to."""
    seat = (
        Seat.objects.filter(pk=object_id, group__organisation=organisation)
        .select_related("group", "holder")
        .first()
    )
    if seat is None:
        return None
    if seat.ended_at is not None or not _reachable(seat.holder):
        return []
    return [
        Message(
            kind="step_down_request",
            key=f"step_down_request:{seat.pk}",
            recipient=seat.holder,
            context={
                "group": seat.group,
                "group_url": absolute_url(seat.group.get_absolute_url()),
                "contact_email": organisation.contact_email,
            },
        )
    ]


BUILDERS: dict[str, Builder] = {
    "meeting_invitation": meeting_invitation,
    "meeting_cancelled": meeting_cancelled,
    "meeting_reminder_7d": meeting_reminder_7d,
    "meeting_reminder_1d": meeting_reminder_1d,
    "material_published": material_published,
    "notes_published": notes_published,
    "attendance_missing": attendance_missing,
    "step_down_request": step_down_request,
}


def register() -> None:
    """Called once from ``MeetingsConfig.ready()``."""
    for kind, builder in BUILDERS.items():
        builder_register(kind, builder)
