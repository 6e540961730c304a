"""The selection workbench's view model: one group read from the database in a constant number
of queries, turned into the method's plain data, and laid out for the page (seats and offers
held, every applicant with their rule results and reason, the waiting list, the diversity
charts).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db.models import Prefetch

from asi_wg.choices import choice_labels
from groups.models import FocusArea, WorkingGroup
from membership import regions
from membership.models import (
    Application,
    Member,
    Offer,
    ParticipantProfile,
    Seat,
    ValueChainSegment,
)
from membership.rules import (
    ALREADY_SEATED,
    CAP,
    ELIGIBLE,
    MEMBER_GROUP_LIMIT,
    ONE_PER_MEMBER,
    Check,
    eligibility,
)
from membership.selection.explanations import _
from membership.selection.method import propose_slate
from membership.selection.slate import (
    EXPERT,
    FOCUS,
    IPAF,
    NOT_APPLICABLE,
    OFFER,
    PERSPECTIVE,
    PERSPECTIVE_LABELS,
    REGION,
    SEGMENT,
    SIZE,
    SIZE_LABELS,
    Candidate,
    Holder,
    NotProposed,
    Proposal,
    SelectionInput,
    Slate,
    Traits,
)
from membership.selection.verification import current_checks

RULE_LABELS: dict[str, str] = {
    ELIGIBLE: "Eligibility",
    ALREADY_SEATED: "Seated once",
    CAP: "Cap",
    ONE_PER_MEMBER: "One per Member",
    MEMBER_GROUP_LIMIT: "Groups per Member",
}


def waiting_positions(candidates: Iterable[Candidate]) -> dict[int, int]:
    """1-based places on the waiting list (as ``services.waiting_position`` counts them)."""
    waiting = sorted(
        (c for c in candidates if c.status == Application.Status.WAITING.value),
        key=lambda c: c.waiting_key,
    )
    return {c.application_id: n for n, c in enumerate(waiting, start=1)}


@dataclass(frozen=True)
class DimensionRow:
    label: str
    current: int
    proposed: int


@dataclass(frozen=True)
class Dimension:
    key: str
    title: str
    rows: tuple[DimensionRow, ...]


def diversity(data: SelectionInput, slate: Slate) -> list[Dimension]:
    """Counts per region, segment, size band, perspective and focus area: the people holding a
    seat or an offer now, and the same with the proposed slate seated."""
    by_id = {c.application_id: c for c in data.candidates}
    current = [h.traits for h in data.holders]
    proposed = current + [by_id[i].traits for i in slate.application_ids]

    def tally(people: list[Traits], key: Any) -> Counter[Any]:
        counter: Counter[Any] = Counter()
        for traits in people:
            values = key(traits)
            counter.update(values if isinstance(values, list | tuple | frozenset) else [values])
        return counter

    def dimension(key: str, title: str, getter: Any, order: Sequence[tuple[Any, str]]) -> Dimension:
        now, then = tally(current, getter), tally(proposed, getter)
        known = [value for value, _label in order]
        extra = sorted((v for v in {*now, *then} if v not in known), key=str)
        labels = dict(order)
        rows = tuple(
            DimensionRow(str(labels.get(v, v)), now[v], then[v])
            for v in [*known, *extra]
            if v in labels or now[v] or then[v]
        )
        return Dimension(key, title, rows)

    region_order = [(r, r) for r in regions.REGIONS]
    segments = [(name, name) for name in data.segment_names]
    return [
        dimension(REGION, _("Region"), lambda t: t.region, region_order),
        dimension(SEGMENT, _("Value-chain segment"), lambda t: t.segments, segments),
        dimension(SIZE, _("Company size"), lambda t: t.size_band, list(SIZE_LABELS.items())),
        dimension(
            PERSPECTIVE, _("Perspective"), lambda t: t.perspective, list(PERSPECTIVE_LABELS.items())
        ),
        dimension(FOCUS, _("Focus areas covered"), lambda t: t.focus_areas, list(data.focus_areas)),
    ]


# --- Reading a group from the database --------------------------------------------------------


def _traits(
    profile: ParticipantProfile,
    member: Member | None,
    segments: Mapping[int, tuple[str, ...]],
    focus_areas: Iterable[int],
) -> Traits:
    # A Member's representative brings the Member's traits (its region is the Member's
    # country's); IPAF participants and experts bring their own country and their affiliation.
    if profile.affiliation == ParticipantProfile.Affiliation.MEMBER and member is not None:
        return Traits(
            region=member.region or regions.UNKNOWN,
            perspective=member.perspective,
            segments=segments.get(member.pk, ()),
            size_band=member.size_band,
            focus_areas=frozenset(focus_areas),
        )
    perspective = IPAF if profile.affiliation == ParticipantProfile.Affiliation.IPAF else EXPERT
    return Traits(
        region=regions.region_for(str(profile.country) if profile.country else None),
        perspective=perspective,
        segments=(),
        size_band=NOT_APPLICABLE,
        focus_areas=frozenset(focus_areas),
    )


def _member_traits(member: Member, segments: Mapping[int, tuple[str, ...]]) -> Traits:
    return Traits(
        region=member.region or regions.UNKNOWN,
        perspective=member.perspective,
        segments=segments.get(member.pk, ()),
        size_band=member.size_band,
    )


@dataclass(frozen=True)
class Badge:
    """One rule's result, short for the eye (``label``, ``state``) and in full for everyone."""

    label: str
    state: str  # "ok", "override" (blocks unless overridden with a reason) or "block"
    message: str

    @property
    def verdict(self) -> str:
        if self.state == "ok":
            return _("allows")
        if self.state == "override":
            return _("blocks unless staff override it with a written reason")
        return _("blocks")


