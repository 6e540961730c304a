"""The secretariat's admin at /<slug>/admin/: only the secretariat of that tenant gets in, and
inside it nothing of another tenant is visible or reachable."""

from __future__ import annotations

import html
import io
import re
import uuid
from pathlib import Path

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.test import Client
from django_scopes import scope, scopes_disabled

from asi_wg.admin_sites import IMPORT_FILE_NAME, TenantImportStorage
from asi_wg.models import AuditEntry, Organisation, User
from groups.models import FocusArea, Phase, Standard, WorkingGroup
from membership.models import Member
from tests.factories import (
    FocusAreaFactory,
    GroupLinkageFactory,
    PhaseFactory,
    StandardFactory,
    UserFactory,
    WorkingGroupFactory,
)
from tests.helpers.pages import rendering

pytestmark = pytest.mark.django_db

MODELS = [
    "workinggroup",
    "focusarea",
    "grouplinkage",
    "phase",
    "phaseextension",
    "revisionobjective",
    "standard",
    "auditentry",
]


@pytest.fixture
def alu_rows(org: Organisation) -> dict[str, object]:
    circularity = WorkingGroupFactory.create(
        organisation=org, name="Alu Circularity", slug="circularity"
    )
    nature = WorkingGroupFactory.create(organisation=org, name="Alu Nature", slug="nature")
    return {
        "workinggroup": circularity,
        "focusarea": FocusAreaFactory.create(group=circularity, title="Alu scrap sorting"),
        "grouplinkage": GroupLinkageFactory.create(from_group=circularity, to_group=nature),
        "phase": PhaseFactory.create(group=circularity),
        "standard": StandardFactory.create(organisation=org, name="Alu Performance Standard"),
    }


@pytest.fixture
def other_rows(other_org: Organisation) -> dict[str, object]:
    water = WorkingGroupFactory.create(
        organisation=other_org, name="Water Stewardship", slug="water"
    )
    return {
        "workinggroup": water,
        "focusarea": FocusAreaFactory.create(group=water, title="Metering"),
    }


def alu_admin_paths(rows: dict[str, object]) -> list[str]:
    paths = ["/alu/admin/", "/alu/admin/groups/", "/alu/admin/password_change/"]
    for model in MODELS:
        base = f"/alu/admin/groups/{model}/"
        paths += [base, base + "add/", base + "import/", base + "export/"]
    for model, obj in rows.items():
        base = f"/alu/admin/groups/{model}/{obj.pk}/"  # type: ignore[attr-defined]
        paths += [base + "change/", base + "delete/", base + "history/"]
    paths.append(
        "/alu/admin/autocomplete/?app_label=groups&model_name=grouplinkage&field_name=to_group"
    )
    return paths


def test_other_tenants_secretariat_gets_404_for_every_admin_page(
    other_secretariat_client: Client, alu_rows: dict[str, object]
) -> None:
    for path in alu_admin_paths(alu_rows):
        response = other_secretariat_client.get(path)
        assert response.status_code == 404, path
        assert b"Alu scrap sorting" not in response.content, path
        assert b"Alu Performance Standard" not in response.content, path


def test_other_tenants_secretariat_cannot_post_into_the_admin(
    other_secretariat_client: Client, alu_rows: dict[str, object], org: Organisation
) -> None:
    group = alu_rows["workinggroup"]
    response = other_secretariat_client.post(
        f"/alu/admin/groups/workinggroup/{group.pk}/delete/",  # type: ignore[attr-defined]
        {"post": "yes"},
    )
    assert response.status_code == 404
    with scopes_disabled():
        assert WorkingGroup.objects.filter(pk=group.pk).exists()  # type: ignore[attr-defined]


def test_signed_in_person_without_a_role_gets_404(
    client: Client, alu_rows: dict[str, object]
) -> None:
    client.force_login(UserFactory.create())
    assert client.get("/alu/admin/").status_code == 404
    assert client.get("/alu/admin/groups/workinggroup/").status_code == 404


