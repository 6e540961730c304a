"""Helpers for meetings that have taken place: seats started long ago, meetings days back."""

from __future__ import annotations

import datetime

from django.db.models import Max
from django.utils import timezone
from django_scopes import scopes_disabled

from asi_wg.models import User
from groups.models import Phase, WorkingGroup
from meetings.models import Meeting
from membership.models import Seat
from tests.factories import MeetingFactory
from tests.meetings.conftest import seat_person


def backdate_seats(group: WorkingGroup, days: int = 200) -> None:
    with scopes_disabled():
        Seat.objects.filter(group=group).update(
            started_at=timezone.now() - datetime.timedelta(days=days)
        )


def past_meeting(
    group: WorkingGroup, phase: Phase, *, days_ago: float, **kwargs: object
) -> Meeting:
    """A meeting of ``phase`` that started ``days_ago`` days ago, numbered next in the phase."""
    with scopes_disabled():
        number = (Meeting.objects.filter(phase=phase).aggregate(n=Max("number"))["n"] or 0) + 1
        return MeetingFactory.create(
            group=group,
            phase=phase,
            number=number,
            starts_at=timezone.now().replace(microsecond=0) - datetime.timedelta(days=days_ago),
            **kwargs,
        )


def seated(group: WorkingGroup, staff: User, n: int) -> list[User]:
    with scopes_disabled():
        people = [seat_person(group, staff).holder for _ in range(n)]
    backdate_seats(group)
    return people
