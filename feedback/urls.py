"""The participant's feedback pages, mounted under /<organisation-slug>/."""

from django.urls import path

from feedback import views

app_name = "feedback"

urlpatterns = [
    path("feedback/", views.round_list, name="list"),
    path("feedback/rounds/<int:pk>/", views.round_overview, name="round"),
    path("feedback/rounds/<int:pk>/criteria/<int:criterion_pk>/", views.answer, name="answer"),
    path(
        "feedback/rounds/<int:pk>/criteria/<int:criterion_pk>/autosave/",
        views.autosave,
        name="autosave",
    ),
]
