"""The public synopses of a tenant's consultations, open to anyone without signing in: only
what staff published (a draft, an unpublished round or another tenant's synopsis is 404)."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from feedback import synopsis
from meetings import markdown


@require_GET
def synopses(request: HttpRequest) -> HttpResponse:
    organisation = request.organisation  # type: ignore[attr-defined]
    return render(
        request,
        "feedback/public/synopses.html",
        {"synopses": synopsis.published_synopses(organisation.pk)},
    )


@require_GET
def synopsis_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = request.organisation  # type: ignore[attr-defined]
    published = synopsis.published_synopsis(organisation.pk, pk)
    if published is None:
        raise Http404(_("There is no such published synopsis."))
    return render(
        request,
        "feedback/public/synopsis.html",
        {
            "synopsis": published,
            "content": published.content,
            "intro_html": markdown.render(published.intro),
            "latest": synopsis.latest_version(published),
        },
    )


@require_GET
def synopsis_pdf(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The PDF of a published version, once typeset (404 until then, and for anything else)."""
    organisation = request.organisation  # type: ignore[attr-defined]
    published = synopsis.published_synopsis(organisation.pk, pk)
    if published is None or not published.pdf:
        raise Http404(_("There is no such synopsis PDF."))
    return FileResponse(
        published.pdf.open("rb"),
        as_attachment=False,
        filename=f"{organisation.slug}-synopsis-{published.round_id}-v{published.version}.pdf",
        content_type="application/pdf",
    )
