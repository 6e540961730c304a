"""Feedback on draft criteria: the draft documents and their criteria, the feedback rounds a
group is asked in, each participant's answer per criterion, and the secretariat's disposition
of each answer.

Times are stored in UTC and shown to each person in their own zone. Every row belongs to one
organisation through a django-scopes ``ScopedManager``. The rules (who may answer, when, the
version check on each answer, when dispositions become visible) live in ``feedback.services``;
what the database can say itself (one answer per person and criterion, the scale's bounds, a
round that closes after it opens) is a constraint here.
"""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from asi_wg.models import Organisation, User
from groups.models import RevisionObjective, Standard, WorkingGroup
from meetings.storage import material_storage

# A criterion's reference ("5.3.1") sorts by its numbers, not its characters: "5.10" comes
# after "5.9". Each run of digits is padded to this width in the sort key.
SORT_SEGMENT_WIDTH = 6
_SEGMENT = re.compile(r"(\d+)")


def natural_sort_key(reference: str) -> str:
    """The sort key of a reference: each run of digits zero-padded ("5.10" → "000005.000010"),
    other characters lower-cased, so that a plain string order is the natural order."""
    parts = _SEGMENT.split(reference.strip().lower())
    return "".join(
        part.zfill(SORT_SEGMENT_WIDTH) if index % 2 else part for index, part in enumerate(parts)
    )


