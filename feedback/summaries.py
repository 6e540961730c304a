"""What the Standards Committee reads: the summary of a round, of a group's rounds on a draft
document, or of every round on a document. Pure reads, in the active tenant's scope.

One ``Summary`` feeds every output (the committee's pages, the PDF, the exports), so that they
all say the same thing. Its rules:

- **Submitted answers only.** A draft is the participant's own work in progress; the committee
  sees what was submitted. Drafts count nowhere: not in the respondents, the ratings, the
  comments, the referrals or the annex.
- **Names only with consent.** A person's name appears (in a comment's attribution and in the
  annex) only when their ``ParticipantProfile.name_consent`` is true; otherwise only their
  Member (or IPAF, or technical expert's organisation), membership class and region. An e-mail
  address is never shown.
- **Attribution from the person's profile in the tenant** (the Member they represent now, its
  class and region; IPAF participants and experts by their affiliation and country).
- **Dispositions are shown to the committee whether published or not**, each saying which.
- **Criteria:** a round's summary covers the round's criteria; a group's summary the criteria
  of the group's rounds on the document; a document's summary every criterion of the document
  (so that criteria no round asked about show as such). Natural order of references.

Query count is independent of the number of answers: a fixed number of queries per summary
(tests in ``tests/feedback/test_summaries.py`` pin them).

``summary_fingerprint(kind, obj)`` is a stable sha256 of everything a summary shows, in four
small queries without building it: cache a generated file under it and build again only when
it changes. ``Summary.fingerprint`` holds the same value for the summary built.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from asi_wg.models import Organisation
from asi_wg.tenancy import same_organisation
from feedback.models import Answer, Criterion, Disposition, DraftDocument, FeedbackRound
from groups.models import WorkingGroup
from membership.models import ParticipantProfile
from membership.regions import REGIONS, UNKNOWN, region_for

KIND_ROUND = "round"
KIND_GROUP = "group"
KIND_DOCUMENT = "document"
KINDS = (KIND_ROUND, KIND_GROUP, KIND_DOCUMENT)

# Raise when what a summary shows changes shape, so that files cached under an old
# fingerprint are not served for the new layout.
SUMMARY_FORMAT = 1

SCALE_VALUES = (1, 2, 3, 4, 5)


# --- What a summary holds ---------------------------------------------------------------------


@dataclass(frozen=True)
class RoundInfo:
    pk: int
    title: str
    group_name: str
    group_slug: str
    opens_at: datetime.datetime
    closes_at: datetime.datetime  # when answers stopped (or stop): early closing included
    state: str  # FeedbackRound.State value
    state_label: str


@dataclass(frozen=True)
class Tally:
    """Respondents (distinct people) and submitted answers under one label."""

    label: str
    respondents: int
    answers: int


@dataclass(frozen=True)
class Distribution:
    """One scale's ratings of one criterion: counts for 1..5, "no view", and the mean of 1..5."""

    scale: str  # "relevance", "clarity", "feasibility"
    label: str
    counts: tuple[int, int, int, int, int]  # for 1, 2, 3, 4, 5
    no_view: int

    @property
    def rated(self) -> int:
        return sum(self.counts)

    @property
    def total(self) -> int:
        return self.rated + self.no_view

    @property
    def mean(self) -> float | None:
        if not self.rated:
            return None
        return round(
            sum(v * n for v, n in zip(SCALE_VALUES, self.counts, strict=True)) / self.rated, 2
        )

    @property
    def pairs(self) -> list[tuple[int, int]]:
        return list(zip(SCALE_VALUES, self.counts, strict=True))


@dataclass(frozen=True)
class FrameworkCount:
    name: str
    count: int


@dataclass(frozen=True)
class Attribution:
    organisation: str  # the Member, or the IPAF / the expert's organisation
    membership_class: str  # the Member's class, or the affiliation for IPAF and experts
    region: str
    person: str  # the person's name, "" unless they consented to its publication


@dataclass(frozen=True)
class DispositionInfo:
    status: str
    status_label: str
    response: str
    decided_at: datetime.datetime
    published_at: datetime.datetime | None

    @property
    def published(self) -> bool:
        return self.published_at is not None


