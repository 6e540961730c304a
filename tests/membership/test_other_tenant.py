"""A service handed another tenant's object refuses it with ``OtherTenant`` and writes nothing.

Views only ever find objects inside the tenant's scope; these tests hand the services objects of
another organisation directly (as a form posting a foreign id, a task or the shell could), both
inside the tenant's scope and, where the service names the organisation, outside any scope.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from asi_wg.errors import OtherTenant
from asi_wg.models import AuditEntry, Organisation, User
from groups.models import WorkingGroup
from membership import services
from membership.models import (
    AntitrustAcknowledgement,
    Application,
    Offer,
    ParticipantProfile,
    Seat,
)
from tests.factories import (
    AntitrustPolicyFactory,
    ApplicationFactory,
    FocusAreaFactory,
    MemberFactory,
    ParticipantProfileFactory,
    UserFactory,
    WorkingGroupFactory,
)

pytestmark = pytest.mark.django_db

WRITTEN = (ParticipantProfile, Application, Seat, Offer, AntitrustAcknowledgement, AuditEntry)


def rows() -> dict[str, Any]:
    """Every row a refused call could have written or changed, across both tenants."""
    with scopes_disabled():
        found: dict[str, Any] = {
            model.__name__: sorted(model.objects.values_list("pk", flat=True)) for model in WRITTEN
        }
        found["statuses"] = sorted(Application.objects.values_list("pk", "status"))
        found["offers"] = sorted(Offer.objects.values_list("pk", "status"))
        found["seats"] = sorted(Seat.objects.values_list("pk", "ended_at"))
        found["profiles"] = sorted(ParticipantProfile.objects.values_list("pk", "member_id"))
        found["caps"] = sorted(WorkingGroup.objects.values_list("pk", "seat_cap"))
        found["priorities"] = sorted(Application.objects.values_list("pk", "priority"))
    return found


@pytest.fixture
def refused() -> Callable[..., None]:
    """``refused(call, thing)``: the call raises OtherTenant naming ``thing``, nothing changed."""

    def check(call: Callable[[], object], thing: str) -> None:
        before = rows()
        with pytest.raises(OtherTenant, match=f"This {thing} belongs to another organisation."):
            call()
        assert rows() == before

    return check


@pytest.fixture
def staff(secretariat: User) -> User:
    return secretariat


@pytest.fixture
def theirs(other_org: Organisation, other_secretariat: User) -> dict[str, Any]:
    """The other tenant's group with a seat, an open offer and a waiting application."""
    group = WorkingGroupFactory.create(organisation=other_org, seat_cap=2, slug="theirs")
    seated, offered, waiting = (ApplicationFactory.create(group=group) for _ in range(3))
    with scope(organisation=other_org):
        seat = services.seat_take(application=seated, acting_user=other_secretariat)
        services.application_waitlist(application=offered, acting_user=other_secretariat)
        (offer,) = services.waitlist_promote(group=group)
        services.application_waitlist(application=waiting, acting_user=other_secretariat)
    return {"group": group, "seat": seat, "offer": offer, "application": waiting}


# --- Profiles and the antitrust policy --------------------------------------------------------


@pytest.mark.parametrize("in_scope", [True, False])
def test_profile_save_refuses_another_tenants_member(
    org: Organisation, other_org: Organisation, refused: Callable[..., None], in_scope: bool
) -> None:
    person = UserFactory.create()
    foreign = MemberFactory.create(organisation=other_org)
    data = {"affiliation": ParticipantProfile.Affiliation.MEMBER, "member": foreign}

    def save() -> None:
        services.profile_save(organisation=org, user=person, data=data)

    if in_scope:
        with scope(organisation=org):
            refused(save, "Member")
    else:
        refused(save, "Member")


def test_profile_save_keeps_the_member_when_another_tenants_is_posted(
    org: Organisation, other_org: Organisation, refused: Callable[..., None]
) -> None:
    profile = ParticipantProfileFactory.create(organisation=org)
    foreign = MemberFactory.create(organisation=other_org)
    with scope(organisation=org):
        refused(
            lambda: services.profile_save(
                organisation=org, user=profile.user, data={"member": foreign}
            ),
            "Member",
        )
    with scopes_disabled():
        assert ParticipantProfile.objects.get(pk=profile.pk).member_id == profile.member_id


def test_antitrust_acknowledge_refuses_another_tenants_policy(
    org: Organisation, other_org: Organisation, refused: Callable[..., None]
) -> None:
    policy = AntitrustPolicyFactory.create(organisation=other_org, version=1, body="Rules.")
    person = UserFactory.create()
    with scope(organisation=org):
        refused(
            lambda: services.antitrust_acknowledge(organisation=org, user=person, policy=policy),
            "antitrust policy version",
        )


