"""The meetings' e-mails: what each says, to whom, with which calendar file, and once.

The services run for real and commit, so the e-mail jobs they queue run on commit (eagerly in
tests) into Django's locmem outbox, as they would run on a worker after the commit.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage as MimeMessage
from typing import Any, ClassVar

import pytest
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import IntegrityError
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from icalendar import Calendar, Event

from asi_wg.models import Organisation, User
from meetings import services
from meetings.calendar import meeting_ics, with_attendee
from meetings.models import Meeting
from membership import notifications
from membership.models import SentNotification
from tests.factories import LinkMaterialFactory
from tests.meetings.conftest import Circle, seat_person

pytestmark = pytest.mark.django_db(transaction=True)

SITE = "https://wg.example.org"
JOIN = "https://video.example/j/123456"


@pytest.fixture(autouse=True)
def _site(settings: Any) -> None:
    settings.SITE_URL = SITE
    settings.DEFAULT_FROM_EMAIL = "Working groups <no-reply@wg.example>"


@pytest.fixture
def sao_paulo(circle: Circle) -> User:
    """The circle's participant, living in São Paulo (the meetings are planned in London)."""
    circle.participant.time_zone = "America/Sao_Paulo"
    circle.participant.save()
    return circle.participant


def sent_with(subject_start: str) -> list[EmailMessage]:
    return [m for m in mail.outbox if str(m.subject).startswith(subject_start)]


def to(messages: list[EmailMessage]) -> list[str]:
    return sorted(address for message in messages for address in message.to)


def the_one(subject_start: str, recipient: User) -> EmailMessage:
    found = [m for m in sent_with(subject_start) if m.to == [recipient.email]]
    assert len(found) == 1, [(m.subject, m.to) for m in mail.outbox]
    return found[0]


def texts(message: EmailMessage) -> tuple[str, str]:
    assert isinstance(message, EmailMultiAlternatives)
    (html,) = [content for content, mimetype in message.alternatives if mimetype == "text/html"]
    return str(message.body), str(html)


def on_the_wire(message: EmailMessage) -> MimeMessage:
    """The message as a mail program receives it."""
    parsed = email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, MimeMessage)
    return parsed


def calendar_of(message: EmailMessage) -> tuple[Calendar, Event, MimeMessage]:
    """The one calendar attachment, parsed with icalendar, its event, and its MIME part."""
    parts = [
        part
        for part in on_the_wire(message).iter_attachments()
        if part.get_content_type() == "text/calendar"
    ]
    assert len(parts) == 1, [part.get_content_type() for part in parts]
    (part,) = parts
    assert isinstance(part, MimeMessage)
    calendar = Calendar.from_ical(part.get_content())
    (event,) = calendar.walk("VEVENT")
    return calendar, event, part


def schedule(circle: Circle, staff: User, starts_at: datetime.datetime, **kwargs: Any) -> Meeting:
    with scope(organisation=circle.group.organisation):
        return services.meeting_schedule(
            group=circle.group,
            phase=circle.phase,
            title="Draft criteria, first reading",
            starts_at=starts_at,
            time_zone="Europe/London",
            join_url=JOIN,
            acting_user=staff,
            **kwargs,
        )


def in_days(days: float) -> datetime.datetime:
    return (timezone.now() + datetime.timedelta(days=days)).replace(microsecond=0)


# --- Invitation, update, cancellation ---------------------------------------------------------


