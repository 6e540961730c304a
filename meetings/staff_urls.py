"""The secretariat's meeting screens, mounted at /<org-slug>/staff/ (after membership's)."""

from django.urls import path

from meetings import staff_views

app_name = "meetings_staff"

urlpatterns = [
    path("meetings/", staff_views.meetings_index, name="index"),
    path(
        "meetings/<uuid:uid>/attendance/",
        staff_views.attendance_register,
        name="attendance",
    ),
    path(
        "meetings/<uuid:uid>/attendance/unmarked/",
        staff_views.attendance_unmarked,
        name="attendance_unmarked",
    ),
    path(
        "meetings/<uuid:uid>/attendance/report/",
        staff_views.attendance_report,
        name="attendance_report",
    ),
    path("meetings/<uuid:uid>/notes/", staff_views.meeting_notes, name="notes"),
    path("participation/", staff_views.participation, name="participation"),
    path(
        "participation/export.<str:file_format>",
        staff_views.participation_export,
        name="participation_export",
    ),
    path(
        "participation/seats/<int:pk>/step-down/",
        staff_views.step_down_request,
        name="step_down",
    ),
    path("participation/seats/<int:pk>/end/", staff_views.seat_end, name="seat_end"),
]
