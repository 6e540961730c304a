"""People in a tenant: Members, participant profiles, the antitrust policy, applications, seats and
offers. The account itself (``asi_wg.models.User``) is global."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from django_scopes import ScopedManager

from asi_wg.models import User
from membership.regions import region_for

# --- Member organisations ---------------------------------------------------------------------


class TenantList(models.Model):
    """An entry of one of the tenant's own ordered lists, named once per tenant."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(default=0)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        abstract = True
        ordering = ("position", "name")

    def __str__(self) -> str:
        return self.name


class MembershipClass(TenantList):
    """A class of membership in the tenant's own list (for ASI: Civil Society, ...)."""

    organisation = models.ForeignKey(
        "asi_wg.Organisation", on_delete=models.CASCADE, related_name="membership_classes"
    )

    class Meta(TenantList.Meta):
        verbose_name = _("membership class")
        verbose_name_plural = _("membership classes")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="membership_class_name_unique"
            )
        ]


class ValueChainSegment(TenantList):
    """A position in the value chain, in the tenant's own list (bauxite mining, recycling...)."""

    organisation = models.ForeignKey(
        "asi_wg.Organisation", on_delete=models.CASCADE, related_name="value_chain_segments"
    )

    class Meta(TenantList.Meta):
        verbose_name = _("value-chain segment")
        verbose_name_plural = _("value-chain segments")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="membership_segment_name_unique"
            )
        ]


class Member(models.Model):
    """A Member organisation of the standards body; its representatives may take part."""

    class SizeBand(models.TextChoices):
        SMALL = "small", _("Small (fewer than 50 staff)")
        MEDIUM = "medium", _("Medium (50 to 249 staff)")
        LARGE = "large", _("Large (250 to 4,999 staff)")
        VERY_LARGE = "very_large", _("Very large (5,000 staff or more)")
        NOT_APPLICABLE = "n/a", _("Not applicable")

    class Perspective(models.TextChoices):
        INDUSTRY = "industry", _("Industry")
        CIVIL_SOCIETY = "civil_society", _("Civil society")
        OTHER = "other", _("Other")

    organisation = models.ForeignKey(
        "asi_wg.Organisation", on_delete=models.CASCADE, related_name="members"
    )
    name = models.CharField(_("name"), max_length=200)
    membership_class = models.ForeignKey(
        MembershipClass, on_delete=models.PROTECT, related_name="members"
    )
    segments = models.ManyToManyField(
        ValueChainSegment, blank=True, related_name="members", verbose_name=_("value chain")
    )
    country = CountryField(_("country"))
    region = models.CharField(_("region"), max_length=40, editable=False, db_index=True)
    size_band = models.CharField(_("company size"), max_length=20, choices=SizeBand.choices)
    perspective = models.CharField(_("perspective"), max_length=20, choices=Perspective.choices)
    is_current = models.BooleanField(
        _("current Member"),
        default=True,
        help_text=_("A former Member's representatives may no longer take part."),
    )
    joined_on = models.DateField(_("member since"), null=True, blank=True)
    name_in_publications = models.BooleanField(
        _("name may be published"),
        default=False,
        help_text=_(
            "The Member agreed to be named in public documents such as the synopsis of a "
            "consultation. Without it, public documents show its membership class and region."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("Member")
        verbose_name_plural = _("Members")
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(
                Lower("name"), "organisation", name="membership_member_name_ci_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.region = region_for(str(self.country) if self.country else None)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "country" in update_fields:
            kwargs["update_fields"] = {*update_fields, "region"}
        super().save(*args, **kwargs)


# --- Participants -----------------------------------------------------------------------------


class ParticipantProfile(models.Model):
    """A person's standing in one tenant: whom they represent, where they are, what they know."""

    class Affiliation(models.TextChoices):
        MEMBER = "member", _("Representative of a Member")
        IPAF = "ipaf", _("IPAF participant (Indigenous Peoples Advisory Forum)")
        EXPERT = "expert", _("Technical expert (by invitation)")

    organisation = models.ForeignKey(
        "asi_wg.Organisation", on_delete=models.CASCADE, related_name="profiles"
    )
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="profiles")
    affiliation = models.CharField(_("taking part as"), max_length=10, choices=Affiliation.choices)
    member = models.ForeignKey(
        Member,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="representatives",
        verbose_name=_("Member represented"),
    )
    expert_organisation = models.CharField(
        _("organisation (for experts)"), max_length=200, blank=True
    )
    expert_invited_at = models.DateTimeField(
        _("invited by the secretariat on"), null=True, blank=True
    )
    job_title = models.CharField(_("role or job title"), max_length=200, blank=True)
    country = CountryField(_("country"), blank=True)
    languages = models.CharField(
        _("languages"), max_length=200, blank=True, help_text=_("For example: English, Spanish.")
    )
    interpretation_needs = models.CharField(
        _("interpretation needed"),
        max_length=200,
        blank=True,
        help_text=_("Leave empty if you follow meetings in English."),
    )
    expertise = models.TextField(_("expertise"), blank=True, max_length=4000)
    name_consent = models.BooleanField(
        _("my name may be published"),
        default=False,
        help_text=_(
            "Without your consent only your organisation or stakeholder category is shown."
        ),
    )
    name_consent_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("participant profile")
        verbose_name_plural = _("participant profiles")
        ordering = ("user__email",)
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"], name="membership_one_profile_per_tenant"
            ),
            models.CheckConstraint(
                condition=~Q(affiliation="member") | Q(member__isnull=False),
                name="membership_member_rep_has_member",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.organisation})"

    @property
    def public_label(self) -> str:
        """What public pages may show of this person: their organisation or category."""
        if self.affiliation == self.Affiliation.MEMBER and self.member is not None:
            return self.member.name
        if self.affiliation == self.Affiliation.IPAF:
            return str(_("Indigenous Peoples Advisory Forum"))
        return self.expert_organisation or str(_("Technical expert"))


