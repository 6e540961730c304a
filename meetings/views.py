"""The participant's meeting pages, the calendar files and the materials download.

Thin: each view finds the meeting through a selector, asks ``selectors.meeting_access`` what the
person may do, and calls one service. A meeting someone may not see is a 404, whoever they are,
so its address says nothing to an outsider; the join link and the materials are only in the
pages of those who may use them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from asi_wg.errors import DomainError
from asi_wg.models import Organisation, User
from asi_wg.pagecache import page_cached
from asi_wg.urls_helpers import root_reverse
from meetings import calendar, markdown, selectors, services
from meetings.forms import ApologyForm, InterpretationForm
from meetings.models import CalendarFeed, Material, Meeting


def _organisation(request: HttpRequest) -> Organisation:
    return cast(Organisation, request.organisation)  # type: ignore[attr-defined]


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _meeting_or_404(
    request: HttpRequest, uid: uuid.UUID
) -> tuple[Meeting, selectors.MeetingAccess]:
    organisation = _organisation(request)
    meeting = selectors.meeting_detail(organisation=organisation, user=_user(request), uid=uid)
    if meeting is None:
        raise Http404(_("There is no such meeting."))
    access = selectors.meeting_access(organisation=organisation, user=request.user, meeting=meeting)
    if not access.can_view:
        raise Http404(_("There is no such meeting."))
    return meeting, access


def _meeting_url(organisation: Organisation, meeting: Meeting) -> str:
    return root_reverse(
        "meetings:detail", kwargs={"organisation_slug": organisation.slug, "uid": meeting.uid}
    )


@login_required
@require_GET
@page_cached
def meeting_list(request: HttpRequest) -> HttpResponse:
    organisation = _organisation(request)
    return render(
        request,
        "meetings/list.html",
        {
            "mine": selectors.meetings_for_participant(
                organisation=organisation, user=_user(request)
            ),
            "records": selectors.participation_records(
                organisation=organisation, user=_user(request)
            ),
        },
    )


@login_required
@require_GET
@page_cached
def meeting_detail(request: HttpRequest, uid: uuid.UUID) -> HttpResponse:
    meeting, access = _meeting_or_404(request, uid)
    organisation = _organisation(request)
    apology = meeting.my_apologies[0] if meeting.my_apologies else None  # type: ignore[attr-defined]
    interpretation = (
        meeting.my_interpretation[0] if meeting.my_interpretation else None  # type: ignore[attr-defined]
    )
    return render(
        request,
        "meetings/detail.html",
        {
            "meeting": meeting,
            "access": access,
            "statement": organisation.antitrust_statement,
            "agenda": markdown.render(meeting.agenda),
            "notes": markdown.render(meeting.notes) if meeting.notes_published_at else "",
            "apology": apology,
            "interpretation": interpretation,
            "apology_form": ApologyForm(initial={"note": apology.note if apology else ""}),
            "interpretation_form": InterpretationForm(
                meeting=meeting,
                initial={"language": interpretation.language if interpretation else ""},
            ),
            "open_for_answers": not meeting.is_cancelled and meeting.ends_at > timezone.now(),
        },
    )


def _answer(
    request: HttpRequest, uid: uuid.UUID, change: Callable[[Meeting, User], None], done: str
) -> HttpResponse:
    """Call ``change`` for the person's meeting; its refusal, or ``done``, becomes a message."""
    meeting, _access = _meeting_or_404(request, uid)
    try:
        change(meeting, _user(request))
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect(_meeting_url(_organisation(request), meeting))


@login_required
@require_POST
def apology_send(request: HttpRequest, uid: uuid.UUID) -> HttpResponse:
    form = ApologyForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""

    def change(meeting: Meeting, user: User) -> None:
        if not form.is_valid():
            raise DomainError(_("Keep the note to 1,000 characters."))
        services.apology_send(meeting=meeting, user=user, note=note)

    return _answer(request, uid, change, _("Your apologies are sent to the secretariat."))


