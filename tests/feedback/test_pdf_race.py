"""Many requests for the same PDF summary at once, on PostgreSQL: one row, one render.

Each thread asks for the summary (and runs the build it queued, as a worker would); the
document's row lock and the unique constraint make them agree on one ``SummaryFile``, and the
build's claim (pending → running under a row lock) lets only one of them typeset it."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import TestCase
from django_scopes import scope, scopes_disabled

from asi_wg.models import User
from feedback import pdf, summary_files
from feedback.models import SummaryFile
from tests.feedback.conftest import Consultation
from tests.membership.test_race import race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL"
    ),
]

THREADS = 6


def test_racing_requests_make_one_file_and_one_render(
    consultation: Consultation, secretariat: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    renders: list[int] = []
    lock = threading.Lock()
    original = pdf.render_html

    def counting(html: str, **kwargs: Any) -> pdf.Rendered:
        with lock:
            renders.append(threading.get_ident())
        return original(html, **kwargs)

    monkeypatch.setattr(pdf, "render_html", counting)
    org = consultation.group.organisation

    def ask() -> object:
        with TestCase.captureOnCommitCallbacks(execute=True):
            summary_file = summary_files.summary_file_request(
                organisation=org,
                kind="round",
                object_id=consultation.round.pk,
                page_size="A4",
                acting_user=secretariat,
            )
        return summary_file.pk

    outcomes = race(org, [ask for _ in range(THREADS)])

    with scopes_disabled():
        files = list(SummaryFile.objects.all())
    assert len(files) == 1
    assert outcomes == {f"returned {files[0].pk}": THREADS}
    assert len(renders) == 1
    assert files[0].status == SummaryFile.Status.READY
    with scope(organisation=org):
        assert summary_files.summary_file_build(organisation=org, file_id=files[0].pk) is not None
    assert len(renders) == 1
