"""The committee's PDF summaries, under /<org>/committee/summaries/pdf/ (next to the summary pages
of ``feedback.committee_urls``, whose addresses these follow)."""

from django.urls import path

from feedback import pdf_views

app_name = "feedback_pdf"

urlpatterns = [
    path(
        "summaries/pdf/rounds/<int:object_id>/",
        pdf_views.pdf_request,
        {"kind": "round"},
        name="request_round",
    ),
    path(
        "summaries/pdf/groups/<slug:slug>/documents/<int:document_id>/",
        pdf_views.pdf_request_group,
        name="request_group",
    ),
    path(
        "summaries/pdf/documents/<int:object_id>/",
        pdf_views.pdf_request,
        {"kind": "document"},
        name="request_document",
    ),
    path("summaries/pdf/files/<int:file_id>/", pdf_views.pdf_status, name="status"),
    path(
        # Ends in .pdf: a file, not a page (the accessibility crawl skips such links).
        "summaries/pdf/files/<int:file_id>/download.pdf",
        pdf_views.pdf_download,
        name="download",
    ),
]
