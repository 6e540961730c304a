"""A person's own data: the JSON export of everything held on them in every organisation, and
erasure, which anonymises the global account while every group keeps consistent records."""

from __future__ import annotations

import datetime
import json

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.core import mail
from django.db import models
from django.db.models.functions import Cast
from django.test import Client
from django_scopes import scope, scopes_disabled

from asi_wg.models import AuditEntry, Organisation, User
from groups import services as group_services
from groups.models import ExtensionAnswer, WorkingGroup
from membership import personal_data, privacy, services
from membership.models import AntitrustAcknowledgement, Application, Offer, ParticipantProfile, Seat
from tests.factories import (
    PASSWORD,
    AntitrustPolicyFactory,
    ApplicationFactory,
    FocusAreaFactory,
    ParticipantProfileFactory,
    PhaseFactory,
    UserFactory,
    WorkingGroupFactory,
)

pytestmark = pytest.mark.django_db

EXPORT = "/alu/me/data.json"
ERASE = "/alu/me/erase/"


@pytest.fixture
def circularity(org: Organisation) -> WorkingGroup:
    return WorkingGroupFactory.create(
        organisation=org, name="Circularity", slug="circularity", seat_cap=1
    )


@pytest.fixture
def nature(org: Organisation) -> WorkingGroup:
    return WorkingGroupFactory.create(organisation=org, name="Nature", slug="nature")


@pytest.fixture
def water(other_org: Organisation) -> WorkingGroup:
    return WorkingGroupFactory.create(organisation=other_org, name="Water", slug="water")


@pytest.fixture
def person(org: Organisation) -> User:
    user = UserFactory.create(email="ana@member.example", full_name="Ana Lima")
    ParticipantProfileFactory.create(
        organisation=org,
        user=user,
        job_title="Plant manager",
        languages="Portuguese",
        interpretation_needs="Portuguese",
        expertise="Scrap sorting.",
        name_consent=True,
    )
    return user


@pytest.fixture
def person_client(person: User) -> Client:
    client = Client()
    client.force_login(person)
    return client


def held(group: WorkingGroup) -> int:
    with scopes_disabled():
        return Seat.objects.filter(group=group, ended_at__isnull=True).count()


@pytest.fixture
def history(
    person: User,
    circularity: WorkingGroup,
    nature: WorkingGroup,
    water: WorkingGroup,
    org: Organisation,
    other_org: Organisation,
    secretariat: User,
) -> dict[str, Application]:
    """The person is seated in Circularity, waiting for Nature, and has applied to Water in the
    other organisation; both organisations have a policy the person acknowledged."""
    area = FocusAreaFactory.create(group=circularity, title="Pre-consumer scrap")
    with scope(organisation=org):
        profile = ParticipantProfile.objects.get(user=person)
    seated = ApplicationFactory.create(group=circularity, profile=profile, statement="Mine")
    seated.focus_areas.add(area)
    waiting = ApplicationFactory.create(
        group=nature, profile=profile, status=Application.Status.WAITING
    )
    ParticipantProfileFactory.create(
        organisation=other_org, user=person, affiliation=ParticipantProfile.Affiliation.IPAF
    )
    with scopes_disabled():
        other_profile = ParticipantProfile.objects.get(organisation=other_org, user=person)
    foreign = ApplicationFactory.create(group=water, profile=other_profile)
    with scope(organisation=org):
        services.seat_take(application=seated, acting_user=secretariat)
        policy = AntitrustPolicyFactory.create(organisation=org, version=1)
        services.antitrust_acknowledge(organisation=org, user=person, policy=policy)
    with scope(organisation=other_org):
        policy = AntitrustPolicyFactory.create(organisation=other_org, version=1)
        services.antitrust_acknowledge(organisation=other_org, user=person, policy=policy)
    return {"seated": seated, "waiting": waiting, "foreign": foreign}


# --- Export -----------------------------------------------------------------------------------


