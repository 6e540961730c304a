"""Two first saves of the same answer at once (two tabs, a double submit) on PostgreSQL: the
unique constraint keeps exactly one row, and the loser is told of the conflict, every time."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django_scopes import scopes_disabled

from feedback import services
from feedback.models import Answer
from tests.feedback.conftest import Consultation
from tests.membership.test_race import race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL"
    ),
]

THREADS = 8
REPETITIONS = 5


def test_racing_first_saves_make_exactly_one_answer(consultation: Consultation) -> None:
    criterion = consultation.criteria["5.3"]

    def first_save(text: str) -> Callable[[], object]:
        return lambda: services.answer_save(
            round=consultation.round,
            criterion=criterion,
            user=consultation.participant,
            data={"comment": text},
            expected_version=0,
        )

    org = consultation.round.organisation
    for _ in range(REPETITIONS):
        with scopes_disabled():
            Answer.objects.filter(round=consultation.round).delete()
        outcomes = race(org, [first_save(f"Tab {n}") for n in range(THREADS)])
        assert outcomes.get("AnswerConflict", 0) == THREADS - 1, outcomes
        with scopes_disabled():
            assert Answer.objects.filter(round=consultation.round).count() == 1
            assert Answer.objects.get(round=consultation.round).version == 1
