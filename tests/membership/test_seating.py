"""Seating, the cap, one representative per Member, and the waiting list with offers."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from asi_wg.models import AuditEntry, Organisation
from groups.models import WorkingGroup
from membership import rules, selectors, services
from membership.models import Application, Offer, ParticipantProfile, Seat, SentNotification
from tests.factories import (
    ApplicationFactory,
    MemberFactory,
    ParticipantProfileFactory,
    UserFactory,
    WorkingGroupFactory,
)

# Real commits: the promotion job and the e-mails run on commit, as they do in production.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def group(org: Organisation) -> WorkingGroup:
    return WorkingGroupFactory.create(organisation=org, seat_cap=3, slug="circularity")


@pytest.fixture
def staff(secretariat):
    return secretariat


def apply(group: WorkingGroup, **kwargs) -> Application:
    return ApplicationFactory.create(group=group, **kwargs)


def held(group: WorkingGroup) -> int:
    with scopes_disabled():
        seats = Seat.objects.filter(group=group, ended_at__isnull=True).count()
        offers = Offer.objects.filter(group=group, status=Offer.Status.OPEN).count()
    return seats + offers


def test_seat_take_seats_and_grants_the_participant_role(group, staff, org) -> None:
    application = apply(group)
    with scope(organisation=org):
        seat = services.seat_take(application=application, acting_user=staff)
        application.refresh_from_db()
        assert application.status == Application.Status.SEATED
        assert AuditEntry.objects.filter(action="seat.take").count() == 1
    holder = type(seat.holder).objects.get(pk=seat.holder.pk)
    assert holder.has_perm("groups.participate_workinggroup", group)


def test_seat_take_refuses_the_fourth_seat_of_three(group, staff, org) -> None:
    applications = [apply(group) for _ in range(4)]
    with scope(organisation=org):
        for application in applications[:3]:
            services.seat_take(application=application, acting_user=staff)
        with pytest.raises(services.SeatCapReached, match="All 3 seats"):
            services.seat_take(application=applications[3], acting_user=staff)
    assert held(group) == 3


def test_second_representative_needs_capacity_or_a_recorded_override(group, staff, org) -> None:
    member = MemberFactory.create(organisation=org, name="Alu Corp")
    first = apply(group, profile=ParticipantProfileFactory.create(organisation=org, member=member))
    second = apply(group, profile=ParticipantProfileFactory.create(organisation=org, member=member))
    other = apply(group)  # someone from another Member is waiting
    with scope(organisation=org):
        services.seat_take(application=first, acting_user=staff)
        with pytest.raises(services.RuleBlocks, match="already has a representative"):
            services.seat_take(application=second, acting_user=staff)
        seat = services.seat_take(
            application=second, acting_user=staff, override_reason="Covers the smelter side."
        )
        assert seat.override_reason == "Covers the smelter side."
        entry = AuditEntry.objects.get(action="seat.take", target_id=str(seat.pk))
        assert entry.data["overridden"] == ["one_per_member"]
        # The person from another Member is still waiting: the override did not take their seat.
        assert Application.objects.get(pk=other.pk).status == Application.Status.SUBMITTED


def test_second_representative_allowed_when_capacity_allows(group, staff, org) -> None:
    member = MemberFactory.create(organisation=org)
    first = apply(group, profile=ParticipantProfileFactory.create(organisation=org, member=member))
    second = apply(group, profile=ParticipantProfileFactory.create(organisation=org, member=member))
    with scope(organisation=org):
        services.seat_take(application=first, acting_user=staff)
        seat = services.seat_take(application=second, acting_user=staff)
        assert seat.override_reason == ""


def test_former_members_representative_cannot_apply(group, org) -> None:
    member = MemberFactory.create(organisation=org, is_current=False, name="Gone Ltd")
    profile = ParticipantProfileFactory.create(organisation=org, member=member)
    with scope(organisation=org), pytest.raises(services.NotEligible, match="no longer a Member"):
        services.application_submit(
            group=group, user=profile.user, focus_areas=[], statement="Hello"
        )


def test_uninvited_expert_cannot_apply_and_invited_one_can(group, org, staff) -> None:
    profile = ParticipantProfileFactory.create(
        organisation=org, affiliation=ParticipantProfile.Affiliation.EXPERT
    )
    with scope(organisation=org):
        with pytest.raises(services.NotEligible, match="by invitation"):
            services.application_submit(
                group=group, user=profile.user, focus_areas=[], statement="LCA expert"
            )
        services.expert_invite(profile=profile, acting_user=staff)
        application = services.application_submit(
            group=group, user=profile.user, focus_areas=[], statement="LCA expert"
        )
        assert application.status == Application.Status.SUBMITTED


def test_applying_twice_is_refused(group, org) -> None:
    profile = ParticipantProfileFactory.create(organisation=org)
    with scope(organisation=org):
        services.application_submit(group=group, user=profile.user, focus_areas=[], statement="A")
        with pytest.raises(services.AlreadyApplied):
            services.application_submit(
                group=group, user=profile.user, focus_areas=[], statement="B"
            )
        assert Application.objects.filter(applicant=profile.user).count() == 1


def test_freed_seat_is_offered_to_the_next_on_the_list_and_accepted(group, staff, org) -> None:
    seated = [apply(group) for _ in range(3)]
    waiting = [apply(group) for _ in range(2)]
    with scope(organisation=org):
        seats = [services.seat_take(application=a, acting_user=staff) for a in seated]
        for application in waiting:
            services.application_waitlist(application=application, acting_user=staff)
        assert selectors.waiting_position(Application.objects.get(pk=waiting[1].pk)) == 2
        services.seat_end(seat=seats[0], reason=Seat.EndReason.WITHDREW, acting_user=staff)
        # The promotion job ran on commit (eagerly in tests): one offer, to the first waiting.
        offer = Offer.objects.get(status=Offer.Status.OPEN)
        assert offer.application_id == waiting[0].pk
        assert held(group) == 3
        seat = services.offer_accept(offer=offer, user=waiting[0].applicant)
        assert seat.holder == waiting[0].applicant
        assert Offer.objects.get(pk=offer.pk).status == Offer.Status.ACCEPTED
    assert held(group) == 3


def test_expired_offer_moves_on_to_the_next(group, staff, org) -> None:
    group.seat_cap = 1
    group.save()
    first, second = apply(group), apply(group)
    with scope(organisation=org):
        services.application_waitlist(application=first, acting_user=staff)
        services.application_waitlist(application=second, acting_user=staff)
        offer = Offer.objects.get(status=Offer.Status.OPEN)
        assert offer.application_id == first.pk
        later = timezone.now() + datetime.timedelta(days=8)
        assert services.offers_expire(organisation=org, now=later) == 1
        now_open = Offer.objects.get(status=Offer.Status.OPEN)
        # Run again: the expired offer is not expired twice, the new one is not due yet.
        assert services.offers_expire(organisation=org, now=timezone.now()) == 0
        assert now_open.application_id == second.pk
        with pytest.raises(services.OfferNotOpen):
            services.offer_accept(offer=offer, user=first.applicant)


def test_accepting_after_expiry_is_refused_and_the_seat_moves_on(group, staff, org) -> None:
    group.seat_cap = 1
    group.save()
    first, second = apply(group), apply(group)
    with scope(organisation=org):
        services.application_waitlist(application=first, acting_user=staff)
        services.application_waitlist(application=second, acting_user=staff)
        offer = Offer.objects.get(status=Offer.Status.OPEN)
        later = timezone.now() + datetime.timedelta(days=8)
        with pytest.raises(services.OfferExpired):
            services.offer_accept(offer=offer, user=first.applicant, now=later)
        assert Offer.objects.get(pk=offer.pk).status == Offer.Status.EXPIRED
        assert Offer.objects.get(status=Offer.Status.OPEN).application_id == second.pk


def test_someone_elses_offer_cannot_be_accepted(group, staff, org) -> None:
    group.seat_cap = 1
    group.save()
    application = apply(group)
    with scope(organisation=org):
        services.application_waitlist(application=application, acting_user=staff)
        offer = Offer.objects.get()
        with pytest.raises(services.NotYourOffer):
            services.offer_accept(offer=offer, user=UserFactory.create())
        assert Offer.objects.get().status == Offer.Status.OPEN


def test_promotion_twice_makes_one_offer_and_one_notification(group, staff, org) -> None:
    group.seat_cap = 1
    group.save()
    application = apply(group)
    with scope(organisation=org):
        services.application_waitlist(application=application, acting_user=staff)
        assert services.waitlist_promote(group=group) == []
        assert services.waitlist_promote(group=group) == []
        assert Offer.objects.count() == 1
        assert SentNotification.objects.filter(key__startswith="offer:").count() == 1
    offers_mailed = [
        m
        for m in mail.outbox
        if m.to == [application.applicant.email] and "is offered to you" in m.subject
    ]
    assert len(offers_mailed) == 1


def test_cap_cannot_drop_below_seats_held(group, staff, org) -> None:
    applications = [apply(group) for _ in range(3)]
    with scope(organisation=org):
        for application in applications:
            services.seat_take(application=application, acting_user=staff)
        with pytest.raises(services.DomainError, match="3 seats are held"):
            services.group_seat_cap_change(group=group, seat_cap=2, acting_user=staff)
        waiting = apply(group)
        services.application_waitlist(application=waiting, acting_user=staff)
        assert not Offer.objects.exists()
        services.group_seat_cap_change(group=group, seat_cap=4, acting_user=staff)
        assert Offer.objects.get().application_id == waiting.pk


def test_no_longer_eligible_applicant_is_skipped_and_recorded_once(group, staff, org) -> None:
    group.seat_cap = 1
    group.save()
    gone = MemberFactory.create(organisation=org, name="Gone Ltd")
    first = apply(group, profile=ParticipantProfileFactory.create(organisation=org, member=gone))
    second = apply(group)
    with scope(organisation=org):
        services.seat_take(application=apply(group), acting_user=staff)
        services.application_waitlist(application=first, acting_user=staff)
        services.application_waitlist(application=second, acting_user=staff)
        gone.is_current = False
        gone.save()
        seat = Seat.objects.get()
        services.seat_end(seat=seat, reason=Seat.EndReason.WITHDREW, acting_user=staff)
        services.waitlist_promote(group=group)
        offer = Offer.objects.get(status=Offer.Status.OPEN)
        assert offer.application_id == second.pk
        skips = AuditEntry.objects.filter(action="waitlist.skip", target_id=str(first.pk))
        assert skips.count() == 1
        assert "no longer a Member" in skips.get().data["reason"]


def test_accepting_when_no_longer_eligible_releases_the_seat_to_the_next(group, staff, org) -> None:
    group.seat_cap = 1
    group.save()
    leaving = MemberFactory.create(organisation=org, name="Leaving Ltd")
    first = apply(group, profile=ParticipantProfileFactory.create(organisation=org, member=leaving))
    second = apply(group)
    with scope(organisation=org):
        services.application_waitlist(application=first, acting_user=staff)
        services.application_waitlist(application=second, acting_user=staff)
        offer = Offer.objects.get(status=Offer.Status.OPEN)
        assert offer.application_id == first.pk
        leaving.is_current = False
        leaving.save()
        with pytest.raises(services.NotEligible, match="no longer a Member"):
            services.offer_accept(offer=offer, user=first.applicant)
        assert Offer.objects.get(pk=offer.pk).status == Offer.Status.WITHDRAWN
        assert Offer.objects.get(status=Offer.Status.OPEN).application_id == second.pk
        assert not Seat.objects.filter(holder=first.applicant).exists()


def test_a_decided_application_cannot_be_withdrawn_to_jump_the_queue(group, staff, org) -> None:
    application = apply(group)
    with scope(organisation=org):
        services.application_decline(application=application, acting_user=staff)
        with pytest.raises(services.InvalidState, match="decided"):
            services.application_withdraw(
                application=application, acting_user=application.applicant
            )
        assert Application.objects.get(pk=application.pk).status == Application.Status.DECLINED


def test_priority_and_cap_outside_their_ranges_are_refused_with_a_message(
    group, staff, org
) -> None:
    application = apply(group)
    with scope(organisation=org):
        services.application_waitlist(application=application, acting_user=staff)
        with pytest.raises(services.DomainError, match="-999 to 999"):
            services.application_reprioritise(
                application=application, priority=40000, reason="Urgent", acting_user=staff
            )
        with pytest.raises(services.DomainError, match="from 1 to 500"):
            services.group_seat_cap_change(group=group, seat_cap=501, acting_user=staff)
        assert Application.objects.get(pk=application.pk).priority == 0


# --- Who counts as "waiting", and the limit of groups per Member ------------------------------


def rep_of(member, org) -> ParticipantProfile:
    return ParticipantProfileFactory.create(organisation=org, member=member)


def test_an_ineligible_applicant_does_not_block_a_second_representative(group, staff, org) -> None:
    member = MemberFactory.create(organisation=org, name="Alu Corp")
    gone = MemberFactory.create(organisation=org, name="Gone Ltd", is_current=False)
    first = apply(group, profile=rep_of(member, org))
    second = apply(group, profile=rep_of(member, org))
    waiting_second = apply(group, profile=rep_of(member, org), status=Application.Status.WAITING)
    # A former Member's representative, still on the list: they can never be seated.
    apply(group, profile=rep_of(gone, org), status=Application.Status.WAITING)
    with scope(organisation=org):
        services.seat_take(application=first, acting_user=staff)
        state = rules.GroupState.read(WorkingGroup.objects.get(pk=group.pk))
        assert state.others_waiting(second.profile) == []
        seat = services.seat_take(application=second, acting_user=staff)
        assert seat.override_reason == ""
        # The waiting-list job offers the last seat to a third representative all the same.
        [offer] = services.waitlist_promote(group=group)
        assert offer.application_id == waiting_second.pk


def test_an_ipaf_participant_waiting_blocks_a_second_representative(group, staff, org) -> None:
    member = MemberFactory.create(organisation=org, name="Alu Corp")
    first = apply(group, profile=rep_of(member, org))
    second = apply(group, profile=rep_of(member, org), status=Application.Status.WAITING)
    ipaf = apply(
        group,
        profile=ParticipantProfileFactory.create(
            organisation=org, affiliation=ParticipantProfile.Affiliation.IPAF
        ),
    )
    with scope(organisation=org):
        services.seat_take(application=first, acting_user=staff)
        with pytest.raises(services.RuleBlocks, match="others are waiting"):
            services.seat_take(application=second, acting_user=staff)
        assert services.waitlist_promote(group=group) == []
        services.seat_take(application=ipaf, acting_user=staff)
        # Nobody else waits now: the second representative is offered the last seat.
        [offer] = services.waitlist_promote(group=group)
        assert offer.application_id == second.pk


def test_second_representatives_of_two_members_do_not_block_each_other(group, staff, org) -> None:
    group.seat_cap = 4
    group.save()
    alu, bau = (MemberFactory.create(organisation=org, name=n) for n in ("Alu Corp", "Bau Corp"))
    firsts = [apply(group, profile=rep_of(m, org)) for m in (alu, bau)]
    seconds = [
        apply(group, profile=rep_of(m, org), status=Application.Status.WAITING) for m in (alu, bau)
    ]
    with scope(organisation=org):
        for application in firsts:
            services.seat_take(application=application, acting_user=staff)
        # Each waits for the other, as the rule was counted before: nobody was ever offered.
        offers = services.waitlist_promote(group=group)
        assert sorted(o.application_id for o in offers) == sorted(a.pk for a in seconds)
    assert held(group) == 4


def test_an_open_offer_in_another_group_counts_for_the_group_limit(group, staff, org) -> None:
    org.member_group_limit = 1
    org.save()
    group.seat_cap = 1
    group.save()
    nature = WorkingGroupFactory.create(organisation=org, seat_cap=5, slug="nature")
    member = MemberFactory.create(organisation=org, name="Alu Corp")
    offered = apply(nature, profile=rep_of(member, org), status=Application.Status.WAITING)
    here = apply(group, profile=rep_of(member, org), status=Application.Status.WAITING)
    other = apply(group, status=Application.Status.WAITING)
    with scope(organisation=org):
        services.waitlist_promote(group=nature)
        assert Offer.objects.get(status=Offer.Status.OPEN).application_id == offered.pk
        # Two wait for one seat. Alu Corp holds no seat anywhere, but its offer in Nature may yet
        # be accepted: it cannot be seated here without a reason...
        with pytest.raises(services.RuleBlocks, match="is offered a seat in 1 other group"):
            services.seat_take(application=here, acting_user=staff)
        # ...and the waiting-list job passes over it, although it applied first.
        [offer] = services.waitlist_promote(group=group)
        assert offer.application_id == other.pk
        assert Application.objects.get(pk=here.pk).status == Application.Status.WAITING


def test_the_group_limit_reads_other_groups_once_not_per_applicant(
    group, staff, org, django_assert_num_queries
) -> None:
    org.member_group_limit = 1
    org.save()
    group.seat_cap = 1
    group.save()
    nature = WorkingGroupFactory.create(organisation=org, seat_cap=10, slug="nature")
    water = WorkingGroupFactory.create(organisation=org, seat_cap=10, slug="water")
    profiles, members = [], []
    for n in range(3):
        member = MemberFactory.create(organisation=org)
        members.append(member.pk)
        seated_elsewhere = apply(nature, profile=rep_of(member, org))
        with scope(organisation=org):
            services.seat_take(application=seated_elsewhere, acting_user=staff)
        if n:  # and an open offer in a third group
            apply(water, profile=rep_of(member, org), status=Application.Status.WAITING)
        profiles.append(apply(group, profile=rep_of(member, org)).profile)
    with scope(organisation=org):
        assert len(services.waitlist_promote(group=water)) == 2
        locked = WorkingGroup.objects.select_related("organisation").get(pk=group.pk)
        with django_assert_num_queries(4):  # seats, offers, waiting, other groups (one union)
            state = rules.GroupState.read(locked)
        with django_assert_num_queries(0):
            checks = [rules.member_group_limit_check(state, p) for p in profiles]
    assert [state.groups_elsewhere[m] for m in members] == [
        {nature.pk},
        {nature.pk, water.pk},
        {nature.pk, water.pk},
    ]
    assert [c.allowed for c in checks] == [False, False, False]


def test_ineligible_applicants_do_not_make_a_group_oversubscribed(group, staff, org) -> None:
    org.member_group_limit = 1
    org.save()
    group.seat_cap = 2
    group.save()
    nature = WorkingGroupFactory.create(organisation=org, seat_cap=5, slug="nature")
    member = MemberFactory.create(organisation=org, name="Alu Corp")
    gone = MemberFactory.create(organisation=org, name="Gone Ltd", is_current=False)
    here = apply(group, profile=rep_of(member, org))
    apply(group)  # eligible: two eligible applicants for two seats
    apply(group, profile=rep_of(gone, org))
    apply(
        group,
        profile=ParticipantProfileFactory.create(
            organisation=org, affiliation=ParticipantProfile.Affiliation.EXPERT
        ),
    )  # an expert the secretariat has not invited
    with scope(organisation=org):
        services.seat_take(
            application=apply(nature, profile=rep_of(member, org)), acting_user=staff
        )
        state = rules.GroupState.read(WorkingGroup.objects.get(pk=group.pk))
        assert len(state.waiting) == 4
        assert not state.oversubscribed
        seat = services.seat_take(application=here, acting_user=staff)
        assert seat.override_reason == ""
