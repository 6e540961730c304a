"""The secretariat's staff screens: the groups at a glance and each group's selection workbench.

Secretariat only: anyone else signed in gets 404 (as in the tenant admin), and a visitor is sent
to sign in. Every write goes through a service; a domain error becomes a message, and a POST
naming an application or a seat of another group (or tenant) is refused and changes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from asi_wg.admin_sites import is_secretariat
from asi_wg.choices import form_choices
from asi_wg.errors import DomainError
from asi_wg.models import User
from asi_wg.pagecache import page_cached
from groups.models import WorkingGroup
from membership import selectors, services
from membership.models import Application, Seat
from membership.selection.slate import DEFAULT_WEIGHTS, FOCUS
from membership.selection.workbench import Workbench, workbench_for_group
from membership.staff_forms import (
    BulkActionForm,
    ReorderForm,
    SeatCapForm,
    SeatEndForm,
    form_errors,
    person,
)


def secretariat_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_secretariat(request):
            raise Http404(_("There is no such page."))
        return view(request, *args, **kwargs)

    return wrapper


def _group(request: HttpRequest, group_slug: str) -> WorkingGroup:
    organisation = request.organisation  # type: ignore[attr-defined]
    group = WorkingGroup.objects.filter(organisation=organisation, slug=group_slug).first()
    if group is None:
        raise Http404(_("%(org)s has no working group at this address.") % {"org": organisation})
    group.organisation = organisation
    return group


def _workbench_url(group: WorkingGroup) -> str:
    return reverse(
        "staff:selection",
        kwargs={"organisation_slug": group.organisation.slug, "group_slug": group.slug},
    )


def _back(group: WorkingGroup, anchor: str = "") -> HttpResponse:
    return redirect(_workbench_url(group) + (f"#{anchor}" if anchor else ""))


@require_GET
@secretariat_required
@page_cached
def staff_index(request: HttpRequest) -> HttpResponse:
    organisation = request.organisation  # type: ignore[attr-defined]
    return render(
        request,
        "membership/staff/index.html",
        {"groups": selectors.groups_overview(organisation)},
    )


def _render_workbench(
    request: HttpRequest,
    group: WorkingGroup,
    *,
    workbench: Workbench | None = None,
    bulk_form: BulkActionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    workbench = workbench or workbench_for_group(group)
    bulk_form = bulk_form or BulkActionForm(workbench=workbench)
    return render(
        request,
        "membership/staff/selection.html",
        {
            "group": group,
            "workbench": workbench,
            "bulk_form": bulk_form,
            "selected_ids": bulk_form.selected_ids() if bulk_form.is_bound else set(),
            # Made text once: every seat's form lists them.
            "end_reasons": form_choices(SeatEndForm, "reason"),
            "cap_form": SeatCapForm(initial={"seat_cap": group.seat_cap}),
            "charts": _charts(workbench),
            "weights": DEFAULT_WEIGHTS,
        },
        status=status,
    )


def _charts(workbench: Workbench) -> list[dict[str, Any]]:
    """Each diversity dimension as a bar chart: the people holding seats or offers now, and the
    same with the proposed slate seated."""
    charts = []
    for dimension in workbench.dimensions:
        top = max([1, *(max(row.current, row.proposed) for row in dimension.rows)])
        series = [_("Now"), _("With the proposed slate")]
        charts.append(
            {
                "id": f"chart-{dimension.key}",
                # Focus areas have long names: that chart takes the whole width.
                "wide": dimension.key == FOCUS,
                "title": dimension.title,
                "series": series,
                "rows": [
                    {
                        "label": row.label,
                        "values": [
                            {"series": name, "value": value, "percent": round(100 * value / top)}
                            for name, value in zip(series, (row.current, row.proposed), strict=True)
                        ],
                    }
                    for row in dimension.rows
                ],
            }
        )
    return charts


def _attempt(request: HttpRequest, call: Callable[[], object], success: str) -> None:
    """Run one service call: a refusal becomes its message, success the given one."""
    try:
        call()
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success)


@require_GET
@secretariat_required
@page_cached
def selection_workbench(request: HttpRequest, group_slug: str) -> HttpResponse:
    return _render_workbench(request, _group(request, group_slug))


@require_POST
@secretariat_required
def selection_bulk(request: HttpRequest, group_slug: str) -> HttpResponse:
    group = _group(request, group_slug)
    workbench = workbench_for_group(group)
    form = BulkActionForm(request.POST, workbench=workbench)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return _render_workbench(request, group, workbench=workbench, bulk_form=form, status=400)
    outcomes = form.apply(acting_user=cast(User, request.user))
    done = [o for o in outcomes if o.ok]
    if done:
        messages.success(
            request,
            _("Done for %(n)d of %(total)d: %(list)s.")
            % {
                "n": len(done),
                "total": len(outcomes),
                "list": "; ".join(f"{person(o.application)} {o.message}" for o in done),
            },
        )
    for outcome in outcomes:
        if not outcome.ok:
            messages.error(
                request,
                _("Refused for %(who)s: %(why)s")
                % {"who": person(outcome.application), "why": outcome.message},
            )
    return _back(group, "applicants")


@require_POST
@secretariat_required
def application_reprioritise(request: HttpRequest, group_slug: str, pk: int) -> HttpResponse:
    group = _group(request, group_slug)
    application = (
        Application.objects.filter(pk=pk, group=group)
        .select_related("applicant", "profile__member")
        .first()
    )
    if application is None or application.status != Application.Status.WAITING:
        messages.error(
            request,
            _("That applicant is not on this group's waiting list. Nothing was changed."),
        )
        return _back(group, "waiting")
    form = ReorderForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return _back(group, "waiting")
    _attempt(
        request,
        lambda: services.application_reprioritise(
            application=application,
            priority=form.cleaned_data["priority"],
            reason=form.cleaned_data["reason"],
            acting_user=cast(User, request.user),
        ),
        _("%(who)s now has priority %(p)d on the waiting list.")
        % {"who": person(application), "p": form.cleaned_data["priority"]},
    )
    return _back(group, "waiting")


@require_POST
@secretariat_required
def seat_end(request: HttpRequest, group_slug: str, pk: int) -> HttpResponse:
    group = _group(request, group_slug)
    seat = Seat.objects.filter(pk=pk, group=group, ended_at__isnull=True).first()
    if seat is None:
        messages.error(request, _("That seat is not held in this group. Nothing was changed."))
        return _back(group, "seats")
    form = SeatEndForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return _back(group, "seats")
    _attempt(
        request,
        lambda: services.seat_end(
            seat=seat,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
            acting_user=cast(User, request.user),
        ),
        _("The seat of %(who)s has ended. The free seat is offered to the next on the list.")
        % {"who": seat.holder.full_name or seat.holder.email},
    )
    return _back(group, "seats")


@require_POST
@secretariat_required
def group_seat_cap(request: HttpRequest, group_slug: str) -> HttpResponse:
    group = _group(request, group_slug)
    form = SeatCapForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return _back(group)
    _attempt(
        request,
        lambda: services.group_seat_cap_change(
            group=group,
            seat_cap=form.cleaned_data["seat_cap"],
            acting_user=cast(User, request.user),
        ),
        _("The seat cap is now %(cap)d.") % {"cap": form.cleaned_data["seat_cap"]},
    )
    return _back(group)
