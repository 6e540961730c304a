"""Reads of profiles, applications, seats and the antitrust policy that several callers need.

Every function here runs inside the tenant's scope (the tenant middleware, or ``scope()`` in a
task) and returns only the rows of the organisation it is given and of the person it is asked
about, so a view that uses them cannot show another person's or another tenant's data.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from asi_wg.caching import public_cached
from asi_wg.models import Organisation, User
from groups.models import FocusArea, WorkingGroup
from membership import rules
from membership.models import (
    AntitrustAcknowledgement,
    AntitrustPolicy,
    Application,
    Member,
    Offer,
    ParticipantProfile,
    Seat,
)

# --- Profiles ---------------------------------------------------------------------------------


def profile_for(*, organisation: Organisation, user: Any) -> ParticipantProfile | None:
    """The person's profile in this organisation, with the Member it represents, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        ParticipantProfile.objects.filter(organisation=organisation, user=user)
        .select_related("member")
        .first()
    )


def current_members(*, organisation: Organisation) -> QuerySet[Member]:
    """The Members whose representatives may take part, by name (the profile form's choices)."""
    return Member.objects.filter(organisation=organisation, is_current=True).order_by("name")


# --- The antitrust policy ---------------------------------------------------------------------


@dataclass(frozen=True)
class AntitrustStatus:
    """The tenant's current policy version and whether the person acknowledged it."""

    policy: AntitrustPolicy | None
    acknowledged_at: datetime.datetime | None

    @property
    def acknowledged(self) -> bool:
        """True when there is nothing to acknowledge, or the current version is acknowledged."""
        return self.policy is None or self.acknowledged_at is not None

    @property
    def needs_acknowledgement(self) -> bool:
        return not self.acknowledged


def current_policy(organisation: Organisation) -> AntitrustPolicy | None:
    return AntitrustPolicy.objects.filter(organisation=organisation).order_by("-version").first()


def antitrust_status(*, organisation: Organisation, user: Any) -> AntitrustStatus:
    """The current policy version and the person's acknowledgement of it, in one query."""
    if not getattr(user, "is_authenticated", False):
        return AntitrustStatus(
            policy=AntitrustPolicy.objects.filter(organisation=organisation)
            .order_by("-version")
            .first(),
            acknowledged_at=None,
        )
    acknowledged_at = AntitrustAcknowledgement.objects.filter(
        policy=OuterRef("pk"), user=user
    ).values("acknowledged_at")[:1]
    policy = (
        AntitrustPolicy.objects.filter(organisation=organisation)
        .annotate(my_acknowledged_at=Subquery(acknowledged_at))
        .order_by("-version")
        .first()
    )
    return AntitrustStatus(
        policy=policy,
        acknowledged_at=getattr(policy, "my_acknowledged_at", None),
    )


def antitrust_acknowledged(
    *, user: Any, organisation: str = "organisation", organisation_id: Any = None
) -> ExpressionWrapper:
    """``AntitrustStatus.acknowledged`` as an annotation on rows whose ``organisation`` field
    names the tenant (or of the tenant ``organisation_id``): it has no policy, or ``user``
    acknowledged its current version. Annotated on the row a page or service reads anyway, it
    saves a query."""
    if organisation_id is None:
        # The current version, seen from the row and from within the acknowledgements' subquery
        # (one level further in: a plain OuterRef there would name the acknowledgement's own
        # tenant, and count another tenant's current version).
        tenant: Any = OuterRef(organisation)
        tenant_within: Any = OuterRef(OuterRef(organisation))
    else:
        tenant = tenant_within = organisation_id
    current = AntitrustPolicy.objects.filter(organisation=tenant).order_by("-version")
    current_within = AntitrustPolicy.objects.filter(organisation=tenant_within).order_by("-version")
    acknowledged = AntitrustAcknowledgement.objects.filter(
        user=user, policy=Subquery(current_within.values("pk")[:1])
    )
    return ExpressionWrapper(~Exists(current) | Exists(acknowledged), output_field=BooleanField())


def seat_held(*, user: Any, group: str = "group") -> Exists:
    """Whether ``user`` holds a seat now in the group that the outer row's ``group`` field
    names, as an annotation or filter."""
    return Exists(Seat.objects.filter(group=OuterRef(group), holder=user, ended_at__isnull=True))


