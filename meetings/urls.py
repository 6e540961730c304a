"""The participant's meeting pages and calendars, mounted under /<organisation-slug>/."""

from django.urls import path

from meetings import views

app_name = "meetings"

urlpatterns = [
    path("meetings/", views.meeting_list, name="list"),
    path("meetings/<uuid:uid>/", views.meeting_detail, name="detail"),
    path("meetings/<uuid:uid>/calendar.ics", views.meeting_ics, name="ics"),
    path("meetings/<uuid:uid>/apologies/", views.apology_send, name="apology_send"),
    path(
        "meetings/<uuid:uid>/apologies/withdraw/",
        views.apology_withdraw,
        name="apology_withdraw",
    ),
    path(
        "meetings/<uuid:uid>/interpretation/",
        views.interpretation_request,
        name="interpretation_request",
    ),
    path(
        "meetings/<uuid:uid>/interpretation/withdraw/",
        views.interpretation_withdraw,
        name="interpretation_withdraw",
    ),
    path("meetings/materials/<int:pk>/", views.material_download, name="material"),
    path("me/calendar/", views.calendar_settings, name="calendar"),
    path("calendar/<str:token>.ics", views.feed, name="feed"),
]
