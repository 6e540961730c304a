"""Meetings of a working group: the schedule, reading materials, apologies, interpretation
requests, attendance and the calendar feeds.

Times are stored in UTC; each meeting also keeps the zone it was planned in, so the secretariat
sees "14:00 Europe/London" as planned while each participant sees the same moment in their own
zone. Everything here belongs to one organisation through a django-scopes ``ScopedManager``.
Nothing with a history is deleted: a meeting is cancelled, a material withdrawn, an apology or
an interpretation request taken back.
"""

from __future__ import annotations

import datetime
import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from asi_wg.models import Organisation, User, validate_time_zone
from groups.models import Phase, WorkingGroup
from meetings.storage import material_storage, material_upload_to

DEFAULT_DURATION_MINUTES = 90
DEFAULT_READING_MINUTES = 60

# The languages a meeting is held in or interpreted into: ISO 639-1 codes with their English
# names. A short list on purpose: the ones standards bodies' secretariats are asked for.
LANGUAGES = [
    ("en", _("English")),
    ("fr", _("French")),
    ("es", _("Spanish")),
    ("pt", _("Portuguese")),
    ("zh", _("Chinese")),
    ("ja", _("Japanese")),
    ("de", _("German")),
    ("id", _("Indonesian")),
    ("ar", _("Arabic")),
    ("ru", _("Russian")),
    ("hi", _("Hindi")),
]
LANGUAGE_CODES = frozenset(code for code, _name in LANGUAGES)


def language_name(code: str) -> str:
    return str(dict(LANGUAGES).get(code, code))


class Meeting(models.Model):
    """One virtual meeting of a working group, in one phase."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        HELD = "held", _("Held")
        CANCELLED = "cancelled", _("Cancelled")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="meetings"
    )
    group = models.ForeignKey(WorkingGroup, on_delete=models.PROTECT, related_name="meetings")
    phase = models.ForeignKey(Phase, on_delete=models.PROTECT, related_name="meetings")
    number = models.PositiveSmallIntegerField(
        _("number in the phase"), validators=[MinValueValidator(1)]
    )
    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("starts"), db_index=True)
    time_zone = models.CharField(
        _("planned in time zone"),
        max_length=64,
        validators=[validate_time_zone],
        help_text=_("The zone the start time was planned in; each person sees their own too."),
    )
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"),
        default=DEFAULT_DURATION_MINUTES,
        validators=[MinValueValidator(15), MaxValueValidator(480)],
    )
    join_url = models.URLField(
        _("videoconference link"),
        max_length=500,
        blank=True,
        help_text=_("Shown only to the group's seated participants and the secretariat."),
    )
    agenda = models.TextField(_("agenda"), blank=True, help_text=_("Markdown."))
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGES, default="en")
    interpretation_languages = models.JSONField(
        _("interpretation offered into"), default=list, blank=True
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.SCHEDULED
    )
    # The calendar's identity of this meeting, stable across every change; never the database
    # id, which would tell outsiders how many meetings the platform holds.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # iCalendar SEQUENCE: raised by every change that calendar programs must re-read.
    revision = models.PositiveIntegerField(default=0, editable=False)
    notes = models.TextField(
        _("notes"),
        blank=True,
        help_text=_("Markdown: decisions, and actions with an owner and a due date."),
    )
    notes_published_at = models.DateTimeField(null=True, blank=True, editable=False)
    attendance_recorded_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ("starts_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["phase", "number"], name="meetings_meeting_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=15) & Q(duration_minutes__lte=480),
                name="meetings_meeting_duration_range",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "group", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.group.name}: {self.title}"

    @property
    def ends_at(self) -> datetime.datetime:
        return self.starts_at + datetime.timedelta(minutes=self.duration_minutes)

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    @property
    def interpretation_language_names(self) -> list[str]:
        return [language_name(code) for code in self.interpretation_languages]


class Material(models.Model):
    """A reading for a meeting: an uploaded file or a link, published at a chosen time."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="materials")
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(
        _("file"),
        storage=material_storage,
        upload_to=material_upload_to,
        max_length=300,
        blank=True,
    )
    original_name = models.CharField(max_length=255, blank=True, editable=False)
    content_type = models.CharField(max_length=120, blank=True, editable=False)
    size = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    url = models.URLField(_("link"), max_length=500, blank=True)
    reading_minutes = models.PositiveSmallIntegerField(
        _("estimated reading time (minutes)"),
        default=DEFAULT_READING_MINUTES,
        validators=[MinValueValidator(1), MaxValueValidator(600)],
    )
    publish_at = models.DateTimeField(_("published from"), default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("reading material")
        verbose_name_plural = _("reading materials")
        ordering = ("meeting", "publish_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=(Q(file="") & ~Q(url="")) | (~Q(file="") & Q(url="")),
                name="meetings_material_file_or_link",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_link(self) -> bool:
        return bool(self.url)

    def is_published(self, now: datetime.datetime | None = None) -> bool:
        return self.withdrawn_at is None and self.publish_at <= (now or timezone.now())


class Apology(models.Model):
    """A participant's apologies for one meeting, with an optional note to the secretariat."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="apologies")
    person = models.ForeignKey(User, on_delete=models.PROTECT, related_name="apologies")
    note = models.TextField(_("note"), max_length=1000, blank=True)
    sent_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("apology")
        verbose_name_plural = _("apologies")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "person"], name="meetings_apology_once")
        ]

    def __str__(self) -> str:
        return f"{self.person} → {self.meeting}"


class InterpretationRequest(models.Model):
    """A participant asks for interpretation into one of the languages the meeting offers."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    meeting = models.ForeignKey(
        Meeting, on_delete=models.PROTECT, related_name="interpretation_requests"
    )
    person = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="interpretation_requests"
    )
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGES)
    requested_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("interpretation request")
        verbose_name_plural = _("interpretation requests")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "person"], name="meetings_interpretation_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} → {self.meeting} ({self.language})"