@login_required
@require_POST
def apology_withdraw(request: HttpRequest, uid: uuid.UUID) -> HttpResponse:
    return _answer(
        request,
        uid,
        lambda meeting, user: services.apology_withdraw(meeting=meeting, user=user),
        _("Your apologies are withdrawn: you are expected at the meeting."),
    )


@login_required
@require_POST
def interpretation_request(request: HttpRequest, uid: uuid.UUID) -> HttpResponse:
    def change(meeting: Meeting, user: User) -> None:
        form = InterpretationForm(request.POST, meeting=meeting)
        if not form.is_valid():
            raise DomainError(_("Choose one of the languages offered."))
        services.interpretation_request(
            meeting=meeting, user=user, language=form.cleaned_data["language"]
        )

    return _answer(request, uid, change, _("Your request for interpretation is recorded."))


@login_required
@require_POST
def interpretation_withdraw(request: HttpRequest, uid: uuid.UUID) -> HttpResponse:
    return _answer(
        request,
        uid,
        lambda meeting, user: services.interpretation_withdraw(meeting=meeting, user=user),
        _("Your request for interpretation is withdrawn."),
    )


def _ics_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def meeting_ics(request: HttpRequest, uid: uuid.UUID) -> HttpResponse:
    meeting, access = _meeting_or_404(request, uid)
    content = calendar.meeting_ics(
        meeting, organisation=_organisation(request), with_join_link=access.can_join
    )
    return _ics_response(content, f"meeting-{meeting.group.slug}-{meeting.number}.ics")


@login_required
@require_GET
def material_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A material's file, to those who may read it; a link material redirects to its address."""
    organisation = _organisation(request)
    material = (
        Material.objects.filter(pk=pk, organisation=organisation, withdrawn_at__isnull=True)
        .select_related("meeting")
        .first()
    )
    if material is None:
        raise Http404(_("There is no such material."))
    access = selectors.meeting_access(
        organisation=organisation, user=request.user, meeting=material.meeting
    )
    if not access.can_read_materials or not (access.staff or material.is_published()):
        raise Http404(_("There is no such material."))
    if material.is_link:
        return redirect(material.url)
    response = FileResponse(
        material.file.open("rb"),
        as_attachment=True,
        filename=material.original_name or material.file.name.rsplit("/", 1)[-1],
        content_type=material.content_type or "application/octet-stream",
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- The calendar feed ------------------------------------------------------------------------


def _feed_url(request: HttpRequest, feed: CalendarFeed) -> str:
    path = root_reverse(
        "meetings:feed",
        kwargs={"organisation_slug": _organisation(request).slug, "token": feed.token},
    )
    return request.build_absolute_uri(path)


@login_required
@never_cache
def calendar_settings(request: HttpRequest) -> HttpResponse:
    """The person's private subscription address, and a way to replace it."""
    organisation = _organisation(request)
    user = _user(request)
    if request.method == "POST":
        feed = services.calendar_feed_reset(organisation=organisation, user=user)
        messages.success(
            request, _("Your calendar has a new address; the old one no longer works.")
        )
        return redirect(
            root_reverse("meetings:calendar", kwargs={"organisation_slug": organisation.slug})
        )
    feed = services.calendar_feed_get(organisation=organisation, user=user)
    url = _feed_url(request, feed)
    return render(
        request,
        "meetings/calendar.html",
        {"feed": feed, "feed_url": url, "webcal_url": "webcal://" + url.split("://", 1)[-1]},
    )


@never_cache
@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """All the person's meetings, for calendar programs (no sign-in: the address is the secret)."""
    organisation = _organisation(request)
    live = (
        CalendarFeed.objects.filter(organisation=organisation, token=token, revoked_at__isnull=True)
        .select_related("user")
        .first()
    )
    if live is None or not live.user.is_active:
        raise Http404(_("There is no such calendar."))
    meetings, join_groups = selectors.meetings_for_feed(organisation=organisation, user=live.user)
    content = calendar.feed_ics(meetings, organisation=organisation, join_link_groups=join_groups)
    return HttpResponse(content, content_type="text/calendar; charset=utf-8")
