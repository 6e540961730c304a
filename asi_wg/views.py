from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from asi_wg.models import Organisation


def platform_home(request: HttpRequest) -> HttpResponse:
    organisations = Organisation.objects.order_by("name")
    return render(request, "platform_home.html", {"organisations": organisations})


def tenant_admin_unmounted(request: HttpRequest, **kwargs: object) -> HttpResponse:
    # Only reached if the tenant middleware is missing from MIDDLEWARE.
    raise Http404("The secretariat admin is served by the tenant middleware.")
