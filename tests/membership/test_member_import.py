"""Importing and exporting Members in the secretariat's admin: CSV and XLSX, a dry-run preview,
errors on the row and column at fault, and nothing written unless the whole file is good."""

from __future__ import annotations

import csv
import datetime
import html
import io
import re
import time
from collections.abc import Iterable, Sequence

import openpyxl
import pytest
from django.test import Client
from django_scopes import scope, scopes_disabled
from tablib import Dataset

from asi_wg.models import AuditEntry, Organisation, User
from membership.models import Member, MembershipClass, ValueChainSegment
from membership.resources import MemberResource, formula_problem
from tests.factories import MemberFactory, MembershipClassFactory, ValueChainSegmentFactory

pytestmark = pytest.mark.django_db

IMPORT = "/alu/admin/membership/member/import/"
PROCESS = "/alu/admin/membership/member/process_import/"
EXPORT = "/alu/admin/membership/member/export/"
CSV_FORMAT, XLSX_FORMAT = "0", "1"

ASI_CLASSES = [
    "Production and Transformation",
    "Industrial Users",
    "Civil Society",
    "Associations",
    "General Supporters",
]
ASI_SEGMENTS = [
    "bauxite mining",
    "alumina refining",
    "primary aluminium production",
    "semi-fabrication",
    "material conversion",
    "other manufacturing",
    "recycling",
    "industrial users",
    "civil society",
    "other",
]
HEADERS = [
    "name",
    "membership_class",
    "segments",
    "country",
    "size_band",
    "perspective",
    "is_current",
    "joined_on",
]


def export(client: Client) -> object:
    every_column = {f"memberresource_{column}": "on" for column in [*HEADERS, "region"]}
    return client.post(EXPORT, {"format": "0", "resource": "0", **every_column})


@pytest.fixture
def lists(org: Organisation) -> None:
    for position, name in enumerate(ASI_CLASSES):
        MembershipClassFactory.create(organisation=org, name=name, position=position)
    for position, name in enumerate(ASI_SEGMENTS):
        ValueChainSegmentFactory.create(organisation=org, name=name, position=position)


def member_row(name: str, **values: str) -> list[str]:
    row = {
        "name": name,
        "membership_class": "Production and Transformation",
        "segments": "bauxite mining; alumina refining",
        "country": "AU",
        "size_band": "large",
        "perspective": "industry",
        "is_current": "yes",
        "joined_on": "2019-05-01",
        **values,
    }
    return [row[header] for header in HEADERS]


