"""Reads about feedback that several callers need, already scoped to the active tenant."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from asi_wg.models import Organisation
from feedback.models import Answer, Criterion, DraftDocument, FeedbackRound
from meetings.selectors import seated_group_ids


def open_rounds(now: datetime.datetime | None = None) -> Q:
    """The rounds open at ``now``: opened, not yet at their closing time, not closed early."""
    now = now or timezone.now()
    return Q(opens_at__lte=now, closes_at__gt=now, closed_early_at__isnull=True)


def rounds_open_for_user(
    *, organisation: Organisation, user: Any, now: datetime.datetime | None = None
) -> list[FeedbackRound]:
    """The rounds open now in the groups where ``user`` holds a seat, closing soonest first."""
    groups = seated_group_ids(organisation=organisation, user=user)
    if not groups:
        return []
    return list(
        FeedbackRound.objects.filter(open_rounds(now), organisation=organisation, group__in=groups)
        .select_related("group", "document")
        .order_by("closes_at", "id")
    )


def criteria_in_order(document: DraftDocument) -> QuerySet[Criterion]:
    """A document's criteria in natural order of their references ("5.9" before "5.10")."""
    return Criterion.objects.filter(document=document).order_by("sort_key", "id")


def round_criteria(feedback_round: FeedbackRound) -> QuerySet[Criterion]:
    """The round's criteria in natural order, with the groups responsible."""
    return feedback_round.criteria.all().order_by("sort_key", "id").prefetch_related("groups")


def answers_of_user(*, feedback_round: FeedbackRound, user: Any) -> dict[int, Answer]:
    """The person's answers in a round by criterion id, with their frameworks and objectives:
    three queries however many criteria (the form's data)."""
    answers = (
        Answer.objects.filter(round=feedback_round, author=user)
        .select_related("referred_to")
        .prefetch_related("frameworks", "objectives")
    )
    return {answer.criterion_id: answer for answer in answers}


@dataclass(frozen=True)
class Progress:
    total: int
    answered: int
    submitted: int

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.total) if self.total else 0


def round_progress(*, feedback_round: FeedbackRound, user: Any) -> Progress:
    """How many of the round's criteria the person has answered (saved) and submitted."""
    answers = Answer.objects.filter(round=feedback_round, author=user)
    return Progress(
        total=feedback_round.criteria.count(),
        answered=answers.count(),
        submitted=answers.filter(submitted_at__isnull=False).count(),
    )
