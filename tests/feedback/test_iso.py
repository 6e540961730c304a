"""The ISO/IEC commenting table of a round or a document, for the secretariat (issue 9,
point 4): the template's columns, one row per comment by clause, no person's name, nothing of
another tenant, and formula payloads inert."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from asi_wg.models import Organisation, User
from feedback.iso import COLUMNS
from tests.feedback.commented import (
    CONSENTING_NAME,
    MEMBER,
    OTHER_TENANT_COMMENT,
    SECRET_NAME,
    Commented,
)
from tests.meetings.conftest import client_for
from tests.spreadsheets import assert_inert, cells, rows_of

pytestmark = pytest.mark.django_db

FORMATS = ["xlsx", "csv"]


def _table(content: bytes, file_format: str) -> list[dict[str, Any]]:
    """The comment rows under the template's column headings (the XLSX has a header block)."""
    rows = rows_of(content, file_format)
    assert_inert(rows, file_format)
    start = next(i for i, row in enumerate(rows) if tuple(row[: len(COLUMNS)]) == COLUMNS)
    return [
        {k: ("" if v is None else v) for k, v in zip(COLUMNS, row, strict=False)}
        for row in rows[start + 1 :]
    ]


@pytest.mark.parametrize("file_format", FORMATS)
def test_round_table_has_the_templates_columns_one_row_per_comment_by_clause(
    commented: Commented,
    secretariat: User,
    file_format: str,
) -> None:
    response = client_for(secretariat).get(
        f"/alu/staff/feedback/rounds/{commented.round.pk}/iso.{file_format}"
    )
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    rows = _table(response.content, file_format)
    assert [row["Clause/Subclause"] for row in rows] == ["5.3", "5.3.1", "5.9"]
    assert [row["Type of comment"] for row in rows] == ["te", "ge", "ed"]
    payload = rows[0]
    assert payload["Comments"] == "'=cmd|' /C calc'!A0"
    assert payload["Proposed change"] == "'@SUM(1+1)"
    assert payload["MB/NC"].startswith(MEMBER + " (")
    assert payload["Observations of the secretariat"] == "Accepted: +1 we agree"
    assert payload["Line number"] == ""
    assert payload["Paragraph/Figure/Table"] == ""
    assert (
        rows[1]["Comments"]
        == "'-1+1 is how it starts.\n\nRisks and opportunities: Smelters may close."
    )
    assert rows[1]["Observations of the secretariat"] == "Not accepted: Out of scope."
    assert rows[2]["Observations of the secretariat"].startswith("[Not yet published] Noted")


@pytest.mark.parametrize("file_format", FORMATS)
def test_document_table_covers_every_round_in_natural_order(
    commented: Commented,
    secretariat: User,
    file_format: str,
) -> None:
    document = commented.consultation.document
    response = client_for(secretariat).get(
        f"/alu/staff/feedback/documents/{document.pk}/iso.{file_format}"
    )
    assert response.status_code == 200
    rows = _table(response.content, file_format)
    assert [row["Clause/Subclause"] for row in rows] == ["5.3", "5.3.1", "5.9", "5.10"]


@pytest.mark.parametrize("file_format", FORMATS)
def test_no_persons_name_and_no_other_tenants_comment(
    commented: Commented,
    secretariat: User,
    file_format: str,
) -> None:
    document = commented.consultation.document
    client = client_for(secretariat)
    for url in (
        f"/alu/staff/feedback/rounds/{commented.round.pk}/iso.{file_format}",
        f"/alu/staff/feedback/documents/{document.pk}/iso.{file_format}",
    ):
        text = "\n".join(str(v) for v in cells(rows_of(client.get(url).content, file_format)))
        assert MEMBER in text
        assert SECRET_NAME not in text
        assert CONSENTING_NAME not in text  # the template names bodies, not people
        assert OTHER_TENANT_COMMENT not in text


def test_another_tenants_round_or_document_is_not_found(
    commented: Commented,
    secretariat: User,
) -> None:
    client = client_for(secretariat)
    other = commented.other_tenant_round
    assert client.get(f"/alu/staff/feedback/rounds/{other.pk}/iso.xlsx").status_code == 404
    assert (
        client.get(f"/alu/staff/feedback/documents/{other.document_id}/iso.csv").status_code == 404
    )
    assert client.get(f"/alu/staff/feedback/rounds/{commented.round.pk}/iso.pdf").status_code == 404


def test_only_the_secretariat_gets_the_table(
    commented: Commented,
    other_secretariat: User,
) -> None:
    url = f"/alu/staff/feedback/rounds/{commented.round.pk}/iso.xlsx"
    assert client_for(commented.consultation.participant).get(url).status_code == 404
    assert client_for(other_secretariat).get(url).status_code == 404
    assert Client().get(url).status_code == 302


# --- The committee ----------------------------------------------------------------------------


@pytest.mark.parametrize("file_format", FORMATS)
def test_the_committee_gets_the_same_table_from_its_summary_pages(
    commented: Commented, secretariat: User, org: Organisation, file_format: str
) -> None:
    from tests.feedback.test_committee_pages import make_committee

    committee = make_committee(org, email="committee@alu.example")
    client = client_for(committee)
    summary_page = client.get(f"/alu/committee/summaries/rounds/{commented.round.pk}/")
    round_url = f"/alu/committee/summaries/rounds/{commented.round.pk}/iso.{file_format}"
    document = commented.consultation.document
    document_url = f"/alu/committee/summaries/documents/{document.pk}/iso.{file_format}"
    assert round_url in summary_page.content.decode()
    assert document_url in summary_page.content.decode()
    staff = client_for(secretariat).get(
        f"/alu/staff/feedback/rounds/{commented.round.pk}/iso.{file_format}"
    )
    response = client.get(round_url)
    assert response.status_code == 200
    assert _table(response.content, file_format) == _table(staff.content, file_format)
    rows = _table(client.get(document_url).content, file_format)
    assert [row["Clause/Subclause"] for row in rows] == ["5.3", "5.3.1", "5.9", "5.10"]
    text = "\n".join(str(v) for row in rows for v in row.values())
    assert SECRET_NAME not in text
    assert CONSENTING_NAME not in text
    assert OTHER_TENANT_COMMENT not in text


def test_the_committees_table_is_refused_to_others(
    commented: Commented, other_org: Organisation
) -> None:
    from tests.feedback.test_committee_pages import make_committee

    stranger = make_committee(other_org, email="committee@other.example")
    urls = [
        f"/alu/committee/summaries/rounds/{commented.round.pk}/iso.xlsx",
        f"/alu/committee/summaries/documents/{commented.consultation.document.pk}/iso.csv",
    ]
    for url in urls:
        assert client_for(stranger).get(url).status_code in (403, 404)
        assert client_for(commented.consultation.participant).get(url).status_code == 403
        assert Client().get(url).status_code == 302
    other = commented.other_tenant_round
    committee_of_other = client_for(stranger)
    assert (
        committee_of_other.get(f"/other/committee/summaries/rounds/{other.pk}/iso.csv").status_code
        == 200
    )
    assert (
        committee_of_other.get(
            f"/other/committee/summaries/rounds/{commented.round.pk}/iso.csv"
        ).status_code
        == 404
    )
