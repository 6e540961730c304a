"""The committee's PDF summaries: ask for one, watch it being prepared, download it.

Committee members and the secretariat of the tenant only (``committee_required``): a visitor is
sent to sign in, anyone else signed in gets 404, and so does a file id of another tenant, a
crafted kind, object or page size. Thin: each view calls one function of
``feedback.summary_files`` and renders; the slow work is in the Celery job.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from asi_wg.models import Organisation, OrganisationRole, User
from feedback import summary_files
from feedback.models import SummaryFile

# htmx stops polling when the answer has this status (https://htmx.org/attributes/hx-trigger/).
HTMX_STOP_POLLING = 286


def _organisation(request: HttpRequest) -> Organisation:
    return cast(Organisation, request.organisation)  # type: ignore[attr-defined]


def may_read_summaries(request: HttpRequest) -> bool:
    """Committee or secretariat of the request's organisation."""
    organisation = getattr(request, "organisation", None)
    user = request.user
    return bool(
        organisation is not None
        and user.is_active
        and (
            user.has_perm(f"asi_wg.{OrganisationRole.COMMITTEE.value}", organisation)
            or user.has_perm(f"asi_wg.{OrganisationRole.SECRETARIAT.value}", organisation)
        )
    )


def committee_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not may_read_summaries(request):
            raise Http404(_("There is no such page."))
        return view(request, *args, **kwargs)

    return wrapper


def _file(request: HttpRequest, file_id: int) -> SummaryFile:
    organisation = _organisation(request)
    summary_file = SummaryFile.objects.filter(organisation=organisation, pk=file_id).first()
    if summary_file is None:
        raise Http404(_("There is no such PDF summary."))
    summary_file.organisation = organisation
    return summary_file


def status_url(summary_file: SummaryFile) -> str:
    return reverse(
        "feedback_pdf:status",
        kwargs={"organisation_slug": summary_file.organisation.slug, "file_id": summary_file.pk},
    )


@require_POST
@committee_required
def pdf_request(request: HttpRequest, kind: str, object_id: int) -> HttpResponse:
    """Start (or find) the PDF of a summary; a group's summary names its document in the
    ``document`` field."""
    document = request.POST.get("document", "")
    try:
        summary_file = summary_files.summary_file_request(
            organisation=_organisation(request),
            kind=kind,
            object_id=object_id,
            document_id=int(document) if document.isdigit() else None,
            page_size=request.POST.get("page_size", ""),
            acting_user=cast(User, request.user),
        )
    except summary_files.UnknownSummary as error:
        raise Http404(str(error)) from error
    return redirect(status_url(summary_file))


@require_GET
@never_cache
@committee_required
def pdf_status(request: HttpRequest, file_id: int) -> HttpResponse:
    summary_file = _file(request, file_id)
    context = {"file": summary_file}
    if request.htmx:  # type: ignore[attr-defined]
        response = render(request, "feedback/pdf/_status.html", context)
        if summary_file.is_done:
            response.status_code = HTMX_STOP_POLLING
        return response
    return render(request, "feedback/pdf/status.html", context)


@require_GET
@never_cache
@committee_required
def pdf_download(request: HttpRequest, file_id: int) -> HttpResponseBase:
    summary_file = _file(request, file_id)
    if summary_file.status != SummaryFile.Status.READY or not summary_file.file:
        return redirect(status_url(summary_file))
    response = FileResponse(
        summary_file.file.open("rb"),
        as_attachment=True,
        filename=summary_files.file_name(summary_file),
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response