def test_export_is_a_json_download_of_everything_in_every_organisation(
    person_client: Client, person: User, history: dict[str, Application], circularity
) -> None:
    someone_else = ApplicationFactory.create(group=circularity, statement="Not yours")
    person_client.post(
        "/alu/me/profile/",
        {
            "full_name": "Ana Lima",
            "affiliation": "ipaf",
            "country": "BR",
            "time_zone": "America/Sao_Paulo",
            "expertise": "Scrap sorting.",
        },
    )

    response = person_client.get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="my-data-')
    assert response["Cache-Control"] == "no-store"
    data = json.loads(response.content)
    assert data["account"]["email"] == "ana@member.example"
    assert data["account"]["time_zone"] == "America/Sao_Paulo"
    assert [t["organisation"]["name"] for t in data["organisations"]] == [
        "Aluminium Body",
        "Other Body",
    ]
    alu, other = data["organisations"]
    assert alu["profile"]["expertise"] == "Scrap sorting."
    assert alu["profile"]["taking_part_as"].startswith("IPAF participant")
    assert [(a["group"], a["status"]) for a in alu["applications"]] == [
        ("Circularity", "Seated"),
        ("Nature", "On the waiting list"),
    ]
    assert alu["applications"][0]["focus_areas"] == ["Pre-consumer scrap"]
    assert alu["applications"][0]["statement"] == "Mine"
    assert [s["group"] for s in alu["seats"]] == ["Circularity"]
    assert [a["version"] for a in alu["antitrust_acknowledgements"]] == [1]
    assert [c["name_consent"] for c in alu["name_consent_history"]] == [False]
    assert [(a["group"], a["status"]) for a in other["applications"]] == [
        ("Water", "Received: awaiting selection")
    ]
    assert [a["version"] for a in other["antitrust_acknowledgements"]] == [1]
    assert someone_else.statement not in response.content.decode()


def test_export_needs_sign_in_and_a_get(client: Client, person: User, org) -> None:
    assert client.get(EXPORT)["Location"].startswith("/accounts/login/")
    client.force_login(person)
    assert client.post(EXPORT).status_code == 405


def test_export_of_a_person_with_no_data(client: Client, org: Organisation) -> None:
    client.force_login(UserFactory.create(email="new@example.org"))
    data = json.loads(client.get(EXPORT).content)
    assert data["account"]["email"] == "new@example.org"
    assert data["organisations"] == []


# --- Erasure through the page -----------------------------------------------------------------


def test_erase_page_says_the_account_is_erased_in_every_organisation(
    person_client: Client, history: dict[str, Application]
) -> None:
    html = person_client.get(ERASE).content.decode()
    assert "Erasing it here erases it everywhere: in Aluminium Body and Other Body." in html
    assert 'type="password"' in html
    assert 'name="csrfmiddlewaretoken"' in html


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"password": "wrong", "understood": "on"}, "That is not your password."),
        ({"password": PASSWORD}, "Tick the box to confirm that you understand."),
        ({"understood": "on"}, "This field is required."),
    ],
)
def test_erasure_needs_the_password_and_the_confirmation(
    person_client: Client, person: User, history: dict[str, Application], data, error
) -> None:
    response = person_client.post(ERASE, data)

    assert response.status_code == 200
    assert error in response.content.decode()
    person.refresh_from_db()
    assert person.email == "ana@member.example"
    assert person.is_active
    assert held(history["seated"].group) == 1


