"""The product's URLs and ``/bench/trivial``: the yardstick the benchmark divides each page by.

The issue measures every page against "a trivial view through the full middleware stack": a
view that reads nothing and renders nothing, so that what remains is routing, every middleware
and gunicorn. ``/healthz`` is not that (a query, a cache write and read, a broker connection),
so it is measured as a page like the others.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/trivial", trivial),
    path("", include("asi_wg.urls")),
]
