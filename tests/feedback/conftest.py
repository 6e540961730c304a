"""A draft document put to one group in an open round, with people in every position."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from asi_wg.models import Organisation, User
from feedback import services
from feedback.models import Answer, Criterion, DraftDocument, FeedbackRound
from groups.models import WorkingGroup
from membership import services as membership_services
from tests.factories import CriterionFactory, DraftDocumentFactory, WorkingGroupFactory
from tests.meetings.conftest import seat_person


@dataclass
class Consultation:
    group: WorkingGroup
    other_group: WorkingGroup
    document: DraftDocument
    criteria: dict[str, Criterion]  # by reference; "5.10" is not in the round
    round: FeedbackRound
    participant: User  # seated in the group, acknowledged the policy
    second: User  # seated in the group too
    outsider: User  # seated in the other group of the same tenant


def make_round(
    *, group: WorkingGroup, document: DraftDocument, criteria: list[Criterion], staff: User, **kw
) -> FeedbackRound:
    now = timezone.now()
    with scope(organisation=group.organisation):
        return services.round_create(
            group=group,
            document=document,
            title=kw.pop("title", "First consultation"),
            criteria=criteria,
            opens_at=kw.pop("opens_at", now - datetime.timedelta(hours=1)),
            closes_at=kw.pop("closes_at", now + datetime.timedelta(days=14)),
            acting_user=staff,
            **kw,
        )


@pytest.fixture
def consultation(org: Organisation, secretariat: User) -> Consultation:
    with scopes_disabled():
        group = WorkingGroupFactory.create(organisation=org, name="Circularity", slug="circ")
        other = WorkingGroupFactory.create(organisation=org, name="Nature", slug="nature")
        policy = membership_services.antitrust_policy_publish(
            organisation=org, title="Antitrust policy", body="Do not collude.", acting_user=None
        )
        participant = seat_person(group, secretariat).holder
        second = seat_person(group, secretariat).holder
        outsider = seat_person(other, secretariat).holder
        for person in (participant, second, outsider):
            membership_services.antitrust_acknowledge(organisation=org, user=person, policy=policy)
        document = DraftDocumentFactory.create(organisation=org)
        criteria = {
            ref: CriterionFactory.create(document=document, reference=ref)
            for ref in ("5.3", "5.3.1", "5.9", "5.10")
        }
    feedback_round = make_round(
        group=group,
        document=document,
        criteria=[criteria["5.3"], criteria["5.3.1"], criteria["5.9"]],
        staff=secretariat,
    )
    return Consultation(
        group, other, document, criteria, feedback_round, participant, second, outsider
    )


# The closed, commented round of the ISO table and synopsis tests.
from tests.feedback.commented import commented  # noqa: E402, F401


def answer(
    feedback_round: FeedbackRound, ref: str, consultation: Consultation, user: User, **data: Any
) -> Answer:
    """``user``'s answer about criterion ``ref`` in ``feedback_round``, submitted unless
    ``submit=False`` is given; the other keywords are the answer's fields."""
    submit = data.pop("submit", True)
    with scope(organisation=feedback_round.organisation):
        return services.answer_save(
            round=feedback_round,
            criterion=consultation.criteria[ref],
            user=user,
            data=data,
            expected_version=0,
            submit=submit,
        )