def participant_access(organisation: Organisation, user: Any, group: WorkingGroup) -> bool:
    """Whether ``user`` may take part in ``group`` now: the guard for the group's materials.

    True only for an active account that holds a seat in the group (in this organisation) and
    has acknowledged the organisation's current antitrust policy version. Publishing a new
    version therefore closes access until the person acknowledges it again. Staff access is a
    separate question (the secretariat's role), not answered here.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if group.organisation_id != organisation.pk:
        return False
    held = Seat.objects.filter(group=group, holder=user, ended_at__isnull=True)
    if not held.exists():
        return False
    return antitrust_status(organisation=organisation, user=user).acknowledged


# --- Applications -----------------------------------------------------------------------------


def _ahead_on_waiting_list() -> Subquery:
    """How many waiting applications of the same group stand before the outer one.

    The same order as ``waiting_position`` and ``rules.waiting_order``: higher priority
    first, then earlier applications, then lower ids.
    """
    same_priority = Q(priority=OuterRef("priority"))
    ahead = (
        Application.objects.filter(group_id=OuterRef("group_id"), status=Application.Status.WAITING)
        .filter(
            Q(priority__gt=OuterRef("priority"))
            | (same_priority & Q(applied_at__lt=OuterRef("applied_at")))
            | (same_priority & Q(applied_at=OuterRef("applied_at"), pk__lt=OuterRef("pk")))
        )
        .order_by()
        .values("group_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Subquery(ahead, output_field=IntegerField())


def waiting_position(application: Application) -> int | None:
    """1-based place on the group's waiting list, or None when not waiting."""
    if application.status != Application.Status.WAITING:
        return None
    same = Q(priority=application.priority)
    ahead = (
        Q(priority__gt=application.priority)
        | (same & Q(applied_at__lt=application.applied_at))
        | (same & Q(applied_at=application.applied_at, pk__lt=application.pk))
    )
    return (
        Application.objects.filter(group_id=application.group_id, status=Application.Status.WAITING)
        .filter(ahead)
        .count()
        + 1
    )


@dataclass
class ApplicationRow:
    """One application as its applicant sees it on the dashboard."""

    application: Application
    waiting_position: int | None
    open_offer: Offer | None
    last_offer: Offer | None
    offer_expired: bool
    can_withdraw: bool
    can_reapply: bool

    @property
    def group(self) -> WorkingGroup:
        return self.application.group


@dataclass
class SeatRow:
    seat: Seat
    active: bool


@dataclass
class Dashboard:
    profile: ParticipantProfile | None
    eligibility: rules.Check
    antitrust: AntitrustStatus
    applications: list[ApplicationRow]
    seats: list[SeatRow]
    groups_to_apply: list[WorkingGroup] = field(default_factory=list)

    @property
    def has_open_offer(self) -> bool:
        return any(row.open_offer is not None for row in self.applications)


def applications_for_person(*, organisation: Organisation, user: User) -> QuerySet[Application]:
    """The person's applications in this organisation, each with its group, focus areas, offers
    (newest first) and its place on the waiting list as ``ahead`` (a fixed number of queries)."""
    return (
        Application.objects.filter(group__organisation=organisation, applicant=user)
        .select_related("group")
        .annotate(ahead=Coalesce(_ahead_on_waiting_list(), 0))
        .prefetch_related(
            Prefetch("focus_areas", queryset=FocusArea.objects.order_by("position", "id")),
            Prefetch("offers", queryset=Offer.objects.order_by("-offered_at", "-id")),
        )
        .order_by("group__number", "group__name", "pk")
    )


def _group_order(group: WorkingGroup) -> tuple[int, int, int, str]:
    """Top-level groups by number, each followed by its subgroups."""
    if group.parent is None:
        return (group.number, 0, 0, group.name)
    return (group.parent.number, 1, group.number, group.name)


def groups_in_order(organisation: Organisation) -> list[WorkingGroup]:
    """Every group of the tenant with its parent, each top-level group followed by its
    subgroups: from the tenant's public cache until a group changes."""
    return public_cached(
        organisation.pk,
        "groups-in-order",
        build=lambda: sorted(
            WorkingGroup.objects.filter(organisation=organisation).select_related("parent"),
            key=_group_order,
        ),
    )