def badges(checks: Iterable[Check]) -> list[Badge]:
    return [
        Badge(
            label=RULE_LABELS.get(check.rule, check.rule),
            state="ok" if check.allowed else ("override" if check.overridable else "block"),
            message=check.message,
        )
        for check in checks
    ]


@dataclass
class ApplicantRow:
    application: Application
    candidate: Candidate
    checks: list[Check]
    proposal: Proposal | None
    not_proposed: NotProposed | None
    waiting_position: int | None
    other_groups: list[str]
    offered_groups: list[str] = field(default_factory=list)
    """Other groups in which the Member holds an open offer (listed apart from its seats)."""
    status_label: str = ""
    affiliation_label: str = ""  # the applicant's affiliation

    @property
    def key(self) -> str:
        """The application's id as text: the page's markup reads it several times per row, and
        a number is localised at each reading."""
        return str(self.application.pk)

    @property
    def in_pool(self) -> bool:
        return self.candidate.status in Application.POOL

    @property
    def needs_override(self) -> bool:
        refused = [c for c in self.checks if c.blocks]
        return bool(refused) and all(c.overridable for c in refused)

    @property
    def badges(self) -> list[Badge]:
        return badges(self.checks)


@dataclass
class HolderRow:
    seat: Seat | None
    offer: Offer | None
    application: Application | None
    traits: Traits
    affiliation_label: str = ""  # the seat's affiliation, or the offer's applicant's

    @property
    def key(self) -> str:
        """The seat's id as text (see ``ApplicantRow.key``)."""
        return str(self.seat.pk) if self.seat is not None else ""


@dataclass
class Workbench:
    group: WorkingGroup
    data: SelectionInput
    slate: Slate
    seats: list[HolderRow]
    offers: list[HolderRow]
    rows: list[ApplicantRow]
    dimensions: list[Dimension]
    focus_areas: list[FocusArea]

    # Read several times by the page: worked out once.
    @cached_property
    def waiting_rows(self) -> list[ApplicantRow]:
        return sorted(
            (r for r in self.rows if r.waiting_position is not None),
            key=lambda r: r.waiting_position or 0,
        )

    @cached_property
    def proposed_rows(self) -> list[ApplicantRow]:
        by_id = {row.application.pk: row for row in self.rows}
        return [by_id[i] for i in self.slate.application_ids]

    @property
    def pool_size(self) -> int:
        return len(self.data.pool)

    @property
    def free(self) -> int:
        return self.slate.free_at_start

    @property
    def oversubscribed(self) -> bool:
        """As the rules count it: more eligible people in the pool than seats free."""
        return sum(c.eligible for c in self.data.pool) > self.free


def workbench_for_group(group: WorkingGroup) -> Workbench:
    """Everything the selection workbench shows for one group, in a constant number of queries
    (group focus areas, applications with their focus areas, seats, open offers, segments of
    the Members involved, the tenant's segments, the Members' seats and open offers in other
    groups)."""
    rows = _read_group(group)
    seat_rows, offer_rows = _seat_rows(rows), _offer_rows(rows)
    data = _selection_input(group, rows, seat_rows, offer_rows)
    slate = propose_slate(data)
    return Workbench(
        group=group,
        data=data,
        slate=slate,
        seats=seat_rows,
        offers=offer_rows,
        rows=_applicant_rows(rows, data, slate),
        dimensions=diversity(data, slate),
        focus_areas=rows.focus_areas,
    )


