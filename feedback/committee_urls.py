"""The Standards Committee's pages, mounted at /<org-slug>/committee/."""

from django.urls import path

from feedback import committee_views

app_name = "feedback_committee"

urlpatterns = [
    path("summaries/", committee_views.index, name="index"),
    path("summaries/rounds/<int:pk>/", committee_views.round_summary, name="round"),
    path(
        "summaries/groups/<slug:slug>/documents/<int:document_pk>/",
        committee_views.group_summary,
        name="group",
    ),
    path("summaries/documents/<int:pk>/", committee_views.document_summary, name="document"),
    path(
        "summaries/rounds/<int:pk>/iso.<str:file_format>",
        committee_views.iso_round,
        name="iso_round",
    ),
    path(
        "summaries/documents/<int:pk>/iso.<str:file_format>",
        committee_views.iso_document,
        name="iso_document",
    ),
]