class Attendance(models.Model):
    """Whether one seated participant attended one meeting, and for how long."""

    class Status(models.TextChoices):
        PRESENT = "present", _("Present")
        APOLOGIES = "apologies", _("Apologies")
        ABSENT = "absent", _("Absent")

    class Source(models.TextChoices):
        REGISTER = "register", _("Attendance register")
        REPORT = "report", _("Videoconference report")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="attendance")
    person = models.ForeignKey(User, on_delete=models.PROTECT, related_name="attendance")
    status = models.CharField(_("attendance"), max_length=20, choices=Status.choices)
    minutes = models.PositiveSmallIntegerField(
        _("minutes attended"), null=True, blank=True, validators=[MaxValueValidator(1440)]
    )
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.REGISTER)
    recorded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "person"], name="meetings_attendance_once"),
            models.CheckConstraint(
                condition=Q(status="present") | Q(minutes__isnull=True) | Q(minutes=0),
                name="meetings_attendance_minutes_only_when_present",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} at {self.meeting}: {self.get_status_display()}"


class AttendanceReport(models.Model):
    """A videoconference attendance report applied to a meeting. Its digest is unique per
    meeting, so the same file uploaded twice is applied once."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    meeting = models.ForeignKey(
        Meeting, on_delete=models.PROTECT, related_name="attendance_reports"
    )
    digest = models.CharField(max_length=64)
    file_name = models.CharField(max_length=255)
    rows = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    # Rows whose e-mail matched no seated participant: [{"name", "email", "minutes"}], for staff
    # to resolve in the register.
    unmatched = models.JSONField(default=list, blank=True)
    uploaded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("attendance report")
        verbose_name_plural = _("attendance reports")
        ordering = ("-uploaded_at",)
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "digest"], name="meetings_report_applied_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.meeting})"


class CalendarFeed(models.Model):
    """A person's private calendar subscription: a secret address listing all their meetings.
    Revoking it (or making a new one) makes the old address answer 404 at once."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="calendar_feeds")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"],
                condition=Q(revoked_at__isnull=True),
                name="meetings_one_live_feed_per_person",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({'revoked' if self.revoked_at else 'live'})"
