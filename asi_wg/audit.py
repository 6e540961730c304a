"""The audit trail: every service writes one entry in the transaction of its change."""

from __future__ import annotations

from typing import Any

from django.db import models

from asi_wg.compiled import insert
from asi_wg.models import AuditEntry, Organisation, User


def audit_record(
    *,
    organisation: Organisation,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit entry. Call it inside the service's transaction, never after it."""
    entry = AuditEntry(
        organisation=organisation,
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        data=data or {},
    )
    if target is not None:
        entry.target_type = target._meta.label_lower
        entry.target_id = str(target.pk)
        entry.target_repr = str(target)[:300]
    insert(entry)  # no signal listens; a save's Python would cost more than its INSERT
    return entry
