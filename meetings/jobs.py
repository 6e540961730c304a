"""What the meetings' beat job finds due at a moment: reminders, published materials, missing
attendance. A read, in a few indexed queries per organisation; the e-mails themselves are sent
by ``membership.tasks.notification_send``, one job per kind and object.

Nothing here remembers what it found before. Each window below stays open for hours or days, so
the job, run every ten minutes, finds the same meeting again and again: the builders' keys
(``meeting_reminder_1d:<meeting>:<person>``, ...) and the unique ``SentNotification`` claim make
every repeat send nothing. A window that long also means an e-mail missed while beat or the mail
server was down still goes out once they are back.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from asi_wg.models import Organisation
from meetings.models import Material, Meeting
from meetings.notifications import ATTENDANCE_GRACE

WEEK = datetime.timedelta(days=7)
DAY = datetime.timedelta(days=1)
#: The 7-day reminder's window is one day wide: a meeting scheduled less than six days ahead gets
#: the invitation and the 1-day reminder, never a "next week" one.
WEEK_REMINDER_WINDOW = datetime.timedelta(days=1)
#: How long after its publication a material is still announced (after an outage, say).
MATERIAL_WINDOW = datetime.timedelta(days=7)
#: How long the secretariat is reminded of missing attendance: once, within this time.
ATTENDANCE_WINDOW = datetime.timedelta(days=14)
_LONGEST_MEETING = datetime.timedelta(minutes=480)  # the model's CheckConstraint


@dataclass(frozen=True, order=True)
class Due:
    kind: str
    object_id: int


def jobs_due(*, organisation: Organisation, now: datetime.datetime) -> list[Due]:
    """Every (kind, object) whose e-mail is due at ``now``:

    - ``meeting_reminder_7d`` when ``starts_at - 7d <= now < starts_at - 6d``;
    - ``meeting_reminder_1d`` when ``starts_at - 1d <= now < starts_at``;
    - ``material_published`` when ``publish_at <= now`` within the last 7 days, not withdrawn, for
      a meeting not cancelled;
    - ``attendance_missing`` when ``ends_at + 1d <= now < ends_at + 14d``, the attendance not
      recorded, the meeting not cancelled.

    Four queries, each on the organisation and a time range.
    """
    scheduled = Meeting.objects.filter(organisation=organisation, status=Meeting.Status.SCHEDULED)
    due = [
        Due("meeting_reminder_7d", pk)
        for pk in scheduled.filter(
            starts_at__gt=now + WEEK - WEEK_REMINDER_WINDOW, starts_at__lte=now + WEEK
        ).values_list("pk", flat=True)
    ]
    due += [
        Due("meeting_reminder_1d", pk)
        for pk in scheduled.filter(starts_at__gt=now, starts_at__lte=now + DAY).values_list(
            "pk", flat=True
        )
    ]
    due += [
        Due("material_published", pk)
        for pk in Material.objects.filter(
            organisation=organisation,
            publish_at__lte=now,
            publish_at__gt=now - MATERIAL_WINDOW,
            withdrawn_at__isnull=True,
        )
        .exclude(meeting__status=Meeting.Status.CANCELLED)
        .values_list("pk", flat=True)
    ]
    # ends_at is start + duration: narrow on the indexed start, then decide on the end exactly.
    ended = (
        Meeting.objects.filter(
            organisation=organisation,
            starts_at__lte=now - ATTENDANCE_GRACE,
            starts_at__gt=now - ATTENDANCE_WINDOW - _LONGEST_MEETING,
            attendance_recorded_at__isnull=True,
        )
        .exclude(status=Meeting.Status.CANCELLED)
        .only("pk", "starts_at", "duration_minutes")
    )
    due += [
        Due("attendance_missing", meeting.pk)
        for meeting in ended
        if meeting.ends_at + ATTENDANCE_GRACE <= now < meeting.ends_at + ATTENDANCE_WINDOW
    ]
    return sorted(due)
