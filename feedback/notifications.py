"""E-mails about feedback rounds: the round is open, a reminder three days and one day before it
closes to those with criteria left, and the secretariat's responses once published.

Each builder follows ``membership.notifications``: it re-fetches the round inside the tenant's
scope, returns None when the round is gone and an empty list when nothing is due any more, and
one ``Message`` per recipient with a key unique per kind, round and person, so that the unique
``SentNotification`` claim lets each e-mail out once however often the beat job runs. Two keys
carry more than that:

- a reminder's key carries the round's closing time: a round extended to a later closing time
  reminds again for the new time, a second run for the same time sends nothing;
- a publication's key carries the batch's publication time: each batch is one e-mail per author.

Times are written in the recipient's zone with the zone named. Every text is the staff's or a
participant's own words: the templates escape them (HTML) or show them as typed (plain text),
never as markup. ``FeedbackConfig.ready()`` registers the builders.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from asi_wg.models import Organisation, User
from asi_wg.urls_helpers import root_reverse
from feedback.models import Answer, Disposition, FeedbackRound
from meetings.selectors import seated_participants
from membership.notifications import (
    Builder,
    Message,
    absolute_url,
    builder_register,
    local_time,
    sent_keys,
)

DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Reminder:
    """A reminder is due while ``closes_at - lead <= now < closes_at - lead + width`` in a round
    that was already open when that window began (a round opened late gets its announcement,
    not at once a reminder as well)."""

    kind: str
    lead: datetime.timedelta
    width: datetime.timedelta

    def window(self, closes_at: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
        start = closes_at - self.lead
        return start, start + self.width

    def due(self, feedback_round: FeedbackRound, now: datetime.datetime) -> bool:
        start, end = self.window(feedback_round.closes_at)
        return (
            feedback_round.is_open(now) and start <= now < end and feedback_round.opens_at <= start
        )


REMINDERS = (
    # Three days before, for a day: a round found late in that day still gets it, never later.
    Reminder("feedback_reminder_3d", lead=3 * DAY, width=DAY),
    Reminder("feedback_reminder_1d", lead=DAY, width=DAY),
)
#: How long after its opening a round is still announced by the beat job (after an outage, or to
#: a participant seated soon after it opened).
ANNOUNCE_WINDOW = 2 * DAY
#: How long after a batch of dispositions is published its e-mails may still go out.
PUBLICATION_WINDOW = 2 * DAY


def round_url(organisation: Organisation, feedback_round: FeedbackRound) -> str:
    return absolute_url(
        root_reverse(
            "feedback:round",
            kwargs={"organisation_slug": organisation.slug, "pk": feedback_round.pk},
        )
    )


def _round(organisation: Organisation, object_id: int) -> FeedbackRound | None:
    return (
        FeedbackRound.objects.filter(pk=object_id, organisation=organisation)
        .select_related("group", "document")
        .first()
    )


def _reachable(user: User) -> bool:
    return user.is_active and bool(user.email)


def _stamp(moment: datetime.datetime) -> int:
    """A moment in a key: microseconds since the epoch (two batches a second apart differ)."""
    return int(moment.timestamp() * 1_000_000)


def _round_context(
    organisation: Organisation, feedback_round: FeedbackRound, user: User
) -> dict[str, Any]:
    return {
        "round": feedback_round,
        "group": feedback_round.group,
        "document": feedback_round.document,
        "round_url": round_url(organisation, feedback_round),
        "closes": local_time(feedback_round.closed_at, user.time_zone),
    }


def _unsent(messages: list[Message]) -> list[Message]:
    """Leave out, in one query, the messages already sent: the beat job asks every ten minutes."""
    done = sent_keys([message.key for message in messages])
    return [message for message in messages if message.key not in done]


# --- The round opens --------------------------------------------------------------------------


def feedback_round_open(organisation: Organisation, object_id: int) -> list[Message] | None:
    """To each seated participant of the round's group, while the round is open."""
    feedback_round = _round(organisation, object_id)
    if feedback_round is None:
        return None
    if not feedback_round.is_open():
        return []
    total = feedback_round.criteria.count()
    return _unsent(
        [
            Message(
                kind="feedback_round_open",
                key=f"feedback_round_open:{feedback_round.pk}:{user.pk}",
                recipient=user,
                context={**_round_context(organisation, feedback_round, user), "total": total},
            )
            for user in seated_participants(feedback_round.group)
            if _reachable(user)
        ]
    )


