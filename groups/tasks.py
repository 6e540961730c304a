"""Scheduled jobs on groups and phases."""

from __future__ import annotations

import zoneinfo

from celery import shared_task
from django.utils import timezone

from asi_wg.models import Organisation
from asi_wg.tenancy import tenant_task
from groups import services


# Late acknowledgement and redelivery after a lost worker: both jobs are safe to run twice.
# Twice only queues the (idempotent) per-organisation refreshes twice.
@shared_task(
    name="groups.tasks.phase_status_refresh_all",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
def phase_status_refresh_all() -> None:
    """Beat: queue one refresh per organisation, each in its own scope."""
    for organisation_id in Organisation.objects.values_list("pk", flat=True):
        phase_status_refresh.delay(organisation_id=organisation_id)


# Twice is harmless: a phase already in the status its dates imply is left alone.
@shared_task(
    name="groups.tasks.phase_status_refresh",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
@tenant_task
def phase_status_refresh(*, organisation: Organisation) -> int:
    return services.phase_status_refresh(
        organisation=organisation,
        today=timezone.localdate(timezone=zoneinfo.ZoneInfo(organisation.time_zone)),
    )
