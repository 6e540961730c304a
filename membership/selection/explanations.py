"""The reasons in words: why each person is proposed, and why each one left is not.

A reason names what the person adds to the slate (new regions, segments, size bands,
perspectives, uncovered focus areas, the balance of civil society and industry) or, when they
add nothing new, what they strengthen; for someone not proposed, the hard rule that blocks them
or the scores that put others ahead. ``_gain`` itemises the number that ``method._State.score``
computes, so the words always match the score.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import get_language, gettext

from membership.rules import CAP
from membership.selection.slate import (
    BALANCE,
    FOCUS,
    OTHER_SIDE,
    PERSPECTIVE,
    PERSPECTIVE_LABELS,
    REGION,
    SEGMENT,
    SIZE,
    SIZE_LABELS,
    Candidate,
    NotProposed,
    SelectionInput,
    Traits,
    Weights,
    _rounded,
    _trait_values,
)

if TYPE_CHECKING:
    from membership.selection.method import _State


def _(message: str) -> str:
    """``gettext``, remembered per language: explaining 3,000 applicants asks for the same few
    messages thousands of times, and Django's lookup is the slowest step of the method."""
    return _translated(get_language(), message)


@functools.lru_cache(maxsize=512)
def _translated(language: str | None, message: str) -> str:
    return gettext(message)


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


def _proposal_reason(state: _State, best: Candidate, weights: Weights, *, ties: int) -> str:
    """Why ``best`` is the next one proposed: what they add, and the ties they win."""
    parts = _gain(state, best.traits, weights)[1]
    reason = _describe(parts, state.data)
    if not reason:
        reason = _("adds nothing the group lacks; next in waiting-list order")
    reason = _capitalised(reason) + "."
    if ties:
        reason += " " + _("Ahead of %(n)d other(s) with the same score by waiting-list order.") % {
            "n": ties
        }
    return reason


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
