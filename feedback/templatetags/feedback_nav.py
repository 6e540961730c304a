"""``{% feedback_nav_shown as show %}``: whether the navigation offers the Feedback link (to the
tenant's seated participants), without a query on most pages (see ``holds_a_seat``)."""

from __future__ import annotations

from typing import Any

from django import template

from feedback.participant_selectors import holds_a_seat

register = template.Library()


@register.simple_tag(takes_context=True)
def feedback_nav_shown(context: Any) -> bool:
    request = context.get("request")
    organisation = getattr(request, "organisation", None)
    if request is None or organisation is None:
        return False
    return holds_a_seat(organisation=organisation, user=request.user)