def test_erasure_anonymises_the_person_and_keeps_the_groups_records(
    person_client: Client,
    person: User,
    history: dict[str, Application],
    circularity: WorkingGroup,
    django_capture_on_commit_callbacks,
) -> None:
    # Someone waits for Circularity: the seat the person frees is offered to them.
    next_in_line = ApplicationFactory.create(group=circularity, status=Application.Status.WAITING)
    with scopes_disabled():
        applications_before = Application.objects.count()
        seats_before = Seat.objects.count()
        acknowledgements_before = AntitrustAcknowledgement.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        response = person_client.post(ERASE, {"password": PASSWORD, "understood": "on"})

    assert response.status_code == 302
    assert response["Location"] == "/alu/"
    page = person_client.get("/alu/").content.decode()
    assert "Your personal data is erased and your account is closed." in page
    assert "ana@member.example" not in page  # signed out

    person.refresh_from_db()
    assert person.email == f"erased-{person.pk}@invalid.example"
    assert person.full_name == ""
    assert not person.is_active
    assert not person.has_usable_password()
    assert not EmailAddress.objects.filter(user=person).exists()
    assert not Client().login(email="ana@member.example", password=PASSWORD)

    with scopes_disabled():
        # Rows stay, so counts do not change.
        assert Application.objects.count() == applications_before
        assert Seat.objects.count() == seats_before
        assert AntitrustAcknowledgement.objects.count() == acknowledgements_before
        seat = Seat.objects.get(holder=person)
        statuses = dict(
            Application.objects.filter(applicant=person).values_list("group__slug", "status")
        )
        profiles = list(ParticipantProfile.objects.filter(user=person))
        statements = set(
            Application.objects.filter(applicant=person).values_list("statement", flat=True)
        )
        erased = AuditEntry.objects.filter(action="person.erase")
        mentions = AuditEntry.objects.filter(target_repr__contains="ana@member.example")
        assert Offer.objects.get(application=next_in_line).status == Offer.Status.OPEN
        assert set(erased.values_list("organisation__slug", flat=True)) == {"alu", "other"}
        assert not mentions.exists()
    assert seat.end_reason == Seat.EndReason.ERASED
    assert seat.ended_at is not None
    assert statuses == {
        "circularity": Application.Status.ENDED,
        "nature": Application.Status.WITHDRAWN,
        "water": Application.Status.WITHDRAWN,
    }
    assert statements == {""}
    assert len(profiles) == 2
    for profile in profiles:
        assert (profile.expertise, profile.languages, profile.job_title) == ("", "", "")
        assert profile.interpretation_needs == ""
        assert profile.name_consent is False
        assert profile.name_consent_at is not None
    # The freed seat is held for the next person; the group's count did not go up.
    assert held(circularity) == 0
    # Nothing is mailed to the erased person, under either address.
    recipients = {address for message in mail.outbox for address in message.to}
    assert not recipients & {"ana@member.example", person.email}
    assert next_in_line.applicant.email in recipients


def test_erasure_revokes_the_participant_role(
    person: User, history: dict[str, Application], circularity: WorkingGroup, org, secretariat
) -> None:
    assert person.has_perm("groups.participate_workinggroup", circularity)
    with scope(organisation=org):
        privacy.person_erase(organisation=org, user=person, acting_user=secretariat)
    fresh = User.objects.get(pk=person.pk)
    assert not fresh.has_perm("groups.participate_workinggroup", circularity)
    with scopes_disabled():
        entry = AuditEntry.objects.get(action="person.erase", organisation=org)
    assert entry.actor == secretariat
    assert entry.data == {"requested_in": "alu", "seats_ended": 1, "applications_withdrawn": 1}


