"""Proposing a slate: whom the secretariat might seat in a working group, and why.

The secretariat selects participants; the system proposes and explains, it never decides. This
module has two halves:

- a **pure** half (no database, no clock): plain frozen dataclasses in, a ``Slate`` out, plus
  ``verify_slate`` that checks a slate against every hard rule. The bench (``bench/``) and the
  property tests run it on thousands of synthetic applicants without touching a database;
- a **selector** half at the end (``workbench_for_group``) that reads one group from the
  database in a constant number of queries and builds those dataclasses and the workbench.

The method
----------
Input: the group's seat cap and focus areas; the people who already hold a seat or an open
offer (they use up capacity and their traits count as present); the *pool*, every application
that is ``SUBMITTED`` or ``WAITING``; and, per Member, the other groups in which it holds a
seat or an open offer.

1. **Start** from the seats held and the open offers.
2. **Filter.** Among pool applicants not yet proposed, keep those whose seating breaks no hard
   rule given the slate so far. The rules are those ``membership.rules`` applies when staff seat
   someone (``services.seat_take``), applied as if the slate were seated one by one in its
   order: eligible (a current Member's representative, an IPAF participant or an invited
   expert); not already seated; a seat free (the cap counts open offers); one representative per
   Member (a second one only while a seat is free and nobody from another Member is left in the
   pool, counting, as ``rules.GroupState.others_waiting`` does, only eligible applicants, IPAF
   participants and experts included, who would not be a second representative themselves);
   and, when the group is oversubscribed (more eligible people in the pool than seats free), the
   tenant's limit of one or two groups per Member, counting the other groups in which it holds a
   seat or an open offer. The two rules staff may override with a written reason are hard rules
   here: the system never proposes an override, so staff can seat the whole slate, in its
   order, without one.
3. **Score** each remaining applicant by the marginal gain they bring to the slate:
   for each trait value they bring, the trait's weight divided by one more than the number of
   people in the slate who already have that value. Traits and default weights (``Weights``):
   region 3, perspective 3 (industry, civil society, other, IPAF, technical expert), value-chain
   segment 2, company size band 1, and the group's focus areas 2 (the areas the person chose in
   the application; expertise for the topic is the first criterion of the Terms of Reference).
   A new value counts fully, the second of a kind half, the third a third: the score is the
   marginal gain of a concave diversity measure (per trait value, the weight times the harmonic
   number of its count), so seats spread across regions, segments, sizes and perspectives and
   uncovered focus areas come first. Civil society and industry, the pair the Terms of
   Reference name, are also balanced explicitly: while one side has fewer people than the
   other, a person from that side adds ``Weights.balance`` (3) times the gap divided by one
   more than the two sides together (value-chain segments would otherwise favour industry,
   whose Members name more of them). An unknown region and the size band "not applicable"
   count for nothing. Of a many-valued
   trait (segments, focus areas) at most ``Weights.max_counted`` (3) values count, the most
   valuable first, so that ticking every box does not outweigh the other criteria.
4. **Pick** the highest score (compared to 9 decimal places, so float rounding cannot decide);
   ties go to the waiting-list order: priority (high first), then application time, then
   application id. Record the reason in words. Zero-gain applicants still fill free seats, in
   waiting-list order.
5. **Stop** when no seat is free or nobody left may be seated. Everyone not proposed gets a
   reason: the hard rule that blocks them, or that the seats went to people who added more
   (with both scores).

The method is deterministic: the result does not depend on the order of the input, only on
the data. It is greedy, so it is fast (seats x applicants score evaluations) and explainable
step by step, though not guaranteed optimal: staff decide, and may swap anyone.
"""

from __future__ import annotations

import datetime
import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import get_language, gettext

from asi_wg.models import Organisation
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


def _(message: str) -> str:
    """``gettext``, remembered per language: explaining 3,000 applicants asks for the same few
    messages thousands of times, and Django's lookup is the slowest step of the method."""
    return _translated(get_language(), message)


@functools.lru_cache(maxsize=512)
def _translated(language: str | None, message: str) -> str:
    return gettext(message)


# --- Traits -----------------------------------------------------------------------------------

REGION = "region"
PERSPECTIVE = "perspective"
SEGMENT = "segment"
SIZE = "size"
FOCUS = "focus"

BALANCE = "balance"

IPAF = "ipaf"
EXPERT = "expert"
INDUSTRY = Member.Perspective.INDUSTRY.value
CIVIL_SOCIETY = Member.Perspective.CIVIL_SOCIETY.value
# Civil society and industry balance each other (the Terms of Reference name the pair).
OTHER_SIDE = {INDUSTRY: CIVIL_SOCIETY, CIVIL_SOCIETY: INDUSTRY}
NOT_APPLICABLE = Member.SizeBand.NOT_APPLICABLE.value