def csv_bytes(rows: Iterable[Sequence[object]], headers: Sequence[str] = HEADERS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode()


def upload(
    client: Client, content: bytes, fmt: str = CSV_FORMAT, path: str = IMPORT, name: str = ""
) -> str:
    file = io.BytesIO(content)
    file.name = name or ("members.xlsx" if fmt == XLSX_FORMAT else "members.csv")
    response = client.post(path, {"import_file": file, "format": fmt, "resource": "0"})
    assert response.status_code == 200, response.content[:1000]
    return html.unescape(response.content.decode())


def confirm(client: Client, page: str, path: str = PROCESS) -> object:
    fields = dict(
        re.findall(
            r'name="(import_file_name|original_file_name|format|resource)"[^>]*value="([^"]*)"',
            page,
        )
    )
    assert fields.get("import_file_name"), "the preview offers no confirmation"
    return client.post(path, fields)


def member_names(org: Organisation) -> set[str]:
    with scopes_disabled():
        return set(Member.objects.filter(organisation=org).values_list("name", flat=True))


def assert_nothing_written(org: Organisation) -> None:
    with scopes_disabled():
        assert not Member.objects.filter(organisation=org).exists()
        assert not AuditEntry.objects.filter(organisation=org, action="import").exists()


# --- A good file ------------------------------------------------------------------------------


def test_csv_preview_writes_nothing_and_confirm_imports_every_column(
    secretariat_client: Client, org: Organisation, lists: None
) -> None:
    content = csv_bytes(
        [
            member_row("Alcoa Australia"),
            member_row(
                "Friends of the Forest",
                membership_class="civil society",  # names in any case
                segments="Civil Society",
                country="Brazil",  # an English name
                size_band="Small (fewer than 50 staff)",  # a label
                perspective="Civil society",
                is_current="no",
                joined_on="",
            ),
            member_row("Hydro Rolling", country="de", segments="", is_current="TRUE"),
        ]
    )
    page = upload(secretariat_client, content)
    assert "3 rows: 3 new, 0 updated, 0 unchanged" in page
    assert "Friends of the Forest" in page
    assert "Latin America and the Caribbean" in page  # the derived region, in the preview
    assert member_names(org) == set()

    response = confirm(secretariat_client, page)
    assert response.status_code == 302  # type: ignore[attr-defined]
    with scopes_disabled():
        members = {m.name: m for m in Member.objects.filter(organisation=org)}
        alcoa, friends, hydro = (
            members["Alcoa Australia"],
            members["Friends of the Forest"],
            members["Hydro Rolling"],
        )
        assert alcoa.membership_class.name == "Production and Transformation"
        assert sorted(s.name for s in alcoa.segments.all()) == [
            "alumina refining",
            "bauxite mining",
        ]
        assert (alcoa.country.code, alcoa.region) == ("AU", "Oceania")
        assert alcoa.joined_on == datetime.date(2019, 5, 1)
        assert friends.membership_class.name == "Civil Society"
        assert [s.name for s in friends.segments.all()] == ["civil society"]
        assert (friends.country.code, friends.region) == ("BR", "Latin America and the Caribbean")
        assert friends.size_band == Member.SizeBand.SMALL
        assert friends.perspective == Member.Perspective.CIVIL_SOCIETY
        assert friends.is_current is False
        assert friends.joined_on is None
        assert (hydro.country.code, hydro.region, hydro.is_current) == ("DE", "Europe", True)
        assert not hydro.segments.exists()
        entry = AuditEntry.objects.get(organisation=org, action="import")
        assert entry.data["totals"] == {"new": 3}


def test_existing_member_is_matched_by_name_in_any_case_and_only_in_this_tenant(
    secretariat_client: Client, org: Organisation, other_org: Organisation, lists: None
) -> None:
    with scopes_disabled():
        cls = MembershipClass.objects.get(organisation=org, name="Industrial Users")
    existing = MemberFactory.create(
        organisation=org, name="Novelis Inc", membership_class=cls, country="US"
    )
    theirs = MemberFactory.create(organisation=other_org, name="Novelis Inc", country="FR")
    page = upload(
        secretariat_client,
        csv_bytes([member_row("NOVELIS INC", country="CA", segments="recycling")]),
    )
    assert "1 rows: 0 new, 1 updated, 0 unchanged" in page
    assert confirm(secretariat_client, page).status_code == 302  # type: ignore[attr-defined]
    with scopes_disabled():
        existing.refresh_from_db()
        theirs.refresh_from_db()
        assert Member.objects.filter(organisation=org).count() == 1
        assert (existing.name, existing.country.code, existing.region) == (
            "NOVELIS INC",
            "CA",
            "Northern America",
        )
        assert existing.membership_class.name == "Production and Transformation"
        assert [s.name for s in existing.segments.all()] == ["recycling"]
        assert (theirs.name, theirs.country.code) == ("Novelis Inc", "FR")


def test_xlsx_import_works(secretariat_client: Client, org: Organisation, lists: None) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADERS)
    sheet.append(
        [
            "Rio Tinto Aluminium",
            "Production and Transformation",
            "primary aluminium production",
            "Canada",
            "very_large",
            "industry",
            True,  # a real boolean cell
            datetime.date(2012, 3, 4),  # a real date cell
        ]
    )
    sheet.append(["Aluminium Stewardship NGO", "Civil Society", None, "KE", "n/a", "other", 0])
    out = io.BytesIO()
    book.save(out)

    page = upload(secretariat_client, out.getvalue(), fmt=XLSX_FORMAT)
    assert "2 rows: 2 new" in page, page[-3000:]
    assert confirm(secretariat_client, page).status_code == 302  # type: ignore[attr-defined]
    with scopes_disabled():
        rio = Member.objects.get(organisation=org, name="Rio Tinto Aluminium")
        ngo = Member.objects.get(organisation=org, name="Aluminium Stewardship NGO")
    assert (rio.region, rio.joined_on, rio.is_current) == (
        "Northern America",
        datetime.date(2012, 3, 4),
        True,
    )
    assert (ngo.region, ngo.is_current, ngo.size_band) == ("Africa", False, "n/a")


