"""The committee's PDF summaries, under /<org>/committee/summaries/pdf/."""

from django.urls import path

from feedback import pdf_views

app_name = "feedback_pdf"

urlpatterns = [
    # Before the request's pattern, whose <kind> would also match "files".
    path("summaries/pdf/files/<int:file_id>/", pdf_views.pdf_status, name="status"),
    path(
        "summaries/pdf/files/<int:file_id>/download/",
        pdf_views.pdf_download,
        name="download",
    ),
    path(
        "summaries/pdf/<slug:kind>/<int:object_id>/",
        pdf_views.pdf_request,
        name="request",
    ),
]
