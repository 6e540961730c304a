"""The public pages of a tenant: what a visitor reads, and how many queries it costs."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from asi_wg.models import Organisation
from membership.models import Seat
from tests.factories import (
    FocusAreaFactory,
    GroupLinkageFactory,
    ParticipantProfileFactory,
    PhaseFactory,
    RevisionObjectiveFactory,
    StandardFactory,
    WorkingGroupFactory,
)

pytestmark = pytest.mark.django_db


def make_groups(org: Organisation, count: int) -> list:
    groups = []
    for n in range(count):
        group = WorkingGroupFactory.create(organisation=org, name=f"Theme {n}", slug=f"theme-{n}")
        parent = FocusAreaFactory.create(group=group, title=f"Area {n}")
        FocusAreaFactory.create(group=group, parent=parent, title=f"Sub-area {n}")
        PhaseFactory.create(group=group)
        WorkingGroupFactory.create(organisation=org, parent=group, name=f"Sub {n}", number=1)
        RevisionObjectiveFactory.create(organisation=org)
        groups.append(group)
    return groups


def count_queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("size", [1, 5])
def test_organisation_home_query_count_does_not_grow(
    client: Client, org: Organisation, size: int
) -> None:
    make_groups(org, size)
    # groups, focus areas with their sub-items, phases, objectives (the tenant is cached)...
    assert count_queries(client, "/alu/") == 4
    # ...and nothing at all once the page's public part is cached.
    assert count_queries(client, "/alu/") == 0


@pytest.mark.parametrize("size", [1, 5])
def test_group_detail_query_count_does_not_grow(
    client: Client, org: Organisation, size: int
) -> None:
    group = make_groups(org, 1)[0]
    for n in range(size):
        other = WorkingGroupFactory.create(organisation=org, name=f"Linked {n}", slug=f"linked-{n}")
        GroupLinkageFactory.create(from_group=group, to_group=other)
        GroupLinkageFactory.create(from_group=other, to_group=group)
        FocusAreaFactory.create(group=group, title=f"More {n}")
        group.standards.add(StandardFactory.create(organisation=org))
        profile = ParticipantProfileFactory.create(organisation=org, name_consent=n % 2 == 0)
        with scopes_disabled():
            Seat.objects.create(
                group=group, holder=profile.user, member=profile.member, affiliation="member"
            )
    # group, focus areas, subgroups, phases, standards, linkages, seats, profiles...
    assert count_queries(client, f"/alu/groups/{group.slug}/") == 8
    # ...and nothing at all once the group and the page's public part are cached.
    assert count_queries(client, f"/alu/groups/{group.slug}/") == 0


def test_home_lists_groups_with_focus_areas_and_phase(client: Client, org: Organisation) -> None:
    group = WorkingGroupFactory.create(organisation=org, name="Circularity", slug="circularity")
    parent = FocusAreaFactory.create(
        group=group, title="Strengthened criteria for Industrial Users"
    )
    FocusAreaFactory.create(group=group, parent=parent, title="Promoting resource efficiency")
    PhaseFactory.create(group=group)
    page = client.get("/alu/").content.decode()
    assert "Circularity" in page
    assert "Strengthened criteria for Industrial Users" in page
    assert "Promoting resource efficiency" in page
    assert "April 2025 to December 2025, 6–8 meetings" in page
    assert 'href="/alu/groups/circularity/"' in page


def test_group_page_shows_scope_linkages_as_links_and_phases(
    client: Client, org: Organisation
) -> None:
    circularity = WorkingGroupFactory.create(
        organisation=org, name="Circularity", slug="circularity", scope="Circular flows."
    )
    nature = WorkingGroupFactory.create(organisation=org, name="Nature", slug="nature")
    GroupLinkageFactory.create(from_group=circularity, to_group=nature, note="Mine closure.")
    PhaseFactory.create(group=circularity)
    page = client.get("/alu/groups/circularity/").content.decode()
    assert "Circular flows." in page
    assert '<a href="/alu/groups/nature/">Nature</a>: Mine closure.' in page
    assert "1 April 2025 to 31 December 2025" in page

    back = client.get("/alu/groups/nature/").content.decode()
    # The linkage shows on both groups' pages, once, with its note.
    assert '<a href="/alu/groups/circularity/">Circularity</a>: Mine closure.' in back
    assert back.count('href="/alu/groups/circularity/"') == 1


def test_group_page_of_another_tenant_is_404(
    client: Client, org: Organisation, other_org: Organisation
) -> None:
    WorkingGroupFactory.create(organisation=other_org, name="Water", slug="water")
    response = client.get("/alu/groups/water/")
    assert response.status_code == 404
    assert "has no working group at this address" in response.content.decode()
    assert client.get("/other/groups/water/").status_code == 200


def test_public_pages_name_no_person(client: Client, org: Organisation, secretariat) -> None:
    WorkingGroupFactory.create(organisation=org, name="Circularity", slug="circularity")
    for path in ("/alu/", "/alu/groups/circularity/"):
        page = client.get(path).content.decode()
        assert secretariat.email not in page
        assert secretariat.full_name not in page


def test_a_group_linked_both_ways_is_listed_once_with_both_notes(
    client: Client, org: Organisation
) -> None:
    climate = WorkingGroupFactory.create(organisation=org, name="Climate", slug="climate")
    nature = WorkingGroupFactory.create(organisation=org, name="Nature", slug="nature")
    GroupLinkageFactory.create(from_group=climate, to_group=nature, note="Adaptation.")
    GroupLinkageFactory.create(from_group=nature, to_group=climate, note="Land use.")
    page = client.get("/alu/groups/climate/").content.decode()
    assert page.count('href="/alu/groups/nature/"') == 1
    assert "<li>Adaptation.</li>" in page
    assert "<li>Land use.</li>" in page


def test_group_page_names_organisations_and_only_consenting_people(
    client: Client, org: Organisation
) -> None:
    from django_scopes import scopes_disabled

    from membership.models import ParticipantProfile, Seat
    from tests.factories import MemberFactory, ParticipantProfileFactory, UserFactory

    group = WorkingGroupFactory.create(organisation=org, name="Circularity", slug="circularity")
    shy = ParticipantProfileFactory.create(
        organisation=org,
        user=UserFactory.create(full_name="Shy Person"),
        member=MemberFactory.create(organisation=org, name="Quiet Metals Ltd"),
        name_consent=False,
    )
    open_ = ParticipantProfileFactory.create(
        organisation=org,
        user=UserFactory.create(full_name="Open Person"),
        member=MemberFactory.create(organisation=org, name="Loud Alloys plc"),
        name_consent=True,
    )
    ipaf = ParticipantProfileFactory.create(
        organisation=org, affiliation=ParticipantProfile.Affiliation.IPAF, member=None
    )
    with scopes_disabled():
        for profile in (shy, open_, ipaf):
            Seat.objects.create(
                group=group, holder=profile.user, member=profile.member, affiliation="member"
            )
    page = client.get("/alu/groups/circularity/").content.decode()
    assert "3 participants of 30 seats" in page
    assert "<li>Quiet Metals Ltd</li>" in page
    assert "<li>Indigenous Peoples Advisory Forum</li>" in page
    assert "Open Person (Loud Alloys plc)" in page
    assert "Shy Person" not in page
