"""The platform's own models, the layer every app stands on.

``Organisation`` is the tenant: every other tenant-owned row belongs to exactly one, through a
django-scopes ``ScopedManager``, so a query made outside ``scope(organisation=...)`` raises
``ScopeError`` instead of returning another tenant's rows. ``User`` is the global account (one
login for every tenant; roles are object permissions per tenant and per group). ``AuditEntry`` is
the tenant's audit trail. ``JobHeartbeat`` belongs to no tenant.

Imports run one way: this module, then ``groups``, ``membership``, ``meetings``, ``feedback``.
"""

from __future__ import annotations

import zoneinfo
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator, validate_slug
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from asi_wg.urls_helpers import root_reverse


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(zone)s is not a known time zone."), params={"zone": value})


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person with one login. Roles are per tenant and per group (object permissions).

    ``is_staff`` and ``is_superuser`` are for the platform operators only: the secretariat of a
    tenant works in that tenant's own admin through an object permission, not through them.
    """

    # Stored lower-cased (the manager, clean() and allauth all normalise), so unique is enough.
    email = models.EmailField(_("e-mail address"), max_length=254, unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text=_("Meeting times are shown to you in this zone."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(
        _("platform staff"),
        default=False,
        help_text=_("May sign in to the platform admin (tenants and accounts)."),
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ("email",)

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


DEFAULT_ANTITRUST_STATEMENT = (
    "Participants are reminded that this meeting is held under the Antitrust Compliance "
    "Policy. Do not discuss prices, costs, margins, bids, market shares, customers, suppliers "
    "or any other competitively sensitive information. If such a topic comes up, the chair "
    "will stop the discussion and the notes will record it."
)


def validate_tenant_slug(value: str) -> None:
    validate_slug(value)
    if value.lower() in settings.RESERVED_SLUGS:
        raise ValidationError(_("“%(slug)s” is reserved by the platform."), params={"slug": value})


class Organisation(models.Model):
    """A standards body using the platform: the tenant every other row belongs to."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    slug = models.SlugField(
        _("address"),
        max_length=40,
        unique=True,
        validators=[validate_tenant_slug],
        help_text=_("The first part of every address of this organisation, as in /asi/."),
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    website = models.URLField(_("website"), blank=True)
    privacy_policy_url = models.URLField(_("privacy policy"), blank=True)
    contact_email = models.EmailField(_("secretariat e-mail"), blank=True)
    member_group_limit = models.PositiveSmallIntegerField(
        _("groups per Member when oversubscribed"),
        null=True,
        blank=True,
        choices=[(1, _("One group")), (2, _("Two groups"))],
        help_text=_(
            "When a group has more applicants than seats, a Member already seated in this many "
            "groups is not seated in another without a recorded override. Empty: no limit."
        ),
    )
    offer_hold_days = models.PositiveSmallIntegerField(
        _("days an offered seat is held"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    missed_meetings_flag = models.PositiveSmallIntegerField(
        _("missed meetings before a step-down flag"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_(
            "When a participant misses this many meetings in a row without apologies and the "
            "group has a waiting list, the secretariat is shown a flag."
        ),
    )
    commitment_hours = models.PositiveSmallIntegerField(
        _("minimum hours per phase"),
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(500)],
        help_text=_(
            "Meetings attended plus reading time, against which each participant sees "
            "where they stand."
        ),
    )
    antitrust_statement = models.TextField(
        _("antitrust statement"),
        blank=True,
        default=DEFAULT_ANTITRUST_STATEMENT,
        help_text=_("Opens every meeting's agenda, as it is read at the start of each meeting."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ("name",)
        permissions = [
            ("act_as_secretariat", "Secretariat: runs the organisation's working groups"),
            ("act_as_committee", "Standards Committee: reads summaries"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    def get_absolute_url(self) -> str:
        return root_reverse("groups:organisation_home", kwargs={"organisation_slug": self.slug})


class OrganisationSettings(Organisation):
    """The tenant's own settings, as its secretariat sees them in its admin."""

    class Meta:
        proxy = True
        verbose_name = _("organisation settings")
        verbose_name_plural = _("organisation settings")


class OrganisationUserObjectPermission(UserObjectPermissionBase):
    """A direct foreign key for guardian: roles go with their organisation; joins are cheap."""

    content_object = models.ForeignKey(Organisation, on_delete=models.CASCADE)


class OrganisationGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Organisation, on_delete=models.CASCADE)


class AuditEntry(models.Model):
    """One recorded change: who did what to which object, written in the change's transaction."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="audit_entries",
        # Both indexes below begin with it: a third, of its own, would only be one more to
        # write with every entry (every save of an answer makes one).
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty for changes made by the system (scheduled jobs)."),
    )
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=40, blank=True)
    target_repr = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["organisation", "target_type", "target_id"]),
            # The admin's audit log, newest first within a tenant: read from the index's head
            # instead of sorting every entry the tenant has.
            models.Index(
                fields=["organisation", "-created_at", "-id"], name="auditentry_org_newest"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target_repr}"


class OrganisationRole(models.TextChoices):
    """Roles a person holds in a whole organisation, each one object permission on it."""

    SECRETARIAT = "act_as_secretariat", _("Secretariat")
    COMMITTEE = "act_as_committee", _("Standards Committee")


class JobHeartbeat(models.Model):
    """When a scheduled job last ran: /healthz shows whether beat and a worker are alive."""

    name = models.CharField(max_length=100, unique=True)
    last_run_at = models.DateTimeField()
    runs = models.PositiveBigIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = "job heartbeat"

    def __str__(self) -> str:
        return f"{self.name} at {self.last_run_at:%Y-%m-%d %H:%M:%S}"
