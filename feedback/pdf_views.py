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

from asi_wg.admin_sites import is_committee, is_secretariat
from asi_wg.models import Organisation, User
from feedback import summary_files
from feedback.models import SummaryFile
from groups.models import WorkingGroup

# htmx stops polling when the answer has this status (https://htmx.org/attributes/hx-trigger/).
HTMX_STOP_POLLING = 286


def _organisation(request: HttpRequest) -> Organisation:
    return cast(Organisation, request.organisation)  # type: ignore[attr-defined]


def committee_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        # 404 rather than the summary pages' 403: a file id says nothing to those who may not.
        if not (is_committee(request) or is_secretariat(request)):
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


def _start(
    request: HttpRequest, kind: str, object_id: int, document_id: int | None = None
) -> HttpResponse:
    try:
        summary_file = summary_files.summary_file_request(
            organisation=_organisation(request),
            kind=kind,
            object_id=object_id,
            document_id=document_id,
            page_size=request.POST.get("page_size", ""),
            acting_user=cast(User, request.user),
        )
    except summary_files.UnknownSummary as error:
        raise Http404(str(error)) from error
    return redirect(status_url(summary_file))


@require_POST
@committee_required
def pdf_request(request: HttpRequest, kind: str, object_id: int) -> HttpResponse:
    """Start (or find) the PDF of a round's or a document's summary."""
    return _start(request, kind, object_id)


@require_POST
@committee_required
def pdf_request_group(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    """Start (or find) the PDF of a group's rounds on a document."""
    group = WorkingGroup.objects.filter(organisation=_organisation(request), slug=slug).first()
    if group is None:
        raise Http404(_("There is no such working group."))
    return _start(request, SummaryFile.Kind.GROUP, group.pk, document_id)


def _addresses(summary_file: SummaryFile) -> dict[str, str]:
    """The summary page the file was made from, and the address that asks for it again."""
    slug = summary_file.organisation.slug
    if summary_file.kind == SummaryFile.Kind.GROUP:
        group = WorkingGroup.objects.filter(
            organisation=summary_file.organisation, pk=summary_file.object_id
        ).first()
        if group is None:
            return {}
        kwargs = {"organisation_slug": slug, "slug": group.slug}
        return {
            "summary_url": reverse(
                "feedback_committee:group",
                kwargs={**kwargs, "document_pk": summary_file.document_id},
            ),
            "retry_url": reverse(
                "feedback_pdf:request_group",
                kwargs={**kwargs, "document_id": summary_file.document_id},
            ),
        }
    kwargs = {"organisation_slug": slug}
    page = "round" if summary_file.kind == SummaryFile.Kind.ROUND else "document"
    return {
        "summary_url": reverse(
            f"feedback_committee:{page}", kwargs={**kwargs, "pk": summary_file.object_id}
        ),
        "retry_url": reverse(
            f"feedback_pdf:request_{page}", kwargs={**kwargs, "object_id": summary_file.object_id}
        ),
    }


@require_GET
@never_cache
@committee_required
def pdf_status(request: HttpRequest, file_id: int) -> HttpResponse:
    summary_file = _file(request, file_id)
    context: dict[str, Any] = {
        "file": summary_file,
        "superseded": summary_file.status == SummaryFile.Status.READY
        and not summary_files.is_current(summary_file),
        "zone": cast(User, request.user).time_zone or "UTC",
        **_addresses(summary_file),
    }
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
    if (
        summary_file.status != SummaryFile.Status.READY
        or not summary_file.file
        or not summary_files.is_current(summary_file)
    ):
        # Not ready, or made from feedback that has changed since: its page says which.
        return redirect(status_url(summary_file))
    response = FileResponse(
        summary_file.file.open("rb"),
        as_attachment=True,
        filename=summary_files.file_name(summary_file),
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response
