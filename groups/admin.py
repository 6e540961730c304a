"""The secretariat's admin for groups, phases and objectives (tenant-scoped), and tenants
in the platform admin."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets as admin_widgets
from django.core.cache import cache
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from guardian.shortcuts import get_users_with_perms

from asi_wg.admin_sites import (
    AccessibleAdminMixin,
    TenantModelAdmin,
    platform_admin_site,
    tenant_admin_site,
)
from asi_wg.audit import audit_record
from asi_wg.errors import DomainError
from asi_wg.models import AuditEntry, Organisation, OrganisationRole, OrganisationSettings, User
from asi_wg.parsing import is_id
from asi_wg.urls_helpers import root_reverse
from groups import selectors, services
from groups.forms import ExtensionDecideForm, ExtensionProposeForm
from groups.models import (
    ExtensionAnswer,
    FocusArea,
    GroupLinkage,
    Phase,
    PhaseExtension,
    RevisionObjective,
    Standard,
    WorkingGroup,
)
from groups.resources import (
    FocusAreaResource,
    GroupLinkageResource,
    PhaseResource,
    StandardResource,
    WorkingGroupResource,
)


class FocusAreaInline(admin.TabularInline):
    model = FocusArea
    fields = ("position", "title", "parent")
    extra = 0
    ordering = ("position", "id")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "parent":
            kwargs["queryset"] = FocusArea.objects.filter(parent__isnull=True).select_related(
                "group"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class LinkageInline(admin.TabularInline):
    model = GroupLinkage
    fk_name = "from_group"
    fields = ("to_group", "note")
    extra = 0
    autocomplete_fields = ("to_group",)


class PhaseInline(admin.TabularInline):
    model = Phase
    fields = ("number", "name", "starts_on", "ends_on", "meetings_min", "meetings_max", "status")
    extra = 0


@admin.register(WorkingGroup, site=tenant_admin_site)
class WorkingGroupAdmin(TenantModelAdmin):
    resource_classes = [WorkingGroupResource]
    list_display = ("number", "name", "theme", "seat_cap", "parent")
    list_display_links = ("name",)
    list_select_related = ("parent",)
    search_fields = ("name", "theme", "scope")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("parent",)
    filter_horizontal = ("standards",)
    inlines = [FocusAreaInline, LinkageInline, PhaseInline]
    fieldsets = (
        (None, {"fields": ("number", "name", "slug", "theme", "parent", "seat_cap")}),
        (_("Scope"), {"fields": ("summary", "scope", "standards")}),
    )
    actions = ["archive_groups", "restore_groups"]

    # The seat cap of an existing group changes only through the workbench's service, which
    # locks the group, refuses a cap below the seats held and offers the seats a rise frees.
    # A new group has no seats yet, so the add form sets it.
    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return self.fieldsets
        (name, options), *rest = self.fieldsets
        fields = tuple("seat_cap_on_workbench" if f == "seat_cap" else f for f in options["fields"])
        return ((name, {**options, "fields": fields}), *rest)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("seat_cap_on_workbench",) if obj is not None else ()

    @admin.display(description=_("seat cap"))
    def seat_cap_on_workbench(self, group: WorkingGroup) -> str:
        url = root_reverse(
            "staff:selection",
            kwargs={"organisation_slug": group.organisation.slug, "group_slug": group.slug},
        )
        return format_html(
            '{} <a href="{}#seat-cap">{}</a>',
            group.seat_cap,
            url,
            _("Change it on the selection workbench"),
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a group keeps its history: archive it instead

    @admin.action(description=_("Archive the selected groups"))
    def archive_groups(self, request: HttpRequest, queryset: Any) -> None:
        self._each(request, queryset, services.group_archive, _("%(count)d groups archived."))

    @admin.action(description=_("Restore the selected archived groups"))
    def restore_groups(self, request: HttpRequest, queryset: Any) -> None:
        self._each(request, queryset, services.group_restore, _("%(count)d groups restored."))

    def _each(self, request: HttpRequest, queryset: Any, service: Any, done: Any) -> None:
        count = 0
        for group in queryset:
            try:
                service(group=group, acting_user=cast(User, request.user))
            except DomainError as error:
                messages.error(request, str(error))
            else:
                count += 1
        if count:
            messages.success(request, done % {"count": count})

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        # Inline rows are changes too: each one is audited against the group.
        for obj in formset.new_objects + [o for o, _fields in formset.changed_objects]:
            self._audit(request, obj, "admin.inline_save", {})
        for obj in formset.deleted_objects:
            self._audit(request, obj, "admin.inline_delete", {})


@admin.register(FocusArea, site=tenant_admin_site)
class FocusAreaAdmin(TenantModelAdmin):
    resource_classes = [FocusAreaResource]
    list_display = ("title", "group", "position", "parent")
    list_filter = ("group",)
    list_select_related = ("group", "parent")
    search_fields = ("title", "description")
    autocomplete_fields = ("group", "parent")
    ordering = ("group__number", "position")


@admin.register(GroupLinkage, site=tenant_admin_site)
class GroupLinkageAdmin(TenantModelAdmin):
    resource_classes = [GroupLinkageResource]
    list_display = ("from_group", "to_group", "note")
    list_select_related = ("from_group", "to_group")
    autocomplete_fields = ("from_group", "to_group")


@admin.register(Phase, site=tenant_admin_site)
class PhaseAdmin(TenantModelAdmin):
    resource_classes = [PhaseResource]
    list_display = (
        "group",
        "number",
        "name",
        "starts_on",
        "ends_on",
        "meetings_range",
        "status",
        "extend",
    )
    list_filter = ("status", "group")
    list_select_related = ("group",)
    autocomplete_fields = ("group",)
    search_fields = ("name", "group__name")

    @admin.display(description=_("Further phase"))
    def extend(self, obj: Phase) -> str:
        url = reverse("tenant_admin:groups_phase_extend", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Ask participants"))

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:pk>/extend/",
                self.admin_site.admin_view(self.extend_view),
                name="groups_phase_extend",
            ),
            *super().get_urls(),
        ]

    def extend_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        phase = Phase.objects.filter(pk=pk).select_related("group").first()
        if phase is None:
            raise Http404(_("There is no such phase."))
        form = ExtensionProposeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                extension = services.phase_extension_propose(
                    phase=phase,
                    need=data["need"],
                    name=data["name"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    meetings_min=data["meetings_min"],
                    meetings_max=data["meetings_max"],
                    answers_due_on=data["answers_due_on"],
                    acting_user=cast(User, request.user),
                )
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request, _("The group's participants are asked to answer on their group page.")
                )
                return redirect("tenant_admin:groups_phaseextension_change", extension.pk)
        return render(
            request,
            "admin/groups/service_form.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Propose extending %(group)s beyond %(phase)s")
                % {"group": phase.group, "phase": phase.name},
                "intro": _(
                    "A group is extended into a further phase only if there is a need and its "
                    "participants agree. Each participant answers on the group's page."
                ),
                "form": form,
                "submit_label": _("Ask the participants"),
            },
        )


class ExtensionAnswerInline(admin.TabularInline):
    model = ExtensionAnswer
    fields = ("participant", "answer", "comment", "answered_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PhaseExtension, site=tenant_admin_site)
class PhaseExtensionAdmin(TenantModelAdmin):
    """Extensions are proposed, answered and decided through services; the admin shows them."""

    list_display = ("group", "proposed_name", "status", "answers_due_on", "decided_at")
    list_filter = ("status",)
    list_select_related = ("group",)
    readonly_fields = [f.name for f in PhaseExtension._meta.fields]
    inlines = [ExtensionAnswerInline]

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:pk>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="groups_phaseextension_decide",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra_context = extra_context or {}
        extra_context["decide_url"] = (
            reverse("tenant_admin:groups_phaseextension_decide", args=[object_id])
            if is_id(object_id)
            else None
        )
        return super().change_view(request, object_id, form_url, extra_context)

    def decide_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        extension = PhaseExtension.objects.filter(pk=pk).select_related("group").first()
        if extension is None:
            raise Http404(_("There is no such extension."))
        form = ExtensionDecideForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.phase_extension_decide(
                    extension=extension,
                    approve=form.cleaned_data["decision"] == "approve",
                    note=form.cleaned_data["note"],
                    acting_user=cast(User, request.user),
                )
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("The decision is recorded with every answer."))
                return redirect("tenant_admin:groups_phaseextension_change", extension.pk)
        return render(
            request,
            "admin/groups/service_form.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Decide: %(extension)s") % {"extension": extension},
                "intro": extension.need,
                "tally": selectors.phase_extension_tally(extension),
                "participant_count": len(selectors.group_participants(extension.group)),
                "form": form,
                "submit_label": _("Record the decision"),
            },
        )

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RevisionObjective, site=tenant_admin_site)
class RevisionObjectiveAdmin(TenantModelAdmin):
    list_display = ("number", "title")
    list_display_links = ("title",)
    search_fields = ("title", "description")


@admin.register(Standard, site=tenant_admin_site)
class StandardAdmin(TenantModelAdmin):
    resource_classes = [StandardResource]
    list_display = ("name", "version", "position")
    search_fields = ("name",)


# The audit trail only grows (hundreds of thousands of entries in a few years): its filters'
# choices are the distinct values of a column, a scan of the tenant's whole trail each. They are
# read on every page and change rarely, so they are kept for a few minutes per tenant; a choice
# that appears in the meantime can already be filtered on by its address.
AUDIT_CHOICES_SECONDS = 10 * 60


def _audit_choices(request: HttpRequest, column: str) -> list[str]:
    organisation = request.organisation  # type: ignore[attr-defined]
    key = f"admin-audit-choices:{organisation.pk}:{column}"
    values = cache.get(key)
    if values is None:
        values = list(
            AuditEntry.objects.filter(organisation=organisation)
            .order_by(column)
            .values_list(column, flat=True)
            .distinct()
        )
        cache.set(key, values, AUDIT_CHOICES_SECONDS)
    return cast(list[str], values)


class ActionFilter(admin.SimpleListFilter):
    """The audit trail's actions (the stock filter on the field, from a cached list)."""

    title = _("action")
    parameter_name = "action__exact"  # the stock filter's address

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(action, action) for action in _audit_choices(request, "action")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        value = self.value()
        return queryset if value is None else queryset.filter(action=value)


