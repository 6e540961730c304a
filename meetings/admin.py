"""The secretariat's admin for meetings and reading materials (tenant-scoped).

Every write goes through ``meetings.services``: scheduling numbers the meeting and sends the
invitations, a change calendars must see raises the revision and re-sends them, a cancellation
is an action (never a delete), and a material's file is checked from its content. The form
checks what the service would refuse first, so the secretariat sees a form error, not a 500.
"""

from __future__ import annotations

import zoneinfo
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from asi_wg.admin_sites import TenantModelAdmin, tenant_admin_site
from asi_wg.errors import DomainError
from asi_wg.models import User
from groups.models import Phase, WorkingGroup
from meetings import services, uploads
from meetings.models import LANGUAGES, Material, Meeting

ZONES = sorted(zoneinfo.available_timezones())
LOCAL_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class MeetingForm(forms.ModelForm):
    starts_local = forms.DateTimeField(
        label=_("Starts (in the time zone below)"),
        widget=LOCAL_INPUT,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=[(z, z) for z in ZONES])
    join_url = forms.URLField(
        label=_("Videoconference link"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_("Shown only to the group's seated participants and the secretariat."),
    )
    interpretation_languages = forms.MultipleChoiceField(
        label=_("Interpretation offered into"),
        choices=LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Meeting
        # The group and phase fields are added by the admin inside the tenant's scope (a
        # class-level foreign-key field would query every tenant's rows at import).
        fields = (
            "title",
            "duration_minutes",
            "join_url",
            "language",
            "agenda",
        )

    def __init__(self, *args: Any, organisation: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        meeting = self.instance
        if meeting.pk:
            zone = zoneinfo.ZoneInfo(meeting.time_zone)
            self.initial["starts_local"] = timezone.make_naive(meeting.starts_at, zone)
            self.initial["time_zone"] = meeting.time_zone
            self.initial["interpretation_languages"] = meeting.interpretation_languages
        elif organisation is not None:
            self.initial.setdefault("time_zone", organisation.time_zone)
        if "group" in self.fields:
            self.fields["group"].queryset = WorkingGroup.objects.filter(  # type: ignore[attr-defined]
                archived_at__isnull=True
            )
            self.fields["phase"].queryset = Phase.objects.select_related("group")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        group = data.get("group") or (self.instance.group if self.instance.group_id else None)
        phase = data.get("phase") or (self.instance.phase if self.instance.phase_id else None)
        if group is not None and phase is not None and phase.group_id != group.pk:
            self.add_error("phase", _("Choose a phase of this group."))
        local, zone = data.get("starts_local"), data.get("time_zone")
        if local is not None and zone:
            naive = timezone.make_naive(local) if timezone.is_aware(local) else local
            data["starts_at"] = timezone.make_aware(naive, zoneinfo.ZoneInfo(zone))
        return data


@admin.register(Meeting, site=tenant_admin_site)
class MeetingAdmin(TenantModelAdmin):
    form = MeetingForm
    list_display = ("title", "group", "phase_number", "planned_start", "status")
    list_filter = ("status", "group")
    list_select_related = ("group", "phase")
    search_fields = ("title", "group__name")
    ordering = ("starts_at",)
    actions = ["cancel_meetings"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        kwargs["fields"] = [
            *(("group", "phase") if obj is None else ()),
            "title",
            "starts_local",
            "time_zone",
            "duration_minutes",
            "join_url",
            "language",
            "interpretation_languages",
            "agenda",
        ]
        return _with_organisation(super().get_form(request, obj, change, **kwargs), request)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return [(None, {"fields": self.get_form(request, obj).base_fields})]

    @admin.display(description=_("meeting"), ordering="number")
    def phase_number(self, meeting: Meeting) -> str:
        return f"{meeting.phase.name}, {meeting.number}"

    @admin.display(description=_("starts (as planned)"), ordering="starts_at")
    def planned_start(self, meeting: Meeting) -> str:
        local = meeting.starts_at.astimezone(zoneinfo.ZoneInfo(meeting.time_zone))
        return f"{local:%a %d %b %Y, %H:%M} ({meeting.time_zone})"

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        user = cast(User, request.user)
        fields = {
            "title": data["title"],
            "starts_at": data["starts_at"],
            "time_zone": data["time_zone"],
            "duration_minutes": data["duration_minutes"],
            "join_url": data["join_url"],
            "agenda": data["agenda"],
            "language": data["language"],
            "interpretation_languages": list(data["interpretation_languages"]),
        }
        if change:
            saved = services.meeting_update(meeting=obj, acting_user=user, **fields)
        else:
            saved = services.meeting_schedule(
                group=data["group"], phase=data["phase"], acting_user=user, **fields
            )
        _become(obj, saved)

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return admin.ModelAdmin.log_addition(self, request, obj, message)  # audited by the service

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return admin.ModelAdmin.log_change(self, request, obj, message)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a meeting is cancelled, never deleted

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.status != Meeting.Status.SCHEDULED:
            return False
        return super().has_change_permission(request, obj)

    @admin.action(description=_("Cancel the selected meetings (participants are told)"))
    def cancel_meetings(self, request: HttpRequest, queryset: QuerySet[Meeting]) -> None:
        cancelled = 0
        for meeting in queryset:
            try:
                services.meeting_cancel(meeting=meeting, acting_user=cast(User, request.user))
            except DomainError as error:
                messages.error(request, f"{meeting}: {error}")
            else:
                cancelled += 1
        if cancelled:
            messages.success(request, _("%(n)d meetings cancelled.") % {"n": cancelled})


def _with_organisation(form_class: Any, request: HttpRequest) -> Any:
    """The admin's form class, built with the request's organisation (for its time zone)."""
    organisation = request.organisation  # type: ignore[attr-defined]

    class WithOrganisation(form_class):  # type: ignore[valid-type,misc]
        def __init__(self, *args: Any, **kw: Any) -> None:
            super().__init__(*args, organisation=organisation, **kw)

    WithOrganisation.__name__ = form_class.__name__
    return WithOrganisation


def _become(obj: Any, saved: Any) -> None:
    """The admin goes on with ``obj`` (its message, its log entry): make it the saved row."""
    for field in type(saved)._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


class MaterialForm(forms.ModelForm):
    upload = forms.FileField(
        label=_("File"),
        required=False,
        help_text=_("PDF, Word, Excel, PowerPoint or OpenDocument text."),
    )

    publish_local = forms.DateTimeField(
        label=_("Published from (in the organisation's time zone)"),
        required=False,
        widget=LOCAL_INPUT,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        help_text=_("Empty: at once. Participants are told when it is published."),
    )

    class Meta:
        model = Material
        # The meeting and the link are added by the admin within the request (as for
        # MeetingForm), the link with the admin's https default; on a published reading they
        # are shown, not edited.
        fields = ("title", "reading_minutes")

    def __init__(self, *args: Any, organisation: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation = organisation

    def _post_clean(self) -> None:
        # The service stores the upload; until then the instance names it, so that the
        # file-or-link constraint the admin checks sees what the service will write.
        upload = self.cleaned_data.get("upload")
        if upload:
            self.instance.file.name = upload.name
        super()._post_clean()  # type: ignore[misc]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        local = data.get("publish_local")
        if local is not None and self.organisation is not None:
            naive = timezone.make_naive(local) if timezone.is_aware(local) else local
            zone = zoneinfo.ZoneInfo(self.organisation.time_zone)
            data["publish_at"] = timezone.make_aware(naive, zone)
        else:
            data["publish_at"] = timezone.now()
        upload, url = data.get("upload"), data.get("url")
        if bool(upload) == bool(url):
            raise ValidationError(_("Give either a file or a link, not both."))
        if upload:
            try:
                uploads.check(name=upload.name, size=upload.size, handle=upload.file)
            except DomainError as error:
                self.add_error("upload", str(error))
        return data


@admin.register(Material, site=tenant_admin_site)
class MaterialAdmin(TenantModelAdmin):
    form = MaterialForm
    list_display = ("title", "meeting", "kind", "reading_minutes", "publish_at", "withdrawn_at")
    list_filter = ("meeting__group",)
    list_select_related = ("meeting", "meeting__group")
    search_fields = ("title", "meeting__title")
    actions = ["withdraw_materials"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("meeting", "title", "upload", "url", "reading_minutes", "publish_local")
        return ("meeting", "title", "original_name", "url", "reading_minutes", "publish_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.get_fields(request, obj)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        return _with_organisation(super().get_form(request, obj, change, **kwargs), request)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "meeting":
            kwargs["queryset"] = Meeting.objects.select_related("group").exclude(
                status=Meeting.Status.CANCELLED
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("kind"))
    def kind(self, material: Material) -> str:
        return str(_("link")) if material.is_link else material.content_type.rsplit(".", 1)[-1]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        saved = services.material_add(
            meeting=data["meeting"],
            title=data["title"],
            upload=data.get("upload"),
            url=data.get("url") or "",
            reading_minutes=data["reading_minutes"],
            publish_at=data["publish_at"],
            acting_user=cast(User, request.user),
        )
        _become(obj, saved)

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return admin.ModelAdmin.log_addition(self, request, obj, message)  # audited by the service

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a published reading does not change under people: withdraw, add anew

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Withdraw the selected materials"))
    def withdraw_materials(self, request: HttpRequest, queryset: QuerySet[Material]) -> None:
        for material in queryset:
            services.material_withdraw(material=material, acting_user=cast(User, request.user))
        messages.success(request, _("The materials are withdrawn."))
