"""The plain data of a slate: what people bring, who applies and who holds a seat already, the
weights, and the proposed slate the method returns.

Frozen dataclasses, no database: ``workbench`` builds them from one group's rows, the bench and
the property tests build them by hand.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from membership import regions
from membership.models import Application, Member
from membership.rules import Check

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
        return tuple(c for c in self.candidates if c.status in Application.POOL)


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


def _trait_values(traits: Traits, focus_ids: set[int]) -> list[tuple[str, Any]]:
    """The (trait, value) pairs a person counts for in this group (the method's counters' keys);
    an unknown region, "not applicable" and other groups' focus areas count for nothing."""
    values: list[tuple[str, Any]] = []
    if traits.region and traits.region != regions.UNKNOWN:
        values.append((REGION, traits.region))
    values.append((PERSPECTIVE, traits.perspective))
    values.extend((SEGMENT, name) for name in traits.segments)
    if traits.size_band and traits.size_band != NOT_APPLICABLE:
        values.append((SIZE, traits.size_band))
    values.extend((FOCUS, area) for area in sorted(traits.focus_areas) if area in focus_ids)
    return values


def _rounded(score: float) -> float:
    """Scores are compared to 9 decimal places, so float rounding cannot decide a pick."""
    return round(score, 9)
