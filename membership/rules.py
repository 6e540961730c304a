"""The selection rules of the Terms of Reference, as checks that explain themselves.

Each check returns a ``Check``: whether the rule allows the step, a message a person can read,
and whether staff may override it with a recorded reason. Services call these inside their
transaction, after locking the group, so the counts they read cannot change underneath them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext as _

from groups.models import WorkingGroup
from membership.models import Application, Offer, ParticipantProfile, Seat

CAP = "cap"
ELIGIBLE = "eligible"
ONE_PER_MEMBER = "one_per_member"
MEMBER_GROUP_LIMIT = "member_group_limit"
ALREADY_SEATED = "already_seated"


@dataclass(frozen=True)
class Check:
    rule: str
    allowed: bool
    message: str
    overridable: bool = False

    @property
    def blocks(self) -> bool:
        return not self.allowed


def eligibility(profile: ParticipantProfile | None) -> Check:
    """Who may take part: current Members' representatives, IPAF participants, invited experts."""
    if profile is None:
        return Check(ELIGIBLE, False, _("Tell us whom you represent before applying."))
    if profile.affiliation == ParticipantProfile.Affiliation.MEMBER:
        member = profile.member
        if member is None:
            return Check(ELIGIBLE, False, _("Choose the Member you represent."))
        if not member.is_current:
            return Check(
                ELIGIBLE,
                False,
                _("%(member)s is no longer a Member, so its representatives cannot take part.")
                % {"member": member.name},
            )
        return Check(
            ELIGIBLE,
            True,
            _("Representative of %(member)s, a current Member.") % {"member": member},
        )
    if profile.affiliation == ParticipantProfile.Affiliation.IPAF:
        return Check(ELIGIBLE, True, _("IPAF participant."))
    if profile.expert_invited_at is None:
        return Check(
            ELIGIBLE,
            False,
            _(
                "Technical experts take part by invitation of the secretariat, based on expertise "
                "and capacity. The secretariat has not invited you yet."
            ),
        )
    return Check(ELIGIBLE, True, _("Technical expert invited by the secretariat."))


@dataclass
class GroupState:
    """What the rules need to know of a group, read once under the group's lock."""

    group: WorkingGroup
    held_seats: list[Seat]
    open_offers: list[Offer]
    waiting: list[Application]
    groups_elsewhere: dict[int, set[int]] = field(default_factory=dict)
    """Per Member id, the other groups of the tenant in which it holds a seat or an open offer
    (read for the Members of this group's applications, the people the rules are asked about)."""
    _eligible: dict[int, bool] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def read(cls, group: WorkingGroup) -> GroupState:
        members = Application.objects.filter(group=group, profile__member__isnull=False).values(
            "profile__member_id"
        )
        seats = (
            Seat.objects.filter(
                group__organisation_id=group.organisation_id,
                ended_at__isnull=True,
                member_id__in=members,
            )
            .exclude(group=group)
            .order_by()
            .values_list("member_id", "group_id")
        )
        offers = (
            Offer.objects.filter(
                group__organisation_id=group.organisation_id,
                status=Offer.Status.OPEN,
                application__profile__member_id__in=members,
            )
            .exclude(group=group)
            .order_by()
            .values_list("application__profile__member_id", "group_id")
        )
        groups_elsewhere: dict[int, set[int]] = {}
        for member_id, group_id in seats.union(offers):  # one query
            groups_elsewhere.setdefault(member_id, set()).add(group_id)
        return cls(
            group=group,
            held_seats=list(
                Seat.objects.filter(group=group, ended_at__isnull=True).select_related("member")
            ),
            open_offers=list(
                Offer.objects.filter(group=group, status=Offer.Status.OPEN).select_related(
                    "application__profile"
                )
            ),
            waiting=list(
                Application.objects.filter(
                    group=group,
                    status__in=Application.POOL,
                ).select_related("profile__member")
            ),
            groups_elsewhere=groups_elsewhere,
        )

    def held(self, *, excluding_offer: Offer | None = None) -> int:
        offers = [
            o for o in self.open_offers if excluding_offer is None or o.pk != excluding_offer.pk
        ]
        return len(self.held_seats) + len(offers)

    def free(self, *, excluding_offer: Offer | None = None) -> int:
        return self.group.seat_cap - self.held(excluding_offer=excluding_offer)

    def member_ids_holding(self, *, excluding_offer: Offer | None = None) -> list[int]:
        ids = [seat.member_id for seat in self.held_seats if seat.member_id]
        ids += [
            offer.application.profile.member_id
            for offer in self.open_offers
            if offer.application.profile.member_id
            and (excluding_offer is None or offer.pk != excluding_offer.pk)
        ]
        return ids

    def is_eligible(self, application: Application) -> bool:
        """``eligibility(...).allowed`` for a waiting application, worked out once per state
        (the waiting-list job asks for every candidate it walks past)."""
        found = self._eligible.get(application.pk)
        if found is None:
            found = self._eligible[application.pk] = eligibility(application.profile).allowed
        return found

    def eligible_waiting(self) -> list[Application]:
        return [app for app in self.waiting if self.is_eligible(app)]

    def others_waiting(
        self, profile: ParticipantProfile, *, excluding_offer: Offer | None = None
    ) -> list[Application]:
        """Who waits "from another Member" when ``profile``'s Member would seat a second
        representative: eligible applicants (IPAF participants and invited experts too) of
        another Member or none, except those who would be a second representative themselves
        (their Member already holds a seat or an open offer here)."""
        holding = set(self.member_ids_holding(excluding_offer=excluding_offer))
        return [
            app
            for app in self.eligible_waiting()
            if app.profile_id != profile.pk
            and app.profile.member_id != profile.member_id
            and not (_member_rep(app.profile) and app.profile.member_id in holding)
        ]

    @property
    def oversubscribed(self) -> bool:
        """More eligible people waiting or awaiting selection than seats free."""
        return len(self.eligible_waiting()) > self.free()


