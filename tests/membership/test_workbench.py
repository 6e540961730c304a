"""The secretariat's selection workbench and staff index, through the real views."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from asi_wg.models import AuditEntry, Organisation, User
from groups.models import WorkingGroup
from membership import selectors, services
from membership.models import Application, Member, Offer, Seat
from tests.conftest import make_secretariat
from tests.factories import (
    ApplicationFactory,
    FocusAreaFactory,
    MemberFactory,
    MembershipClassFactory,
    ParticipantProfileFactory,
    UserFactory,
    ValueChainSegmentFactory,
    WorkingGroupFactory,
)

# Test setup writes across tenants; each request still runs in its own tenant scope.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]

T0 = datetime.datetime(2025, 3, 1, 9, 0, tzinfo=datetime.UTC)
URL = "/alu/staff/groups/circularity/selection/"
BULK = URL + "bulk/"


@pytest.fixture
def group(org: Organisation) -> WorkingGroup:
    return WorkingGroupFactory.create(
        organisation=org, name="Circularity", slug="circularity", seat_cap=3
    )


def applicant(
    group: WorkingGroup,
    *,
    member: Member | None = None,
    name: str = "",
    country: str = "DE",
    perspective: str = Member.Perspective.INDUSTRY,
    minute: int = 0,
    **kwargs: Any,
) -> Application:
    org = group.organisation
    if member is None:
        member = MemberFactory.create(organisation=org, country=country, perspective=perspective)
    user = UserFactory.create(full_name=name or f"Person {minute}")
    profile = ParticipantProfileFactory.create(organisation=org, user=user, member=member)
    kwargs.setdefault("applied_at", T0 + datetime.timedelta(minutes=minute))
    return ApplicationFactory.create(group=group, profile=profile, **kwargs)


def seat(application: Application, by: User, reason: str = "") -> Seat:
    with scopes_disabled():
        return services.seat_take(application=application, acting_user=by, override_reason=reason)


def status(application: Application) -> str:
    with scopes_disabled():
        return Application.objects.get(pk=application.pk).status


def page(client: Client, url: str = URL) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def follow(client: Client, url: str, data: dict[str, Any]) -> tuple[Any, str]:
    response = client.post(url, data, follow=True)
    return response, response.content.decode()


# --- Who may see it ---------------------------------------------------------------------------


def test_a_visitor_is_sent_to_sign_in(client: Client, group: WorkingGroup) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={URL}"
    assert client.get("/alu/staff/")["Location"] == "/accounts/login/?next=/alu/staff/"


def test_anyone_but_this_tenants_secretariat_gets_404(
    client: Client, group: WorkingGroup, other_secretariat_client: Client, org: Organisation
) -> None:
    participant = UserFactory.create()
    client.force_login(participant)
    application = applicant(group)
    for who in (client, other_secretariat_client):
        assert who.get(URL).status_code == 404
        assert who.get("/alu/staff/").status_code == 404
        response = who.post(BULK, {"applications": [application.pk], "action": "seat"})
        assert response.status_code == 404
    assert status(application) == Application.Status.SUBMITTED


def test_a_group_of_another_tenant_is_404(
    secretariat_client: Client, other_org: Organisation
) -> None:
    water = WorkingGroupFactory.create(organisation=other_org, slug="water", seat_cap=30)
    application = applicant(water)
    assert secretariat_client.get("/alu/staff/groups/water/selection/").status_code == 404
    for path, body in (
        ("cap/", {"seat_cap": "2"}),
        ("bulk/", {"applications": [application.pk], "action": "decline"}),
        (f"applications/{application.pk}/priority/", {"priority": "3", "reason": "x"}),
    ):
        response = secretariat_client.post(f"/alu/staff/groups/water/selection/{path}", body)
        assert response.status_code == 404
    water.refresh_from_db()
    assert water.seat_cap == 30
    assert status(application) == Application.Status.SUBMITTED


# --- What it shows ----------------------------------------------------------------------------


def test_each_applicant_shows_member_traits_rules_and_the_reason_for_the_proposal(
    secretariat_client: Client, group: WorkingGroup, org: Organisation, secretariat: User
) -> None:
    civil = MembershipClassFactory.create(organisation=org, name="Civil Society")
    recycling = ValueChainSegmentFactory.create(organisation=org, name="Recycling")
    ngo = MemberFactory.create(
        organisation=org,
        name="Waste Pickers Alliance",
        membership_class=civil,
        country="ZA",
        size_band=Member.SizeBand.SMALL,
        perspective=Member.Perspective.CIVIL_SOCIETY,
    )
    ngo.segments.set([recycling])
    epr = FocusAreaFactory.create(group=group, title="Extended Producer Responsibility")
    proposed = applicant(group, member=ngo, name="Thandi Nkosi", minute=5)
    proposed.focus_areas.set([epr])
    seat(applicant(group, name="Seated Sam"), secretariat)
    html = page(secretariat_client)
    for text in (
        "Thandi Nkosi",
        "Waste Pickers Alliance",
        "Civil Society",
        "Recycling",
        "Africa",
        "Small",
        "Civil society",
        "Extended Producer Responsibility",
        "Received: awaiting selection",
        "Proposed, no. 1.",
        "Adds region Africa, segment Recycling, the Civil society perspective and size band "
        "Small; balances civil society against industry (0 against 1 so far); covers 1 "
        "uncovered focus area(s): Extended Producer Responsibility.",
        # A badge is short to the eye and complete for a screen reader.
        "✓ One per Member",
        "One per Member: allows. First representative of Waste Pickers Alliance.",
        "Cap: allows. 2 of 3 seats free.",
        "Seated Sam",
        "Seat the proposed slate (1)",
    ):
        assert text in html, text
    # Charts: each is a table with its numbers (the text alternative), bars drawn as SVG.
    assert '<figure class="bar-chart" aria-labelledby="chart-region-title">' in html
    assert '<th scope="row">Africa</th>' in html
    assert 'aria-hidden="true" focusable="false"><rect x="0" y="0" width="100"' in html
    assert "<script" not in html


def test_a_blocked_applicant_is_told_which_rule_blocks_and_that_staff_may_override(
    secretariat_client: Client, group: WorkingGroup, org: Organisation, secretariat: User
) -> None:
    member = MemberFactory.create(organisation=org, name="Alu Corp")
    seat(applicant(group, member=member, name="First Rep"), secretariat)
    second = applicant(group, member=member, name="Second Rep", minute=1)
    someone = applicant(group, name="Someone Else", minute=2)
    former = MemberFactory.create(organisation=org, name="Gone Ltd", is_current=False)
    applicant(group, member=former, name="Former Member", minute=3)
    html = page(secretariat_client)
    assert "! One per Member" in html
    assert "✗ Eligibility" in html
    assert (
        "<strong>Not proposed.</strong> Gone Ltd is no longer a Member, so its representatives "
        "cannot take part." in html
    )
    assert (
        "One per Member: blocks unless staff override it with a written reason. Alu Corp "
        "already has a representative in this group, and others are waiting for seats." in html
    )

    # Once Someone Else is proposed, only the former Member's representative is left, who cannot
    # take part and so does not count as waiting: the second representative comes next.
    def row(application: Application) -> str:
        return html.split(f'<tr id="application-{application.pk}"')[1].split("</tr>")[0]

    assert "<strong>Proposed, no. 1.</strong>" in row(someone)
    assert "<strong>Proposed, no. 2.</strong>" in row(second)
    # Three in the pool for two free seats, but only two of them may take part.
    assert "<dt>Oversubscribed</dt><dd>No</dd>" in html


# --- Bulk actions -----------------------------------------------------------------------------


def test_bulk_seating_follows_the_slate_and_reports_who_was_refused(
    secretariat_client: Client, group: WorkingGroup, secretariat: User
) -> None:
    seat(applicant(group, name="Held Seat", country="DE"), secretariat)
    early_same_region = applicant(group, name="Early Europe", country="FR", minute=1)
    africa = applicant(group, name="Late Africa", country="KE", minute=2)
    civil_asia = applicant(
        group,
        name="Later Asia",
        country="IN",
        perspective=Member.Perspective.CIVIL_SOCIETY,
        minute=3,
    )
    response, _html = follow(
        secretariat_client,
        BULK,
        {"applications": [early_same_region.pk, africa.pk, civil_asia.pk], "action": "seat"},
    )
    notes = messages_of(response)
    # Two seats free: the proposed slate takes them, in its order; the first applicant is refused.
    assert status(civil_asia) == status(africa) == Application.Status.SEATED
    assert status(early_same_region) == Application.Status.SUBMITTED
    assert notes[0].startswith("Done for 2 of 3: Later Asia")
    assert "Late Africa" in notes[0]
    assert notes[1].startswith("Refused for Early Europe")
    assert "All 3 seats are taken or held for an open offer." in notes[1]


def test_seating_the_proposed_slate_in_one_step(
    secretariat_client: Client, group: WorkingGroup
) -> None:
    applications = [applicant(group, minute=n, country=c) for n, c in enumerate(["BR", "IN", "ZA"])]
    html = page(secretariat_client)
    assert "Seat the proposed slate (3)" in html
    follow(
        secretariat_client,
        BULK,
        {"applications": [a.pk for a in applications], "action": "seat"},
    )
    assert {status(a) for a in applications} == {Application.Status.SEATED}


def test_a_second_representative_needs_a_written_reason(
    secretariat_client: Client, group: WorkingGroup, org: Organisation, secretariat: User
) -> None:
    member = MemberFactory.create(organisation=org, name="Alu Corp")
    seat(applicant(group, member=member, name="First Rep"), secretariat)
    second = applicant(group, member=member, name="Second Rep", minute=1)
    applicant(group, name="Someone Else", minute=2)
    response = secretariat_client.post(BULK, {"applications": [second.pk], "action": "seat"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Seating them needs an override, so give a written reason." in html
    assert "Second Rep (Alu Corp): Alu Corp already has a representative" in html
    assert status(second) == Application.Status.SUBMITTED
    # The ticked box stays ticked, so nothing has to be chosen again.
    assert f'value="{second.pk}" id="pick-{second.pk}" checked' in html

    response, _html = follow(
        secretariat_client,
        BULK,
        {
            "applications": [second.pk],
            "action": "seat",
            "override_reason": "Covers the smelter side.",
        },
    )
    assert status(second) == Application.Status.SEATED
    assert (
        "Second Rep (Alu Corp) seated, with the override reason recorded"
        in (messages_of(response)[0])
    )
    with scopes_disabled():
        held = Seat.objects.get(application=second)
        assert held.override_reason == "Covers the smelter side."
        entry = AuditEntry.objects.get(action="seat.take", target_id=str(held.pk))
    assert entry.data["overridden"] == ["one_per_member"]


def test_bulk_waiting_list_and_decline(secretariat_client: Client, group: WorkingGroup) -> None:
    first, second, third = (applicant(group, minute=n) for n in range(3))
    follow(secretariat_client, BULK, {"applications": [first.pk, second.pk], "action": "waitlist"})
    assert status(first) == status(second) == Application.Status.WAITING
    response, _html = follow(
        secretariat_client,
        BULK,
        {"applications": [third.pk], "action": "decline", "decline_reason": "Out of scope."},
    )
    assert status(third) == Application.Status.DECLINED
    assert "declined" in messages_of(response)[0]
    with scopes_disabled():
        entry = AuditEntry.objects.get(action="application.decline")
    assert entry.data == {"reason": "Out of scope."}


def test_a_refusal_by_a_service_is_a_message_not_an_error_page(
    secretariat_client: Client, group: WorkingGroup
) -> None:
    declined = applicant(group, status=Application.Status.DECLINED, name="Already Declined")
    response, _html = follow(
        secretariat_client, BULK, {"applications": [declined.pk], "action": "decline"}
    )
    assert response.status_code == 200
    member = declined.profile.member
    assert member is not None
    assert messages_of(response) == [
        f"Refused for Already Declined ({member.name}): This application is not in a state "
        "that allows that."
    ]


@pytest.mark.parametrize("where", ["another group", "another tenant", "seated", "nonsense"])
def test_a_forged_application_is_refused_and_nothing_changes(
    secretariat_client: Client,
    group: WorkingGroup,
    org: Organisation,
    other_org: Organisation,
    where: str,
    secretariat: User,
) -> None:
    own = applicant(group)
    if where == "another group":
        forged = applicant(WorkingGroupFactory.create(organisation=org, slug="nature")).pk
    elif where == "another tenant":
        forged = applicant(WorkingGroupFactory.create(organisation=other_org, slug="water")).pk
    elif where == "seated":
        forged = applicant(group, minute=1).pk
        with scopes_disabled():
            seat(Application.objects.get(pk=forged), secretariat)
    else:
        forged = "1; DROP TABLE"  # type: ignore[assignment]
    response = secretariat_client.post(
        BULK, {"applications": [own.pk, forged], "action": "decline"}
    )
    assert response.status_code == 400
    assert (
        "One or more of the chosen applications are not open to selection in this group. "
        "Nothing was changed." in messages_of(response)
    )
    assert status(own) == Application.Status.SUBMITTED
    with scopes_disabled():
        assert not AuditEntry.objects.filter(action="application.decline").exists()


def test_bulk_without_a_choice_or_an_action_says_what_is_missing(
    secretariat_client: Client, group: WorkingGroup
) -> None:
    applicant(group)
    response = secretariat_client.post(BULK, {})
    assert response.status_code == 400
    notes = " ".join(messages_of(response))
    assert "Tick at least one applicant." in notes
    assert "Choose what to do with them." in notes


# --- The waiting list -------------------------------------------------------------------------


def test_reordering_the_waiting_list_needs_a_reason_and_is_audited(
    secretariat_client: Client, group: WorkingGroup
) -> None:
    first = applicant(group, name="First In", status=Application.Status.WAITING, minute=1)
    second = applicant(group, name="Second In", status=Application.Status.WAITING, minute=2)
    url = f"{URL}applications/{second.pk}/priority/"
    response, _html = follow(secretariat_client, url, {"priority": "5", "reason": ""})
    assert "Say why the waiting-list order changes." in messages_of(response)
    with scopes_disabled():
        assert Application.objects.get(pk=second.pk).priority == 0

    response, html = follow(
        secretariat_client, url, {"priority": "5", "reason": "Only smelter expert waiting."}
    )
    assert messages_of(response) == [
        f"Second In ({second.profile.member}) now has priority 5 on the waiting list."
    ]
    with scopes_disabled():
        assert selectors.waiting_position(Application.objects.get(pk=second.pk)) == 1
        assert selectors.waiting_position(Application.objects.get(pk=first.pk)) == 2
        entry = AuditEntry.objects.get(action="waitlist.reorder")
    assert entry.data == {"from": 0, "to": 5, "reason": "Only smelter expert waiting."}
    waiting = html.split('id="waiting-heading"')[1]
    assert waiting.index("Second In") < waiting.index("First In")


@pytest.mark.parametrize("where", ["another group", "not waiting", "missing"])
def test_reordering_a_forged_application_is_refused(
    secretariat_client: Client, group: WorkingGroup, org: Organisation, where: str
) -> None:
    if where == "another group":
        target = applicant(
            WorkingGroupFactory.create(organisation=org, slug="nature"),
            status=Application.Status.WAITING,
        )
    else:
        target = applicant(group)
    pk = 999999 if where == "missing" else target.pk
    response, _html = follow(
        secretariat_client,
        f"{URL}applications/{pk}/priority/",
        {"priority": "9", "reason": "Forged."},
    )
    assert messages_of(response) == [
        "That applicant is not on this group's waiting list. Nothing was changed."
    ]
    with scopes_disabled():
        assert Application.objects.get(pk=target.pk).priority == 0
        assert not AuditEntry.objects.filter(action="waitlist.reorder").exists()


# --- Ending a seat, and the cap ---------------------------------------------------------------


def test_ending_a_seat_frees_it_and_offers_it_to_the_next_on_the_list(
    secretariat_client: Client,
    group: WorkingGroup,
    secretariat: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    group.seat_cap = 1
    group.save()
    held = seat(applicant(group, name="Absent Alex"), secretariat)
    waiting = applicant(group, name="Next Nadia", status=Application.Status.WAITING, minute=1)
    url = f"{URL}seats/{held.pk}/end/"
    response, _html = follow(secretariat_client, url, {"reason": "other", "note": ""})
    assert "Say why the seat ends." in messages_of(response)
    with scopes_disabled():
        assert Seat.objects.get(pk=held.pk).ended_at is None

    # The promotion job is queued on commit: run it, as the worker would.
    with django_capture_on_commit_callbacks(execute=True):
        response = secretariat_client.post(url, {"reason": "non_attendance", "note": ""})
    assert response.status_code == 302
    response = secretariat_client.get(response["Location"])
    html = response.content.decode()
    assert messages_of(response)[0].startswith("The seat of Absent Alex has ended.")
    with scopes_disabled():
        ended = Seat.objects.get(pk=held.pk)
        offer = Offer.objects.get(status=Offer.Status.OPEN)
    assert ended.end_reason == Seat.EndReason.NON_ATTENDANCE
    assert offer.application_id == waiting.pk
    assert "Open offers (1)" in html


@pytest.mark.parametrize("where", ["another group", "already ended"])
def test_ending_a_forged_seat_is_refused(
    secretariat_client: Client,
    group: WorkingGroup,
    org: Organisation,
    secretariat: User,
    where: str,
) -> None:
    if where == "another group":
        other = WorkingGroupFactory.create(organisation=org, slug="nature")
        target = seat(applicant(other), secretariat)
    else:
        target = seat(applicant(group), secretariat)
        with scopes_disabled():
            services.seat_end(seat=target, reason=Seat.EndReason.WITHDREW, acting_user=secretariat)
    response, _html = follow(
        secretariat_client, f"{URL}seats/{target.pk}/end/", {"reason": "withdrew"}
    )
    assert messages_of(response) == ["That seat is not held in this group. Nothing was changed."]
    with scopes_disabled():
        assert AuditEntry.objects.filter(action="seat.end").count() == (
            1 if where == "already ended" else 0
        )


def test_the_seat_cap_changes_but_never_below_the_seats_held(
    secretariat_client: Client, group: WorkingGroup, secretariat: User
) -> None:
    for n in range(2):
        seat(applicant(group, minute=n), secretariat)
    response, _html = follow(secretariat_client, URL + "cap/", {"seat_cap": "1"})
    assert messages_of(response) == [
        "2 seats are held or offered: end seats before lowering the cap to 1."
    ]
    response, _html = follow(secretariat_client, URL + "cap/", {"seat_cap": "abc"})
    assert messages_of(response) == ["Enter a whole number."]
    response, html = follow(secretariat_client, URL + "cap/", {"seat_cap": "25"})
    assert messages_of(response) == ["The seat cap is now 25."]
    group.refresh_from_db()
    assert group.seat_cap == 25
    assert "Seats held (2 of 25)" in html


# --- The staff index --------------------------------------------------------------------------


def test_the_staff_index_lists_each_group_with_seats_offers_and_waiting(
    secretariat_client: Client, group: WorkingGroup, secretariat: User, org: Organisation
) -> None:
    seat(applicant(group), secretariat)
    applicant(group, status=Application.Status.WAITING, minute=1)
    applicant(group, status=Application.Status.WAITING, minute=2)
    applicant(group, minute=3)
    WorkingGroupFactory.create(organisation=org, name="Nature", slug="nature", seat_cap=30)
    html = page(secretariat_client, "/alu/staff/")
    row = html.split(f'href="{URL}">Circularity</a>')[1].split("</tr>")[0]
    assert '<td data-label="Seats held">1 of 3</td>' in row
    assert '<td data-label="Waiting list">2</td>' in row
    assert '<td data-label="Awaiting selection">1</td>' in row
    assert 'href="/alu/staff/groups/nature/selection/">Nature</a>' in html


# --- Crafted requests, and query counts -------------------------------------------------------


def test_crafted_requests_never_cause_a_server_error(
    secretariat_client: Client, group: WorkingGroup
) -> None:
    secretariat_client.raise_request_exception = False
    application = applicant(group)
    paths = [
        URL,
        BULK,
        URL + "cap/",
        f"{URL}applications/{application.pk}/priority/",
        f"{URL}applications/99999999999999999999/priority/",
        f"{URL}seats/0/end/",
        "/alu/staff/groups/nope/selection/",
        "/alu/staff/groups/%ff/selection/bulk/",
    ]
    bodies: list[dict[str, Any]] = [
        {},
        {"applications": ["x", "-1", "99999999999999999999"], "action": "seat"},
        {"applications": [application.pk], "action": "explode"},
        {"priority": "99999999", "reason": "x" * 5000, "seat_cap": "-3", "reason_": "\x00"},
        {"reason": "nonsense", "note": "\x00"},
    ]
    for path in paths:
        assert secretariat_client.get(path).status_code < 500, path
        for body in bodies:
            assert secretariat_client.post(path, body).status_code < 500, (path, body)


def build_group_with_applicants(group: WorkingGroup, secretariat: User, size: int) -> None:
    org = group.organisation
    segments = [ValueChainSegmentFactory.create(organisation=org, name=n) for n in ("A", "B")]
    areas = [FocusAreaFactory.create(group=group) for _ in range(2)]
    FocusAreaFactory.create(group=group, parent=areas[0])
    elsewhere = WorkingGroupFactory.create(organisation=org, slug="nature")
    group.seat_cap = 30
    group.save()
    held = seat(applicant(group, minute=100), secretariat)
    assert held.member is not None
    held.member.segments.set(segments)
    offered = applicant(group, minute=101, status=Application.Status.WAITING)
    with scopes_disabled():
        services.waitlist_promote(group=group)
        assert Offer.objects.get().application_id == offered.pk
    for n in range(size):
        application = applicant(group, minute=n, status=Application.Status.WAITING)
        application.focus_areas.set(areas)
        member = application.profile.member
        assert member is not None
        member.segments.set(segments[: n % 2 + 1])
        seat(applicant(elsewhere, member=member, minute=n), secretariat)
        applicant(
            group,
            minute=50 + n,
            status=Application.Status.DECLINED,
        )
        ParticipantProfileFactory.create(organisation=org)


@pytest.mark.parametrize("size", [1, 5])
def test_workbench_query_count_does_not_grow(
    secretariat_client: Client, group: WorkingGroup, secretariat: User, size: int, org: Organisation
) -> None:
    org.member_group_limit = 1
    org.save()
    build_group_with_applicants(group, secretariat, size)
    with CaptureQueriesContext(connection) as queries:
        response = secretariat_client.get(URL)
    assert response.status_code == 200
    assert response.context["workbench"].slate.application_ids  # the proposal is computed
    assert len(queries) == 13, "\n".join(q["sql"] for q in queries.captured_queries)


@pytest.mark.parametrize("size", [1, 3])
def test_staff_index_query_count_does_not_grow(
    secretariat_client: Client, org: Organisation, secretariat: User, size: int
) -> None:
    for n in range(size):
        group = WorkingGroupFactory.create(organisation=org, slug=f"g{n}", seat_cap=2)
        WorkingGroupFactory.create(organisation=org, parent=group, number=1, slug=f"g{n}-sub")
        seat(applicant(group, minute=n), secretariat)
        applicant(group, minute=10 + n, status=Application.Status.WAITING)
        with scopes_disabled():
            services.waitlist_promote(group=group)
    with CaptureQueriesContext(connection) as queries:
        response = secretariat_client.get("/alu/staff/")
    assert response.status_code == 200
    assert len(queries) == 3, "\n".join(q["sql"] for q in queries.captured_queries)


def test_the_secretariat_of_each_tenant_sees_only_its_own_groups(
    other_org: Organisation, org: Organisation
) -> None:
    WorkingGroupFactory.create(organisation=org, name="Circularity", slug="circularity")
    WorkingGroupFactory.create(organisation=other_org, name="Water Stewardship", slug="water")
    client = Client()
    client.force_login(make_secretariat(other_org))
    html = page(client, "/other/staff/")
    assert "Water Stewardship" in html
    assert "Circularity" not in html
