"""What the feedback beat job finds due at a moment: rounds that have opened, and the reminders
three days and one day before a round closes. A read, in two queries per organisation; the
e-mails themselves are sent by ``membership.tasks.notification_send``, one job per kind and
round, whose builders (``feedback.notifications``) decide who still needs one.

Nothing here remembers what it found before. Each window stays open for a day or two, so the job,
run every ten minutes, finds the same round again and again: the builders' keys and the unique
``SentNotification`` claim make every repeat send nothing, and an e-mail missed while beat or the
mail server was down still goes out once they are back.
"""

from __future__ import annotations

import datetime

from asi_wg.models import Organisation
from feedback.models import FeedbackRound
from feedback.notifications import ANNOUNCE_WINDOW, REMINDERS
from feedback.selectors import open_rounds
from meetings.jobs import Due


def jobs_due(*, organisation: Organisation, now: datetime.datetime) -> list[Due]:
    """Every (kind, round) whose e-mail is due at ``now``:

    - ``feedback_round_open`` when the round is open and opened within the last two days (a
      round opened by staff is announced at once by the service; this catches the rounds that
      open by the clock);
    - ``feedback_reminder_3d`` when ``closes_at - 3d <= now < closes_at - 2d``, and
      ``feedback_reminder_1d`` when ``closes_at - 1d <= now < closes_at``, for an open round
      that was already open when that window began.
    """
    rounds = FeedbackRound.objects.filter(open_rounds(now), organisation=organisation)
    due = [
        Due("feedback_round_open", pk)
        for pk in rounds.filter(opens_at__gt=now - ANNOUNCE_WINDOW).values_list("pk", flat=True)
    ]
    soon = rounds.filter(closes_at__lte=now + max(r.lead for r in REMINDERS)).only(
        "pk", "opens_at", "closes_at", "closed_early_at"
    )
    for feedback_round in soon:
        due += [Due(r.kind, feedback_round.pk) for r in REMINDERS if r.due(feedback_round, now)]
    return sorted(due)
