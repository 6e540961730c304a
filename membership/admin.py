"""Accounts in the platform admin (superusers only), and the secretariat's tenant admin for
Members, participants, the antitrust policy, applications, seats and offers.

Writes that have a service go through it: publishing a policy version
(``antitrust_policy_publish``) and inviting an expert (``expert_invite``). Applications, seats
and offers are read-only here; selection happens on the staff workbench.
"""

from __future__ import annotations

import zipfile
from io import BytesIO
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from import_export.formats.base_formats import CSV, XLSX
from tablib import Dataset
from tablib.exceptions import InvalidDimensions

from asi_wg.admin_sites import (
    AccessibleAdminMixin,
    TenantModelAdmin,
    platform_admin_site,
    tenant_admin_site,
)
from asi_wg.errors import DomainError
from asi_wg.models import User
from asi_wg.parsing import is_id
from membership import services
from membership.models import (
    AntitrustPolicy,
    Application,
    Member,
    MembershipClass,
    Offer,
    ParticipantProfile,
    Seat,
    ValueChainSegment,
)
from membership.regions import REGIONS, UNKNOWN
from membership.resources import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    MemberResource,
    formula_problem,
)

# --- Platform admin ---------------------------------------------------------------------------


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class UserAdmin(AccessibleAdminMixin, BaseUserAdmin):
    add_form = UserCreationForm
    form = UserEditForm
    ordering = ("email",)
    list_display = ("email", "full_name", "is_active", "is_staff", "is_superuser", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("full_name", "time_zone")}),
        (_("Platform access"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ()


platform_admin_site.register(User, UserAdmin)


# --- Shared pieces ----------------------------------------------------------------------------


class UniqueNameForm(forms.ModelForm):
    """Refuses a name the tenant already uses, in any letter case, or one that starts like a
    spreadsheet formula.

    The organisation is not a form field, so Django's own check of the (organisation, name)
    constraint is skipped and a duplicate would reach the database as an IntegrityError. The
    scoped manager limits the check to the tenant whose admin this is. (No ``Meta`` here: the
    admin builds the form per request, inside the tenant's scope, since building a form with
    a foreign key at import time would query a scoped manager outside any scope.)
    """

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        problem = formula_problem(name)
        if problem is not None:  # refused here as in an import: exports must stay inert
            raise forms.ValidationError(problem)
        model = cast(Any, self._meta.model)
        taken = model.objects.filter(name__iexact=name)
        if self.instance.pk is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(
                _("%(model)s “%(name)s” already exists.")
                % {"model": model._meta.verbose_name, "name": name}
            )
        return name


class ReadOnlyTenantAdmin(TenantModelAdmin):
    """A list and a view page: nothing is added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- Members ----------------------------------------------------------------------------------


class FormulaAwareXLSX(XLSX):
    """XLSX read with formulas as written, not as their cached results.

    The stock reader loads cached values, so ``=HYPERLINK("http://x","y")`` would arrive as
    "y" (or as nothing, when no spreadsheet program ever computed it) and slip past the
    formula check. Read as written, it is refused like the same text in a CSV.
    """

    def create_dataset(self, in_stream: bytes) -> Dataset:  # type: ignore[override]
        import openpyxl

        book = openpyxl.load_workbook(BytesIO(in_stream), read_only=True, data_only=False)
        try:
            rows = [list(row) for row in book.active.iter_rows(values_only=True)]  # type: ignore[union-attr]
        finally:
            book.close()
        # Rows of a sheet may be ragged; an extra cell with a value becomes an unnamed column,
        # which the resource reports.
        width = max((len(row) for row in rows), default=0)
        dataset = Dataset()
        if not rows:
            return dataset
        dataset.headers = rows[0] + [None] * (width - len(rows[0]))
        for row in rows[1:]:
            dataset.append(row + [None] * (width - len(row)))
        return dataset


class RegionFilter(admin.SimpleListFilter):
    """The six regions of the selection criteria, listed without a query."""

    title = _("region")
    parameter_name = "region"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(region, region) for region in [*REGIONS, UNKNOWN]]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Member]) -> QuerySet[Member]:
        return queryset.filter(region=self.value()) if self.value() else queryset


def _country_name(obj: Member | ParticipantProfile) -> str | None:
    # The name straight from the code: the admin's display of a field with choices builds all
    # 250 countries' choices twice for every row (60% of the Members list's time).
    return obj.country.name if obj.country else None


@admin.register(Member, site=tenant_admin_site)
class MemberAdmin(TenantModelAdmin):
    form = UniqueNameForm
    resource_classes = [MemberResource]
    import_formats = [CSV, FormulaAwareXLSX]
    import_template_name = "admin/membership/member/import.html"
    list_display = (
        "name",
        "membership_class",
        "country_name",
        "region",
        "size_band",
        "perspective",
        "is_current",
    )
    list_filter = (
        "membership_class",
        RegionFilter,
        "perspective",
        "size_band",
        "is_current",
        "name_in_publications",
    )
    list_select_related = ("membership_class",)
    search_fields = ("name",)
    filter_horizontal = ("segments",)
    readonly_fields = ("region",)
    fields = (
        "name",
        "membership_class",
        "segments",
        ("country", "region"),
        "size_band",
        "perspective",
        "is_current",
        "joined_on",
        "name_in_publications",
    )

    @admin.display(description=_("country"), ordering="country")
    def country_name(self, member: Member) -> str | None:
        return _country_name(member)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A Member's seats and representatives are history: a Member who leaves is marked as no
        # longer current (which ends their eligibility), never deleted.
        return False

    def get_import_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_import_context_data(**kwargs)
        # Lazy: evaluated while the page renders, inside the tenant's scope.
        context["membership_classes"] = MembershipClass.objects.all()
        context["value_chain_segments"] = ValueChainSegment.objects.all()
        context["required_columns"] = REQUIRED_COLUMNS
        context["optional_columns"] = OPTIONAL_COLUMNS
        return context

    def add_data_read_fail_error_to_form(self, form: Any, e: Exception) -> None:
        """Say in plain words why the file could not be read (the stock text names the
        exception class)."""
        if isinstance(e, UnicodeDecodeError):
            message = _(
                "This file is not UTF-8 text, so it cannot be read as CSV. In Excel, save it as "
                "“CSV UTF-8 (Comma delimited)”, or upload the .xlsx file with the format xlsx."
            )
        elif isinstance(e, InvalidDimensions):
            message = _(
                "Some rows of this file have more or fewer cells than the header row has "
                "columns. Check for stray commas or line breaks, or upload the .xlsx file."
            )
        elif isinstance(e, zipfile.BadZipFile | KeyError | OSError):
            message = _(
                "This file is not an .xlsx workbook. Choose the format that matches the file."
            )
        else:
            message = _(
                "This file could not be read in the chosen format. Choose the format that "
                "matches the file (csv or xlsx)."
            )
        form.add_error("import_file", message)


@admin.register(MembershipClass, ValueChainSegment, site=tenant_admin_site)
class TenantListAdmin(TenantModelAdmin):
    """The tenant's own lists (membership classes, value-chain segments): name and order."""

    form = UniqueNameForm
    list_display = ("name", "position")
    list_editable = ("position",)
    ordering = ("position", "name")
    search_fields = ("name",)


# --- Participants -----------------------------------------------------------------------------


@admin.register(ParticipantProfile, site=tenant_admin_site)
class ParticipantProfileAdmin(ReadOnlyTenantAdmin):
    """Profiles are written by their people; the secretariat reads them and invites experts."""

    list_display = (
        "email",
        "full_name",
        "affiliation",
        "member",
        "expert_organisation",
        "country_name",
        "name_consent",
        "expert_invited_at",
    )
    list_filter = ("affiliation", "name_consent")
    list_select_related = ("user", "member", "organisation")  # str(profile) names both
    search_fields = ("user__email", "user__full_name", "member__name", "expert_organisation")
    actions = ["invite_as_expert"]

    @admin.display(description=_("country"), ordering="country")
    def country_name(self, profile: ParticipantProfile) -> str | None:
        return _country_name(profile)

    readonly_fields = (
        "email",
        "full_name",
        "affiliation",
        "member",
        "expert_organisation",
        "expert_invited_at",
        "job_title",
        "country",
        "languages",
        "interpretation_needs",
        "expertise",
        "name_consent",
        "name_consent_at",
    )
    fields = readonly_fields

    @admin.display(description=_("e-mail address"), ordering="user__email")
    def email(self, profile: ParticipantProfile) -> str:
        return profile.user.email

    @admin.display(description=_("name"), ordering="user__full_name")
    def full_name(self, profile: ParticipantProfile) -> str:
        return profile.user.full_name

    def response_action(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        # Django filters by the posted ids as they come: a non-number would be a 500.
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if not all(is_id(pk) for pk in selected):
            self.message_user(request, _("Select profiles from the list."), messages.WARNING)
            return None
        return super().response_action(request, queryset)

    @admin.action(description=_("Invite as technical expert"))
    def invite_as_expert(
        self, request: HttpRequest, queryset: QuerySet[ParticipantProfile]
    ) -> None:
        invited, already, refused = 0, 0, []
        for profile in queryset.select_related("user", "organisation"):
            was_invited = profile.expert_invited_at is not None
            try:
                services.expert_invite(profile=profile, acting_user=cast(User, request.user))
            except DomainError:
                refused.append(profile.user.email)
                continue
            if was_invited:
                already += 1
            else:
                invited += 1
        if invited:
            messages.success(
                request, _("%(count)d technical expert(s) invited.") % {"count": invited}
            )
        if already:
            messages.info(request, _("%(count)d had been invited already.") % {"count": already})
        if refused:
            messages.warning(
                request,
                _("Not invited, as they are not technical experts: %(people)s.")
                % {"people": ", ".join(refused)},
            )


# --- Antitrust policy -------------------------------------------------------------------------


class AntitrustPolicyForm(forms.ModelForm):
    class Meta:
        model = AntitrustPolicy
        fields = ("title", "body")


@admin.register(AntitrustPolicy, site=tenant_admin_site)
class AntitrustPolicyAdmin(TenantModelAdmin):
    """Each save publishes a new version through the service; a published one never changes."""

    form = AntitrustPolicyForm
    list_display = ("version", "title", "published_at", "published_by")
    list_display_links = ("version", "title")
    list_select_related = ("published_by",)
    search_fields = ("title",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("title", "body")
        return ("version", "title", "body", "published_at", "published_by")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.get_fields(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        policy = services.antitrust_policy_publish(
            organisation=request.organisation,  # type: ignore[attr-defined]
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
            acting_user=cast(User, request.user),
        )
        # The admin goes on with ``obj`` (the message, the log entry): make it the saved row.
        for field in AntitrustPolicy._meta.concrete_fields:
            setattr(obj, field.attname, getattr(policy, field.attname))
        obj._state.adding = False
        obj._state.db = policy._state.db

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        # The service wrote the audit entry ("antitrust.publish"); keep only Django's log.
        return admin.ModelAdmin.log_addition(self, request, obj, message)


# --- Applications, seats, offers --------------------------------------------------------------


@admin.register(Application, site=tenant_admin_site)
class ApplicationAdmin(ReadOnlyTenantAdmin):
    list_display = ("group", "applicant_email", "status", "priority", "applied_at")
    list_filter = ("group", "status")
    list_select_related = ("group", "applicant")
    search_fields = ("applicant__email", "applicant__full_name")

    @admin.display(description=_("applicant"), ordering="applicant__email")
    def applicant_email(self, application: Application) -> str:
        return application.applicant.email


@admin.register(Seat, site=tenant_admin_site)
class SeatAdmin(ReadOnlyTenantAdmin):
    list_display = (
        "group",
        "holder_email",
        "member",
        "affiliation",
        "started_at",
        "ended_at",
        "end_reason",
    )
    list_filter = (
        "group",
        "affiliation",
        ("ended_at", admin.EmptyFieldListFilter),
        "end_reason",
    )
    list_select_related = ("group", "holder", "member")
    search_fields = ("holder__email", "holder__full_name", "member__name")

    @admin.display(description=_("participant"), ordering="holder__email")
    def holder_email(self, seat: Seat) -> str:
        return seat.holder.email


@admin.register(Offer, site=tenant_admin_site)
class OfferAdmin(ReadOnlyTenantAdmin):
    list_display = (
        "group",
        "applicant_email",
        "status",
        "offered_at",
        "expires_at",
        "responded_at",
    )
    list_filter = ("group", "status")
    list_select_related = ("group", "application__applicant")
    search_fields = ("application__applicant__email",)

    @admin.display(description=_("applicant"), ordering="application__applicant__email")
    def applicant_email(self, offer: Offer) -> str:
        return offer.application.applicant.email
