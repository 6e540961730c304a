"""Jobs of the membership app: waiting-list promotion, offer expiry, notifications."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from asi_wg.models import Organisation
from asi_wg.tenancy import tenant_task
from groups.models import WorkingGroup
from membership import notifications, services

logger = logging.getLogger(__name__)


@shared_task(name="membership.tasks.waitlist_promote", ignore_result=True)
@tenant_task
def waitlist_promote(*, organisation: Organisation, group_id: int) -> int:
    group = WorkingGroup.objects.filter(pk=group_id, organisation=organisation).first()
    if group is None:
        logger.info("waitlist_promote: group %s is gone", group_id)
        return 0
    return len(services.waitlist_promote(group=group))


@shared_task(name="membership.tasks.offers_expire_all", ignore_result=True)
def offers_expire_all() -> None:
    """Beat: one expiry run per organisation, each in its own scope."""
    for organisation_id in Organisation.objects.values_list("pk", flat=True):
        offers_expire.delay(organisation_id=organisation_id)


@shared_task(name="membership.tasks.offers_expire", ignore_result=True)
@tenant_task
def offers_expire(*, organisation: Organisation) -> int:
    return services.offers_expire(organisation=organisation, now=timezone.now())


@shared_task(
    name="membership.tasks.notification_send",
    ignore_result=True,
    # SMTP errors are OSErrors; a database outage is worth waiting out too. Backoff up to ten
    # minutes, so a mail server down for an hour still gets the message in the end.
    autoretry_for=(OSError, OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=10,
)
@tenant_task
def notification_send(*, organisation: Organisation, kind: str, object_id: int) -> bool:
    return notifications.send(organisation=organisation, kind=kind, object_id=object_id)