def test_scheduling_invites_each_seated_participant_with_a_calendar_request(
    circle: Circle, secretariat: User, sao_paulo: User
) -> None:
    starts_at = datetime.datetime(2030, 1, 15, 14, 0, tzinfo=datetime.UTC)  # a Tuesday, GMT
    meeting = schedule(circle, secretariat, starts_at)
    invitations = sent_with("Invitation: ")
    # The seated participants, acknowledged or not; not the other group's, not the staff.
    assert to(invitations) == sorted([sao_paulo.email, circle.unacknowledged.email])
    message = the_one("Invitation: ", sao_paulo)
    assert message.subject == "Invitation: Draft criteria, first reading (Circularity)"
    text, html = texts(message)
    for body in (text, html):
        assert "Tuesday 15 January 2030, 11:00–12:30 (America/Sao_Paulo)" in body
        assert "Tuesday 15 January 2030, 14:00–15:30 (Europe/London)" in body  # as planned
        assert JOIN in body
        assert f"{SITE}/alu/meetings/{meeting.uid}/" in body
    calendar, event, part = calendar_of(message)
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST"
    assert part.get_content_charset() == "utf-8"
    assert part.get_filename() == "invitation.ics"
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == f"{meeting.uid}@wg.example.org"
    assert event["SEQUENCE"] == 0
    assert event["STATUS"] == "CONFIRMED"
    assert event.decoded("DTSTART") == starts_at
    assert JOIN in str(event["DESCRIPTION"])
    assert str(event["ATTENDEE"]) == f"mailto:{sao_paulo.email}"
    assert event["ATTENDEE"].params == {"ROLE": "REQ-PARTICIPANT", "RSVP": "FALSE"}
    # Each recipient's file names them alone (one file is shared, their line added).
    _calendar, other_event, _part = calendar_of(the_one("Invitation: ", circle.unacknowledged))
    assert str(other_event["ATTENDEE"]) == f"mailto:{circle.unacknowledged.email}"
    # Someone who lives in the zone it was planned in reads it once.
    other_text, _html = texts(the_one("Invitation: ", circle.unacknowledged))
    assert "Tuesday 15 January 2030, 14:00–15:30 (Europe/London)" in other_text
    assert "Planned as" not in other_text


def test_a_changed_time_sends_an_update_of_the_same_event_and_a_retry_sends_nothing(
    circle: Circle, secretariat: User, sao_paulo: User
) -> None:
    meeting = schedule(circle, secretariat, datetime.datetime(2030, 1, 15, 14, tzinfo=datetime.UTC))
    _calendar, first, _part = calendar_of(the_one("Invitation: ", sao_paulo))
    with scope(organisation=circle.group.organisation):
        services.meeting_update(meeting=meeting, acting_user=secretariat, agenda="1. Welcome")
    assert sent_with("Updated: ") == []  # the agenda is not the calendar's business
    with scope(organisation=circle.group.organisation):
        meeting = services.meeting_update(
            meeting=meeting,
            acting_user=secretariat,
            starts_at=datetime.datetime(2030, 1, 16, 9, tzinfo=datetime.UTC),
        )
    assert to(sent_with("Updated: ")) == sorted([sao_paulo.email, circle.unacknowledged.email])
    update = the_one("Updated: ", sao_paulo)
    assert update.subject == "Updated: Draft criteria, first reading (Circularity)"
    text, _html = texts(update)
    assert "Wednesday 16 January 2030, 06:00–07:30 (America/Sao_Paulo)" in text
    assert "has changed" in text
    calendar, event, _part = calendar_of(update)
    assert calendar["METHOD"] == "REQUEST"
    assert event["UID"] == first["UID"]
    assert event["SEQUENCE"] == meeting.revision == 1

    # The job again (a retry, a redelivery): nothing more.
    before = len(mail.outbox)
    assert not notifications.send(
        organisation=circle.group.organisation, kind="meeting_invitation", object_id=meeting.pk
    )
    assert len(mail.outbox) == before
    with scopes_disabled():
        keys = set(SentNotification.objects.values_list("key", flat=True))
    assert f"meeting_invitation:{meeting.pk}:0:{sao_paulo.pk}" in keys
    assert f"meeting_invitation:{meeting.pk}:1:{sao_paulo.pk}" in keys