@dataclass(frozen=True)
class Comment:
    pk: int  # the answer's id
    criterion_reference: str
    attribution: Attribution
    group_name: str  # the group of the round it was given in
    comment_type: str  # Answer.CommentType value or ""
    comment_type_label: str
    comment: str
    proposed_change: str
    risks_opportunities: str
    frameworks: tuple[str, ...]
    objectives: tuple[str, ...]
    referred_to: str  # the group's name, or ""
    disposition: DispositionInfo | None
    submitted_at: datetime.datetime | None


@dataclass(frozen=True)
class CriterionSummary:
    pk: int
    reference: str
    title: str
    text: str
    answers: int
    ratings: tuple[Distribution, ...]  # relevance, clarity, feasibility
    frameworks: tuple[FrameworkCount, ...]  # most cited first
    comments: tuple[Comment, ...]


@dataclass(frozen=True)
class Referral:
    from_group: str
    to_group: str
    count: int


@dataclass(frozen=True)
class Participation:
    """One line of the annex: an organisation (or category) and who took part for it."""

    organisation: str
    membership_class: str
    region: str
    respondents: int
    answers: int
    names: tuple[str, ...]  # only people who consented to their name being published


@dataclass(frozen=True)
class Summary:
    organisation: str
    organisation_slug: str
    kind: str  # KIND_ROUND, KIND_GROUP, KIND_DOCUMENT
    title: str
    document_label: str
    document_pk: int
    object_pk: int  # the round's or the document's id (the group's summary: the document's)
    group_slug: str  # the group's summary only
    rounds: tuple[RoundInfo, ...]
    fingerprint: str
    generated_at: datetime.datetime
    respondents: int
    answers: int
    comments: int
    by_group: tuple[Tally, ...]
    by_class: tuple[Tally, ...]
    by_region: tuple[Tally, ...]
    criteria: tuple[CriterionSummary, ...]
    frameworks: tuple[FrameworkCount, ...]  # over all criteria, most cited first
    referrals: tuple[Referral, ...]
    participation: tuple[Participation, ...]


# --- What a summary covers --------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    kind: str
    organisation_id: int
    document: DraftDocument
    group: WorkingGroup | None = None
    round: FeedbackRound | None = None

    def rounds(self) -> QuerySet[FeedbackRound]:
        rounds = FeedbackRound.objects.filter(
            organisation_id=self.organisation_id, document=self.document
        )
        if self.round is not None:
            rounds = rounds.filter(pk=self.round.pk)
        elif self.group is not None:
            rounds = rounds.filter(group=self.group)
        return rounds

    def answers(self) -> QuerySet[Answer]:
        """The submitted answers given in the rounds covered."""
        answers = Answer.objects.filter(
            organisation_id=self.organisation_id,
            round__document=self.document,
            submitted_at__isnull=False,
        )
        if self.round is not None:
            return answers.filter(round=self.round)
        if self.group is not None:
            return answers.filter(round__group=self.group)
        return answers

    def criteria(self) -> QuerySet[Criterion]:
        criteria = Criterion.objects.filter(
            organisation_id=self.organisation_id, document=self.document
        )
        if self.round is not None:
            criteria = criteria.filter(pk__in=self.round.criteria.values("pk"))
        elif self.group is not None:
            through = FeedbackRound.criteria.through
            criteria = criteria.filter(
                pk__in=through.objects.filter(
                    feedbackround__group=self.group, feedbackround__document=self.document
                ).values("criterion_id")
            )
        return criteria.order_by("sort_key", "id")

    def referral_answers(self) -> QuerySet[Answer]:
        """Submitted answers about the document referred from one group to another that touch
        what is covered: referred out of the rounds covered, or into the group covered."""
        answers = Answer.objects.filter(
            organisation_id=self.organisation_id,
            round__document=self.document,
            submitted_at__isnull=False,
            referred_to__isnull=False,
        )
        if self.round is not None:
            return answers.filter(
                Q(round=self.round)
                | (Q(referred_to_id=self.round.group_id) & ~Q(round__group_id=self.round.group_id))
            )
        if self.group is not None:
            return answers.filter(Q(round__group=self.group) | Q(referred_to=self.group))
        return answers


