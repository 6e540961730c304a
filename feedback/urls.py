"""STUB (dropped at merge): the participant pages come from the feat-form branch; this only
makes the names ``feedback:list`` and ``feedback:round`` resolve for the e-mails' links."""

from django.urls import path

from feedback import views

app_name = "feedback"

urlpatterns = [
    path("feedback/", views.round_list, name="list"),
    path("feedback/rounds/<int:pk>/", views.round_detail, name="round"),
]