def test_a_cancellation_is_sent_as_a_calendar_cancel_of_the_same_event(
    circle: Circle, secretariat: User, sao_paulo: User
) -> None:
    meeting = schedule(circle, secretariat, in_days(20))
    _calendar, invited, _part = calendar_of(the_one("Invitation: ", sao_paulo))
    with scope(organisation=circle.group.organisation):
        meeting = services.meeting_cancel(meeting=meeting, acting_user=secretariat, reason="Clash")
    assert to(sent_with("Cancelled: ")) == sorted([sao_paulo.email, circle.unacknowledged.email])
    message = the_one("Cancelled: ", sao_paulo)
    assert message.subject == "Cancelled: Draft criteria, first reading (Circularity)"
    text, html = texts(message)
    assert "is cancelled" in text
    assert "(America/Sao_Paulo)" in text
    assert JOIN not in text  # nothing to join
    assert JOIN not in html
    assert "Clash" not in text  # the reason is the staff's record
    calendar, event, part = calendar_of(message)
    assert part.get_param("method") == "CANCEL"
    assert part.get_filename() == "cancellation.ics"
    assert calendar["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert event["UID"] == invited["UID"]
    assert event["SEQUENCE"] == meeting.revision == 1
    assert JOIN not in str(event.get("DESCRIPTION", ""))
    # An invitation job that runs late, after the cancellation, invites nobody.
    assert not notifications.send(
        organisation=circle.group.organisation, kind="meeting_invitation", object_id=meeting.pk
    )


# --- Reminders, materials, notes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "subject"),
    [
        (
            "meeting_reminder_7d",
            "Reminder: Scope of the circularity criteria (Circularity) next week",
        ),
        (
            "meeting_reminder_1d",
            "Reminder: Scope of the circularity criteria (Circularity) coming up",
        ),
    ],
)
def test_reminders_carry_the_time_in_the_recipients_zone_and_the_calendar_file(
    circle: Circle, sao_paulo: User, kind: str, subject: str
) -> None:
    organisation = circle.group.organisation
    assert notifications.send(organisation=organisation, kind=kind, object_id=circle.meeting.pk)
    message = the_one("Reminder: ", sao_paulo)
    assert message.subject == subject
    text, _html = texts(message)
    assert "(America/Sao_Paulo)" in text
    assert JOIN in text
    calendar, event, _part = calendar_of(message)
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]).startswith(str(circle.meeting.uid))
    assert to(mail.outbox[-2:]) == sorted([sao_paulo.email, circle.unacknowledged.email])
    # A meeting that has started gets no reminder.
    with scopes_disabled():
        SentNotification.objects.all().delete()
        Meeting.objects.filter(pk=circle.meeting.pk).update(starts_at=in_days(-0.01))
    assert not notifications.send(organisation=organisation, kind=kind, object_id=circle.meeting.pk)
    assert len(sent_with("Reminder: ")) == 2


def test_a_published_material_is_announced_to_those_who_may_read_it_with_no_file_address(
    circle: Circle,
) -> None:
    with scopes_disabled():
        material = LinkMaterialFactory.create(
            meeting=circle.meeting, title="Draft criteria v2", url="https://docs.example/v2.pdf"
        )
    organisation = circle.group.organisation
    assert notifications.send(
        organisation=organisation, kind="material_published", object_id=material.pk
    )
    messages = sent_with("New reading for ")
    # Not the participant who has yet to acknowledge the antitrust policy: they cannot read it.
    assert to(messages) == [circle.participant.email]
    (message,) = messages
    assert message.subject == "New reading for Scope of the circularity criteria (Circularity)"
    text, html = texts(message)
    for body in (text, html):
        assert "Draft criteria v2" in body
        assert f"{SITE}/alu/meetings/{circle.meeting.uid}/" in body
        assert "docs.example" not in body
        assert "/meetings/materials/" not in body
    assert on_the_wire(message).get_content_type() == "multipart/alternative"  # no attachment


def test_a_withdrawn_or_future_material_is_not_announced(circle: Circle) -> None:
    with scopes_disabled():
        later = LinkMaterialFactory.create(meeting=circle.meeting, publish_at=in_days(1))
        withdrawn = LinkMaterialFactory.create(meeting=circle.meeting, withdrawn_at=in_days(0))
    for material in (later, withdrawn):
        assert not notifications.send(
            organisation=circle.group.organisation,
            kind="material_published",
            object_id=material.pk,
        )
    assert sent_with("New reading") == []


def test_published_notes_are_announced_to_the_groups_participants(circle: Circle) -> None:
    organisation = circle.group.organisation
    assert not notifications.send(
        organisation=organisation, kind="notes_published", object_id=circle.meeting.pk
    )  # not yet published
    with scopes_disabled():
        Meeting.objects.filter(pk=circle.meeting.pk).update(
            notes="Decided: ...", notes_published_at=timezone.now()
        )
    assert notifications.send(
        organisation=organisation, kind="notes_published", object_id=circle.meeting.pk
    )
    messages = sent_with("Notes published: ")
    assert to(messages) == sorted([circle.participant.email, circle.unacknowledged.email])
    text, _html = texts(messages[0])
    assert f"{SITE}/alu/meetings/{circle.meeting.uid}/" in text
    assert "Decided" not in text  # the notes are read signed in
    assert not notifications.send(
        organisation=organisation, kind="notes_published", object_id=circle.meeting.pk
    )


# --- The secretariat --------------------------------------------------------------------------


