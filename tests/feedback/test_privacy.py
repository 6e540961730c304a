"""The feedback app's personal data: the export shows an answer's words, erasure blanks them."""

from __future__ import annotations

import json

import pytest
from django_scopes import scope, scopes_disabled

from asi_wg.models import Organisation
from feedback import services
from feedback.models import Answer
from membership import personal_data, privacy
from tests.feedback.conftest import Consultation

pytestmark = pytest.mark.django_db

COMMENT = "Our smelter in Sohar cannot meet 5.3 by 2027."


def test_the_export_shows_and_erasure_blanks_an_answers_words(
    consultation: Consultation, org: Organisation
) -> None:
    person = consultation.participant
    with scope(organisation=org):
        services.answer_save(
            round=consultation.round,
            criterion=consultation.criteria["5.3"],
            user=person,
            data={
                "comment": COMMENT,
                "proposed_change": "Allow until 2029.",
                "risks_opportunities": "Closure risk.",
                "relevance": 5,
            },
            expected_version=0,
        )
    declared = {
        (label, name)
        for label, name in personal_data.personal_fields()
        if label.startswith("feedback.")
    }
    assert declared == {
        ("feedback.answer", "comment"),
        ("feedback.answer", "proposed_change"),
        ("feedback.answer", "risks_opportunities"),
    }
    export = json.dumps(privacy.person_data_export(user=person), default=str)
    assert COMMENT in export
    assert "Allow until 2029." in export

    with scope(organisation=org):
        privacy.person_erase(organisation=org, user=person, acting_user=person)
    with scopes_disabled():
        answer = Answer.objects.get(author=person)
    assert (answer.comment, answer.proposed_change, answer.risks_opportunities) == ("", "", "")
    assert answer.relevance == 5  # the scale is not their words: the count stays
