"""The working groups a tenant runs: groups, phases, focus areas, linkages, objectives, standards.

Every model here belongs to exactly one ``asi_wg.models.Organisation`` and is reached through a
django-scopes ``ScopedManager``: a query made outside ``scope(organisation=...)`` raises
``ScopeError`` instead of returning another tenant's rows.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from asi_wg.models import Organisation
from asi_wg.urls_helpers import root_reverse

DEFAULT_SEAT_CAP = 30


class RevisionObjective(models.Model):
    """One of the tenant-wide objectives of the revision; feedback can be tagged with them."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="objectives"
    )
    number = models.PositiveSmallIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("revision objective")
        verbose_name_plural = _("revision objectives")
        ordering = ("number",)
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "number"], name="groups_objective_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"


class Standard(models.Model):
    """A document under revision, such as the Performance Standard V3."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="standards"
    )
    name = models.CharField(_("name"), max_length=200)
    version = models.CharField(_("version"), max_length=20, blank=True)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("standard")
        verbose_name_plural = _("standards")
        ordering = ("position", "name")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name", "version"], name="groups_standard_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}".strip()


class WorkingGroup(models.Model):
    """A working group (or a subgroup of one) with its scope, focus areas and seat cap."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="working_groups"
    )
    number = models.PositiveSmallIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("address"), max_length=60)
    theme = models.CharField(
        _("theme"),
        max_length=120,
        blank=True,
        help_text=_("The sustainability priority the group reflects."),
    )
    summary = models.TextField(
        _("summary"), blank=True, help_text=_("One paragraph, shown in lists.")
    )
    scope = models.TextField(_("scope"), blank=True)
    seat_cap = models.PositiveSmallIntegerField(
        _("seat cap"),
        default=DEFAULT_SEAT_CAP,
        validators=[MinValueValidator(1), MaxValueValidator(500)],
        help_text=_("At most this many participants hold a seat at once."),
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subgroups",
        verbose_name=_("subgroup of"),
    )
    standards = models.ManyToManyField(
        Standard, blank=True, related_name="working_groups", verbose_name=_("standards in scope")
    )
    # A group with a history is never deleted: it is archived (``services.group_archive``),
    # which takes it off the public list and closes it to applications.
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("working group")
        verbose_name_plural = _("working groups")
        ordering = ("number", "name")
        permissions = [
            ("participate_workinggroup", "Participant: takes part in the group"),
            ("chair_workinggroup", "Chair: leads the group's meetings"),
            ("administer_workinggroup", "Group secretariat: runs this group"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "slug"], name="groups_group_slug_unique"
            ),
            models.UniqueConstraint(
                fields=["organisation", "number"],
                condition=Q(parent__isnull=True),
                name="groups_group_number_unique",
            ),
            models.UniqueConstraint(
                fields=["parent", "number"],
                condition=Q(parent__isnull=False),
                name="groups_subgroup_number_unique",
            ),
            models.CheckConstraint(
                condition=Q(seat_cap__gte=1) & Q(seat_cap__lte=500), name="groups_seat_cap_range"
            ),
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="groups_parent_not_self"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.parent_id is not None:
            parent = self.parent
            if parent is not None and parent.organisation_id != self.organisation_id:
                raise ValidationError({"parent": _("A subgroup belongs to the same organisation.")})
            if parent is not None and parent.parent_id is not None:
                raise ValidationError(
                    {"parent": _("Subgroups cannot have subgroups of their own.")}
                )
            if self.pk is not None and self.pk == self.parent_id:
                raise ValidationError({"parent": _("A group cannot be its own subgroup.")})

    def get_absolute_url(self) -> str:
        return root_reverse(
            "groups:group_detail",
            kwargs={"organisation_slug": self.organisation.slug, "group_slug": self.slug},
        )


class WorkingGroupUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(WorkingGroup, on_delete=models.CASCADE)


class WorkingGroupGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(WorkingGroup, on_delete=models.CASCADE)


class FocusArea(models.Model):
    """An item of a group's ordered list of focus areas; ``parent`` nests a sub-item."""

    group = models.ForeignKey(WorkingGroup, on_delete=models.PROTECT, related_name="focus_areas")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)

    objects = ScopedManager(organisation="group__organisation")

    class Meta:
        verbose_name = _("focus area")
        verbose_name_plural = _("focus areas")
        ordering = ("group", "position", "id")

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        if self.parent is not None and self.parent.group_id != self.group_id:
            raise ValidationError({"parent": _("A sub-item belongs to the same group.")})


