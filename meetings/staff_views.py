"""The secretariat's meeting screens: the plan of each phase, each meeting's attendance
register and notes, and everyone's participation records with the non-attendance flags.

Secretariat only (``membership.staff_views.secretariat_required``): anyone else signed in gets
404, a visitor is sent to sign in. Thin: each view finds the tenant's object, calls one service
or selector, and turns a refusal into a message; a POST naming another tenant's meeting or seat
is a 404 and changes nothing.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from asi_wg.errors import DomainError
from asi_wg.models import Organisation, User
from asi_wg.pagecache import page_cached
from asi_wg.parsing import as_whole_number
from meetings import markdown, resources, selectors, services
from meetings.attendance_reports import MAX_BYTES, ReportInvalid
from meetings.models import Attendance, Meeting
from membership import services as membership_services
from membership.models import Seat
from membership.staff_views import secretariat_required

STATUS_FIELD = re.compile(r"^status-([0-9]{1,18})$")


def _organisation(request: HttpRequest) -> Organisation:
    return cast(Organisation, request.organisation)  # type: ignore[attr-defined]


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _meeting(request: HttpRequest, uid: uuid.UUID) -> Meeting:
    organisation = _organisation(request)
    meeting = (
        Meeting.objects.filter(organisation=organisation, uid=uid)
        .select_related("group", "phase")
        .first()
    )
    if meeting is None:
        raise Http404(_("There is no such meeting."))
    meeting.organisation = organisation
    return meeting


def _url(request: HttpRequest, name: str, **kwargs: Any) -> str:
    return reverse(
        f"meetings_staff:{name}",
        kwargs={"organisation_slug": _organisation(request).slug, **kwargs},
    )


# --- The plan ---------------------------------------------------------------------------------


@require_GET
@secretariat_required
@page_cached
def meetings_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "meetings/staff/index.html",
        {
            "plans": selectors.meeting_plans(organisation=_organisation(request)),
            "now": timezone.now(),
        },
    )


# --- The attendance register ------------------------------------------------------------------


def _render_register(
    request: HttpRequest,
    meeting: Meeting,
    *,
    posted: dict[int, tuple[str, str]] | None = None,
    errors: dict[int, str] | None = None,
    report_errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    register = selectors.attendance_register(meeting=meeting)
    posted, errors = posted or {}, errors or {}
    rows = []
    for row in register.rows:
        chosen, minutes = posted.get(
            row.person.pk,
            (row.status, "" if row.minutes is None else str(row.minutes)),
        )
        rows.append(
            {"row": row, "chosen": chosen, "minutes": minutes, "error": errors.get(row.person.pk)}
        )
    return render(
        request,
        "meetings/staff/attendance.html",
        {
            "meeting": meeting,
            "register": register,
            "rows": rows,
            "statuses": Attendance.Status.choices,
            "report_errors": report_errors or [],
            "max_mb": MAX_BYTES // (1024 * 1024),
            "started": meeting.starts_at <= timezone.now(),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@secretariat_required
def attendance_register(request: HttpRequest, uid: uuid.UUID) -> HttpResponse:
    meeting = _meeting(request, uid)
    if request.method != "POST":
        return _render_register(request, meeting)
    marks: dict[int, tuple[str, int | None]] = {}
    posted: dict[int, tuple[str, str]] = {}
    errors: dict[int, str] = {}
    for key in request.POST:
        match = STATUS_FIELD.match(key)
        if not match:
            continue
        status = request.POST.get(key, "")
        person_id = int(match.group(1))
        text = request.POST.get(f"minutes-{person_id}", "").strip()
        posted[person_id] = (status, text)
        minutes: int | None = None
        if text:
            minutes = as_whole_number(text, maximum=1440)
            if minutes is None:
                errors[person_id] = _("Enter whole minutes from 0 to 1,440.")
                continue
        if status != Attendance.Status.PRESENT and minutes:
            errors[person_id] = _("Minutes are recorded only for people present.")
            continue
        marks[person_id] = (status, minutes)
    if errors:
        messages.error(request, _("Some rows need correcting; nothing was saved."))
        return _render_register(request, meeting, posted=posted, errors=errors, status=400)
    try:
        services.attendance_record(meeting=meeting, marks=marks, acting_user=_user(request))
    except DomainError as error:
        messages.error(request, str(error) + " " + _("Nothing was saved."))
        return _render_register(request, meeting, posted=posted, status=400)
    messages.success(request, _("The register is saved: %(n)d marked.") % {"n": len(marks)})
    return redirect(_url(request, "attendance", uid=meeting.uid))


@require_POST
@secretariat_required
def attendance_unmarked(request: HttpRequest, uid: uuid.UUID) -> HttpResponse:
    meeting = _meeting(request, uid)
    try:
        count = services.attendance_mark_unmarked(meeting=meeting, acting_user=_user(request))
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _(
                "%(n)d not yet marked are now marked present (or apologies, for those who sent "
                "them)."
            )
            % {"n": count},
        )
    return redirect(_url(request, "attendance", uid=meeting.uid))


@require_POST
@secretariat_required
def attendance_report(request: HttpRequest, uid: uuid.UUID) -> HttpResponse:
    meeting = _meeting(request, uid)
    upload = request.FILES.get("report")
    if upload is None:
        return _render_register(
            request, meeting, report_errors=[_("Choose the report file.")], status=400
        )
    if upload.size is not None and upload.size > MAX_BYTES:
        return _render_register(
            request,
            meeting,
            report_errors=[_("The file is larger than 2 MB: this is not an attendance report.")],
            status=400,
        )
    try:
        report = services.attendance_report_apply(
            meeting=meeting,
            file_name=upload.name or "report",
            content=upload.read(),
            acting_user=_user(request),
        )
    except ReportInvalid as error:
        return _render_register(request, meeting, report_errors=error.errors, status=400)
    except DomainError as error:
        return _render_register(request, meeting, report_errors=[str(error)], status=400)
    messages.success(
        request,
        _(
            "The report is applied: %(matched)d participants marked present with their minutes; "
            "%(unmatched)d rows matched nobody seated (listed below)."
        )
        % {"matched": report.matched, "unmatched": len(report.unmatched)},
    )
    return redirect(_url(request, "attendance", uid=meeting.uid) + "#reports")


# --- Notes ------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@secretariat_required
def meeting_notes(request: HttpRequest, uid: uuid.UUID) -> HttpResponse:
    meeting = _meeting(request, uid)
    notes = meeting.notes
    preview = None
    status = 200
    if request.method == "POST":
        notes = request.POST.get("notes", "")
        action = request.POST.get("action")
        if action == "preview":
            preview = markdown.render(notes)
        else:
            service = services.notes_publish if action == "publish" else services.notes_save
            try:
                service(meeting=meeting, notes=notes, acting_user=_user(request))
            except DomainError as error:
                messages.error(request, str(error))
                status = 400
            else:
                messages.success(
                    request,
                    _("The notes are published; the group's participants are told.")
                    if action == "publish"
                    else _("The draft is saved. Participants do not see it yet."),
                )
                return redirect(_url(request, "notes", uid=meeting.uid))
    return render(
        request,
        "meetings/staff/notes.html",
        {
            "meeting": meeting,
            "notes": notes,
            "preview": preview,
            "published": markdown.render(meeting.notes) if meeting.notes_published_at else None,
        },
        status=status,
    )


# --- Participation ----------------------------------------------------------------------------


def _rate_charts(records: list[selectors.ParticipationRecord]) -> list[dict[str, Any]]:
    """One bar chart of attendance rates per group and phase."""
    charts: dict[int, dict[str, Any]] = {}
    series = [_("Attendance rate")]
    for record in records:
        chart = charts.setdefault(
            record.phase.pk,
            {
                "id": f"rates-{record.phase.pk}",
                "title": _("Attendance rate: %(group)s, %(phase)s")
                % {"group": record.group.name, "phase": record.phase.name},
                "series": series,
                "rows": [],
            },
        )
        rate = record.rate
        chart["rows"].append(
            {
                "label": record.person.full_name or record.person.email,
                "values": [
                    {
                        "series": series[0],
                        "value": "—" if rate is None else f"{rate}%",
                        "percent": rate or 0,
                    }
                ],
            }
        )
    return list(charts.values())


def _sections(records: list[selectors.ParticipationRecord]) -> list[dict[str, Any]]:
    sections: dict[int, dict[str, Any]] = {}
    for record in records:
        sections.setdefault(
            record.phase.pk, {"group": record.group, "phase": record.phase, "records": []}
        )["records"].append(record)
    return list(sections.values())


@require_GET
@secretariat_required
@page_cached
def participation(request: HttpRequest) -> HttpResponse:
    organisation = _organisation(request)
    records = selectors.participation_records(organisation=organisation)
    return render(
        request,
        "meetings/staff/participation.html",
        {
            "sections": _sections(records),
            "charts": _rate_charts(records),
            "flags": selectors.non_attendance_flags(organisation=organisation),
        },
    )


@require_GET
@secretariat_required
def participation_export(request: HttpRequest, file_format: str) -> HttpResponse:
    if file_format not in resources.FORMATS:
        raise Http404(_("There is no such format."))
    organisation = _organisation(request)
    records = selectors.participation_records(organisation=organisation)
    content = resources.participation_export(records, file_format)
    response = HttpResponse(content, content_type=resources.FORMATS[file_format][1])
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="participation-{organisation.slug}-{stamp}.{file_format}"'
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _held_seat(request: HttpRequest, pk: int) -> Seat:
    seat = (
        Seat.objects.filter(
            pk=pk, group__organisation=_organisation(request), ended_at__isnull=True
        )
        .select_related("holder", "group")
        .first()
    )
    if seat is None:
        raise Http404(_("There is no such seat."))
    return seat


def _who(seat: Seat) -> str:
    return seat.holder.full_name or seat.holder.email


@require_POST
@secretariat_required
def step_down_request(request: HttpRequest, pk: int) -> HttpResponse:
    seat = _held_seat(request, pk)
    try:
        services.step_down_request(seat=seat, acting_user=_user(request))
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("A request to step down is sent to %(who)s.") % {"who": _who(seat)},
        )
    return redirect(_url(request, "participation") + "#flags")


@require_http_methods(["GET", "POST"])
@secretariat_required
def seat_end(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then end a seat for non-attendance; the freed seat goes to the waiting list."""
    seat = _held_seat(request, pk)
    if request.method == "POST":
        note = request.POST.get("note", "").strip()[:2000]
        try:
            membership_services.seat_end(
                seat=seat,
                reason=Seat.EndReason.NON_ATTENDANCE,
                note=note,
                acting_user=_user(request),
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _(
                    "The seat of %(who)s has ended. The free seat is offered to the next person "
                    "on the waiting list."
                )
                % {"who": _who(seat)},
            )
        return redirect(_url(request, "participation") + "#flags")
    flag = next(
        (
            f
            for f in selectors.non_attendance_flags(organisation=_organisation(request))
            if f.seat.pk == seat.pk
        ),
        None,
    )
    return render(request, "meetings/staff/seat_end.html", {"seat": seat, "flag": flag})