def test_5000_row_file_imports_in_one_go(
    secretariat_client: Client, org: Organisation, lists: None
) -> None:
    countries = [
        ("DE", "Europe"),
        ("BR", "Latin America and the Caribbean"),
        ("CN", "Asia"),
        ("ZA", "Africa"),
        ("AU", "Oceania"),
        ("US", "Northern America"),
    ]
    rows = [
        member_row(
            f"Member {n:04d}",
            country=countries[n % len(countries)][0],
            membership_class=ASI_CLASSES[n % len(ASI_CLASSES)],
            segments=f"{ASI_SEGMENTS[n % 10]}; {ASI_SEGMENTS[(n + 3) % 10]}",
        )
        for n in range(5000)
    ]
    content = csv_bytes(rows)

    started = time.perf_counter()
    page = upload(secretariat_client, content)
    previewed = time.perf_counter()
    assert "5000 rows: 5000 new, 0 updated, 0 unchanged" in page
    response = confirm(secretariat_client, page)
    confirmed = time.perf_counter()
    assert response.status_code == 302  # type: ignore[attr-defined]
    print(
        f"\n5,000-row import: preview {previewed - started:.1f}s, "
        f"confirm {confirmed - previewed:.1f}s"
    )

    with scopes_disabled():
        members = Member.objects.filter(organisation=org)
        assert members.count() == 5000
        regions = dict(members.values_list("name", "region"))
        through = Member.segments.through.objects.filter(member__organisation=org)
        assert through.count() == 10000
    for n in range(5000):
        assert regions[f"Member {n:04d}"] == countries[n % len(countries)][1]


def test_export_then_import_of_the_same_file_changes_nothing(
    secretariat_client: Client, org: Organisation, lists: None
) -> None:
    page = upload(
        secretariat_client,
        csv_bytes([member_row("Constellium"), member_row("Speira", segments="")]),
    )
    confirm(secretariat_client, page)
    exported = export(secretariat_client).content  # type: ignore[attr-defined]
    assert exported.decode().splitlines()[0] == ",".join([*HEADERS, "region"])
    page = upload(secretariat_client, exported)
    assert "2 rows: 0 new, 0 updated, 2 unchanged" in page


# --- Bad files: an error a person can act on, and nothing written -----------------------------


def test_wrong_headers_get_one_error_naming_missing_and_unknown_columns(
    secretariat_client: Client, org: Organisation, lists: None
) -> None:
    content = (
        b"Company,membership_class,Land,size_band,perspective\n"
        b"Acme,Associations,DE,large,industry\n"
    )
    page = upload(secretariat_client, content)
    assert "Missing columns: name, country." in page
    assert "Columns not recognised: company, land." in page
    assert "Nothing was imported" in page
    assert "Traceback" not in page
    assert "Line number" not in page  # no per-row noise: the rows were not read
    # No way to confirm the file: the upload form again, no confirmation form or button.
    assert 'name="import_file"' in page
    assert 'name="import_file_name"' not in page
    assert f'action="{PROCESS}"' not in page
    assert 'value="Confirm import"' not in page
    assert_nothing_written(org)


def test_headers_in_other_case_and_with_spaces_are_accepted(
    secretariat_client: Client, org: Organisation, lists: None
) -> None:
    headers = ["Name", "Membership Class", "Country", "Size band", "PERSPECTIVE"]
    page = upload(
        secretariat_client,
        csv_bytes([["Acme", "Associations", "DE", "large", "industry"]], headers=headers),
    )
    assert "1 rows: 1 new" in page
    confirm(secretariat_client, page)
    assert member_names(org) == {"Acme"}


def test_unknown_country_is_a_row_error(
    secretariat_client: Client, org: Organisation, lists: None
) -> None:
    page = upload(
        secretariat_client,
        csv_bytes([member_row("Good Metals"), member_row("Lost Metals", country="Atlantis")]),
    )
    assert "Some rows failed to validate" in page
    assert "1 row of 2 has errors. Nothing was imported." in page
    assert "Unknown country 'Atlantis'" in page
    assert 'name="import_file_name"' not in page  # no way to confirm a bad file
    assert_nothing_written(org)


def test_duplicate_names_are_errors_on_the_later_rows(
    secretariat_client: Client, org: Organisation, lists: None
) -> None:
    rows = [member_row(f"Member {n}") for n in range(1, 11)]
    rows[2] = member_row("Acme Aluminium")  # row 3
    rows[6] = member_row("ACME aluminium ")  # row 7: the same name, other case and a space
    page = upload(secretariat_client, csv_bytes(rows))
    assert "'ACME aluminium' appears twice in this file: rows 3 and 7." in page
    assert "1 row of 10 has errors" in page
    assert_nothing_written(org)


