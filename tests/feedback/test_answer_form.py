"""The answer form's fields, copied for each form more cheaply than Django copies them: each
form still has its own tenant's lists and its own choices; the autosave's forms share the rest."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django_scopes import scope, scopes_disabled

from asi_wg.models import Organisation, User
from feedback.forms import AnswerForm, SavingAnswerForm
from feedback.models import FeedbackRound, Framework
from tests.factories import (
    CriterionFactory,
    DraftDocumentFactory,
    FrameworkFactory,
    WorkingGroupFactory,
)
from tests.feedback.conftest import Consultation, make_round

pytestmark = pytest.mark.django_db


@dataclass
class TwoTenants:
    ours_round: FeedbackRound
    theirs_round: FeedbackRound
    irma: Framework  # ours
    steel: Framework  # theirs


@pytest.fixture
def two_tenants(
    consultation: Consultation, other_org: Organisation, other_secretariat: User
) -> TwoTenants:
    """An open round in each of two tenants, each tenant with a framework of its own."""
    with scopes_disabled():
        irma = FrameworkFactory.create(organisation=consultation.round.organisation, name="IRMA")
        steel = FrameworkFactory.create(organisation=other_org, name="ResponsibleSteel")
        group = WorkingGroupFactory.create(organisation=other_org, name="Nature", slug="nat")
        document = DraftDocumentFactory.create(organisation=other_org)
        criterion = CriterionFactory.create(document=document, reference="1.1")
    theirs_round = make_round(
        group=group, document=document, criteria=[criterion], staff=other_secretariat
    )
    return TwoTenants(consultation.round, theirs_round, irma, steel)


def test_each_form_lists_its_own_tenants_choices_and_keeps_its_own_fields(
    two_tenants: TwoTenants, other_org: Organisation
) -> None:
    ours_round, theirs_round = two_tenants.ours_round, two_tenants.theirs_round
    with scope(organisation=ours_round.organisation):
        ours = AnswerForm(round=ours_round)
        ours_page = str(ours["frameworks"]) + str(ours["relevance"])
    with scope(organisation=other_org):
        theirs = AnswerForm(round=theirs_round)
        theirs_page = str(theirs["frameworks"]) + str(theirs["relevance"])
    assert "IRMA" in ours_page
    assert "ResponsibleSteel" not in ours_page
    assert "ResponsibleSteel" in theirs_page
    assert "IRMA" not in theirs_page
    for page in (ours_page, theirs_page):
        assert "No view" in page  # the scale's choices, in each copy
    assert ours.fields["frameworks"] is not theirs.fields["frameworks"]
    assert ours.fields["frameworks"].widget is not theirs.fields["frameworks"].widget

    # A form that changes its own fields leaves the next form's alone.
    ours.fields["relevance"].choices = [("1", "Only one")]  # type: ignore[attr-defined]
    ours.fields["relevance"].widget.attrs["class"] = "changed"
    with scope(organisation=ours_round.organisation):
        fresh = AnswerForm(round=ours_round)
        fresh_page = str(fresh["relevance"])
    assert "No view" in fresh_page
    assert "Only one" not in fresh_page
    assert "changed" not in fresh_page


def test_saving_forms_share_fields_but_each_checks_choices_against_its_own_tenant(
    two_tenants: TwoTenants, other_org: Organisation
) -> None:
    ours_round, theirs_round = two_tenants.ours_round, two_tenants.theirs_round
    irma, steel = two_tenants.irma, two_tenants.steel
    with scope(organisation=ours_round.organisation):
        ours = SavingAnswerForm(
            {"version": "0", "frameworks": [str(irma.pk)], "relevance": "4"}, round=ours_round
        )
        assert ours.is_valid(), ours.errors
        # Another tenant's framework is not one of the choices.
        crossing = SavingAnswerForm(
            {"version": "0", "frameworks": [str(steel.pk)]}, round=ours_round
        )
        assert not crossing.is_valid()
        assert "frameworks" in crossing.errors
    with scope(organisation=other_org):
        theirs = SavingAnswerForm(
            {"version": "0", "frameworks": [str(steel.pk)]}, round=theirs_round
        )
        assert theirs.is_valid(), theirs.errors
    assert ours.cleaned_data["frameworks"] == [irma]
    assert ours.cleaned_data["relevance"] == 4
    assert theirs.cleaned_data["frameworks"] == [steel]
    # The lists are each form's own; the plain fields are shared.
    assert ours.fields["frameworks"] is not theirs.fields["frameworks"]
    assert ours.fields["relevance"] is theirs.fields["relevance"]
    # A rendered form (``AnswerForm``) still has fields of its own.
    with scope(organisation=ours_round.organisation):
        rendered = AnswerForm(round=ours_round)
    assert rendered.fields["relevance"] is not ours.fields["relevance"]
