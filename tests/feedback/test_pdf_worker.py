"""The PDF job on a real Celery worker with Redis and PostgreSQL (the worker, broker and process
helpers of ``tests/meetings/test_jobs_worker.py``): queued twice for one file, it typesets the
file once and the second run does nothing; the file is where the download view finds it."""

from __future__ import annotations

import io
import secrets
from typing import Any

from django.conf import settings
from django.db import connection
from django.test import Client
from django_scopes import scope, scopes_disabled
from pypdf import PdfReader

from asi_wg.models import User
from feedback import services, summary_files
from feedback.models import SummaryFile
from tests.feedback.conftest import Consultation
from tests.helpers.processes import Processes, clean_env, url_with_path, wait_for, wait_for_output
from tests.meetings import test_jobs_worker as meetings_worker
from tests.membership.test_jobs_worker import count_succeeded, enqueue

BUILD = "feedback.tasks.summary_pdf_build"

pytestmark = meetings_worker.pytestmark

broker_url = meetings_worker.broker_url
processes = meetings_worker.processes


def test_the_pdf_job_queued_twice_typesets_the_file_once(
    consultation: Consultation,
    secretariat: User,
    processes: Processes,
    broker_url: str,
    monkeypatch: Any,
) -> None:
    c = consultation
    org = c.group.organisation
    with scope(organisation=org):
        services.answer_save(
            round=c.round,
            criterion=c.criteria["5.3"],
            user=c.participant,
            data={"relevance": 5, "comment": "Built by a real worker."},
            expected_version=0,
            submit=True,
        )
        # Asked for here; queued below by hand, twice, to the worker's broker.
        monkeypatch.setattr(summary_files, "_queue_build", lambda *args: None)
        summary_file = summary_files.summary_file_request(
            organisation=org,
            kind="round",
            object_id=c.round.pk,
            page_size="A4",
            acting_user=secretariat,
        )
    env = clean_env(
        DJANGO_SETTINGS_MODULE="asi_wg.settings",
        DATABASE_URL=url_with_path(meetings_worker.DATABASE_URL, connection.settings_dict["NAME"]),
        REDIS_URL=broker_url,
        PRIVATE_MEDIA_ROOT=str(settings.PRIVATE_MEDIA_ROOT),
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
            f"pdf-{secrets.token_hex(4)}@%h",
            "--without-mingle",
            "--without-gossip",
        ],
        env=env,
    )
    wait_for_output(worker, " ready.", timeout=60)
    enqueue(broker_url, BUILD, {"organisation_id": org.pk, "file_id": summary_file.pk}, times=2)
    wait_for(
        lambda: count_succeeded([worker], BUILD) >= 2 or None,
        what="the two runs of the PDF job",
        timeout=120,
    )

    with scopes_disabled():
        summary_file.refresh_from_db()
    assert summary_file.status == SummaryFile.Status.READY
    assert worker.output().count(f"summary file {summary_file.pk} ready") == 1
    client = Client()
    client.force_login(secretariat)
    response = client.get(
        f"/{org.slug}/committee/summaries/pdf/files/{summary_file.pk}/download.pdf"
    )
    assert response.status_code == 200
    data = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    assert "Built by a real worker." in text
