"""Jobs of the feedback app: the round announcements and reminders beat sends."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from asi_wg.models import Organisation
from asi_wg.tenancy import tenant_task
from feedback import jobs
from membership.tasks import notification_send

logger = logging.getLogger(__name__)


# Twice only queues the (idempotent) per-organisation runs twice.
@shared_task(
    name="feedback.tasks.feedback_jobs_due",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
def feedback_jobs_due() -> None:
    """Beat, every ten minutes: one run per organisation, each in its own scope."""
    for organisation_id in Organisation.objects.values_list("pk", flat=True):
        feedback_jobs_due_for.delay(organisation_id=organisation_id)


# Twice is harmless: it only reads and queues e-mail jobs, and each e-mail's key is unique per
# kind, round, person (and closing time or publication batch), so a second run sends nothing.
@shared_task(
    name="feedback.tasks.feedback_jobs_due_for",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
@tenant_task
def feedback_jobs_due_for(*, organisation: Organisation) -> int:
    """Queue one e-mail job per round announcement and reminder due now."""
    due = jobs.jobs_due(organisation=organisation, now=timezone.now())
    for item in due:
        notification_send.delay(
            organisation_id=organisation.pk, kind=item.kind, object_id=item.object_id
        )
    if due:
        logger.info("feedback jobs for %s: queued %d e-mail jobs", organisation.slug, len(due))
    return len(due)


# Twice is harmless: the build claims its row under a lock and returns at once for a file that
# is ready or being built by another live run. Not retried: a failure is recorded on the row,
# and the committee member's next request queues it again.
@shared_task(
    name="feedback.tasks.summary_pdf_build",
    ignore_result=True,
    # Long documents take tens of seconds; a round of thousands of comments, a few minutes.
    soft_time_limit=900,
    time_limit=960,
    acks_late=True,
    reject_on_worker_lost=True,
)
@tenant_task
def summary_pdf_build(*, organisation: Organisation, file_id: int) -> str | None:
    """Typeset one committee PDF summary (``feedback.summary_files.summary_file_build``)."""
    from feedback.summary_files import summary_file_build  # loads the summaries' queries

    summary_file = summary_file_build(organisation=organisation, file_id=file_id)
    return summary_file.status if summary_file is not None else None


# Twice is harmless: a version whose PDF exists is left alone (a published version never
# changes, so its PDF is made once). Not retried: the public page says the PDF is not ready,
# and publishing again (or running the task again) makes it.
@shared_task(
    name="feedback.tasks.synopsis_pdf_build",
    ignore_result=True,
    soft_time_limit=900,
    time_limit=960,
    acks_late=True,
    reject_on_worker_lost=True,
)
@tenant_task
def synopsis_pdf_build(*, organisation: Organisation, synopsis_id: int) -> bool:
    """Typeset the PDF of one published synopsis version (``feedback.synopsis``)."""
    from feedback.synopsis import synopsis_pdf_build as build

    return build(organisation=organisation, synopsis_id=synopsis_id)