@dataclass(frozen=True)
class _GroupRows:
    """One group's rows, read once, and the traits of its applicants."""

    focus_areas: list[FocusArea]
    applications: dict[int, Application]
    """The group's applications that staff may act on, are offered a seat or hold one, by id,
    in waiting-list order."""
    seats: list[Seat]
    offers: list[Offer]
    segments: Mapping[int, tuple[str, ...]]
    """Per Member id, its value-chain segments in the tenant's order."""
    seated_elsewhere: Mapping[int, Mapping[int, str]]
    """Per Member id, the other groups (id: name) in which it holds a seat."""
    offered_elsewhere: Mapping[int, Mapping[int, str]]
    """Per Member id, the other groups in which it holds an open offer."""
    segment_names: tuple[str, ...]

    def traits_of(self, application: Application) -> Traits:
        return _traits(
            application.profile,
            application.profile.member,
            self.segments,
            (area.pk for area in application.chosen_focus_areas),  # type: ignore[attr-defined]
        )


def _read_group(group: WorkingGroup) -> _GroupRows:
    """The queries: the group's own rows, then what its Members hold elsewhere."""
    focus_areas = _ordered_focus_areas(list(FocusArea.objects.filter(group=group)))
    applications = list(
        Application.objects.filter(
            group=group,
            status__in=Application.ACTIONABLE
            | {Application.Status.OFFERED, Application.Status.SEATED},
        )
        .select_related("applicant", "profile__member__membership_class")
        # A plain list on each application: a related manager per reading costs more than the
        # reading (the page reads them twice per row).
        .prefetch_related(Prefetch("focus_areas", to_attr="chosen_focus_areas"))
        .order_by("-priority", "applied_at", "id")
    )
    seats = list(
        Seat.objects.filter(group=group, ended_at__isnull=True)
        .select_related("holder", "member")
        .order_by("started_at", "id")
    )
    offers = list(
        Offer.objects.filter(group=group, status=Offer.Status.OPEN).order_by("offered_at", "id")
    )
    member_ids = {a.profile.member_id for a in applications if a.profile.member_id} | {
        s.member_id for s in seats if s.member_id
    }
    return _GroupRows(
        focus_areas=focus_areas,
        applications={application.pk: application for application in applications},
        seats=seats,
        offers=offers,
        segments=_member_segments(member_ids),
        seated_elsewhere=_seated_elsewhere(group, member_ids),
        offered_elsewhere=_offered_elsewhere(group, member_ids),
        segment_names=tuple(
            ValueChainSegment.objects.filter(organisation=group.organisation).values_list(
                "name", flat=True
            )
        ),
    )


def _member_segments(member_ids: set[int]) -> dict[int, tuple[str, ...]]:
    segments: dict[int, list[str]] = defaultdict(list)
    through = Member.segments.through
    for member_id, name in (
        through.objects.filter(member_id__in=member_ids)
        .order_by("valuechainsegment__position", "valuechainsegment__name")
        .values_list("member_id", "valuechainsegment__name")
    ):
        segments[member_id].append(name)
    return {member_id: tuple(names) for member_id, names in segments.items()}


def _seated_elsewhere(group: WorkingGroup, member_ids: set[int]) -> dict[int, dict[int, str]]:
    elsewhere: dict[int, dict[int, str]] = defaultdict(dict)
    for member_id, group_id, group_name in (
        Seat.objects.filter(member_id__in=member_ids, ended_at__isnull=True)
        .exclude(group=group)
        .order_by()
        .values_list("member_id", "group_id", "group__name")
        .distinct()
    ):
        elsewhere[member_id][group_id] = group_name
    return elsewhere


def _offered_elsewhere(group: WorkingGroup, member_ids: set[int]) -> dict[int, dict[int, str]]:
    # An open offer in another group counts for the group limit too: it may yet be accepted.
    offered: dict[int, dict[int, str]] = defaultdict(dict)
    for member_id, group_id, group_name in (
        Offer.objects.filter(
            application__profile__member_id__in=member_ids, status=Offer.Status.OPEN
        )
        .exclude(group=group)
        .order_by()
        .values_list("application__profile__member_id", "group_id", "group__name")
        .distinct()
    ):
        offered[member_id][group_id] = group_name
    return offered


def _seat_rows(rows: _GroupRows) -> list[HolderRow]:
    affiliations = choice_labels(Seat, "affiliation")
    seat_rows = []
    for seat in rows.seats:
        application = rows.applications.get(seat.application_id) if seat.application_id else None
        if application is not None:
            traits = rows.traits_of(application)
        elif seat.member is not None:
            traits = _member_traits(seat.member, rows.segments)
        else:
            traits = Traits(perspective=IPAF if seat.affiliation == IPAF else EXPERT)
        seat_rows.append(
            HolderRow(
                seat=seat,
                offer=None,
                application=application,
                traits=traits,
                affiliation_label=affiliations[seat.affiliation],
            )
        )
    return seat_rows