PERSPECTIVE_LABELS: dict[str, str] = {
    Member.Perspective.INDUSTRY.value: "Industry",
    Member.Perspective.CIVIL_SOCIETY.value: "Civil society",
    Member.Perspective.OTHER.value: "Other",
    IPAF: "IPAF (Indigenous Peoples)",
    EXPERT: "Technical expert",
}
SIZE_LABELS: dict[str, str] = {
    Member.SizeBand.SMALL.value: "Small",
    Member.SizeBand.MEDIUM.value: "Medium",
    Member.SizeBand.LARGE.value: "Large",
    Member.SizeBand.VERY_LARGE.value: "Very large",
    NOT_APPLICABLE: "Not applicable",
}
RULE_LABELS: dict[str, str] = {
    ELIGIBLE: "Eligibility",
    ALREADY_SEATED: "Seated once",
    CAP: "Cap",
    ONE_PER_MEMBER: "One per Member",
    MEMBER_GROUP_LIMIT: "Groups per Member",
}

SEAT = "seat"
OFFER = "offer"


@dataclass(frozen=True)
class Traits:
    """What a person brings to the group's diversity and coverage."""

    region: str = regions.UNKNOWN
    perspective: str = Member.Perspective.OTHER.value
    segments: tuple[str, ...] = ()
    size_band: str = NOT_APPLICABLE
    focus_areas: frozenset[int] = frozenset()

    @property
    def perspective_label(self) -> str:
        return PERSPECTIVE_LABELS.get(self.perspective, self.perspective)

    @property
    def size_label(self) -> str:
        return SIZE_LABELS.get(self.size_band, self.size_band)


@dataclass(frozen=True)
class Holder:
    """Someone who uses up a seat already: a seat held, or an open offer."""

    person_id: int
    member_id: int | None
    traits: Traits
    kind: str = SEAT


@dataclass(frozen=True)
class Candidate:
    """An application the workbench can act on. ``member_id`` is the profile's Member (raw, as
    the rules read it); ``member_rep`` says the one-per-Member rule applies to this person."""

    application_id: int
    person_id: int
    member_id: int | None
    member_name: str
    member_rep: bool
    eligible: bool
    eligibility_message: str
    traits: Traits
    priority: int = 0
    applied_at: datetime.datetime = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    status: str = Application.Status.SUBMITTED.value

    @property
    def waiting_key(self) -> tuple[int, datetime.datetime, int]:
        """The waiting-list order: priority high first, then application time, then id."""
        return (-self.priority, self.applied_at, self.application_id)


POOL_STATUSES = frozenset({Application.Status.SUBMITTED.value, Application.Status.WAITING.value})


@dataclass(frozen=True)
class SelectionInput:
    """Everything the method needs to know of one group, as plain data."""

    group_id: int
    seat_cap: int
    member_group_limit: int | None
    focus_areas: tuple[tuple[int, str], ...]
    holders: tuple[Holder, ...]
    candidates: tuple[Candidate, ...]
    """The pool (SUBMITTED and WAITING) and any other application staff may still seat."""
    member_groups_elsewhere: Mapping[int, frozenset[int]] = field(default_factory=dict)
    """Per Member id, the other groups in which it holds a seat or an open offer."""
    segment_names: tuple[str, ...] = ()
    """The tenant's value-chain segments in its order, for the charts."""

    @property
    def pool(self) -> tuple[Candidate, ...]:
        return tuple(c for c in self.candidates if c.status in POOL_STATUSES)


@dataclass(frozen=True)
class Weights:
    region: float = 3.0
    perspective: float = 3.0
    segment: float = 2.0
    size: float = 1.0
    focus: float = 2.0
    balance: float = 3.0
    max_counted: int = 3

    def of(self, trait: str) -> float:
        return float(getattr(self, trait))


DEFAULT_WEIGHTS = Weights()


@functools.lru_cache(maxsize=32)
def _weight_map(weights: Weights) -> dict[str, float]:
    return {trait: weights.of(trait) for trait in (REGION, PERSPECTIVE, SEGMENT, SIZE, FOCUS)}


@dataclass(frozen=True)
class Proposal:
    application_id: int
    rank: int
    score: float
    reason: str


@dataclass(frozen=True)
class NotProposed:
    application_id: int
    blocked_by: tuple[Check, ...]
    score: float
    reason: str

    @property
    def overridable(self) -> bool:
        """Blocked only by rules staff may override with a written reason."""
        return bool(self.blocked_by) and all(check.overridable for check in self.blocked_by)


@dataclass(frozen=True)
class Slate:
    group_id: int
    free_at_start: int
    proposals: tuple[Proposal, ...]
    not_proposed: tuple[NotProposed, ...]

    @property
    def application_ids(self) -> list[int]:
        return [proposal.application_id for proposal in self.proposals]


# --- The state of a slate being built, and the hard rules on it -------------------------------


