"""/healthz: the state of each dependency, for load balancers and the compose health checks.

Anyone may call it, so the answer says only whether each dependency is ``ok`` or ``down`` (and
how long ago the scheduler last ran): never an exception's text, a host, a port, a user name or a
path, which would tell a stranger where the database lives and how it is reached. Why something
is down goes to the log; a signed-in platform superuser also sees it in the answer.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from asi_wg.celery import app as celery_app

logger = logging.getLogger(__name__)

OK = "ok"
DOWN = "down"


class Check:
    """One dependency's probe: its state for everyone, and details for the log and superusers.

    What the probe returns is a detail, unless ``public`` says it tells nothing of where.
    """

    def __init__(self, name: str, probe: Callable[[], dict[str, Any]], *, public: bool = False):
        self.name = name
        self.public: dict[str, Any] = {}
        self.details: dict[str, Any] = {}
        started = time.monotonic()
        try:
            facts = probe()
            self.public["state"] = OK
            (self.public if public else self.details).update(facts)
        except Exception as error:  # noqa: BLE001 - any failure is a state to report, not a 500
            self.public["state"] = DOWN
            self.details["error"] = f"{type(error).__name__}: {error}"[:300]
            logger.warning("healthz: %s is down: %s", name, self.details["error"])
        self.details["ms"] = round((time.monotonic() - started) * 1000, 1)

    @property
    def ok(self) -> bool:
        return bool(self.public["state"] == OK)


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def _cache() -> dict[str, Any]:
    # A key of this probe's own: web processes probing at once must not read each other's token.
    token = uuid.uuid4().hex
    key = f"healthz:probe:{token}"
    cache.set(key, token, timeout=10)
    read = cache.get(key)
    cache.delete(key)
    if read != token:
        raise RuntimeError("the value written was not read back")
    return {"backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]}


def _broker() -> dict[str, Any]:
    folder = (celery_app.conf.broker_transport_options or {}).get("data_folder_in")
    if celery_app.conf.broker_url.startswith("filesystem://") and folder:
        if not os.access(folder, os.W_OK):
            raise RuntimeError(f"the queue folder {folder} is missing or not writable")
        return {"transport": "filesystem"}
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=3)
        return {"transport": conn.transport.driver_type}


def _scheduler_age() -> dict[str, Any]:
    """How long ago beat last fired: public, since it says when, not where."""
    from asi_wg.models import JobHeartbeat

    beat = JobHeartbeat.objects.filter(name="scheduler").first()
    if beat is None:
        return {"last_run": None}
    return {
        "last_run": beat.last_run_at.isoformat(),
        "seconds_ago": round((timezone.now() - beat.last_run_at).total_seconds()),
    }


def _shows_details(request: HttpRequest) -> bool:
    try:
        return bool(request.user.is_authenticated and request.user.is_superuser)
    except Exception:  # noqa: BLE001 - the session store may be the thing that is down
        return False


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = Check("database", _database)
    checks = [database, Check("cache", _cache), Check("broker", _broker)]
    if database.ok:
        checks.append(Check("scheduler", _scheduler_age, public=True))
    # The site cannot serve anything without its database; cache and broker are degraded states.
    status = "ok" if all(check.ok for check in checks) else "degraded"
    if not database.ok:
        status = DOWN
    details = database.ok and _shows_details(request)
    body: dict[str, Any] = {"status": status}
    for check in checks:
        body[check.name] = {**check.public, **check.details} if details else check.public
    return JsonResponse(body, status=503 if status == DOWN else 200)
