"""Pages of a tenant: its groups, each group's scope, focus areas and linkages, and the
participants' answer to a proposed extension."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from asi_wg.errors import DomainError
from asi_wg.models import User
from asi_wg.pagecache import page_cached
from groups import selectors, services
from groups.forms import ExtensionAnswerForm
from groups.models import ExtensionAnswer, GroupRole, PhaseExtension
from groups.page import group_page_context


@page_cached
def organisation_home(request: HttpRequest) -> HttpResponse:
    organisation = request.organisation  # type: ignore[attr-defined]
    # Lazy: the page's cached fragment, when there is one, reads neither.
    return render(
        request,
        "groups/organisation_home.html",
        {
            "groups": SimpleLazyObject(
                lambda: selectors.groups_for_organisation(organisation=organisation)
            ),
            "objectives": selectors.objectives_for_organisation(organisation=organisation),
        },
    )


@page_cached
def group_detail(request: HttpRequest, group_slug: str) -> HttpResponse:
    organisation = request.organisation  # type: ignore[attr-defined]
    group = selectors.group_detail(organisation=organisation, slug=group_slug)
    if group is None:
        raise Http404(_("%(org)s has no working group at this address.") % {"org": organisation})
    return render(
        request,
        "groups/group_detail.html",
        {
            "group": group,
            "details": selectors.GroupDetails(group),
            "open_extensions": selectors.open_extensions_for_participant(
                group=group, request=request
            ),
            **group_page_context(group=group, request=request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def extension_answer(request: HttpRequest, group_slug: str, pk: int) -> HttpResponse:
    organisation = request.organisation  # type: ignore[attr-defined]
    extension = (
        PhaseExtension.objects.filter(
            pk=pk, group__slug=group_slug, group__organisation=organisation
        )
        .select_related("group", "from_phase")
        .first()
    )
    # Only the group's participants see an extension; to anyone else it does not exist.
    if extension is None or not request.user.has_perm(
        f"groups.{GroupRole.PARTICIPANT.value}", extension.group
    ):
        raise Http404(_("There is no such extension."))
    participant = cast(User, request.user)
    current = ExtensionAnswer.objects.filter(extension=extension, participant=participant).first()
    form = ExtensionAnswerForm(
        request.POST or None,
        initial={"answer": current.answer, "comment": current.comment} if current else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.phase_extension_answer(
                extension=extension,
                participant=participant,
                answer=ExtensionAnswer.Answer(form.cleaned_data["answer"]),
                comment=form.cleaned_data["comment"],
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Thank you: your answer is recorded."))
            return redirect(extension.group.get_absolute_url())
    return render(
        request,
        "groups/extension_answer.html",
        {"extension": extension, "form": form, "current": current},
    )
