"""The secretariat's meetings and participation pages cost the same number of queries for one
meeting or thirty, one participant or thirty (an N+1 fails here)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_scopes import scope, scopes_disabled

from asi_wg.models import Organisation, User
from groups.models import WorkingGroup
from meetings import selectors, services
from membership.models import Application
from tests.factories import ApplicationFactory, PhaseFactory, WorkingGroupFactory
from tests.meetings.conftest import client_for
from tests.meetings.past import past_meeting, seated

pytestmark = pytest.mark.django_db


def _queries(client: Client, url: str) -> int:
    client.get(url)  # the first request warms the session and the caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(("size", "expected"), [(1, 4), (30, 4)])
def test_the_meetings_plan_costs_the_same_for_one_meeting_or_thirty(
    org: Organisation, secretariat: User, size: int, expected: int
) -> None:
    group = WorkingGroupFactory.create(organisation=org, slug="traceability")
    phase = PhaseFactory.create(group=group)
    for n in range(size):
        past_meeting(group, phase, days_ago=n + 1)
    client = client_for(secretariat)
    assert _queries(client, "/alu/staff/meetings/") == expected
    assert client.get("/alu/staff/meetings/").content.decode().count("/attendance/") == size


def _absent_three_times(
    org: Organisation, secretariat: User, size: int
) -> tuple[WorkingGroup, list[User]]:
    """A group of ``size`` seated people, each marked absent at its three past meetings."""
    group = WorkingGroupFactory.create(organisation=org, slug="traceability")
    phase = PhaseFactory.create(group=group)
    people = seated(group, secretariat, size)
    for days in (3, 2, 1):
        meeting = past_meeting(group, phase, days_ago=days)
        with scope(organisation=org):
            services.attendance_record(
                meeting=meeting,
                marks={person.pk: ("absent", None) for person in people},
                acting_user=secretariat,
            )
    return group, people


@pytest.mark.parametrize(("size", "expected"), [(1, 8), (30, 8)])
def test_participation_costs_the_same_for_one_participant_or_thirty(
    org: Organisation, secretariat: User, size: int, expected: int
) -> None:
    _absent_three_times(org, secretariat, size)
    client = client_for(secretariat)
    assert _queries(client, "/alu/staff/participation/") == expected


@pytest.mark.parametrize(("size", "expected"), [(1, 12), (30, 12)])
def test_participation_with_a_waiting_list_and_flags_costs_at_most_15_queries(
    org: Organisation, secretariat: User, size: int, expected: int
) -> None:
    """With applicants waiting, the page also asks who missed meetings in a row: every absent
    participant is flagged, at the same cost for one or thirty."""
    group, people = _absent_three_times(org, secretariat, size)
    with scopes_disabled():
        ApplicationFactory.create(group=group, status=Application.Status.WAITING)
    client = client_for(secretariat)
    assert _queries(client, "/alu/staff/participation/") == expected
    page = client.get("/alu/staff/participation/").content.decode()
    assert all(person.email in page for person in people)
    with scope(organisation=org):
        assert len(selectors.non_attendance_flags(organisation=org)) == size
