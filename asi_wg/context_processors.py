from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from asi_wg.admin_sites import is_committee, is_secretariat


def tenant(request: HttpRequest) -> dict[str, Any]:
    organisation = getattr(request, "organisation", None)
    return {
        "organisation": organisation,
        "is_secretariat": is_secretariat(request) if organisation is not None else False,
        "is_committee": is_committee(request) if organisation is not None else False,
    }