def test_expert_invite_refuses_another_tenants_profile(
    org: Organisation, other_org: Organisation, staff: User, refused: Callable[..., None]
) -> None:
    expert = ParticipantProfileFactory.create(
        organisation=other_org, affiliation=ParticipantProfile.Affiliation.EXPERT
    )
    with scope(organisation=org):
        refused(
            lambda: services.expert_invite(profile=expert, acting_user=staff),
            "participant profile",
        )
    with scopes_disabled():
        assert ParticipantProfile.objects.get(pk=expert.pk).expert_invited_at is None


# --- Applications -----------------------------------------------------------------------------


def test_application_submit_refuses_another_tenants_group(
    org: Organisation, theirs: dict[str, Any], refused: Callable[..., None]
) -> None:
    profile = ParticipantProfileFactory.create(organisation=org)
    group = theirs["group"]
    area = FocusAreaFactory.create(group=group)
    with scope(organisation=org):
        refused(
            lambda: services.application_submit(
                group=group, user=profile.user, focus_areas=[area], statement="Hello"
            ),
            "working group",
        )


def test_application_submit_refuses_another_tenants_focus_area(
    org: Organisation, other_org: Organisation, refused: Callable[..., None]
) -> None:
    profile = ParticipantProfileFactory.create(organisation=org)
    group = WorkingGroupFactory.create(organisation=org)
    own = FocusAreaFactory.create(group=group)
    foreign = FocusAreaFactory.create(group=WorkingGroupFactory.create(organisation=other_org))
    with scope(organisation=org):
        refused(
            lambda: services.application_submit(
                group=group, user=profile.user, focus_areas=[own, foreign], statement="Hello"
            ),
            "focus area",
        )


@pytest.mark.parametrize(
    "action",
    [
        lambda a, staff: services.application_waitlist(application=a, acting_user=staff),
        lambda a, staff: services.application_decline(application=a, acting_user=staff),
        lambda a, staff: services.application_withdraw(application=a, acting_user=staff),
        lambda a, staff: services.seat_take(application=a, acting_user=staff),
        lambda a, staff: services.application_reprioritise(
            application=a, priority=5, reason="Moved up.", acting_user=staff
        ),
    ],
    ids=["waitlist", "decline", "withdraw", "seat_take", "reprioritise"],
)
def test_application_services_refuse_another_tenants_application(
    org: Organisation,
    staff: User,
    theirs: dict[str, Any],
    refused: Callable[..., None],
    action: Callable[[Application, User], object],
) -> None:
    with scope(organisation=org):
        refused(lambda: action(theirs["application"], staff), "application")


def test_bulk_seat_reports_another_tenants_application_and_seats_nobody(
    org: Organisation, staff: User, theirs: dict[str, Any]
) -> None:
    before = rows()
    with scope(organisation=org):
        (outcome,) = services.applications_bulk_decide(
            applications=[theirs["application"]], action=services.BULK_SEAT, acting_user=staff
        )
    assert not outcome.ok
    assert outcome.message == "This application belongs to another organisation."
    assert rows() == before


# --- Seats, offers and the cap ----------------------------------------------------------------


def test_seat_end_refuses_another_tenants_seat(
    org: Organisation, staff: User, theirs: dict[str, Any], refused: Callable[..., None]
) -> None:
    with scope(organisation=org):
        refused(
            lambda: services.seat_end(
                seat=theirs["seat"], reason=Seat.EndReason.WITHDREW, acting_user=staff
            ),
            "seat",
        )


def test_offer_accept_and_decline_refuse_another_tenants_offer(
    org: Organisation, theirs: dict[str, Any], refused: Callable[..., None]
) -> None:
    offer = theirs["offer"]
    with scopes_disabled():
        person = Application.objects.get(pk=offer.application_id).applicant
    with scope(organisation=org):
        refused(lambda: services.offer_accept(offer=offer, user=person), "offer")
        refused(lambda: services.offer_decline(offer=offer, user=person), "offer")


def test_group_services_refuse_another_tenants_group(
    org: Organisation, staff: User, theirs: dict[str, Any], refused: Callable[..., None]
) -> None:
    group = theirs["group"]
    with scope(organisation=org):
        refused(
            lambda: services.group_seat_cap_change(group=group, seat_cap=5, acting_user=staff),
            "working group",
        )
        refused(lambda: services.waitlist_promote(group=group), "working group")


def test_offers_expire_refuses_another_tenant_inside_a_tenants_scope(
    org: Organisation, other_org: Organisation, theirs: dict[str, Any]
) -> None:
    later = timezone.now() + datetime.timedelta(days=30)
    before = rows()
    with scope(organisation=org), pytest.raises(OtherTenant):
        services.offers_expire(organisation=other_org, now=later)
    assert rows() == before
    with scope(organisation=other_org):
        assert services.offers_expire(organisation=other_org, now=later) == 1
