"""The demo's committee PDF: the closed round's summary (A4), ready for committee@asi.example.

Typesetting it takes some 25 seconds on a small machine (about 230 comments, 64 pages), so
``load_demo`` builds it only when no ready file matches the round's current data: a second
``load_demo`` finds it and does nothing. Built here, in the loading process, rather than queued:
the demo promises the file is ready when ``load_demo`` returns, with or without a worker.
"""

from __future__ import annotations

import logging

from asi_wg.models import Organisation, User
from feedback import summaries, summary_files
from feedback.models import FeedbackRound, SummaryFile

logger = logging.getLogger(__name__)


def load(organisation: Organisation, committee: User, feedback_round: FeedbackRound) -> SummaryFile:
    fingerprint = summaries.summary_fingerprint(summaries.KIND_ROUND, feedback_round)
    summary_file, _created = SummaryFile.objects.get_or_create(
        organisation=organisation,
        kind=SummaryFile.Kind.ROUND,
        object_id=feedback_round.pk,
        document=feedback_round.document,
        page_size=SummaryFile.PageSize.A4,
        fingerprint=fingerprint,
        defaults={
            "requested_by": committee,
            "title": f"{feedback_round.group.name}: {feedback_round.title}",
        },
    )
    if summary_file.status != SummaryFile.Status.READY or summary_files.needs_build(summary_file):
        logger.info("demo: typesetting the closed round's PDF summary (some seconds)")
        built = summary_files.summary_file_build(organisation=organisation, file_id=summary_file.pk)
        if built is None or built.status != SummaryFile.Status.READY:
            raise RuntimeError(f"The demo's PDF summary failed: {built and built.error}")
        summary_file = built
    return summary_file