class AntitrustPolicy(models.Model):
    """One published version of the tenant's Antitrust Compliance Policy."""

    organisation = models.ForeignKey(
        "asi_wg.Organisation", on_delete=models.CASCADE, related_name="antitrust_policies"
    )
    version = models.PositiveSmallIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("antitrust policy version")
        verbose_name_plural = _("antitrust policy")
        ordering = ("-version",)
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "version"], name="membership_policy_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} (version {self.version})"


class AntitrustAcknowledgement(models.Model):
    organisation = models.ForeignKey(
        "asi_wg.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="acknowledgements")
    policy = models.ForeignKey(
        AntitrustPolicy, on_delete=models.PROTECT, related_name="acknowledgements"
    )
    acknowledged_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("antitrust acknowledgement")
        verbose_name_plural = _("antitrust acknowledgements")
        ordering = ("-acknowledged_at",)
        constraints = [
            models.UniqueConstraint(fields=["user", "policy"], name="membership_ack_once")
        ]

    def __str__(self) -> str:
        return f"{self.user}: version {self.policy.version}"


# --- Applications, seats, offers --------------------------------------------------------------


class Application(models.Model):
    """A person's application to one group, and where it stands."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Received: awaiting selection")
        WAITING = "waiting", _("On the waiting list")
        OFFERED = "offered", _("Seat offered")
        SEATED = "seated", _("Seated")
        DECLINED = "declined", _("Not selected")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        OFFER_DECLINED = "offer_declined", _("Offer declined")
        OFFER_EXPIRED = "offer_expired", _("Offer expired")
        ENDED = "ended", _("Seat ended")

    # The sets of statuses the rules speak of, defined here once for services, selectors, the
    # workbench and the pages.
    POOL: ClassVar[frozenset[str]] = frozenset({Status.SUBMITTED, Status.WAITING})
    """Awaiting selection or on the waiting list: the pool a slate is proposed from, and the
    applications staff may decline or move on the list."""
    OPEN: ClassVar[frozenset[str]] = POOL | {Status.OFFERED}
    """Still in play without a seat."""
    WITHDRAWABLE: ClassVar[frozenset[str]] = OPEN | {Status.SEATED}
    """The applicant may still withdraw (a seated person steps down the same way)."""
    DECIDED: ClassVar[frozenset[str]] = frozenset(
        {Status.DECLINED, Status.OFFER_DECLINED, Status.OFFER_EXPIRED}
    )
    """Decided by the secretariat or the person (not open, not withdrawn)."""
    ACTIONABLE: ClassVar[frozenset[str]] = POOL | DECIDED
    """Staff may still act on them: seat, wait-list or decline (the workbench's applicants)."""
    REAPPLICABLE: ClassVar[frozenset[str]] = frozenset({Status.WITHDRAWN})
    """The person may apply to the same group again."""

    group = models.ForeignKey(
        "groups.WorkingGroup", on_delete=models.PROTECT, related_name="applications"
    )
    applicant = models.ForeignKey(User, on_delete=models.PROTECT, related_name="applications")
    profile = models.ForeignKey(
        ParticipantProfile, on_delete=models.PROTECT, related_name="applications"
    )
    focus_areas: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        "groups.FocusArea", blank=True, related_name="applications", through="ApplicationFocusArea"
    )
    statement = models.TextField(_("statement"), max_length=4000)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.SUBMITTED, db_index=True
    )
    priority = models.SmallIntegerField(
        _("waiting-list priority"),
        default=0,
        help_text=_("Higher first; equal priorities wait in the order they applied."),
    )
    applied_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(organisation="group__organisation")

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ("group", "-priority", "applied_at", "id")
        constraints = [
            models.UniqueConstraint(fields=["group", "applicant"], name="membership_apply_once")
        ]

    def __str__(self) -> str:
        return f"{self.applicant} → {self.group}"


