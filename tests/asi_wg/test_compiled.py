"""A queryset compiled once and run again with other ids (asi_wg.compiled): each run reads its
own tenant's rows, whoever compiled it first."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection
from django.db.models import Exists, OuterRef
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from django_scopes import scope, scopes_disabled

from asi_wg import compiled
from asi_wg.compiled import Compiled
from asi_wg.models import AuditEntry, Organisation, User
from feedback.models import Criterion
from groups.models import WorkingGroup
from meetings.models import Meeting
from membership.models import Seat
from tests.factories import DraftDocumentFactory, MeetingFactory, WorkingGroupFactory
from tests.meetings.conftest import seat_person

pytestmark = pytest.mark.django_db


def _groups(organisation_id: int, group_id: int, user_id: int):  # type: ignore[no-untyped-def]
    seated = Seat.objects.filter(group=OuterRef("pk"), holder=user_id, ended_at__isnull=True)
    return WorkingGroup.objects.filter(organisation=organisation_id, pk=group_id).annotate(
        seated=Exists(seated)
    )


def test_each_run_reads_its_own_tenants_row_whoever_compiled_it(
    org: Organisation, other_org: Organisation, secretariat: User
) -> None:
    compiled = Compiled(WorkingGroup, _groups, "organisation_id", "group_id", "user_id")
    with scope(organisation=org):
        ours = WorkingGroupFactory.create(organisation=org, name="Ours")
        holder_id = seat_person(ours, secretariat).holder_id
    with scope(organisation=other_org):
        theirs = WorkingGroupFactory.create(organisation=other_org, name="Theirs")
    with scope(organisation=org):  # compiled here, in the first tenant's scope
        [row] = compiled.rows(organisation_id=org.pk, group_id=ours.pk, user_id=holder_id)
        assert (row.name, getattr(row, "seated")) == ("Ours", True)  # noqa: B009
    with scope(organisation=other_org):
        [row] = compiled.rows(organisation_id=other_org.pk, group_id=theirs.pk, user_id=holder_id)
        assert (row.name, getattr(row, "seated")) == ("Theirs", False)  # noqa: B009
        # Another tenant's id finds nothing, as the queryset would.
        assert compiled.rows(organisation_id=other_org.pk, group_id=ours.pk, user_id=0) == []


def test_a_name_the_query_does_not_use_is_refused(org: Organisation) -> None:
    compiled = Compiled(
        WorkingGroup,
        lambda organisation_id, unused: WorkingGroup.objects.filter(organisation=organisation_id),
        "organisation_id",
        "unused",
    )
    with scope(organisation=org), pytest.raises(ValueError, match="not all parameters"):
        compiled.rows(organisation_id=org.pk, unused=1)


def test_the_suffix_of_the_databases_vendor_ends_the_sql(org: Organisation) -> None:
    compiled = Compiled(
        WorkingGroup,
        lambda organisation_id: WorkingGroup.objects.filter(organisation=organisation_id),
        "organisation_id",
        suffixes={"another vendor": " NOT SQL", connection.vendor: " /* this vendor's */"},
    )
    sql, _params, _slots = compiled.sql(connection.alias)
    assert sql.endswith(" /* this vendor's */")
    assert "NOT SQL" not in sql
    with scope(organisation=org):
        group = WorkingGroupFactory.create(organisation=org)
        assert [g.pk for g in compiled.rows(organisation_id=org.pk)] == [group.pk]


def test_an_id_no_row_can_have_finds_nothing_without_asking_the_database(
    org: Organisation,
) -> None:
    compiled = Compiled(
        WorkingGroup,
        lambda organisation_id, group_id: WorkingGroup.objects.filter(
            organisation=organisation_id, pk=group_id
        ),
        "organisation_id",
        "group_id",
    )
    with scope(organisation=org):
        group = WorkingGroupFactory.create(organisation=org)
        assert compiled.rows(organisation_id=org.pk, group_id=group.pk) == [group]
        for crafted in (10**20, 2**63, 0, -1):
            assert compiled.rows(organisation_id=org.pk, group_id=crafted) == []


def test_rows_come_with_their_select_related_rows_at_no_further_query(
    org: Organisation, secretariat: User
) -> None:
    compiled = Compiled(
        Seat,
        lambda organisation_id, group_id: (
            Seat.objects.filter(group=group_id, group__organisation=organisation_id)
            .select_related("group", "holder")
            .order_by()
        ),
        "organisation_id",
        "group_id",
    )
    with scope(organisation=org):
        group = WorkingGroupFactory.create(organisation=org, name="Ours")
        seat = seat_person(group, secretariat)
        with CaptureQueriesContext(connection) as queries:
            [row] = compiled.rows(organisation_id=org.pk, group_id=group.pk)
            assert (row.pk, row.group.name, row.holder.email) == (
                seat.pk,
                "Ours",
                seat.holder.email,
            )
            # Dates as the ORM makes them (SQLite's text converted, aware), here and related.
            assert row.started_at == seat.started_at
            assert row.holder.date_joined == seat.holder.date_joined
    assert len(queries) == 1


# --- Writes without the ORM's save -------------------------------------------------------------


def _stored(entry_id: int) -> dict[str, object]:
    with scopes_disabled():
        row = AuditEntry.objects.values().get(pk=entry_id)
    return {name: value for name, value in row.items() if name != "id"}


def test_an_inserted_row_is_the_row_save_would_store(org: Organisation, secretariat: User) -> None:
    when = datetime.datetime(2030, 1, 15, 14, 0, tzinfo=datetime.UTC)
    values = {
        "organisation": org,
        "actor": secretariat,
        "action": "answer.save",
        "target_type": "feedback.answer",
        "target_id": "42",
        "target_repr": "Zoë's answer, «quoted»",
        "data": {"at": when, "share": Decimal("0.25"), "fields": ["comment"]},
        "created_at": when,
    }
    saved = AuditEntry(**values)
    saved.save()
    inserted = AuditEntry(**values)
    with CaptureQueriesContext(connection) as queries:
        compiled.insert(inserted)
    assert len(queries) == 1
    assert inserted.pk is not None
    assert inserted.pk != saved.pk
    assert not inserted._state.adding
    assert _stored(inserted.pk) == _stored(saved.pk)
    # Its automatic values made as save() makes them.
    fresh = AuditEntry(organisation=org, action="x")
    compiled.insert(fresh)
    assert _stored(fresh.pk)["created_at"] == fresh.created_at


def test_an_update_writes_the_named_columns_only_with_their_automatic_values(
    org: Organisation,
) -> None:
    with scope(organisation=org):
        meeting = MeetingFactory.create(group__organisation=org, title="Before", agenda="Kept")
        old = meeting.updated_at
        assert compiled._plain(Meeting)  # no receiver: the short way
        meeting.title, meeting.agenda = "After", "Not written"
        with CaptureQueriesContext(connection) as queries:
            compiled.update(meeting, ["title", "updated_at"])
        assert len(queries) == 1
        stored = Meeting.objects.values("title", "agenda", "updated_at").get(pk=meeting.pk)
    assert meeting.updated_at > old  # auto_now, as save() makes it
    assert stored == {"title": "After", "agenda": "Kept", "updated_at": meeting.updated_at}


def test_an_update_of_a_row_that_is_gone_fails_as_save_does(org: Organisation) -> None:
    entry = AuditEntry(organisation=org, action="x")
    compiled.insert(entry)
    with scopes_disabled():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(DatabaseError, match="did not affect any rows"):
        compiled.update(entry, ["action"])


def test_a_model_a_receiver_listens_to_is_saved_the_orms_way(org: Organisation) -> None:
    heard: list[tuple[str, bool]] = []

    def listen(sender: object, instance: AuditEntry, created: bool, **kwargs: object) -> None:
        heard.append((instance.action, created))

    assert compiled._plain(AuditEntry)  # nothing listens: the short way
    assert not compiled._plain(Organisation)  # the tenant cache listens
    post_save.connect(listen, sender=AuditEntry)
    try:
        entry = AuditEntry(organisation=org, action="heard")
        compiled.insert(entry)
        entry.action = "heard again"
        compiled.update(entry, ["action"])
    finally:
        post_save.disconnect(listen, sender=AuditEntry)
    assert heard == [("heard", True), ("heard again", False)]


def test_a_model_with_a_save_of_its_own_is_saved_by_it(org: Organisation) -> None:
    # The criterion's save() derives its sort key from its reference.
    assert not compiled._plain(Criterion)
    document = DraftDocumentFactory.create(organisation=org)
    criterion = Criterion(organisation=org, document=document, reference="2.10", title="T")
    compiled.insert(criterion)
    assert criterion.sort_key
    with scopes_disabled():
        assert Criterion.objects.get(pk=criterion.pk).sort_key == criterion.sort_key


def test_an_update_by_other_names_goes_the_orms_way_and_an_empty_one_writes_nothing(
    org: Organisation,
) -> None:
    with scope(organisation=org):
        meeting = MeetingFactory.create(group__organisation=org, title="Before")
        meeting.title = "After"
        with CaptureQueriesContext(connection) as queries:
            compiled.update(meeting, [])
        assert len(queries) == 0
        other = MeetingFactory.create(group__organisation=org)
        meeting.phase_id = other.phase_id
        compiled.update(meeting, ["phase_id", "title", "title"])  # an attribute's name, twice
        stored = Meeting.objects.values_list("title", "phase_id").get(pk=meeting.pk)
    assert stored == ("After", other.phase_id)


def test_a_fields_column_is_named_for_sql_written_by_hand() -> None:
    assert compiled.column(AuditEntry, "organisation") == "organisation_id"
    assert compiled.column(AuditEntry, "action") == "action"
    with pytest.raises(ValueError, match="not a column"):
        compiled.column(Meeting, "attendance")  # the other side of a relation
