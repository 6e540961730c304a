"""URLconf of the secretariat's admin, mounted by the tenant middleware at /<slug>/admin/."""

from django.contrib import admin
from django.urls import path

from asi_wg.admin_sites import tenant_admin_site

admin.autodiscover()

urlpatterns = [path("", tenant_admin_site.urls)]