class ApplicationFocusArea(models.Model):
    """A focus area an application chose. Protects the area: it cannot be deleted while an
    application names it, so the history of who applied for what stays whole."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE)
    focus_area = models.ForeignKey("groups.FocusArea", on_delete=models.PROTECT)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["application", "focus_area"], name="membership_application_area_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.application_id} → {self.focus_area_id}"


class Seat(models.Model):
    """A seat in a group. It holds capacity from seating until it ends."""

    class EndReason(models.TextChoices):
        WITHDREW = "withdrew", _("Withdrew")
        NON_ATTENDANCE = "non_attendance", _("Stepped down after missing meetings")
        LEFT_MEMBER = "left_member", _("No longer with the Member")
        ERASED = "erased", _("Personal data erased at the person's request")
        OTHER = "other", _("Other")

    group = models.ForeignKey("groups.WorkingGroup", on_delete=models.PROTECT, related_name="seats")
    holder = models.ForeignKey(User, on_delete=models.PROTECT, related_name="seats")
    application = models.OneToOneField(
        Application, null=True, blank=True, on_delete=models.SET_NULL, related_name="seat"
    )
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="seats"
    )
    affiliation = models.CharField(max_length=10, choices=ParticipantProfile.Affiliation.choices)
    started_at = models.DateTimeField(default=timezone.now)
    seated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    override_reason = models.TextField(
        _("reason for overriding a rule"),
        blank=True,
        help_text=_("Recorded when a second representative or a Member over its group limit sits."),
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)
    end_note = models.TextField(blank=True)
    ended_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedManager(organisation="group__organisation")

    class Meta:
        verbose_name = _("seat")
        verbose_name_plural = _("seats")
        ordering = ("group", "started_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["group", "holder"],
                condition=Q(ended_at__isnull=True),
                name="membership_one_active_seat_per_person",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | ~Q(end_reason=""),
                name="membership_ended_seat_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.holder} in {self.group}"

    @property
    def is_held(self) -> bool:
        return self.ended_at is None


class Offer(models.Model):
    """A free seat offered to the next applicant on the waiting list, held until it expires."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    group = models.ForeignKey(
        "groups.WorkingGroup", on_delete=models.PROTECT, related_name="offers"
    )
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="offers")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    offered_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="group__organisation")

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ("-offered_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(status="open"),
                name="membership_one_open_offer_per_application",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("offered_at")), name="membership_offer_expires_later"
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"Offer to {self.application.applicant} in {self.group}"


class SentNotification(models.Model):
    """One notification's claim, then its proof of sending: the key is unique, so it goes once.

    A row starts as a claim (``sending``, committed before the e-mail leaves, so that no
    transaction is open while the mail server is talked to) and becomes ``sent`` once the server
    took the message. A claim whose worker died is taken over after a lease (see
    ``membership.notifications``).
    """

    class State(models.TextChoices):
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")

    organisation = models.ForeignKey(
        "asi_wg.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=200, unique=True)
    recipient = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.SENDING)
    # Also the claim's token: only the worker that set it may mark the row sent or release it.
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("sent notification")
        ordering = ("-claimed_at",)
        constraints = [
            models.CheckConstraint(
                condition=Q(state="sending", sent_at__isnull=True)
                | Q(state="sent", sent_at__isnull=False),
                name="sentnotification_sent_at_iff_sent",
            )
        ]

    def __str__(self) -> str:
        return self.key
