"""The secretariat's admin for feedback (tenant-scoped): the frameworks list, draft documents,
criteria (with CSV/XLSX import), rounds, and read-only lists of answers and dispositions.

A round is created through ``feedback.services.round_create``, which checks its criteria and
times; its opening and closing times then change only through the open, close and extend
actions (services with their audit entries). Answers are the participants' words and
dispositions are written on the triage page: both are read-only here.
"""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from asi_wg.admin_sites import TenantModelAdmin, tenant_admin_site
from asi_wg.errors import DomainError
from asi_wg.models import User
from feedback import services
from feedback.models import (
    Answer,
    Criterion,
    Disposition,
    DraftDocument,
    FeedbackRound,
    Framework,
    Question,
)
from feedback.resources import CriterionResource, FrameworkResource
from groups.models import WorkingGroup


@admin.register(Framework, site=tenant_admin_site)
class FrameworkAdmin(TenantModelAdmin):
    resource_classes = [FrameworkResource]
    list_display = ("name", "position")
    list_editable = ("position",)
    search_fields = ("name",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # answers name them; rename instead


@admin.register(DraftDocument, site=tenant_admin_site)
class DraftDocumentAdmin(TenantModelAdmin):
    list_display = ("version_label", "standard", "status", "created_at")
    list_filter = ("status", "standard")
    list_select_related = ("standard",)
    search_fields = ("version_label",)
    fields = ("standard", "version_label", "status")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Criterion, site=tenant_admin_site)
class CriterionAdmin(TenantModelAdmin):
    resource_classes = [CriterionResource]
    list_display = ("reference", "title", "document")
    list_display_links = ("reference", "title")
    list_filter = ("document", "groups")
    list_select_related = ("document",)
    search_fields = ("reference", "title", "text")
    ordering = ("document", "sort_key")
    fields = ("document", "reference", "title", "text", "guidance", "groups")
    filter_horizontal = ("groups",)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "groups":
            kwargs["queryset"] = WorkingGroup.objects.filter(archived_at__isnull=True)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # answers are about them


