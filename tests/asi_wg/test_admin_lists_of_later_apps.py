"""The secretariat's admin lists of meetings, readings and feedback cost the same number of
queries for one row or five (an N+1 in a list column fails here)."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scopes_disabled

from asi_wg.models import Organisation
from feedback.models import Answer, Disposition, FeedbackRound
from tests.factories import (
    CriterionFactory,
    DraftDocumentFactory,
    FrameworkFactory,
    LinkMaterialFactory,
    MeetingFactory,
    PhaseFactory,
    UserFactory,
    WorkingGroupFactory,
)
from tests.helpers.pages import rendering

pytestmark = pytest.mark.django_db


def _answers(org: Organisation, n: int) -> None:
    """``n`` answers, each with a disposition, in rounds of their own groups."""
    now = timezone.now()
    for _ in range(n):
        criterion = CriterionFactory.create(document__organisation=org)
        group = WorkingGroupFactory.create(organisation=org)
        feedback_round = FeedbackRound.objects.create(
            organisation=org,
            group=group,
            document=criterion.document,
            title="Round",
            opens_at=now - datetime.timedelta(days=2),
            closes_at=now - datetime.timedelta(days=1),
        )
        answer = Answer.objects.create(
            organisation=org,
            round=feedback_round,
            criterion=criterion,
            author=UserFactory.create(),
            comment="Clear enough.",
        )
        Disposition.objects.create(organisation=org, answer=answer, status="noted")


def _meetings(org: Organisation, n: int) -> None:
    for _ in range(n):
        group = WorkingGroupFactory.create(organisation=org)
        meeting = MeetingFactory.create(group=group, phase=PhaseFactory.create(group=group))
        LinkMaterialFactory.create(meeting=meeting)


ROWS: dict[str, Callable[[Organisation, int], object]] = {
    "meetings/meeting": _meetings,
    "meetings/material": _meetings,
    "feedback/framework": lambda org, n: [
        FrameworkFactory.create(organisation=org) for _ in range(n)
    ],
    "feedback/draftdocument": lambda org, n: [
        DraftDocumentFactory.create(organisation=org) for _ in range(n)
    ],
    "feedback/criterion": lambda org, n: [
        CriterionFactory.create(document__organisation=org) for _ in range(n)
    ],
    "feedback/feedbackround": _answers,
    "feedback/answer": _answers,
    "feedback/disposition": _answers,
}


def _queries(client: Client, path: str) -> int:
    url = f"/alu/admin/{path}/"
    client.get(url)
    with rendering(), CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, path
    return len(queries)


@pytest.mark.parametrize("path", list(ROWS))
def test_admin_lists_cost_the_same_for_one_row_or_five(
    secretariat_client: Client, org: Organisation, path: str
) -> None:
    with scopes_disabled():
        ROWS[path](org, 1)
    one = _queries(secretariat_client, path)
    with scopes_disabled():
        ROWS[path](org, 4)
    assert _queries(secretariat_client, path) == one
