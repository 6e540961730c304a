"""The triage's comments, each rendered once for what it shows and then taken from the cache.

Rendering is most of the triage page's cost: some 25 comments, each with its facts, its texts
and its disposition form. A comment's markup is a function of what it shows, so it is kept under
a digest of exactly that: every value ``feedback/staff/_comment.html`` reads (the answer's texts
and choices, its author, group, Member, frameworks and objectives, its disposition, what the
form shows), the time zone, the language, and the template's own source. Nothing needs
invalidating: a comment that changes in any way it is shown gets a new digest, and the old entry
is never read again and expires. Writes that bypass the services (an erasure's bulk update, the
admin) are covered too, since the digest is of the rows as read on this request.

The two things in a comment's markup that belong to the request, not to the comment, are left as
placeholders and filled in on every reading: the CSRF token of the disposition form and its
action (the page's own address, with its filters). A placeholder is markup that escaping would
have changed, so no text a participant typed can ever match it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template import loader
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from asi_wg.caching import templates_digest
from feedback.selectors import TriageItem

TEMPLATE = "feedback/staff/_comment.html"
CSRF_INPUT = "<triage-csrf-input/>"
FORM_ACTION = "<triage-form-action/>"
# A day: entries of comments that changed are never read again; this only frees memory.
TIMEOUT = 24 * 60 * 60


def _shown(row: dict[str, Any], zone: str) -> tuple[Any, ...]:
    """Everything of ``row`` that the comment's markup shows or depends on."""
    item: TriageItem = row["item"]
    answer = item.answer
    disposition = item.disposition
    referred_to = answer.referred_to
    return (
        row["key"],
        row["ticked"],
        row["seen"],
        row["status"],
        str(row["options"]),
        row["response"],
        item.group.name,
        item.represents,
        item.referred_from.name if item.referred_from else None,
        item.is_final,
        item.changed_since_decided,
        item.relevance_label,
        item.clarity_label,
        item.feasibility_label,
        item.comment_type_label,
        item.status_label,
        answer.author.full_name,
        answer.author.email,
        answer.criterion.reference,
        answer.submitted_at is not None,
        answer.comment_type,
        answer.comment,
        answer.proposed_change,
        answer.risks_opportunities,
        [framework.name for framework in answer.framework_list],  # type: ignore[attr-defined]
        [str(objective) for objective in answer.objective_list],  # type: ignore[attr-defined]
        referred_to.name if referred_to is not None else None,
        disposition is not None,
        disposition.response if disposition else None,
        disposition.published_at.isoformat() if disposition and disposition.published_at else None,
        zone,
    )


def _key(organisation_id: int, row: dict[str, Any], zone: str) -> str:
    shown = repr((templates_digest(TEMPLATE), get_language(), _shown(row, zone)))
    digest = hashlib.sha256(shown.encode()).hexdigest()
    return f"triage-comment:{organisation_id}:{digest}"


def render_comments(
    request: HttpRequest,
    organisation_id: int,
    sections: list[dict[str, Any]],
    *,
    form_action: str,
    zone: str,
) -> None:
    """Set ``html`` on every row of ``sections``: the comment's markup, from the cache when it
    was rendered before for the same content (one cache read for the page)."""
    rows = [row for section in sections for row in section["rows"]]
    keys = {id(row): _key(organisation_id, row, zone) for row in rows}
    found: dict[str, str] = cache.get_many(list(keys.values())) if rows else {}
    fresh = {}
    template = loader.get_template(TEMPLATE)
    for row in rows:
        key = keys[id(row)]
        if key not in found:
            item = row["item"]
            found[key] = fresh[key] = template.render(
                {
                    "row": row,
                    "item": item,
                    "answer": item.answer,
                    "zone": zone,
                    "csrf_input": mark_safe(CSRF_INPUT),  # noqa: S308 - a constant
                    "form_action": mark_safe(FORM_ACTION),  # noqa: S308 - a constant
                }
            )
    if fresh:
        cache.set_many(fresh, TIMEOUT)
    csrf_input = format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)
    )
    action = escape(form_action)
    for row in rows:
        html = found[keys[id(row)]].replace(CSRF_INPUT, csrf_input).replace(FORM_ACTION, action)
        row["html"] = SafeString(html)
