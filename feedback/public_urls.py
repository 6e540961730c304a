"""The public synopses, mounted at /<org-slug>/ (no sign-in)."""

from django.urls import path

from feedback import public_views

app_name = "feedback_public"

urlpatterns = [
    path("synopses/", public_views.synopses, name="synopses"),
    path("synopses/<int:pk>/", public_views.synopsis_detail, name="synopsis"),
    path("synopses/<int:pk>/synopsis.pdf", public_views.synopsis_pdf, name="synopsis_pdf"),
]
