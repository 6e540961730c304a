"""The meetings' beat job on a real Celery worker with Redis: run twice, with a mail server that
refuses the first message, every e-mail arrives exactly once.

A real ``celery -A asi_wg worker`` runs on this test's PostgreSQL database, with a Redis database
of its own as broker, and sends over SMTP to a server in this process (``tests.helpers.smtp``)
that answers the first message with a temporary error. The job is queued twice through the
broker, as beat queues it: the refused e-mail's job retries and delivers it, and the second run
sends nothing that the first sent.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import os
import secrets
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.utils import timezone
from django_scopes import scopes_disabled

from asi_wg.models import User
from membership.models import SentNotification
from tests.factories import LinkMaterialFactory, MeetingFactory
from tests.helpers.processes import (
    Processes,
    RunningProcess,
    clean_env,
    started_processes,
    url_with_path,
    wait_for,
    wait_for_output,
)
from tests.helpers.smtp import SmtpServer
from tests.meetings.conftest import Circle
from tests.membership.test_jobs_worker import SPARE_REDIS_DATABASES, count_succeeded, enqueue

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
JOBS = "meetings.tasks.meeting_jobs_due"
PER_ORGANISATION = "meetings.tasks.meeting_jobs_due_for"
NOTIFY = "membership.tasks.notification_send"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (DATABASE_URL.startswith("postgres") and REDIS_URL),
        reason="runs a real Celery worker on Redis and PostgreSQL: "
        "set DATABASE_URL=postgres://... and REDIS_URL=redis://...",
    ),
]


@pytest.fixture
def broker_url() -> Iterator[str]:
    """A Redis database of this test's own (the scheme of tests/membership/test_jobs_worker.py),
    empty before and after."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    index = int(worker) if worker.isdigit() else 0
    url = url_with_path(REDIS_URL, str(SPARE_REDIS_DATABASES[index % len(SPARE_REDIS_DATABASES)]))
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
        yield url
        client.flushdb()
    finally:
        client.close()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    with started_processes(tmp_path / "logs") as started:
        yield started


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        server.answering = True
        yield server


def start_worker(processes: Processes, *, broker_url: str, smtp: SmtpServer) -> RunningProcess:
    env = clean_env(
        DJANGO_SETTINGS_MODULE="asi_wg.settings",
        DATABASE_URL=url_with_path(DATABASE_URL, connection.settings_dict["NAME"]),
        REDIS_URL=broker_url,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
        EMAIL_TIMEOUT="5",
        SITE_URL="https://wg.example.org",
    )
    worker = processes.start(
        "worker",
        [
            "celery",
            "-A",
            "asi_wg",
            "worker",
            "--loglevel=INFO",
            "--concurrency=1",
            "-n",
            f"meetings-{secrets.token_hex(4)}@%h",
            "--without-mingle",
            "--without-gossip",
        ],
        env=env,
    )
    wait_for_output(worker, " ready.", timeout=60)
    return worker


def received(smtp: SmtpServer) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for raw in smtp.received():
        message = email.message_from_bytes(raw, policy=email.policy.default)
        found[(str(message["To"]), str(message["Subject"]))] += 1
    return found


def test_the_reminder_job_twice_and_a_refused_message_still_send_each_email_once(
    circle: Circle,
    secretariat: User,
    processes: Processes,
    broker_url: str,
    smtp: SmtpServer,
) -> None:
    now = timezone.now()
    hour = datetime.timedelta(hours=1)
    with scopes_disabled():
        MeetingFactory.create(
            group=circle.group, phase=circle.phase, title="Tomorrow", starts_at=now + 20 * hour
        )
        MeetingFactory.create(
            group=circle.group,
            phase=circle.phase,
            title="Next week",
            starts_at=now + 7 * 24 * hour - hour,
        )
        ended = MeetingFactory.create(
            group=circle.group, phase=circle.phase, title="Done", starts_at=now - 48 * hour
        )
        LinkMaterialFactory.create(meeting=ended, title="Slides", publish_at=now - hour)
    participants = [circle.participant.email, circle.unacknowledged.email]
    expected = Counter(
        {
            **{(p, "Reminder: Tomorrow (Circularity) coming up"): 1 for p in participants},
            **{(p, "Reminder: Next week (Circularity) next week"): 1 for p in participants},
            (circle.participant.email, "New reading for Done (Circularity)"): 1,
            (secretariat.email, "Attendance not recorded: Done (Circularity)"): 1,
        }
    )
    smtp.refuse = 1  # the first message is turned away: its job must retry

    worker = start_worker(processes, broker_url=broker_url, smtp=smtp)
    enqueue(broker_url, JOBS, {}, times=2)

    client = redis.Redis.from_url(broker_url)
    calm: list[bool] = []

    def drained() -> bool:
        # Two runs, each queueing one e-mail job per kind (four kinds due), every one done, and
        # nothing left in the queue or taken (jobs acknowledge late; a retry waits in unacked).
        done = (
            count_succeeded([worker], PER_ORGANISATION) >= 2
            and count_succeeded([worker], NOTIFY) >= 8
            and client.llen("celery") == 0
            and client.hlen("unacked") == 0
        )
        calm.append(done)
        return calm[-2:] == [True, True]

    try:
        wait_for(drained, what="the worker to run every job", timeout=25, watch=[worker])
    finally:
        client.close()

    assert smtp.refused == 1
    output = worker.output()
    assert f"Task {NOTIFY}[" in output
    assert "] retry: Retry in " in output  # the refused message's job retried...
    assert received(smtp) == expected  # ...and every e-mail arrived exactly once
    assert count_succeeded([worker], NOTIFY) == 8
    with scopes_disabled():
        rows = [
            (key.split(":")[0], state)
            for key, state in SentNotification.objects.values_list("key", "state")
            if not key.startswith("seated:")  # the circle's own seating e-mails
        ]
    assert Counter(rows) == {
        ("meeting_reminder_1d", SentNotification.State.SENT): 2,
        ("meeting_reminder_7d", SentNotification.State.SENT): 2,
        ("material_published", SentNotification.State.SENT): 1,
        ("attendance_missing", SentNotification.State.SENT): 1,
    }
