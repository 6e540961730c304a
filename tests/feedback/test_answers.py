"""A participant's answers: versions against silent overwrites, one row per double submit, and
every crafted write outside the rules refused with its message and nothing written."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from asi_wg.errors import DomainError, OtherTenant
from asi_wg.models import AuditEntry, Organisation, User
from feedback import selectors, services
from feedback.models import Answer, Criterion, FeedbackRound
from tests.factories import (
    CriterionFactory,
    DraftDocumentFactory,
    FrameworkFactory,
    RevisionObjectiveFactory,
    WorkingGroupFactory,
)
from tests.feedback.conftest import Consultation, make_round
from tests.meetings.conftest import seat_person

pytestmark = pytest.mark.django_db

COMMENT = "5.3 should name the scrap-sorting step explicitly."


def save(
    consultation: Consultation,
    data: dict[str, Any],
    expected_version: int,
    *,
    user: User | None = None,
    criterion: Criterion | None = None,
    feedback_round: FeedbackRound | None = None,
    submit: bool = False,
) -> Answer:
    feedback_round = feedback_round or consultation.round
    with scope(organisation=feedback_round.organisation):
        return services.answer_save(
            round=feedback_round,
            criterion=criterion or consultation.criteria["5.3"],
            user=user or consultation.participant,
            data=data,
            expected_version=expected_version,
            submit=submit,
        )


def answers() -> int:
    with scopes_disabled():
        return Answer.objects.count()


def test_a_first_save_is_a_draft_at_version_1_and_each_change_raises_it(
    consultation: Consultation, org: Organisation
) -> None:
    framework = FrameworkFactory.create(organisation=org, name="IRMA")
    objective = RevisionObjectiveFactory.create(organisation=org)
    answer = save(consultation, {"relevance": 4, "clarity": 0, "comment": COMMENT}, 0)
    assert (answer.version, answer.is_draft, answer.clarity) == (1, True, Answer.NO_VIEW)
    answer = save(
        consultation,
        {
            "feasibility": 2,
            "comment_type": "technical",
            "frameworks": [framework],
            "objectives": [objective],
            "referred_to": consultation.other_group,
        },
        1,
        submit=True,
    )
    assert answer.version == 2
    assert answer.submitted_at is not None
    with scope(organisation=org):
        mine = selectors.answers_of_user(
            feedback_round=consultation.round, user=consultation.participant
        )
        progress = selectors.round_progress(
            feedback_round=consultation.round, user=consultation.participant
        )
    saved = mine[consultation.criteria["5.3"].pk]
    assert saved.comment == COMMENT
    assert saved.relevance == 4
    assert list(saved.frameworks.all()) == [framework]
    assert (progress.total, progress.answered, progress.submitted) == (3, 1, 1)
    with scopes_disabled():
        entry = AuditEntry.objects.filter(action="answer.save").latest("id")
    assert entry.data["version"] == 2
    assert COMMENT not in str(entry.data)  # the words stay out of the audit log


def test_lists_chosen_then_cleared_are_a_change_and_cleared_again_are_none(
    consultation: Consultation, org: Organisation
) -> None:
    framework = FrameworkFactory.create(organisation=org, name="IRMA")
    objective = RevisionObjectiveFactory.create(organisation=org)
    answer = save(consultation, {"frameworks": [framework], "objectives": []}, 0)
    assert answer.version == 1
    answer = save(consultation, {"frameworks": [framework], "objectives": [objective]}, 1)
    assert answer.version == 2
    answer = save(consultation, {"frameworks": [], "objectives": [objective]}, 2)
    assert answer.version == 3
    answer = save(consultation, {"frameworks": [], "objectives": []}, 3)
    assert answer.version == 4
    with scopes_disabled():
        stored = Answer.objects.get()
        assert (list(stored.frameworks.all()), list(stored.objectives.all())) == ([], [])
    answer = save(consultation, {"frameworks": [], "objectives": []}, 4)  # nothing new
    assert answer.version == 4


def test_two_tabs_saving_from_the_same_version_give_the_second_a_conflict(
    consultation: Consultation,
) -> None:
    save(consultation, {"comment": "First draft."}, 0)
    save(consultation, {"comment": COMMENT}, 1)  # tab A
    with pytest.raises(services.AnswerConflict) as conflict:
        save(consultation, {"comment": "Tab B's text."}, 1)  # tab B, edited from version 1
    assert conflict.value.current_version == 2
    assert conflict.value.current_content["comment"] == COMMENT
    assert "changed elsewhere" in str(conflict.value)
    with scopes_disabled():
        answer = Answer.objects.get()
    assert (answer.version, answer.comment) == (2, COMMENT)


def test_a_double_submit_makes_one_answer_without_a_conflict(
    consultation: Consultation,
) -> None:
    first = save(consultation, {"comment": COMMENT}, 0, submit=True)
    again = save(consultation, {"comment": COMMENT}, 0, submit=True)  # the same request twice
    assert again.pk == first.pk
    assert again.version == 1
    assert answers() == 1
    with pytest.raises(services.AnswerConflict):
        save(consultation, {"comment": "Something else"}, 0)


def test_answers_change_until_the_round_closes_then_are_read_only(
    consultation: Consultation, secretariat: User, org: Organisation
) -> None:
    save(consultation, {"comment": COMMENT}, 0)
    with scope(organisation=org):
        services.round_close(round=consultation.round, acting_user=secretariat)
    with pytest.raises(services.RoundNotOpen, match="closed: answers can no longer change"):
        save(consultation, {"comment": "Too late"}, 1)
    with scopes_disabled():
        assert Answer.objects.get().comment == COMMENT


def assert_refused(consultation: Consultation, error: type[Exception], message: str, **kw) -> None:
    before = answers()
    with pytest.raises(error, match=message):
        save(consultation, {"comment": "Crafted"}, 0, **kw)
    assert answers() == before


def test_a_round_not_yet_open_refuses(consultation: Consultation, secretariat: User) -> None:
    later = make_round(
        group=consultation.group,
        document=consultation.document,
        criteria=[consultation.criteria["5.3"]],
        staff=secretariat,
        opens_at=timezone.now() + datetime.timedelta(days=1),
        closes_at=timezone.now() + datetime.timedelta(days=8),
    )
    assert_refused(consultation, services.RoundNotOpen, "not opened yet", feedback_round=later)


def test_a_round_past_its_closing_time_refuses(consultation: Consultation) -> None:
    with scopes_disabled():
        FeedbackRound.objects.filter(pk=consultation.round.pk).update(
            opens_at=timezone.now() - datetime.timedelta(days=9),
            closes_at=timezone.now() - datetime.timedelta(minutes=1),
        )
    assert_refused(consultation, services.RoundNotOpen, "closed")


def test_another_groups_participant_is_refused(consultation: Consultation) -> None:
    assert_refused(
        consultation, services.NotInTheRound, "seated participants", user=consultation.outsider
    )


def test_a_criterion_not_in_the_round_is_refused(consultation: Consultation) -> None:
    assert_refused(
        consultation,
        DomainError,
        "Criterion 5.10 .* is not part of this round",
        criterion=consultation.criteria["5.10"],
    )


def test_a_question_the_round_does_not_ask_is_refused(
    consultation: Consultation, secretariat: User
) -> None:
    narrow = make_round(
        group=consultation.group,
        document=consultation.document,
        criteria=[consultation.criteria["5.3"]],
        staff=secretariat,
        questions=["relevance"],
    )
    assert_refused(consultation, DomainError, "does not ask for: comment", feedback_round=narrow)


def test_another_tenants_round_is_refused(
    consultation: Consultation, other_org: Organisation, other_secretariat: User
) -> None:
    with scopes_disabled():
        group = WorkingGroupFactory.create(organisation=other_org)
        seat_person(group, other_secretariat)
        criterion = CriterionFactory.create(
            document=DraftDocumentFactory.create(organisation=other_org)
        )
    theirs = make_round(
        group=group, document=criterion.document, criteria=[criterion], staff=other_secretariat
    )
    before = answers()
    # Crafted: the other tenant's round and criterion, sent while working in this tenant.
    with (
        scope(organisation=consultation.round.organisation),
        pytest.raises(OtherTenant, match="belongs to another organisation"),
    ):
        services.answer_save(
            round=theirs,
            criterion=criterion,
            user=consultation.participant,
            data={"comment": "Crafted"},
            expected_version=0,
        )
    # And this tenant's criterion in the other tenant's round, in that tenant's scope.
    with pytest.raises(OtherTenant):
        save(consultation, {"comment": "Crafted"}, 0, feedback_round=theirs)
    assert answers() == before


def test_another_tenants_framework_is_refused(
    consultation: Consultation, other_org: Organisation
) -> None:
    theirs = FrameworkFactory.create(organisation=other_org, name="Theirs")
    before = answers()
    with pytest.raises(OtherTenant):
        save(consultation, {"frameworks": [theirs]}, 0)
    assert answers() == before


def test_a_scale_outside_1_to_5_or_no_view_is_refused(consultation: Consultation) -> None:
    with pytest.raises(DomainError, match="Choose 1 to 5, or no view"):
        save(consultation, {"relevance": 6}, 0)
    assert answers() == 0


def test_submitting_from_a_stale_page_what_the_server_holds_is_a_submit_not_a_conflict(
    consultation: Consultation,
) -> None:
    # The autosave saved the text (version 1) while the page still said version 0.
    save(consultation, {"comment": COMMENT}, 0)
    submitted = save(consultation, {"comment": COMMENT}, 0, submit=True)
    assert submitted.submitted_at is not None
    assert submitted.comment == COMMENT
    assert answers() == 1
    # A different text from the stale page is still a conflict.
    with pytest.raises(services.AnswerConflict):
        save(consultation, {"comment": "Another text"}, 0, submit=True)
