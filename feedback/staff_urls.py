"""The secretariat's feedback screens, mounted at /<org-slug>/staff/ (after meetings')."""

from django.urls import path

from feedback import staff_views

app_name = "feedback_staff"

urlpatterns = [
    path("feedback/", staff_views.rounds, name="rounds"),
    path("feedback/rounds/<int:pk>/", staff_views.triage, name="triage"),
    path("feedback/rounds/<int:pk>/publish/", staff_views.publish, name="publish"),
    path("feedback/rounds/<int:pk>/extend/", staff_views.round_extend, name="extend"),
    path("feedback/rounds/<int:pk>/iso.<str:file_format>", staff_views.iso_round, name="iso_round"),
    path("feedback/rounds/<int:pk>/synopsis/", staff_views.synopsis_review, name="synopsis"),
    path(
        "feedback/documents/<int:pk>/iso.<str:file_format>",
        staff_views.iso_document,
        name="iso_document",
    ),
    path(
        "feedback/rounds/<int:pk>/<str:action>/",
        staff_views.round_change,
        name="change",
    ),
]
