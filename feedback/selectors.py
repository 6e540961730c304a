"""Reads about feedback that several callers need, already scoped to the active tenant."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from asi_wg.choices import choice_labels
from asi_wg.models import Organisation
from feedback.models import Answer, Criterion, Disposition, DraftDocument, FeedbackRound, Framework
from groups.models import RevisionObjective, WorkingGroup
from meetings.selectors import seated_group_ids
from membership.models import Seat


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


# --- The secretariat's screens ----------------------------------------------------------------


@dataclass(frozen=True)
class RoundOverview:
    """One round on the secretariat's list, with its counts."""

    round: FeedbackRound
    state: str
    criteria: int
    participants: int  # people who answered at least one criterion
    answers: int
    submitted: int
    dispositions: int
    published: int

    @property
    def unpublished(self) -> int:
        return self.dispositions - self.published


def rounds_overview(
    *, organisation: Organisation, now: datetime.datetime | None = None
) -> list[RoundOverview]:
    """Every round of the tenant, latest opening first, with its counts: three queries however
    many rounds and answers (the counts are grouped in the database, not per round)."""
    now = now or timezone.now()
    rounds = list(
        FeedbackRound.objects.filter(organisation=organisation)
        .select_related("group", "document")
        .order_by("-opens_at", "id")
    )
    ids = [r.pk for r in rounds]
    if not ids:
        return []
    through = FeedbackRound.criteria.through
    criteria = {
        row["feedbackround_id"]: row["n"]
        for row in through.objects.filter(feedbackround_id__in=ids)
        .values("feedbackround_id")
        .annotate(n=Count("id"))
        .order_by()
    }
    counts = {
        row["round_id"]: row
        for row in Answer.objects.filter(round_id__in=ids)
        .values("round_id")
        .annotate(
            answers=Count("id"),
            participants=Count("author_id", distinct=True),
            submitted=Count("id", filter=Q(submitted_at__isnull=False)),
            dispositions=Count("disposition"),
            published=Count("disposition", filter=Q(disposition__published_at__isnull=False)),
        )
        .order_by()
    }
    overview = []
    for feedback_round in rounds:
        row = counts.get(feedback_round.pk, {})
        overview.append(
            RoundOverview(
                round=feedback_round,
                state=feedback_round.state(now),
                criteria=criteria.get(feedback_round.pk, 0),
                participants=row.get("participants", 0),
                answers=row.get("answers", 0),
                submitted=row.get("submitted", 0),
                dispositions=row.get("dispositions", 0),
                published=row.get("published", 0),
            )
        )
    return overview


# Filters of the triage page (their values as the GET parameters carry them).
REFERRAL_ELSEWHERE = "elsewhere"  # this group's comments referred to another group
REFERRAL_HERE = "here"  # other groups' comments referred to this group
REFERRAL_NONE = "none"
DISPOSITION_NONE = "none"
DISPOSITION_PUBLISHED = "published"
DISPOSITION_UNPUBLISHED = "unpublished"
STATE_DRAFT = "draft"
STATE_SUBMITTED = "submitted"


@dataclass(frozen=True)
class TriageFilters:
    comment_type: str = ""
    group: int | None = None  # the author's group (the group of the round answered in)
    objective: int | None = None
    scale: str = ""  # one of Answer.SCALES, with rating_min and/or rating_max
    rating_min: int | None = None
    rating_max: int | None = None
    referral: str = ""
    disposition: str = ""  # DISPOSITION_* or a Disposition.Status value
    state: str = ""

    def apply(self, answers: QuerySet[Answer], feedback_round: FeedbackRound) -> QuerySet[Answer]:
        if self.comment_type:
            answers = answers.filter(comment_type=self.comment_type)
        if self.group is not None:
            answers = answers.filter(round__group_id=self.group)
        if self.objective is not None:
            tagged = Answer.objectives.through.objects.filter(
                answer_id=OuterRef("pk"), revisionobjective_id=self.objective
            )
            answers = answers.filter(Exists(tagged))
        if self.scale in Answer.SCALES:
            if self.rating_min is not None:
                answers = answers.filter(**{f"{self.scale}__gte": self.rating_min})
            if self.rating_max is not None:
                answers = answers.filter(**{f"{self.scale}__lte": self.rating_max})
        if self.referral == REFERRAL_ELSEWHERE:
            answers = answers.filter(round=feedback_round, referred_to__isnull=False)
        elif self.referral == REFERRAL_HERE:
            answers = answers.exclude(round=feedback_round)
        elif self.referral == REFERRAL_NONE:
            answers = answers.filter(round=feedback_round, referred_to__isnull=True)
        if self.disposition == DISPOSITION_NONE:
            answers = answers.filter(disposition__isnull=True)
        elif self.disposition == DISPOSITION_PUBLISHED:
            answers = answers.filter(disposition__published_at__isnull=False)
        elif self.disposition == DISPOSITION_UNPUBLISHED:
            answers = answers.filter(
                disposition__isnull=False, disposition__published_at__isnull=True
            )
        elif self.disposition:
            answers = answers.filter(disposition__status=self.disposition)
        if self.state == STATE_DRAFT:
            answers = answers.filter(submitted_at__isnull=True)
        elif self.state == STATE_SUBMITTED:
            answers = answers.filter(submitted_at__isnull=False)
        return answers


