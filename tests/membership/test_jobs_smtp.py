"""A mail server that accepts the connection and never answers cannot hang the e-mail job.

A real ``celery -A asi_wg worker`` (prefork, the production pool, which enforces time limits)
runs on this test's database and a filesystem broker of its own, and sends over SMTP to a server
in this process (``tests.helpers.smtp``). While the server is silent the job gives up within its
limit (the socket timeout, ``EMAIL_TIMEOUT``, or the job's soft time limit when the timeout is
longer), releases its claim and retries; once the server answers, the retry delivers the
message, and the server has received it exactly once, however often the job runs again.
"""

from __future__ import annotations

import email
import email.policy
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from django.db import connection
from django_scopes import scopes_disabled

from membership.models import Application, SentNotification
from tests.factories import ApplicationFactory, UserFactory, WorkingGroupFactory
from tests.helpers.processes import (
    Processes,
    RunningProcess,
    clean_env,
    database_url_of,
    started_processes,
    wait_for,
    wait_for_output,
)
from tests.helpers.smtp import SmtpServer

NOTIFY = "membership.tasks.notification_send"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    with started_processes(tmp_path / "logs") as started:
        yield started


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def application(org: Any) -> Application:
    group = WorkingGroupFactory.create(organisation=org, name="Circularity", slug="circularity")
    applicant = UserFactory.create(email="patient@example.org")
    return ApplicationFactory.create(group=group, profile__user=applicant)


def transport_options(folder: Path) -> dict[str, Any]:
    """The filesystem broker's folders, as settings derive them from CELERY_FILESYSTEM_DIR."""
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
    }


def enqueue(folder: Path, kwargs: dict[str, Any]) -> None:
    """Queue the e-mail job as the web process does, on a connection of its own (kombu's pools
    are process-wide, keyed by broker URL: closing one would close it for the next call)."""
    client = Celery("smtp-hang-test", broker="filesystem://", set_as_current=False, fixups=[])
    client.conf.broker_transport_options = transport_options(folder)
    try:
        with client.connection_for_write() as conn:
            client.send_task(NOTIFY, kwargs=kwargs, producer=client.amqp.Producer(conn))
    finally:
        client.close()


def count(worker: RunningProcess, outcome: str) -> int:
    """Lines saying the e-mail job ``succeeded`` or was queued for a ``retry``."""
    marker = "] succeeded in " if outcome == "succeeded" else "] retry: Retry in "
    return sum(
        1 for line in worker.output().splitlines() if f"Task {NOTIFY}[" in line and marker in line
    )


def sent_rows() -> list[tuple[str, str]]:
    with scopes_disabled():
        return list(SentNotification.objects.values_list("key", "state"))


@pytest.mark.parametrize(
    ("email_timeout", "soft_limit", "gives_up_with"),
    [
        # The socket timeout fires first: no greeting within EMAIL_TIMEOUT.
        (2, 6, "timed out"),
        # A longer socket timeout: the job's soft time limit stops it instead.
        (30, 2, "SoftTimeLimitExceeded"),
    ],
    ids=["email-timeout", "soft-time-limit"],
)
def test_a_silent_mail_server_makes_the_job_give_up_and_a_retry_sends_once(
    application: Application,
    smtp: SmtpServer,
    processes: Processes,
    tmp_path: Path,
    email_timeout: int,
    soft_limit: int,
    gives_up_with: str,
) -> None:
    database_url = database_url_of(connection.settings_dict, vendor=connection.vendor)
    if database_url is None:
        pytest.skip(f"no DATABASE_URL form for {connection.vendor}")
    broker = tmp_path / "celery"
    hard_limit = soft_limit + 5
    env = clean_env(
        DJANGO_SETTINGS_MODULE="asi_wg.settings",
        DATABASE_URL=database_url,
        CELERY_FILESYSTEM_DIR=str(broker),
        EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
        EMAIL_TIMEOUT=str(email_timeout),
        EMAIL_TASK_SOFT_TIME_LIMIT=str(soft_limit),
        EMAIL_TASK_TIME_LIMIT=str(hard_limit),
        SITE_URL="https://wg.example.org",
    )
    worker = processes.start(
        "worker",
        [
            "celery",
            "-A",
            "asi_wg",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--loglevel=INFO",
            "-n",
            f"smtp-{secrets.token_hex(4)}@%h",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ],
        env=env,
    )
    wait_for_output(worker, " ready.", timeout=60)
    job = {
        "organisation_id": application.group.organisation_id,
        "kind": "application_received",
        "object_id": application.pk,
    }
    enqueue(broker, job)

    # The silent server: the job connects, waits, gives up within its limit and will retry.
    wait_for(lambda: bool(smtp.connected_at), what="the job to connect", timeout=30, watch=[worker])
    connected = smtp.connected_at[0]
    wait_for(
        lambda: count(worker, "retry") >= 1,
        what="the job to give up and retry",
        timeout=min(email_timeout, soft_limit) + 10,
        watch=[worker],
    )
    gave_up_after = time.monotonic() - connected
    assert gave_up_after < min(email_timeout, soft_limit) + 3, gave_up_after
    output = worker.output()
    assert gives_up_with in output
    assert "claim released for a retry" in output
    assert "Hard time limit" not in output  # the worker process was never killed
    assert smtp.received() == []
    assert ("application_received", "sent") not in [
        (key.split(":")[0], state) for key, state in sent_rows()
    ]
    assert count(worker, "succeeded") == 0

    # The server answers again: a retry delivers the message, once.
    smtp.answering = True
    wait_for(
        lambda: count(worker, "succeeded") == 1,
        what="a retry to send the e-mail",
        timeout=40,
        watch=[worker],
    )
    (received,) = smtp.received()
    message = email.message_from_bytes(received, policy=email.policy.default)
    assert message["To"] == "patient@example.org"
    assert message["Subject"] == "Your application to Circularity has been received"
    ((key, state),) = sent_rows()
    assert key.startswith(f"application_received:{application.pk}:")
    assert state == SentNotification.State.SENT

    # The job again, as a redelivery or a second queueing would run it: nothing more is sent.
    enqueue(broker, job)
    wait_for(
        lambda: count(worker, "succeeded") == 2,
        what="the second run to finish",
        timeout=30,
        watch=[worker],
    )
    assert len(smtp.received()) == 1
    assert sent_rows() == [(key, SentNotification.State.SENT)]
