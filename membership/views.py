"""The participant's pages in one organisation: their dashboard, profile, applications, offers,
the antitrust policy, and their own data (export and erasure).

Thin: each view parses, calls one selector or service, and renders. Domain errors become
messages, never a 500. Rows are looked up through selectors that only return the signed-in
person's own rows in this organisation, so another person's id or another tenant's address is a
404 and changes nothing.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from asi_wg.errors import DomainError
from asi_wg.models import Organisation, User
from asi_wg.pagecache import page_cached
from asi_wg.urls_helpers import root_reverse
from membership import privacy, rules, selectors, services
from membership.forms import AntitrustAcknowledgeForm, ApplicationForm, EraseForm, ProfileForm
from membership.models import Application


def _organisation(request: HttpRequest) -> Organisation:
    return cast(Organisation, request.organisation)  # type: ignore[attr-defined]


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _dashboard_url(organisation: Organisation) -> str:
    return root_reverse("membership:dashboard", kwargs={"organisation_slug": organisation.slug})


def _safe_next(request: HttpRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


# --- Dashboard --------------------------------------------------------------------------------


@login_required
@require_GET
@page_cached
def dashboard(request: HttpRequest) -> HttpResponse:
    organisation = _organisation(request)
    return render(
        request,
        "membership/dashboard.html",
        {"dashboard": selectors.dashboard_for(organisation=organisation, user=_user(request))},
    )


# --- Profile ----------------------------------------------------------------------------------


def _add_model_errors(form: ProfileForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest) -> HttpResponse:
    organisation, user = _organisation(request), _user(request)
    profile = selectors.profile_for(organisation=organisation, user=user)
    form = ProfileForm(
        request.POST if request.method == "POST" else None,
        organisation=organisation,
        initial=ProfileForm.initial_for(user=user, profile=profile),
    )
    if request.method == "POST" and form.is_valid():
        try:
            privacy.person_profile_save(
                organisation=organisation,
                user=user,
                full_name=form.cleaned_data["full_name"],
                time_zone=form.cleaned_data["time_zone"],
                data=form.profile_data(),
            )
        except ValidationError as error:
            _add_model_errors(form, error)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect(_safe_next(request) or _dashboard_url(organisation))
    return render(
        request,
        "membership/profile_form.html",
        {"form": form, "profile": profile, "next": _safe_next(request) or ""},
    )


# --- Applications -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, group_slug: str) -> HttpResponse:
    organisation, user = _organisation(request), _user(request)
    group = selectors.group_for_application(organisation=organisation, slug=group_slug)
    if group is None:
        raise Http404(_("%(org)s has no working group at this address.") % {"org": organisation})
    profile = selectors.profile_for(organisation=organisation, user=user)
    existing = selectors.application_for_group(group=group, user=user)
    areas = selectors.focus_areas_in_order(group=group)
    form = ApplicationForm(
        request.POST if request.method == "POST" else None, group=group, areas=areas
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.application_submit(
                group=group,
                user=user,
                focus_areas=list(form.cleaned_data["focus_areas"]),
                statement=form.cleaned_data["statement"],
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Your application to %(group)s is received. Its status is shown below.")
                % {"group": group.name},
            )
            return redirect(_dashboard_url(organisation))
    return render(
        request,
        "membership/apply.html",
        {
            "group": group,
            "profile": profile,
            "eligibility": rules.eligibility(profile),
            "existing": existing,
            "already_applied": existing is not None
            and existing.status not in Application.REAPPLICABLE,
            "form": form,
            "areas": areas,
        },
    )


def _own_application(request: HttpRequest, pk: int) -> Any:
    application = selectors.application_of_person(
        organisation=_organisation(request), user=_user(request), pk=pk
    )
    if application is None:
        raise Http404(_("You have no such application."))
    return application


@login_required
@require_http_methods(["GET", "POST"])
def application_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _organisation(request)
    application = _own_application(request, pk)
    if request.method == "POST":
        try:
            if application.status in Application.DECIDED:
                # The service would also "withdraw" a decided application, which would let a
                # person who was not selected apply afresh: only open ones are withdrawn here.
                raise services.InvalidState(
                    _("This application is decided: there is nothing to withdraw.")
                )
            services.application_withdraw(application=application, acting_user=_user(request))
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("You withdrew your application to %(group)s.") % {"group": application.group},
            )
        return redirect(_dashboard_url(organisation))
    seated = application.status == Application.Status.SEATED
    return render(
        request,
        "membership/withdraw_confirm.html",
        {
            "application": application,
            "heading": (_("Step down from %(group)s?") if seated else _("Withdraw from %(group)s?"))
            % {"group": application.group.name},
            "confirm_label": _("Yes, step down") if seated else _("Yes, withdraw"),
        },
    )


# --- Offers -----------------------------------------------------------------------------------


def _own_offer(request: HttpRequest, pk: int) -> Any:
    offer = selectors.offer_of_person(
        organisation=_organisation(request), user=_user(request), pk=pk
    )
    if offer is None:
        raise Http404(_("No such offer was made to you."))
    return offer


@login_required
@require_POST
def offer_accept(request: HttpRequest, pk: int) -> HttpResponse:
    organisation, user = _organisation(request), _user(request)
    offer = _own_offer(request, pk)
    try:
        services.offer_accept(offer=offer, user=user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        if selectors.antitrust_status(organisation=organisation, user=user).acknowledged:
            messages.success(
                request, _("Welcome: you have a seat in %(group)s.") % {"group": offer.group}
            )
        else:
            messages.success(
                request,
                _("You have a seat in %(group)s. Acknowledge the antitrust policy to take part.")
                % {"group": offer.group},
            )
    return redirect(_dashboard_url(organisation))


@login_required
@require_http_methods(["GET", "POST"])
def offer_decline(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _organisation(request)
    offer = _own_offer(request, pk)
    if request.method == "POST":
        try:
            services.offer_decline(offer=offer, user=_user(request))
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("You declined the seat in %(group)s; it is offered to the next person.")
                % {"group": offer.group},
            )
        return redirect(_dashboard_url(organisation))
    return render(
        request,
        "membership/decline_confirm.html",
        {
            "offer": offer,
            "heading": _("Decline the seat in %(group)s?") % {"group": offer.group.name},
            "confirm_label": _("Yes, decline the seat"),
        },
    )


# --- The antitrust policy ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def antitrust(request: HttpRequest) -> HttpResponse:
    organisation = _organisation(request)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        user = _user(request)
        status = selectors.antitrust_status(organisation=organisation, user=user)
        form = AntitrustAcknowledgeForm(request.POST)
        if status.policy is None:
            messages.error(request, _("There is no policy to acknowledge yet."))
        elif not form.is_valid() or form.cleaned_data["version"] != status.policy.version:
            messages.error(
                request,
                _(
                    "That is not the current version of the policy. Read version %(version)d "
                    "below and acknowledge it."
                )
                % {"version": status.policy.version},
            )
        else:
            services.antitrust_acknowledge(
                organisation=organisation, user=user, policy=status.policy
            )
            messages.success(
                request,
                _("Thank you: you acknowledged version %(version)d of the policy.")
                % {"version": status.policy.version},
            )
            return redirect(_dashboard_url(organisation))
        return redirect(
            root_reverse("membership:antitrust", kwargs={"organisation_slug": organisation.slug})
        )
    status = selectors.antitrust_status(organisation=organisation, user=request.user)
    return render(request, "membership/antitrust.html", {"status": status})


# --- The person's own data --------------------------------------------------------------------


@login_required
@require_GET
def data_export(request: HttpRequest) -> HttpResponse:
    response = JsonResponse(
        privacy.person_data_export(user=_user(request)),
        json_dumps_params={"indent": 2, "ensure_ascii": False},
    )
    filename = f"my-data-{timezone.now():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def erase(request: HttpRequest) -> HttpResponse:
    organisation, user = _organisation(request), _user(request)
    form = EraseForm(request.POST if request.method == "POST" else None, user=user, request=request)
    if request.method == "POST" and form.is_valid():
        privacy.person_erase(organisation=organisation, user=user, acting_user=user)
        logout(request)
        messages.success(
            request,
            _(
                "Your personal data is erased and your account is closed. The groups keep an "
                "anonymous record of your applications and seats."
            ),
        )
        return redirect(organisation.get_absolute_url())
    return render(
        request,
        "membership/erase.html",
        {"form": form, "organisations": privacy.person_organisations(user=user)},
    )
