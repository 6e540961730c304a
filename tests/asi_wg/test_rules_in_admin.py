"""No write goes around its rule: the admins and imports of both admin sites leave the fields
that services guard alone, and nothing with a history is deleted (it is archived or ended)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.contrib import admin
from django.db.models import ProtectedError
from django.test import Client, RequestFactory
from django_scopes import scope, scopes_disabled

from asi_wg.admin_sites import platform_admin_site, tenant_admin_site
from asi_wg.models import AuditEntry, Organisation, User
from feedback.models import Answer, Disposition
from groups.models import FocusArea, WorkingGroup
from membership import services
from membership.models import (
    AntitrustAcknowledgement,
    AntitrustPolicy,
    Application,
    Member,
    Offer,
    Seat,
    SentNotification,
)
from tests.factories import ApplicationFactory, FocusAreaFactory, UserFactory, WorkingGroupFactory

pytestmark = pytest.mark.django_db


def _all_fields(model: Any) -> set[str]:
    return {field.name for field in model._meta.get_fields() if field.concrete} - {"id"}


# What a service guards, by model: its lock, its checks and its audit entry are skipped by any
# other write. The admin and the imports may show these fields but never write them.
GUARDED: dict[str, set[str]] = {
    "groups.workinggroup": {"seat_cap", "archived_at"},
    "groups.phaseextension": {"status", "decided_at", "decided_by", "new_phase"},
    "groups.extensionanswer": {"answer", "participant"},
    "membership.application": {"status", "priority", "group", "applicant", "profile"},
    "membership.seat": _all_fields(Seat),
    "membership.offer": _all_fields(Offer),
    "membership.antitrustpolicy": _all_fields(AntitrustPolicy),
    "membership.antitrustacknowledgement": _all_fields(AntitrustAcknowledgement),
    "membership.sentnotification": _all_fields(SentNotification),
    "asi_wg.auditentry": _all_fields(AuditEntry),
    # Feedback: answers are the participants' words, saved with their version check; a
    # disposition is private until its round's batch is published; a round's times move only
    # through its open, close and extend services.
    "feedback.answer": _all_fields(Answer),
    "feedback.disposition": _all_fields(Disposition),
    "feedback.feedbackround": {"opens_at", "closes_at", "closed_early_at", "group", "document"},
}
# A new group has no seats yet: its add form and an import of a new row may set the cap.
SET_ON_CREATION = {"groups.workinggroup": {"seat_cap"}}
# Publishing a policy version is its add form, which calls the publishing service.
ADDED_THROUGH_A_SERVICE = {
    "membership.antitrustpolicy": {"title", "body"},
    # A new round's add form calls ``feedback.services.round_create``, which checks the times.
    "feedback.feedbackround": {"opens_at", "closes_at", "group", "document"},
}


def _request(user: User, organisation: Organisation | None) -> Any:
    request: Any = RequestFactory().get("/")
    request.user = user
    if organisation is not None:
        request.organisation = organisation
    return request


def _writable_in(model_admin: Any, request: Any) -> dict[str, set[str]]:
    """Every field each model's admin would write: change form, list, inlines, add form."""
    found: dict[str, set[str]] = {}
    model = model_admin.model
    label = model._meta.label_lower

    def add(label: str, fields: set[str]) -> None:
        found.setdefault(label, set()).update(fields)

    obj = model()
    if model_admin.has_change_permission(request, obj):
        add(label, set(model_admin.get_form(request, obj, change=True).base_fields))
        add(label, set(model_admin.list_editable))
    if model_admin.has_add_permission(request):
        fields = set(model_admin.get_form(request, None, change=False).base_fields)
        add(label + ":add", fields)
    for inline in model_admin.get_inline_instances(request, obj):
        if inline.has_change_permission(request, obj) or inline.has_add_permission(request, obj):
            formset = inline.get_formset(request, obj)
            add(inline.model._meta.label_lower, set(formset.form.base_fields))
    return found


def _importable_in(model_admin: Any, request: Any) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    if not getattr(model_admin, "has_import_permission", lambda r: False)(request):
        return found
    for resource_class in model_admin.get_import_resource_classes(request):
        resource = resource_class(**model_admin.get_import_resource_kwargs(request))
        fields = {
            field.attribute.split("__")[0]
            for field in resource.get_import_fields()
            if field.attribute and not field.readonly
        }
        model = resource._meta.model or model_admin.model
        found.setdefault(model._meta.label_lower, set()).update(fields)
    return found


def _violations(site: admin.AdminSite, request: Any) -> list[str]:
    violations = []
    for model_admin in site._registry.values():
        for where, writable in (
            ("admin", _writable_in(model_admin, request)),
            ("import", _importable_in(model_admin, request)),
        ):
            for label, fields in writable.items():
                adding = label.endswith(":add")
                model = label.removesuffix(":add")
                allowed = (
                    SET_ON_CREATION.get(model, set()) | ADDED_THROUGH_A_SERVICE.get(model, set())
                    if adding
                    else set()
                )
                bad = (fields & GUARDED.get(model, set())) - allowed
                if bad:
                    violations.append(f"{site.name} {where} {label}: {sorted(bad)}")
    return violations