def test_missing_attendance_is_reported_to_the_secretariat_only(
    circle: Circle, secretariat: User, org: Organisation
) -> None:
    with scopes_disabled():
        Meeting.objects.filter(pk=circle.meeting.pk).update(starts_at=in_days(-2))
    assert notifications.send(
        organisation=org, kind="attendance_missing", object_id=circle.meeting.pk
    )
    (message,) = sent_with("Attendance not recorded: ")
    assert message.to == [secretariat.email]
    assert message.subject == (
        "Attendance not recorded: Scope of the circularity criteria (Circularity)"
    )
    text, html = texts(message)
    register = f"{SITE}/alu/staff/meetings/{circle.meeting.uid}/attendance/"
    assert register in text
    assert register in html
    assert JOIN not in text
    # Recorded meanwhile: nothing is said.
    with scopes_disabled():
        mail.outbox.clear()
        SentNotification.objects.all().delete()
        Meeting.objects.filter(pk=circle.meeting.pk).update(attendance_recorded_at=timezone.now())
    assert not notifications.send(
        organisation=org, kind="attendance_missing", object_id=circle.meeting.pk
    )
    assert mail.outbox == []


def test_a_step_down_request_is_polite_cites_the_terms_and_gives_the_secretariats_address(
    circle: Circle, secretariat: User, org: Organisation
) -> None:
    org.contact_email = "secretariat@alu.example"
    org.save()
    with scopes_disabled():
        seat = circle.participant.seats.get(ended_at__isnull=True)
    assert notifications.send(organisation=org, kind="step_down_request", object_id=seat.pk)
    (message,) = sent_with("Your seat in the Circularity working group")
    assert message.to == [circle.participant.email]
    text, html = texts(message)
    for body in (text, html):
        assert "Terms of Reference" in body
        assert "waiting list" in body
        assert "secretariat@alu.example" in body
        assert "Thank you" in body
    assert not notifications.send(organisation=org, kind="step_down_request", object_id=seat.pk)
    assert len(sent_with("Your seat in the Circularity")) == 1


def test_the_registry_refuses_a_second_builder_for_a_kind() -> None:
    from meetings import notifications as meeting_notifications

    meeting_notifications.register()  # the same ones again: harmless
    with pytest.raises(ValueError, match="registered already"):
        notifications.builder_register("meeting_invitation", lambda organisation, pk: [])


def test_another_person_seated_later_receives_the_next_reminder(
    circle: Circle, secretariat: User
) -> None:
    organisation = circle.group.organisation
    kind, pk = "meeting_reminder_1d", circle.meeting.pk
    assert notifications.send(organisation=organisation, kind=kind, object_id=pk)
    with scopes_disabled():
        newcomer = seat_person(circle.group, secretariat).holder
    assert notifications.send(organisation=organisation, kind=kind, object_id=pk)
    assert to(sent_with("Reminder: ")) == sorted(
        [circle.participant.email, circle.unacknowledged.email, newcomer.email]
    )


def test_a_calendar_with_a_long_attendee_line_reads_as_the_file_made_for_that_person(
    circle: Circle, secretariat: User
) -> None:
    """The shared file plus a person's ATTENDEE line is the file made for that person alone,
    also when the line is long enough to be folded."""
    meeting = schedule(circle, secretariat, datetime.datetime(2030, 1, 15, 14, tzinfo=datetime.UTC))
    address = "a.participant.with.a.long.name@an-organisation-with-a-long-domain.example.org"
    organisation = circle.group.organisation
    with scope(organisation=organisation):
        alone = meeting_ics(
            meeting,
            organisation=organisation,
            with_join_link=True,
            method="REQUEST",
            attendee_email=address,
        )
        shared = meeting_ics(
            meeting, organisation=organisation, with_join_link=True, method="REQUEST"
        )
    added = with_attendee(shared, address)
    assert b"\r\n " in added  # folded
    first, second = (Calendar.from_ical(ics).walk("VEVENT")[0] for ics in (alone, added))
    assert {k: v.to_ical() for k, v in first.items() if k != "DTSTAMP"} == {
        k: v.to_ical() for k, v in second.items() if k != "DTSTAMP"
    }
    assert second["ATTENDEE"].params == {"ROLE": "REQ-PARTICIPANT", "RSVP": "FALSE"}


# --- A whole group's reminder: one batch of claims, released on failure ----------------------


class FailsOnTheThird(LocmemBackend):
    """A mail server that takes two messages, then drops the connection once."""

    attempts: ClassVar[int] = 0

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        FailsOnTheThird.attempts += 1
        if FailsOnTheThird.attempts == 3:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(email_messages)


def reminder_rows() -> list[tuple[str, str]]:
    with scopes_disabled():
        rows = SentNotification.objects.filter(key__startswith="meeting_reminder_1d:")
        return sorted(rows.values_list("key", "state"))