def test_erasure_of_a_person_without_any_data(client: Client, org: Organisation) -> None:
    user = UserFactory.create()
    client.force_login(user)
    response = client.post(ERASE, {"password": PASSWORD, "understood": "on"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    with scopes_disabled():
        assert AuditEntry.objects.filter(action="person.erase", organisation=org).count() == 1


def test_erasure_needs_a_post_with_a_csrf_token(person: User, org: Organisation) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(person)
    response = client.post(ERASE, {"password": PASSWORD, "understood": "on"})
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.is_active


# --- Erasure erases: nothing the person wrote, or that names them, survives ---------------------

NAME, EMAIL = "Ana Lima", "ana@member.example"
EXPERT_ORGANISATION = "Lisbon Scrap Research Lab"
COMMENT = "Only if meetings move to Tuesdays"
END_NOTE = "Moved to the bauxite refinery team"
OVERRIDE = "Unique casting expertise"
REORDER = "Asked to wait until the smelter audit ends"
DECLINE = "Conflict with the Setubal smelter bid"
WRITTEN = [EXPERT_ORGANISATION, COMMENT, END_NOTE, OVERRIDE, REORDER, DECLINE]


def surviving(needles: list[str]) -> dict[str, list[str]]:
    """Every text or JSON column, of every model of every app, that still holds a needle."""
    found: dict[str, list[str]] = {}
    with scopes_disabled():
        for model in apps.get_models():
            if model._meta.proxy:
                continue
            for field in model._meta.concrete_fields:
                rows = model._base_manager.all()
                if isinstance(field, models.JSONField):
                    rows, column = (
                        rows.annotate(_text=Cast(field.name, models.TextField())),
                        "_text",
                    )
                elif isinstance(field, models.CharField | models.TextField):
                    column = field.name
                else:
                    continue
                for needle in needles:
                    if rows.filter(**{f"{column}__icontains": needle}).exists():
                        found.setdefault(needle, []).append(f"{model._meta.label}.{field.name}")
    return found


@pytest.fixture
def written_about(
    person: User,
    history: dict[str, Application],
    circularity: WorkingGroup,
    nature: WorkingGroup,
    org: Organisation,
    other_org: Organisation,
    secretariat: User,
    other_secretariat: User,
) -> None:
    """What the person wrote, and what the secretariats wrote about them, through the services:
    an extension answer's comment, a seat's end note, an override reason, waiting-list and
    decline reasons (kept in the audit trail), a staff note that names them, and their expert
    organisation."""
    with scope(organisation=org):
        phase = PhaseFactory.create(group=circularity)
        day = datetime.date(2025, 11, 1)
        extension = group_services.phase_extension_propose(
            phase=phase,
            need="More drafts.",
            name="Phase 2",
            starts_on=day,
            ends_on=day,
            meetings_min=1,
            meetings_max=2,
            answers_due_on=day,
            acting_user=secretariat,
        )
        group_services.phase_extension_answer(
            extension=extension,
            participant=person,
            answer=ExtensionAnswer.Answer.DISAGREE,
            comment=COMMENT,
        )
        group_services.phase_extension_decide(
            extension=extension, approve=False, note=f"{NAME} disagreed.", acting_user=secretariat
        )
        seat = Seat.objects.get(holder=person, group=circularity)
        services.seat_end(
            seat=seat, reason=Seat.EndReason.OTHER, note=END_NOTE, acting_user=secretariat
        )
        waiting = history["waiting"]
        services.application_reprioritise(
            application=waiting, priority=5, reason=REORDER, acting_user=secretariat
        )
        # A colleague from the same Member sits and another Member waits: seating the person
        # too is a second representative, allowed only with a written reason.
        member = ParticipantProfile.objects.get(user=person).member
        colleague = ApplicationFactory.create(
            group=nature, profile=ParticipantProfileFactory.create(organisation=org, member=member)
        )
        services.seat_take(application=colleague, acting_user=secretariat)
        ApplicationFactory.create(group=nature, status=Application.Status.WAITING)
        services.seat_take(application=waiting, acting_user=secretariat, override_reason=OVERRIDE)
    with scope(organisation=other_org):
        ParticipantProfile.objects.filter(user=person).update(
            affiliation=ParticipantProfile.Affiliation.EXPERT,
            expert_organisation=EXPERT_ORGANISATION,
        )
        services.application_decline(
            application=history["foreign"], acting_user=other_secretariat, reason=DECLINE
        )


def test_export_holds_what_the_person_wrote_and_what_was_written_about_them(
    person: User, written_about: None
) -> None:
    exported = json.dumps(privacy.person_data_export(user=person), ensure_ascii=False)
    for text in [NAME, EMAIL, *WRITTEN, f"{NAME} disagreed."]:
        assert text in exported


def test_after_erasure_nothing_names_the_person_or_holds_what_they_wrote(
    person: User, written_about: None, org: Organisation, nature: WorkingGroup
) -> None:
    assert set(surviving([NAME, EMAIL, *WRITTEN])) == {NAME, EMAIL, *WRITTEN}  # the search finds

    with scope(organisation=org):
        privacy.person_erase(organisation=org, user=person, acting_user=person)

    assert surviving([NAME, EMAIL, *WRITTEN]) == {}
    with scopes_disabled():
        # The facts stay: the seats with their dates and reasons, the answer, the actions.
        seats = Seat.objects.filter(holder=person).order_by("started_at")
        assert [(s.group.slug, s.end_reason) for s in seats] == [
            ("circularity", Seat.EndReason.OTHER),
            ("nature", Seat.EndReason.ERASED),
        ]
        assert all(seat.started_at and seat.ended_at for seat in seats)
        assert ExtensionAnswer.objects.get(participant=person).answer == "disagree"
        decline = AuditEntry.objects.get(action="application.decline")
        assert decline.data == {"reason": ""}
        take = AuditEntry.objects.get(action="seat.take", target_id=str(seats[1].pk))
        assert take.data["overridden"]
        assert take.data["override_reason"] == ""
        decided = AuditEntry.objects.get(action="phase_extension.decide")
        assert decided.data["note"] == "Erased person disagreed."
        assert decided.data["tally"]["disagree"] == 1


def test_export_and_erasure_cover_the_same_declared_fields(
    person: User, written_about: None, org: Organisation
) -> None:
    """Each declared field of the person's rows gets a marker: the fields whose marker the
    export shows, and those whose marker erasure removes, are the declared ones."""
    markers = {}
    with scopes_disabled():
        for declaration in personal_data.owned_declarations():
            if declaration.model._meta.app_label in LATER_APPS:
                continue  # each later app proves its own declarations with rows of its own
            for name in declaration.fields:
                marker = f"marker-{declaration.model._meta.model_name}-{name}"
                assert declaration.rows_of(person).update(**{name: marker}), marker
                markers[(declaration.label, name)] = marker
    person.refresh_from_db()

    export = json.dumps(privacy.person_data_export(user=person))
    exported = {key for key, marker in markers.items() if marker in export}
    with scope(organisation=org):
        privacy.person_erase(organisation=org, user=person, acting_user=person)
    left = surviving(list(markers.values()))
    erased = {key for key, marker in markers.items() if marker not in left}

    assert (
        exported
        == erased
        == {
            (label, name)
            for label, name in personal_data.personal_fields()
            if label.split(".")[0] not in LATER_APPS
        }
    )


# Apps above membership declare their own personal data and prove it in their own tests
# (tests/meetings/test_privacy.py).
LATER_APPS = {"meetings", "feedback"}


# --- The erase form's password is rate-limited like sign-in -----------------------------------


def test_erase_refuses_the_sixth_guess_even_when_it_is_right(
    person_client: Client, person: User, history: dict[str, Application]
) -> None:
    for _ in range(5):
        response = person_client.post(ERASE, {"password": "guess", "understood": "on"})
        assert "That is not your password." in response.content.decode()

    response = person_client.post(ERASE, {"password": PASSWORD, "understood": "on"})

    assert response.status_code == 200
    assert "Too many wrong passwords. Wait a few minutes" in response.content.decode()
    person.refresh_from_db()
    assert person.is_active
    assert person.email == EMAIL
    assert held(history["seated"].group) == 1


def test_one_persons_wrong_guesses_leave_another_person_alone(
    person_client: Client, person: User, org: Organisation
) -> None:
    for _ in range(6):
        person_client.post(ERASE, {"password": "guess", "understood": "on"})
    other = UserFactory.create()
    other_client = Client()  # the same address as the first: per-address limit is wider
    other_client.force_login(other)

    response = other_client.post(ERASE, {"password": PASSWORD, "understood": "on"})

    assert response.status_code == 302
    other.refresh_from_db()
    assert not other.is_active
