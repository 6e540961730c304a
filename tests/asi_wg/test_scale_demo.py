"""load_demo --scale: synthetic tenants with the promised counts, idempotent, each in its scope."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Count
from django.test import Client
from django_scopes import scope, scopes_disabled

from asi_wg.demo import Demo, load_scale
from asi_wg.management.commands import load_demo
from asi_wg.models import AuditEntry, Organisation, User
from feedback.models import Answer, Criterion, Disposition, DraftDocument, FeedbackRound
from groups.models import WorkingGroup
from meetings.models import Attendance, Material, Meeting
from membership.models import AntitrustAcknowledgement, Application, Member, Offer, Seat
from tests.conftest import make_secretariat

pytestmark = pytest.mark.django_db


def row_counts() -> dict[str, int]:
    with scopes_disabled():
        return {
            model._meta.label: model._base_manager.count()
            for model in apps.get_models()
            if model._meta.app_label
            in {"asi_wg", "groups", "membership", "meetings", "feedback", "account", "guardian"}
        }


def test_scale_1_makes_one_tenant_with_the_promised_counts_once_in_its_own_scope(
    client: Client, org: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The demo tenants themselves are tested in test_demo; here another tenant stands for them
    # and the command's own demo is skipped (it would double this test's time).
    monkeypatch.setattr(load_demo, "load_all", Demo)
    call_command("load_demo", scale=1)
    tenant = Organisation.objects.get(slug="scale-01")
    assert not Organisation.objects.filter(slug="scale-02").exists()
    with scope(organisation=tenant):
        groups = WorkingGroup.objects.filter(organisation=tenant)
        assert groups.count() == 6
        assert Seat.objects.filter(group__in=groups, ended_at__isnull=True).count() == 180
        assert {g.seats.count() for g in groups} == {30}
        assert Application.objects.filter(group__in=groups).count() == 600
        statuses = set(Application.objects.values_list("status", flat=True))
        assert {"seated", "waiting", "submitted", "declined"} <= statuses
        expired = Application.objects.filter(status="offer_expired")
        assert set(Offer.objects.values_list("application", flat=True)) == set(
            expired.values_list("pk", flat=True)
        )
        assert Member.objects.filter(organisation=tenant).count() > 30
        assert Meeting.objects.filter(organisation=tenant).count() == 48
        assert Attendance.objects.filter(organisation=tenant).exists()
        assert Material.objects.filter(organisation=tenant, file="").exclude(url="").exists()
        assert DraftDocument.objects.filter(organisation=tenant).count() == 3
        per_document = Criterion.objects.values("document").annotate(n=Count("id"))
        assert sorted(row["n"] for row in per_document) == [60, 60, 60]
        rounds = list(FeedbackRound.objects.filter(organisation=tenant))
        assert len(rounds) == 5
        assert sorted(r.state() for r in rounds) == ["closed"] * 4 + ["open"]
        for feedback_round in rounds:
            per_criterion = (
                Answer.objects.filter(round=feedback_round)
                .values("criterion")
                .annotate(n=Count("id"))
            )
            assert [row["n"] for row in per_criterion] == [30] * feedback_round.criteria.count()
            # Only the group's seated participants, who acknowledged the policy, answered.
            authors = set(
                Answer.objects.filter(round=feedback_round).values_list("author", flat=True)
            )
            seated = set(
                Seat.objects.filter(group=feedback_round.group_id).values_list("holder", flat=True)
            )
            acknowledged = set(AntitrustAcknowledgement.objects.values_list("user", flat=True))
            assert authors == seated
            assert authors <= acknowledged
        assert Disposition.objects.filter(organisation=tenant).exists()
        assert not Disposition.objects.filter(answer__round__in=[r for r in rounds if r.is_open()])

    # The tenants do not see each other.
    with scope(organisation=org):
        assert not WorkingGroup.objects.filter(organisation=tenant).exists()
        assert not Answer.objects.filter(organisation=tenant).exists()
        assert not Seat.objects.filter(group__organisation=tenant).exists()
    with scope(organisation=tenant):
        assert set(Answer.objects.values_list("organisation", flat=True)) == {tenant.pk}
        assert set(Meeting.objects.values_list("organisation", flat=True)) == {tenant.pk}
        # Every answer has the audit entry its saves would have written, in its own tenant.
        audited = AuditEntry.objects.filter(organisation=tenant, action="answer.save")
        assert set(audited.values_list("target_id", flat=True)) == {
            str(pk) for pk in Answer.objects.values_list("pk", flat=True)
        }

    client.force_login(User.objects.get(email="staff@scale-01.example"))
    assert client.get("/scale-01/staff/").status_code == 200
    assert client.get(f"/{org.slug}/staff/").status_code in (403, 404)
    client.force_login(make_secretariat(org))
    assert client.get("/scale-01/staff/").status_code in (403, 404)

    # Again: nothing is added (the demo's own idempotence is tested in test_demo).
    before = row_counts()
    assert load_scale(1) == []
    assert row_counts() == before
