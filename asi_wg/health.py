"""/healthz: the state of each dependency, for load balancers and the compose health checks."""

from __future__ import annotations

import os
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from asi_wg.celery import app as celery_app


def _timed(check: Any) -> dict[str, Any]:
    started = time.monotonic()
    try:
        result = check() or {}
        state = {"state": "ok", **result}
    except Exception as error:  # noqa: BLE001 - any failure is a state to report, not a 500
        state = {"state": "error", "error": f"{type(error).__name__}: {error}"[:300]}
    state["ms"] = round((time.monotonic() - started) * 1000, 1)
    return state


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def _cache() -> dict[str, Any]:
    key = "healthz:probe"
    token = str(time.time_ns())
    cache.set(key, token, timeout=10)
    if cache.get(key) != token:
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


def _scheduler() -> dict[str, Any]:
    from asi_wg.models import JobHeartbeat

    beat = JobHeartbeat.objects.filter(name="scheduler").first()
    if beat is None:
        return {"last_run": None}
    return {
        "last_run": beat.last_run_at.isoformat(),
        "seconds_ago": round((timezone.now() - beat.last_run_at).total_seconds()),
    }


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = _timed(_database)
    checks = {
        "database": database,
        "cache": _timed(_cache),
        "broker": _timed(_broker),
    }
    if database["state"] == "ok":
        checks["scheduler"] = _timed(_scheduler)
    # The site cannot serve anything without its database; cache and broker are degraded states.
    status = "ok" if all(c["state"] == "ok" for c in checks.values()) else "degraded"
    if database["state"] != "ok":
        status = "down"
    return JsonResponse({"status": status, **checks}, status=503 if status == "down" else 200)
