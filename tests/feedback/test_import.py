"""Criteria are imported from CSV or XLSX by document version and reference, groups by slug:
a file with one bad row writes nothing."""

from __future__ import annotations

import io

import pytest
import tablib
from django.test import Client
from django_scopes import scope, scopes_disabled

from asi_wg.models import Organisation
from feedback.models import Criterion, DraftDocument
from feedback.resources import CriterionResource
from tests.factories import DraftDocumentFactory, WorkingGroupFactory

pytestmark = pytest.mark.django_db

LABEL = "Performance Standard V4, consultation draft 1"
HEADERS = ["document", "reference", "title", "text", "guidance", "groups"]
GOOD = [
    [LABEL, "5.10", "Water", "The Entity shall measure water.", "", "circ"],
    [LABEL, "5.9", "Scrap", "The Entity shall sort scrap.", "Sorting lines.", "circ;nature"],
]


@pytest.fixture
def document(org: Organisation) -> DraftDocument:
    WorkingGroupFactory.create(organisation=org, slug="circ")
    WorkingGroupFactory.create(organisation=org, slug="nature")
    return DraftDocumentFactory.create(organisation=org, version_label=LABEL)


def _dataset(rows: list[list[str]], file_format: str) -> tablib.Dataset:
    data = tablib.Dataset(*rows, headers=HEADERS)
    exported = data.export(file_format)
    return tablib.Dataset().load(exported, format=file_format)


def _import(org: Organisation, dataset: tablib.Dataset, dry_run: bool = False):  # type: ignore[no-untyped-def]
    with scope(organisation=org):
        return CriterionResource(organisation=org).import_data(
            dataset, dry_run=dry_run, use_transactions=True, rollback_on_validation_errors=True
        )


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_good_file_imports_criteria_with_their_groups(
    org: Organisation, document: DraftDocument, file_format: str
) -> None:
    result = _import(org, _dataset(GOOD, file_format))
    assert not result.has_errors(), [e.error for row in result.row_errors() for e in row[1]]
    assert not result.has_validation_errors()
    with scopes_disabled():
        criteria = list(Criterion.objects.filter(document=document).order_by("sort_key"))
        assert [c.reference for c in criteria] == ["5.9", "5.10"]
        assert sorted(g.slug for g in criteria[0].groups.all()) == ["circ", "nature"]


@pytest.mark.parametrize(
    ("bad_row", "file_format"),
    [
        ([LABEL, "5.11", "Unknown group", "Text.", "", "no-such-group"], "csv"),
        (["A document that does not exist", "5.12", "Title", "Text.", "", "circ"], "xlsx"),
        ([LABEL, "5.13", "", "Text without a title.", "", "circ"], "xlsx"),
    ],
)
def test_a_file_with_one_bad_row_writes_nothing(
    org: Organisation, document: DraftDocument, bad_row: list[str], file_format: str
) -> None:
    result = _import(org, _dataset([*GOOD, bad_row], file_format))
    assert result.has_errors() or result.has_validation_errors()
    with scopes_disabled():
        assert not Criterion.objects.exists()


def test_another_tenants_document_and_groups_are_not_found(
    org: Organisation, other_org: Organisation, document: DraftDocument
) -> None:
    result = _import(other_org, _dataset(GOOD, "csv"))
    assert result.has_errors() or result.has_validation_errors()
    with scopes_disabled():
        assert not Criterion.objects.exists()


def test_the_admin_preview_of_a_bad_file_offers_no_confirmation(
    secretariat_client: Client, document: DraftDocument
) -> None:
    upload = io.BytesIO(
        _dataset([*GOOD, [LABEL, "5.11", "Bad", "Text.", "", "no-such-group"]], "csv")
        .export("csv")
        .encode()
    )
    upload.name = "criteria.csv"
    response = secretariat_client.post(
        "/alu/admin/feedback/criterion/import/",
        {"import_file": upload, "format": "0", "resource": "0"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "No such group: no-such-group." in page
    assert "process_import" not in page
    with scopes_disabled():
        assert not Criterion.objects.exists()


def test_a_reference_stored_as_a_number_is_refused(
    org: Organisation, document: DraftDocument
) -> None:
    dataset = tablib.Dataset([LABEL, 5.1, "Water", "Text.", "", "circ"], headers=HEADERS)
    dataset = tablib.Dataset().load(dataset.export("xlsx"), format="xlsx")
    result = _import(org, dataset)
    assert result.has_validation_errors()
    with scopes_disabled():
        assert not Criterion.objects.exists()