def _scope(kind: str, obj: Any) -> _Scope:
    if kind == KIND_ROUND:
        if not isinstance(obj, FeedbackRound):
            raise TypeError("a round's summary needs a FeedbackRound")
        same_organisation(obj.organisation_id, obj)
        return _Scope(kind, obj.organisation_id, obj.document, obj.group, obj)
    if kind == KIND_GROUP:
        group, document = obj
        if not isinstance(group, WorkingGroup) or not isinstance(document, DraftDocument):
            raise TypeError("a group's summary needs (WorkingGroup, DraftDocument)")
        same_organisation(document.organisation_id, group, document)
        return _Scope(kind, document.organisation_id, document, group)
    if kind == KIND_DOCUMENT:
        if not isinstance(obj, DraftDocument):
            raise TypeError("a document's summary needs a DraftDocument")
        same_organisation(obj.organisation_id, obj)
        return _Scope(kind, obj.organisation_id, obj)
    raise ValueError(f"unknown summary kind {kind!r}")


# --- The fingerprint --------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, Iterable) and not isinstance(value, str | bytes):
        return [_jsonable(v) for v in value]
    return value


def _people(scope: _Scope) -> QuerySet[ParticipantProfile]:
    return ParticipantProfile.objects.filter(
        organisation_id=scope.organisation_id,
        user_id__in=scope.answers().values("author_id"),
    )


class _Person(NamedTuple):
    """What a summary shows of a person who answered (the name only with their consent)."""

    user_id: int
    name_consent: bool
    name: str  # "" without consent
    affiliation: str
    member_name: str | None
    class_name: str | None
    class_position: int | None
    member_region: str | None
    expert_organisation: str
    country: str | None


@dataclass(frozen=True)
class _Fingerprint:
    """The fingerprint of a summary and the rows read to make it that the summary reuses."""

    digest: str
    rounds: list[tuple[Any, ...]]  # pk, title, group name, group slug, opens, closes, early
    criteria: list[tuple[Any, ...]]  # pk, reference, title, text (in the summary's order)
    people: list[_Person]


def summary_fingerprint(kind: str, obj: Any) -> str:
    """A sha256 (hex) of what the summary of ``obj`` shows, in four queries: the rounds, the
    criteria texts, the people's attribution and consent, and aggregates of the answers
    (count, versions, last change) and of their dispositions (decided, published). ``obj`` is a
    FeedbackRound, a (WorkingGroup, DraftDocument) pair or a DraftDocument, as ``kind`` says.

    Not covered (rare, and no service does them): renaming a framework, an objective, a
    membership class or the organisation itself."""
    return _fingerprint(_scope(kind, obj)).digest


@dataclass(frozen=True)
class SummaryVersion:
    """What a summary shown at a moment depends on: ``key`` is its fingerprint with the state
    of its rounds then (which changes with time alone, as a round opens or closes). Cache a
    rendered summary under it; ``summary_for(..., version=)`` builds without reading the
    fingerprint again."""

    key: str
    scope: _Scope
    fingerprint: _Fingerprint


def summary_version(kind: str, obj: Any, *, now: datetime.datetime | None = None) -> SummaryVersion:
    """The version of the summary of ``obj`` at ``now``, in the fingerprint's four queries."""
    scope = _scope(kind, obj)
    fingerprint = _fingerprint(scope)
    states = _states(fingerprint.rounds, now or timezone.now())
    return SummaryVersion(f"{fingerprint.digest}-{states}", scope, fingerprint)


def _states(rounds: list[tuple[Any, ...]], now: datetime.datetime) -> str:
    states = []
    for _pk, _title, _group, _slug, opens_at, closes_at, closed_early_at in rounds:
        if closed_early_at is not None or now >= closes_at:
            states.append("c")
        elif now < opens_at:
            states.append("s")
        else:
            states.append("o")
    return "".join(states)


