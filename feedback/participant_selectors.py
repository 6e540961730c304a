"""Reads of the participant's feedback pages: their rounds, one round they may see, the state of
each of their answers, their progress. Every function is scoped to the request's tenant and
costs a fixed number of queries however many criteria or answers a round has (the page tests
count them).

Who sees a round: the seated participants of its group, and anyone who answered in it (a
participant whose seat ended still sees what they wrote, read-only). Anyone else gets nothing,
so the page is a 404 whoever asks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from asi_wg.caching import public_cached
from asi_wg.models import Organisation
from feedback.models import Answer, Criterion, Disposition, FeedbackRound, Framework
from feedback.selectors import open_rounds
from groups.models import RevisionObjective, WorkingGroup
from meetings.selectors import seated_group_ids
from membership.selectors import antitrust_acknowledged, seat_held


def _count(queryset: QuerySet[Any], link: str) -> Coalesce:
    return Coalesce(
        Subquery(
            queryset.filter(**{link: OuterRef("pk")})
            .order_by()
            .values(link)
            .annotate(n=Count("pk"))
            .values("n"),
            output_field=IntegerField(),
        ),
        0,
    )


@dataclass
class MyRounds:
    open: list[FeedbackRound] = field(default_factory=list)
    scheduled: list[FeedbackRound] = field(default_factory=list)
    closed: list[FeedbackRound] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.open or self.scheduled or self.closed)


def rounds_for_participant(*, organisation: Organisation, user: Any) -> MyRounds:
    """The rounds of the person's groups and those they answered in, each annotated with the
    number of criteria, of the person's answers, submitted answers and published responses:
    open ones closing soonest first, then scheduled ones, then closed ones latest first. Two
    queries."""
    groups = seated_group_ids(organisation=organisation, user=user)
    mine = Answer.objects.filter(author=user)
    rounds = (
        FeedbackRound.objects.filter(organisation=organisation)
        .filter(Q(group__in=groups) | Q(pk__in=mine.values("round")))
        .select_related("group", "document")
        .annotate(
            total=_count(FeedbackRound.criteria.through.objects.all(), "feedbackround"),
            answered=_count(mine, "round"),
            submitted=_count(mine.filter(submitted_at__isnull=False), "round"),
            responses=_count(
                Disposition.objects.filter(answer__author=user, published_at__isnull=False),
                "answer__round",
            ),
        )
    )
    now = timezone.now()
    result = MyRounds()
    for feedback_round in rounds:
        state = feedback_round.state(now)
        getattr(result, str(state)).append(feedback_round)
    result.open.sort(key=lambda r: (r.closes_at, r.pk))
    result.scheduled.sort(key=lambda r: (r.opens_at, r.pk))
    result.closed.sort(key=lambda r: (r.closed_at, r.pk), reverse=True)
    return result


@dataclass(frozen=True)
class RoundAccess:
    round: FeedbackRound
    seated: bool
    # Whether the person acknowledged the tenant's current antitrust policy (or there is none).
    acknowledged: bool = False

    @property
    def open(self) -> bool:
        return self.round.is_open()


def round_for_participant(*, organisation: Organisation, user: Any, pk: int) -> RoundAccess | None:
    """The round ``pk`` if the person may see it, else None: one query, with whether they hold a
    seat in its group and have acknowledged the antitrust policy; two for someone who answered
    in it without a seat now."""
    if not getattr(user, "is_authenticated", False):
        return None
    feedback_round = (
        FeedbackRound.objects.filter(organisation=organisation, pk=pk)
        .select_related("group", "document", "organisation")
        .annotate(seated=seat_held(user=user), acknowledged=antitrust_acknowledged(user=user))
        .first()
    )
    if feedback_round is None:
        return None
    acknowledged = bool(feedback_round.acknowledged)  # type: ignore[attr-defined]
    if feedback_round.seated and user.is_active:  # type: ignore[attr-defined]
        return RoundAccess(feedback_round, seated=True, acknowledged=acknowledged)
    if Answer.objects.filter(round=feedback_round, author=user).exists():
        return RoundAccess(feedback_round, seated=False, acknowledged=acknowledged)
    return None


def criteria_outline(feedback_round: FeedbackRound) -> list[Criterion]:
    """The round's criteria in natural order, without their long texts (one query)."""
    return list(
        feedback_round.criteria.order_by("sort_key", "id").only(
            "pk", "reference", "title", "sort_key", "document_id", "organisation_id"
        )
    )