class _State:
    """Seats held plus the slate so far, with the counts the rules and the score read."""

    def __init__(self, data: SelectionInput) -> None:
        self.data = data
        self.free = data.seat_cap - len(data.holders)
        self.member_holding: Counter[int] = Counter(
            h.member_id for h in data.holders if h.member_id is not None
        )
        self.seated_people = {h.person_id for h in data.holders if h.kind == SEAT}
        self.remaining: dict[int, Candidate] = {c.application_id: c for c in data.pool}
        # Who counts as "waiting" for the rules: the eligible ones left in the pool, per Member
        # (raw id, as the rules compare it), the Members' representatives among them, and how
        # many of those would be a second representative (their Member holds a seat already).
        eligible = [c for c in self.remaining.values() if c.eligible]
        self.eligible_left = len(eligible)
        self.eligible_by_member: Counter[int | None] = Counter(c.member_id for c in eligible)
        self.eligible_reps_by_member: Counter[int] = Counter(
            c.member_id for c in eligible if c.member_rep and c.member_id is not None
        )
        self.second_reps_left = sum(
            n
            for member_id, n in self.eligible_reps_by_member.items()
            if self.member_holding[member_id]
        )
        self.counts: Counter[tuple[str, Any]] = Counter()
        self.focus_ids = {area_id for area_id, _title in data.focus_areas}
        self.taken: list[Candidate] = []
        self._keys: dict[int, _Keys] = {}
        self._weights: Weights | None = None
        self._weight: dict[str, float] = {}
        for holder in data.holders:
            self._count(holder.traits)

    def keys(self, candidate: Candidate) -> _Keys:
        found = self._keys.get(candidate.application_id)
        if found is None:
            found = self._keys[candidate.application_id] = _Keys.of(candidate, self.focus_ids)
        return found

    def score(self, candidate: Candidate, weights: Weights) -> float:
        """The marginal gain of seating ``candidate`` (the number ``_gain`` itemises). This runs
        for every applicant left at every step, so it reads precomputed keys and plain dicts."""
        keys = self._keys.get(candidate.application_id) or self.keys(candidate)
        counts = self.counts
        if weights is not self._weights:
            self._weights, self._weight = weights, _weight_map(weights)
        weight = self._weight
        total = 0.0
        for trait, key in keys.singles:
            total += weight[trait] / (1 + counts[key])
        for trait, many in ((SEGMENT, keys.segments), (FOCUS, keys.focus)):
            if not many:
                continue
            w = weight[trait]
            if len(many) <= weights.max_counted:
                for key in many:
                    total += w / (1 + counts[key])
            else:
                gains = sorted((w / (1 + counts[key]) for key in many), reverse=True)
                total += sum(gains[: weights.max_counted])
        side = keys.side
        if side is not None:
            own, other = counts[(PERSPECTIVE, side)], counts[(PERSPECTIVE, OTHER_SIDE[side])]
            if other > own:
                total += weights.balance * (other - own) / (other + own + 1)
        return total

    def allowed(self, candidate: Candidate) -> bool:
        """No hard rule refuses seating ``candidate`` now (``blocking_rules`` is empty)."""
        return (
            candidate.eligible
            and self.free > 0
            and candidate.person_id not in self.seated_people
            and not self._second_representative_refused(candidate)
            and not self._group_limit_refuses(candidate)
        )

    def _count(self, traits: Traits) -> None:
        for key in _trait_values(traits, self.focus_ids):
            self.counts[key] += 1

    def take(self, candidate: Candidate) -> None:
        self.free -= 1
        member_id = candidate.member_id
        if self.remaining.pop(candidate.application_id, None) is not None and candidate.eligible:
            self.eligible_left -= 1
            self.eligible_by_member[member_id] -= 1
            if candidate.member_rep and member_id is not None:
                self.eligible_reps_by_member[member_id] -= 1
                if self.member_holding[member_id]:
                    self.second_reps_left -= 1
        if member_id is not None:
            if not self.member_holding[member_id]:
                # The Member's representatives left in the pool are now second ones.
                self.second_reps_left += self.eligible_reps_by_member[member_id]
            self.member_holding[member_id] += 1
        self.seated_people.add(candidate.person_id)
        self._count(candidate.traits)
        self.taken.append(candidate)

    @property
    def oversubscribed(self) -> bool:
        # Mirrors GroupState.oversubscribed: more eligible people in the pool than seats free.
        # Seating someone from the pool lowers both by one, so it does not change while a slate
        # is seated.
        return self.eligible_left > self.free

    def others_waiting(self, candidate: Candidate) -> int:
        """Mirrors GroupState.others_waiting: eligible pool applicants of another Member than
        ``candidate``'s (IPAF participants and experts too), except representatives of Members
        that hold a seat already (they would be second representatives themselves)."""
        member_id = candidate.member_id
        assert member_id is not None
        others = self.eligible_left - self.eligible_by_member[member_id] - self.second_reps_left
        if self.member_holding[member_id]:
            # The Member's own representatives were counted in both subtractions.
            others += self.eligible_reps_by_member[member_id]
        return others

    def groups_elsewhere(self, member_id: int) -> int:
        return len(self.data.member_groups_elsewhere.get(member_id, ()))

    def blocking_rules(self, candidate: Candidate) -> list[str]:
        """The hard rules that refuse seating ``candidate`` now (fast: no messages)."""
        refused = []
        if not candidate.eligible:
            refused.append(ELIGIBLE)
        if candidate.person_id in self.seated_people:
            refused.append(ALREADY_SEATED)
        if self.free <= 0:
            refused.append(CAP)
        if self._second_representative_refused(candidate):
            refused.append(ONE_PER_MEMBER)
        if self._group_limit_refuses(candidate):
            refused.append(MEMBER_GROUP_LIMIT)
        return refused

    def _second_representative_refused(self, candidate: Candidate) -> bool:
        if not candidate.member_rep or candidate.member_id is None:
            return False
        if not self.member_holding[candidate.member_id]:
            return False
        return not (self.free > 0 and self.others_waiting(candidate) == 0)

    def _group_limit_refuses(self, candidate: Candidate) -> bool:
        limit = self.data.member_group_limit
        if not limit or candidate.member_id is None:
            return False
        return self.groups_elsewhere(candidate.member_id) >= limit and self.oversubscribed

    def checks(self, candidate: Candidate, *, in_slate: bool = False) -> list[Check]:
        """Every rule on seating ``candidate`` now, with a message, in the order staff read
        them (the order of ``rules.seating_checks``). ``in_slate`` words the cap and the
        one-per-Member messages for a proposal rather than for seats already held."""
        refused = set(self.blocking_rules(candidate))
        cap = self.data.seat_cap
        member = candidate.member_name
        result = [Check(ELIGIBLE, candidate.eligible, candidate.eligibility_message)]
        already = ALREADY_SEATED in refused
        result.append(
            Check(
                ALREADY_SEATED,
                not already,
                _("Already holds a seat.") if already else _("Not seated yet."),
            )
        )
        if CAP in refused:
            message = (
                _("All %(cap)d seats are held, offered or proposed.")
                if in_slate
                else _("All %(cap)d seats are taken or held for an open offer.")
            ) % {"cap": cap}
            result.append(Check(CAP, False, message))
        else:
            result.append(
                Check(
                    CAP,
                    True,
                    _("%(free)d of %(cap)d seats free.") % {"free": self.free, "cap": cap},
                )
            )
        if not candidate.member_rep or candidate.member_id is None:
            result.append(Check(ONE_PER_MEMBER, True, _("Not a Member representative.")))
        elif not self.member_holding[candidate.member_id]:
            result.append(
                Check(ONE_PER_MEMBER, True, _("First representative of %(m)s.") % {"m": member})
            )
        elif ONE_PER_MEMBER not in refused:
            result.append(
                Check(
                    ONE_PER_MEMBER,
                    True,
                    _(
                        "A second representative of %(m)s: capacity allows (seats are free and "
                        "nobody else is waiting)."
                    )
                    % {"m": member},
                )
            )
        else:
            message = (
                (
                    _(
                        "%(m)s already has a representative in the group or the proposed slate, "
                        "and applicants from other Members remain."
                    )
                    if self.others_waiting(candidate)
                    else _(
                        "%(m)s already has a representative in the group or the proposed slate, "
                        "and no seat is left for a second one."
                    )
                )
                if in_slate
                else _(
                    "%(m)s already has a representative in this group, and others are waiting "
                    "for seats."
                )
            ) % {"m": member}
            result.append(Check(ONE_PER_MEMBER, False, message, overridable=True))
        result.append(self._group_limit_check(candidate, refused=MEMBER_GROUP_LIMIT in refused))
        return result

    def _group_limit_check(self, candidate: Candidate, *, refused: bool) -> Check:
        limit = self.data.member_group_limit
        if not limit or candidate.member_id is None:
            return Check(MEMBER_GROUP_LIMIT, True, _("No limit on groups per Member applies."))
        held = self.groups_elsewhere(candidate.member_id)
        if refused:
            return Check(
                MEMBER_GROUP_LIMIT,
                False,
                _(
                    "%(m)s already sits in or is offered a seat in %(n)d other group(s), and "
                    "this group is oversubscribed: Members are limited to %(limit)d group(s) so "
                    "that more Members are represented."
                )
                % {"m": candidate.member_name, "n": held, "limit": limit},
                overridable=True,
            )
        return Check(
            MEMBER_GROUP_LIMIT,
            True,
            _("%(m)s sits in or is offered a seat in %(n)d other group(s).")
            % {"m": candidate.member_name, "n": held},
        )


