"""The committee's summary pages, rendered once per version of what they show.

A summary is read far more often than it changes, and rendering one (every comment, three charts
per criterion) takes from tens of milliseconds to a second. So the page's parts that show the
summary are cached, rendered, under the summary's version (``summaries.summary_version``: its
fingerprint and the state of its rounds, in four small queries), the tenant, the object, the
reader's time zone and language, and the templates' text. A new answer, disposition, consent or
criterion text changes the fingerprint, and a round opening or closing its state: the next
request renders again, and nothing has to remember to invalidate. What the fingerprint does not
cover (renaming a framework, an objective or a membership class) shows within ``CACHE_SECONDS``.

The PDF controls (a form with the reader's CSRF token) stay outside the cached parts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from asi_wg.caching import templates_digest
from asi_wg.models import Organisation
from feedback import charts, summaries

CACHE_SECONDS = 60 * 60

INTRO = "feedback/committee/_summary_intro.html"
BODY = "feedback/committee/_summary_body.html"
# Every template the cached parts are made of: a change to any of them makes new keys.
TEMPLATES = (
    INTRO,
    BODY,
    "feedback/committee/_comment.html",
    "feedback/staff/_when.html",
    "feedback/staff/_state.html",
    "includes/bar_chart.html",
)


@dataclass(frozen=True)
class SummaryPage:
    title: str
    intro: SafeString
    body: SafeString


def _key(organisation: Organisation, kind: str, obj: Any, version: str, zone: str) -> str:
    if kind == summaries.KIND_GROUP:
        group, document = obj
        subject = f"{group.pk}.{document.pk}"
    else:
        subject = str(obj.pk)
    parts = (
        str(summaries.SUMMARY_FORMAT),
        templates_digest(*TEMPLATES),
        str(organisation.pk),
        kind,
        subject,
        version,
        zone,
        get_language() or "",
    )
    return "committee-summary:" + hashlib.sha256("\0".join(parts).encode()).hexdigest()


def summary_page(*, organisation: Organisation, kind: str, obj: Any, zone: str) -> SummaryPage:
    """The rendered title, top and body of the summary of ``obj`` (as ``summaries.summary_for``
    takes it) for a reader in ``zone``: from the cache while the summary is unchanged, built
    and rendered otherwise."""
    version = summaries.summary_version(kind, obj)
    key = _key(organisation, kind, obj, version.key, zone)
    cached = cache.get(key)
    if cached is not None:
        title, intro, body = cached
        return SummaryPage(title, SafeString(intro), SafeString(body))
    summary = summaries.summary_for(kind, obj, organisation=organisation, version=version)
    context = {
        "summary": summary,
        "tally_charts": charts.summary_tally_charts(summary),
        "zone": zone,
        "organisation": organisation,
    }
    page = SummaryPage(
        summary.title, render_to_string(INTRO, context), render_to_string(BODY, context)
    )
    cache.set(key, (page.title, str(page.intro), str(page.body)), CACHE_SECONDS)
    return page