@dataclass(frozen=True)
class AnswerState:
    version: int
    submitted: bool
    response_published: bool

    @property
    def key(self) -> str:
        if self.response_published:
            return "responded"
        return "submitted" if self.submitted else "draft"


def answer_states(*, feedback_round: FeedbackRound, user: Any) -> dict[int, AnswerState]:
    """The state of each of the person's answers in the round, by criterion id (one query)."""
    rows = Answer.objects.filter(round=feedback_round, author=user).values_list(
        "criterion_id", "version", "submitted_at", "disposition__published_at"
    )
    return {
        criterion_id: AnswerState(version, submitted_at is not None, published_at is not None)
        for criterion_id, version, submitted_at, published_at in rows
    }


@dataclass(frozen=True)
class Progress:
    total: int
    answered: int
    submitted: int

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.total) if self.total else 0


def progress_of(total: int, states: dict[int, AnswerState]) -> Progress:
    return Progress(
        total=total,
        answered=len(states),
        submitted=sum(1 for state in states.values() if state.submitted),
    )


def my_answer(*, feedback_round: FeedbackRound, criterion: Criterion, user: Any) -> Answer | None:
    """The person's answer about one criterion with what the page shows of it (one query, three
    when it exists: its frameworks and objectives)."""
    return (
        Answer.objects.filter(round=feedback_round, criterion=criterion, author=user)
        .select_related("referred_to", "disposition")
        .prefetch_related("frameworks", "objectives")
        .first()
    )


def referral_groups(feedback_round: FeedbackRound) -> QuerySet[WorkingGroup]:
    """The groups a point may be referred to: the tenant's other active groups."""
    return (
        WorkingGroup.objects.filter(
            organisation_id=feedback_round.organisation_id, archived_at__isnull=True
        )
        .exclude(pk=feedback_round.group_id)
        .order_by("number", "name")
    )


@dataclass(frozen=True)
class AnswerChoices:
    """The rows of the answer form's lists, as ``frameworks``, ``objectives`` and
    ``referral_groups`` (every active group: the form leaves out the round's own)."""

    frameworks: list[Framework]
    objectives: list[RevisionObjective]
    groups: list[WorkingGroup]

    def referral_groups(self, feedback_round: FeedbackRound) -> list[WorkingGroup]:
        return [group for group in self.groups if group.pk != feedback_round.group_id]


def answer_choices(feedback_round: FeedbackRound) -> AnswerChoices:
    """The tenant's lists the answer form offers: read once, then from the cache until one of
    them changes (they are the same for every participant of the tenant)."""
    organisation_id = feedback_round.organisation_id
    return public_cached(
        organisation_id,
        "answer-choices",
        build=lambda: AnswerChoices(
            frameworks=list(Framework.objects.filter(organisation_id=organisation_id)),
            objectives=list(RevisionObjective.objects.filter(organisation_id=organisation_id)),
            groups=list(
                WorkingGroup.objects.filter(
                    organisation_id=organisation_id, archived_at__isnull=True
                ).order_by("number", "name")
            ),
        ),
    )


def open_round_of_group(*, group: WorkingGroup, user: Any) -> FeedbackRound | None:
    """The group's open round closing soonest, for the group page of one of its participants
    (one query)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return (
        FeedbackRound.objects.filter(open_rounds(), seat_held(user=user), group=group)
        .order_by("closes_at", "id")
        .first()
    )


# --- The navigation link ------------------------------------------------------------------------


def group_page_open_round(group: WorkingGroup, request: Any) -> dict[str, Any]:
    """The group page's note of the group's open round, for its participants (registered with
    ``groups.page``)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"feedback_open_round": open_round_of_group(group=group, user=user)}
