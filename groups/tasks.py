"""Scheduled jobs on groups and phases."""

from __future__ import annotations

import zoneinfo

from celery import shared_task
from django.utils import timezone

from asi_wg.models import Organisation
from asi_wg.tenancy import tenant_task
from groups import services


@shared_task(name="groups.tasks.phase_status_refresh_all", ignore_result=True)
def phase_status_refresh_all() -> None:
    """Beat: queue one refresh per organisation, each in its own scope."""
    for organisation_id in Organisation.objects.values_list("pk", flat=True):
        phase_status_refresh.delay(organisation_id=organisation_id)


@shared_task(name="groups.tasks.phase_status_refresh", ignore_result=True)
@tenant_task
def phase_status_refresh(*, organisation: Organisation) -> int:
    return services.phase_status_refresh(
        organisation=organisation,
        today=timezone.localdate(timezone=zoneinfo.ZoneInfo(organisation.time_zone)),
    )
