"""The waiting-list job on real Celery workers with Redis: one offer and one e-mail, always.

Real ``celery -A asi_wg worker`` processes run on this test's PostgreSQL database and on a Redis
database of their own, and write e-mail to files (``EMAIL_URL=filemail://...``) that the test
counts. Jobs are queued from here through the broker, as the web process queues them. The job
is run twice on one worker, then ten times at once on two workers, and the offer e-mail job is
then run again several times at once: each time there is exactly one offer, one sent-notification
row and one e-mail file.
"""

from __future__ import annotations

import email
import email.policy
import os
import secrets
from collections.abc import Iterator, Mapping
from email.message import EmailMessage
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.db import connection
from django_scopes import scopes_disabled

from asi_wg.models import Organisation
from membership.models import Application, Offer, SentNotification
from tests.factories import ApplicationFactory, UserFactory, WorkingGroupFactory
from tests.helpers.processes import (
    Processes,
    RunningProcess,
    clean_env,
    started_processes,
    url_with_path,
    wait_for,
    wait_for_output,
)

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
#: Redis databases for the workers' broker, one per xdist worker: not the suite's own (CI gives
#: it /13 and flushes /13 and /14), and not those test_deployment.py takes (14, 15, 12 ... 7).
SPARE_REDIS_DATABASES = (6, 5, 4, 3)
SITE = "https://wg.example.org"
PROMOTE = "membership.tasks.waitlist_promote"
NOTIFY = "membership.tasks.notification_send"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (DATABASE_URL.startswith("postgres") and REDIS_URL),
        reason="runs real Celery workers on Redis and PostgreSQL: "
        "set DATABASE_URL=postgres://... and REDIS_URL=redis://...",
    ),
]


@pytest.fixture
def broker_url() -> Iterator[str]:
    """This test's own Redis database, empty before and after: no job left from another run."""
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
def mail_dir(tmp_path: Path) -> Path:
    return tmp_path / "mail"


@pytest.fixture
def waiting(org: Organisation) -> Application:
    """A group with one free seat and one person waiting for it, and no offer yet."""
    group = WorkingGroupFactory.create(
        organisation=org, name="Circularity", slug="circularity", seat_cap=1
    )
    applicant = UserFactory.create(email="waiting@example.org", time_zone="Europe/Zurich")
    return ApplicationFactory.create(
        group=group,
        profile__user=applicant,
        status=Application.Status.WAITING,
    )


def start_workers(
    processes: Processes, count: int, *, broker_url: str, mail_dir: Path
) -> list[RunningProcess]:
    database_url = url_with_path(DATABASE_URL, connection.settings_dict["NAME"])
    env = clean_env(
        DJANGO_SETTINGS_MODULE="asi_wg.settings",
        DATABASE_URL=database_url,
        REDIS_URL=broker_url,
        # django-environ's file backend: four slashes for an absolute path.
        EMAIL_URL=f"filemail:///{mail_dir}",
        SITE_URL=SITE,
    )
    token = secrets.token_hex(4)
    workers = [
        processes.start(
            f"worker{number}",
            [
                "celery",
                "-A",
                "asi_wg",
                "worker",
                "--loglevel=INFO",
                "--concurrency=1",
                "-n",
                f"w{number}-{token}@%h",
                # Nothing to synchronise between these workers: start faster.
                "--without-mingle",
                "--without-gossip",
            ],
            env=env,
        )
        for number in range(1, count + 1)
    ]
    for worker in workers:
        wait_for_output(worker, " ready.", timeout=60, watch=workers)
    return workers


def enqueue(broker_url: str, name: str, kwargs: Mapping[str, object], times: int) -> None:
    """Queue a job ``times`` times from this process, as the web process queues jobs.

    On a connection of its own: kombu's connection and producer pools are process-wide, keyed
    by broker URL, so closing a client app's pool would close it for the next client too.
    """
    client = Celery("jobs-worker-test", broker=broker_url, set_as_current=False, fixups=[])
    try:
        with client.connection_for_write() as conn:
            producer = client.amqp.Producer(conn)
            for _ in range(times):
                client.send_task(name, kwargs=dict(kwargs), producer=producer)
    finally:
        client.close()