# --- Scoring ----------------------------------------------------------------------------------


def _trait_values(traits: Traits, focus_ids: set[int]) -> list[tuple[str, Any]]:
    values: list[tuple[str, Any]] = []
    if traits.region and traits.region != regions.UNKNOWN:
        values.append((REGION, traits.region))
    values.append((PERSPECTIVE, traits.perspective))
    values.extend((SEGMENT, name) for name in traits.segments)
    if traits.size_band and traits.size_band != NOT_APPLICABLE:
        values.append((SIZE, traits.size_band))
    values.extend((FOCUS, area) for area in sorted(traits.focus_areas) if area in focus_ids)
    return values


@dataclass(frozen=True)
class _Keys:
    """A candidate's trait values as the counters' keys, computed once per proposal."""

    singles: tuple[tuple[str, tuple[str, Any]], ...]
    segments: tuple[tuple[str, Any], ...]
    focus: tuple[tuple[str, Any], ...]
    side: str | None
    waiting_key: tuple[int, datetime.datetime, int]

    @classmethod
    def of(cls, candidate: Candidate, focus_ids: set[int]) -> _Keys:
        values = _trait_values(candidate.traits, focus_ids)
        perspective = candidate.traits.perspective
        return cls(
            singles=tuple((v[0], v) for v in values if v[0] in (REGION, PERSPECTIVE, SIZE)),
            segments=tuple(v for v in values if v[0] == SEGMENT),
            focus=tuple(v for v in values if v[0] == FOCUS),
            side=perspective if perspective in OTHER_SIDE else None,
            waiting_key=candidate.waiting_key,
        )


