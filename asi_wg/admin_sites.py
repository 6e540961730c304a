"""The two admin sites.

- ``tenant_admin_site`` at ``/<slug>/admin/``: the secretariat's admin for one organisation. The
  tenant middleware has already activated that organisation's scope, so every scoped manager
  (lists, detail pages, foreign-key choices, autocompletes, import and export) sees only its
  rows. Access needs the secretariat role on that organisation; a signed-in person without it
  gets 404, so the admin of another tenant does not even confirm that it exists.
- ``platform_admin_site`` at ``/admin/``: for platform superusers, managing tenants and accounts.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from functools import update_wrapper
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.widgets import AdminSplitDateTime, RelatedFieldWidgetWrapper
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.base import ContentFile
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django_scopes import get_scope
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ConfirmImportForm
from import_export.tmp_storages import MediaStorage

from asi_wg.audit import audit_record
from asi_wg.exports import SafeCSV, SafeXLSX
from asi_wg.models import OrganisationRole
from asi_wg.pagecache import page_cached
from asi_wg.parsing import is_id
from asi_wg.roles import has_role


def _to_sign_in(request: HttpRequest) -> HttpResponseRedirect:
    query = urlencode({"next": request.GET.get("next") or request.get_full_path()})
    return HttpResponseRedirect(f"{settings.LOGIN_URL}?{query}")


def _has_role(request: HttpRequest, role: OrganisationRole) -> bool:
    """Whether the signed-in person holds ``role`` on the request's organisation (one query a
    request, whichever roles are asked)."""
    organisation = getattr(request, "organisation", None)
    if organisation is None:
        return False
    return has_role(request, role.value, organisation)


def is_secretariat(request: HttpRequest) -> bool:
    """Whether the signed-in person is the secretariat of the request's organisation (views,
    admin and the context processor all ask)."""
    return _has_role(request, OrganisationRole.SECRETARIAT)


def is_committee(request: HttpRequest) -> bool:
    """Whether the signed-in person sits on the Standards Committee of the request's
    organisation."""
    return _has_role(request, OrganisationRole.COMMITTEE)


class TenantAdminSite(admin.AdminSite):
    site_header = _("Secretariat")
    index_title = _("Working groups administration")
    enable_nav_sidebar = True

    def has_permission(self, request: HttpRequest) -> bool:
        return is_secretariat(request)

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        organisation = getattr(request, "organisation", None)
        if organisation is not None:
            context["site_header"] = f"{organisation.display_name} secretariat"
            context["site_title"] = f"{organisation.display_name} secretariat"
            context["site_url"] = f"/{organisation.slug}/"
        return context

    def admin_view(self, view: Callable[..., Any], cacheable: bool = False) -> Any:
        inner = super().admin_view(view, cacheable)

        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.user.is_authenticated and not self.has_permission(request):
                raise Http404(_("There is no such page."))
            return inner(request, *args, **kwargs)

        return update_wrapper(wrapper, view)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        if request.user.is_authenticated and not self.has_permission(request):
            raise Http404(_("There is no such page."))
        return _to_sign_in(request)

    def get_urls(self) -> list[Any]:
        # Django's "view on site" redirect looks objects up through the unscoped base manager;
        # TenantModelAdmin links to the page directly instead, so the route is left out.
        return [url for url in super().get_urls() if getattr(url, "name", None) != "view_on_site"]


class PlatformAdminSite(admin.AdminSite):
    site_header = _("Platform administration")
    site_title = _("Platform administration")

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        if request.user.is_authenticated:
            raise Http404(_("There is no such page."))
        return _to_sign_in(request)


tenant_admin_site = TenantAdminSite(name="tenant_admin")
platform_admin_site = PlatformAdminSite(name="admin")


IMPORT_FILE_NAME = re.compile(r"[0-9a-f]{32}")
"""The name a pending import is kept under between preview and confirmation: a random hex UUID,
made here and nowhere else. It is all the confirmation step may post back; the tenant's folder
is added on the server."""


def import_file_name_new() -> str:
    return uuid.uuid4().hex


class TenantImportStorage(MediaStorage):
    """Keeps an uploaded import between preview and confirmation in the tenant's own folder of
    the shared media storage: every web worker can read it, and a file name taken from another
    tenant's preview is simply not found.

    Only a name of the generated form (``IMPORT_FILE_NAME``) is ever joined to that folder, so a
    name like ``../other/<name>`` cannot reach another tenant's pending file (the storage would
    accept it: it only keeps paths inside the media root). ``TenantConfirmImportForm`` refuses
    such a name with a message first; the check here keeps any other caller out too.
    """

    name: str | None

    def __init__(self, **kwargs: Any) -> None:
        name = kwargs.get("name")
        if name is not None and not IMPORT_FILE_NAME.fullmatch(name):
            raise SuspiciousFileOperation("A pending import is only ever named by a hex UUID.")
        super().__init__(**kwargs)
        organisation = get_scope().get("organisation")
        slug = getattr(organisation, "slug", None)
        if not slug:
            raise PermissionError("An import is only ever stored within a tenant's scope.")
        self.MEDIA_FOLDER = f"import-export/{slug}"

    def save(self, data: bytes) -> None:
        if not self.name:
            self.name = import_file_name_new()
        path = self.get_full_path()
        saved = self._storage.save(path, ContentFile(data))  # type: ignore[attr-defined]
        if saved != path:  # renamed by the storage: the name posted back would not find it
            self._storage.delete(saved)  # type: ignore[attr-defined]
            raise FileExistsError(path)


class TenantConfirmImportForm(ConfirmImportForm):
    """The confirmation step's hidden fields. The stock form keeps only the last part of the
    posted file name (``../other/<name>`` becomes ``<name>``); here anything but the exact
    generated form is refused, unstripped and unaltered."""

    import_file_name = forms.CharField(widget=forms.HiddenInput(), strip=False)

    def clean_import_file_name(self) -> str:
        name = str(self.cleaned_data["import_file_name"])
        if not IMPORT_FILE_NAME.fullmatch(name):
            raise ValidationError(_("Not a file name this site gives out."), code="invalid")
        return name


class AccessibleAdminMixin:
    """Names for the inputs that the Django admin renders without a <label> (axe-core's WCAG
    2.2 AA "label" rule, tests/e2e/test_accessibility.py); mixed into every ModelAdmin of ours.

    - A date-and-time field is two inputs after the words "Date:" and "Time:", and the field's
      own label points at neither; each is named "<field>: date" and "<field>: time".
    - A changelist row's inputs (list_editable) sit in table cells with no label; each is named
      by its column and its row (RowLabelledChangelistForm).
    """

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
        widget = getattr(formfield, "widget", None)
        while isinstance(widget, RelatedFieldWidgetWrapper):
            widget = widget.widget
        if isinstance(widget, AdminSplitDateTime):
            name = capfirst(str(db_field.verbose_name))
            date, time = widget.widgets
            date.attrs.setdefault("aria-label", _("%(field)s: date") % {"field": name})
            time.attrs.setdefault("aria-label", _("%(field)s: time") % {"field": name})
        return formfield

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> Any:
        kwargs.setdefault("form", RowLabelledChangelistForm)
        return super().get_changelist_form(request, **kwargs)  # type: ignore[misc]


class RowLabelledChangelistForm(forms.ModelForm):
    """A changelist row's form (list_editable): Django puts each input in a table cell with no
    <label>, so a screen reader announces an unnamed box; name it by its column and its row."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("aria-label", f"{field.label} of {self.instance}")