def test_a_name_three_times_lists_every_row(
    secretariat_client: Client, org: Organisation, lists: None
) -> None:
    rows = [member_row("Acme"), member_row("Other"), member_row("acme"), member_row("Acme")]
    page = upload(secretariat_client, csv_bytes(rows))
    assert page.count("appears 3 times in this file: rows 1, 3 and 4.") == 2
    assert_nothing_written(org)


def test_non_utf8_csv_gets_a_clear_error_not_a_500(
    secretariat_client: Client, org: Organisation, lists: None
) -> None:
    content = csv_bytes([member_row("Société Générale Aluminium", country="FR")])
    latin1 = content.decode().encode("latin-1")
    page = upload(secretariat_client, latin1)
    assert "This file is not UTF-8 text" in page
    assert "CSV UTF-8" in page
    assert "UnicodeDecodeError" not in page
    assert_nothing_written(org)


@pytest.mark.parametrize(
    ("cell", "char"),
    [
        ('=HYPERLINK("http://x","y")', "="),
        ("+SUM(A1:A2)", "+"),
        ("@SUM(A1)", "@"),
        ("-cmd|' /C calc'!A0", "-"),
        ('  =HYPERLINK("http://x","y")', "="),  # leading spaces do not hide it
    ],
)
def test_formula_cells_are_row_errors(
    secretariat_client: Client, org: Organisation, lists: None, cell: str, char: str
) -> None:
    page = upload(secretariat_client, csv_bytes([member_row("Fine Ltd"), member_row(cell)]))
    assert f"Formulas are not allowed (cell starts with '{char}')" in page
    assert "1 row of 2 has errors" in page
    assert_nothing_written(org)


def test_formula_in_any_column_is_refused(
    secretariat_client: Client, org: Organisation, lists: None
) -> None:
    page = upload(
        secretariat_client,
        csv_bytes([member_row("Fine Ltd", segments='=HYPERLINK("http://x","y")')]),
    )
    assert "Formulas are not allowed (cell starts with '=')" in page
    assert_nothing_written(org)


def test_a_negative_number_is_not_a_formula() -> None:
    assert formula_problem("-12") is None
    assert formula_problem("-") is None
    assert formula_problem("Fine Ltd") is None
    assert formula_problem(42) is None
    assert formula_problem("-x") == "Formulas are not allowed (cell starts with '-')"


def test_xlsx_formula_cell_is_refused(
    secretariat_client: Client, org: Organisation, lists: None
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADERS)
    sheet.append(member_row('=HYPERLINK("http://x","y")'))
    out = io.BytesIO()
    book.save(out)
    page = upload(secretariat_client, out.getvalue(), fmt=XLSX_FORMAT)
    assert "Formulas are not allowed (cell starts with '=')" in page
    assert_nothing_written(org)


def test_5000_rows_with_one_bad_row_write_nothing(
    secretariat_client: Client, org: Organisation, lists: None
) -> None:
    rows = [member_row(f"Member {n:04d}") for n in range(5000)]
    rows[4320] = member_row("Member 4320", country="Atlantis")
    page = upload(secretariat_client, csv_bytes(rows))
    assert "1 row of 5000 has errors" in page
    assert "Unknown country 'Atlantis'" in page
    assert re.search(r"<td>4321\s*</td>", page)  # the row, counted from the first data row
    assert_nothing_written(org)