def _member_rep(profile: ParticipantProfile) -> bool:
    """The one-per-Member rule applies to this person: a Member's representative."""
    return (
        profile.affiliation == ParticipantProfile.Affiliation.MEMBER
        and profile.member_id is not None
    )


def cap_check(state: GroupState, *, excluding_offer: Offer | None = None) -> Check:
    free = state.free(excluding_offer=excluding_offer)
    if free <= 0:
        return Check(
            CAP,
            False,
            _("All %(cap)d seats are taken or held for an open offer.")
            % {"cap": state.group.seat_cap},
        )
    return Check(
        CAP,
        True,
        _("%(free)d of %(cap)d seats free.") % {"free": free, "cap": state.group.seat_cap},
    )


def one_per_member_check(
    state: GroupState, profile: ParticipantProfile, *, excluding_offer: Offer | None = None
) -> Check:
    """One representative per Member, a second only "if capacity allows": while seats are free
    and nobody from another Member is waiting (``GroupState.others_waiting`` says who counts).
    Staff may override with a reason."""
    member = profile.member
    if member is None or profile.affiliation != ParticipantProfile.Affiliation.MEMBER:
        return Check(ONE_PER_MEMBER, True, _("Not a Member representative."))
    if member.pk not in state.member_ids_holding(excluding_offer=excluding_offer):
        return Check(ONE_PER_MEMBER, True, _("First representative of %(m)s.") % {"m": member})
    others_waiting = state.others_waiting(profile, excluding_offer=excluding_offer)
    if state.free(excluding_offer=excluding_offer) > 0 and not others_waiting:
        return Check(
            ONE_PER_MEMBER,
            True,
            _(
                "A second representative of %(m)s: capacity allows (seats are free and nobody "
                "else is waiting)."
            )
            % {"m": member},
        )
    if others_waiting:
        message = _(
            "%(m)s already has a representative in this group, and others are waiting for seats."
        )
    else:
        message = _("%(m)s already has a representative in this group, and no seat is free.")
    return Check(ONE_PER_MEMBER, False, message % {"m": member}, overridable=True)


def member_group_limit_check(state: GroupState, profile: ParticipantProfile) -> Check:
    """When a group is oversubscribed, a Member may be limited to one or two groups. A group
    counts when the Member holds a seat or an open offer there: an offer may yet be accepted."""
    limit = state.group.organisation.member_group_limit
    member = profile.member
    if not limit or member is None:
        return Check(MEMBER_GROUP_LIMIT, True, _("No limit on groups per Member applies."))
    groups_held = len(state.groups_elsewhere.get(member.pk, ()))
    if groups_held >= limit and state.oversubscribed:
        return Check(
            MEMBER_GROUP_LIMIT,
            False,
            _(
                "%(m)s already sits in or is offered a seat in %(n)d other group(s), and this "
                "group is oversubscribed: Members are limited to %(limit)d group(s) so that more "
                "Members are represented."
            )
            % {"m": member, "n": groups_held, "limit": limit},
            overridable=True,
        )
    return Check(
        MEMBER_GROUP_LIMIT,
        True,
        _("%(m)s sits in or is offered a seat in %(n)d other group(s).")
        % {"m": member, "n": groups_held},
    )


def seating_checks(
    state: GroupState, profile: ParticipantProfile, *, excluding_offer: Offer | None = None
) -> list[Check]:
    """Every rule that bears on seating ``profile`` in the group, in the order staff read them."""
    already = any(seat.holder_id == profile.user_id for seat in state.held_seats)
    checks = [
        eligibility(profile),
        Check(
            ALREADY_SEATED,
            not already,
            _("Already holds a seat.") if already else _("Not seated yet."),
        ),
        cap_check(state, excluding_offer=excluding_offer),
        one_per_member_check(state, profile, excluding_offer=excluding_offer),
        member_group_limit_check(state, profile),
    ]
    return checks


def blocking(checks: Iterable[Check], *, override: bool = False) -> list[Check]:
    """The checks that refuse the step; with ``override`` the overridable ones are let through."""
    return [c for c in checks if c.blocks and not (override and c.overridable)]


def waiting_order() -> tuple[str, ...]:
    return ("-priority", "applied_at", "id")


def waiting_filter() -> Q:
    return Q(status=Application.Status.WAITING)