@dataclass(frozen=True)
class _Part:
    trait: str
    value: Any
    before: int
    gain: float
    other: int = 0  # for the balance: how many the other side has


def _gain(state: _State, traits: Traits, weights: Weights) -> tuple[float, list[_Part]]:
    """The marginal gain of adding ``traits`` to the slate, and what it is made of."""
    by_trait: dict[str, list[_Part]] = defaultdict(list)
    for trait, value in _trait_values(traits, state.focus_ids):
        before = state.counts[(trait, value)]
        by_trait[trait].append(_Part(trait, value, before, weights.of(trait) / (1 + before)))
    parts: list[_Part] = []
    for trait, trait_parts in by_trait.items():
        if trait in (SEGMENT, FOCUS):
            trait_parts = sorted(trait_parts, key=lambda p: (-p.gain, str(p.value)))
            trait_parts = trait_parts[: weights.max_counted]
        parts.extend(trait_parts)
    side = traits.perspective if traits.perspective in OTHER_SIDE else None
    if side is not None:
        own = state.counts[(PERSPECTIVE, side)]
        other = state.counts[(PERSPECTIVE, OTHER_SIDE[side])]
        if other > own:
            gain = weights.balance * (other - own) / (other + own + 1)
            parts.append(_Part(BALANCE, side, own, gain, other))
    return sum(part.gain for part in parts), parts


def _rounded(score: float) -> float:
    return round(score, 9)


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return _("%(head)s and %(last)s") % {"head": ", ".join(items[:-1]), "last": items[-1]}


def _describe(parts: Sequence[_Part], data: SelectionInput) -> str:
    """Words for what a person adds: new values first, then the values they strengthen."""
    titles = dict(data.focus_areas)
    new = [p for p in parts if p.before == 0]
    phrases: list[str] = []
    adds: list[str] = []
    for trait, label in ((REGION, _("region")), (SEGMENT, _("segment"))):
        values = [str(p.value) for p in new if p.trait == trait]
        if values:
            adds.append(f"{label} {_join(values)}")
    for p in new:
        if p.trait == SIZE:
            adds.append(_("size band %(s)s") % {"s": SIZE_LABELS.get(p.value, p.value)})
        elif p.trait == PERSPECTIVE:
            adds.append(
                _("the %(p)s perspective") % {"p": PERSPECTIVE_LABELS.get(p.value, p.value)}
            )
    if adds:
        phrases.append(_("adds %(what)s") % {"what": _join(adds)})
    for p in parts:
        if p.trait == BALANCE:
            phrases.append(
                _("balances %(side)s against %(other)s (%(own)d against %(n)d so far)")
                % {
                    "side": PERSPECTIVE_LABELS[p.value].lower(),
                    "other": PERSPECTIVE_LABELS[OTHER_SIDE[p.value]].lower(),
                    "own": p.before,
                    "n": p.other,
                }
            )
    covered = [titles[p.value] for p in new if p.trait == FOCUS]
    if covered:
        phrases.append(
            _("covers %(n)d uncovered focus area(s): %(areas)s")
            % {"n": len(covered), "areas": "; ".join(covered)}
        )
    # What it strengthens matters only when it adds nothing new: then it explains the score.
    known = (
        []
        if phrases
        else sorted(
            (p for p in parts if p.before > 0 and p.trait != BALANCE), key=lambda p: -p.gain
        )[:2]
    )
    strengthened = []
    for p in known:
        if p.trait == FOCUS:
            label = _("focus area %(v)s") % {"v": titles[p.value]}
        elif p.trait == PERSPECTIVE:
            label = _("the %(v)s perspective") % {"v": PERSPECTIVE_LABELS.get(p.value, p.value)}
        elif p.trait == SIZE:
            label = _("size band %(v)s") % {"v": SIZE_LABELS.get(p.value, p.value)}
        else:
            label = f"{p.trait} {p.value}"
        strengthened.append(_("%(what)s (%(n)d so far)") % {"what": label, "n": p.before})
    if strengthened:
        phrases.append(_("strengthens %(what)s") % {"what": _join(strengthened)})
    return "; ".join(phrases)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- The method -------------------------------------------------------------------------------


def propose_slate(data: SelectionInput, weights: Weights = DEFAULT_WEIGHTS) -> Slate:
    """The proposed slate for one group, by the method in the module docstring. Pure."""
    state = _State(data)
    free_at_start = state.free
    proposals: list[Proposal] = []
    last_score: float | None = None
    while state.free > 0:
        best: Candidate | None = None
        best_rounded, best_order, ties = 0.0, None, 0
        for candidate in state.remaining.values():
            if not state.allowed(candidate):
                continue
            rounded = _rounded(state.score(candidate, weights))
            order = state._keys[candidate.application_id].waiting_key
            if best is None or rounded > best_rounded:
                best, best_rounded, best_order, ties = candidate, rounded, order, 0
            elif rounded == best_rounded:
                ties += 1
                if best_order is None or order < best_order:
                    best, best_order = candidate, order
        if best is None:
            break
        parts = _gain(state, best.traits, weights)[1]
        reason = _describe(parts, data)
        if not reason:
            reason = _("adds nothing the group lacks; next in waiting-list order")
        reason = _capitalised(reason) + "."
        if ties:
            reason += " " + _(
                "Ahead of %(n)d other(s) with the same score by waiting-list order."
            ) % {"n": ties}
        proposals.append(
            Proposal(
                application_id=best.application_id,
                rank=len(proposals) + 1,
                score=best_rounded,
                reason=reason,
            )
        )
        last_score = best_rounded
        state.take(best)
    return Slate(
        group_id=data.group_id,
        free_at_start=free_at_start,
        proposals=tuple(proposals),
        not_proposed=tuple(_not_proposed(state, weights, last_score)),
    )


