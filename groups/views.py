"""Public pages of a tenant: its groups, and each group's scope, focus areas and linkages."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from groups import selectors


def organisation_home(request: HttpRequest) -> HttpResponse:
    organisation = request.organisation  # type: ignore[attr-defined]
    return render(
        request,
        "groups/organisation_home.html",
        {
            "groups": selectors.groups_for_organisation(organisation=organisation),
            "objectives": selectors.objectives_for_organisation(organisation=organisation),
        },
    )


def group_detail(request: HttpRequest, group_slug: str) -> HttpResponse:
    organisation = request.organisation  # type: ignore[attr-defined]
    group = selectors.group_detail(organisation=organisation, slug=group_slug)
    if group is None:
        raise Http404(_("%(org)s has no working group at this address.") % {"org": organisation})
    return render(request, "groups/group_detail.html", {"group": group})