def test_anonymous_visitor_is_sent_to_sign_in(client: Client, org: Organisation) -> None:
    response = client.get("/alu/admin/groups/workinggroup/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/?next=")
    assert "%2Falu%2Fadmin%2Fgroups%2Fworkinggroup%2F" in response.redirect_chain[-1][0]
    assert response.status_code == 200


def test_secretariat_sees_its_own_rows_and_no_others(
    secretariat_client: Client, alu_rows: dict[str, object], other_rows: dict[str, object]
) -> None:
    listing = secretariat_client.get("/alu/admin/groups/workinggroup/")
    assert listing.status_code == 200
    assert b"Alu Circularity" in listing.content
    assert b"Water Stewardship" not in listing.content

    areas = secretariat_client.get("/alu/admin/groups/focusarea/")
    assert b"Alu scrap sorting" in areas.content
    assert b"Metering" not in areas.content

    # Another tenant's object through this tenant's admin: as if it did not exist.
    water = other_rows["workinggroup"]
    response = secretariat_client.get(
        f"/alu/admin/groups/workinggroup/{water.pk}/change/",  # type: ignore[attr-defined]
        follow=True,
    )
    assert b"Water Stewardship" not in response.content
    assert b"doesn" in response.content  # "... with ID ... doesn't exist. Perhaps it was deleted?"


def test_foreign_key_choices_and_autocomplete_are_scoped(
    secretariat_client: Client,
    alu_rows: dict[str, object],
    other_rows: dict[str, object],
    other_org: Organisation,
) -> None:
    # A plain list of choices (the standards in scope of a group) offers this tenant's only.
    StandardFactory.create(organisation=other_org, name="Other Body Standard", version="V7")
    add_group = secretariat_client.get("/alu/admin/groups/workinggroup/add/").content.decode()
    assert _options(add_group, "standards") == ["Alu Performance Standard V1"]

    # A group is picked through this tenant's own autocomplete, with nothing listed up front...
    add_phase = secretariat_client.get("/alu/admin/groups/phase/add/").content.decode()
    group_select = re.search(r'<select name="group"[^>]*>', add_phase)
    assert group_select is not None
    assert 'data-ajax--url="/alu/admin/autocomplete/"' in group_select.group(0)
    assert _options(add_phase, "group") == []
    assert "Water Stewardship" not in add_phase

    # ... which answers with this tenant's groups, all of them and nothing else.
    response = secretariat_client.get(
        "/alu/admin/autocomplete/",
        {"app_label": "groups", "model_name": "phase", "field_name": "group", "term": ""},
    )
    assert response.status_code == 200
    names = [item["text"] for item in response.json()["results"]]
    assert sorted(names) == ["Alu Circularity", "Alu Nature"]


def _options(page: str, field: str) -> list[str]:
    """The labels of the options a select offers (the empty choice left out)."""
    select = re.search(rf'<select name="{field}"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None, f"no select for {field}"
    return [
        label.strip()
        for value, label in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select[1])
        if value
    ]