def _not_proposed(state: _State, weights: Weights, last_score: float | None) -> list[NotProposed]:
    left = []
    for candidate in sorted(state.remaining.values(), key=lambda c: c.waiting_key):
        checks = state.checks(candidate, in_slate=True)
        blocked = tuple(c for c in checks if c.blocks and c.rule != CAP)
        score, parts = state.score(candidate, weights), _gain(state, candidate.traits, weights)[1]
        if blocked:
            reason = " ".join(check.message for check in blocked)
            if state.free <= 0:
                reason += " " + (
                    _("No seat is free.")
                    if last_score is None
                    else _("The free seats went to the proposed applicants.")
                )
            if all(check.overridable for check in blocked):
                reason += " " + (
                    _("Staff may seat them with a written reason.")
                    if state.free > 0
                    else _("Staff may seat them with a written reason once a seat is free.")
                )
        elif last_score is None:
            reason = _("Not reached: no seat is free.")
        elif state.free <= 0:
            adds = _describe(parts, state.data) or _("adds nothing the slate lacks")
            reason = _(
                "Not reached: the free seats went to applicants who add more; this applicant "
                "%(adds)s (score %(score)s, against %(last)s for the last proposed)."
            ) % {"adds": adds, "score": _fmt(score), "last": _fmt(last_score)}
        else:  # pragma: no cover - the loop only stops early when every one left is blocked
            reason = _("Not proposed.")
        left.append(
            NotProposed(
                application_id=candidate.application_id,
                blocked_by=blocked,
                score=_rounded(score),
                reason=reason,
            )
        )
    return left


def _fmt(score: float) -> str:
    return f"{score:.2f}"


def propose_slates(
    inputs: Sequence[SelectionInput], weights: Weights = DEFAULT_WEIGHTS
) -> list[Slate]:
    """Slates for several groups of one tenant, in the given order. A Member proposed in an
    earlier group counts as seated there for the later groups' per-Member group limit, so the
    slates can all be seated, one group after the other, without an override."""
    slates = []
    extra: dict[int, set[int]] = defaultdict(set)
    for data in inputs:
        slate = propose_slate(with_groups_elsewhere(data, extra), weights)
        _note_members(data, slate.application_ids, extra)
        slates.append(slate)
    return slates


def _note_members(
    data: SelectionInput, application_ids: Iterable[int], extra: dict[int, set[int]]
) -> None:
    by_id = {c.application_id: c for c in data.candidates}
    for application_id in application_ids:
        candidate = by_id.get(application_id)
        if candidate is not None and candidate.member_id is not None:
            extra[candidate.member_id].add(data.group_id)


def with_groups_elsewhere(
    data: SelectionInput, extra: Mapping[int, Iterable[int]]
) -> SelectionInput:
    """``data`` with more groups counted as held elsewhere per Member (its own group aside)."""
    merged = {member: set(groups) for member, groups in data.member_groups_elsewhere.items()}
    for member, groups in extra.items():
        merged.setdefault(member, set()).update(g for g in groups if g != data.group_id)
    return replace(
        data,
        member_groups_elsewhere={member: frozenset(groups) for member, groups in merged.items()},
    )


# --- Checking a slate -------------------------------------------------------------------------


def verify_slate(data: SelectionInput, application_ids: Sequence[int]) -> list[str]:
    """Every hard rule a slate breaks when seated in its order; empty when it breaks none.

    Written apart from ``propose_slate`` on purpose (a plain re-simulation of the rules, as
    ``membership.rules`` states them), so that a mistake in the method's bookkeeping shows.
    """
    violations: list[str] = []
    pool = {c.application_id: c for c in data.pool}
    free = data.seat_cap - len(data.holders)
    holding = {h.member_id for h in data.holders if h.member_id is not None}
    seated = {h.person_id for h in data.holders if h.kind == SEAT}
    remaining = list(pool.values())
    seen: set[int] = set()
    limit = data.member_group_limit
    for position, application_id in enumerate(application_ids, start=1):
        where = f"#{position} (application {application_id})"
        if application_id in seen:
            violations.append(f"{where}: proposed twice")
            continue
        seen.add(application_id)
        candidate = pool.get(application_id)
        if candidate is None:
            violations.append(f"{where}: not awaiting selection in this group")
            continue
        if not candidate.eligible:
            violations.append(f"{where}: not eligible")
        if candidate.person_id in seated:
            violations.append(f"{where}: already holds a seat")
        if free <= 0:
            violations.append(f"{where}: over the cap of {data.seat_cap}")
        member = candidate.member_id
        if candidate.member_rep and member is not None and member in holding:
            # Someone else waits: eligible, of another Member (or none), and not a second
            # representative themselves.
            others = [
                a
                for a in remaining
                if a.application_id != application_id
                and a.member_id != member
                and a.eligible
                and not (a.member_rep and a.member_id in holding)
            ]
            if not (free > 0 and not others):
                violations.append(f"{where}: a second representative of Member {member}")
        if limit and member is not None:
            groups = data.member_groups_elsewhere.get(member, frozenset())
            if len(groups) >= limit and len([a for a in remaining if a.eligible]) > free:
                violations.append(
                    f"{where}: Member {member} already sits in or is offered a seat in "
                    f"{len(groups)} other group(s), over the limit of {limit} in an "
                    "oversubscribed group"
                )
        free -= 1
        if member is not None:
            holding.add(member)
        seated.add(candidate.person_id)
        remaining = [a for a in remaining if a.application_id != application_id]
    return violations


