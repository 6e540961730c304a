"""``has_role`` gives guardian's own answer, from one hand-written query per object and request."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.http import HttpRequest
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm

from asi_wg.models import Organisation, OrganisationRole, User
from asi_wg.roles import has_role
from groups import services
from groups.models import GroupRole, WorkingGroup
from tests.factories import UserFactory, WorkingGroupFactory

pytestmark = pytest.mark.django_db

ROLES = [role.value for role in OrganisationRole] + [role.value for role in GroupRole]


def _request(user: User) -> HttpRequest:
    request = RequestFactory().get("/")
    request.user = user
    return request


def _guardian(user: User, codename: str, obj: Organisation | WorkingGroup) -> bool:
    # guardian's checker, fresh each time: what has_role must agree with.
    return user.has_perm(f"{obj._meta.app_label}.{codename}", obj)


def _people(org: Organisation, group: WorkingGroup, other: WorkingGroup) -> list[User]:
    secretariat = UserFactory.create(email="staff@alu.example")
    services.organisation_role_grant(
        organisation=org, user=secretariat, role=OrganisationRole.SECRETARIAT, acting_user=None
    )
    participant = UserFactory.create(email="p@alu.example")
    services.group_role_grant(
        group=group, user=participant, role=GroupRole.PARTICIPANT, acting_user=None
    )
    # A role held through an auth group, on the group and on the organisation.
    chairs = Group.objects.create(name="chairs")
    assign_perm(f"groups.{GroupRole.CHAIR.value}", chairs, other)
    assign_perm(f"asi_wg.{OrganisationRole.COMMITTEE.value}", chairs, org)
    chair = UserFactory.create(email="chair@alu.example")
    chair.groups.add(chairs)
    revoked = UserFactory.create(email="gone@alu.example")
    services.group_role_grant(group=group, user=revoked, role=GroupRole.CHAIR, acting_user=None)
    services.group_role_revoke(group=group, user=revoked, role=GroupRole.CHAIR, acting_user=None)
    inactive = UserFactory.create(email="inactive@alu.example", is_active=False)
    services.group_role_grant(
        group=group, user=inactive, role=GroupRole.PARTICIPANT, acting_user=None
    )
    superuser = UserFactory.create(email="root@alu.example", is_superuser=True)
    return [secretariat, participant, chair, revoked, inactive, superuser, UserFactory.create()]


def test_every_role_of_every_person_on_every_object_is_guardians_answer(
    org: Organisation, unscoped: None
) -> None:
    group = WorkingGroupFactory.create(organisation=org)
    other = WorkingGroupFactory.create(organisation=org)
    people = _people(org, group, other)
    held = 0
    for user in people:
        user = User.objects.get(pk=user.pk)  # no permission cache of guardian's on the object
        request = _request(user)
        for obj in (org, group, other):
            for codename in ROLES:
                expected = _guardian(user, codename, obj)
                assert has_role(request, codename, obj) == expected, (user.email, codename, obj)
                held += expected
    # The table above is not all "no": direct, through a group and as superuser.
    assert held > 2 * len(ROLES)


def test_one_query_per_object_and_request_and_none_for_a_superuser(
    org: Organisation, unscoped: None
) -> None:
    group = WorkingGroupFactory.create(organisation=org)
    participant = UserFactory.create()
    services.group_role_grant(
        group=group, user=participant, role=GroupRole.PARTICIPANT, acting_user=None
    )
    request = _request(participant)
    with CaptureQueriesContext(connection) as queries:
        for codename in ROLES:
            has_role(request, codename, group)
            has_role(request, codename, org)
    assert len(queries) == 2
    superuser = _request(UserFactory.create(is_superuser=True))
    with CaptureQueriesContext(connection) as queries:
        assert has_role(superuser, GroupRole.CHAIR.value, group)
    assert len(queries) == 0


def test_a_role_taken_away_is_gone_on_the_next_request(org: Organisation, unscoped: None) -> None:
    group = WorkingGroupFactory.create(organisation=org)
    person = UserFactory.create()
    services.group_role_grant(
        group=group, user=person, role=GroupRole.PARTICIPANT, acting_user=None
    )
    assert has_role(_request(person), GroupRole.PARTICIPANT.value, group)
    services.group_role_revoke(
        group=group, user=person, role=GroupRole.PARTICIPANT, acting_user=None
    )
    assert not has_role(_request(person), GroupRole.PARTICIPANT.value, group)
