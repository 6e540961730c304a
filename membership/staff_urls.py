"""The secretariat's staff screens, mounted at /<org-slug>/staff/."""

from django.urls import path

from membership import staff_views

app_name = "staff"

urlpatterns = [
    path("", staff_views.staff_index, name="index"),
    path(
        "groups/<slug:group_slug>/selection/",
        staff_views.selection_workbench,
        name="selection",
    ),
    path(
        "groups/<slug:group_slug>/selection/bulk/",
        staff_views.selection_bulk,
        name="selection_bulk",
    ),
    path(
        "groups/<slug:group_slug>/selection/cap/",
        staff_views.group_seat_cap,
        name="seat_cap",
    ),
    path(
        "groups/<slug:group_slug>/selection/applications/<int:pk>/priority/",
        staff_views.application_reprioritise,
        name="reprioritise",
    ),
    path(
        "groups/<slug:group_slug>/selection/seats/<int:pk>/end/",
        staff_views.seat_end,
        name="seat_end",
    ),
]