def verify_slates(inputs: Sequence[SelectionInput], slates: Sequence[Slate]) -> list[str]:
    """``verify_slate`` for slates seated group after group, as ``propose_slates`` makes them."""
    violations: list[str] = []
    extra: dict[int, set[int]] = defaultdict(set)
    for data, slate in zip(inputs, slates, strict=True):
        checked = with_groups_elsewhere(data, extra)
        found = verify_slate(checked, slate.application_ids)
        violations += [f"group {data.group_id} {violation}" for violation in found]
        _note_members(data, slate.application_ids, extra)
    return violations


# --- What staff see: rules now, a seating order, the diversity counts -------------------------


def current_checks(data: SelectionInput) -> dict[int, list[Check]]:
    """Per application, every rule on seating that person now (before any proposal)."""
    state = _State(data)
    return {c.application_id: state.checks(c) for c in data.candidates}


def seating_order(data: SelectionInput, slate: Slate, application_ids: Iterable[int]) -> list[int]:
    """The order in which to seat a chosen set: the proposed slate's order first, then the rest
    in waiting-list order (so that the proposal, seated, stays within the rules)."""
    chosen = set(application_ids)
    rank = {pid: n for n, pid in enumerate(slate.application_ids)}
    by_id = {c.application_id: c for c in data.candidates}
    known = [i for i in chosen if i in by_id]
    return sorted(
        known,
        key=lambda i: (
            (0, rank[i], by_id[i].waiting_key) if i in rank else (1, 0, by_id[i].waiting_key)
        ),
    )


def overrides_needed(data: SelectionInput, ordered_ids: Sequence[int]) -> dict[int, list[Check]]:
    """Seating ``ordered_ids`` one by one: who would need an override, and of which rules.

    Someone refused by a rule that cannot be overridden (the cap, eligibility) is left out of the
    simulation, as the service will refuse them."""
    state = _State(data)
    by_id = {c.application_id: c for c in data.candidates}
    needed: dict[int, list[Check]] = {}
    for application_id in ordered_ids:
        candidate = by_id[application_id]
        refused = [c for c in state.checks(candidate) if c.blocks]
        if any(not c.overridable for c in refused):
            continue
        if refused:
            needed[application_id] = refused
        state.take(candidate)
    return needed


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

    @property
    def in_pool(self) -> bool:
        return self.candidate.status in POOL_STATUSES

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

    @property
    def waiting_rows(self) -> list[ApplicantRow]:
        return sorted(
            (r for r in self.rows if r.waiting_position is not None),
            key=lambda r: r.waiting_position or 0,
        )

    @property
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


# Applications the workbench can still act on: seat, wait-list or decline.
ACTIONABLE_STATUSES = (
    Application.Status.SUBMITTED,
    Application.Status.WAITING,
    Application.Status.DECLINED,
    Application.Status.OFFER_DECLINED,
    Application.Status.OFFER_EXPIRED,
)