EXTENSION = datetime.timedelta(days=7)
LOCAL_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class RoundForm(forms.ModelForm):
    """Times are entered in the organisation's zone (named in the label) and stored in UTC."""

    questions = forms.MultipleChoiceField(
        label=_("Questions asked"),
        choices=Question.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = FeedbackRound
        # The admin adds the foreign keys and times within the tenant's scope (a class-level
        # foreign-key field would query every tenant's rows at import).
        fields = ("title",)

    def __init__(self, *args: Any, organisation: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zoneinfo.ZoneInfo(organisation.time_zone if organisation else "UTC")
        for name in ("opens_at", "closes_at"):
            if name in self.fields:
                label = self.fields[name].label
                self.fields[name] = forms.DateTimeField(
                    label=f"{label} ({self.zone.key})",
                    widget=LOCAL_INPUT,
                    input_formats=LOCAL_FORMATS,
                )
                value = getattr(self.instance, name, None)
                if value is not None:
                    self.initial[name] = timezone.make_naive(value, self.zone)
        if "questions" in self.fields and self.instance.pk:
            self.initial["questions"] = self.instance.questions
        if "group" in self.fields:
            self.fields["group"].queryset = WorkingGroup.objects.filter(  # type: ignore[attr-defined]
                archived_at__isnull=True
            )
        if "criteria" in self.fields:
            self.fields["criteria"].queryset = Criterion.objects.select_related(  # type: ignore[attr-defined]
                "document"
            ).order_by("document", "sort_key")

    def _aware(self, name: str) -> Any:
        value = self.cleaned_data.get(name)
        if value is None:
            return None
        naive = timezone.make_naive(value) if timezone.is_aware(value) else value
        return timezone.make_aware(naive, self.zone)

    def clean_opens_at(self) -> Any:
        return self._aware("opens_at")

    def clean_closes_at(self) -> Any:
        return self._aware("closes_at")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens is not None and closes is not None and closes <= opens:
            self.add_error("closes_at", _("A round closes after it opens."))
        document = data.get("document") or (
            self.instance.document if self.instance.document_id else None
        )
        criteria = data.get("criteria")
        if document is not None and criteria is not None:
            foreign = [c.reference for c in criteria if c.document_id != document.pk]
            if foreign:
                self.add_error(
                    "criteria",
                    _("Not criteria of %(document)s: %(refs)s.")
                    % {"document": document, "refs": ", ".join(foreign)},
                )
        return data


@admin.register(FeedbackRound, site=tenant_admin_site)
class FeedbackRoundAdmin(TenantModelAdmin):
    form = RoundForm
    list_display = ("title", "group", "document", "opens_at", "closes_at", "state_display")
    list_filter = ("group", "document")
    list_select_related = ("group", "document")
    search_fields = ("title", "group__name")
    actions = ["open_rounds", "close_rounds", "extend_rounds"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return (
                "group",
                "document",
                "title",
                "criteria",
                "opens_at",
                "closes_at",
                "instructions",
                "questions",
            )
        return (
            "group",
            "document",
            "title",
            "criteria",
            "opens_at",
            "closes_at",
            "closed_early_at",
            "instructions",
            "questions",
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        # Times change only through the actions (open, close, extend); the criteria are fixed
        # once people may have answered them.
        fixed = ["group", "document", "opens_at", "closes_at", "closed_early_at"]
        if obj.pk is None or obj.state() != FeedbackRound.State.SCHEDULED:
            fixed.append("criteria")
        return fixed

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form_class = super().get_form(request, obj, change, **kwargs)
        organisation = request.organisation  # type: ignore[attr-defined]

        class WithOrganisation(form_class):  # type: ignore[valid-type,misc]
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, organisation=organisation, **kw)

        WithOrganisation.__name__ = form_class.__name__
        return WithOrganisation

    @admin.display(description=_("state"))
    def state_display(self, feedback_round: FeedbackRound) -> str:
        return str(FeedbackRound.State(feedback_round.state()).label)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            obj.questions = list(form.cleaned_data["questions"])
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        saved = services.round_create(
            group=data["group"],
            document=data["document"],
            title=data["title"],
            criteria=data["criteria"],
            opens_at=data["opens_at"],
            closes_at=data["closes_at"],
            instructions=data.get("instructions", ""),
            questions=list(data["questions"]),
            acting_user=cast(User, request.user),
        )
        for field in FeedbackRound._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False
        obj._state.db = saved._state.db

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if change:  # a new round's criteria were set by the service
            super().save_related(request, form, formsets, change)

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return admin.ModelAdmin.log_addition(self, request, obj, message)  # audited by the service

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _each(self, request: HttpRequest, queryset: QuerySet[FeedbackRound], action: Any) -> int:
        done = 0
        for feedback_round in queryset:
            try:
                action(round=feedback_round, acting_user=cast(User, request.user))
            except DomainError as error:
                messages.error(request, f"{feedback_round}: {error}")
            else:
                done += 1
        return done

    @admin.action(description=_("Open the selected rounds now"))
    def open_rounds(self, request: HttpRequest, queryset: QuerySet[FeedbackRound]) -> None:
        if done := self._each(request, queryset, services.round_open):
            messages.success(request, _("%(n)d rounds opened.") % {"n": done})

    @admin.action(description=_("Close the selected rounds now"))
    def close_rounds(self, request: HttpRequest, queryset: QuerySet[FeedbackRound]) -> None:
        if done := self._each(request, queryset, services.round_close):
            messages.success(request, _("%(n)d rounds closed.") % {"n": done})

    @admin.action(description=_("Extend the selected rounds by a week (reopens a closed one)"))
    def extend_rounds(self, request: HttpRequest, queryset: QuerySet[FeedbackRound]) -> None:
        def extend(*, round: FeedbackRound, acting_user: User) -> FeedbackRound:
            closes_at = max(round.closes_at, timezone.now()) + EXTENSION
            return services.round_extend(round=round, closes_at=closes_at, acting_user=acting_user)

        if done := self._each(request, queryset, extend):
            messages.success(request, _("%(n)d rounds extended.") % {"n": done})


class ReadOnlyAdmin(TenantModelAdmin):
    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RoundListFilter(admin.RelatedFieldListFilter):
    """The rounds to filter by, each named with its group, read in one query (the stock filter
    reads each round's group on its own)."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> Any:
        rounds = FeedbackRound.objects.select_related("group").order_by("-opens_at", "pk")
        return [(feedback_round.pk, str(feedback_round)) for feedback_round in rounds]


@admin.register(Answer, site=tenant_admin_site)
class AnswerAdmin(ReadOnlyAdmin):
    list_display = ("criterion", "round", "author", "version", "submitted_at", "updated_at")
    list_filter = (("round", RoundListFilter),)
    list_select_related = ("criterion", "round", "round__group", "author")
    search_fields = ("comment", "criterion__reference")


@admin.register(Disposition, site=tenant_admin_site)
class DispositionAdmin(ReadOnlyAdmin):
    list_display = ("answer", "status", "decided_by", "decided_at", "published_at")
    list_filter = ("status", ("answer__round", RoundListFilter))
    list_select_related = ("answer__author", "answer__criterion", "decided_by")
