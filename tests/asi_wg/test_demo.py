"""load_demo: the Terms of Reference's six groups, the second tenant, and idempotence."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core import serializers
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_scopes import scopes_disabled

from asi_wg.models import Organisation, User
from groups.models import WorkingGroup

pytestmark = pytest.mark.django_db

SIX_GROUPS = [
    "Circularity",
    "Climate Change",
    "Nature",
    "Community Rights and Participation",
    "Labour Rights/ Health and Safety",
    "Chain of Custody and Claims",
]


def snapshot() -> str:
    models = [
        m
        for m in apps.get_models()
        if m._meta.app_label in {"groups", "membership", "account", "guardian"}
    ]
    with scopes_disabled():
        rows = [obj for model in models for obj in model._base_manager.order_by("pk")]
        return serializers.serialize("json", rows)


def test_load_demo_twice_changes_nothing() -> None:
    call_command("load_demo")
    first = snapshot()
    call_command("load_demo")
    assert snapshot() == first


def test_demo_has_the_six_groups_in_order_with_focus_areas_and_phase_1() -> None:
    call_command("load_demo")
    asi = Organisation.objects.get(slug="asi")
    with scopes_disabled():
        groups = list(WorkingGroup.objects.filter(organisation=asi, parent=None).order_by("number"))
        assert [g.name for g in groups] == SIX_GROUPS
        for group in groups:
            assert group.focus_areas.count() >= 4, group.name
            phase = group.phases.get(number=1)
            # Nine months, as the Terms of Reference plan it, around the day of loading: the
            # demo always has meetings held and meetings to come.
            assert phase.starts_on < timezone.localdate() < phase.ends_on
            assert phase.starts_on.day == 1
            assert 270 <= (phase.ends_on - phase.starts_on).days <= 305
            assert phase.status == "active"
            assert (phase.meetings_min, phase.meetings_max, group.seat_cap) == (6, 8, 30)
        circularity = groups[0]
        linked = set(circularity.linkages_out.values_list("to_group__name", flat=True))
        assert linked == {
            "Nature",
            "Climate Change",
            "Community Rights and Participation",
            "Chain of Custody and Claims",
        }
        assert circularity.subgroups.count() == 3
        assert asi.objectives.count() == 7


def test_demo_tenant_shares_no_names_or_people_with_asi(client: Client) -> None:
    call_command("load_demo")
    demo = Organisation.objects.get(slug="demo")
    with scopes_disabled():
        names = set(WorkingGroup.objects.filter(organisation=demo).values_list("name", flat=True))
    assert names == {"Water Stewardship", "Traceability"}
    page = client.get("/demo/").content.decode()
    assert "Water Stewardship" in page
    assert "Traceability" in page
    for asi_name in [*SIX_GROUPS, "Aluminium"]:
        assert asi_name not in page


def test_demo_accounts_have_their_roles() -> None:
    call_command("load_demo")
    asi = Organisation.objects.get(slug="asi")
    demo = Organisation.objects.get(slug="demo")
    accounts = {u.email: u for u in User.objects.all()}
    assert accounts["secretariat@asi.example"].has_perm("asi_wg.act_as_secretariat", asi)
    assert not accounts["secretariat@asi.example"].has_perm("asi_wg.act_as_secretariat", demo)
    assert accounts["committee@asi.example"].has_perm("asi_wg.act_as_committee", asi)
    assert accounts["secretariat@demo.example"].has_perm("asi_wg.act_as_secretariat", demo)
    assert not accounts["secretariat@demo.example"].has_perm("asi_wg.act_as_secretariat", asi)
    with scopes_disabled():
        circularity = WorkingGroup.objects.get(organisation=asi, slug="circularity")
    assert accounts["participant@asi.example"].has_perm(
        "groups.participate_workinggroup", circularity
    )
    for user in accounts.values():
        assert user.check_password("wg-demo-2025")


def test_demo_secretariat_gets_404_on_asi_admin_but_reaches_its_own() -> None:
    call_command("load_demo")
    client = Client()
    client.force_login(User.objects.get(email="secretariat@demo.example"))
    assert client.get("/asi/admin/").status_code == 404
    own = client.get("/demo/admin/groups/workinggroup/")
    assert own.status_code == 200
    assert b"Water Stewardship" in own.content
    assert b"Circularity" not in own.content
