"""Meetings of a group with seated participants, for the meetings tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from asi_wg.models import Organisation, User
from groups.models import Phase, WorkingGroup
from meetings.models import Meeting
from membership import services as membership_services
from membership.models import AntitrustPolicy, Seat
from tests.factories import (
    ApplicationFactory,
    MeetingFactory,
    PhaseFactory,
    WorkingGroupFactory,
)


@dataclass
class Circle:
    """A group of ``org`` with its phase, one meeting, and people in every position."""

    group: WorkingGroup
    phase: Phase
    meeting: Meeting
    policy: AntitrustPolicy
    participant: User  # seated, acknowledged the policy
    unacknowledged: User  # seated, has not acknowledged the current policy
    outsider: User  # seated in another group of the same tenant


def seat_person(group: WorkingGroup, staff: User) -> Seat:
    application = ApplicationFactory.create(group=group)
    return membership_services.seat_take(application=application, acting_user=staff)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def circle(org: Organisation, secretariat: User) -> Circle:
    with scopes_disabled():
        group = WorkingGroupFactory.create(
            organisation=org, name="Circularity", slug="circularity", seat_cap=30
        )
        phase = PhaseFactory.create(group=group)
        meeting = MeetingFactory.create(
            group=group, phase=phase, title="Scope of the circularity criteria"
        )
        other = WorkingGroupFactory.create(organisation=org, name="Nature", slug="nature")
        policy = membership_services.antitrust_policy_publish(
            organisation=org, title="Antitrust policy", body="Do not collude.", acting_user=None
        )
        participant = seat_person(group, secretariat).holder
        unacknowledged = seat_person(group, secretariat).holder
        outsider = seat_person(other, secretariat).holder
        for person in (participant, outsider):
            membership_services.antitrust_acknowledge(organisation=org, user=person, policy=policy)
    return Circle(group, phase, meeting, policy, participant, unacknowledged, outsider)