# --- Reminders before it closes ---------------------------------------------------------------


@dataclass(frozen=True)
class Left:
    """Where a person stands in a round: criteria without a submitted answer, and drafts."""

    total: int
    submitted: int
    drafts: int

    @property
    def left(self) -> int:
        return self.total - self.submitted


def standing(feedback_round: FeedbackRound, users: list[User]) -> dict[int, Left]:
    """Each person's standing in the round, by user id, in two queries however many people."""
    total = feedback_round.criteria.count()
    counts = {
        row["author_id"]: row
        for row in Answer.objects.filter(round=feedback_round, author__in=users)
        .values("author_id")
        .annotate(
            submitted=Count("pk", filter=Q(submitted_at__isnull=False)),
            drafts=Count("pk", filter=Q(submitted_at__isnull=True)),
        )
    }
    return {
        user.pk: Left(
            total=total,
            submitted=counts.get(user.pk, {}).get("submitted", 0),
            drafts=counts.get(user.pk, {}).get("drafts", 0),
        )
        for user in users
    }


def _reminder(reminder: Reminder) -> Builder:
    kind = reminder.kind

    def build(organisation: Organisation, object_id: int) -> list[Message] | None:
        feedback_round = _round(organisation, object_id)
        if feedback_round is None:
            return None
        if not reminder.due(feedback_round, timezone.now()):
            return []  # closed (early or on time), extended out of the window, not open yet
        people = [u for u in seated_participants(feedback_round.group) if _reachable(u)]
        where = standing(feedback_round, people)
        closing = _stamp(feedback_round.closes_at)
        return _unsent(
            [
                Message(
                    kind=kind,
                    key=f"{kind}:{feedback_round.pk}:{closing}:{user.pk}",
                    recipient=user,
                    context={
                        **_round_context(organisation, feedback_round, user),
                        "standing": where[user.pk],
                    },
                )
                for user in people
                if where[user.pk].left > 0
            ]
        )

    build.__name__ = build.__qualname__ = kind
    build.__doc__ = (
        f"The {kind} reminder to each seated participant with criteria left without a "
        "submitted answer."
    )
    return build


feedback_reminder_3d = _reminder(REMINDERS[0])
feedback_reminder_1d = _reminder(REMINDERS[1])


# --- The secretariat's responses --------------------------------------------------------------


def feedback_dispositions_published(
    organisation: Organisation, object_id: int
) -> list[Message] | None:
    """To each author of an answer whose disposition a recent batch published: one e-mail per
    author and batch (a batch is the dispositions published at one moment). A job that runs late
    still sends a batch a later one followed; a batch older than ``PUBLICATION_WINDOW`` (demo
    data, or loaded quietly) is never e-mailed."""
    feedback_round = _round(organisation, object_id)
    if feedback_round is None:
        return None
    since = timezone.now() - PUBLICATION_WINDOW
    published = Disposition.objects.filter(
        answer__round=feedback_round, published_at__gte=since
    ).values_list("published_at", "answer__author_id")
    per_batch: dict[datetime.datetime, Counter[int]] = {}
    for published_at, author_id in published:
        if published_at is not None:  # filtered on it; for the type checker
            per_batch.setdefault(published_at, Counter())[author_id] += 1
    authors = {
        user.pk: user
        for user in User.objects.filter(pk__in={pk for batch in per_batch.values() for pk in batch})
    }
    url = round_url(organisation, feedback_round)
    messages = [
        Message(
            kind="feedback_dispositions_published",
            key=(
                f"feedback_dispositions_published:{feedback_round.pk}:"
                f"{_stamp(published_at)}:{author_id}"
            ),
            recipient=authors[author_id],
            context={
                "round": feedback_round,
                "group": feedback_round.group,
                "document": feedback_round.document,
                "round_url": url,
                "count": count,
            },
        )
        for published_at, batch in sorted(per_batch.items())
        for author_id, count in sorted(batch.items())
        if _reachable(authors[author_id])
    ]
    return _unsent(messages)


BUILDERS: dict[str, Builder] = {
    "feedback_round_open": feedback_round_open,
    "feedback_reminder_3d": feedback_reminder_3d,
    "feedback_reminder_1d": feedback_reminder_1d,
    "feedback_dispositions_published": feedback_dispositions_published,
}


def register() -> None:
    """Called once from ``FeedbackConfig.ready()``."""
    for kind, builder in BUILDERS.items():
        builder_register(kind, builder)
