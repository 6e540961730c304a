"""Saves of the same answer at once (two tabs, a double submit) on PostgreSQL.

Two first saves: the unique constraint keeps exactly one row, and the loser is told of the
conflict, every time. Edits of a saved answer from the same version: the row lock lets one
through and tells the others of the conflict; a control run without the lock shows that the
edits then overwrite each other silently, so the test proves something."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection
from django_scopes import scope, scopes_disabled

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


@pytest.fixture
def widened_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold each save a moment between reading the answer and writing it, in both runs alike,
    so that without the row lock the threads reliably overlap."""
    write = services._write

    def slow_write(answer: Answer, changes: dict[str, object]) -> None:
        time.sleep(0.02)
        write(answer, changes)

    monkeypatch.setattr(services, "_write", slow_write)


def edits_from_version_one(consultation: Consultation) -> Counter[str]:
    """Every thread edits the same saved answer from version 1 with its own text."""
    criterion = consultation.criteria["5.3"]
    feedback_round = consultation.round
    org = feedback_round.organisation
    with scopes_disabled():
        Answer.objects.filter(round=feedback_round).delete()
    with scope(organisation=org):
        services.answer_save(
            round=feedback_round,
            criterion=criterion,
            user=consultation.participant,
            data={"comment": "First draft"},
            expected_version=0,
        )

    def edit(text: str) -> Callable[[], object]:
        return lambda: services.answer_save(
            round=feedback_round,
            criterion=criterion,
            user=consultation.participant,
            data={"comment": text},
            expected_version=1,
        )

    outcomes = race(org, [edit(f"Tab {n}") for n in range(THREADS)])
    return Counter("saved" if kind.startswith("returned") else kind for kind in outcomes.elements())


def test_racing_edits_of_one_answer_keep_one_and_tell_the_others(
    consultation: Consultation, widened_window: None
) -> None:
    for _ in range(REPETITIONS):
        outcomes = edits_from_version_one(consultation)
        assert outcomes == Counter({"saved": 1, "AnswerConflict": THREADS - 1}), outcomes
        with scopes_disabled():
            answer = Answer.objects.get(round=consultation.round)
        assert answer.version == 2
        assert answer.comment.startswith("Tab ")


def test_control_without_the_row_lock_edits_overwrite_each_other(
    consultation: Consultation, widened_window: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same race with the answer's row lock taken away: several tabs "succeed" from the
    same version and all but the last one's text is silently lost, which is what the lock
    prevents."""
    manager = type(Answer.objects)
    monkeypatch.setattr(
        manager, "select_for_update", lambda self, *args, **kwargs: self.get_queryset()
    )
    outcomes = edits_from_version_one(consultation)
    assert outcomes["saved"] > 1, outcomes
    with scopes_disabled():
        assert Answer.objects.get(round=consultation.round).version == 2
