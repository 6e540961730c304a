"""E-mails about applications, offers, seats and the antitrust policy: one per event and person.

The services run for real and commit, so the e-mail jobs they queue run on commit (eagerly in
tests) into Django's locmem outbox, as they would run on a worker after the commit.
"""

from __future__ import annotations

import datetime
import smtplib
import threading
import time
import zoneinfo
from collections.abc import Sequence
from email.policy import compat32
from email.utils import parseaddr
from typing import Any, ClassVar

import hypothesis
import pytest
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import task_retry
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection, transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from hypothesis import strategies as st

from asi_wg.models import Organisation, User
from groups.models import WorkingGroup
from membership import notifications, services, tasks
from membership.models import Application, Offer, ParticipantProfile, Seat, SentNotification
from tests.factories import (
    ApplicationFactory,
    ParticipantProfileFactory,
    UserFactory,
    WorkingGroupFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

SITE = "https://wg.example.org"
ZURICH = "Europe/Zurich"


@pytest.fixture(autouse=True)
def _site(settings: Any) -> None:
    settings.SITE_URL = SITE
    settings.DEFAULT_FROM_EMAIL = "Working groups <no-reply@wg.example>"


@pytest.fixture
def group(org: Organisation) -> WorkingGroup:
    org.contact_email = "secretariat@alu.example"
    org.save()
    return WorkingGroupFactory.create(
        organisation=org, name="Circularity", slug="circularity", seat_cap=1
    )


@pytest.fixture
def staff(org: Organisation, secretariat: User) -> User:
    secretariat.full_name = "Stella Staffer"
    secretariat.save()
    return secretariat


def person(name: str, zone: str = ZURICH) -> User:
    return UserFactory.create(full_name=name, time_zone=zone)


def apply(group: WorkingGroup, user: User, **kwargs: Any) -> Application:
    with scopes_disabled():
        profile = ParticipantProfile.objects.filter(
            organisation=group.organisation, user=user
        ).first()
    if profile is None:
        profile = ParticipantProfileFactory.create(organisation=group.organisation, user=user)
    return ApplicationFactory.create(group=group, profile=profile, **kwargs)


def seat_someone(group: WorkingGroup, staff: User, name: str = "Sam Seated") -> Seat:
    application = apply(group, person(name))
    with scope(organisation=group.organisation):
        return services.seat_take(application=application, acting_user=staff)


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text body and the HTML alternative of a message."""
    assert isinstance(message, EmailMultiAlternatives)
    html = [content for content, mimetype in message.alternatives if mimetype == "text/html"]
    assert len(html) == 1, message.alternatives
    assert isinstance(html[0], str)
    return str(message.body), html[0]


def everything(message: EmailMessage) -> str:
    text, html = parts(message)
    return "\n".join([str(message.subject), text, html])


def the_one(subject_part: str) -> EmailMessage:
    """The one e-mail in the outbox whose subject says ``subject_part``."""
    found = [m for m in mail.outbox if subject_part in str(m.subject)]
    assert len(found) == 1, [m.subject for m in mail.outbox]
    return found[0]


def zurich(value: datetime.datetime) -> str:
    local = value.astimezone(zoneinfo.ZoneInfo(ZURICH))
    return f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M} (Europe/Zurich)"


# --- Each kind --------------------------------------------------------------------------------


def test_local_time_names_the_day_and_the_zone() -> None:
    moment = datetime.datetime(2026, 12, 3, 13, 0, tzinfo=datetime.UTC)
    assert notifications.local_time(moment, ZURICH) == (
        "Thursday 3 December 2026, 14:00 (Europe/Zurich)"
    )
    assert notifications.local_time(moment, "Nowhere/Atlantis").endswith("13:00 (UTC)")


def test_application_received_goes_to_the_applicant_from_the_tenant(group, org) -> None:
    applicant = person("Ada Applicant")
    ParticipantProfileFactory.create(organisation=org, user=applicant)
    with scope(organisation=org):
        application = services.application_submit(
            group=group, user=applicant, focus_areas=[], statement="Scrap sorting."
        )
    message = the_one("received")
    assert mail.outbox == [message]
    assert message.to == [applicant.email]
    assert message.subject == "Your application to Circularity has been received"
    # The tenant's name on the platform's address; replies go to the secretariat.
    assert parseaddr(message.message()["From"]) == ("Aluminium Body", "no-reply@wg.example")
    assert message.reply_to == ["secretariat@alu.example"]
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    text, html = parts(message)
    assert "Hello Ada Applicant," in text
    assert f"{SITE}/alu/groups/circularity/" in text
    assert f'href="{SITE}/alu/groups/circularity/"' in html
    assert zurich(application.applied_at) in text
    assert '<html lang="en-gb">' in html
    assert "<img" not in html
    assert "{{" not in text + html
    assert "{%" not in text + html


def test_waitlisted_email_states_the_position(group, org, staff) -> None:
    seat_someone(group, staff)
    first = apply(group, person("Fay First"))
    second = apply(group, person("Sid Second"))
    mail.outbox.clear()
    with scope(organisation=org):
        services.application_waitlist(application=first, acting_user=staff)
        services.application_waitlist(application=second, acting_user=staff)
    assert len(mail.outbox) == 2
    message = the_one("number 2")
    assert message.to == [second.applicant.email]
    assert message.subject == "You are number 2 on the waiting list for Circularity"
    text, html = parts(message)
    assert "at number 2." in text
    assert "<strong>number 2</strong>" in html
    assert f"{SITE}/alu/me/" in text
    assert "held for you for 7 days" in text
    # Never another person's name: not the person ahead, not the person seated.
    assert "Fay First" not in everything(message)
    assert "Sam Seated" not in everything(message)
    assert the_one("number 1").to == [first.applicant.email]


def test_offer_email_gives_the_expiry_in_the_recipients_zone_and_links_the_dashboard(
    group, org, staff
) -> None:
    application = apply(group, person("Olu Offered"))
    with scope(organisation=org):
        services.application_waitlist(application=application, acting_user=staff)
        offer = Offer.objects.get()
    message = the_one("offered")
    assert message.to == [application.applicant.email]
    assert message.subject == "A seat in Circularity is offered to you"
    text, html = parts(message)
    expiry = zurich(offer.expires_at)
    assert f"Please accept or decline on your dashboard by {expiry}:\n{SITE}/alu/me/" in text
    assert expiry in html
    assert f'href="{SITE}/alu/me/"' in html
    assert "If you decline, or do not answer in time, the seat passes on" in text
    # Shown in the person's zone, not the tenant's (Melbourne) nor UTC.
    assert "Australia/Melbourne" not in text
    assert "(UTC)" not in text


def test_expired_offer_tells_the_person_the_seat_moved_on(group, org, staff) -> None:
    first = apply(group, person("Eve Expired"))
    second = apply(group, person("Nia Next"))
    with scope(organisation=org):
        services.application_waitlist(application=first, acting_user=staff)
        services.application_waitlist(application=second, acting_user=staff)
        offer = Offer.objects.get(application=first)
        mail.outbox.clear()
        services.offers_expire(organisation=org, now=offer.expires_at + datetime.timedelta(hours=1))
    message = the_one("has expired")
    assert message.to == [first.applicant.email]
    text, _ = parts(message)
    assert f"held until {zurich(offer.expires_at)}" in text
    assert "passed on to the next person on the waiting list" in text
    assert "Nia Next" not in everything(message)
    # The seat moved on: the next person has their own offer.
    assert the_one("is offered to you").to == [second.applicant.email]
    assert len(mail.outbox) == 2


def test_seated_email_asks_for_the_antitrust_acknowledgement(group, org, staff) -> None:
    with scope(organisation=org):
        services.antitrust_policy_publish(
            organisation=org, title="Antitrust Compliance Policy", body="Text.", acting_user=staff
        )
    application = apply(group, person("Sol Seated"))
    mail.outbox.clear()
    with scope(organisation=org):
        services.seat_take(application=application, acting_user=staff)
    message = the_one("You have a seat")
    assert mail.outbox == [message]
    assert message.to == [application.applicant.email]
    text, html = parts(message)
    assert "please read and acknowledge the Antitrust Compliance Policy" in text
    assert f"{SITE}/alu/groups/circularity/" in text
    assert f'href="{SITE}/alu/me/"' in html
    assert "Stella Staffer" not in everything(message)


def test_seat_ended_email_gives_the_reason_but_no_note_and_no_staff_name(group, org, staff) -> None:
    seat = seat_someone(group, staff, name="Rex Retired")
    mail.outbox.clear()
    with scope(organisation=org):
        services.seat_end(
            seat=seat,
            reason=Seat.EndReason.OTHER,
            note="Replaced by Quentin Quorum at the Member's request.",
            acting_user=staff,
        )
        seat.refresh_from_db()
    message = the_one("has ended")
    assert mail.outbox == [message]
    assert message.to == [seat.holder.email]
    text, _ = parts(message)
    assert seat.ended_at is not None
    assert f"ended on {zurich(seat.ended_at)}." in text
    assert "The reason recorded: Other." in text
    content = everything(message)
    assert "Quentin Quorum" not in content
    assert "Stella Staffer" not in content


def test_new_antitrust_version_emails_each_current_seat_holder_once(
    group, org, other_org, staff
) -> None:
    second_group = WorkingGroupFactory.create(organisation=org, name="Climate", seat_cap=5)
    holder_one = seat_someone(group, staff, name="Hana Holder").holder
    holder_two = seat_someone(second_group, staff, name="Hugo Holder").holder
    # Two seats, one person: still one e-mail.
    both = apply(second_group, holder_one)
    with scope(organisation=org):
        services.seat_take(application=both, acting_user=staff)
    ended = seat_someone(second_group, staff, name="Otto Former")
    with scope(organisation=org):
        services.seat_end(seat=ended, reason=Seat.EndReason.WITHDREW, acting_user=staff)
    apply(second_group, person("Wanda Waiting"), status=Application.Status.WAITING)
    other_group = WorkingGroupFactory.create(organisation=other_org, seat_cap=5)
    with scope(organisation=other_org):
        services.seat_take(
            application=apply(other_group, person("Ola Other")),
            acting_user=UserFactory.create(),
        )
    mail.outbox.clear()
    with scope(organisation=org):
        policy = services.antitrust_policy_publish(
            organisation=org, title="Antitrust Compliance Policy", body="v1", acting_user=staff
        )
    assert sorted(m.to[0] for m in mail.outbox) == sorted([holder_one.email, holder_two.email])
    for message in mail.outbox:
        assert (
            message.subject == "Please acknowledge the new Antitrust Compliance Policy (version 1)"
        )
        text, _ = parts(message)
        assert f"acknowledge it on your dashboard:\n{SITE}/alu/me/" in text
    to_one = next(m for m in mail.outbox if m.to == [holder_one.email])
    assert "Hugo Holder" not in everything(to_one)
    with scopes_disabled():
        keys = set(SentNotification.objects.values_list("key", flat=True))
    assert {
        f"antitrust_new_version:{policy.pk}:{holder_one.pk}",
        f"antitrust_new_version:{policy.pk}:{holder_two.pk}",
    } <= keys
    # Running the job again sends nothing more.
    assert not notifications.send(
        organisation=org, kind="antitrust_new_version", object_id=policy.pk
    )
    assert len(mail.outbox) == 2


# --- Once, and only what still exists ---------------------------------------------------------


def test_sending_twice_sends_once(group, org, staff) -> None:
    application = apply(group, person("Tom Twice"))
    with scope(organisation=org):
        services.application_waitlist(application=application, acting_user=staff)
        offer = Offer.objects.get()
    assert len([m for m in mail.outbox if "offered" in m.subject]) == 1
    assert not notifications.send(organisation=org, kind="offer", object_id=offer.pk)
    assert not tasks.notification_send.delay(
        organisation_id=org.pk, kind="offer", object_id=offer.pk
    ).get()
    assert len([m for m in mail.outbox if "offered" in m.subject]) == 1
    with scopes_disabled():
        assert SentNotification.objects.filter(key=f"offer:{offer.pk}").count() == 1


def test_an_object_that_vanished_sends_nothing(group, org) -> None:
    application = apply(group, person("Val Vanished"))
    application_id = application.pk
    with scopes_disabled():
        Application.objects.filter(pk=application_id).delete()
    assert not notifications.send(
        organisation=org, kind="application_received", object_id=application_id
    )
    assert mail.outbox == []
    with scopes_disabled():
        assert not SentNotification.objects.exists()


def test_an_offer_answered_before_the_job_ran_is_not_announced(group, org, staff) -> None:
    application = apply(group, person("Dan Declined"))
    with scope(organisation=org):
        offer = Offer.objects.create(
            group=group,
            application=application,
            expires_at=timezone.now() + datetime.timedelta(days=7),
            status=Offer.Status.DECLINED,
        )
    assert not notifications.send(organisation=org, kind="offer", object_id=offer.pk)
    assert mail.outbox == []


def test_an_unknown_kind_is_an_error(org) -> None:
    with pytest.raises(ValueError, match="no notification of kind 'nonsense'"):
        notifications.send(organisation=org, kind="nonsense", object_id=1)


# --- Tenants ----------------------------------------------------------------------------------


def test_another_tenants_emails_never_mention_this_tenants_group(
    group, org, other_org, staff, other_secretariat
) -> None:
    # This tenant's offer, looked up as the other tenant's: treated as gone.
    application = apply(group, person("Ana Alu"))
    with scope(organisation=org):
        services.application_waitlist(application=application, acting_user=staff)
        offer = Offer.objects.get()
    mail.outbox.clear()
    assert not notifications.send(organisation=other_org, kind="offer", object_id=offer.pk)
    assert not notifications.send(
        organisation=other_org, kind="waitlisted", object_id=application.pk
    )
    assert mail.outbox == []

    # Every kind of e-mail in the other tenant.
    water = WorkingGroupFactory.create(
        organisation=other_org, name="Water", slug="water", seat_cap=1
    )
    profile = ParticipantProfileFactory.create(organisation=other_org, user=person("Bo Other"))
    first = apply(water, person("Cy Other"))
    with scope(organisation=other_org):
        services.application_submit(
            group=water, user=profile.user, focus_areas=[], statement="Water."
        )
        services.application_waitlist(application=first, acting_user=other_secretariat)
        other_offer = Offer.objects.get()
        services.offers_expire(
            organisation=other_org, now=other_offer.expires_at + datetime.timedelta(minutes=1)
        )
        seat = services.seat_take(
            application=Application.objects.get(applicant=profile.user),
            acting_user=other_secretariat,
        )
        services.antitrust_policy_publish(
            organisation=other_org, title="Policy", body="Text.", acting_user=other_secretariat
        )
        services.seat_end(seat=seat, reason=Seat.EndReason.WITHDREW, acting_user=other_secretariat)
    subjects = " | ".join(str(m.subject) for m in mail.outbox)
    for expected in ("received", "number 1", "offered", "expired", "You have a seat", "Policy"):
        assert expected in subjects
    assert "has ended" in subjects
    for message in mail.outbox:
        content = everything(message)
        assert "Circularity" not in content
        assert "Aluminium Body" not in content
        assert "/alu/" not in content
        assert f"{SITE}/other/" in content
        assert parseaddr(message.from_email) == ("Other Body", "no-reply@wg.example")
        assert message.reply_to == []


# --- Failures and concurrency -----------------------------------------------------------------


class FlakyBackend(LocmemBackend):
    """A mail server that drops the connection on every other attempt."""

    attempts: ClassVar[int] = 0

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        FlakyBackend.attempts += 1
        if FlakyBackend.attempts % 2:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(email_messages)


def test_a_sending_failure_rolls_the_claim_back_and_the_job_retries(group, org, settings) -> None:
    assert issubclass(smtplib.SMTPException, OSError)  # what the task retries on
    application = apply(group, person("Rae Retry"), status=Application.Status.OFFERED)
    with scope(organisation=org):
        offer = Offer.objects.create(
            group=group,
            application=application,
            expires_at=timezone.now() + datetime.timedelta(days=7),
        )
    settings.EMAIL_BACKEND = "tests.membership.test_notifications.FlakyBackend"
    FlakyBackend.attempts = 0
    # As on a worker (throw=False): the failure is retried, not raised to the caller.
    result = tasks.notification_send.apply(
        kwargs={"organisation_id": org.pk, "kind": "offer", "object_id": offer.pk}, throw=False
    )
    assert result.get() is True
    assert FlakyBackend.attempts == 2
    assert [m.subject for m in mail.outbox] == ["A seat in Circularity is offered to you"]
    with scopes_disabled():
        assert SentNotification.objects.filter(key=f"offer:{offer.pk}").count() == 1


def test_a_failure_leaves_no_claim_behind(group, org, settings) -> None:
    application = apply(group, person("Fen Failed"))
    settings.EMAIL_BACKEND = "tests.membership.test_notifications.FlakyBackend"
    FlakyBackend.attempts = 0
    with pytest.raises(smtplib.SMTPServerDisconnected):
        notifications.send(organisation=org, kind="application_received", object_id=application.pk)
    with scopes_disabled():
        assert not SentNotification.objects.exists()
    assert notifications.send(
        organisation=org, kind="application_received", object_id=application.pk
    )
    assert len(mail.outbox) == 1


class GatedBackend(LocmemBackend):
    """A slow mail server: holds the first sender, its claim committed, until released."""

    entered = threading.Event()
    release = threading.Event()

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        GatedBackend.entered.set()
        assert GatedBackend.release.wait(timeout=20)
        return super().send_messages(email_messages)


def test_two_workers_sending_the_same_notification_at_once_send_it_once(
    group, org, settings
) -> None:
    application = apply(group, person("Cal Concurrent"))
    settings.EMAIL_BACKEND = "tests.membership.test_notifications.GatedBackend"
    GatedBackend.entered.clear()
    GatedBackend.release.clear()
    results: dict[str, bool | BaseException] = {}

    def worker(name: str) -> None:
        try:
            results[name] = notifications.send(
                organisation=org, kind="application_received", object_id=application.pk
            )
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            results[name] = error
        finally:
            connection.close()

    first = threading.Thread(target=worker, args=("first",))
    first.start()
    assert GatedBackend.entered.wait(timeout=20)
    # The first holds its claim inside the mail server; the second now tries, finds the claim,
    # and waits for it to be sent or released.
    second = threading.Thread(target=worker, args=("second",))
    second.start()
    time.sleep(0.5)
    GatedBackend.release.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert results == {"first": True, "second": False}
    assert len(mail.outbox) == 1
    with scopes_disabled():
        assert SentNotification.objects.count() == 1


def test_sender_address_keeps_a_tenant_name_with_commas_and_accents(org) -> None:
    org.name = "Zürich Standards, Inc."
    sender = notifications.sender(org)
    assert parseaddr(sender) == ("Zürich Standards, Inc.", "no-reply@wg.example")


# --- No transaction or lock while the mail server is talked to --------------------------------


class TransactionCheckingBackend(LocmemBackend):
    """Records, for each sending, whether a transaction (or on PostgreSQL, any lock or write of
    a transaction) was open on the database connection at that moment."""

    seen: ClassVar[list[tuple[bool, bool]]] = []

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        holds_lock = False
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # A row lock or a write gives the transaction an id; outside one, nothing does.
                cursor.execute("SELECT txid_current_if_assigned() IS NOT NULL")
                holds_lock = bool(cursor.fetchone()[0])
        TransactionCheckingBackend.seen.append((connection.in_atomic_block, holds_lock))
        return super().send_messages(email_messages)


def test_no_email_is_sent_inside_a_transaction_or_holding_a_lock(group, org, staff, settings):
    settings.EMAIL_BACKEND = "tests.membership.test_notifications.TransactionCheckingBackend"
    TransactionCheckingBackend.seen = []
    first = apply(group, person("Lou Locked"))
    with scope(organisation=org):
        services.application_waitlist(application=first, acting_user=staff)  # offer, seat free
        offer = Offer.objects.get()
        services.offers_expire(
            organisation=org, now=offer.expires_at + datetime.timedelta(minutes=1)
        )
        seat = services.seat_take(application=apply(group, person("Sue Seated")), acting_user=staff)
        services.seat_end(seat=seat, reason=Seat.EndReason.WITHDREW, acting_user=staff)
    subjects = [str(m.subject) for m in mail.outbox]
    assert len(subjects) >= 4, subjects  # offered, expired, seated, seat ended at least
    assert TransactionCheckingBackend.seen == [(False, False)] * len(subjects)


def test_sending_refuses_to_run_inside_a_callers_transaction(group, org) -> None:
    application = apply(group, person("Tia Transaction"))
    with pytest.raises(RuntimeError), transaction.atomic():
        notifications.send(organisation=org, kind="application_received", object_id=application.pk)
    assert mail.outbox == []


# --- Claims: released on failure, taken over when stale, never taken from a live sender ------


class SoftLimitBackend(LocmemBackend):
    """The job's soft time limit strikes while the mail server is talked to, the first time."""

    attempts: ClassVar[int] = 0

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        SoftLimitBackend.attempts += 1
        if SoftLimitBackend.attempts == 1:
            raise SoftTimeLimitExceeded()
        return super().send_messages(email_messages)


def test_the_soft_time_limit_releases_the_claim_and_the_job_retries(group, org, settings) -> None:
    application = apply(group, person("Sol Slow"))
    settings.EMAIL_BACKEND = "tests.membership.test_notifications.SoftLimitBackend"
    SoftLimitBackend.attempts = 0
    result = tasks.notification_send.apply(
        kwargs={
            "organisation_id": org.pk,
            "kind": "application_received",
            "object_id": application.pk,
        },
        throw=False,
    )
    assert result.get() is True
    assert SoftLimitBackend.attempts == 2
    assert len(mail.outbox) == 1
    with scopes_disabled():
        assert list(SentNotification.objects.values_list("state", flat=True)) == ["sent"]


def claim_of_another_run(org: Organisation, key: str, *, seconds_ago: float) -> None:
    with scopes_disabled():
        SentNotification.objects.create(
            organisation=org,
            key=key,
            state=SentNotification.State.SENDING,
            claimed_at=timezone.now() - datetime.timedelta(seconds=seconds_ago),
        )


def receipt_key(application: Application) -> str:
    return f"application_received:{application.pk}:{application.applied_at:%Y%m%d%H%M%S%f}"


def test_a_claim_left_by_a_lost_worker_is_taken_over_after_its_lease(group, org, settings):
    settings.NOTIFICATION_CLAIM_LEASE_SECONDS = 60
    application = apply(group, person("Lee Lost"))
    claim_of_another_run(org, receipt_key(application), seconds_ago=61)
    assert notifications.send(
        organisation=org, kind="application_received", object_id=application.pk
    )
    assert len(mail.outbox) == 1
    with scopes_disabled():
        row = SentNotification.objects.get()
    assert (row.key, row.state) == (receipt_key(application), SentNotification.State.SENT)
    assert row.recipient == application.applicant
    assert row.sent_at is not None


def test_a_live_claim_of_another_run_is_left_to_a_retry_and_nothing_is_sent(
    group, org, settings, monkeypatch
) -> None:
    settings.NOTIFICATION_CLAIM_LEASE_SECONDS = 600
    monkeypatch.setattr(notifications, "CLAIM_WAIT_SECONDS", 0.3)
    application = apply(group, person("Liv Live"))
    claim_of_another_run(org, receipt_key(application), seconds_ago=10)
    with pytest.raises(notifications.ClaimHeld) as held:
        notifications.send(organisation=org, kind="application_received", object_id=application.pk)
    # The retry comes when the other run's lease would have run out.
    assert 589 <= held.value.retry_in <= 590
    assert mail.outbox == []
    with scopes_disabled():
        assert SentNotification.objects.get().state == SentNotification.State.SENDING


def test_the_job_retries_while_another_run_holds_the_claim(group, org, settings, monkeypatch):
    """The job gives up waiting for a live claim and asks to be retried when the claim's lease
    runs out; by the retry, the other run has released it (its send failed), and this one sends."""
    settings.NOTIFICATION_CLAIM_LEASE_SECONDS = 600
    monkeypatch.setattr(notifications, "CLAIM_WAIT_SECONDS", 0.1)
    application = apply(group, person("Rod Retry"))
    claim_of_another_run(org, receipt_key(application), seconds_ago=10)
    retries: list[float] = []

    def other_run_gives_up(sender: Any, reason: Any, **kwargs: Any) -> None:
        retries.append(reason.when)
        with scopes_disabled():
            SentNotification.objects.filter(state=SentNotification.State.SENDING).delete()

    task_retry.connect(other_run_gives_up, sender=tasks.notification_send, weak=False)
    try:
        result = tasks.notification_send.apply(
            kwargs={
                "organisation_id": org.pk,
                "kind": "application_received",
                "object_id": application.pk,
            },
            throw=False,
        )
    finally:
        task_retry.disconnect(other_run_gives_up, sender=tasks.notification_send)
    assert result.get() is True
    assert len(retries) == 1
    assert 589 <= retries[0] <= 590
    assert len(mail.outbox) == 1


# --- Writing e-mails out ----------------------------------------------------------------------


@hypothesis.given(
    name=st.sampled_from(["Subject", "To", "Reply-To", "Content-Type", "X-Long-Header-Name"]),
    value=st.text(st.characters(codec="ascii"), max_size=120)
    | st.text(alphabet=" \t=?;\"'-_abcXYZ01", max_size=90)
    | st.text(max_size=40),
)
@hypothesis.example(name="Subject", value="x" * 69)  # exactly 78 characters with the name
@hypothesis.example(name="Subject", value="x" * 70)  # one more: folded by the library
@hypothesis.example(name="To", value="")
@hypothesis.example(name="Subject", value="\r0:")  # a line break: both refuse it
def test_headers_are_folded_as_the_standard_library_folds_them(name: str, value: str) -> None:
    """The short cut of the e-mails' policy for short headers writes what ``compat32`` writes,
    for any header, short or long, ASCII or not, with a line break in it or not."""
    for linesep in ("\n", "\r\n"):
        ours = notifications._POLICY.clone(linesep=linesep)
        theirs = compat32.clone(linesep=linesep)
        for method in ("fold", "fold_binary"):
            assert _outcome(getattr(ours, method), name, value) == _outcome(
                getattr(theirs, method), name, value
            )


def _outcome(fold: Any, name: str, value: str) -> object:
    """What folding gives, or the error it raises (a header with a line break in it)."""
    try:
        return fold(name, value)
    except Exception as error:  # noqa: BLE001 - compared, not hidden
        return type(error), str(error)