def triage_answers(feedback_round: FeedbackRound) -> QuerySet[Answer]:
    """Every comment in a round's triage: the answers given in the round, and the answers about
    the same draft document that participants of other groups referred to the round's group."""
    return Answer.objects.filter(
        Q(round=feedback_round)
        | (
            Q(referred_to_id=feedback_round.group_id, round__document_id=feedback_round.document_id)
            & ~Q(round__group_id=feedback_round.group_id)
        )
    )


@dataclass(frozen=True)
class TriageItem:
    answer: Answer
    group: WorkingGroup  # the author's group: the group of the round they answered in
    represents: str  # the Member the author represents (or IPAF, technical expert)
    referred_from: WorkingGroup | None  # set when another group's participant referred it here
    # The labels of the answer's choices and of its disposition's status, looked up once per
    # page (a model's get_FOO_display rebuilds its choices on every call: 5 calls per comment).
    relevance_label: str = ""
    clarity_label: str = ""
    feasibility_label: str = ""
    comment_type_label: str = ""
    status_label: str = ""

    @property
    def disposition(self) -> Disposition | None:
        return getattr(self.answer, "disposition", None)

    @property
    def is_final(self) -> bool:
        disposition = self.disposition
        return disposition is not None and disposition.published_at is not None

    @property
    def changed_since_decided(self) -> bool:
        """Whether the commenter changed the comment after its (unpublished) disposition was
        written: while the round is open they still may, and the decision may no longer fit."""
        disposition = self.disposition
        return (
            disposition is not None
            and disposition.published_at is None
            and self.answer.updated_at > disposition.decided_at
        )


@dataclass
class TriageSection:
    criterion: Criterion
    items: list[TriageItem]


def _represents(answers: list[Answer]) -> dict[tuple[int, int], str]:
    """Whom each author represented in the group they answered for, from their seat there (the
    latest one, if they held several): one query for the whole page."""
    if not answers:
        return {}
    seats = (
        Seat.objects.filter(
            group_id__in={a.round.group_id for a in answers},
            holder_id__in={a.author_id for a in answers},
        )
        .select_related("member")
        .order_by("started_at", "id")
    )
    labels = {}
    for seat in seats:
        labels[(seat.holder_id, seat.group_id)] = (
            seat.member.name if seat.member is not None else str(seat.get_affiliation_display())
        )
    return labels


def triage_items(answers: list[Answer], feedback_round: FeedbackRound) -> list[TriageSection]:
    """The page's answers grouped by criterion in the order given, each with its author's group
    and Member. ``answers`` come from ``triage_page_answers``."""
    represents = _represents(answers)
    scale = choice_labels(Answer, "relevance")
    comment_types = choice_labels(Answer, "comment_type")
    statuses = choice_labels(Disposition, "status")
    sections: list[TriageSection] = []
    for answer in answers:
        group = answer.round.group
        disposition = getattr(answer, "disposition", None)
        item = TriageItem(
            answer=answer,
            group=group,
            represents=represents.get((answer.author_id, group.pk), ""),
            referred_from=group if answer.round_id != feedback_round.pk else None,
            relevance_label=scale[answer.relevance],
            clarity_label=scale[answer.clarity],
            feasibility_label=scale[answer.feasibility],
            comment_type_label=comment_types[answer.comment_type],
            status_label=statuses[disposition.status] if disposition else "",
        )
        if sections and sections[-1].criterion.pk == answer.criterion_id:
            sections[-1].items.append(item)
        else:
            sections.append(TriageSection(criterion=answer.criterion, items=[item]))
    return sections


def triage_page_answers(answers: QuerySet[Answer]) -> QuerySet[Answer]:
    """The triage's answers in natural order of their criteria with everything the page shows:
    a flat query and two prefetches however many answers. The frameworks and objectives come
    as plain lists (``framework_list``, ``objective_list``): the page reads each twice per
    comment, and a related manager per reading costs more than the reading."""
    return (
        answers.select_related("author", "criterion", "round__group", "referred_to", "disposition")
        .prefetch_related(
            Prefetch(
                "frameworks",
                queryset=Framework.objects.order_by("position", "name"),
                to_attr="framework_list",
            ),
            Prefetch(
                "objectives",
                queryset=RevisionObjective.objects.order_by("number"),
                to_attr="objective_list",
            ),
        )
        .order_by("criterion__sort_key", "criterion_id", "round__group__number", "id")
    )


def unpublished_dispositions(feedback_round: FeedbackRound) -> int:
    """How many dispositions of the round's own answers the next publication would publish."""
    return Disposition.objects.filter(
        answer__round=feedback_round, published_at__isnull=True
    ).count()


def tenant_group_round(
    *, organisation: Organisation, group_slug: str, document_pk: int
) -> FeedbackRound | None:
    """Any of the tenant's rounds of the group at ``group_slug`` on the document, with its group
    and document (the group summary's lookup: one query), or None when the group was not asked
    about that document."""
    feedback_round = (
        FeedbackRound.objects.filter(
            organisation=organisation, group__slug=group_slug, document_id=document_pk
        )
        .select_related("group", "document")
        .first()
    )
    if feedback_round is not None:
        feedback_round.organisation = feedback_round.group.organisation = organisation
        feedback_round.document.organisation = organisation
    return feedback_round


def tenant_round(*, organisation: Organisation, pk: int) -> FeedbackRound | None:
    """One of the tenant's rounds with its group and document (the staff and committee pages'
    lookup), or None when the tenant has no such round."""
    feedback_round = (
        FeedbackRound.objects.filter(organisation=organisation, pk=pk)
        .select_related("group", "document")
        .first()
    )
    if feedback_round is not None:
        feedback_round.organisation = organisation
    return feedback_round