def test_every_guarded_field_names_a_real_field() -> None:
    from django.apps import apps

    for label, fields in GUARDED.items():
        model = apps.get_model(label)
        assert fields <= _all_fields(model), label


def test_no_admin_or_import_of_either_site_writes_a_field_a_service_guards(
    org: Organisation, secretariat: User
) -> None:
    superuser = UserFactory.create(is_superuser=True, is_staff=True)
    with scope(organisation=org):
        tenant = _violations(tenant_admin_site, _request(secretariat, org))
        platform = _violations(platform_admin_site, _request(superuser, None))
    assert tenant == []
    assert platform == []
    # The walk really covered the sites (a registry emptied by a refactor would pass silently).
    assert len(tenant_admin_site._registry) >= 15
    assert len(platform_admin_site._registry) >= 2


def test_the_walk_finds_a_guarded_field_left_writable(org: Organisation, secretariat: User) -> None:
    class Careless(admin.ModelAdmin):
        fields = ("name", "seat_cap")

        def has_change_permission(self, request: Any, obj: Any = None) -> bool:
            return True

    site = admin.AdminSite(name="careless")
    site.register(WorkingGroup, Careless)
    with scope(organisation=org):
        found = _violations(site, _request(secretariat, org))
    assert found == ["careless admin groups.workinggroup: ['seat_cap']"]


# --- The seat cap in the admin and in imports -------------------------------------------------


@pytest.fixture
def full_group(org: Organisation, secretariat: User) -> WorkingGroup:
    """A group of three seats, all held."""
    group = WorkingGroupFactory.create(
        organisation=org, name="Circularity", slug="circularity", seat_cap=3
    )
    with scopes_disabled():
        for _ in range(3):
            application = ApplicationFactory.create(group=group)
            services.seat_take(application=application, acting_user=secretariat)
    return group


def _cap(group: WorkingGroup) -> int:
    with scopes_disabled():
        return WorkingGroup.objects.get(pk=group.pk).seat_cap


def test_the_group_admin_does_not_change_the_cap_and_points_to_the_workbench(
    secretariat_client: Client, full_group: WorkingGroup
) -> None:
    url = f"/alu/admin/groups/workinggroup/{full_group.pk}/change/"
    page = secretariat_client.get(url).content.decode()
    assert 'name="seat_cap"' not in page
    assert "/alu/staff/groups/circularity/selection/#seat-cap" in page
    assert "Change it on the selection workbench" in page
    response = secretariat_client.post(
        url,
        {
            "number": 1,
            "name": "Circularity",
            "slug": "circularity",
            "seat_cap": 1,  # below the three seats held: must not be written
            **_empty_inlines(),
        },
    )
    assert response.status_code == 302
    assert _cap(full_group) == 3


def _empty_inlines() -> dict[str, Any]:
    data: dict[str, Any] = {}
    for prefix in ("focus_areas", "linkages_out", "phases"):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": 0,
                f"{prefix}-INITIAL_FORMS": 0,
                f"{prefix}-MIN_NUM_FORMS": 0,
                f"{prefix}-MAX_NUM_FORMS": 1000,
            }
        )
    return data


def _import_preview(client: Client, content: bytes) -> str:
    upload = io.BytesIO(content)
    upload.name = "groups.csv"
    response = client.post(
        "/alu/admin/groups/workinggroup/import/",
        {"import_file": upload, "format": "0", "resource": "0"},
    )
    assert response.status_code == 200
    return response.content.decode()


HEADER = b"number,name,slug,theme,summary,scope,seat_cap,parent\n"


def test_an_import_that_changes_a_groups_cap_is_refused_and_writes_nothing(
    secretariat_client: Client, full_group: WorkingGroup
) -> None:
    page = _import_preview(
        secretariat_client,
        HEADER + b"1,Circularity renamed,circularity,,,,1,\n" + b"9,A new group,new-group,,,,12,\n",
    )
    assert "An import does not change the seat cap of a group (1 asked, 3 now)" in page
    assert "process_import" not in page  # no confirmation is offered
    assert _cap(full_group) == 3
    with scopes_disabled():
        assert WorkingGroup.objects.get(pk=full_group.pk).name == "Circularity"
        assert not WorkingGroup.objects.filter(slug="new-group").exists()


def test_an_import_may_repeat_the_cap_and_set_a_new_groups_cap(
    secretariat_client: Client, full_group: WorkingGroup
) -> None:
    page = _import_preview(
        secretariat_client,
        HEADER + b"1,Circularity,circularity,,,,3,\n" + b"9,A new group,new-group,,,,12,\n",
    )
    fields = dict(
        re.findall(
            r'name="(import_file_name|original_file_name|format|resource)"[^>]*value="([^"]*)"',
            page,
        )
    )
    response = secretariat_client.post("/alu/admin/groups/workinggroup/process_import/", fields)
    assert response.status_code == 302
    with scopes_disabled():
        assert WorkingGroup.objects.get(slug="new-group").seat_cap == 12
    assert _cap(full_group) == 3


