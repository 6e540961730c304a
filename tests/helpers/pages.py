"""Reading pages in tests."""

from __future__ import annotations

import re

_CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def without_csrf_tokens(page: str) -> str:
    """``page`` with its CSRF tokens' values left out: two renderings of the same content differ
    only there (each request masks the token afresh)."""
    return _CSRF_TOKEN.sub("", page)
