"""Every CSV and XLSX export makes formula payloads inert (issue 9, point 5).

Walks every admin that exports, on both admin sites, so that a new export cannot forget it,
and reads each file back as a spreadsheet would.
"""

from __future__ import annotations

import datetime
import itertools
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import tablib
from django.db import IntegrityError, connection, models, transaction
from django.test import Client, RequestFactory
from django_scopes import scope, scopes_disabled

from asi_wg.admin_sites import platform_admin_site, tenant_admin_site
from asi_wg.exports import SAFE_FORMATS, SafeCSV, SafeXLSX, csv_bytes, spreadsheet_safe
from asi_wg.models import Organisation, User
from feedback import services
from tests.feedback.conftest import Consultation, consultation  # noqa: F401
from tests.spreadsheets import PAYLOADS, assert_inert, cells, rows_of, shown_as

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


# --- The helper -------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_text_that_starts_like_a_formula_gets_a_quote_and_keeps_its_text(payload: str) -> None:
    assert spreadsheet_safe(payload) == "'" + payload


@pytest.mark.parametrize(
    "value", [-5, -1.5, Decimal("-2.50"), 0, None, datetime.date(2025, 4, 1), "5 - 3", "a=b", ""]
)
def test_numbers_dates_and_ordinary_text_are_left_as_they_are(value: Any) -> None:
    assert spreadsheet_safe(value) == value


def test_a_negative_number_as_text_gets_the_quote() -> None:
    assert spreadsheet_safe("-5") == "'-5"


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_formats_write_payloads_as_text_and_numbers_as_numbers(file_format: str) -> None:
    dataset = tablib.Dataset(headers=["=header", "count"])
    for payload in PAYLOADS:
        dataset.append([payload, -3])
    fmt = SafeCSV() if file_format == "csv" else SafeXLSX()
    content = fmt.export_data(dataset)
    rows = rows_of(content.encode() if isinstance(content, str) else content, file_format)
    assert_inert(rows, file_format)
    assert rows[0] == ["'=header", "count"]
    assert [row[0] for row in rows[1:]] == [shown_as(p, file_format) for p in PAYLOADS]
    assert {str(row[1]) for row in rows[1:]} == {"-3"}
    if file_format == "xlsx":
        assert {type(row[1]) for row in rows[1:]} == {int}


def test_csv_bytes_makes_every_cell_inert() -> None:
    rows = rows_of(csv_bytes([["comment", "n"], *([p, -1] for p in PAYLOADS)]), "csv")
    assert_inert(rows, "csv")
    assert [row[0] for row in rows[1:]] == ["'" + p for p in PAYLOADS]


# --- Every admin that exports -----------------------------------------------------------------


def _exporting_admins() -> list[tuple[str, Any, Any]]:
    found = []
    for site in (platform_admin_site, tenant_admin_site):
        for model, model_admin in site._registry.items():
            if hasattr(model_admin, "get_export_formats"):
                found.append((site.name, model, model_admin))
    return found


def test_every_admin_export_offers_only_the_safe_formats() -> None:
    admins = _exporting_admins()
    assert len(admins) > 20  # the walk found the admins
    for site, model, model_admin in admins:
        formats = model_admin.get_export_formats()
        assert formats, (site, model)
        assert all(issubclass(fmt, SAFE_FORMATS) for fmt in formats), (site, model, formats)


def test_no_file_writes_a_spreadsheet_around_the_helper() -> None:
    """Code that writes CSV or XLSX itself goes through asi_wg.exports."""
    writers = re.compile(
        r"csv\.(Dict)?[wW]riter\(|Workbook\(|\.export_data\(|base_formats\.(CSV|XLSX)\b"
    )
    offenders = []
    for app in ("asi_wg", "groups", "membership", "meetings", "feedback"):
        for path in (ROOT / app).rglob("*.py"):
            text = path.read_text()
            if path.name == "exports.py" and path.parent.name == "asi_wg":
                continue
            if writers.search(text) and "asi_wg.exports" not in text:
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def _poison(organisation: Organisation) -> None:
    """Every free-text field of every row the tenant admin exports starts with a payload."""
    payloads = itertools.cycle(
        [p for p in PAYLOADS if connection.vendor != "postgresql" or "\x00" not in p]
    )
    with scopes_disabled():
        for _site, model, _admin in _exporting_admins():
            if not any(f.name == "organisation" for f in model._meta.concrete_fields):
                continue
            text_fields = [
                f
                for f in model._meta.concrete_fields
                if isinstance(f, models.CharField | models.TextField)
                and not f.choices
                and not f.primary_key
            ]
            for pk in model._default_manager.filter(organisation=organisation).values_list(
                "pk", flat=True
            ):
                for field in text_fields:
                    value = f"{next(payloads)} {pk}"[: field.max_length or None]
                    try:
                        with transaction.atomic():
                            model._default_manager.filter(pk=pk).update(**{field.name: value})
                    except IntegrityError:
                        pass


def _export(client: Client, organisation: Organisation, model: Any, model_admin: Any, fmt: int):
    resource = model_admin.get_export_resource_classes(None)[0]
    fields = {f"{resource.__name__.lower()}_{name}": "on" for name in resource().get_export_order()}
    url = f"/{organisation.slug}/admin/{model._meta.app_label}/{model._meta.model_name}/export/"
    return client.post(url, {"format": str(fmt), "resource": "0", **fields})


@pytest.fixture
def poisoned(consultation: Consultation, org: Organisation, secretariat: User) -> None:  # noqa: F811
    with scope(organisation=org):
        for person, criterion in (
            (consultation.participant, consultation.criteria["5.3"]),
            (consultation.second, consultation.criteria["5.9"]),
        ):
            answer = services.answer_save(
                round=consultation.round,
                criterion=criterion,
                user=person,
                data={"comment": "A comment.", "proposed_change": "A change.", "relevance": 4},
                expected_version=0,
                submit=True,
            )
            services.disposition_set(
                answers=[answer], status="noted", response="Noted.", acting_user=secretariat
            )
    _poison(org)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_every_admin_export_writes_the_payloads_as_inert_text(
    poisoned: None,
    org: Organisation,
    secretariat: User,
    secretariat_client: Client,
    file_format: str,
) -> None:
    seen: list[Any] = []
    exported = []
    request: Any = RequestFactory().get("/")
    request.user, request.organisation = secretariat, org
    for site, model, model_admin in _exporting_admins():
        if site != tenant_admin_site.name or not model_admin.has_export_permission(request):
            continue
        formats = [fmt.__name__ for fmt in model_admin.get_export_formats()]
        index = formats.index("SafeCSV" if file_format == "csv" else "SafeXLSX")
        response = _export(secretariat_client, org, model, model_admin, index)
        assert response.status_code == 200, model
        assert "attachment" in response["Content-Disposition"], model
        rows = rows_of(response.content, file_format)
        assert_inert(rows, file_format)
        seen += cells(rows)
        exported.append(model._meta.label_lower)
    assert {"feedback.criterion", "groups.workinggroup", "membership.member"} <= set(exported)
    texts = [value for value in seen if isinstance(value, str)]
    stored = [p for p in PAYLOADS if connection.vendor != "postgresql" or "\x00" not in p]
    for payload in stored:
        assert any(text.startswith(shown_as(payload, file_format)) for text in texts), payload