def _fingerprint(scope: _Scope) -> _Fingerprint:
    rounds = list(
        scope.rounds()
        .order_by("pk")
        .values_list(
            "pk",
            "title",
            "group__name",
            "group__slug",
            "opens_at",
            "closes_at",
            "closed_early_at",
        )
    )
    criteria = list(scope.criteria().values_list("pk", "reference", "title", "text"))
    # A person's name is read (and goes into the hash) only with consent: the hash changes
    # when they give or withdraw it, and it carries nothing of a name that may not be shown.
    people = [
        _Person._make((*row[:2], row[2].strip() if row[1] else "", *row[3:]))
        for row in _people(scope)
        .order_by("user_id")
        .values_list(
            "user_id",
            "name_consent",
            "user__full_name",
            "affiliation",
            "member__name",
            "member__membership_class__name",
            "member__membership_class__position",
            "member__region",
            "expert_organisation",
            "country",
        )
    ]
    # The answers and their dispositions (one at most each) in one aggregate.
    totals = scope.answers().aggregate(
        n=Count("id"),
        ids=Sum("id"),
        versions=Sum("version"),
        changed=Max("updated_at"),
        submitted=Max("submitted_at"),
        d_n=Count("disposition"),
        d_ids=Sum("disposition__id"),
        d_decided=Max("disposition__decided_at"),
        d_published=Max("disposition__published_at"),
        d_n_published=Count("disposition", filter=Q(disposition__published_at__isnull=False)),
    )
    answers = {k: v for k, v in totals.items() if not k.startswith("d_")}
    dispositions = {k[2:]: v for k, v in totals.items() if k.startswith("d_")}
    payload = {
        "format": SUMMARY_FORMAT,
        "kind": scope.kind,
        "document": [scope.document.pk, scope.document.version_label],
        "group": scope.group.pk if scope.group is not None else None,
        "rounds": rounds,
        "criteria": criteria,
        "people": people,
        "answers": sorted(answers.items()),
        "dispositions": sorted(dispositions.items()),
    }
    encoded = json.dumps(_jsonable(payload), sort_keys=True, separators=(",", ":"))
    return _Fingerprint(hashlib.sha256(encoded.encode()).hexdigest(), rounds, criteria, people)


# --- Building a summary -----------------------------------------------------------------------


def summary_for_round(feedback_round: FeedbackRound) -> Summary:
    """The summary of one round: its criteria and the answers submitted in it."""
    return _build(_scope(KIND_ROUND, feedback_round))


def summary_for_group(group: WorkingGroup, document: DraftDocument) -> Summary:
    """The summary of every round of ``group`` on ``document``."""
    return _build(_scope(KIND_GROUP, (group, document)))


def summary_for_document(document: DraftDocument) -> Summary:
    """The summary of every round on ``document``, over all its criteria."""
    return _build(_scope(KIND_DOCUMENT, document))


def summary_for(
    kind: str,
    obj: Any,
    *,
    organisation: Organisation | None = None,
    version: SummaryVersion | None = None,
) -> Summary:
    """The summary of ``obj`` by kind (as ``summary_fingerprint`` takes them). ``organisation``
    (the tenant at hand) and ``version`` (just read by ``summary_version`` for the same
    object) save reading them again."""
    if version is not None:
        return _build(version.scope, organisation, version.fingerprint)
    return _build(_scope(kind, obj), organisation)


@dataclass(frozen=True)
class _CriterionRow:
    pk: int
    reference: str
    title: str
    text: str


_IPAF = "ipaf"
_EXPERT = "expert"


def _attribution(person: _Person | None) -> tuple[Attribution, int, str]:
    """The attribution of a person, and the sort position and key of their category."""
    if person is None:
        unknown = _("Unknown")
        return Attribution(unknown, unknown, UNKNOWN, ""), 10_000, unknown
    name = person.name if person.name_consent else ""
    if (
        person.affiliation == ParticipantProfile.Affiliation.MEMBER
        and person.member_name is not None
    ):
        klass = person.class_name or ""
        return (
            Attribution(person.member_name, klass, person.member_region or UNKNOWN, name),
            person.class_position or 0,
            klass,
        )
    region = region_for(str(person.country) if person.country else None)
    if person.affiliation == _IPAF:
        label = _("Indigenous Peoples Advisory Forum")
        return Attribution(label, label, region, name), 9_000, label
    category = _("Technical expert")
    organisation = person.expert_organisation.strip() or category
    return Attribution(organisation, category, region, name), 9_001, category


def _region_order(region: str) -> tuple[int, str]:
    return (REGIONS.index(region) if region in REGIONS else len(REGIONS), region)


def _tallies(
    rows: Sequence[tuple[int, Any]], order: dict[Any, Any], labels: dict[Any, str]
) -> tuple[Tally, ...]:
    """(author, key) per answer → one Tally per key, in ``order``."""
    people: dict[Any, set[int]] = defaultdict(set)
    answers: Counter[Any] = Counter()
    for author, key in rows:
        people[key].add(author)
        answers[key] += 1
    return tuple(
        Tally(labels[key], len(people[key]), answers[key])
        for key in sorted(answers, key=lambda k: order[k])
    )