def test_another_tenants_class_name_is_unknown_here(
    secretariat_client: Client, org: Organisation, other_org: Organisation, lists: None
) -> None:
    MembershipClassFactory.create(organisation=other_org, name="Water Users")
    ValueChainSegmentFactory.create(organisation=other_org, name="Irrigation")
    page = upload(
        secretariat_client,
        csv_bytes([member_row("Thirsty Co", membership_class="Water Users")]),
    )
    assert "Unknown membership class 'Water Users'" in page
    assert "Production and Transformation" in page  # the classes this tenant does have
    page = upload(secretariat_client, csv_bytes([member_row("Thirsty Co", segments="Irrigation")]))
    assert "Unknown value-chain segment 'Irrigation'" in page
    assert_nothing_written(org)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"size_band": "huge"},
            "Unknown company size 'huge'. Allowed values: small, medium, large, very_large, n/a",
        ),
        (
            {"perspective": "Government"},
            "Unknown perspective 'Government'. Allowed values: industry, civil_society, other",
        ),
        ({"is_current": "maybe"}, "Write yes or no (true/false and 1/0 work too), not 'maybe'."),
        (
            {"joined_on": "31/03/2024"},
            "Write the date as YYYY-MM-DD, such as 2024-03-31, not '31/03/2024'.",
        ),
        ({"membership_class": ""}, "A membership class is required."),
        ({"country": ""}, "A country is required"),
    ],
)
def test_bad_cells_name_the_problem_and_the_allowed_values(
    secretariat_client: Client,
    org: Organisation,
    lists: None,
    values: dict[str, str],
    message: str,
) -> None:
    page = upload(secretariat_client, csv_bytes([member_row("Acme", **values)]))
    assert message in page
    assert_nothing_written(org)


def test_ragged_csv_gets_a_clear_error(
    secretariat_client: Client, org: Organisation, lists: None
) -> None:
    # tablib pads a short row, but a row longer than the header row cannot be read.
    content = csv_bytes([member_row("Acme")]) + b"Broken,row,with,far,too,many,cells,for,the,file\n"
    page = upload(secretariat_client, content)
    assert "more or fewer cells than the header row" in page
    assert_nothing_written(org)


def test_confirmation_writes_nothing_if_the_file_no_longer_passes(
    secretariat_client: Client, org: Organisation, lists: None
) -> None:
    page = upload(
        secretariat_client,
        csv_bytes(
            [member_row("First Ltd"), member_row("Second Ltd", membership_class="Associations")]
        ),
    )
    assert "2 rows: 2 new" in page
    with scopes_disabled():
        MembershipClass.objects.filter(organisation=org, name="Associations").delete()
    response = secretariat_client.post(PROCESS, _confirm_fields(page), follow=True)
    body = html.unescape(response.content.decode())
    assert "Nothing was imported" in body
    assert_nothing_written(org)


def _confirm_fields(page: str) -> dict[str, str]:
    return dict(
        re.findall(
            r'name="(import_file_name|original_file_name|format|resource)"[^>]*value="([^"]*)"',
            page,
        )
    )


def test_export_as_xlsx(secretariat_client: Client, org: Organisation, lists: None) -> None:
    with scopes_disabled():
        cls = MembershipClass.objects.get(organisation=org, name="General Supporters")
    MemberFactory.create(organisation=org, name="=Sneaky Name", membership_class=cls, country="JP")
    every_column = {f"memberresource_{column}": "on" for column in [*HEADERS, "region"]}
    response = secretariat_client.post(
        EXPORT, {"format": XLSX_FORMAT, "resource": "0", **every_column}
    )
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book.active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (*HEADERS, "region")
    # Never written as a formula: text behind a quote (asi_wg.exports), the name kept whole.
    assert rows[1][:4] == ("'=Sneaky Name", "General Supporters", None, "JP")
    assert rows[1][-1] == "Asia"


def test_import_page_lists_the_columns_and_this_tenants_classes(
    secretariat_client: Client, org: Organisation, other_org: Organisation, lists: None
) -> None:
    MembershipClassFactory.create(organisation=other_org, name="Water Users")
    page = html.unescape(secretariat_client.get(IMPORT).content.decode())
    assert "name, membership_class, country, size_band, perspective (required)" in page
    assert "Production and Transformation, Industrial Users, Civil Society" in page
    assert "bauxite mining, alumina refining" in page
    assert "Water Users" not in page


# --- Tenancy ----------------------------------------------------------------------------------


def test_export_csv_contains_only_this_tenants_members(
    secretariat_client: Client, org: Organisation, other_org: Organisation, lists: None
) -> None:
    with scopes_disabled():
        cls = MembershipClass.objects.get(organisation=org, name="Associations")
        recycling = ValueChainSegment.objects.get(organisation=org, name="recycling")
    ours = MemberFactory.create(
        organisation=org, name="Our Member", membership_class=cls, country="NO"
    )
    ours.segments.add(recycling)
    MemberFactory.create(organisation=other_org, name="Their Member")
    response = export(secretariat_client)
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response["Content-Type"].startswith("text/csv")  # type: ignore[index]
    lines = response.content.decode().splitlines()  # type: ignore[attr-defined]
    assert lines == [
        "name,membership_class,segments,country,size_band,perspective,is_current,joined_on,region",
        "Our Member,Associations,recycling,NO,large,industry,yes,,Europe",
    ]