def workbench_for_group(group: WorkingGroup) -> Workbench:
    """Everything the selection workbench shows for one group, in a constant number of queries
    (group focus areas, applications with their focus areas, seats, open offers, segments of
    the Members involved, the tenant's segments, the Members' seats and open offers in other
    groups)."""
    organisation = group.organisation
    focus_areas = _ordered_focus_areas(list(FocusArea.objects.filter(group=group)))
    applications = list(
        Application.objects.filter(
            group=group,
            status__in=[
                *ACTIONABLE_STATUSES,
                Application.Status.OFFERED,
                Application.Status.SEATED,
            ],
        )
        .select_related("applicant", "profile__member__membership_class")
        .prefetch_related("focus_areas")
        .order_by("-priority", "applied_at", "id")
    )
    by_id = {application.pk: application for application in applications}
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
    segments: dict[int, list[str]] = defaultdict(list)
    through = Member.segments.through
    for member_id, name in (
        through.objects.filter(member_id__in=member_ids)
        .order_by("valuechainsegment__position", "valuechainsegment__name")
        .values_list("member_id", "valuechainsegment__name")
    ):
        segments[member_id].append(name)
    segment_map = {member_id: tuple(names) for member_id, names in segments.items()}
    elsewhere: dict[int, dict[int, str]] = defaultdict(dict)
    for member_id, group_id, group_name in (
        Seat.objects.filter(member_id__in=member_ids, ended_at__isnull=True)
        .exclude(group=group)
        .order_by()
        .values_list("member_id", "group_id", "group__name")
        .distinct()
    ):
        elsewhere[member_id][group_id] = group_name
    # An open offer in another group counts for the group limit too: it may yet be accepted.
    offered_elsewhere: dict[int, dict[int, str]] = defaultdict(dict)
    for member_id, group_id, group_name in (
        Offer.objects.filter(
            application__profile__member_id__in=member_ids, status=Offer.Status.OPEN
        )
        .exclude(group=group)
        .order_by()
        .values_list("application__profile__member_id", "group_id", "group__name")
        .distinct()
    ):
        offered_elsewhere[member_id][group_id] = group_name
    segment_names = tuple(
        ValueChainSegment.objects.filter(organisation=organisation).values_list("name", flat=True)
    )

    def traits_of(application: Application) -> Traits:
        return _traits(
            application.profile,
            application.profile.member,
            segment_map,
            (area.pk for area in application.focus_areas.all()),
        )

    seat_rows = []
    for seat in seats:
        application = by_id.get(seat.application_id) if seat.application_id else None
        if application is not None:
            traits = traits_of(application)
        elif seat.member is not None:
            traits = _member_traits(seat.member, segment_map)
        else:
            traits = Traits(perspective=IPAF if seat.affiliation == IPAF else EXPERT)
        seat_rows.append(HolderRow(seat=seat, offer=None, application=application, traits=traits))
    offer_rows = []
    for offer in offers:
        application = by_id[offer.application_id]
        offer.application = application
        offer_rows.append(
            HolderRow(
                seat=None, offer=offer, application=application, traits=traits_of(application)
            )
        )
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
    candidates = []
    for application in applications:
        if application.status not in ACTIONABLE_STATUSES:
            continue
        profile = application.profile
        member = profile.member
        check = eligibility(profile)
        candidates.append(
            Candidate(
                application_id=application.pk,
                person_id=application.applicant_id,
                member_id=profile.member_id,
                member_name=member.name if member is not None else "",
                member_rep=profile.affiliation == ParticipantProfile.Affiliation.MEMBER
                and member is not None,
                eligible=check.allowed,
                eligibility_message=check.message,
                traits=traits_of(application),
                priority=application.priority,
                applied_at=application.applied_at,
                status=application.status,
            )
        )
    data = SelectionInput(
        group_id=group.pk,
        seat_cap=group.seat_cap,
        member_group_limit=organisation.member_group_limit,
        focus_areas=tuple((area.pk, area.title) for area in focus_areas),
        holders=tuple(holders),
        candidates=tuple(candidates),
        member_groups_elsewhere={
            m: frozenset(elsewhere.get(m, {})) | frozenset(offered_elsewhere.get(m, {}))
            for m in elsewhere.keys() | offered_elsewhere.keys()
        },
        segment_names=segment_names,
    )
    slate = propose_slate(data)
    checks = current_checks(data)
    positions = waiting_positions(data.candidates)
    proposals = {p.application_id: p for p in slate.proposals}
    left = {n.application_id: n for n in slate.not_proposed}
    rows = [
        ApplicantRow(
            application=by_id[c.application_id],
            candidate=c,
            checks=checks[c.application_id],
            proposal=proposals.get(c.application_id),
            not_proposed=left.get(c.application_id),
            waiting_position=positions.get(c.application_id),
            other_groups=sorted(elsewhere.get(c.member_id, {}).values()) if c.member_id else [],
            offered_groups=(
                sorted(offered_elsewhere.get(c.member_id, {}).values()) if c.member_id else []
            ),
        )
        for c in candidates
    ]
    # The pool first (waiting-list order), then the applications staff may still reconsider.
    rows.sort(key=lambda r: (not r.in_pool, r.candidate.waiting_key))
    return Workbench(
        group=group,
        data=data,
        slate=slate,
        seats=seat_rows,
        offers=offer_rows,
        rows=rows,
        dimensions=diversity(data, slate),
        focus_areas=focus_areas,
    )


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


def groups_overview(organisation: Organisation) -> list[WorkingGroup]:
    """The tenant's groups for the staff index, each annotated with seats held, open offers,
    applicants waiting and awaiting selection (one query: correlated counts)."""

    def count_of(queryset: QuerySet[Any]) -> Coalesce:
        return Coalesce(
            Subquery(
                queryset.filter(group=OuterRef("pk"))
                .order_by()
                .values("group")
                .annotate(n=Count("pk"))
                .values("n"),
                output_field=IntegerField(),
            ),
            0,
        )

    groups: list[WorkingGroup] = list(
        WorkingGroup.objects.filter(organisation=organisation)
        .select_related("parent")
        .annotate(
            seats_held=count_of(Seat.objects.filter(ended_at__isnull=True)),
            open_offers=count_of(Offer.objects.filter(status=Offer.Status.OPEN)),
            waiting=count_of(Application.objects.filter(status=Application.Status.WAITING)),
            submitted=count_of(Application.objects.filter(status=Application.Status.SUBMITTED)),
        )
    )
    groups.sort(
        key=lambda g: (
            g.parent.number if g.parent else g.number,
            g.parent_id is not None,
            g.number,
            g.name,
        )
    )
    return groups
