"""The meetings' beat job: what it finds due when, and that running it again sends nothing twice.

``jobs_due`` takes the moment as an argument, so the windows are tried at chosen moments; the job
itself runs through Celery (eagerly here; on a real worker in ``test_jobs_worker.py``).
"""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from asi_wg.models import Organisation, User
from meetings import tasks
from meetings.jobs import Due, jobs_due
from meetings.models import Meeting
from membership.models import SentNotification
from tests.factories import LinkMaterialFactory, MeetingFactory
from tests.meetings.conftest import Circle

NOW = datetime.datetime(2030, 6, 12, 9, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)


def meeting_at(circle: Circle, starts_at: datetime.datetime, **kwargs: Any) -> Meeting:
    with scopes_disabled():
        return MeetingFactory.create(
            group=circle.group, phase=circle.phase, starts_at=starts_at, **kwargs
        )


def due_at(org: Organisation, now: datetime.datetime) -> list[Due]:
    with scope(organisation=org):
        return jobs_due(organisation=org, now=now)


@pytest.mark.django_db
def test_reminders_are_due_seven_days_and_one_day_before_and_never_late(
    circle: Circle, org: Organisation
) -> None:
    week = meeting_at(circle, NOW + 7 * DAY - HOUR)
    three_days = meeting_at(circle, NOW + 3 * DAY)  # scheduled late: no "next week" reminder
    tomorrow = meeting_at(circle, NOW + 20 * HOUR)
    started = meeting_at(circle, NOW - HOUR)
    cancelled = meeting_at(circle, NOW + 20 * HOUR, status=Meeting.Status.CANCELLED)
    assert due_at(org, NOW) == sorted(
        [Due("meeting_reminder_7d", week.pk), Due("meeting_reminder_1d", tomorrow.pk)]
    )
    # The edges: due from exactly seven days (and one day) before, not a moment earlier.
    assert Due("meeting_reminder_7d", week.pk) not in due_at(org, week.starts_at - 7 * DAY - HOUR)
    assert Due("meeting_reminder_7d", week.pk) in due_at(org, week.starts_at - 7 * DAY)
    assert Due("meeting_reminder_7d", week.pk) not in due_at(org, week.starts_at - 6 * DAY)
    assert Due("meeting_reminder_1d", three_days.pk) in due_at(org, three_days.starts_at - DAY)
    assert Due("meeting_reminder_1d", three_days.pk) not in due_at(org, three_days.starts_at)
    everything = {item.object_id for item in due_at(org, NOW)}
    assert started.pk not in everything
    assert cancelled.pk not in everything


@pytest.mark.django_db
def test_materials_are_due_once_published_for_a_week_unless_withdrawn(
    circle: Circle, org: Organisation
) -> None:
    with scopes_disabled():
        fresh = LinkMaterialFactory.create(meeting=circle.meeting, publish_at=NOW - HOUR)
        embargoed = LinkMaterialFactory.create(meeting=circle.meeting, publish_at=NOW + HOUR)
        old = LinkMaterialFactory.create(meeting=circle.meeting, publish_at=NOW - 8 * DAY)
        withdrawn = LinkMaterialFactory.create(
            meeting=circle.meeting, publish_at=NOW - HOUR, withdrawn_at=NOW
        )
        cancelled = meeting_at(circle, NOW + 30 * DAY, status=Meeting.Status.CANCELLED)
        of_cancelled = LinkMaterialFactory.create(meeting=cancelled, publish_at=NOW - HOUR)
    materials = [item.object_id for item in due_at(org, NOW) if item.kind == "material_published"]
    assert materials == [fresh.pk]
    assert embargoed.pk in [item.object_id for item in due_at(org, NOW + 2 * HOUR)]
    assert {old.pk, withdrawn.pk, of_cancelled.pk}.isdisjoint(materials)


@pytest.mark.django_db
def test_missing_attendance_is_due_a_day_after_the_end_for_two_weeks(
    circle: Circle, org: Organisation
) -> None:
    # Ends at NOW - 1 day exactly (90 minutes long).
    ended = meeting_at(circle, NOW - DAY - datetime.timedelta(minutes=90))
    recorded = meeting_at(circle, NOW - 2 * DAY, attendance_recorded_at=NOW - DAY)
    cancelled = meeting_at(circle, NOW - 2 * DAY, status=Meeting.Status.CANCELLED)
    missing = Due("attendance_missing", ended.pk)
    assert missing in due_at(org, NOW)
    assert missing not in due_at(org, NOW - datetime.timedelta(minutes=1))
    assert missing in due_at(org, NOW + 13 * DAY - datetime.timedelta(minutes=1))
    assert missing not in due_at(org, NOW + 13 * DAY)
    found = {item.object_id for item in due_at(org, NOW) if item.kind == "attendance_missing"}
    assert found == {ended.pk}
    assert {recorded.pk, cancelled.pk}.isdisjoint(found)


@pytest.mark.django_db
def test_finding_what_is_due_takes_four_queries_however_many_meetings(
    circle: Circle, org: Organisation
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            due_at(org, NOW)
        return len(captured)

    meeting_at(circle, NOW + 20 * HOUR)
    few = queries()
    for hours in range(5):
        meeting_at(circle, NOW + (10 + hours) * HOUR)
        meeting_at(circle, NOW - 2 * DAY - hours * HOUR)
    assert queries() == few == 4


@pytest.mark.django_db(transaction=True)
def test_the_beat_job_run_twice_sends_each_email_once(
    circle: Circle, org: Organisation, secretariat: User, settings: Any
) -> None:
    settings.SITE_URL = "https://wg.example.org"
    now = timezone.now()
    week = meeting_at(circle, now + 7 * DAY - HOUR, title="In a week")
    tomorrow = meeting_at(circle, now + 20 * HOUR, title="Tomorrow")
    ended = meeting_at(circle, now - 2 * DAY, title="Last week")
    with scopes_disabled():
        LinkMaterialFactory.create(meeting=tomorrow, title="Briefing", publish_at=now - HOUR)
    mail.outbox.clear()

    tasks.meeting_jobs_due.delay()
    first = Counter((m.to[0], str(m.subject)) for m in mail.outbox)
    participants = [circle.participant.email, circle.unacknowledged.email]
    assert first == Counter(
        {
            **{(p, "Reminder: In a week (Circularity) next week"): 1 for p in participants},
            **{(p, "Reminder: Tomorrow (Circularity) coming up"): 1 for p in participants},
            # Only the participant who acknowledged the antitrust policy reads materials.
            (circle.participant.email, "New reading for Tomorrow (Circularity)"): 1,
            (secretariat.email, "Attendance not recorded: Last week (Circularity)"): 1,
        }
    )

    tasks.meeting_jobs_due.delay()  # the next beat, a retry, a second beat
    tasks.meeting_jobs_due.delay()
    assert Counter((m.to[0], str(m.subject)) for m in mail.outbox) == first
    with scopes_disabled():
        keys = list(SentNotification.objects.values_list("key", flat=True))
    assert f"meeting_reminder_7d:{week.pk}:{circle.participant.pk}" in keys
    assert f"attendance_missing:{ended.pk}:{secretariat.pk}" in keys
    assert len(keys) == len(set(keys))