def _build(
    scope: _Scope,
    organisation: Organisation | None = None,
    fingerprint: _Fingerprint | None = None,
) -> Summary:
    # The fingerprint's rounds and criteria are the summary's: read once.
    if fingerprint is None:
        fingerprint = _fingerprint(scope)
    if organisation is None or organisation.pk != scope.organisation_id:
        organisation = Organisation.objects.get(pk=scope.organisation_id)
    now = timezone.now()

    round_infos = []
    for pk, title, group_name, group_slug, opens_at, closes_at, closed_early_at in sorted(
        fingerprint.rounds, key=lambda row: (row[4], row[0])
    ):
        state = FeedbackRound(
            opens_at=opens_at, closes_at=closes_at, closed_early_at=closed_early_at
        ).state(now)
        round_infos.append(
            RoundInfo(
                pk=pk,
                title=title,
                group_name=group_name,
                group_slug=group_slug,
                opens_at=opens_at,
                closes_at=closed_early_at or closes_at,
                state=state,
                state_label=str(FeedbackRound.State(state).label),
            )
        )
    criteria = [
        _CriterionRow(pk, reference, title, text)
        for pk, reference, title, text in fingerprint.criteria
    ]

    # Attribution of every person who submitted an answer: read with the fingerprint.
    attributions: dict[int, Attribution] = {}
    class_order: dict[str, tuple[int, str]] = {}
    for person in fingerprint.people:
        attribution, position, key = _attribution(person)
        attributions[person.user_id] = attribution
        class_order[attribution.membership_class] = (position, key)
    fallback, fallback_position, fallback_key = _attribution(None)

    def attribution_of(user_id: int) -> Attribution:
        if user_id not in attributions:
            class_order[fallback.membership_class] = (fallback_position, fallback_key)
            return fallback
        return attributions[user_id]

    # Counts and ratings per criterion: one flat query of (author, group, criterion, ratings)
    # per answer, counted here.
    answer_rows = list(
        scope.answers().values_list(
            "author_id",
            "round__group__number",
            "round__group__name",
            "criterion_id",
            *Answer.SCALES,
        )
    )
    rows = [row[:3] for row in answer_rows]
    respondents = len({author for author, _number, _name in rows})
    group_keys = {(number, name) for _a, number, name in rows}
    by_group = _tallies(
        [(author, (number, name)) for author, number, name in rows],
        {key: key for key in group_keys},
        {key: key[1] for key in group_keys},
    )
    by_class = _tallies(
        [(author, attribution_of(author).membership_class) for author, _n, _g in rows],
        class_order,
        {label: label for label in class_order},
    )
    region_rows = [(author, attribution_of(author).region) for author, _n, _g in rows]
    by_region = _tallies(
        region_rows,
        {region: _region_order(region) for _a, region in region_rows},
        {region: region for _a, region in region_rows},
    )

    ratings: dict[int, Counter[str]] = defaultdict(Counter)
    for answer_row in answer_rows:
        counts = ratings[answer_row[3]]
        counts["n"] += 1
        for scale, value in zip(Answer.SCALES, answer_row[4:], strict=True):
            if value is not None:
                counts[f"{scale}_{value}"] += 1
    scale_labels = {
        "relevance": _("Relevance"),
        "clarity": _("Clarity"),
        "feasibility": _("Feasibility of implementation"),
    }

    # Frameworks cited, per criterion and per answer: one flat query.
    cited: dict[int, Counter[str]] = defaultdict(Counter)
    frameworks_of: dict[int, list[str]] = defaultdict(list)
    for answer_id, criterion_id, name in (
        Answer.frameworks.through.objects.filter(answer__in=scope.answers())
        .order_by("framework__position", "framework__name", "framework_id")
        .values_list("answer_id", "answer__criterion_id", "framework__name")
    ):
        cited[criterion_id][name] += 1
        frameworks_of[answer_id].append(name)

    with_words = scope.answers().filter(
        ~Q(comment="") | ~Q(proposed_change="") | ~Q(risks_opportunities="")
    )
    # The comments: one flat query, and one for their objectives (read as plain values: a few
    # hundred comments build in milliseconds, not model instances).
    comment_rows = list(
        with_words.order_by(
            "criterion__sort_key", "criterion_id", "round__group__number", "submitted_at", "id"
        ).values(
            "id",
            "criterion_id",
            "criterion__reference",
            "author_id",
            "round__group__name",
            "comment_type",
            "comment",
            "proposed_change",
            "risks_opportunities",
            "referred_to__name",
            "submitted_at",
            "disposition__id",
            "disposition__status",
            "disposition__response",
            "disposition__decided_at",
            "disposition__published_at",
        )
    )
    objectives_of: dict[int, list[str]] = defaultdict(list)
    for answer_id, number, objective_title in (
        Answer.objectives.through.objects.filter(answer__in=with_words)
        .order_by("revisionobjective__number", "revisionobjective_id")
        .values_list("answer_id", "revisionobjective__number", "revisionobjective__title")
    ):
        objectives_of[answer_id].append(f"{number}. {objective_title}")
    type_labels = {value: str(label) for value, label in Answer.CommentType.choices}
    status_labels = {value: str(label) for value, label in Disposition.Status.choices}
    comments: dict[int, list[Comment]] = defaultdict(list)
    for comment_row in comment_rows:
        comments[comment_row["criterion_id"]].append(
            Comment(
                pk=comment_row["id"],
                criterion_reference=comment_row["criterion__reference"],
                attribution=attribution_of(comment_row["author_id"]),
                group_name=comment_row["round__group__name"],
                comment_type=comment_row["comment_type"],
                comment_type_label=type_labels.get(comment_row["comment_type"], ""),
                comment=comment_row["comment"],
                proposed_change=comment_row["proposed_change"],
                risks_opportunities=comment_row["risks_opportunities"],
                frameworks=tuple(frameworks_of.get(comment_row["id"], ())),
                objectives=tuple(objectives_of.get(comment_row["id"], ())),
                referred_to=comment_row["referred_to__name"] or "",
                disposition=DispositionInfo(
                    status=comment_row["disposition__status"],
                    status_label=status_labels.get(comment_row["disposition__status"], ""),
                    response=comment_row["disposition__response"],
                    decided_at=comment_row["disposition__decided_at"],
                    published_at=comment_row["disposition__published_at"],
                )
                if comment_row["disposition__id"] is not None
                else None,
                submitted_at=comment_row["submitted_at"],
            )
        )

    def most_cited(counter: Counter[str]) -> tuple[FrameworkCount, ...]:
        return tuple(
            FrameworkCount(name, n)
            for name, n in sorted(counter.items(), key=lambda item: (-item[1], item[0]))
        )

    criterion_summaries = []
    all_cited: Counter[str] = Counter()
    for criterion in criteria:
        row = ratings.get(criterion.pk, Counter())
        all_cited.update(cited.get(criterion.pk, Counter()))
        criterion_summaries.append(
            CriterionSummary(
                pk=criterion.pk,
                reference=criterion.reference,
                title=criterion.title,
                text=criterion.text,
                answers=row["n"],
                ratings=tuple(
                    Distribution(
                        scale=scale,
                        label=scale_labels[scale],
                        counts=tuple(row[f"{scale}_{v}"] for v in SCALE_VALUES),  # type: ignore[arg-type]
                        no_view=row[f"{scale}_0"],
                    )
                    for scale in Answer.SCALES
                ),
                frameworks=most_cited(cited.get(criterion.pk, Counter())),
                comments=tuple(comments.get(criterion.pk, [])),
            )
        )

    # Referrals between groups: one grouped query.
    referrals = tuple(
        Referral(row["round__group__name"], row["referred_to__name"], row["n"])
        for row in scope.referral_answers()
        .values(
            "round__group__number", "round__group__name", "referred_to__number", "referred_to__name"
        )
        .annotate(n=Count("id"))
        .order_by("round__group__number", "referred_to__number")
    )

    # The annex: participation by organisation.
    annex_people: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    annex_answers: Counter[tuple[str, str, str]] = Counter()
    annex_names: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for author, _number, _name in rows:
        attribution = attribution_of(author)
        annex_key = (attribution.membership_class, attribution.organisation, attribution.region)
        annex_people[annex_key].add(author)
        annex_answers[annex_key] += 1
        if attribution.person:
            annex_names[annex_key].add(attribution.person)
    participation = tuple(
        Participation(
            organisation=organisation_name,
            membership_class=klass,
            region=region,
            respondents=len(annex_people[(klass, organisation_name, region)]),
            answers=annex_answers[(klass, organisation_name, region)],
            names=tuple(sorted(annex_names[(klass, organisation_name, region)])),
        )
        for klass, organisation_name, region in sorted(
            annex_answers,
            key=lambda k: (class_order.get(k[0], (0, k[0])), k[1].lower(), k[2]),
        )
    )

    if scope.kind == KIND_ROUND:
        assert scope.round is not None
        title = scope.round.title
    elif scope.kind == KIND_GROUP:
        assert scope.group is not None
        title = f"{scope.group.name}: {scope.document.version_label}"
    else:
        title = scope.document.version_label

    return Summary(
        organisation=organisation.name,
        organisation_slug=organisation.slug,
        kind=scope.kind,
        title=title,
        document_label=scope.document.version_label,
        document_pk=scope.document.pk,
        object_pk=scope.round.pk if scope.round is not None else scope.document.pk,
        group_slug=scope.group.slug if scope.group is not None and scope.kind == KIND_GROUP else "",
        rounds=tuple(round_infos),
        fingerprint=fingerprint.digest,
        generated_at=now,
        respondents=respondents,
        answers=len(rows),
        comments=sum(len(c.comments) for c in criterion_summaries),
        by_group=by_group,
        by_class=by_class,
        by_region=by_region,
        criteria=tuple(criterion_summaries),
        frameworks=most_cited(all_cited),
        referrals=referrals,
        participation=participation,
    )