def test_a_reminder_that_fails_midway_sends_the_rest_on_the_retry_and_nobody_twice(
    circle: Circle, secretariat: User, settings: Any
) -> None:
    with scopes_disabled():
        for _ in range(2):
            seat_person(circle.group, secretariat)
    settings.EMAIL_BACKEND = "tests.meetings.test_notifications.FailsOnTheThird"
    FailsOnTheThird.attempts = 0
    organisation, kind, pk = circle.group.organisation, "meeting_reminder_1d", circle.meeting.pk
    with pytest.raises(smtplib.SMTPServerDisconnected):
        notifications.send(organisation=organisation, kind=kind, object_id=pk)
    # The two that went out are recorded sent; the two that did not left no claim behind, so the
    # retry may send them at once.
    assert len(sent_with("Reminder: ")) == 2
    assert [state for _key, state in reminder_rows()] == ["sent", "sent"]
    assert notifications.send(organisation=organisation, kind=kind, object_id=pk)
    recipients = to(sent_with("Reminder: "))
    assert len(recipients) == 4
    assert len(set(recipients)) == 4
    assert [state for _key, state in reminder_rows()] == ["sent"] * 4


def test_a_reminder_one_of_whose_keys_another_run_holds_claims_and_sends_nothing(
    circle: Circle, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.NOTIFICATION_CLAIM_LEASE_SECONDS = 600
    monkeypatch.setattr(notifications, "CLAIM_WAIT_SECONDS", 0.1)
    organisation, meeting = circle.group.organisation, circle.meeting
    held = f"meeting_reminder_1d:{meeting.pk}:{circle.unacknowledged.pk}"
    with scopes_disabled():
        SentNotification.objects.create(
            organisation=organisation,
            key=held,
            claimed_at=timezone.now() - datetime.timedelta(seconds=10),
        )
    with pytest.raises(notifications.ClaimHeld):
        notifications.send(
            organisation=organisation, kind="meeting_reminder_1d", object_id=meeting.pk
        )
    # The other person's claim, taken with the batch, is released with it: the retry sends both.
    assert sent_with("Reminder: ") == []
    assert reminder_rows() == [(held, "sending")]


def test_a_reminder_on_the_wire_has_its_parts_and_the_headers_the_standard_library_writes(
    circle: Circle,
) -> None:
    organisation = circle.group.organisation
    notifications.send(
        organisation=organisation, kind="meeting_reminder_1d", object_id=circle.meeting.pk
    )
    message = the_one("Reminder: ", circle.participant)
    mime = message.message()
    boundaries = [part.get_boundary() for part in mime.walk() if part.is_multipart()]
    assert len(boundaries) == 2
    assert len(set(boundaries)) == 2
    wire = on_the_wire(message)
    assert [part.get_content_type() for part in wire.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    text, html = texts(message)
    plain, rich = wire.get_body(("plain",)), wire.get_body(("html",))
    assert plain is not None
    assert rich is not None
    assert (plain.get_content(), rich.get_content()) == (text, html)
    # Each header as the standard library's own folding writes it, the long ones folded.
    for name, value in mime.items():
        assert notifications._POLICY.fold(name, value) == email.policy.compat32.fold(name, value)


def test_claims_of_a_batch_whose_later_insert_fails_are_released(
    circle: Circle, secretariat: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch claimed in several INSERTs, the last refused (here: a recipient gone meanwhile):
    the claims the earlier ones committed go too, so that the retry need not wait for them."""
    monkeypatch.setattr(notifications, "_CLAIM_BATCH", 2)
    organisation = circle.group.organisation
    people = [circle.participant, circle.unacknowledged, User(pk=2_000_000_000, email="x@x.org")]
    messages = [
        notifications.Message(kind="meeting_reminder_1d", key=f"batch:{n}", recipient=person)
        for n, person in enumerate(people)
    ]
    with scope(organisation=organisation), pytest.raises(IntegrityError):
        notifications._claim_all(organisation, messages)
    with scopes_disabled():
        assert not SentNotification.objects.filter(key__startswith="batch:").exists()


def test_a_key_twice_in_a_batch_is_sent_once(circle: Circle) -> None:
    organisation = circle.group.organisation
    twice = [
        notifications.Message(kind="meeting_reminder_1d", key="twice:1", recipient=person)
        for person in (circle.participant, circle.unacknowledged)
    ]
    with scope(organisation=organisation):
        claims = notifications._claim_all(organisation, twice)
    assert [message.recipient for message, _claim in claims] == [circle.participant]
