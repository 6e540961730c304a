"""The organisation home and the group pages keep their public part in the cache: a write to
what they show appears on the very next request, whatever wrote it, and nothing of one person or
one tenant is ever shown to another."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_scopes import scope, scopes_disabled

from asi_wg.models import Organisation, User
from groups import services as group_services
from groups.models import GroupRole, Phase, PhaseExtension, WorkingGroup
from membership import services as membership_services
from membership.models import ParticipantProfile, Seat
from tests.factories import (
    ApplicationFactory,
    FocusAreaFactory,
    GroupLinkageFactory,
    MemberFactory,
    ParticipantProfileFactory,
    PhaseFactory,
    RevisionObjectiveFactory,
    StandardFactory,
    UserFactory,
    WorkingGroupFactory,
)

pytestmark = pytest.mark.django_db

HOME = "/alu/"
PAGE = "/alu/groups/circularity/"


@pytest.fixture
def circularity(org: Organisation) -> WorkingGroup:
    group = WorkingGroupFactory.create(organisation=org, name="Circularity", slug="circularity")
    PhaseFactory.create(group=group)
    return group


def page(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def seat(group: WorkingGroup, secretariat: User, **profile: Any) -> Seat:
    """A seat taken the way the secretariat takes it (role granted, audited)."""
    person = ParticipantProfileFactory.create(organisation=group.organisation, **profile)
    application = ApplicationFactory.create(group=group, applicant=person.user, profile=person)
    with scope(organisation=group.organisation):
        return membership_services.seat_take(application=application, acting_user=secretariat)


def test_a_renamed_group_shows_its_new_name_on_the_next_request(
    client: Client, circularity: WorkingGroup
) -> None:
    assert "Circularity" in page(client, HOME)
    assert "Up to 30 participants" not in page(client, PAGE)  # both pages now cached
    with scopes_disabled():
        circularity.name = "Circular Economy"
        circularity.save()
    assert ". Circular Economy</a>" in page(client, HOME)
    assert "Circular Economy working group" in page(client, PAGE)


def test_what_the_admin_adds_to_a_group_shows_on_the_next_request(
    client: Client, org: Organisation, circularity: WorkingGroup
) -> None:
    page(client, HOME), page(client, PAGE)
    nature = WorkingGroupFactory.create(organisation=org, name="Nature", slug="nature")
    FocusAreaFactory.create(group=circularity, title="Secondary aluminium")
    GroupLinkageFactory.create(from_group=circularity, to_group=nature, note="Mine closure.")
    with scopes_disabled():
        circularity.standards.add(StandardFactory.create(organisation=org, name="Chain of Custody"))
    PhaseFactory.create(group=circularity, number=2, name="Phase 2")
    RevisionObjectiveFactory.create(organisation=org, title="Raise the bar")
    home, group_page = page(client, HOME), page(client, PAGE)
    assert "Nature" in home
    assert "Secondary aluminium" in home
    assert "Raise the bar" in home
    assert "Secondary aluminium" in group_page
    assert '<a href="/alu/groups/nature/">Nature</a>: Mine closure.' in group_page
    assert "Chain of Custody" in group_page
    assert "Phase 2" in group_page


def test_seats_taken_and_ended_show_on_the_group_page_at_once(
    client: Client, circularity: WorkingGroup, secretariat: User
) -> None:
    assert "Who takes part" not in page(client, PAGE)
    first = seat(circularity, secretariat, member=MemberFactory.create(name="Bauxite Co"))
    assert "1 participant of 30 seats" in page(client, PAGE)
    assert "<li>Bauxite Co</li>" in page(client, PAGE)
    seat(circularity, secretariat)
    assert "2 participants of 30 seats" in page(client, PAGE)
    with scope(organisation=circularity.organisation):
        membership_services.seat_end(seat=first, reason="withdrew", acting_user=secretariat)
    assert "1 participant of 30 seats" in page(client, PAGE)
    assert "Bauxite Co" not in page(client, PAGE)


def test_a_participant_who_consents_or_changes_their_name_shows_at_once(
    client: Client, org: Organisation, circularity: WorkingGroup, secretariat: User
) -> None:
    taken = seat(circularity, secretariat, user=UserFactory.create(full_name="Ana Ruiz"))
    assert "Ana Ruiz" not in page(client, PAGE)
    with scopes_disabled():
        profile = ParticipantProfile.objects.select_related("member").get(user=taken.holder)
        profile.name_consent = True
        profile.save()
        member = profile.member
    assert member is not None
    assert f"Ana Ruiz ({member.name})" in page(client, PAGE)
    taken.holder.full_name = "Ana Ruiz Gómez"
    taken.holder.save()
    assert f"Ana Ruiz Gómez ({member.name})" in page(client, PAGE)
    with scopes_disabled():
        member.name = "Renamed Metals"
        member.save()
    assert "Ana Ruiz Gómez (Renamed Metals)" in page(client, PAGE)


def test_signing_in_does_not_make_every_page_render_afresh(
    client: Client, circularity: WorkingGroup, secretariat: User
) -> None:
    taken = seat(circularity, secretariat)
    page(client, PAGE)
    version_before = _version(circularity.organisation)
    client.force_login(taken.holder)  # saves last_login only
    assert _version(circularity.organisation) == version_before


def _version(organisation: Organisation) -> str:
    from asi_wg.caching import public_version

    return public_version(organisation.pk)


def test_a_renamed_organisation_shows_at_once(client: Client, org: Organisation) -> None:
    assert "Aluminium Body: working groups" in page(client, HOME)
    org.name = "Aluminium Standards Body"
    org.save()
    assert "Aluminium Standards Body: working groups" in page(client, HOME)


def test_a_moved_organisation_is_no_longer_at_its_old_address(
    client: Client, org: Organisation
) -> None:
    page(client, HOME)
    org.slug = "aluminium"
    org.save()
    assert client.get(HOME).status_code == 404
    assert "Aluminium Body: working groups" in page(client, "/aluminium/")


def test_two_tenants_with_the_same_address_see_only_their_own_group(
    client: Client, org: Organisation, other_org: Organisation
) -> None:
    WorkingGroupFactory.create(organisation=org, name="Circularity", slug="circularity")
    WorkingGroupFactory.create(
        organisation=other_org, name="Water Stewardship", slug="circularity", scope="Rivers."
    )
    assert "Circularity working group" in page(client, PAGE)
    other = page(client, "/other/groups/circularity/")
    assert "Water Stewardship working group" in other
    assert "Rivers." in other
    assert "Water Stewardship" not in page(client, PAGE)
    assert "Water Stewardship" not in page(client, HOME)


def test_what_only_a_participant_sees_is_never_cached_for_others(
    client: Client, circularity: WorkingGroup, secretariat: User
) -> None:
    participant = UserFactory.create()
    group_services.group_role_grant(
        group=circularity, user=participant, role=GroupRole.PARTICIPANT, acting_user=None
    )
    with scopes_disabled():
        phase = Phase.objects.get(group=circularity)
        PhaseExtension.objects.create(
            group=circularity,
            from_phase=phase,
            need="More work.",
            proposed_name="Phase 2",
            proposed_starts_on="2027-02-01",
            proposed_ends_on="2027-11-30",
            proposed_meetings_min=4,
            proposed_meetings_max=6,
            answers_due_on="2026-12-18",
        )
    assert "Should this group continue" not in page(client, PAGE)  # the public part is cached
    signed_in = Client()
    signed_in.force_login(participant)
    assert "Should this group continue into Phase 2?" in page(signed_in, PAGE)
    assert participant.email in page(signed_in, PAGE)
    anonymous = page(Client(), PAGE)
    assert "Should this group continue" not in anonymous
    assert participant.email not in anonymous


@pytest.mark.parametrize("size", [1, 5])
def test_the_group_page_of_a_participant_costs_the_same_at_any_size(
    circularity: WorkingGroup,
    org: Organisation,
    secretariat: User,
    size: int,
    django_assert_num_queries: Any,
) -> None:
    mine = seat(circularity, secretariat)
    for n in range(size):
        seat(circularity, secretariat)
        FocusAreaFactory.create(group=circularity, title=f"Area {n}")
        other = WorkingGroupFactory.create(organisation=org, slug=f"other-{n}")
        GroupLinkageFactory.create(from_group=circularity, to_group=other)
    client = Client()
    client.force_login(mine.holder)
    page(client, PAGE)
    # user, the person's roles in the group, its open extensions, its open round for them, and
    # the navigation's roles in the organisation: the session, the group and the public part
    # are cached
    with django_assert_num_queries(5):
        page(client, PAGE)


@pytest.mark.parametrize("size", [1, 5])
def test_the_organisation_home_signed_in_costs_the_same_at_any_size(
    org: Organisation, secretariat: User, size: int, django_assert_num_queries: Any
) -> None:
    for n in range(size):
        group = WorkingGroupFactory.create(organisation=org, slug=f"group-{n}")
        FocusAreaFactory.create(group=group)
        PhaseFactory.create(group=group)
    client = Client()
    client.force_login(secretariat)
    page(client, HOME)
    # user (the session is cached) and the navigation's roles: the tenant and the page are cached
    with django_assert_num_queries(2):
        page(client, HOME)


def test_without_a_shared_cache_nothing_is_cached(
    client: Client, circularity: WorkingGroup, settings: Any
) -> None:
    # The embedded default: its worker has a cache of its own, so the web process keeps none.
    settings.TENANT_CACHE = False
    first = page(client, PAGE)
    with scopes_disabled():
        circularity.scope = "Written by the worker, with no signal reaching the web process."
        WorkingGroup.objects.filter(pk=circularity.pk).update(scope=circularity.scope)
    assert first != page(client, PAGE)
    assert circularity.scope in page(client, PAGE)


def test_a_new_group_is_offered_on_the_dashboard_at_once(
    org: Organisation, circularity: WorkingGroup
) -> None:
    client = Client()
    client.force_login(UserFactory.create())
    assert "/alu/groups/circularity/apply/" in page(client, "/alu/me/")
    WorkingGroupFactory.create(organisation=org, name="Nature", slug="nature")
    assert "/alu/groups/nature/apply/" in page(client, "/alu/me/")