class Framework(models.Model):
    """Another standard or framework an answer may say the criterion aligns with or has a gap
    against (ISO 14001, GHG Protocol, IRMA...): a per-tenant list that staff keep."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="frameworks"
    )
    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("framework")
        verbose_name_plural = _("frameworks")
        ordering = ("position", "name")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="feedback_framework_name_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class DraftDocument(models.Model):
    """A draft revision of a standard put to the groups, such as "Performance Standard V4,
    consultation draft 1"."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        CONSULTATION = "consultation", _("In consultation")
        CLOSED = "closed", _("Closed")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="draft_documents"
    )
    standard = models.ForeignKey(Standard, on_delete=models.PROTECT, related_name="draft_documents")
    version_label = models.CharField(
        _("version"),
        max_length=200,
        help_text=_('For example "Performance Standard V4, consultation draft 1".'),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("draft document")
        verbose_name_plural = _("draft documents")
        ordering = ("-created_at", "id")
        constraints = [
            # Imports name a document by its version label: it must be unambiguous.
            models.UniqueConstraint(
                fields=["organisation", "version_label"], name="feedback_document_label_unique"
            )
        ]

    def __str__(self) -> str:
        return self.version_label


class Criterion(models.Model):
    """One criterion of a draft document, with its guidance and the groups responsible."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    document = models.ForeignKey(DraftDocument, on_delete=models.PROTECT, related_name="criteria")
    reference = models.CharField(_("reference"), max_length=40, help_text=_('Such as "5.3.1".'))
    sort_key = models.CharField(max_length=200, editable=False, db_index=True)
    title = models.CharField(_("title"), max_length=300)
    text = models.TextField(_("criterion"))
    guidance = models.TextField(_("guidance"), blank=True)
    groups = models.ManyToManyField(
        WorkingGroup, related_name="criteria", blank=True, verbose_name=_("groups responsible")
    )

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ("document", "sort_key")
        constraints = [
            models.UniqueConstraint(
                fields=["document", "reference"], name="feedback_criterion_reference_unique"
            )
        ]
        indexes = [models.Index(fields=["document", "sort_key"])]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.reference = self.reference.strip()
        self.sort_key = natural_sort_key(self.reference)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "reference" in update_fields:  # type: ignore[operator]
            kwargs["update_fields"] = {*update_fields, "sort_key"}  # type: ignore[misc]
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Question(models.TextChoices):
    """The questions a round may ask about each criterion."""

    RELEVANCE = "relevance", _("Relevance")
    CLARITY = "clarity", _("Clarity")
    FEASIBILITY = "feasibility", _("Feasibility of implementation")
    COMMENT = "comment", _("Comment and proposed change")
    FRAMEWORKS = "frameworks", _("Alignment or gaps against other frameworks")
    RISKS = "risks_opportunities", _("Risks and opportunities")
    OBJECTIVES = "objectives", _("Revision objectives")
    REFERRAL = "referral", _("Referral to another working group")


def all_questions() -> list[str]:
    return [str(value) for value in Question.values]


class FeedbackRound(models.Model):
    """A group is asked about a set of criteria between two moments.

    Its state follows from the clock: scheduled before ``opens_at``, open until ``closes_at``,
    closed after; staff may close it early (``closed_early_at``). Only the services change
    these three fields.
    """

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="feedback_rounds"
    )
    group = models.ForeignKey(
        WorkingGroup, on_delete=models.PROTECT, related_name="feedback_rounds"
    )
    document = models.ForeignKey(DraftDocument, on_delete=models.PROTECT, related_name="rounds")
    title = models.CharField(_("title"), max_length=200)
    criteria = models.ManyToManyField(Criterion, related_name="rounds")
    opens_at = models.DateTimeField(_("opens"))
    closes_at = models.DateTimeField(_("closes"))
    closed_early_at = models.DateTimeField(_("closed early"), null=True, blank=True)
    instructions = models.TextField(_("instructions"), blank=True)
    questions = models.JSONField(
        _("questions asked"),
        default=all_questions,
        help_text=_("The keys of the questions asked about each criterion."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("feedback round")
        verbose_name_plural = _("feedback rounds")
        ordering = ("-opens_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")),
                name="feedback_round_closes_after_opening",
            )
        ]

    def __str__(self) -> str:
        return f"{self.group.name}: {self.title}"

    def state(self, now: datetime.datetime | None = None) -> str:
        now = now or timezone.now()
        if self.closed_early_at is not None or now >= self.closes_at:
            return self.State.CLOSED
        if now < self.opens_at:
            return self.State.SCHEDULED
        return self.State.OPEN

    def is_open(self, now: datetime.datetime | None = None) -> bool:
        return self.state(now) == self.State.OPEN

    @property
    def closed_at(self) -> datetime.datetime:
        """When answers stopped (or will stop) being accepted."""
        return self.closed_early_at or self.closes_at

    def asks(self, question: str) -> bool:
        return question in self.questions


class Answer(models.Model):
    """One participant's answer about one criterion in one round.

    The scales hold 1-5, 0 for "no view", and nothing (null) while unanswered. ``version``
    rises with every save, so two tabs editing the same answer are told of the conflict
    instead of overwriting each other. ``submitted_at`` is empty while the answer is a draft.
    """

    class CommentType(models.TextChoices):
        GENERAL = "general", _("General")
        TECHNICAL = "technical", _("Technical")
        EDITORIAL = "editorial", _("Editorial")

    NO_VIEW = 0
    SCALE = [
        (NO_VIEW, _("No view")),
        (1, _("1 - very low")),
        (2, _("2 - low")),
        (3, _("3 - moderate")),
        (4, _("4 - high")),
        (5, _("5 - very high")),
    ]
    SCALES = ("relevance", "clarity", "feasibility")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    round = models.ForeignKey(FeedbackRound, on_delete=models.PROTECT, related_name="answers")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="answers")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="feedback_answers")
    relevance = models.PositiveSmallIntegerField(
        _("relevance"), null=True, blank=True, choices=SCALE, validators=[MaxValueValidator(5)]
    )
    clarity = models.PositiveSmallIntegerField(
        _("clarity"), null=True, blank=True, choices=SCALE, validators=[MaxValueValidator(5)]
    )
    feasibility = models.PositiveSmallIntegerField(
        _("feasibility of implementation"),
        null=True,
        blank=True,
        choices=SCALE,
        validators=[MaxValueValidator(5)],
    )
    comment = models.TextField(_("comment"), blank=True)
    proposed_change = models.TextField(_("proposed change"), blank=True)
    comment_type = models.CharField(
        _("type of comment"), max_length=20, choices=CommentType.choices, blank=True
    )
    frameworks = models.ManyToManyField(
        Framework, blank=True, related_name="answers", verbose_name=_("frameworks")
    )
    risks_opportunities = models.TextField(_("risks and opportunities"), blank=True)
    objectives: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        RevisionObjective, blank=True, related_name="answers", verbose_name=_("objectives")
    )
    referred_to = models.ForeignKey(
        WorkingGroup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referred_answers",
        verbose_name=_("refer to working group"),
    )
    version = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ("round", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["round", "criterion", "author"], name="feedback_answer_once"
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{scale}__isnull": True}) | Q(**{f"{scale}__lte": 5}),
                    name=f"feedback_answer_{scale}_scale",
                )
                for scale in ("relevance", "clarity", "feasibility")
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="feedback_answer_version"),
        ]

    def __str__(self) -> str:
        return f"{self.author} on {self.criterion.reference}"

    @property
    def is_draft(self) -> bool:
        return self.submitted_at is None


class Disposition(models.Model):
    """The secretariat's answer to one comment. Private until published with its round."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        ACCEPTED_MODIFIED = "accepted_modified", _("Accepted with modification")
        NOTED = "noted", _("Noted")
        NOT_ACCEPTED = "not_accepted", _("Not accepted")
        REFERRED = "referred", _("Referred to another group")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    answer = models.OneToOneField(Answer, on_delete=models.PROTECT, related_name="disposition")
    status = models.CharField(_("disposition"), max_length=30, choices=Status.choices)
    response = models.TextField(_("response"), blank=True)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("disposition")
        verbose_name_plural = _("dispositions")
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.get_status_display()}: {self.answer}"