def test_another_tenants_secretariat_cannot_import_export_or_see_members(
    other_secretariat_client: Client, org: Organisation, lists: None
) -> None:
    member = MemberFactory.create(organisation=org, name="Secret Member")
    for path in [
        "/alu/admin/membership/member/",
        IMPORT,
        EXPORT,
        f"/alu/admin/membership/member/{member.pk}/change/",
    ]:
        response = other_secretariat_client.get(path)
        assert response.status_code == 404, path
        assert b"Secret Member" not in response.content
    file = io.BytesIO(csv_bytes([member_row("Smuggled Ltd")]))
    file.name = "members.csv"
    response = other_secretariat_client.post(
        IMPORT, {"import_file": file, "format": CSV_FORMAT, "resource": "0"}
    )
    assert response.status_code == 404
    assert export(other_secretariat_client).status_code == 404  # type: ignore[attr-defined]
    assert member_names(org) == {"Secret Member"}


def test_confirming_another_tenants_upload_is_refused(
    secretariat_client: Client,
    other_secretariat_client: Client,
    org: Organisation,
    other_org: Organisation,
    lists: None,
) -> None:
    MembershipClassFactory.create(organisation=other_org, name="Production and Transformation")
    page = upload(
        other_secretariat_client,
        csv_bytes([member_row("Their Upload", segments="")]),
        path="/other/admin/membership/member/import/",
    )
    response = secretariat_client.post(PROCESS, _confirm_fields(page), follow=True)
    assert "Upload the file again" in response.content.decode()
    assert member_names(org) == set()
    assert member_names(other_org) == set()


def test_a_member_added_since_the_preview_is_updated_on_confirmation(
    secretariat_client: Client, org: Organisation, lists: None
) -> None:
    page = upload(secretariat_client, csv_bytes([member_row("First Ltd"), member_row("Late Ltd")]))
    assert "2 rows: 2 new" in page
    MemberFactory.create(organisation=org, name="LATE LTD", country="FR")  # added meanwhile
    response = secretariat_client.post(PROCESS, _confirm_fields(page), follow=True)
    assert "Import finished: 1 new, 1 updated" in html.unescape(response.content.decode())
    assert member_names(org) == {"First Ltd", "Late Ltd"}


def test_a_write_that_fails_in_the_database_rolls_back_the_whole_import(
    org: Organisation, secretariat: User, lists: None
) -> None:
    class RacingResource(MemberResource):
        """Another request inserts the same name between the checks and the write."""

        def before_import(self, dataset: Dataset, **kwargs: object) -> None:
            super().before_import(dataset, **kwargs)
            MemberFactory.create(organisation=org, name="late ltd")

    dataset = Dataset(headers=HEADERS)
    dataset.append(member_row("First Ltd"))
    dataset.append(member_row("Late Ltd"))
    with scope(organisation=org):
        result = RacingResource(organisation=org, user=secretariat).import_data(
            dataset, dry_run=False, rollback_on_validation_errors=True
        )
    assert result.has_errors()
    assert "membership_member_name_ci_unique" in str(result.base_errors[0].error)
    assert member_names(org) == set()  # the racing row went with the rollback, in this test


def test_consent_to_be_named_in_publications_is_imported_and_kept_when_the_cell_is_empty(
    secretariat_client: Client, org: Organisation, lists: None
) -> None:
    headers = [*HEADERS, "name_in_publications"]
    content = csv_bytes(
        [[*member_row("Named Co"), "yes"], [*member_row("Quiet Co"), ""]], headers=headers
    )
    confirm(secretariat_client, upload(secretariat_client, content))
    with scopes_disabled():
        consent = dict(Member.objects.values_list("name", "name_in_publications"))
    assert consent == {"Named Co": True, "Quiet Co": False}
    # A later file without a value keeps the consent; one with "no" withdraws it.
    content = csv_bytes(
        [[*member_row("Named Co"), ""], [*member_row("Quiet Co"), "no"]], headers=headers
    )
    confirm(secretariat_client, upload(secretariat_client, content))
    with scopes_disabled():
        consent = dict(Member.objects.values_list("name", "name_in_publications"))
    assert consent == {"Named Co": True, "Quiet Co": False}
