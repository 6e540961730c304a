"""The participant's pages: profile, applying, withdrawing, offers, the antitrust policy and the
dashboard, through the pages people use, including crafted requests that must change nothing."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from asi_wg.models import AuditEntry, Organisation, User
from groups.models import WorkingGroup
from membership import selectors, services
from membership.models import (
    AntitrustAcknowledgement,
    Application,
    Member,
    Offer,
    ParticipantProfile,
    Seat,
)
from tests.factories import (
    AntitrustPolicyFactory,
    ApplicationFactory,
    FocusAreaFactory,
    MemberFactory,
    ParticipantProfileFactory,
    UserFactory,
    WorkingGroupFactory,
)

pytestmark = pytest.mark.django_db

DASHBOARD = "/alu/me/"
PROFILE = "/alu/me/profile/"
APPLY = "/alu/groups/circularity/apply/"


@pytest.fixture
def group(org: Organisation) -> WorkingGroup:
    group = WorkingGroupFactory.create(
        organisation=org, name="Circularity", slug="circularity", seat_cap=3
    )
    FocusAreaFactory.create(group=group, title="Pre-consumer scrap", position=1)
    FocusAreaFactory.create(group=group, title="Design for recycling", position=2)
    return group


@pytest.fixture
def member(org: Organisation) -> Member:
    return MemberFactory.create(organisation=org, name="Alu Smelting AG", country="DE")


@pytest.fixture
def person(org: Organisation, member: Member) -> User:
    """A signed-up person with an eligible profile (a current Member's representative)."""
    profile = ParticipantProfileFactory.create(organisation=org, member=member)
    return profile.user


@pytest.fixture
def person_client(person: User) -> Client:
    client = Client()
    client.force_login(person)
    return client


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def text(html: str) -> str:
    """The page's text with tags removed and white space collapsed, as a reader sees it."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def areas(group: WorkingGroup) -> list[int]:
    with scopes_disabled():
        return list(group.focus_areas.order_by("position").values_list("pk", flat=True))


def applications() -> list[Application]:
    with scopes_disabled():
        return list(Application.objects.all())


def apply(group: WorkingGroup, user: User, **kwargs: object) -> Application:
    with scopes_disabled():
        profile = ParticipantProfile.objects.get(organisation=group.organisation, user=user)
    return ApplicationFactory.create(group=group, profile=profile, **kwargs)


def offer_to(application: Application) -> Offer:
    """Puts the application on the waiting list and lets the promotion job offer it a seat."""
    with scope(organisation=application.group.organisation):
        Application.objects.filter(pk=application.pk).update(status=Application.Status.WAITING)
        offers = services.waitlist_promote(group=application.group)
    assert [offer.application_id for offer in offers] == [application.pk]
    return offers[0]


# --- Sign-in, navigation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        DASHBOARD,
        PROFILE,
        APPLY,
        "/alu/me/data.json",
        "/alu/me/erase/",
        "/alu/me/applications/1/withdraw/",
        "/alu/me/offers/1/decline/",
    ],
)
def test_anonymous_visitor_is_asked_to_sign_in(client: Client, group: WorkingGroup, url) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/accounts/login/?next={url}")


def test_signed_in_header_links_to_my_applications(person_client: Client, group) -> None:
    html = page(person_client, "/alu/")
    assert '<a href="/alu/me/">My applications</a>' in html
    assert "My applications" not in Client().get("/alu/").content.decode()


# --- Profile ----------------------------------------------------------------------------------


def profile_post(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "full_name": "Ana Lima",
        "affiliation": "member",
        "member": "",
        "expert_organisation": "",
        "job_title": "Sustainability manager",
        "country": "BR",
        "time_zone": "America/Sao_Paulo",
        "languages": "Portuguese, English",
        "interpretation_needs": "",
        "expertise": "Bauxite mining rehabilitation.",
        "name_consent": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_new_person_fills_in_profile_and_their_zone_and_consent_are_kept(
    client: Client, org: Organisation, member: Member
) -> None:
    user = UserFactory.create(email="ana@example.org", time_zone="UTC", full_name="")
    client.force_login(user)
    assert "Fill in your profile" in page(client, DASHBOARD)

    form = page(client, PROFILE)
    assert "<legend>You take part as</legend>" in form
    assert f'<option value="{member.pk}">Alu Smelting AG (Germany)</option>' in form

    response = client.post(PROFILE, profile_post(member=member.pk))

    assert response.status_code == 302
    assert response["Location"] == DASHBOARD
    user.refresh_from_db()
    assert (user.full_name, user.time_zone) == ("Ana Lima", "America/Sao_Paulo")
    with scopes_disabled():
        profile = ParticipantProfile.objects.get(user=user)
        consent = AuditEntry.objects.get(action="profile.consent")
    assert profile.member == member
    assert profile.name_consent is True
    assert profile.name_consent_at is not None
    assert consent.data == {"name_consent": True}
    dashboard = text(page(client, DASHBOARD))
    assert "You may apply: Representative of Alu Smelting AG, a current Member." in dashboard
    assert "Time zone America/Sao_Paulo" in dashboard


def test_giving_and_withdrawing_consent_is_dated_and_recorded(
    person_client: Client, person: User
) -> None:
    with scopes_disabled():
        profile = ParticipantProfile.objects.get(user=person)
    assert profile.name_consent is False

    person_client.post(PROFILE, profile_post(member=profile.member_id))
    with scopes_disabled():
        profile.refresh_from_db()
    given_at = profile.name_consent_at
    assert profile.name_consent is True
    assert given_at is not None
    assert "You gave your consent on" in page(person_client, PROFILE)
    # Saving again without a change keeps the date.
    person_client.post(PROFILE, profile_post(member=profile.member_id))
    with scopes_disabled():
        profile.refresh_from_db()
    assert profile.name_consent_at == given_at

    person_client.post(PROFILE, profile_post(member=profile.member_id, name_consent=None))

    with scopes_disabled():
        profile.refresh_from_db()
        entries = list(AuditEntry.objects.filter(action="profile.consent").order_by("pk"))
    assert profile.name_consent is False
    assert profile.name_consent_at > given_at
    assert [entry.data for entry in entries] == [{"name_consent": True}, {"name_consent": False}]
    assert "Your choice not to be named was recorded on" in page(person_client, PROFILE)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"member": ""}, "Choose the Member you represent."),
        ({"affiliation": "expert"}, "Name the organisation you work for"),
        ({"affiliation": "boss"}, "Select a valid choice. boss is not one of the available"),
        ({"time_zone": "Mars/Olympus"}, "Select a valid choice. Mars/Olympus is not one"),
        ({"country": "XX"}, "Select a valid choice. XX is not one of the available"),
        ({"expertise": ""}, "This field is required."),
        ({"expertise": "x" * 4001}, "Ensure this value has at most 4000 characters"),
        ({"languages": "a\x00b"}, "Null characters are not allowed."),
    ],
)
def test_bad_profile_input_is_explained_and_changes_nothing(
    client: Client, member: Member, changes: dict[str, object], error: str
) -> None:
    user = UserFactory.create(time_zone="Europe/London", full_name="Kept Name")
    client.force_login(user)

    response = client.post(PROFILE, profile_post(**{"member": member.pk, **changes}))

    assert response.status_code == 200
    html = response.content.decode()
    assert error in html
    assert "Please correct the 1 problem below." in html
    user.refresh_from_db()
    assert (user.full_name, user.time_zone) == ("Kept Name", "Europe/London")
    with scopes_disabled():
        assert not ParticipantProfile.objects.filter(user=user).exists()


def test_member_of_another_tenant_or_a_former_member_cannot_be_chosen(
    client: Client, org: Organisation, other_org: Organisation
) -> None:
    foreign = MemberFactory.create(organisation=other_org, name="Foreign Metals")
    former = MemberFactory.create(organisation=org, name="Gone Ltd", is_current=False)
    user = UserFactory.create()
    client.force_login(user)
    form = page(client, PROFILE)
    assert "Foreign Metals" not in form
    assert "Gone Ltd" not in form

    for crafted in (foreign, former):
        response = client.post(PROFILE, profile_post(member=crafted.pk))
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
    with scopes_disabled():
        assert not ParticipantProfile.objects.filter(user=user).exists()


def test_profile_is_per_tenant_but_name_and_time_zone_are_global(
    person_client: Client, person: User, other_org: Organisation
) -> None:
    other_member = MemberFactory.create(organisation=other_org, name="Other Member")
    response = person_client.post(
        "/other/me/profile/",
        profile_post(member=other_member.pk, time_zone="Asia/Tokyo", full_name="New Name"),
    )
    assert response.status_code == 302
    with scopes_disabled():
        assert ParticipantProfile.objects.filter(user=person).count() == 2
    person.refresh_from_db()
    assert person.time_zone == "Asia/Tokyo"
    assert "Asia/Tokyo" in page(person_client, DASHBOARD)


# --- Applying ---------------------------------------------------------------------------------


def test_eligible_person_applies_with_focus_areas_and_sees_it_on_the_dashboard(
    person_client: Client, person: User, group: WorkingGroup
) -> None:
    form = page(person_client, APPLY)
    assert "<legend>The focus areas your expertise covers</legend>" in form
    assert "Pre-consumer scrap" in form
    first, second = areas(group)

    response = person_client.post(
        APPLY, {"focus_areas": [first, second], "statement": "  I sort scrap.  "}
    )

    assert response.status_code == 302
    assert response["Location"] == DASHBOARD
    (application,) = applications()
    assert application.applicant == person
    assert application.statement == "I sort scrap."
    with scopes_disabled():
        assert sorted(application.focus_areas.values_list("pk", flat=True)) == [first, second]
    dashboard = text(page(person_client, DASHBOARD))
    assert "Your application to Circularity is received." in dashboard
    assert "Received: awaiting selection" in dashboard
    assert "Focus areas: Pre-consumer scrap, Design for recycling" in dashboard


def test_person_without_profile_is_told_why_and_sent_to_the_profile(
    client: Client, group: WorkingGroup
) -> None:
    client.force_login(UserFactory.create())
    html = page(client, APPLY)
    assert "You cannot apply yet." in html
    assert "Tell us whom you represent before applying." in html
    assert f'href="{PROFILE}?next=/alu/groups/circularity/apply/"' in html
    assert 'name="statement"' not in html

    # A crafted POST is refused by the service with the same reason, and changes nothing.
    response = client.post(APPLY, {"focus_areas": areas(group)[:1], "statement": "Let me in"})
    assert response.status_code == 200
    assert "Tell us whom you represent before applying." in response.content.decode()
    assert applications() == []


def test_saving_the_profile_returns_to_the_application(
    client: Client, group: WorkingGroup, member: Member
) -> None:
    client.force_login(UserFactory.create())
    response = client.post(f"{PROFILE}?next={APPLY}", profile_post(member=member.pk, next=APPLY))
    assert response.status_code == 302
    assert response["Location"] == APPLY
    # An address elsewhere is not followed.
    response = client.post(PROFILE, profile_post(member=member.pk, next="https://evil.example/"))
    assert response["Location"] == DASHBOARD


def test_uninvited_expert_and_former_members_representative_are_told_why(
    client: Client, org: Organisation, group: WorkingGroup
) -> None:
    expert = ParticipantProfileFactory.create(
        organisation=org, affiliation=ParticipantProfile.Affiliation.EXPERT
    )
    client.force_login(expert.user)
    assert "The secretariat has not invited you yet." in page(client, APPLY)

    former = ParticipantProfileFactory.create(
        organisation=org, member=MemberFactory.create(organisation=org, is_current=False)
    )
    client.force_login(former.user)
    assert "is no longer a Member, so its representatives cannot take part." in page(client, APPLY)


def test_nobody_applies_twice(person_client: Client, person: User, group: WorkingGroup) -> None:
    apply(group, person)
    html = page(person_client, APPLY)
    assert "You have already applied to this group" in html
    assert f'href="{DASHBOARD}"' in html
    assert 'name="statement"' not in html

    response = person_client.post(APPLY, {"focus_areas": areas(group)[:1], "statement": "Again"})

    assert response.status_code == 200
    assert "You have already applied to this group" in response.content.decode()
    (application,) = applications()
    assert application.statement != "Again"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"statement": "Hello"}, "Choose at least one focus area."),
        ({"focus_areas": ["first"], "statement": ""}, "Write a few lines on what you would bring"),
        ({"focus_areas": ["first"], "statement": "   "}, "Write a few lines on what you would"),
        ({"focus_areas": ["first"], "statement": "x" * 4001}, "at most 4000 characters"),
        ({"focus_areas": ["first"], "statement": "a\x00b"}, "Null characters are not allowed."),
        ({"focus_areas": ["abc"], "statement": "Hello"}, "Choose focus areas of this group."),
        ({"focus_areas": ["foreign"], "statement": "Hello"}, "Choose focus areas of this group."),
        ({"focus_areas": ["other"], "statement": "Hello"}, "Choose focus areas of this group."),
    ],
)
def test_bad_application_is_explained_and_changes_nothing(
    person_client: Client,
    group: WorkingGroup,
    other_org: Organisation,
    data: dict[str, object],
    error: str,
) -> None:
    other_group = WorkingGroupFactory.create(organisation=group.organisation, slug="nature")
    foreign_group = WorkingGroupFactory.create(organisation=other_org, slug="circularity")
    ids = {
        "first": areas(group)[0],
        "other": FocusAreaFactory.create(group=other_group).pk,
        "foreign": FocusAreaFactory.create(group=foreign_group).pk,
        "abc": "abc",
    }
    if "focus_areas" in data:
        data = {**data, "focus_areas": [ids[str(key)] for key in data["focus_areas"]]}  # type: ignore[attr-defined]

    response = person_client.post(APPLY, data)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert applications() == []


def test_another_tenants_group_cannot_be_applied_to(
    person_client: Client, person: User, org: Organisation, other_org: Organisation
) -> None:
    foreign = WorkingGroupFactory.create(organisation=other_org, slug="traceability")
    area = FocusAreaFactory.create(group=foreign)

    assert person_client.get("/alu/groups/traceability/apply/").status_code == 404
    response = person_client.post(
        "/alu/groups/traceability/apply/", {"focus_areas": [area.pk], "statement": "Hi"}
    )
    assert response.status_code == 404
    # Under the other tenant's own address the person has no profile there: not eligible.
    response = person_client.post(
        "/other/groups/traceability/apply/", {"focus_areas": [area.pk], "statement": "Hi"}
    )
    assert "Tell us whom you represent before applying." in response.content.decode()
    assert applications() == []


def test_same_group_address_in_two_tenants_applies_to_this_tenants_group(
    person_client: Client, group: WorkingGroup, other_org: Organisation
) -> None:
    WorkingGroupFactory.create(organisation=other_org, slug="circularity")
    response = person_client.post(APPLY, {"focus_areas": areas(group)[:1], "statement": "Hi"})
    assert response.status_code == 302
    (application,) = applications()
    assert application.group == group


def test_csrf_token_is_required(person: User, group: WorkingGroup) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(person)
    response = client.post(APPLY, {"focus_areas": areas(group)[:1], "statement": "Hi"})
    assert response.status_code == 403
    assert applications() == []


# --- Withdrawing ------------------------------------------------------------------------------


def test_applicant_withdraws_after_confirming(
    person_client: Client, person: User, group: WorkingGroup
) -> None:
    application = apply(group, person, status=Application.Status.WAITING)
    url = f"/alu/me/applications/{application.pk}/withdraw/"
    assert "Withdraw this application…" in page(person_client, DASHBOARD)
    confirm = text(page(person_client, url))
    assert "Withdraw from Circularity?" in confirm
    assert "you leave the waiting list" in confirm
    application.refresh_from_db()
    assert application.status == Application.Status.WAITING  # a GET changes nothing

    response = person_client.post(url)

    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.WITHDRAWN
    dashboard = text(page(person_client, DASHBOARD))
    assert "You withdrew your application to Circularity." in dashboard
    assert "Apply again" in dashboard
    # Withdrawing twice says so, and changes nothing.
    person_client.post(url)
    assert "This application has already been withdrawn." in page(person_client, DASHBOARD)


def test_someone_elses_or_another_tenants_application_cannot_be_withdrawn(
    person_client: Client, group: WorkingGroup, org: Organisation, other_org: Organisation
) -> None:
    someone_else = ApplicationFactory.create(group=group)
    foreign_group = WorkingGroupFactory.create(organisation=other_org)
    foreign = ApplicationFactory.create(group=foreign_group)
    for target in (someone_else, foreign):
        url = f"/alu/me/applications/{target.pk}/withdraw/"
        assert person_client.get(url).status_code == 404
        assert person_client.post(url).status_code == 404
    with scopes_disabled():
        statuses = set(Application.objects.values_list("status", flat=True))
    assert statuses == {Application.Status.SUBMITTED}


# --- Offers -----------------------------------------------------------------------------------


def test_offer_shows_its_expiry_in_the_persons_zone_and_is_accepted(
    person_client: Client, person: User, group: WorkingGroup
) -> None:
    person.time_zone = "America/Toronto"
    person.save()
    application = apply(group, person)
    offer = offer_to(application)
    with scopes_disabled():
        Offer.objects.filter(pk=offer.pk).update(
            expires_at=datetime.datetime(2099, 1, 15, 17, 0, tzinfo=datetime.UTC)
        )

    dashboard = text(page(person_client, DASHBOARD))
    assert "A seat is offered to you." in dashboard
    assert "held for you until 15 January 2099, 12:00 (America/Toronto time)" in dashboard

    response = person_client.post(f"/alu/me/offers/{offer.pk}/accept/")

    assert response.status_code == 302
    assert response["Location"] == DASHBOARD
    with scopes_disabled():
        seat = Seat.objects.get(application=application)
    assert seat.holder == person
    dashboard = text(page(person_client, DASHBOARD))
    assert "Welcome: you have a seat in Circularity." in dashboard
    assert "Active" in dashboard


def test_offer_accept_needs_a_post(person_client: Client, person: User, group) -> None:
    offer = offer_to(apply(group, person))
    assert person_client.get(f"/alu/me/offers/{offer.pk}/accept/").status_code == 405
    offer.refresh_from_db()
    assert offer.status == Offer.Status.OPEN


def test_expired_offer_says_so_clearly_and_cannot_be_accepted(
    person_client: Client, person: User, group: WorkingGroup
) -> None:
    offer = offer_to(apply(group, person))
    with scopes_disabled():
        Offer.objects.filter(pk=offer.pk).update(
            offered_at=timezone.now() - datetime.timedelta(days=8),
            expires_at=timezone.now() - datetime.timedelta(days=1),
        )
    dashboard = text(page(person_client, DASHBOARD))
    assert "The seat offered to you expired on" in dashboard
    assert "Accept the seat" not in dashboard

    person_client.post(f"/alu/me/offers/{offer.pk}/accept/")

    dashboard = text(page(person_client, DASHBOARD))
    assert "This offer has expired, and the seat has moved on to the next person." in dashboard
    assert "Offer expired" in dashboard
    offer.refresh_from_db()
    assert offer.status == Offer.Status.EXPIRED
    with scopes_disabled():
        assert not Seat.objects.exists()


def test_acceptance_rechecks_eligibility(
    person_client: Client, person: User, group: WorkingGroup, member: Member
) -> None:
    offer = offer_to(apply(group, person))
    with scopes_disabled():
        Member.objects.filter(pk=member.pk).update(is_current=False)

    person_client.post(f"/alu/me/offers/{offer.pk}/accept/")

    assert "is no longer a Member" in page(person_client, DASHBOARD)
    with scopes_disabled():
        assert not Seat.objects.exists()


def test_offer_is_declined_after_confirming(
    person_client: Client, person: User, group: WorkingGroup
) -> None:
    offer = offer_to(apply(group, person))
    url = f"/alu/me/offers/{offer.pk}/decline/"
    assert "Decline the seat in Circularity?" in page(person_client, url)

    assert person_client.post(url).status_code == 302

    offer.refresh_from_db()
    assert offer.status == Offer.Status.DECLINED
    dashboard = text(page(person_client, DASHBOARD))
    assert "You declined the seat in Circularity" in dashboard
    assert "Offer declined" in dashboard


def test_someone_elses_or_another_tenants_offer_cannot_be_answered(
    person_client: Client, group: WorkingGroup, other_org: Organisation
) -> None:
    others = offer_to(ApplicationFactory.create(group=group))
    foreign_group = WorkingGroupFactory.create(organisation=other_org)
    foreign = offer_to(ApplicationFactory.create(group=foreign_group))
    for offer in (others, foreign):
        for action in ("accept", "decline"):
            response = person_client.post(f"/alu/me/offers/{offer.pk}/{action}/")
            assert response.status_code == 404
        assert person_client.get(f"/alu/me/offers/{offer.pk}/decline/").status_code == 404
    with scopes_disabled():
        assert set(Offer.objects.values_list("status", flat=True)) == {Offer.Status.OPEN}
        assert not Seat.objects.exists()


# --- The antitrust policy ---------------------------------------------------------------------


def seat(group: WorkingGroup, user: User, staff: User) -> Seat:
    application = apply(group, user)
    with scope(organisation=group.organisation):
        return services.seat_take(application=application, acting_user=staff)


def test_seat_is_active_only_once_the_current_policy_is_acknowledged(
    person_client: Client, person: User, group: WorkingGroup, secretariat: User
) -> None:
    AntitrustPolicyFactory.create(organisation=group.organisation, version=1, body="No cartels.")
    seat(group, person, secretariat)

    dashboard = text(page(person_client, DASHBOARD))
    assert "Acknowledge the antitrust policy" in dashboard
    assert "Your seat is not active until you acknowledge version 1." in dashboard
    assert "Waiting for your antitrust acknowledgement" in dashboard

    policy_page = page(person_client, "/alu/antitrust/")
    assert "No cartels." in policy_page
    response = person_client.post("/alu/antitrust/", {"version": "1"})

    assert response.status_code == 302
    assert response["Location"] == DASHBOARD
    dashboard = text(page(person_client, DASHBOARD))
    assert "you acknowledged version 1 of the policy" in dashboard
    assert "Active" in dashboard
    assert "Waiting for your antitrust acknowledgement" not in dashboard


def test_a_new_version_asks_again(
    person_client: Client, person: User, group: WorkingGroup, secretariat: User
) -> None:
    org = group.organisation
    first = AntitrustPolicyFactory.create(organisation=org, version=1)
    with scope(organisation=org):
        services.antitrust_acknowledge(organisation=org, user=person, policy=first)
    seat(group, person, secretariat)
    assert "Waiting for your antitrust acknowledgement" not in page(person_client, DASHBOARD)

    with scope(organisation=org):
        services.antitrust_policy_publish(
            organisation=org, title="Policy", body="New text.", acting_user=secretariat
        )

    dashboard = text(page(person_client, DASHBOARD))
    assert "Your seat is not active until you acknowledge version 2." in dashboard
    # Acknowledging the old version (a stale page) is refused and records nothing.
    person_client.post("/alu/antitrust/", {"version": "1"})
    assert "That is not the current version of the policy." in page(
        person_client, "/alu/antitrust/"
    )
    with scopes_disabled():
        assert AntitrustAcknowledgement.objects.filter(user=person).count() == 1


@pytest.mark.parametrize("version", ["", "abc", "-1", "99"])
def test_bad_acknowledgement_is_refused(
    person_client: Client, person: User, org: Organisation, version: str
) -> None:
    AntitrustPolicyFactory.create(organisation=org, version=1)
    response = person_client.post("/alu/antitrust/", {"version": version})
    assert response.status_code == 302
    assert "That is not the current version" in page(person_client, "/alu/antitrust/")
    with scopes_disabled():
        assert not AntitrustAcknowledgement.objects.exists()


def test_antitrust_page_without_a_policy_and_for_visitors(client: Client, org) -> None:
    assert "has not published its antitrust policy here yet" in page(client, "/alu/antitrust/")
    AntitrustPolicyFactory.create(organisation=org, version=1, body="Text for all.")
    html = page(client, "/alu/antitrust/")
    assert "Text for all." in html
    assert "Sign in</a> to acknowledge" in html
    response = client.post("/alu/antitrust/", {"version": "1"})
    assert response["Location"].startswith("/accounts/login/")
    with scopes_disabled():
        assert not AntitrustAcknowledgement.objects.exists()


def test_acknowledgement_in_one_tenant_does_not_count_in_another(
    person_client: Client, person: User, org: Organisation, other_org: Organisation
) -> None:
    AntitrustPolicyFactory.create(organisation=org, version=1)
    AntitrustPolicyFactory.create(organisation=other_org, version=1, body="Other text.")
    person_client.post("/alu/antitrust/", {"version": "1"})
    assert "Other text." in page(person_client, "/other/antitrust/")
    assert "I have read version 1" in page(person_client, "/other/antitrust/")


# --- participant_access -----------------------------------------------------------------------


def test_participant_access(
    person: User, group: WorkingGroup, secretariat: User, other_org: Organisation
) -> None:
    org = group.organisation
    stranger = UserFactory.create()
    with scope(organisation=org):
        # No policy yet: a seat is enough.
        assert not selectors.participant_access(org, person, group)
    held = seat(group, person, secretariat)
    with scope(organisation=org):
        assert selectors.participant_access(org, person, group)
        assert not selectors.participant_access(org, stranger, group)
        assert not selectors.participant_access(other_org, person, group)
        policy = services.antitrust_policy_publish(
            organisation=org, title="Policy", body="Text", acting_user=secretariat
        )
        assert not selectors.participant_access(org, person, group)
        services.antitrust_acknowledge(organisation=org, user=person, policy=policy)
        assert selectors.participant_access(org, person, group)
        services.antitrust_policy_publish(
            organisation=org, title="Policy", body="Text v2", acting_user=secretariat
        )
        assert not selectors.participant_access(org, person, group)
        latest = selectors.current_policy(org)
        assert latest is not None
        services.antitrust_acknowledge(organisation=org, user=person, policy=latest)
        assert selectors.participant_access(org, person, group)
        services.seat_end(seat=held, reason=Seat.EndReason.WITHDREW, acting_user=secretariat)
        assert not selectors.participant_access(org, person, group)


def test_participant_access_refuses_inactive_and_anonymous(
    person: User, group: WorkingGroup, secretariat: User
) -> None:
    from django.contrib.auth.models import AnonymousUser

    org = group.organisation
    seat(group, person, secretariat)
    with scope(organisation=org):
        assert not selectors.participant_access(org, AnonymousUser(), group)
        person.is_active = False
        assert not selectors.participant_access(org, person, group)


# --- The dashboard ----------------------------------------------------------------------------


def test_waiting_positions_match_the_service(
    person_client: Client, person: User, group: WorkingGroup, org: Organisation
) -> None:
    group.seat_cap = 1
    group.save()
    ApplicationFactory.create(group=group, status=Application.Status.SEATED)
    earlier = [ApplicationFactory.create(group=group, status=Application.Status.WAITING)]
    earlier.append(
        ApplicationFactory.create(group=group, status=Application.Status.WAITING, priority=5)
    )
    mine = apply(group, person, status=Application.Status.WAITING)
    ApplicationFactory.create(group=group, status=Application.Status.WAITING)  # behind me
    with scope(organisation=org):
        expected = selectors.waiting_position(mine)
        dashboard = selectors.dashboard_for(organisation=org, user=person)
    assert expected == 3
    assert [row.waiting_position for row in dashboard.applications] == [3]
    assert "You are number 3 on the waiting list." in text(page(person_client, DASHBOARD))


def make_applications(person: User, org: Organisation, secretariat: User, count: int) -> None:
    """``count`` applications of the person, in different groups and states, so that every part
    of the dashboard (waiting place, open offer, seat, focus areas) has rows to show."""
    AntitrustPolicyFactory.create(organisation=org, version=1)
    statuses = ["waiting", "offered", "seated", "submitted", "withdrawn"]
    for index in range(count):
        group = WorkingGroupFactory.create(organisation=org, seat_cap=5)
        area = FocusAreaFactory.create(group=group)
        application = apply(group, person)
        application.focus_areas.add(area)
        status = statuses[index % len(statuses)]
        if status == "offered":
            offer_to(application)
        elif status == "seated":
            with scope(organisation=org):
                services.seat_take(application=application, acting_user=secretariat)
        else:
            with scopes_disabled():
                Application.objects.filter(pk=application.pk).update(status=status)
        # Someone else waits in every group (after the promotion above, so not offered a seat).
        ApplicationFactory.create(group=group, status=Application.Status.WAITING)


DASHBOARD_QUERIES = 8


@pytest.mark.parametrize("count", [1, 5])
def test_dashboard_query_count_does_not_grow_with_applications(
    person_client: Client, person: User, org: Organisation, secretariat: User, count: int
) -> None:
    make_applications(person, org, secretariat, count)
    person_client.get(DASHBOARD)  # warm the session and content types

    with CaptureQueriesContext(connection) as queries:
        response = person_client.get(DASHBOARD)

    assert response.status_code == 200
    assert response.content.decode().count('class="card"') >= count
    assert len(queries) == DASHBOARD_QUERIES, "\n".join(q["sql"] for q in queries)


@pytest.mark.parametrize(
    "status",
    [
        Application.Status.DECLINED,
        Application.Status.OFFER_DECLINED,
        Application.Status.OFFER_EXPIRED,
    ],
)
def test_a_decided_application_cannot_be_withdrawn_to_apply_afresh(
    person_client: Client, person: User, group: WorkingGroup, status: str
) -> None:
    application = apply(group, person, status=status)
    assert "Withdraw this application" not in page(person_client, DASHBOARD)

    person_client.post(f"/alu/me/applications/{application.pk}/withdraw/")

    assert "This application is decided: there is nothing to withdraw." in page(
        person_client, DASHBOARD
    )
    application.refresh_from_db()
    assert application.status == status
    assert "You have already applied to this group" in page(person_client, APPLY)


CRAFTED = [
    "/alu/me/applications/abc/withdraw/",
    "/alu/me/applications/99999999/withdraw/",
    "/alu/me/applications/99999999999999999999/withdraw/",
    "/alu/me/offers/99999999/accept/",
    "/alu/me/offers/99999999/decline/",
    "/alu/me/offers/%ff/decline/",
    "/alu/groups/%ff/apply/",
    "/alu/groups/no-such-group/apply/",
    "/alu/groups/circularity/apply/?next=%00",
    "/alu/me/profile/?next=//evil.example/",
    "/alu/antitrust/",
    "/alu/me/erase/",
    "/alu/me/data.json",
    "/nope/me/",
]


@pytest.mark.parametrize("who", ["anonymous", "person", "other_secretariat"])
def test_crafted_requests_never_cause_a_server_error(
    group: WorkingGroup, who: str, request: pytest.FixtureRequest
) -> None:
    client = Client(raise_request_exception=False)
    if who != "anonymous":
        client = request.getfixturevalue(f"{who}_client")
        client.raise_request_exception = False
    junk = {
        "focus_areas": ["x", "-1", "99999999999999999999"],
        "statement": "\x00",
        "version": "1e9",
        "member": "99999999999999999999",
        "affiliation": "member",
        "time_zone": "../etc",
        "password": "",
        "understood": "maybe",
    }
    for url in CRAFTED:
        for method in ("get", "post"):
            response = getattr(client, method)(url, junk)
            assert response.status_code < 500, (who, method, url, response.status_code)
    assert applications() == []
