"""What the apps above ``groups`` add to a working group's page, without ``groups`` importing them.

``groups`` sits below ``membership`` and ``meetings`` and may not import them, yet its group page
shows who takes part and, later, the next meeting. An app registers a contribution in its
``AppConfig.ready()``; the page calls each in registration order and merges what they return
into its template context.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

from groups.models import WorkingGroup

GroupPageContribution = Callable[[WorkingGroup, HttpRequest], dict[str, Any]]

_contributions: list[GroupPageContribution] = []


def group_page_contribute(contribution: GroupPageContribution) -> GroupPageContribution:
    """Register ``contribution`` once (``ready()`` may run more than once in tests)."""
    if contribution not in _contributions:
        _contributions.append(contribution)
    return contribution


def group_page_context(*, group: WorkingGroup, request: HttpRequest) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for contribution in _contributions:
        context.update(contribution(group, request))
    return context
