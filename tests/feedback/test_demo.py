"""The feedback demo: frameworks, a draft Performance Standard V4, an open Circularity round."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django_scopes import scopes_disabled

from asi_wg.models import Organisation
from feedback.models import Answer, Criterion, FeedbackRound, Framework

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_draft_with_criteria_and_an_open_round_with_drafted_answers() -> None:
    call_command("load_demo")
    call_command("load_demo")  # safe to run again
    asi = Organisation.objects.get(slug="asi")
    with scopes_disabled():
        assert Framework.objects.filter(organisation=asi).count() == 10
        criteria = Criterion.objects.filter(organisation=asi)
        assert criteria.count() >= 30
        (feedback_round,) = FeedbackRound.objects.filter(organisation=asi)
        assert feedback_round.group.slug == "circularity"
        assert feedback_round.is_open()
        drafted = Answer.objects.filter(
            round=feedback_round, author__email="participant@asi.example"
        )
        assert drafted.count() == 2
        assert not FeedbackRound.objects.filter(organisation__slug="demo").exists()
