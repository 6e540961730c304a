"""Criteria sort by the numbers of their references, not their characters."""

from __future__ import annotations

import pytest
from django_scopes import scope

from asi_wg.models import Organisation
from feedback import selectors
from feedback.models import natural_sort_key
from tests.factories import CriterionFactory, DraftDocumentFactory

pytestmark = pytest.mark.django_db


def test_natural_sort_key_orders_numbers_as_numbers() -> None:
    refs = ["5.10", "5.3.1", "10.1", "5.9", "5.3", "5.3a", "5.2"]
    assert sorted(refs, key=natural_sort_key) == [
        "5.2",
        "5.3",
        "5.3.1",
        "5.3a",
        "5.9",
        "5.10",
        "10.1",
    ]


def test_a_documents_criteria_come_in_natural_order(org: Organisation) -> None:
    document = DraftDocumentFactory.create(organisation=org)
    for ref in ("5.10", "5.3.1", "5.9", "5.3", "4.1"):
        CriterionFactory.create(document=document, reference=ref)
    with scope(organisation=org):
        refs = [c.reference for c in selectors.criteria_in_order(document)]
    assert refs == ["4.1", "5.3", "5.3.1", "5.9", "5.10"]


def test_the_sort_key_follows_a_changed_reference(org: Organisation) -> None:
    criterion = CriterionFactory.create(
        document=DraftDocumentFactory.create(organisation=org), reference="5.9"
    )
    criterion.reference = " 5.10 "
    criterion.save(update_fields=["reference"])
    criterion.refresh_from_db()
    assert (criterion.reference, criterion.sort_key) == ("5.10", "000005.000010")
