"""The tenant line: scoped managers, the middleware, and scoped tasks."""

from __future__ import annotations

import pytest
from django.db.models import Model
from django.test import Client
from django_scopes import scope
from django_scopes.exceptions import ScopeError

from asi_wg.models import AuditEntry, Organisation
from asi_wg.tenancy import tenant_task
from groups.models import FocusArea, GroupLinkage, Phase, WorkingGroup
from tests.factories import FocusAreaFactory, GroupLinkageFactory, PhaseFactory, WorkingGroupFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [WorkingGroup, FocusArea, GroupLinkage, Phase, AuditEntry])
def test_unscoped_query_on_tenant_model_raises(model: type[Model]) -> None:
    with pytest.raises(ScopeError):
        list(model._default_manager.all())


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