def count_succeeded(workers: list[RunningProcess], name: str) -> int:
    total = 0
    for worker in workers:
        for line in worker.output().splitlines():
            if f"Task {name}[" in line and "] succeeded in " in line:
                total += 1
    return total


def wait_until_drained(
    workers: list[RunningProcess], broker_url: str, *, promotions: int, notifications: int
) -> None:
    """Until the workers report every job done and the broker holds no message, waiting or
    taken: the queue is empty and nothing is unacknowledged (tasks acknowledge late)."""
    client = redis.Redis.from_url(broker_url)
    calm: list[bool] = []

    def drained() -> bool:
        done = (
            count_succeeded(workers, PROMOTE) >= promotions
            and count_succeeded(workers, NOTIFY) >= notifications
            and client.llen("celery") == 0
            and client.hlen("unacked") == 0
        )
        # Twice in a row: a message moves from the queue to "unacked" in two steps.
        calm.append(done)
        return calm[-2:] == [True, True]

    try:
        wait_for(drained, what="the workers to run every job", timeout=40, watch=workers)
    finally:
        client.close()


def written_emails(mail_dir: Path) -> tuple[list[Path], list[EmailMessage]]:
    """The files the file backend wrote (one per sending) and the messages in them."""
    files = sorted(mail_dir.glob("*.log")) if mail_dir.exists() else []
    separator = b"\n" + b"-" * 79 + b"\n"
    messages = []
    for path in files:
        for chunk in path.read_bytes().split(separator):
            if chunk.strip():
                message = email.message_from_bytes(chunk, policy=email.policy.default)
                assert isinstance(message, EmailMessage)
                messages.append(message)
    return files, messages


def assert_one_offer_and_one_email(waiting: Application, mail_dir: Path) -> Offer:
    with scopes_disabled():
        offer = Offer.objects.get()  # exactly one
        assert offer.application_id == waiting.pk
        assert offer.status == Offer.Status.OPEN
        assert list(SentNotification.objects.values_list("key", flat=True)) == [f"offer:{offer.pk}"]
    files, messages = written_emails(mail_dir)
    assert len(files) == 1, files
    assert len(messages) == 1
    (message,) = messages
    assert message["To"] == "waiting@example.org"
    assert message["Subject"] == "A seat in Circularity is offered to you"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "(Europe/Zurich)" in text
    assert f"{SITE}/{waiting.group.organisation.slug}/me/" in text
    assert message.get_body(preferencelist=("html",)) is not None
    return offer


def test_promotion_run_twice_on_a_worker_sends_one_offer_and_one_email(
    waiting: Application, processes: Processes, broker_url: str, mail_dir: Path
) -> None:
    workers = start_workers(processes, 1, broker_url=broker_url, mail_dir=mail_dir)
    kwargs = {"organisation_id": waiting.group.organisation_id, "group_id": waiting.group_id}
    enqueue(broker_url, PROMOTE, kwargs, times=2)
    wait_until_drained(workers, broker_url, promotions=2, notifications=1)
    assert count_succeeded(workers, NOTIFY) == 1
    assert_one_offer_and_one_email(waiting, mail_dir)


def test_promotion_on_two_workers_at_once_sends_one_offer_and_one_email(
    waiting: Application, processes: Processes, broker_url: str, mail_dir: Path
) -> None:
    workers = start_workers(processes, 2, broker_url=broker_url, mail_dir=mail_dir)
    organisation_id = waiting.group.organisation_id
    enqueue(
        broker_url,
        PROMOTE,
        {"organisation_id": organisation_id, "group_id": waiting.group_id},
        times=10,
    )
    wait_until_drained(workers, broker_url, promotions=10, notifications=1)
    for worker in workers:
        # Both workers really took part.
        assert count_succeeded([worker], PROMOTE) >= 1, worker.describe()
    assert count_succeeded(workers, NOTIFY) == 1
    offer = assert_one_offer_and_one_email(waiting, mail_dir)

    # The offer's e-mail job itself, run again six times at once on both workers: no second
    # e-mail (each run finds the key taken, or waits for the run holding it and then does).
    enqueue(
        broker_url,
        NOTIFY,
        {"organisation_id": organisation_id, "kind": "offer", "object_id": offer.pk},
        times=6,
    )
    wait_until_drained(workers, broker_url, promotions=10, notifications=7)
    assert_one_offer_and_one_email(waiting, mail_dir)
