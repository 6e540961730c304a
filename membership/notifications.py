"""E-mails about applications, offers and seats: sent once each, after the change committed."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from groups.models import Organisation
from membership.models import SentNotification


def send(*, organisation: Organisation, kind: str, object_id: int) -> bool:
    """Send the notification ``kind`` about ``object_id`` unless it was sent already."""
    key = f"{kind}:{object_id}"
    try:
        with transaction.atomic():
            SentNotification.objects.create(organisation=organisation, key=key)
    except IntegrityError:
        return False
    return True
