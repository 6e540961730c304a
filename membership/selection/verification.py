"""Checking seatings against the hard rules: a proposed slate, and the set staff choose.

``verify_slate`` is written apart from the method on purpose (a plain re-simulation of the rules
as ``membership.rules`` states them), so that a mistake in the method's bookkeeping shows; the
tests and the bench run it on every slate. The rest answers what staff ask of their own choice
on the workbench: every rule on each applicant now, the order in which to seat a chosen set,
and who in it would need an override.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from membership.rules import Check
from membership.selection.method import _note_members, _State, with_groups_elsewhere
from membership.selection.slate import SEAT, SelectionInput, Slate

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
