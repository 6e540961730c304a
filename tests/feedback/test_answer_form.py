"""The answer form's fields, copied for each form more cheaply than Django copies them: each
form still has its own tenant's lists and its own choices."""

from __future__ import annotations

import pytest
from django_scopes import scope, scopes_disabled

from asi_wg.models import Organisation, User
from feedback.forms import AnswerForm
from tests.factories import (
    CriterionFactory,
    DraftDocumentFactory,
    FrameworkFactory,
    WorkingGroupFactory,
)
from tests.feedback.conftest import Consultation, make_round

pytestmark = pytest.mark.django_db


def test_each_form_lists_its_own_tenants_choices_and_keeps_its_own_fields(
    consultation: Consultation, other_org: Organisation, other_secretariat: User
) -> None:
    ours_round = consultation.round
    with scopes_disabled():
        FrameworkFactory.create(organisation=ours_round.organisation, name="IRMA")
        FrameworkFactory.create(organisation=other_org, name="ResponsibleSteel")
        group = WorkingGroupFactory.create(organisation=other_org, name="Nature", slug="nat")
        document = DraftDocumentFactory.create(organisation=other_org)
        criterion = CriterionFactory.create(document=document, reference="1.1")
    theirs_round = make_round(
        group=group, document=document, criteria=[criterion], staff=other_secretariat
    )
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