# --- The committee's list of summaries --------------------------------------------------------


@dataclass(frozen=True)
class RoundRow:
    """One round on the committee's list, with what was submitted in it."""

    round: FeedbackRound  # with its group and document
    state: str
    criteria: int
    respondents: int
    answers: int  # submitted
    comments: int  # submitted answers with words
    dispositions: int
    published: int


@dataclass(frozen=True)
class DocumentRow:
    """A draft document with the groups that were asked about it (one summary each)."""

    document: DraftDocument
    groups: tuple[WorkingGroup, ...]
    rounds: int


@dataclass(frozen=True)
class SummaryIndex:
    rounds: tuple[RoundRow, ...]
    documents: tuple[DocumentRow, ...]


def summary_index(
    *, organisation: Organisation, now: datetime.datetime | None = None
) -> SummaryIndex:
    """Every round of the tenant (latest opening first) with its submitted counts, and every
    document asked about with its groups: three queries however many rounds and answers."""
    now = now or timezone.now()
    rounds = list(
        FeedbackRound.objects.filter(organisation=organisation)
        .select_related("group", "document")
        .order_by("-opens_at", "id")
    )
    if not rounds:
        return SummaryIndex((), ())
    ids = [r.pk for r in rounds]
    through = FeedbackRound.criteria.through
    criteria = {
        row["feedbackround_id"]: row["n"]
        for row in through.objects.filter(feedbackround_id__in=ids)
        .values("feedbackround_id")
        .annotate(n=Count("id"))
        .order_by()
    }
    with_words = ~Q(comment="") | ~Q(proposed_change="") | ~Q(risks_opportunities="")
    counts = {
        row["round_id"]: row
        for row in Answer.objects.filter(
            organisation=organisation, round_id__in=ids, submitted_at__isnull=False
        )
        .values("round_id")
        .annotate(
            answers=Count("id"),
            respondents=Count("author_id", distinct=True),
            comments=Count("id", filter=with_words),
            dispositions=Count("disposition"),
            published=Count("disposition", filter=Q(disposition__published_at__isnull=False)),
        )
        .order_by()
    }
    rows = []
    documents: dict[int, DraftDocument] = {}
    groups: dict[int, dict[int, WorkingGroup]] = defaultdict(dict)
    round_counts: Counter[int] = Counter()
    for feedback_round in rounds:
        row = counts.get(feedback_round.pk, {})
        rows.append(
            RoundRow(
                round=feedback_round,
                state=feedback_round.state(now),
                criteria=criteria.get(feedback_round.pk, 0),
                respondents=row.get("respondents", 0),
                answers=row.get("answers", 0),
                comments=row.get("comments", 0),
                dispositions=row.get("dispositions", 0),
                published=row.get("published", 0),
            )
        )
        documents[feedback_round.document_id] = feedback_round.document
        groups[feedback_round.document_id][feedback_round.group_id] = feedback_round.group
        round_counts[feedback_round.document_id] += 1
    return SummaryIndex(
        rounds=tuple(rows),
        documents=tuple(
            DocumentRow(
                document=document,
                groups=tuple(sorted(groups[pk].values(), key=lambda g: (g.number, g.name))),
                rounds=round_counts[pk],
            )
            for pk, document in documents.items()
        ),
    )