class TenantModelAdmin(AccessibleAdminMixin, ImportExportModelAdmin):
    """A tenant-owned model's admin: secretariat only, tenant set on save, every change audited."""

    tmp_storage_class = TenantImportStorage
    confirm_form_class = TenantConfirmImportForm
    # Half Django's 100: a changelist's time is its rows' cells (six or so each, every one
    # formatted and escaped), and the largest lists (Members, the audit log) page anyway.
    list_per_page = 50
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    import_formats = [CSV, XLSX]
    # Every cell made inert for spreadsheets (asi_wg.exports), not only a leading "=".
    export_formats = [SafeCSV, SafeXLSX]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        # A list's GET, from the person's page cache while nothing in it has changed.
        return page_cached(super().changelist_view)(request, extra_context)

    def _admin_url(self, name: str) -> str:
        return reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_{name}"
        )

    def process_import(self, request: HttpRequest, **kwargs: Any) -> Any:
        if request.method == "POST":
            # import-export indexes its format list with the posted number unchecked, and the
            # stock confirmation page for a bad form offers the same bad form to confirm again.
            posted = request.POST.get("format", "")
            form = self.create_confirm_form(request)
            if "import_file_name" in form.errors:
                messages.error(
                    request,
                    _(
                        "This import cannot be confirmed: the file it names is not one this "
                        "site gave out. Nothing was imported. Upload the file again."
                    ),
                )
                return redirect(self._admin_url("import"))
            if form.errors or not (is_id(posted) and int(posted) < len(self.get_import_formats())):
                messages.error(
                    request, _("This import cannot be confirmed. Upload the file again.")
                )
                return redirect(self._admin_url("import"))
        try:
            return super().process_import(request, **kwargs)
        except FileNotFoundError:
            messages.error(
                request,
                _("This import is no longer waiting for confirmation. Upload the file again."),
            )
            return redirect(self._admin_url("import"))

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        kwargs = super().get_import_data_kwargs(**kwargs)
        # All or nothing on confirmation too: a row that fails now (the data changed since the
        # preview) rolls back every other row instead of being skipped.
        kwargs["rollback_on_validation_errors"] = True
        return kwargs

    def process_result(self, result: Any, request: HttpRequest) -> HttpResponse:
        if result.has_errors() or result.has_validation_errors():
            messages.error(
                request,
                _(
                    "Nothing was imported: the file no longer passes the checks (the data "
                    "changed since the preview). Upload it again to see the rows."
                ),
            )
            return redirect(self._admin_url("import"))
        return cast(HttpResponse, super().process_result(result, request))

    def export_action(self, request: HttpRequest) -> Any:
        # The export takes the list's filters from the query string; one that is not a filter
        # (a crafted or stale link) raises here, where the list itself would redirect.
        try:
            return super().export_action(request)
        except IncorrectLookupParameters:
            messages.error(request, _("That filter does not exist; exporting from the full list."))
            return redirect(self._admin_url("changelist"))

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form_class = super().get_form(request, obj, change, **kwargs)
        if not _has_field(self.model, "organisation"):
            return form_class
        organisation = request.organisation  # type: ignore[attr-defined]

        class TenantForm(form_class):  # type: ignore[valid-type,misc]
            """Validates the constraints that include the organisation, which is not a field
            of the form and so would otherwise first be checked by the database (a 500)."""

            def _post_clean(self) -> None:
                if self.instance.organisation_id is None:
                    self.instance.organisation = organisation
                super()._post_clean()
                try:
                    self.instance.validate_constraints()
                except ValidationError as error:
                    self._update_errors(error)

        TenantForm.__name__ = form_class.__name__
        return TenantForm

    def _allowed(self, request: HttpRequest) -> bool:
        return is_secretariat(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_import_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request) and bool(self.resource_classes)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request) and bool(self.resource_classes)

    def get_resource_kwargs(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> dict[str, Any]:
        kwargs = super().get_resource_kwargs(request, *args, **kwargs)
        kwargs["organisation"] = request.organisation  # type: ignore[attr-defined]
        kwargs["user"] = request.user
        return kwargs

    def get_view_on_site_url(self, obj: Any = None) -> str | None:
        if obj is None or not self.view_on_site or not hasattr(obj, "get_absolute_url"):
            return None
        return str(obj.get_absolute_url())

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        exclude = list(super().get_exclude(request, obj) or [])
        if _has_field(self.model, "organisation"):
            exclude.append("organisation")
        return exclude

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change and _has_field(self.model, "organisation"):
            obj.organisation = request.organisation  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)

    # Django calls these inside the admin's transaction, right after the change is saved.
    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        self._audit(request, obj, "admin.add", {"changes": _plain(message)})
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        self._audit(request, obj, "admin.change", {"changes": _plain(message)})
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            self._audit(request, obj, "admin.delete", {})
        return super().log_deletions(request, queryset)

    def _audit(self, request: HttpRequest, obj: Any, action: str, data: dict[str, Any]) -> None:
        audit_record(
            organisation=request.organisation,  # type: ignore[attr-defined]
            actor=request.user,  # type: ignore[arg-type]
            action=action,
            target=obj,
            data=data,
        )


def _has_field(model: type[models.Model], name: str) -> bool:
    return any(field.name == name for field in model._meta.get_fields())


def _plain(message: Any) -> Any:
    return message if isinstance(message, list | str) else str(message)