def test_forged_post_with_another_tenants_group_changes_nothing(
    secretariat_client: Client,
    alu_rows: dict[str, object],
    other_rows: dict[str, object],
    org: Organisation,
) -> None:
    water = other_rows["workinggroup"]
    response = secretariat_client.post(
        "/alu/admin/groups/phase/add/",
        {
            "group": water.pk,  # type: ignore[attr-defined]
            "number": 2,
            "name": "Forged phase",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
            "meetings_min": 1,
            "meetings_max": 2,
            "status": "planned",
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    with scopes_disabled():
        assert not Phase.objects.filter(name="Forged phase").exists()


def test_admin_changes_are_audited_in_the_tenant(
    secretariat_client: Client, secretariat: User, org: Organisation
) -> None:
    response = secretariat_client.post(
        "/alu/admin/groups/standard/add/",
        {"name": "Chain of Custody Standard", "version": "V2", "description": "", "position": 2},
    )
    assert response.status_code == 302
    with scopes_disabled():
        entry = AuditEntry.objects.get(action="admin.add")
    assert entry.organisation == org
    assert entry.actor == secretariat
    assert entry.target_repr == "Chain of Custody Standard V2"


def _import(client: Client, path: str, content: bytes, fmt: str = "0") -> str:
    upload = io.BytesIO(content)
    upload.name = "import.csv"
    response = client.post(path, {"import_file": upload, "format": fmt, "resource": "0"})
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def test_import_cannot_reach_another_tenants_group(
    secretariat_client: Client, alu_rows: dict[str, object], other_rows: dict[str, object]
) -> None:
    page = _import(
        secretariat_client,
        "/alu/admin/groups/focusarea/import/",
        b"group,position,title,description\nwater,1,Smuggled area,\ncircularity,2,Good area,\n",
    )
    assert "WorkingGroup matching query does not exist" in page or "does not exist" in page
    with scopes_disabled():
        assert not FocusArea.objects.filter(title__in=["Smuggled area", "Good area"]).exists()


def test_import_preview_then_confirm_writes_into_the_tenant(
    secretariat_client: Client, org: Organisation, other_org: Organisation
) -> None:
    WorkingGroupFactory.create(organisation=other_org, slug="shared-slug", name="Other's group")
    page = _import(
        secretariat_client,
        "/alu/admin/groups/workinggroup/import/",
        b"number,name,slug,theme,summary,scope,seat_cap,parent\n"
        b"7,Shared Slug Group,shared-slug,Theme,Summary,Scope,25,\n",
    )
    assert "Shared Slug Group" in page  # the dry-run preview
    with scopes_disabled():
        assert not WorkingGroup.objects.filter(name="Shared Slug Group").exists()
    fields = _confirm_fields(page)
    assert fields["import_file_name"]
    response = secretariat_client.post("/alu/admin/groups/workinggroup/process_import/", fields)
    assert response.status_code == 302
    with scopes_disabled():
        created = WorkingGroup.objects.get(name="Shared Slug Group")
        assert created.organisation == org
        assert created.seat_cap == 25
        # The other tenant's group with the same slug is untouched.
        assert WorkingGroup.objects.get(organisation=other_org, slug="shared-slug").name == (
            "Other's group"
        )
        assert AuditEntry.objects.filter(organisation=org, action="import").count() == 1


def test_import_confirmation_of_another_tenants_upload_is_refused(
    secretariat_client: Client,
    other_secretariat_client: Client,
    org: Organisation,
    other_org: Organisation,
) -> None:
    page = _import(
        other_secretariat_client,
        "/other/admin/groups/standard/import/",
        b"name,version,description,position\nOther standard,V9,,1\n",
    )
    fields = _confirm_fields(page)
    response = secretariat_client.post(
        "/alu/admin/groups/standard/process_import/", fields, follow=True
    )
    assert response.status_code == 200
    assert "Upload the file again" in response.content.decode()
    with scopes_disabled():
        assert not org.standards.filter(name="Other standard").exists()


def _confirm_fields(page: str) -> dict[str, str]:
    return dict(
        re.findall(
            r'name="(import_file_name|original_file_name|format|resource)"'
            r'[^>]*value="([^"]*)"',
            page,
        )
    )


REFUSED = (
    "This import cannot be confirmed: the file it names is not one this site gave out. "
    "Nothing was imported. Upload the file again."
)


@pytest.fixture
def others_pending_import(other_secretariat_client: Client, other_org: Organisation) -> Path:
    """The other tenant's secretariat has previewed an import and not yet confirmed it."""
    page = _import(
        other_secretariat_client,
        "/other/admin/groups/standard/import/",
        b"name,version,description,position\nOther standard,V9,,1\n",
    )
    name = _confirm_fields(page)["import_file_name"]
    assert re.fullmatch(r"[0-9a-f]{32}", name), name  # the form the app generates
    pending = Path(default_storage.path(f"import-export/other/{name}"))
    assert pending.read_bytes() == b"name,version,description,position\nOther standard,V9,,1\n"
    return pending


@pytest.mark.parametrize("admin_path", ["groups/standard", "membership/member"])
def test_import_confirmation_refuses_any_file_name_but_the_generated_form(
    secretariat_client: Client,
    other_secretariat_client: Client,
    org: Organisation,
    other_org: Organisation,
    others_pending_import: Path,
    admin_path: str,
) -> None:
    name = others_pending_import.name
    before = others_pending_import.read_bytes()
    crafted = [
        f"../other/{name}",
        f"..%2Fother%2F{name}",
        f"..\\other\\{name}",
        f"/../other/{name}",
        str(others_pending_import),  # the absolute path on this server
        f"other/{name}",
        f"./{name}",
        f"{name}.csv",
        f"{name}/",
        f"{name}\n",
        f" {name}",
        name.upper(),
        name[:-1],
        "..",
        ".",
        "",
    ]
    for posted in crafted:
        response = secretariat_client.post(
            f"/alu/admin/{admin_path}/process_import/",
            {"import_file_name": posted, "original_file_name": "x.csv", "format": "0"},
            follow=True,
        )
        assert response.redirect_chain == [(f"/alu/admin/{admin_path}/import/", 302)], posted
        assert REFUSED in response.content.decode(), posted
        assert others_pending_import.read_bytes() == before, posted
    with scopes_disabled():
        assert not Standard.objects.exists()
        assert not Member.objects.exists()
        assert not AuditEntry.objects.filter(action="import").exists()
    # The other tenant's import is still waiting for it, whole, and goes through when confirmed.
    confirmed = other_secretariat_client.post(
        "/other/admin/groups/standard/process_import/",
        {"import_file_name": name, "original_file_name": "import.csv", "format": "0"},
    )
    assert confirmed.status_code == 302
    with scopes_disabled():
        assert list(Standard.objects.values_list("organisation__slug", "name")) == [
            ("other", "Other standard")
        ]
    assert not others_pending_import.exists()  # removed once imported


def test_import_confirmation_of_a_well_formed_unknown_name_is_refused(
    secretariat_client: Client, others_pending_import: Path
) -> None:
    before = others_pending_import.read_bytes()
    for posted in (others_pending_import.name, uuid.uuid4().hex):
        response = secretariat_client.post(
            "/alu/admin/groups/standard/process_import/",
            {"import_file_name": posted, "original_file_name": "x.csv", "format": "0"},
            follow=True,
        )
        assert response.redirect_chain == [("/alu/admin/groups/standard/import/", 302)]
        assert (
            "This import is no longer waiting for confirmation. Upload the file again."
            in response.content.decode()
        )
    assert others_pending_import.read_bytes() == before
    with scopes_disabled():
        assert not Standard.objects.exists()


def test_import_storage_itself_never_joins_a_name_of_another_form(org: Organisation) -> None:
    with scope(organisation=org):
        generated = TenantImportStorage()
        generated.save(b"a,b\n")
        assert generated.name is not None
        assert IMPORT_FILE_NAME.fullmatch(generated.name)
        assert generated.get_full_path() == f"import-export/alu/{generated.name}"
        assert TenantImportStorage(name=generated.name).read() == b"a,b\n"
        generated.remove()
        for crafted in (f"../other/{generated.name}", f"{generated.name}/", ""):
            with pytest.raises(SuspiciousFileOperation):
                TenantImportStorage(name=crafted)


def test_export_contains_only_the_tenants_rows(
    secretariat_client: Client, alu_rows: dict[str, object], other_rows: dict[str, object]
) -> None:
    fields = {f"workinggroupresource_{name}": "on" for name in ("number", "name", "slug")}
    response = secretariat_client.post(
        "/alu/admin/groups/workinggroup/export/", {"format": "0", "resource": "0", **fields}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = response.content.decode()
    assert "Alu Circularity" in body
    assert "Alu Nature" in body
    assert "Water" not in body


def test_bad_import_file_gives_a_clear_message_and_writes_nothing(
    secretariat_client: Client, org: Organisation
) -> None:
    page = html.unescape(
        _import(
            secretariat_client,
            "/alu/admin/groups/standard/import/",
            b"\xff\xfe\x00garbage\x81\n",
        )
    )
    # Said on the file field, and the upload form is offered again, not a confirmation.
    assert re.search(
        r'<ul class="errorlist"[^>]*><li>[^<]*encountered while trying to read file\. '
        r"Ensure you have chosen the correct format for the file\.</li></ul>",
        page,
    ), page
    assert 'name="import_file"' in page
    assert 'name="import_file_name"' not in page
    assert "Traceback" not in page

    page = html.unescape(
        _import(secretariat_client, "/alu/admin/groups/standard/import/", b"wrong,headers\n1,2\n")
    )
    assert "Nothing was imported. Correct the file and upload it again." in page
    assert (
        "The following fields are declared in 'import_id_fields' but are not present in the "
        "file headers: name, version"
    ) in page
    assert 'name="import_file_name"' not in page
    assert "Traceback" not in page
    with scopes_disabled():
        assert not org.standards.exists()
        assert not AuditEntry.objects.filter(action="import").exists()


def test_view_on_site_links_straight_to_the_public_page(
    secretariat_client: Client, alu_rows: dict[str, object], other_rows: dict[str, object]
) -> None:
    group = alu_rows["workinggroup"]
    page = secretariat_client.get(
        f"/alu/admin/groups/workinggroup/{group.pk}/change/"  # type: ignore[attr-defined]
    ).content.decode()
    assert 'href="/alu/groups/circularity/"' in page
    # The generic redirect (which would look up any tenant's object) does not exist here.
    water = other_rows["workinggroup"]
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_model(WorkingGroup)
    response = secretariat_client.get(f"/alu/admin/r/{ct.pk}/{water.pk}/")  # type: ignore[attr-defined]
    assert response.status_code == 404


def test_secretariat_edits_its_own_settings_only(
    secretariat_client: Client, org: Organisation, other_org: Organisation
) -> None:
    listing = secretariat_client.get("/alu/admin/asi_wg/organisationsettings/").content.decode()
    assert "Aluminium Body" in listing
    assert "Other Body" not in listing
    url = f"/alu/admin/asi_wg/organisationsettings/{org.pk}/change/"
    response = secretariat_client.post(
        url,
        {
            "short_name": "Alu",
            "time_zone": "Australia/Melbourne",
            "contact_email": "",
            "privacy_policy_url": "",
            "member_group_limit": "2",
            "offer_hold_days": "5",
            "missed_meetings_flag": "4",
            "commitment_hours": "24",
            "antitrust_statement": "We do not discuss prices.",
        },
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.member_group_limit, org.offer_hold_days, org.short_name) == (2, 5, "Alu")
    assert (org.missed_meetings_flag, org.commitment_hours) == (4, 24)
    assert org.antitrust_statement == "We do not discuss prices."
    other = secretariat_client.get(f"/alu/admin/asi_wg/organisationsettings/{other_org.pk}/change/")
    assert other.status_code == 302  # "does not exist" redirect: never another tenant's settings
    assert secretariat_client.get("/alu/admin/asi_wg/organisationsettings/add/").status_code == 403


def test_duplicate_within_the_tenant_is_a_form_error_not_a_500(
    secretariat_client: Client, org: Organisation, other_org: Organisation
) -> None:
    StandardFactory.create(organisation=org, name="Performance Standard", version="V3")
    # The same name in another tenant does not count.
    StandardFactory.create(organisation=other_org, name="Chain of Custody", version="V2")
    data = {"description": "", "position": 1}
    response = secretariat_client.post(
        "/alu/admin/groups/standard/add/", {"name": "Performance Standard", "version": "V3", **data}
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    ok = secretariat_client.post(
        "/alu/admin/groups/standard/add/", {"name": "Chain of Custody", "version": "V2", **data}
    )
    assert ok.status_code == 302


def test_crafted_import_and_export_parameters_get_a_message(
    secretariat_client: Client, alu_rows: dict[str, object]
) -> None:
    confirm = secretariat_client.post(
        "/alu/admin/groups/standard/process_import/",
        {"import_file_name": "x", "original_file_name": "x.csv", "format": "7", "resource": "0"},
        follow=True,
    )
    assert confirm.status_code == 200
    assert "Upload the file again" in confirm.content.decode()
    export = secretariat_client.get(
        "/alu/admin/groups/workinggroup/export/?no_such_filter=1", follow=True
    )
    assert export.status_code == 200
    assert "That filter does not exist" in export.content.decode()


def _changelist_queries(client: Client, model: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    app = "asi_wg" if model == "auditentry" else "groups"
    client.get(f"/alu/admin/{app}/{model}/")  # warms the caches (the audit trail's filters)
    with rendering(), CaptureQueriesContext(connection) as queries:
        response = client.get(f"/alu/admin/{app}/{model}/")
    assert response.status_code == 200, model
    return len(queries)


def _rows(org: Organisation, n: int, prefix: str) -> None:
    for i in range(n):
        group = WorkingGroupFactory.create(organisation=org, slug=f"{prefix}-a{i}")
        other = WorkingGroupFactory.create(organisation=org, slug=f"{prefix}-b{i}")
        FocusAreaFactory.create(group=group)
        GroupLinkageFactory.create(from_group=group, to_group=other)
        PhaseFactory.create(group=group)
        StandardFactory.create(organisation=org)


@pytest.mark.parametrize(
    "model", ["workinggroup", "focusarea", "grouplinkage", "phase", "standard", "auditentry"]
)
def test_admin_lists_cost_the_same_queries_for_one_row_or_five(
    secretariat_client: Client, org: Organisation, model: str
) -> None:
    _rows(org, 1, "one")
    one = _changelist_queries(secretariat_client, model)
    _rows(org, 4, "more")  # five of each now
    assert _changelist_queries(secretariat_client, model) == one


@pytest.mark.parametrize("size", [1, 5])
def test_platform_home_query_count_does_not_grow(client: Client, size: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import OrganisationFactory

    for _ in range(size):
        OrganisationFactory.create()
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert len(queries) == 1


def test_platform_admins_change_to_a_tenant_is_in_its_audit_trail(
    client: Client, org: Organisation
) -> None:
    admin = UserFactory.create(is_superuser=True, is_staff=True)
    client.force_login(admin)
    response = client.post(
        f"/admin/asi_wg/organisation/{org.pk}/change/",
        {
            "name": org.name,
            "short_name": "ALU",
            "slug": org.slug,
            "time_zone": "Europe/London",
            "website": "",
            "privacy_policy_url": "",
            "contact_email": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[-1500:]
    with scopes_disabled():
        entry = AuditEntry.objects.get(organisation=org, action="platform.change")
    assert entry.actor == admin
    assert "short_name" in str(entry.data["changes"]) or "Short name" in str(entry.data["changes"])


def test_the_audit_log_filters_by_kind_and_names_entries_about_nothing(
    secretariat_client: Client, org: Organisation, secretariat: User
) -> None:
    from asi_wg.audit import audit_record

    with scopes_disabled():
        audit_record(organisation=org, actor=secretariat, action="import")
        audit_record(organisation=org, actor=secretariat, action="admin.add", target=org)
    page = secretariat_client.get("/alu/admin/asi_wg/auditentry/").content.decode()
    assert '<a href="?target_type=-">No particular object</a>' in page
    about_nothing = secretariat_client.get("/alu/admin/asi_wg/auditentry/?target_type=-")
    assert about_nothing.context["cl"].result_count == 1
