"""The method that proposes a slate for one group, and the hard rules it applies while it builds
the slate. Pure: plain data in (``slate.SelectionInput``), a ``slate.Slate`` out.

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

The words for each reason are in ``explanations``; ``verification`` re-checks a slate against
the rules independently of the bookkeeping here.
"""

from __future__ import annotations

import datetime
import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from membership.rules import (
    ALREADY_SEATED,
    CAP,
    ELIGIBLE,
    MEMBER_GROUP_LIMIT,
    ONE_PER_MEMBER,
    Check,
)
from membership.selection.explanations import _, _not_proposed, _proposal_reason
from membership.selection.slate import (
    DEFAULT_WEIGHTS,
    FOCUS,
    OTHER_SIDE,
    PERSPECTIVE,
    REGION,
    SEAT,
    SEGMENT,
    SIZE,
    Candidate,
    Proposal,
    SelectionInput,
    Slate,
    Traits,
    Weights,
    _rounded,
    _trait_values,
)


@functools.lru_cache(maxsize=32)
def _weight_map(weights: Weights) -> dict[str, float]:
    return {trait: weights.of(trait) for trait in (REGION, PERSPECTIVE, SEGMENT, SIZE, FOCUS)}


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
        proposals.append(
            Proposal(
                application_id=best.application_id,
                rank=len(proposals) + 1,
                score=best_rounded,
                reason=_proposal_reason(state, best, weights, ties=ties),
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