def dashboard_for(
    *, organisation: Organisation, user: User, now: datetime.datetime | None = None
) -> Dashboard:
    """Everything the person's page in this organisation shows, in a fixed number of queries."""
    now = now or timezone.now()
    profile = profile_for(organisation=organisation, user=user)
    antitrust = antitrust_status(organisation=organisation, user=user)
    rows = []
    for application in applications_for_person(organisation=organisation, user=user):
        offers = list(application.offers.all())
        open_offer = next((o for o in offers if o.status == Offer.Status.OPEN), None)
        expired = open_offer is not None and open_offer.expires_at <= now
        waiting = application.status == Application.Status.WAITING
        rows.append(
            ApplicationRow(
                application=application,
                waiting_position=application.ahead + 1 if waiting else None,  # type: ignore[attr-defined]
                open_offer=None if expired else open_offer,
                last_offer=offers[0] if offers else None,
                offer_expired=expired or application.status == Application.Status.OFFER_EXPIRED,
                can_withdraw=application.status in Application.WITHDRAWABLE,
                can_reapply=application.status in Application.REAPPLICABLE,
            )
        )
    seats = [
        SeatRow(seat=seat, active=antitrust.acknowledged)
        for seat in Seat.objects.filter(
            group__organisation=organisation, holder=user, ended_at__isnull=True
        )
        .select_related("group")
        .order_by("group__number", "group__name")
    ]
    applied = {
        row.application.group_id
        for row in rows
        if row.application.status not in Application.REAPPLICABLE
    }
    groups_to_apply = [group for group in groups_in_order(organisation) if group.pk not in applied]
    return Dashboard(
        profile=profile,
        eligibility=rules.eligibility(profile),
        antitrust=antitrust,
        applications=rows,
        seats=seats,
        groups_to_apply=groups_to_apply,
    )


def application_of_person(*, organisation: Organisation, user: User, pk: int) -> Application | None:
    """One of the person's own applications in this organisation, or None (for anyone else's)."""
    return (
        Application.objects.filter(group__organisation=organisation, applicant=user, pk=pk)
        .select_related("group")
        .first()
    )


def offer_of_person(*, organisation: Organisation, user: User, pk: int) -> Offer | None:
    """One of the offers made to the person in this organisation, or None (for anyone else's)."""
    return (
        Offer.objects.filter(group__organisation=organisation, application__applicant=user, pk=pk)
        .select_related("group", "application")
        .first()
    )


def application_for_group(*, group: WorkingGroup, user: User) -> Application | None:
    return Application.objects.filter(group=group, applicant=user).first()


def group_for_application(*, organisation: Organisation, slug: str) -> WorkingGroup | None:
    """A group of this organisation by its address, with its focus areas, or None."""
    return (
        WorkingGroup.objects.filter(organisation=organisation, slug=slug)
        .select_related("parent")
        .first()
    )


def focus_areas_in_order(*, group: WorkingGroup) -> list[FocusArea]:
    """The group's focus areas as its page lists them: each top-level item, then its sub-items."""
    areas = list(FocusArea.objects.filter(group=group).order_by("position", "id"))
    children: dict[int | None, list[FocusArea]] = {}
    for area in areas:
        children.setdefault(area.parent_id, []).append(area)
    ordered: list[FocusArea] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for area in children.get(parent_id, []):
            area.depth = depth  # type: ignore[attr-defined]
            ordered.append(area)
            walk(area.pk, depth + 1)

    walk(None, 0)
    return ordered


def participation_summary(group: WorkingGroup) -> dict[str, Any]:
    """What the public may see of who takes part: organisations and stakeholder categories, and
    a person's name only where that person consented to its publication. Two queries."""
    seats = list(
        Seat.objects.filter(group=group, ended_at__isnull=True)
        .select_related("member", "holder")
        .order_by("member__name", "id")
    )
    profiles = {
        profile.user_id: profile
        for profile in ParticipantProfile.objects.filter(
            organisation_id=group.organisation_id, user_id__in=[seat.holder_id for seat in seats]
        ).select_related("member")
    }
    organisations: list[str] = []
    named: list[str] = []
    for seat in seats:
        profile = profiles.get(seat.holder_id)
        label = (
            profile.public_label
            if profile is not None
            else (seat.member.name if seat.member else "")
        )
        if label and label not in organisations:
            organisations.append(label)
        if profile is not None and profile.name_consent and seat.holder.full_name:
            named.append(f"{seat.holder.full_name} ({label})" if label else seat.holder.full_name)
    return {
        "count": len(seats),
        "organisations": sorted(organisations, key=str.casefold),
        "named": sorted(named, key=str.casefold),
    }


def group_page_participation(group: WorkingGroup, request: HttpRequest) -> dict[str, Any]:
    """The group page's "who takes part" section (registered with ``groups.page``): public, so
    read only when the page's cached public part is rendered afresh."""
    return {"participation": SimpleLazyObject(lambda: participation_summary(group))}


# --- The staff index -------------------------------------------------------------------------


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
