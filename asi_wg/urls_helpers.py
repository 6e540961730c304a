"""Reversing site URLs from anywhere, including pages of the mounted tenant admin.

Inside /<slug>/admin/ the tenant middleware swaps the URLconf and the script prefix so that
Django's admin works unchanged; a plain ``reverse()`` there only knows admin URLs. Shared
templates and ``get_absolute_url`` use ``root_reverse`` instead, which always reverses against
the root URLconf from "/".
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import get_script_prefix, reverse, set_script_prefix


def root_reverse(viewname: str, *, kwargs: dict[str, Any] | None = None) -> str:
    previous = get_script_prefix()
    set_script_prefix("/")
    try:
        return reverse(viewname, urlconf=settings.ROOT_URLCONF, kwargs=kwargs)
    finally:
        set_script_prefix(previous)