# --- Nothing with a history is deleted --------------------------------------------------------


def test_the_admin_offers_no_delete_for_groups_members_seats_applications_or_tenants(
    secretariat_client: Client, full_group: WorkingGroup, org: Organisation
) -> None:
    with scopes_disabled():
        seat = Seat.objects.filter(group=full_group).select_related("member").first()
        assert seat is not None
        assert seat.member is not None
        application = Application.objects.filter(group=full_group).first()
        assert application is not None
        paths = [
            f"/alu/admin/groups/workinggroup/{full_group.pk}/delete/",
            f"/alu/admin/membership/member/{seat.member.pk}/delete/",
            f"/alu/admin/membership/seat/{seat.pk}/delete/",
            f"/alu/admin/membership/application/{application.pk}/delete/",
        ]
    for path in paths:
        assert secretariat_client.post(path, {"post": "yes"}).status_code == 403, path
    superuser = UserFactory.create(is_superuser=True, is_staff=True)
    platform = Client()
    platform.force_login(superuser)
    response = platform.post(f"/admin/asi_wg/organisation/{org.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    with scopes_disabled():
        assert Seat.objects.filter(group=full_group, ended_at__isnull=True).count() == 3
        assert Member.objects.filter(pk=seat.member.pk).exists()
        assert Organisation.objects.filter(pk=org.pk).exists()


def test_history_is_protected_in_the_database_too(full_group: WorkingGroup) -> None:
    with scopes_disabled():
        seat = Seat.objects.filter(group=full_group).select_related("holder").first()
        assert seat is not None
        with pytest.raises(ProtectedError):
            WorkingGroup.objects.get(pk=full_group.pk).delete()
        with pytest.raises(ProtectedError):
            seat.holder.delete()
        assert Seat.objects.filter(group=full_group).count() == 3


def test_the_platform_admin_refuses_to_delete_a_person_with_a_history(
    full_group: WorkingGroup,
) -> None:
    with scopes_disabled():
        holder = Seat.objects.filter(group=full_group).first().holder  # type: ignore[union-attr]
    superuser = UserFactory.create(is_superuser=True, is_staff=True)
    platform = Client()
    platform.force_login(superuser)
    page = platform.post(f"/admin/asi_wg/user/{holder.pk}/delete/", {"post": "yes"})
    assert page.status_code == 200
    assert "would require deleting the following protected related objects" in (
        page.content.decode()
    )
    assert User.objects.filter(pk=holder.pk).exists()


def test_a_focus_area_an_application_chose_is_not_deleted(
    secretariat_client: Client, org: Organisation
) -> None:
    group = WorkingGroupFactory.create(organisation=org)
    area = FocusAreaFactory.create(group=group, title="Scrap")
    with scopes_disabled():
        application = ApplicationFactory.create(group=group)
        application.focus_areas.set([area])
    page = secretariat_client.post(
        f"/alu/admin/groups/focusarea/{area.pk}/delete/", {"post": "yes"}
    )
    assert "protected related objects" in page.content.decode()
    with scopes_disabled():
        assert list(application.focus_areas.all()) == [area]
        assert FocusArea.objects.filter(pk=area.pk).exists()


# --- Archiving instead -------------------------------------------------------------------------


def _archive(client: Client, group: WorkingGroup) -> Any:
    return client.post(
        "/alu/admin/groups/workinggroup/",
        {"action": "archive_groups", "_selected_action": [group.pk]},
        follow=True,
    )


def test_a_group_with_seats_held_is_not_archived(
    secretariat_client: Client, full_group: WorkingGroup
) -> None:
    response = _archive(secretariat_client, full_group)
    assert "Circularity still has 3 seats held, 0 offers open and 0 applications waiting" in (
        response.content.decode()
    )
    with scopes_disabled():
        assert WorkingGroup.objects.get(pk=full_group.pk).archived_at is None


def test_an_archived_group_leaves_the_list_takes_no_applications_and_can_come_back(
    secretariat_client: Client, client: Client, org: Organisation, secretariat: User
) -> None:
    group = WorkingGroupFactory.create(organisation=org, name="Old group", slug="old")
    response = _archive(secretariat_client, group)
    assert "1 groups archived." in response.content.decode()
    with scopes_disabled():
        assert AuditEntry.objects.filter(action="group.archive", target_id=str(group.pk)).exists()
    assert "Old group" not in client.get("/alu/").content.decode()
    detail = client.get("/alu/groups/old/").content.decode()
    assert "This group was archived on" in detail
    assert "Apply to join" not in detail
    person = UserFactory.create()
    with scopes_disabled():
        from tests.factories import ParticipantProfileFactory

        ParticipantProfileFactory.create(organisation=org, user=person)
        with pytest.raises(services.DomainError, match="Old group is archived"):
            services.application_submit(group=group, user=person, focus_areas=[], statement="Hi")
        assert not Application.objects.filter(group=group).exists()
    secretariat_client.post(
        "/alu/admin/groups/workinggroup/",
        {"action": "restore_groups", "_selected_action": [group.pk]},
    )
    assert "Old group" in client.get("/alu/").content.decode()
