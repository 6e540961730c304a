"""The participant's pages, mounted under /<organisation-slug>/ (views get request.organisation)."""

from django.urls import path

from membership import views

app_name = "membership"

urlpatterns = [
    path("me/", views.dashboard, name="dashboard"),
    path("me/profile/", views.profile_edit, name="profile"),
    path(
        "me/applications/<int:pk>/withdraw/",
        views.application_withdraw,
        name="application_withdraw",
    ),
    path("me/offers/<int:pk>/accept/", views.offer_accept, name="offer_accept"),
    path("me/offers/<int:pk>/decline/", views.offer_decline, name="offer_decline"),
    path("me/data.json", views.data_export, name="data_export"),
    path("me/erase/", views.erase, name="erase"),
    path("groups/<slug:group_slug>/apply/", views.apply, name="apply"),
    path("antitrust/", views.antitrust, name="antitrust"),
]
