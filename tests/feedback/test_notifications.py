"""The feedback e-mails: the round is open, reminders before it closes, responses published.

The services run for real and commit, so the e-mail jobs they queue run on commit (eagerly in
tests) into Django's locmem outbox; the beat job runs through Celery eagerly as well. Reminders
are tried at the real clock: the rounds are set to close at chosen moments from now.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Sequence
from html.parser import HTMLParser
from typing import Any, ClassVar

import pytest
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from asi_wg.models import Organisation, User
from feedback import services, tasks
from feedback.jobs import jobs_due
from feedback.models import Answer, Criterion, FeedbackRound
from membership import notifications
from tests.factories import CriterionFactory, DraftDocumentFactory, WorkingGroupFactory
from tests.feedback.conftest import Consultation, make_round
from tests.meetings.conftest import seat_person

pytestmark = pytest.mark.django_db(transaction=True)

SITE = "https://wg.example.org"
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
PAYLOADS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "[x](javascript:alert(1))",
)
HOSTILE = " ".join(PAYLOADS)


@pytest.fixture(autouse=True)
def _site(settings: Any) -> None:
    settings.SITE_URL = SITE
    settings.DEFAULT_FROM_EMAIL = "Working groups <no-reply@wg.example>"


@pytest.fixture
def people(consultation: Consultation) -> Consultation:
    """The consultation with its two participants in zones of their own, and an empty outbox."""
    consultation.participant.time_zone = "America/Sao_Paulo"
    consultation.participant.save()
    consultation.second.time_zone = "Asia/Tokyo"
    consultation.second.save()
    mail.outbox.clear()
    return consultation


def feedback_mail(prefix: str = "") -> list[EmailMessage]:
    kinds = ("Feedback round", "Responses to your feedback")
    return [
        m
        for m in mail.outbox
        if str(m.subject).startswith(kinds) and str(m.subject).startswith(prefix)
    ]


def to(messages: list[EmailMessage]) -> list[str]:
    return sorted(address for message in messages for address in message.to)


def texts(message: EmailMessage) -> tuple[str, str]:
    assert isinstance(message, EmailMultiAlternatives)
    (html,) = [content for content, mimetype in message.alternatives if mimetype == "text/html"]
    return str(message.body), str(html)


def the_one(prefix: str, user: User) -> tuple[str, str]:
    found = [m for m in feedback_mail(prefix) if m.to == [user.email]]
    assert len(found) == 1, [(m.subject, m.to) for m in mail.outbox]
    return texts(found[0])


def run_the_job() -> None:
    tasks.feedback_jobs_due.delay()


def set_closing(feedback_round: FeedbackRound, closes_at: datetime.datetime) -> None:
    with scopes_disabled():
        FeedbackRound.objects.filter(pk=feedback_round.pk).update(
            opens_at=timezone.now() - 10 * DAY, closes_at=closes_at
        )
        feedback_round.refresh_from_db()


def answer(
    c: Consultation, user: User, reference: str, *, submit: bool, comment: str = "Clearer, please."
) -> Answer:
    with scope(organisation=c.round.organisation):
        return services.answer_save(
            round=c.round,
            criterion=c.criteria[reference],
            user=user,
            data={"relevance": 4, "comment": comment},
            expected_version=0,
            submit=submit,
        )


def round_link(feedback_round: FeedbackRound) -> str:
    return f"{SITE}/{feedback_round.organisation.slug}/feedback/rounds/{feedback_round.pk}/"


# --- The round opens --------------------------------------------------------------------------


def test_opening_a_round_emails_each_seated_participant_once_in_their_own_zone(
    people: Consultation, secretariat: User
) -> None:
    c = people
    # 17:00 UTC a year ahead: 14:00 in São Paulo (no summer time since 2019), 02:00 the next
    # day in Tokyo.
    closes = (timezone.now() + 365 * DAY).replace(hour=17, minute=0, second=0, microsecond=0)
    sao_paulo = closes.astimezone(zoneinfo.ZoneInfo("America/Sao_Paulo"))
    tokyo = closes.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    scheduled = make_round(
        group=c.group,
        document=c.document,
        criteria=[c.criteria["5.3"], c.criteria["5.9"]],
        staff=secretariat,
        title="Second consultation",
        opens_at=timezone.now() + DAY,
        closes_at=closes,
        instructions="Read the guidance first.\nThen answer.",
    )
    with scope(organisation=scheduled.organisation):
        services.round_open(round=scheduled, acting_user=secretariat)

    opened = feedback_mail("Feedback round open: Second consultation")
    assert to(opened) == sorted([c.participant.email, c.second.email])  # not the outsider
    text, html = the_one("Feedback round open: Second consultation", c.participant)
    for part in (text, html):
        assert (
            f"{sao_paulo:%A} {sao_paulo.day} {sao_paulo:%B %Y}, 14:00 (America/Sao_Paulo)" in part
        )
        assert "2 criteria" in part
        assert c.document.version_label in part
        assert round_link(scheduled) in part
    assert "Read the guidance first.\nThen answer." in text
    assert "Read the guidance first.<br>Then answer." in html
    text, _html = the_one("Feedback round open: Second consultation", c.second)
    assert f"{tokyo:%A} {tokyo.day} {tokyo:%B %Y}, 02:00 (Asia/Tokyo)" in text

    run_the_job()  # the beat finds the round opened just now: nothing twice
    run_the_job()
    assert len(feedback_mail("Feedback round open: Second consultation")) == 2


def test_the_beat_announces_a_round_that_opened_by_the_clock_once_and_per_tenant(
    people: Consultation, secretariat: User, other_org: Organisation, other_secretariat: User
) -> None:
    c = people
    with scopes_disabled():
        elsewhere = WorkingGroupFactory.create(organisation=other_org, name="Water")
        stranger = seat_person(elsewhere, other_secretariat).holder
        document = DraftDocumentFactory.create(organisation=other_org)
        criterion = CriterionFactory.create(document=document, reference="1.1")
    make_round(  # the other tenant's round, open since an hour ago
        group=elsewhere, document=document, criteria=[criterion], staff=other_secretariat
    )
    make_round(  # opened a week ago: out of the announcement window
        group=c.group,
        document=c.document,
        criteria=[c.criteria["5.10"]],
        staff=secretariat,
        title="Opened last week",
        opens_at=timezone.now() - 7 * DAY,
    )
    mail.outbox.clear()

    with scope(organisation=c.round.organisation):
        due = jobs_due(organisation=c.round.organisation, now=timezone.now())
    assert {item.object_id for item in due} == {c.round.pk}  # not the other tenant's, not old
    run_the_job()
    run_the_job()
    opened = feedback_mail("Feedback round open")
    assert sorted((m.to[0], str(m.subject)) for m in opened) == sorted(
        [
            (c.participant.email, "Feedback round open: First consultation (Circularity)"),
            (c.second.email, "Feedback round open: First consultation (Circularity)"),
            (stranger.email, "Feedback round open: First consultation (Water)"),
        ]
    )


# --- Reminders --------------------------------------------------------------------------------


def test_the_one_day_reminder_goes_once_to_those_with_criteria_left(
    people: Consultation,
) -> None:
    c = people
    for reference in ("5.3", "5.3.1", "5.9"):
        answer(c, c.participant, reference, submit=True)
    answer(c, c.second, "5.3", submit=True)
    answer(c, c.second, "5.9", submit=False)
    closes = timezone.now() + 20 * HOUR
    set_closing(c.round, closes)

    run_the_job()
    run_the_job()  # a second beat, a retry: nothing twice
    reminders = feedback_mail("Feedback round closes")
    assert to(reminders) == [c.second.email]  # who answered everything hears nothing
    text, html = the_one("Feedback round closes within a day", c.second)
    for part in (text, html):
        assert "2 of 3 criteria without a submitted answer, 1 of them with a draft saved" in part
        assert notifications.local_time(closes, "Asia/Tokyo") in part
        assert "(Asia/Tokyo)" in part
        assert round_link(c.round) in part


def test_the_three_day_reminder_comes_in_its_window_and_never_for_a_round_opened_late(
    people: Consultation, secretariat: User
) -> None:
    c = people
    set_closing(c.round, timezone.now() + 2 * DAY + 20 * HOUR)
    make_round(  # opened less than three days before closing
        group=c.group,
        document=c.document,
        criteria=[c.criteria["5.10"]],
        staff=secretariat,
        title="Opened late",
        opens_at=timezone.now() - HOUR,
        closes_at=timezone.now() + 2 * DAY + 20 * HOUR,
    )
    mail.outbox.clear()
    run_the_job()
    reminders = feedback_mail("Feedback round closes in three days")
    assert to(reminders) == sorted([c.participant.email, c.second.email])
    assert all("First consultation" in str(m.subject) for m in reminders)


def test_an_extended_round_reminds_again_for_its_new_closing_time(
    people: Consultation, secretariat: User
) -> None:
    c = people
    set_closing(c.round, timezone.now() + 20 * HOUR)
    run_the_job()
    first_text, _html = the_one("Feedback round closes within a day", c.participant)

    new_closing = timezone.now() + 22 * HOUR
    with scope(organisation=c.round.organisation):
        services.round_extend(round=c.round, closes_at=new_closing, acting_user=secretariat)
    run_the_job()
    run_the_job()
    mine = [m for m in feedback_mail("Feedback round closes") if m.to == [c.participant.email]]
    assert len(mine) == 2
    second_text, _html = texts(mine[1])
    assert notifications.local_time(new_closing, "America/Sao_Paulo") in second_text
    assert notifications.local_time(new_closing, "America/Sao_Paulo") not in first_text


def test_no_reminder_for_a_round_closed_early_or_after_it_closed(
    people: Consultation, secretariat: User
) -> None:
    c = people
    set_closing(c.round, timezone.now() + 20 * HOUR)
    with scope(organisation=c.round.organisation):
        services.round_close(round=c.round, acting_user=secretariat)
    run_the_job()
    # A reminder job queued before the round closed, running after: nothing either.
    notifications.send(
        organisation=c.round.organisation, kind="feedback_reminder_1d", object_id=c.round.pk
    )
    assert feedback_mail() == []

    set_closing(c.round, timezone.now() - HOUR)
    with scopes_disabled():
        FeedbackRound.objects.filter(pk=c.round.pk).update(closed_early_at=None)
    run_the_job()
    notifications.send(
        organisation=c.round.organisation, kind="feedback_reminder_1d", object_id=c.round.pk
    )
    assert feedback_mail() == []


# --- Dispositions published -------------------------------------------------------------------


def test_each_author_hears_once_per_published_batch(
    people: Consultation, secretariat: User
) -> None:
    c = people
    mine = [answer(c, c.participant, ref, submit=True) for ref in ("5.3", "5.9")]
    theirs = answer(c, c.second, "5.3", submit=True)
    later = answer(c, c.second, "5.9", submit=True)
    org = c.round.organisation
    with scope(organisation=org):
        services.round_close(round=c.round, acting_user=secretariat)
        services.disposition_set(
            answers=[*mine, theirs], status="noted", response="Thank you.", acting_user=secretariat
        )
        services.dispositions_publish(round=c.round, acting_user=secretariat)
    published = feedback_mail("Responses to your feedback")
    assert to(published) == sorted([c.participant.email, c.second.email])
    text, html = the_one("Responses to your feedback", c.participant)
    for part in (text, html):
        assert "2 of your comments" in part
        assert round_link(c.round) in part
    assert "1 of your comment " in the_one("Responses to your feedback", c.second)[0]

    with scope(organisation=org):
        services.disposition_set(
            answers=[later], status="accepted", response="Done.", acting_user=secretariat
        )
        services.dispositions_publish(round=c.round, acting_user=secretariat)
        # The job again (a retry): each batch once.
        notifications.send(
            organisation=org, kind="feedback_dispositions_published", object_id=c.round.pk
        )
    published = feedback_mail("Responses to your feedback")
    assert to(published) == sorted([c.participant.email, c.second.email, c.second.email])


# --- Escaping ---------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def assert_inert(message: EmailMessage) -> None:
    text, html = texts(message)
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag not in {"script", "img", "iframe", "object"}, tag
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            assert not (value or "").strip().lower().startswith("javascript:"), (tag, value)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # The plain-text part is text/plain: it shows what staff typed, as typed, and runs nothing.
    assert message.content_subtype == "plain"
    assert "<script>alert(1)</script>" in text


def test_script_and_markup_in_every_text_come_out_inert_in_every_feedback_email(
    people: Consultation, secretariat: User
) -> None:
    c = people
    with scopes_disabled():
        c.group.name = f"Circularity {HOSTILE}"
        c.group.save()
        c.document.version_label = f"Draft {HOSTILE}"
        c.document.save()
        Criterion.objects.filter(document=c.document).update(text=HOSTILE, title=HOSTILE)
        FeedbackRound.objects.filter(pk=c.round.pk).update(
            title=f"Round {HOSTILE}", instructions=f"Instructions {HOSTILE}"
        )
    set_closing(c.round, timezone.now() + 20 * HOUR)
    c.round.refresh_from_db()
    given = answer(c, c.participant, "5.3", submit=True, comment=HOSTILE)
    org = c.round.organisation

    notifications.send(organisation=org, kind="feedback_round_open", object_id=c.round.pk)
    run_the_job()  # the one-day reminder
    set_closing(c.round, timezone.now() + 2 * DAY + 20 * HOUR)
    run_the_job()  # the three-day reminder
    with scope(organisation=org):
        services.round_close(round=c.round, acting_user=secretariat)
        services.disposition_set(
            answers=[given], status="noted", response=HOSTILE, acting_user=secretariat
        )
        services.dispositions_publish(round=c.round, acting_user=secretariat)

    sent = feedback_mail()
    subjects = {str(m.subject).split(":")[0] for m in sent}
    assert subjects == {
        "Feedback round open",
        "Feedback round closes within a day",
        "Feedback round closes in three days",
        "Responses to your feedback",
    }
    for message in sent:
        assert_inert(message)


class ConnectionCountingBackend(LocmemBackend):
    """Counts the connections opened to the mail server (an SMTP conversation each), opening
    and closing as Django's SMTP backend does: around each sending unless already open."""

    opened: ClassVar[int] = 0
    is_open = False

    def open(self) -> bool:
        if self.is_open:
            return False
        self.is_open = True
        ConnectionCountingBackend.opened += 1
        return True

    def close(self) -> None:
        self.is_open = False

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        opened_here = self.open()
        try:
            return super().send_messages(email_messages)
        finally:
            if opened_here:
                self.close()


def test_one_notification_to_many_people_talks_to_the_mail_server_once(
    people: Consultation, secretariat: User, settings: Any
) -> None:
    c = people
    settings.EMAIL_BACKEND = "tests.feedback.test_notifications.ConnectionCountingBackend"
    ConnectionCountingBackend.opened = 0
    scheduled = make_round(
        group=c.group,
        document=c.document,
        criteria=[c.criteria["5.3"]],
        staff=secretariat,
        title="Third consultation",
        opens_at=timezone.now() + DAY,
        closes_at=timezone.now() + 30 * DAY,
    )
    with scope(organisation=scheduled.organisation):
        services.round_open(round=scheduled, acting_user=secretariat)

    assert len(feedback_mail("Feedback round open: Third consultation")) == 2
    assert ConnectionCountingBackend.opened == 1
