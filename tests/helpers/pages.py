"""Reading pages in tests."""

from __future__ import annotations

import re

from django.test.utils import override_settings

_CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def without_csrf_tokens(page: str) -> str:
    """``page`` with its CSRF tokens' values left out: two renderings of the same content differ
    only there (each request masks the token afresh)."""
    return _CSRF_TOKEN.sub("", page)


def rendering() -> override_settings:
    """For counting a page's queries: its rendering, not the person's page cache
    (``asi_wg.pagecache``), which serves a repeated request for one or two queries."""
    return override_settings(PAGE_CACHE_SECONDS=0)
