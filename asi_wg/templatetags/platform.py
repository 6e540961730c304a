from __future__ import annotations

from typing import Any

from django import template

from asi_wg.urls_helpers import root_reverse

register = template.Library()


@register.simple_tag
def root_url(viewname: str, **kwargs: Any) -> str:
    """Like {% url %}, but correct in every page, the mounted tenant admin included."""
    return root_reverse(viewname, kwargs=kwargs or None)
