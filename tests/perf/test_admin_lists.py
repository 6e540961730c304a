"""The tenant admin's largest lists cost a fixed number of queries however many rows they hold
(issue 10): the same literal at a few rows and at a full page of them."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django_scopes import scopes_disabled

from asi_wg.audit import audit_record
from asi_wg.models import AuditEntry, Organisation, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _entries(org: Organisation, actor: User, n: int) -> None:
    with scopes_disabled():
        for i in range(n):
            audit_record(
                organisation=org,
                actor=UserFactory.create() if i % 2 else actor,
                action=("member.add", "seat.offer", "round.open")[i % 3],
                target=actor,
                data={"n": i},
            )


@pytest.mark.parametrize("size", [2, 120])
def test_the_audit_trail_list_costs_the_same_for_2_or_120_entries(
    secretariat_client: Client,
    secretariat: User,
    org: Organisation,
    size: int,
    django_assert_num_queries: Any,
) -> None:
    _entries(org, secretariat, size)
    secretariat_client.get("/alu/admin/asi_wg/auditentry/")  # warms the content types
    with django_assert_num_queries(6):
        response = secretariat_client.get("/alu/admin/asi_wg/auditentry/")
    assert response.status_code == 200
    with scopes_disabled():
        entries = AuditEntry.objects.filter(organisation=org).count()
    assert entries >= size
    assert response.content.decode().count('<td class="field-action">') == min(entries, 50)


def test_the_audit_trail_filters_list_its_actions_and_filter_on_a_new_one_at_once(
    secretariat_client: Client, secretariat: User, org: Organisation
) -> None:
    """The filters' choices are kept for a few minutes (a distinct over the whole trail each):
    an action that appears meanwhile can already be filtered on."""
    _entries(org, secretariat, 3)
    page = secretariat_client.get("/alu/admin/asi_wg/auditentry/").content.decode()
    assert "?action__exact=seat.offer" in page
    assert "?target_type=asi_wg.user" in page
    with scopes_disabled():
        audit_record(organisation=org, actor=secretariat, action="phase.extend", target=None)
    filtered = secretariat_client.get("/alu/admin/asi_wg/auditentry/?action__exact=phase.extend")
    assert filtered.status_code == 200
    assert filtered.content.decode().count('<td class="field-action">') == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the plans are PostgreSQL's (EXPLAIN)"
)
@pytest.mark.parametrize(
    ("query", "index"),
    [
        # A tenant's entries (its deletion, its export): the two indexes that begin with it.
        ("SELECT id FROM asi_wg_auditentry WHERE organisation_id = %s", "asi_wg_audi"),
        (
            "SELECT id FROM asi_wg_auditentry WHERE organisation_id = %s"
            " ORDER BY created_at DESC, id DESC LIMIT 100",
            "auditentry_org_newest",
        ),
    ],
)
def test_a_tenants_audit_entries_are_read_from_an_index_without_one_of_their_own(
    org: Organisation, secretariat: User, query: str, index: str
) -> None:
    _entries(org, secretariat, 30)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # what the plan may use, at any size
        cursor.execute(f"EXPLAIN {query}", [org.pk])
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'asi_wg_auditentry'")
        indexes = {row[0] for row in cursor.fetchall()}
    assert index in plan, plan
    # The organisation's own index is gone: every entry wrote one index more for nothing.
    assert not any(name.startswith("asi_wg_auditentry_organisation_id") for name in indexes)
