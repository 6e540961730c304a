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
