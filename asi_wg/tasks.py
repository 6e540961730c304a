"""Platform jobs: the scheduler heartbeat and a ping for deployment checks."""

from __future__ import annotations

import socket

from celery import shared_task
from django.db.models import F
from django.utils import timezone

from asi_wg.models import JobHeartbeat


# Acknowledged on receipt (the default): not idempotent, since it counts its runs, and a lost
# beat is made good by the next one a minute later.
@shared_task(name="asi_wg.tasks.scheduler_heartbeat", ignore_result=True)
def scheduler_heartbeat() -> None:
    """Record that beat fired and a worker ran it; /healthz reports how long ago."""
    now = timezone.now()
    updated = JobHeartbeat.objects.filter(name="scheduler").update(
        last_run_at=now, runs=F("runs") + 1, worker=socket.gethostname()
    )
    if not updated:
        JobHeartbeat.objects.get_or_create(
            name="scheduler",
            defaults={"last_run_at": now, "runs": 1, "worker": socket.gethostname()},
        )


# Acknowledged on receipt: a probe whose caller has given up by the time a redelivery ran.
@shared_task(name="asi_wg.tasks.ping")
def ping(token: str) -> str:
    """Answer with the token: proves a task sent through the broker reached a worker."""
    return f"pong:{token}:{socket.gethostname()}"
