"""Jobs of the membership app: waiting-list promotion, offer expiry, notifications."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from asi_wg.models import Organisation
from asi_wg.tenancy import tenant_task
from groups.models import WorkingGroup
from membership import notifications, services

logger = logging.getLogger(__name__)


# Late acknowledgement, and redelivery when the worker running it is lost, only for jobs that
# are safe to run twice: a job taken off the queue and then lost with its worker would otherwise
# never run. Each says below why running it twice does no harm.


# Twice is harmless: it locks the group and recounts, so a second run finds the seat offered.
@shared_task(
    name="membership.tasks.waitlist_promote",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
@tenant_task
def waitlist_promote(*, organisation: Organisation, group_id: int) -> int:
    group = WorkingGroup.objects.filter(pk=group_id, organisation=organisation).first()
    if group is None:
        logger.info("waitlist_promote: group %s is gone", group_id)
        return 0
    return len(services.waitlist_promote(group=group))


# Twice only queues the (idempotent) per-organisation runs twice.
@shared_task(
    name="membership.tasks.offers_expire_all",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
def offers_expire_all() -> None:
    """Beat: one expiry run per organisation, each in its own scope."""
    for organisation_id in Organisation.objects.values_list("pk", flat=True):
        offers_expire.delay(organisation_id=organisation_id)


# Twice is harmless: an offer already expired is no longer open, so a second run finds nothing.
@shared_task(
    name="membership.tasks.offers_expire",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
@tenant_task
def offers_expire(*, organisation: Organisation) -> int:
    return services.offers_expire(organisation=organisation, now=timezone.now())


# Twice is harmless: each message's unique claim lets it out once (membership.notifications),
# and a claim its lost worker left behind is taken over after its lease.
@shared_task(
    bind=True,
    name="membership.tasks.notification_send",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    # SMTP errors and timeouts are OSErrors; a database outage is worth waiting out too, and so
    # is a mail server slow enough to reach the soft time limit. Backoff up to ten minutes, so a
    # mail server down for an hour still gets the message in the end.
    autoretry_for=(OSError, OperationalError, InterfaceError, SoftTimeLimitExceeded),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=10,
    soft_time_limit=settings.EMAIL_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.EMAIL_TASK_TIME_LIMIT,
)
def notification_send(
    self: Task[Any, Any], *, organisation_id: int, kind: str, object_id: int
) -> bool | None:
    try:
        return _notification_send(organisation_id=organisation_id, kind=kind, object_id=object_id)
    except notifications.ClaimHeld as held:
        # Another run is sending it, or was when its worker died: look again when its claim may
        # have been released or its lease run out.
        raise self.retry(countdown=held.retry_in, exc=held) from held


@tenant_task
def _notification_send(*, organisation: Organisation, kind: str, object_id: int) -> bool:
    return notifications.send(organisation=organisation, kind=kind, object_id=object_id)