class TargetTypeFilter(admin.SimpleListFilter):
    """The kinds of object the entries are about, with a named choice for entries about none
    (an import, a setting): the stock filter would show that choice as an empty link."""

    title = _("about")
    parameter_name = "target_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (kind or "-", kind or str(_("No particular object")))
            for kind in _audit_choices(request, "target_type")
        ]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(target_type="" if value == "-" else value)


@admin.register(AuditEntry, site=tenant_admin_site)
class AuditEntryAdmin(TenantModelAdmin):
    list_display = ("created_at", "actor", "action", "target_type", "target_repr")
    list_filter = (ActionFilter, TargetTypeFilter)
    list_select_related = ("actor",)
    search_fields = ("target_repr", "action")
    date_hierarchy = "created_at"
    # The trail only grows: counting all of it again beside the filtered count on every page
    # is a second full count for a figure ("N total") nobody needs here.
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- Platform admin ---------------------------------------------------------------------------


class OrganisationForm(forms.ModelForm):
    website = forms.URLField(label=_("website"), required=False, assume_scheme="https")
    privacy_policy_url = forms.URLField(
        label=_("privacy policy"), required=False, assume_scheme="https"
    )
    secretariat = forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        widget=admin_widgets.FilteredSelectMultiple(_("secretariat"), is_stacked=False),
        help_text=_("People who run this organisation's working groups and its admin."),
    )
    committee = forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        widget=admin_widgets.FilteredSelectMultiple(_("committee"), is_stacked=False),
        help_text=_("Standards Committee members: they read summaries."),
    )

    class Meta:
        model = Organisation
        fields = (
            "name",
            "short_name",
            "slug",
            "time_zone",
            "website",
            "privacy_policy_url",
            "contact_email",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for role, field in (
                (OrganisationRole.SECRETARIAT, "secretariat"),
                (OrganisationRole.COMMITTEE, "committee"),
            ):
                self.fields[field].initial = get_users_with_perms(
                    self.instance, only_with_perms_in=[role.value], with_group_users=False
                )


@admin.register(Organisation, site=platform_admin_site)
class OrganisationAdmin(AccessibleAdminMixin, admin.ModelAdmin):
    form = OrganisationForm
    list_display = ("name", "slug", "time_zone", "created_at")
    search_fields = ("name", "slug")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting a tenant would take every group, seat and decision with it: that is an
        # operator's deliberate job in the database, not a button.
        return False

    # The platform's changes to a tenant go into that tenant's audit trail too (the role
    # changes are audited by their services).
    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        audit_record(
            organisation=obj,
            actor=cast(User, request.user),
            action="platform.add",
            target=obj,
            data={"changes": message},
        )
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        audit_record(
            organisation=obj,
            actor=cast(User, request.user),
            action="platform.change",
            target=obj,
            data={"changes": message},
        )
        return super().log_change(request, obj, message)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        organisation = form.instance
        acting_user = cast(User, request.user)
        with transaction.atomic():
            for role, field in (
                (OrganisationRole.SECRETARIAT, "secretariat"),
                (OrganisationRole.COMMITTEE, "committee"),
            ):
                wanted = set(form.cleaned_data[field])
                current = set(
                    get_users_with_perms(
                        organisation, only_with_perms_in=[role.value], with_group_users=False
                    )
                )
                for user in wanted - current:
                    services.organisation_role_grant(
                        organisation=organisation, user=user, role=role, acting_user=acting_user
                    )
                for user in current - wanted:
                    services.organisation_role_revoke(
                        organisation=organisation, user=user, role=role, acting_user=acting_user
                    )


@admin.register(OrganisationSettings, site=tenant_admin_site)
class OrganisationSettingsAdmin(TenantModelAdmin):
    """Only this tenant's row, only the settings the secretariat owns; no add, no delete."""

    fields = (
        "name",
        "short_name",
        "time_zone",
        "contact_email",
        "privacy_policy_url",
        "member_group_limit",
        "offer_hold_days",
        "missed_meetings_flag",
        "commitment_hours",
        "antitrust_statement",
    )
    readonly_fields = ("name",)
    list_display = ("name", "time_zone", "member_group_limit", "offer_hold_days")

    def get_queryset(self, request: HttpRequest) -> Any:
        return Organisation.objects.filter(pk=request.organisation.pk)  # type: ignore[attr-defined]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _audit(self, request: HttpRequest, obj: Any, action: str, data: dict[str, Any]) -> None:
        super()._audit(request, obj, action.replace("admin.", "settings."), data)
