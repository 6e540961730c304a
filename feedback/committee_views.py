"""The Standards Committee's pages: every round of the tenant with its counts, and the summary
of a round, of a group's rounds on a draft document, and of a document.

Committee members and the secretariat of the tenant only: a visitor is sent to sign in, anyone
else signed in (a participant, another tenant's committee) gets 403. Read-only and thin: each
view finds the tenant's object (404 otherwise) and renders ``feedback.summaries``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from asi_wg.admin_sites import is_committee, is_secretariat
from asi_wg.models import Organisation, User
from asi_wg.pagecache import page_cached
from feedback import iso, selectors, summaries, summary_pages
from feedback.models import DraftDocument


def committee_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (is_committee(request) or is_secretariat(request)):
            raise PermissionDenied(_("Only the Standards Committee and the secretariat see this."))
        return view(request, *args, **kwargs)

    return wrapper


def _organisation(request: HttpRequest) -> Organisation:
    return cast(Organisation, request.organisation)  # type: ignore[attr-defined]


def _zone(request: HttpRequest) -> str:
    return cast(User, request.user).time_zone or "UTC"


def _document(request: HttpRequest, pk: int) -> DraftDocument:
    organisation = _organisation(request)
    document = DraftDocument.objects.filter(organisation=organisation, pk=pk).first()
    if document is None:
        raise Http404(_("There is no such draft document."))
    document.organisation = organisation
    return document


def _render_summary(
    request: HttpRequest, kind: str, obj: Any, pdf_target: dict[str, Any]
) -> HttpResponse:
    page = summary_pages.summary_page(
        organisation=_organisation(request), kind=kind, obj=obj, zone=_zone(request)
    )
    return render(
        request,
        "feedback/committee/summary.html",
        {"summary_page": page, "zone": _zone(request), "pdf_target": pdf_target},
    )


@require_GET
@committee_required
@page_cached
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "feedback/committee/index.html",
        {
            "index": summaries.summary_index(organisation=_organisation(request)),
            "zone": _zone(request),
        },
    )


@require_GET
@committee_required
@page_cached
def round_summary(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _organisation(request)
    feedback_round = selectors.tenant_round(organisation=organisation, pk=pk)
    if feedback_round is None:
        raise Http404(_("There is no such feedback round."))
    return _render_summary(
        request, summaries.KIND_ROUND, feedback_round, {"kind": "round", "pk": pk}
    )


@require_GET
@committee_required
@page_cached
def group_summary(request: HttpRequest, slug: str, document_pk: int) -> HttpResponse:
    organisation = _organisation(request)
    feedback_round = selectors.tenant_group_round(
        organisation=organisation, group_slug=slug, document_pk=document_pk
    )
    if feedback_round is None:
        _document(request, document_pk)  # 404 for a document that is not the tenant's
        raise Http404(_("This group was not asked about this draft document."))
    return _render_summary(
        request,
        summaries.KIND_GROUP,
        (feedback_round.group, feedback_round.document),
        {"kind": "group", "slug": slug, "document_pk": document_pk},
    )


@require_GET
@committee_required
@page_cached
def document_summary(request: HttpRequest, pk: int) -> HttpResponse:
    document = _document(request, pk)
    return _render_summary(
        request, summaries.KIND_DOCUMENT, document, {"kind": "document", "pk": pk}
    )


# --- The ISO commenting table (the same table as the secretariat's: feedback.iso) --------------


@require_GET
@committee_required
def iso_round(request: HttpRequest, pk: int, file_format: str) -> HttpResponse:
    if file_format not in iso.FORMATS:
        raise Http404(_("There is no such file format."))
    organisation = _organisation(request)
    feedback_round = selectors.tenant_round(organisation=organisation, pk=pk)
    if feedback_round is None:
        raise Http404(_("There is no such feedback round."))
    return iso.iso_response(summaries.summary_for_round(feedback_round), file_format)


@require_GET
@committee_required
def iso_document(request: HttpRequest, pk: int, file_format: str) -> HttpResponse:
    if file_format not in iso.FORMATS:
        raise Http404(_("There is no such file format."))
    return iso.iso_response(summaries.summary_for_document(_document(request, pk)), file_format)
