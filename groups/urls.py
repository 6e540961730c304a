from django.urls import path

from groups import views

app_name = "groups"

urlpatterns = [
    path("", views.organisation_home, name="organisation_home"),
    path("groups/<slug:group_slug>/", views.group_detail, name="group_detail"),
    path(
        "groups/<slug:group_slug>/extensions/<int:pk>/",
        views.extension_answer,
        name="extension_answer",
    ),
]
