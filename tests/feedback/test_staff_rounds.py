"""The secretariat's list of rounds: times in the staff member's zone, counts, and the open,
close and extend actions through the services, each refusal a message that changes nothing."""

from __future__ import annotations

import datetime
import html
import zoneinfo

import pytest
from django.test import Client
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from asi_wg.models import User
from feedback import services
from feedback.models import Disposition, FeedbackRound
from tests.feedback.conftest import Consultation, make_round
from tests.feedback.test_staff_triage import answer

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


@pytest.fixture
def staff(secretariat: User) -> User:
    secretariat.time_zone = "America/New_York"
    secretariat.save()
    return secretariat


def _round(pk: int) -> FeedbackRound:
    with scopes_disabled():
        return FeedbackRound.objects.get(pk=pk)


def test_the_list_shows_each_round_in_the_staff_members_zone_with_its_counts(
    consultation: Consultation, staff: User, secretariat_client: Client
) -> None:
    c = consultation
    answer(c.round, "5.3", c, c.participant, comment="One")
    answer(c.round, "5.9", c, c.participant, comment="Two", submit=False)
    second = answer(c.round, "5.3", c, c.second, comment="Three")
    with scope(organisation=c.group.organisation):
        services.disposition_set(answers=[second], status="noted", response="", acting_user=staff)
    page = secretariat_client.get("/alu/staff/feedback/").content.decode()
    closes = c.round.closes_at.astimezone(NEW_YORK).strftime("%a %-d %b %Y, %H:%M")
    assert closes in page
    assert "(America/New_York)" in page
    assert "3 from 2 participants" in page
    assert "2 submitted" in page
    assert "1 written" in page
    assert "0 published" in page
    assert "3 criteria" in page
    assert f"/alu/staff/feedback/rounds/{c.round.pk}/" in page
    assert "/alu/admin/feedback/feedbackround/add/" in page
    assert "/alu/admin/feedback/criterion/import/" in page
    # The staff navigation leads here.
    assert 'href="/alu/staff/feedback/"' in secretariat_client.get("/alu/staff/").content.decode()


def test_close_now_asks_first_then_closes_and_a_second_close_is_refused(
    consultation: Consultation, staff: User, secretariat_client: Client
) -> None:
    url = f"/alu/staff/feedback/rounds/{consultation.round.pk}/close/"
    confirm = secretariat_client.get(url).content.decode()
    assert "Close the round now" in confirm
    assert _round(consultation.round.pk).closed_early_at is None  # asking changed nothing
    done = secretariat_client.post(url, follow=True).content.decode()
    assert "is closed: answers no longer change." in html.unescape(done)
    assert _round(consultation.round.pk).state() == FeedbackRound.State.CLOSED
    again = html.unescape(secretariat_client.post(url, follow=True).content.decode())
    assert "This feedback round is not open. Nothing was changed." in again


def test_open_now_opens_a_scheduled_round_and_refuses_an_open_one(
    consultation: Consultation, staff: User, secretariat_client: Client
) -> None:
    now = timezone.now()
    scheduled = make_round(
        group=consultation.group,
        document=consultation.document,
        criteria=[consultation.criteria["5.9"]],
        staff=staff,
        title="Later",
        opens_at=now + datetime.timedelta(days=3),
        closes_at=now + datetime.timedelta(days=10),
    )
    done = secretariat_client.post(
        f"/alu/staff/feedback/rounds/{scheduled.pk}/open/", follow=True
    ).content.decode()
    assert "“Later” is open" in html.unescape(done)
    assert _round(scheduled.pk).state() == FeedbackRound.State.OPEN
    refused = secretariat_client.post(
        f"/alu/staff/feedback/rounds/{consultation.round.pk}/open/", follow=True
    ).content.decode()
    assert "This round is already open. Nothing was changed." in html.unescape(refused)
    assert (
        secretariat_client.post(f"/alu/staff/feedback/rounds/{scheduled.pk}/delete/").status_code
        == 404
    )


def test_extend_to_a_chosen_time_in_the_staff_members_zone(
    consultation: Consultation, staff: User, secretariat_client: Client
) -> None:
    url = f"/alu/staff/feedback/rounds/{consultation.round.pk}/extend/"
    form = secretariat_client.get(url).content.decode()
    current = consultation.round.closes_at.astimezone(NEW_YORK).strftime("%Y-%m-%dT%H:%M")
    assert f'value="{current}"' in form
    assert "In your time zone, America/New_York." in form
    chosen = (timezone.now() + datetime.timedelta(days=30)).astimezone(NEW_YORK)
    typed = chosen.strftime("%Y-%m-%dT%H:%M")
    done = secretariat_client.post(url, {"closes_at": typed}, follow=True).content.decode()
    assert "now closes on" in done
    closes = _round(consultation.round.pk).closes_at
    assert closes == chosen.replace(second=0, microsecond=0)
    # Earlier than the current closing time, or not a time: refused, nothing changed.
    for value, message in [
        ("2020-01-01T10:00", "Choose a closing time later than both now and the current one."),
        # In New York, the last hour of 9999 is in the year 10000 in UTC: no 500, and no round
        # that closes where no participant's page can show it.
        ("9999-12-31T23:00", "Choose a closing time within three years from now."),
        (
            (timezone.now() + datetime.timedelta(days=3 * 366 + 2)).strftime("%Y-%m-%dT%H:%M"),
            "Choose a closing time within three years from now.",
        ),
        ("next tuesday", "Enter a date and time"),
        ("", "Choose the new closing date and time."),
    ]:
        response = secretariat_client.post(url, {"closes_at": value})
        assert response.status_code == 400, value
        assert message in html.unescape(response.content.decode()), value
        assert _round(consultation.round.pk).closes_at == closes


def test_extend_is_refused_once_dispositions_are_published(
    consultation: Consultation, staff: User, secretariat_client: Client
) -> None:
    c = consultation
    given = answer(c.round, "5.3", c, c.participant, comment="One")
    with scope(organisation=c.group.organisation):
        services.disposition_set(answers=[given], status="noted", response="", acting_user=staff)
        services.round_close(round=c.round, acting_user=staff)
        services.dispositions_publish(round=c.round, acting_user=staff)
    before = _round(c.round.pk).closes_at
    later = (timezone.now() + datetime.timedelta(days=40)).astimezone(NEW_YORK)
    response = secretariat_client.post(
        f"/alu/staff/feedback/rounds/{c.round.pk}/extend/",
        {"closes_at": later.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 400
    assert "dispositions are published" in html.unescape(response.content.decode())
    assert _round(c.round.pk).closes_at == before
    with scopes_disabled():
        assert Disposition.objects.get().published_at is not None
