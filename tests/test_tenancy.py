"""The tenant line: scoped managers, the middleware, and scoped tasks."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db.models import Model
from django.test import Client
from django_scopes import scope
from django_scopes.exceptions import ScopeError

from asi_wg.models import Organisation
from asi_wg.tenancy import tenant_task
from groups.models import FocusArea, GroupLinkage, Phase, WorkingGroup
from tests.factories import FocusAreaFactory, GroupLinkageFactory, PhaseFactory, WorkingGroupFactory

pytestmark = pytest.mark.django_db


# Rows that point at a tenant but are not the tenant's data, with the reason they are not scoped.
NOT_SCOPED: dict[str, str] = {
    "asi_wg.OrganisationUserObjectPermission": "guardian's role rows: read by guardian's checks, "
    "which run before and outside any tenant scope (sign-in, the platform admin)",
    "asi_wg.OrganisationGroupObjectPermission": "guardian's role rows, as above",
    "groups.WorkingGroupUserObjectPermission": "guardian's role rows, as above",
    "groups.WorkingGroupGroupObjectPermission": "guardian's role rows, as above",
    "membership.ApplicationFocusArea": "the many-to-many table of an application's focus areas: "
    "Django's related managers read it through its default manager (as they read every implicit "
    "through table), and it is only ever reached from a scoped Application",
}


def _points_at(model: type[Model], targets: set[type[Model]]) -> bool:
    return any(
        field.concrete
        and (field.many_to_one or field.one_to_one)
        and field.related_model in targets
        and not getattr(field.remote_field, "parent_link", False)  # model inheritance
        for field in model._meta.get_fields()
    )


def tenant_models() -> list[type[Model]]:
    """Every model that belongs to a tenant: a foreign key to ``Organisation``, or to a model
    that belongs to one (a focus area through its group, an answer through its extension)."""
    owned: set[type[Model]] = set()
    grown = True
    while grown:
        targets = owned | {Organisation}
        found = {m for m in apps.get_models() if m not in targets and _points_at(m, targets)}
        grown = bool(found - owned)
        owned |= found
    return sorted(owned, key=lambda m: m._meta.label)


TENANT_MODELS = [m for m in tenant_models() if m._meta.label not in NOT_SCOPED]


def test_every_tenant_model_is_found() -> None:
    """The discovery above cannot quietly find nothing: the models named in the design are in."""
    labels = {model._meta.label for model in TENANT_MODELS}
    assert {
        "asi_wg.AuditEntry",
        "groups.WorkingGroup",
        "groups.FocusArea",
        "groups.ExtensionAnswer",
        "membership.Member",
        "membership.ParticipantProfile",
        "membership.Application",
        "membership.Seat",
        "membership.Offer",
    } <= labels
    assert set(NOT_SCOPED) <= {model._meta.label for model in tenant_models()}


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda model: model._meta.label)
def test_unscoped_query_on_tenant_model_raises(model: type[Model]) -> None:
    for manager in {model._default_manager, *model._meta.managers}:
        for query in ("all", "count"):
            try:
                list(manager.all()) if query == "all" else manager.count()
            except ScopeError:
                continue
            pytest.fail(
                f"{model._meta.label} belongs to a tenant, but {query}() on its manager "
                f"{manager.name!r} ran outside any scope: give it a django-scopes ScopedManager "
                "(or list it in NOT_SCOPED with the reason)."
            )


def test_scope_shows_only_its_own_organisations_rows(
    org: Organisation, other_org: Organisation
) -> None:
    mine = WorkingGroupFactory.create(organisation=org, name="Mine")
    WorkingGroupFactory.create(organisation=other_org, name="Theirs")
    FocusAreaFactory.create(group=mine, title="My area")
    PhaseFactory.create(group=WorkingGroupFactory.create(organisation=other_org))
    GroupLinkageFactory.create(
        from_group=mine, to_group=WorkingGroupFactory.create(organisation=org)
    )

    with scope(organisation=org):
        assert [g.name for g in WorkingGroup.objects.filter(name__in=["Mine", "Theirs"])] == [
            "Mine"
        ]
        assert list(FocusArea.objects.values_list("title", flat=True)) == ["My area"]
        assert Phase.objects.count() == 0
        assert GroupLinkage.objects.count() == 1
    with scope(organisation=other_org):
        assert not WorkingGroup.objects.filter(name="Mine").exists()
        assert Phase.objects.count() == 1


def test_unknown_tenant_slug_is_a_friendly_404(client: Client, org: Organisation) -> None:
    response = client.get("/no-such-body/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "There is no organisation at /no-such-body/." in body
    assert 'href="/"' in body


@pytest.mark.parametrize(
    "path", ["/alu/groups/bad%20slug!/", "/alu/groups/../../etc/passwd", "/alu/groups/%00/"]
)
def test_malformed_group_slug_is_a_404_not_a_500(
    client: Client, org: Organisation, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_reserved_first_segment_is_not_a_tenant(client: Client, org: Organisation) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"]["state"] == "ok"


def test_tenant_task_runs_in_the_organisations_scope(
    org: Organisation, other_org: Organisation
) -> None:
    WorkingGroupFactory.create(organisation=org, name="Mine")
    WorkingGroupFactory.create(organisation=other_org, name="Theirs")

    @tenant_task
    def names(*, organisation: Organisation) -> list[str]:
        return list(WorkingGroup.objects.values_list("name", flat=True))

    assert names(organisation_id=org.pk) == ["Mine"]
    assert names(organisation_id=other_org.pk) == ["Theirs"]


def test_tenant_task_for_a_deleted_organisation_does_nothing(org: Organisation) -> None:
    calls = []

    @tenant_task
    def body(*, organisation: Organisation) -> None:
        calls.append(organisation)

    missing = org.pk + 1000
    assert body(organisation_id=missing) is None
    assert calls == []