class GroupLinkage(models.Model):
    """An explicit linkage from one group to another, with what the two share."""

    from_group = models.ForeignKey(
        WorkingGroup, on_delete=models.CASCADE, related_name="linkages_out"
    )
    to_group = models.ForeignKey(WorkingGroup, on_delete=models.CASCADE, related_name="linkages_in")
    note = models.TextField(_("shared themes"), blank=True)

    objects = ScopedManager(organisation="from_group__organisation")

    class Meta:
        verbose_name = _("linkage")
        verbose_name_plural = _("linkages")
        ordering = ("from_group", "to_group__number")
        constraints = [
            models.UniqueConstraint(
                fields=["from_group", "to_group"], name="groups_linkage_unique"
            ),
            models.CheckConstraint(
                condition=~Q(from_group=F("to_group")), name="groups_linkage_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_group} → {self.to_group}"

    def clean(self) -> None:
        super().clean()
        if (
            self.from_group_id
            and self.to_group_id
            and self.from_group.organisation_id != self.to_group.organisation_id
        ):
            raise ValidationError({"to_group": _("Linked groups belong to the same organisation.")})
        if self.from_group_id and self.from_group_id == self.to_group_id:
            raise ValidationError({"to_group": _("A group cannot be linked to itself.")})


class Phase(models.Model):
    """A period of a group's work with its expected number of meetings."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")

    group = models.ForeignKey(WorkingGroup, on_delete=models.PROTECT, related_name="phases")
    number = models.PositiveSmallIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=120)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    meetings_min = models.PositiveSmallIntegerField(_("fewest meetings expected"))
    meetings_max = models.PositiveSmallIntegerField(_("most meetings expected"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PLANNED
    )

    objects = ScopedManager(organisation="group__organisation")

    class Meta:
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        ordering = ("group", "number")
        constraints = [
            models.UniqueConstraint(fields=["group", "number"], name="groups_phase_number_unique"),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="groups_phase_dates_ordered"
            ),
            models.CheckConstraint(
                condition=Q(meetings_max__gte=F("meetings_min")),
                name="groups_phase_meetings_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group}: {self.name}"

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("A phase ends on or after the day it starts.")
        if (
            self.meetings_min is not None
            and self.meetings_max is not None
            and self.meetings_max < self.meetings_min
        ):
            errors["meetings_max"] = _("The most meetings is at least the fewest.")
        if errors:
            raise ValidationError(errors)

    @property
    def meetings_range(self) -> str:
        if self.meetings_min == self.meetings_max:
            return str(self.meetings_min)
        return f"{self.meetings_min}–{self.meetings_max}"

    def status_on(self, day: datetime.date) -> str:
        """The status the calendar implies on ``day``."""
        if day < self.starts_on:
            return self.Status.PLANNED
        if day > self.ends_on:
            return self.Status.COMPLETED
        return self.Status.ACTIVE


class PhaseExtension(models.Model):
    """The recorded decision to extend a group into a further phase, with each answer to it."""

    class Status(models.TextChoices):
        OPEN = "open", _("Asking participants")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Not extended")

    group = models.ForeignKey(WorkingGroup, on_delete=models.PROTECT, related_name="extensions")
    from_phase = models.ForeignKey(Phase, on_delete=models.PROTECT, related_name="extensions")
    need = models.TextField(_("why a further phase is needed"))
    proposed_name = models.CharField(_("proposed phase name"), max_length=120)
    proposed_starts_on = models.DateField(_("proposed start"))
    proposed_ends_on = models.DateField(_("proposed end"))
    proposed_meetings_min = models.PositiveSmallIntegerField(_("fewest meetings expected"))
    proposed_meetings_max = models.PositiveSmallIntegerField(_("most meetings expected"))
    answers_due_on = models.DateField(_("answers due by"))
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    new_phase = models.OneToOneField(
        Phase, null=True, blank=True, on_delete=models.SET_NULL, related_name="created_by_extension"
    )

    objects = ScopedManager(organisation="group__organisation")

    class Meta:
        verbose_name = _("phase extension")
        verbose_name_plural = _("phase extensions")
        ordering = ("-proposed_at",)
        constraints = [
            models.UniqueConstraint(
                fields=["from_phase"],
                condition=Q(status="open"),
                name="groups_one_open_extension_per_phase",
            ),
            models.CheckConstraint(
                condition=Q(proposed_ends_on__gte=F("proposed_starts_on")),
                name="groups_extension_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(proposed_meetings_max__gte=F("proposed_meetings_min")),
                name="groups_extension_meetings_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group}: {self.proposed_name}"


class ExtensionAnswer(models.Model):
    """A participant's answer to a proposed extension."""

    class Answer(models.TextChoices):
        AGREE = "agree", _("I agree to continue")
        DISAGREE = "disagree", _("I do not agree")
        ABSTAIN = "abstain", _("No view")

    extension = models.ForeignKey(PhaseExtension, on_delete=models.PROTECT, related_name="answers")
    participant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="extension_answers"
    )
    answer = models.CharField(max_length=10, choices=Answer.choices)
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(organisation="extension__group__organisation")

    class Meta:
        verbose_name = _("extension answer")
        verbose_name_plural = _("extension answers")
        ordering = ("answered_at",)
        constraints = [
            models.UniqueConstraint(
                fields=["extension", "participant"], name="groups_one_answer_per_participant"
            )
        ]

    def __str__(self) -> str:
        return f"{self.participant}: {self.get_answer_display()}"


class GroupRole(models.TextChoices):
    """Roles a person holds in one working group, each one object permission on it."""

    PARTICIPANT = "participate_workinggroup", _("Participant")
    CHAIR = "chair_workinggroup", _("Chair")
    GROUP_SECRETARIAT = "administer_workinggroup", _("Group secretariat")
