"""Background jobs on the embedded default: no Redis, no server, and the jobs still run.

This starts the worker with an embedded beat the way ``make run`` does (``celery -A asi_wg worker
-B --pool=solo``) with no ``REDIS_URL``, so that settings choose Celery's filesystem broker, on
the database this test uses (SQLite or PostgreSQL, whichever the suite runs on). It proves that a
scheduled job really fires, and that a job queued by another process (as the web process queues
them) reaches the worker through the filesystem broker.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from django.db import connection

from asi_wg.models import JobHeartbeat
from tests.helpers.processes import (
    Processes,
    clean_env,
    close_celery_app,
    database_url_of,
    run_in_project,
    started_processes,
    wait_for,
    wait_for_output,
)

#: The worker command of `make run`, without its log file: the test reads the output.
EMBEDDED_WORKER = ["celery", "-A", "asi_wg", "worker", "-B", "--pool=solo", "--loglevel=INFO"]

_PRINT_BROKER_SETTINGS = (
    "import json; from django.conf import settings; "
    "print(json.dumps([settings.CELERY_BROKER_URL, "
    "getattr(settings, 'CELERY_BROKER_TRANSPORT_OPTIONS', {})]))"
)


def _test_database_url() -> str:
    """The database this test runs on, as a DATABASE_URL for another process."""
    url = database_url_of(connection.settings_dict, vendor=connection.vendor)
    if url is None:
        pytest.skip(f"no DATABASE_URL form for {connection.vendor}")
    return url


def _broker_settings(env: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """The broker URL and transport options that settings give a process with ``env``."""
    answer = run_in_project(["python", "-c", _PRINT_BROKER_SETTINGS], env=env)
    assert answer.returncode == 0, answer.stderr
    broker_url, options = json.loads(answer.stdout.strip().splitlines()[-1])
    return broker_url, options


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    with started_processes(tmp_path / "logs") as started:
        yield started


@pytest.mark.slow
def test_embedded_worker_runs_scheduled_and_queued_jobs_without_a_server(
    transactional_db: None, processes: Processes, tmp_path: Path
) -> None:
    env = clean_env(
        DJANGO_SETTINGS_MODULE="asi_wg.settings",
        DATABASE_URL=_test_database_url(),
        # A fresh broker folder, as on a machine that has never run the worker.
        CELERY_FILESYSTEM_DIR=str(tmp_path / "celery"),
        CELERY_HEARTBEAT_SECONDS="1",
    )
    assert "REDIS_URL" not in env
    broker_url, transport_options = _broker_settings(env)
    assert broker_url == "filesystem://"

    worker = processes.start(
        "worker", [*EMBEDDED_WORKER, "--schedule", str(tmp_path / "beat-schedule")], env=env
    )
    wait_for_output(worker, " ready.", timeout=60)

    # A scheduled job fired: the embedded beat sent the heartbeat and the worker ran it, twice.
    heartbeat = wait_for(
        lambda: JobHeartbeat.objects.filter(name="scheduler", runs__gte=2).first(),
        what="the embedded beat to schedule the heartbeat twice and the worker to run it",
        timeout=60,
        watch=[worker],
    )
    assert heartbeat.worker

    # A job queued by another process, through the same broker folder, runs in the worker.
    client = Celery("embedded-test", broker=broker_url, set_as_current=False, fixups=[])
    client.conf.broker_transport_options = transport_options
    token = secrets.token_hex(8)
    try:
        client.send_task("asi_wg.tasks.ping", args=[token])
    finally:
        close_celery_app(client)
    # No result backend on the embedded default: the worker logs what the task returned.
    wait_for_output(worker, f"'pong:{token}:", timeout=60)
