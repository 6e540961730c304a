"""STUB (dropped at merge): the participant pages come from the feat-form branch."""

from django.http import HttpRequest, HttpResponse


def round_list(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Feedback rounds")


def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return HttpResponse("Feedback round")