def summary_upload_to(instance: SummaryFile, filename: str) -> str:
    return f"summaries/{instance.organisation.slug}/{uuid.uuid4().hex}.pdf"


class SummaryFile(models.Model):
    """A PDF summary for the Standards Committee, built in the background and kept.

    One row per summary (its kind and object), page size and ``fingerprint`` (a hash of the data
    the summary shows): asking again for an unchanged summary finds the same row and renders
    nothing; once a disposition or an answer changes, the fingerprint changes and the next
    request makes a new row. The unique constraint makes concurrent requests agree on one row.
    The file lives in the private storage (no URL): only the permission-checked download view
    serves it.
    """

    class Kind(models.TextChoices):
        ROUND = "round", _("Round")
        GROUP = "group", _("Working group")
        DOCUMENT = "document", _("Draft document")

    class PageSize(models.TextChoices):
        A4 = "A4", _("A4")
        LETTER = "Letter", _("Letter")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a worker")
        RUNNING = "running", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The round's, group's or document's id, as ``kind`` says; ``document`` is the draft every
    # summary is about (a group's summary covers its rounds on that one document).
    object_id = models.PositiveBigIntegerField()
    document = models.ForeignKey(DraftDocument, on_delete=models.CASCADE, related_name="+")
    page_size = models.CharField(max_length=10, choices=PageSize.choices, default=PageSize.A4)
    fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    progress = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=300, blank=True)
    file = models.FileField(
        storage=material_storage, upload_to=summary_upload_to, blank=True, max_length=200
    )
    pages = models.PositiveIntegerField(null=True, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("PDF summary")
        verbose_name_plural = _("PDF summaries")
        ordering = ("-created_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "organisation",
                    "kind",
                    "object_id",
                    "document",
                    "page_size",
                    "fingerprint",
                ],
                name="feedback_summary_file_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title or self.get_kind_display()} ({self.page_size})"

    @property
    def is_done(self) -> bool:
        return self.status in (self.Status.READY, self.Status.FAILED)


def synopsis_upload_to(instance: Synopsis, filename: str) -> str:
    return f"synopses/{instance.organisation_id}/{instance.round_id}/{filename}"


class Synopsis(models.Model):
    """The public synopsis of a round: the comments received by criterion and theme and how
    each was addressed, as the ISEAL Standard-Setting Code asks of a standard-setter.

    A round has at most one draft (``published_at`` empty), where staff keep the introduction
    they are writing, and any number of published versions. Publishing freezes what the page
    shows in ``content`` (built by ``feedback.synopsis.synopsis_content``), so that later
    changes to comments, dispositions or consents never alter what was published; publishing
    again makes the next version. Only ``feedback.services`` writes these rows.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    round = models.ForeignKey(FeedbackRound, on_delete=models.PROTECT, related_name="synopses")
    intro = models.TextField(
        _("introduction"),
        blank=True,
        max_length=20000,
        help_text=_("Shown above the comments. Markdown: paragraphs, lists, links, emphasis."),
    )
    version = models.PositiveIntegerField(null=True, blank=True)
    content = models.JSONField(default=dict, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The PDF of a published version, typeset once in the background after publication
    # (``feedback.tasks.synopsis_pdf_build``); served only through the public view, which
    # checks that the version is published.
    pdf = models.FileField(
        storage=material_storage, upload_to=synopsis_upload_to, blank=True, max_length=200
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("synopsis")
        verbose_name_plural = _("synopses")
        ordering = ("round", "-version", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["round"],
                condition=Q(published_at__isnull=True),
                name="feedback_synopsis_one_draft",
            ),
            models.UniqueConstraint(
                fields=["round", "version"], name="feedback_synopsis_version_unique"
            ),
            models.CheckConstraint(
                condition=Q(published_at__isnull=True, version__isnull=True)
                | Q(published_at__isnull=False, version__gte=1),
                name="feedback_synopsis_published_has_version",
            ),
        ]

    def __str__(self) -> str:
        if self.version is None:
            return f"{self.round.title}: synopsis (draft)"
        return f"{self.round.title}: synopsis, version {self.version}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None