def _offer_rows(rows: _GroupRows) -> list[HolderRow]:
    affiliations = choice_labels(ParticipantProfile, "affiliation")
    offer_rows = []
    for offer in rows.offers:
        application = rows.applications[offer.application_id]
        offer.application = application
        offer_rows.append(
            HolderRow(
                seat=None,
                offer=offer,
                application=application,
                traits=rows.traits_of(application),
                affiliation_label=affiliations[application.profile.affiliation],
            )
        )
    return offer_rows


def _selection_input(
    group: WorkingGroup,
    rows: _GroupRows,
    seat_rows: list[HolderRow],
    offer_rows: list[HolderRow],
) -> SelectionInput:
    """The method's plain data: the seats and offers held, and the applications staff may act
    on."""
    holders = [
        Holder(person_id=row.seat.holder_id, member_id=row.seat.member_id, traits=row.traits)
        for row in seat_rows
        if row.seat is not None
    ] + [
        Holder(
            person_id=row.application.applicant_id,
            member_id=row.application.profile.member_id,
            traits=row.traits,
            kind=OFFER,
        )
        for row in offer_rows
        if row.application is not None
    ]
    candidates = [
        _candidate(application, rows.traits_of(application))
        for application in rows.applications.values()
        if application.status in Application.ACTIONABLE
    ]
    elsewhere, offered = rows.seated_elsewhere, rows.offered_elsewhere
    return SelectionInput(
        group_id=group.pk,
        seat_cap=group.seat_cap,
        member_group_limit=group.organisation.member_group_limit,
        focus_areas=tuple((area.pk, area.title) for area in rows.focus_areas),
        holders=tuple(holders),
        candidates=tuple(candidates),
        member_groups_elsewhere={
            m: frozenset(elsewhere.get(m, {})) | frozenset(offered.get(m, {}))
            for m in elsewhere.keys() | offered.keys()
        },
        segment_names=rows.segment_names,
    )


def _candidate(application: Application, traits: Traits) -> Candidate:
    profile = application.profile
    member = profile.member
    check = eligibility(profile)
    return Candidate(
        application_id=application.pk,
        person_id=application.applicant_id,
        member_id=profile.member_id,
        member_name=member.name if member is not None else "",
        member_rep=profile.affiliation == ParticipantProfile.Affiliation.MEMBER
        and member is not None,
        eligible=check.allowed,
        eligibility_message=check.message,
        traits=traits,
        priority=application.priority,
        applied_at=application.applied_at,
        status=application.status,
    )


def _applicant_rows(rows: _GroupRows, data: SelectionInput, slate: Slate) -> list[ApplicantRow]:
    """A row per applicant staff may act on: the pool first (waiting-list order), then the
    applications staff may still reconsider."""
    checks = current_checks(data)
    positions = waiting_positions(data.candidates)
    proposals = {p.application_id: p for p in slate.proposals}
    left = {n.application_id: n for n in slate.not_proposed}

    def groups(by_member: Mapping[int, Mapping[int, str]], member_id: int | None) -> list[str]:
        return sorted(by_member.get(member_id, {}).values()) if member_id else []

    statuses = choice_labels(Application, "status")
    affiliations = choice_labels(ParticipantProfile, "affiliation")
    applicant_rows = [
        ApplicantRow(
            application=(application := rows.applications[c.application_id]),
            candidate=c,
            checks=checks[c.application_id],
            proposal=proposals.get(c.application_id),
            not_proposed=left.get(c.application_id),
            waiting_position=positions.get(c.application_id),
            other_groups=groups(rows.seated_elsewhere, c.member_id),
            offered_groups=groups(rows.offered_elsewhere, c.member_id),
            status_label=statuses[application.status],
            affiliation_label=affiliations[application.profile.affiliation],
        )
        for c in data.candidates
    ]
    applicant_rows.sort(key=lambda r: (not r.in_pool, r.candidate.waiting_key))
    return applicant_rows


def _ordered_focus_areas(areas: list[FocusArea]) -> list[FocusArea]:
    """Top-level areas in order, each followed by its sub-items."""
    children: dict[int, list[FocusArea]] = defaultdict(list)
    top = []
    for area in sorted(areas, key=lambda a: (a.position, a.pk)):
        if area.parent_id is None:
            top.append(area)
        else:
            children[area.parent_id].append(area)
    ordered = []
    for area in top:
        ordered.append(area)
        ordered.extend(children.pop(area.pk, []))
    for orphans in children.values():  # a sub-item whose parent is elsewhere: keep it listed
        ordered.extend(orphans)
    return ordered
