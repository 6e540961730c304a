"""The secretariat's admin for Members, participants, the antitrust policy, applications, seats
and offers: what it lists, what it lets staff do (through services), and what it refuses."""

from __future__ import annotations

import datetime
import html
from collections.abc import Callable, Iterable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scopes_disabled

from asi_wg.models import AuditEntry, Organisation, User
from groups.models import WorkingGroup
from membership.models import (
    AntitrustPolicy,
    Application,
    Member,
    MembershipClass,
    Offer,
    ParticipantProfile,
    Seat,
    ValueChainSegment,
)
from tests.factories import (
    AntitrustPolicyFactory,
    ApplicationFactory,
    MemberFactory,
    MembershipClassFactory,
    ParticipantProfileFactory,
    UserFactory,
    ValueChainSegmentFactory,
    WorkingGroupFactory,
)
from tests.helpers.pages import rendering

pytestmark = pytest.mark.django_db

ADMIN = "/alu/admin/membership"
EXPERT = ParticipantProfile.Affiliation.EXPERT


def page_text(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return html.unescape(response.content.decode())


# --- Rows for the lists -----------------------------------------------------------------------


def make_members(org: Organisation, numbers: Iterable[int]) -> None:
    for n in numbers:
        cls = MembershipClassFactory.create(organisation=org, name=f"Class {n}")
        member = MemberFactory.create(
            organisation=org, name=f"Member {n}", membership_class=cls, country="BR"
        )
        member.segments.add(ValueChainSegmentFactory.create(organisation=org, name=f"Seg {n}"))


def make_classes(org: Organisation, numbers: Iterable[int]) -> None:
    for n in numbers:
        MembershipClassFactory.create(organisation=org, name=f"Class {n}", position=n)


def make_segments(org: Organisation, numbers: Iterable[int]) -> None:
    for n in numbers:
        ValueChainSegmentFactory.create(organisation=org, name=f"Segment {n}", position=n)


def make_profiles(org: Organisation, numbers: Iterable[int]) -> None:
    for n in numbers:
        ParticipantProfileFactory.create(organisation=org)
        ParticipantProfileFactory.create(
            organisation=org, affiliation=EXPERT, expert_organisation=f"Institute {n}"
        )


def make_policies(org: Organisation, numbers: Iterable[int]) -> None:
    for _ in numbers:
        AntitrustPolicyFactory.create(organisation=org, published_by=UserFactory.create())


def make_applications(org: Organisation, numbers: Iterable[int]) -> list[Application]:
    return [
        ApplicationFactory.create(group=WorkingGroupFactory.create(organisation=org))
        for _ in numbers
    ]


def make_seats(org: Organisation, numbers: Iterable[int]) -> None:
    for application in make_applications(org, numbers):
        Seat._base_manager.create(
            group=application.group,
            holder=application.applicant,
            application=application,
            member=application.profile.member,
            affiliation=application.profile.affiliation,
        )


def make_offers(org: Organisation, numbers: Iterable[int]) -> None:
    for application in make_applications(org, numbers):
        Offer._base_manager.create(
            group=application.group,
            application=application,
            expires_at=timezone.now() + datetime.timedelta(days=7),
        )


Maker = Callable[[Organisation, Iterable[int]], object]

# The queries of each list page, the same literal at 1 and at 5 rows so that an N+1 fails the
# build. Guardian's permission lookups are counted apart: the tenant admin asks guardian again
# on every permission check (2 queries each), and the sidebar checks every registered model,
# so their number follows what other apps register. They must still not grow with the rows.
LISTS: list[tuple[str, Maker, int]] = [
    ("member", make_members, 5),
    ("membershipclass", make_classes, 4),
    ("valuechainsegment", make_segments, 4),
    ("participantprofile", make_profiles, 4),
    ("antitrustpolicy", make_policies, 4),
    ("application", make_applications, 5),
    ("seat", make_seats, 5),
    ("offer", make_offers, 5),
]


def list_queries(client: Client, path: str) -> tuple[int, int, int]:
    """(rows listed, the page's own queries, guardian's permission lookups)."""
    client.get(path)  # warm the content-type cache
    with rendering(), CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    sqls = [query["sql"] for query in captured.captured_queries]
    permission = sum("objectpermission" in sql for sql in sqls)
    rows = response.context_data["cl"].result_count  # type: ignore[attr-defined,index]
    return rows, len(sqls) - permission, permission


@pytest.mark.parametrize(("model", "make", "queries"), LISTS, ids=[row[0] for row in LISTS])
def test_list_query_count_does_not_grow(
    secretariat_client: Client, org: Organisation, model: str, make: Maker, queries: int
) -> None:
    path = f"{ADMIN}/{model}/"
    make(org, range(1))
    rows_1, own_1, permission_1 = list_queries(secretariat_client, path)
    make(org, range(1, 5))
    rows_5, own_5, permission_5 = list_queries(secretariat_client, path)
    assert rows_5 == 5 * rows_1
    assert (own_1, own_5) == (queries, queries)
    assert permission_5 == permission_1


# --- Members, classes, segments ---------------------------------------------------------------


def test_member_list_shows_this_tenants_members_with_region_and_filters(
    secretariat_client: Client, org: Organisation, other_org: Organisation
) -> None:
    civil = MembershipClassFactory.create(organisation=org, name="Civil Society")
    MemberFactory.create(
        organisation=org, name="Forest Friends", membership_class=civil, country="BR"
    )
    MemberFactory.create(organisation=org, name="Smelter GmbH", country="DE")
    MemberFactory.create(organisation=other_org, name="Water Works", country="BR")

    listing = page_text(secretariat_client, f"{ADMIN}/member/")
    assert "Forest Friends" in listing
    assert "Latin America and the Caribbean" in listing
    assert "Brazil" in listing  # the country's name, not its code
    assert "Water Works" not in listing
    assert "Import" in listing
    assert "Export" in listing

    by_region = page_text(
        secretariat_client, f"{ADMIN}/member/?region=Latin+America+and+the+Caribbean"
    )
    assert "Forest Friends" in by_region
    assert "Smelter GmbH" not in by_region
    by_class = page_text(
        secretariat_client, f"{ADMIN}/member/?membership_class__id__exact={civil.pk}"
    )
    assert "Forest Friends" in by_class
    assert "Smelter GmbH" not in by_class
    searched = page_text(secretariat_client, f"{ADMIN}/member/?q=smelter")
    assert "Smelter GmbH" in searched
    assert "Forest Friends" not in searched


def test_member_added_in_the_admin_gets_tenant_region_and_audit(
    secretariat_client: Client, org: Organisation, other_org: Organisation, secretariat: User
) -> None:
    cls = MembershipClassFactory.create(organisation=org, name="Associations")
    recycling = ValueChainSegmentFactory.create(organisation=org, name="recycling")
    theirs = ValueChainSegmentFactory.create(organisation=other_org, name="irrigation")
    form = page_text(secretariat_client, f"{ADMIN}/member/add/")
    assert "recycling" in form
    assert "irrigation" not in form  # segment choices are the tenant's own

    response = secretariat_client.post(
        f"{ADMIN}/member/add/",
        {
            "name": "Aluminium Association of Ghana",
            "membership_class": cls.pk,
            "segments": [recycling.pk],
            "country": "GH",
            "size_band": "small",
            "perspective": "other",
            "is_current": "on",
            "joined_on": "2021-06-01",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        member = Member.objects.get(name="Aluminium Association of Ghana")
        assert (member.organisation, member.region) == (org, "Africa")
        assert list(member.segments.all()) == [recycling]
        assert AuditEntry.objects.filter(
            organisation=org, action="admin.add", actor=secretariat
        ).exists()

    forged = secretariat_client.post(
        f"{ADMIN}/member/add/",
        {
            "name": "Forged",
            "membership_class": cls.pk,
            "segments": [theirs.pk],
            "country": "GH",
            "size_band": "small",
            "perspective": "other",
        },
    )
    assert forged.status_code == 200
    assert "Select a valid choice" in forged.content.decode()


def test_member_name_taken_in_any_case_is_a_form_error_not_a_500(
    secretariat_client: Client, org: Organisation, other_org: Organisation
) -> None:
    member = MemberFactory.create(organisation=org, name="Hydro")
    MemberFactory.create(organisation=other_org, name="Shared Name")
    data = {
        "name": "HYDRO",
        "membership_class": member.membership_class_id,
        "country": "NO",
        "size_band": "large",
        "perspective": "industry",
    }
    response = secretariat_client.post(f"{ADMIN}/member/add/", data)
    assert response.status_code == 200
    assert "Member “HYDRO” already exists." in html.unescape(response.content.decode())
    # The same name in another tenant is no obstacle.
    response = secretariat_client.post(f"{ADMIN}/member/add/", {**data, "name": "Shared Name"})
    assert response.status_code == 302
    # A name that a spreadsheet would run is refused, as in an import.
    response = secretariat_client.post(
        f"{ADMIN}/member/add/", {**data, "name": '=HYPERLINK("http://x","y")'}
    )
    assert "Formulas are not allowed (cell starts with '=')" in html.unescape(
        response.content.decode()
    )
    # Saving a Member under its own name is no obstacle either.
    response = secretariat_client.post(
        f"{ADMIN}/member/{member.pk}/change/", {**data, "name": "Hydro", "country": "SE"}
    )
    assert response.status_code == 302


@pytest.mark.parametrize("model", ["membershipclass", "valuechainsegment"])
def test_class_and_segment_names_are_unique_in_the_tenant(
    secretariat_client: Client, org: Organisation, model: str
) -> None:
    assert (
        secretariat_client.post(
            f"{ADMIN}/{model}/add/", {"name": "Recycling", "position": 1}
        ).status_code
        == 302
    )
    response = secretariat_client.post(
        f"{ADMIN}/{model}/add/", {"name": "recycling", "position": 2}
    )
    assert response.status_code == 200
    assert "already exists" in html.unescape(response.content.decode())


def test_classes_are_reordered_by_position_in_the_list(
    secretariat_client: Client, org: Organisation
) -> None:
    first = MembershipClassFactory.create(organisation=org, name="Zeta", position=0)
    second = MembershipClassFactory.create(organisation=org, name="Alpha", position=1)
    listing = page_text(secretariat_client, f"{ADMIN}/membershipclass/")
    assert listing.index("Zeta") < listing.index("Alpha")
    response = secretariat_client.post(
        f"{ADMIN}/membershipclass/",
        {
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "2",
            "form-0-id": first.pk,
            "form-0-position": "5",
            "form-1-id": second.pk,
            "form-1-position": "0",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    listing = page_text(secretariat_client, f"{ADMIN}/membershipclass/")
    assert listing.index("Alpha") < listing.index("Zeta")


# --- Participant profiles ---------------------------------------------------------------------


def test_invite_as_technical_expert_calls_the_service_for_experts_only(
    secretariat_client: Client, org: Organisation, secretariat: User
) -> None:
    expert = ParticipantProfileFactory.create(
        organisation=org, affiliation=EXPERT, user=UserFactory.create(email="expert@uni.example")
    )
    rep = ParticipantProfileFactory.create(
        organisation=org, user=UserFactory.create(email="rep@member.example")
    )
    response = secretariat_client.post(
        f"{ADMIN}/participantprofile/",
        {"action": "invite_as_expert", "_selected_action": [expert.pk, rep.pk]},
        follow=True,
    )
    text = html.unescape(response.content.decode())
    assert "1 technical expert(s) invited." in text
    assert "Not invited, as they are not technical experts: rep@member.example." in text
    with scopes_disabled():
        expert.refresh_from_db()
        rep.refresh_from_db()
        assert expert.expert_invited_at is not None
        assert rep.expert_invited_at is None
        entry = AuditEntry.objects.get(organisation=org, action="expert.invite")
        assert (entry.actor, entry.target_id) == (secretariat, str(expert.pk))

    again = secretariat_client.post(
        f"{ADMIN}/participantprofile/",
        {"action": "invite_as_expert", "_selected_action": [expert.pk]},
        follow=True,
    )
    assert "1 had been invited already." in html.unescape(again.content.decode())
    with scopes_disabled():
        assert AuditEntry.objects.filter(organisation=org, action="expert.invite").count() == 1


def test_profiles_are_listed_with_email_and_consent_and_cannot_be_edited(
    secretariat_client: Client, org: Organisation, other_org: Organisation
) -> None:
    profile = ParticipantProfileFactory.create(
        organisation=org, user=UserFactory.create(email="anna@smelter.example"), name_consent=True
    )
    ParticipantProfileFactory.create(
        organisation=other_org, user=UserFactory.create(email="bob@water.example")
    )
    listing = page_text(secretariat_client, f"{ADMIN}/participantprofile/")
    assert "anna@smelter.example" in listing
    assert "bob@water.example" not in listing
    assert "Invite as technical expert" in listing

    view = page_text(secretariat_client, f"{ADMIN}/participantprofile/{profile.pk}/change/")
    assert "anna@smelter.example" in view
    assert 'name="_save"' not in view
    assert secretariat_client.get(f"{ADMIN}/participantprofile/add/").status_code == 403
    response = secretariat_client.post(
        f"{ADMIN}/participantprofile/{profile.pk}/change/", {"expertise": "Changed"}
    )
    assert response.status_code == 403
    with scopes_disabled():
        profile.refresh_from_db()
        assert profile.expertise != "Changed"


# --- Antitrust policy -------------------------------------------------------------------------


def test_adding_a_policy_publishes_a_new_version_through_the_service(
    secretariat_client: Client, org: Organisation, secretariat: User
) -> None:
    for n in (1, 2):
        response = secretariat_client.post(
            f"{ADMIN}/antitrustpolicy/add/",
            {"title": "Antitrust Compliance Policy", "body": f"Text of version {n}."},
        )
        assert response.status_code == 302
    with scopes_disabled():
        versions = list(
            AntitrustPolicy.objects.filter(organisation=org).values_list(
                "version", "body", "published_by"
            )
        )
        assert sorted(versions) == [
            (1, "Text of version 1.", secretariat.pk),
            (2, "Text of version 2.", secretariat.pk),
        ]
        actions = list(AuditEntry.objects.filter(organisation=org).values_list("action", flat=True))
        assert actions.count("antitrust.publish") == 2
        assert "admin.add" not in actions  # one audit entry per publication, the service's
    listing = page_text(secretariat_client, f"{ADMIN}/antitrustpolicy/")
    assert "Antitrust Compliance Policy" in listing


def test_a_published_policy_cannot_be_changed_or_deleted(
    secretariat_client: Client, org: Organisation
) -> None:
    policy = AntitrustPolicyFactory.create(organisation=org, body="Original text.")
    view = page_text(secretariat_client, f"{ADMIN}/antitrustpolicy/{policy.pk}/change/")
    assert "Original text." in view
    assert 'name="_save"' not in view
    response = secretariat_client.post(
        f"{ADMIN}/antitrustpolicy/{policy.pk}/change/", {"title": "X", "body": "Edited."}
    )
    assert response.status_code == 403
    response = secretariat_client.post(
        f"{ADMIN}/antitrustpolicy/{policy.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    with scopes_disabled():
        policy.refresh_from_db()
        assert policy.body == "Original text."


def test_a_policy_without_text_is_refused(secretariat_client: Client, org: Organisation) -> None:
    response = secretariat_client.post(
        f"{ADMIN}/antitrustpolicy/add/", {"title": "Policy", "body": "   "}
    )
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    with scopes_disabled():
        assert not AntitrustPolicy.objects.filter(organisation=org).exists()


# --- Applications, seats, offers --------------------------------------------------------------


def test_applications_are_listed_with_group_and_status_and_are_read_only(
    secretariat_client: Client, org: Organisation, other_org: Organisation
) -> None:
    group = WorkingGroupFactory.create(organisation=org, name="Circularity")
    application = ApplicationFactory.create(
        group=group, status=Application.Status.WAITING, priority=3
    )
    ApplicationFactory.create(
        group=WorkingGroupFactory.create(organisation=other_org, name="Water")
    )
    listing = page_text(secretariat_client, f"{ADMIN}/application/")
    assert "Circularity" in listing
    assert application.applicant.email in listing
    assert "On the waiting list" in listing
    assert "Water" not in listing
    filtered = page_text(secretariat_client, f"{ADMIN}/application/?status__exact=submitted")
    assert application.applicant.email not in filtered
    assert secretariat_client.get(f"{ADMIN}/application/add/").status_code == 403
    response = secretariat_client.post(
        f"{ADMIN}/application/{application.pk}/change/", {"status": "seated", "priority": 9}
    )
    assert response.status_code == 403
    with scopes_disabled():
        application.refresh_from_db()
        assert (application.status, application.priority) == ("waiting", 3)


@pytest.mark.parametrize(("model", "make"), [("seat", make_seats), ("offer", make_offers)])
def test_seats_and_offers_are_read_only_lists(
    secretariat_client: Client,
    org: Organisation,
    model: str,
    make: Maker,
) -> None:
    make(org, range(1))
    with scopes_disabled():
        application = Application.objects.get()
        row_pk = (Seat if model == "seat" else Offer).objects.get().pk
    listing = page_text(secretariat_client, f"{ADMIN}/{model}/")
    assert application.applicant.email in listing
    assert application.group.name in listing
    assert secretariat_client.get(f"{ADMIN}/{model}/add/").status_code == 403
    response = secretariat_client.post(f"{ADMIN}/{model}/{row_pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    with scopes_disabled():
        assert (Seat if model == "seat" else Offer).objects.filter(pk=row_pk).exists()


# --- Tenancy ----------------------------------------------------------------------------------


def test_another_tenants_secretariat_gets_404_everywhere(
    other_secretariat_client: Client, org: Organisation
) -> None:
    member = MemberFactory.create(organisation=org, name="Hidden Member")
    profile = ParticipantProfileFactory.create(organisation=org, member=member)
    policy = AntitrustPolicyFactory.create(organisation=org)
    application = ApplicationFactory.create(
        group=WorkingGroupFactory.create(organisation=org), profile=profile
    )
    objects = {
        "member": member,
        "membershipclass": member.membership_class,
        "participantprofile": profile,
        "antitrustpolicy": policy,
        "application": application,
    }
    paths = [f"{ADMIN}/"]
    for model in [*objects, "valuechainsegment", "seat", "offer"]:
        paths += [f"{ADMIN}/{model}/", f"{ADMIN}/{model}/add/"]
    for model, obj in objects.items():
        paths.append(f"{ADMIN}/{model}/{obj.pk}/change/")  # type: ignore[attr-defined]
    for path in paths:
        response = other_secretariat_client.get(path)
        assert response.status_code == 404, path
        assert b"Hidden Member" not in response.content
    response = other_secretariat_client.post(
        f"{ADMIN}/participantprofile/",
        {"action": "invite_as_expert", "_selected_action": [profile.pk]},
    )
    assert response.status_code == 404


def test_scoped_models_stay_in_their_tenant(org: Organisation, other_org: Organisation) -> None:
    # A guard on the fixtures above: every row made for "alu" really is in "alu".
    make_members(org, range(1))
    make_seats(org, range(1))
    with scopes_disabled():
        assert set(Member.objects.values_list("organisation", flat=True)) == {org.pk}
        assert set(MembershipClass.objects.values_list("organisation", flat=True)) == {org.pk}
        assert set(ValueChainSegment.objects.values_list("organisation", flat=True)) == {org.pk}
        assert set(WorkingGroup.objects.values_list("organisation", flat=True)) == {org.pk}


CRAFTED = [
    f"{ADMIN}/member/?region=Nowhere&o=99&p=abc&q=%00",
    f"{ADMIN}/member/abc/change/",
    f"{ADMIN}/member/99999999/change/",
    f"{ADMIN}/member/import/",
    f"{ADMIN}/member/process_import/",
    f"{ADMIN}/member/export/",
    f"{ADMIN}/participantprofile/?affiliation__exact=%ff",
    f"{ADMIN}/antitrustpolicy/99999999/change/",
    f"{ADMIN}/application/?group__id__exact=abc",
    f"{ADMIN}/seat/?ended_at__isempty=maybe",
]


@pytest.mark.parametrize("who", ["secretariat", "other_secretariat"])
def test_crafted_requests_never_cause_a_server_error(
    org: Organisation, who: str, request: pytest.FixtureRequest
) -> None:
    client: Client = request.getfixturevalue(f"{who}_client")
    client.raise_request_exception = False
    crafted = {
        "format": "7",
        "resource": "x",
        "import_file_name": "../../secret",
        "original_file_name": "x.csv",
        "action": "invite_as_expert",
        "_selected_action": "abc",
    }
    for path in CRAFTED:
        for method in ("get", "post"):
            response = getattr(client, method)(path, crafted)
            assert response.status_code < 500, (who, method, path, response.status_code)
