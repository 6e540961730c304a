"""Jobs of the meetings app: the reminders and announcements beat sends."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from asi_wg.models import Organisation
from asi_wg.tenancy import tenant_task
from meetings import jobs
from membership.tasks import notification_send

logger = logging.getLogger(__name__)


# Twice only queues the (idempotent) per-organisation runs twice.
@shared_task(
    name="meetings.tasks.meeting_jobs_due",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
def meeting_jobs_due() -> None:
    """Beat, every ten minutes: one run per organisation, each in its own scope."""
    for organisation_id in Organisation.objects.values_list("pk", flat=True):
        meeting_jobs_due_for.delay(organisation_id=organisation_id)


# Twice is harmless: it only reads and queues e-mail jobs, and each e-mail's key is unique per
# kind, object and person (a SentNotification row), so a second run, a retry or a second beat
# sends nothing twice (see meetings.jobs and membership.notifications).
@shared_task(
    name="meetings.tasks.meeting_jobs_due_for",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
@tenant_task
def meeting_jobs_due_for(*, organisation: Organisation) -> int:
    """Queue one e-mail job per reminder, publication and missing attendance due now."""
    due = jobs.jobs_due(organisation=organisation, now=timezone.now())
    for item in due:
        notification_send.delay(
            organisation_id=organisation.pk, kind=item.kind, object_id=item.object_id
        )
    if due:
        logger.info("meeting jobs for %s: queued %d e-mail jobs", organisation.slug, len(due))
    return len(due)
