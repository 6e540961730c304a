from django.conf import settings
from django.urls import include, path, re_path

from asi_wg import health, views
from asi_wg.admin_sites import platform_admin_site
from asi_wg.tenancy import TENANT_ADMIN_URL_NAME

urlpatterns = [
    path("", views.platform_home, name="platform_home"),
    path("healthz", health.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("admin/", platform_admin_site.urls),
    # Served by the tenant middleware through TENANT_ADMIN_URLCONF; listed so that the URL
    # exists for CommonMiddleware's slash handling and so the middleware can recognise it.
    re_path(
        r"^(?P<organisation_slug>[-a-zA-Z0-9_]+)/admin/",
        views.tenant_admin_unmounted,
        name=TENANT_ADMIN_URL_NAME,
    ),
    path("<slug:organisation_slug>/", include("groups.urls")),
    path("<slug:organisation_slug>/", include("membership.urls")),
    path("<slug:organisation_slug>/", include("meetings.urls")),
    path("<slug:organisation_slug>/", include("feedback.urls")),
    path("<slug:organisation_slug>/", include("feedback.public_urls")),
    path("<slug:organisation_slug>/staff/", include("membership.staff_urls")),
    path("<slug:organisation_slug>/staff/", include("meetings.staff_urls")),
    path("<slug:organisation_slug>/staff/", include("feedback.staff_urls")),
    path("<slug:organisation_slug>/committee/", include("feedback.committee_urls")),
    path("<slug:organisation_slug>/committee/", include("feedback.pdf_urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
