"""Saves of the same answer at once (two tabs, a double submit) on PostgreSQL.

Two first saves: the unique constraint keeps exactly one row, and the loser is told of the
conflict, every time. Edits of a saved answer from the same version: the row lock lets one
through and tells the others of the conflict; a control run without the lock shows that the
edits then overwrite each other silently, so the test proves something."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django_scopes import scope, scopes_disabled

from asi_wg.compiled import Compiled
from asi_wg.models import User
from feedback import services
from feedback.models import Answer
from tests.factories import FrameworkFactory
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


def without_lock(query: Compiled[Any]) -> Compiled[Any]:
    """``query`` without its row lock clause (the controls)."""
    return Compiled(query.model, query.build, *query.names)


def slow_writes_by(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Hold each save ``seconds`` between its reads and its write (in a test and its control
    alike), so that what races with it lands inside that window."""
    write = services._write

    def slow_write(answer: Answer, changes: dict[str, object]) -> None:
        time.sleep(seconds)
        write(answer, changes)

    monkeypatch.setattr(services, "_write", slow_write)


@pytest.fixture
def widened_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Saves of one answer reliably overlap without the row lock."""
    slow_writes_by(monkeypatch, 0.02)


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
    monkeypatch.setattr(services, "_MY_ANSWER", without_lock(services._MY_ANSWER))
    outcomes = edits_from_version_one(consultation)
    assert outcomes["saved"] > 1, outcomes
    with scopes_disabled():
        assert Answer.objects.get(round=consultation.round).version == 2


# --- A round closed while answers are being saved --------------------------------------------


@pytest.fixture
def slow_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The close lands between the saves' checks and their writes."""
    slow_writes_by(monkeypatch, 0.15)


def saves_during_a_close(
    consultation: Consultation, staff: User, path: str = "answer_save"
) -> tuple[Counter[str], list[str]]:
    """Six first saves (two participants, three criteria), the secretariat closing the round
    a moment later (the saves have passed their checks by then) and, later still, six edits of
    those answers, through ``path``: ``answer_save`` (the form's submit) or
    ``answer_save_by_ids`` (the autosave, which reads the round in its locking query).
    Returns the outcomes and each answer saved after the closing time."""
    feedback_round = consultation.round
    org = feedback_round.organisation
    with scopes_disabled():
        Answer.objects.filter(round=feedback_round).delete()
        type(feedback_round).objects.filter(pk=feedback_round.pk).update(closed_early_at=None)

    def save(user: User, ref: str, version: int = 0, after: float = 0.0) -> Callable[[], object]:
        data = {"comment": f"{ref}, version {version + 1}: before the close?"}

        def job() -> object:
            time.sleep(after)
            if path == "answer_save_by_ids":
                return services.answer_save_by_ids(
                    organisation=org,
                    round_id=feedback_round.pk,
                    criterion_id=consultation.criteria[ref].pk,
                    user=user,
                    clean=lambda _round: (data, version),
                )
            return services.answer_save(
                round=feedback_round,
                criterion=consultation.criteria[ref],
                user=user,
                data=data,
                expected_version=version,
            )

        return job

    def close() -> object:
        time.sleep(0.05)
        return services.round_close(round=feedback_round, acting_user=staff)

    people = (consultation.participant, consultation.second)
    refs = ("5.3", "5.3.1", "5.9")
    first = [save(user, ref) for user in people for ref in refs]
    # Edits of the same answers, sent once the close is likely through: refused, or saved
    # before it if the machine is slow; never after it.
    edits = [save(user, ref, version=1, after=0.4) for user in people for ref in refs]
    outcomes = race(org, [*first, close, *edits])
    with scopes_disabled():
        closed_at = type(feedback_round).objects.get(pk=feedback_round.pk).closed_early_at
        assert closed_at is not None, outcomes
        late = [
            f"{a.criterion.reference} by {a.author.email}"
            for a in Answer.objects.filter(round=feedback_round, updated_at__gte=closed_at)
        ]
    kinds = Counter("saved" if k.startswith("returned <Answer") else k for k in outcomes.elements())
    return kinds, late


SAVE_PATHS = pytest.mark.parametrize(
    ("path", "query"),
    [("answer_save", "_ROUND_TO_ANSWER"), ("answer_save_by_ids", "_ROUND_AND_CRITERION_TO_ANSWER")],
)


@SAVE_PATHS
def test_no_answer_is_saved_after_the_round_closes_under_it(
    consultation: Consultation, secretariat: User, slow_writes: None, path: str, query: str
) -> None:
    for _ in range(REPETITIONS):
        outcomes, late = saves_during_a_close(consultation, secretariat, path)
        assert late == [], outcomes
        # Each save either went through or was refused with a reason (on a slow machine an edit
        # may overtake the first save it edits: a conflict); nothing failed otherwise.
        assert outcomes["saved"] + outcomes["RoundNotOpen"] + outcomes["AnswerConflict"] == 12, (
            outcomes
        )


@SAVE_PATHS
def test_control_without_the_share_lock_answers_land_after_the_close(
    consultation: Consultation,
    secretariat: User,
    slow_writes: None,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    query: str,
) -> None:
    """The same race with the round's share lock taken away: saves that passed their checks
    before the close write their answers after it, which the lock prevents."""
    monkeypatch.setattr(services, query, without_lock(getattr(services, query)))
    outcomes, late = saves_during_a_close(consultation, secretariat, path)
    assert late, outcomes


def test_a_stale_tab_meets_the_lists_another_tab_saved_while_it_waited(
    consultation: Consultation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tab A ticks a framework and holds the answer's lock; tab B, unchanged since version 1,
    submits meanwhile. B waits for the lock and then reads the row A wrote, but a statement's
    subqueries see the data from before it waited: B must not take "no framework linked" from
    them and submit A's framework as its own. It is told of the conflict."""
    criterion = consultation.criteria["5.3"]
    org = consultation.round.organisation
    with scope(organisation=org):
        framework = FrameworkFactory.create(organisation=org, name="IRMA")
        services.answer_save(
            round=consultation.round,
            criterion=criterion,
            user=consultation.participant,
            data={"comment": "First draft", "frameworks": []},
            expected_version=0,
        )
    slow_writes_by(monkeypatch, 0.6)  # A holds the lock this long before writing

    def tab(frameworks: list[Any], submit: bool, after: float) -> Callable[[], object]:
        def save() -> object:
            time.sleep(after)
            return services.answer_save(
                round=consultation.round,
                criterion=criterion,
                user=consultation.participant,
                data={"comment": "First draft", "frameworks": frameworks},
                expected_version=1,
                submit=submit,
            )

        return save

    outcomes = race(org, [tab([framework], False, 0), tab([], True, 0.2)])
    assert outcomes["AnswerConflict"] == 1, outcomes
    with scopes_disabled():
        answer = Answer.objects.get(round=consultation.round)
        assert list(answer.frameworks.all()) == [framework]
        assert (answer.version, answer.submitted_at) == (2, None)
