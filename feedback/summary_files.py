"""The committee's PDF summaries: asked for in a request, built by a Celery job, kept.

``summary_file_request`` (a request: cheap) finds or creates the ``SummaryFile`` of a summary's
current data and page size, and queues the build only when the row is new (or failed, or lost
by its worker); ``summary_file_build`` (the job: slow) typesets it with ``feedback.pdf`` and
stores it in the private storage. The summary's data and its fingerprint come from
``feedback.summaries``: this module never queries the answers itself.

Asking twice for an unchanged summary renders once: the second request finds the same row (same
fingerprint) and queues nothing; a second run of the job for a ready file does nothing. Two
requests at the same moment agree on one row: the subject of the summary (the round, the group,
the document) is locked while the row is found or created, and the unique constraint on
(organisation, kind, object, page size, fingerprint) holds even where the lock does not
(SQLite), ``get_or_create`` then finding the row the other request made.
"""

from __future__ import annotations

import datetime
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.text import slugify
from django.utils.translation import gettext as _

from asi_wg.audit import audit_record
from asi_wg.errors import DomainError
from asi_wg.models import Organisation, User
from asi_wg.tenancy import same_organisation
from feedback import charts, pdf, summaries
from feedback.models import DraftDocument, FeedbackRound, SummaryFile
from groups.models import WorkingGroup

logger = logging.getLogger(__name__)

TEMPLATE = "feedback/pdf/summary.html"
# A file still pending or running after this long lost its worker (a crash, a restart): the
# next request queues it again. Longer than the job's hard time limit (feedback.tasks), so that a
# build still running is never started a second time.
STALE_AFTER = datetime.timedelta(minutes=20)
# The job writes its progress to the database at most this often (seconds).
PROGRESS_EVERY = 1.0


class UnknownSummary(DomainError):
    """No such summary in this organisation (a crafted kind, id or page size)."""


@dataclass(frozen=True)
class Subject:
    """What a summary is about, in the form ``feedback.summaries`` takes it."""

    kind: str
    object_id: int
    document: DraftDocument
    target: Any  # a FeedbackRound, a (WorkingGroup, DraftDocument) pair, a DraftDocument
    title: str


def summary_subject(
    *, organisation: Organisation, kind: str, object_id: int, document_id: int | None = None
) -> Subject:
    """The round, group (with ``document_id``) or document a summary is about, in
    ``organisation``; UnknownSummary for anything else."""
    if kind == SummaryFile.Kind.ROUND:
        feedback_round = (
            FeedbackRound.objects.filter(organisation=organisation, pk=object_id)
            .select_related("group", "document")
            .first()
        )
        if feedback_round is not None:
            return Subject(
                kind,
                feedback_round.pk,
                feedback_round.document,
                feedback_round,
                f"{feedback_round.group.name}: {feedback_round.title}",
            )
    elif kind == SummaryFile.Kind.GROUP:
        group = WorkingGroup.objects.filter(organisation=organisation, pk=object_id).first()
        document = (
            DraftDocument.objects.filter(organisation=organisation, pk=document_id).first()
            if document_id is not None
            else None
        )
        if group is not None and document is not None:
            return Subject(kind, group.pk, document, (group, document), f"{group.name}: {document}")
    elif kind == SummaryFile.Kind.DOCUMENT:
        document = DraftDocument.objects.filter(organisation=organisation, pk=object_id).first()
        if document is not None:
            return Subject(kind, document.pk, document, document, str(document))
    raise UnknownSummary(_("There is no such summary."))


def subject_of(summary_file: SummaryFile) -> Subject:
    return summary_subject(
        organisation=summary_file.organisation,
        kind=summary_file.kind,
        object_id=summary_file.object_id,
        document_id=summary_file.document_id,
    )


def is_current(summary_file: SummaryFile) -> bool:
    """Whether the file shows what its summary shows now. A file made before an answer, a
    disposition or a person's consent changed is never served: it may name someone who has since
    withdrawn their consent."""
    try:
        subject = subject_of(summary_file)
    except UnknownSummary:
        return False
    current = summaries.summary_fingerprint(summary_file.kind, subject.target)
    return current == summary_file.fingerprint


def summary_file_request(
    *,
    organisation: Organisation,
    kind: str,
    object_id: int,
    page_size: str,
    acting_user: User,
    document_id: int | None = None,
) -> SummaryFile:
    """Find or create the PDF of the summary's current data in ``page_size``.

    Creates a ``SummaryFile`` (pending) and queues ``summary_pdf_build`` after commit only when
    none exists for this fingerprint, or the existing one failed or lost its worker; otherwise
    returns the existing one unchanged. Audit entry ``summary_pdf.request`` when a build is
    queued. Raises ``UnknownSummary`` for a kind, object or page size that does not exist here.
    """
    if page_size not in SummaryFile.PageSize.values:
        raise UnknownSummary(_("There is no such page size."))
    subject = summary_subject(
        organisation=organisation, kind=kind, object_id=object_id, document_id=document_id
    )
    same_organisation(organisation, subject.document)
    fingerprint = summaries.summary_fingerprint(kind, subject.target)
    with transaction.atomic():
        # Requests for summaries of one document take turns here: the second finds the first's
        # row instead of racing it to the unique constraint.
        DraftDocument.objects.select_for_update().filter(pk=subject.document.pk).first()
        summary_file, created = SummaryFile.objects.get_or_create(
            organisation=organisation,
            kind=kind,
            object_id=subject.object_id,
            document=subject.document,
            page_size=page_size,
            fingerprint=fingerprint,
            defaults={"requested_by": acting_user, "title": subject.title[:300]},
        )
        if not created:
            summary_file = SummaryFile.objects.select_for_update().get(pk=summary_file.pk)
            if not needs_build(summary_file):
                return summary_file
            summary_file.status = SummaryFile.Status.PENDING
            summary_file.progress = ""
            summary_file.error = ""
            summary_file.started_at = None
            summary_file.requested_by = acting_user
            summary_file.created_at = timezone.now()
            summary_file.save()
        audit_record(
            organisation=organisation,
            actor=acting_user,
            action="summary_pdf.request",
            target=summary_file,
            data={"kind": kind, "page_size": page_size, "again": not created},
        )
        file_id = summary_file.pk
        transaction.on_commit(lambda: _queue_build(organisation.pk, file_id))
    return summary_file


def needs_build(summary_file: SummaryFile) -> bool:
    """Whether a file must be (re)built: it failed, its PDF is gone, or its worker was lost."""
    if summary_file.status == SummaryFile.Status.FAILED:
        return True
    if summary_file.status == SummaryFile.Status.READY:
        # A ready file whose PDF is gone from the storage (a wiped folder) is built again.
        return not (summary_file.file and summary_file.file.storage.exists(summary_file.file.name))
    since = summary_file.started_at or summary_file.created_at
    return since < timezone.now() - STALE_AFTER


def _queue_build(organisation_id: int, file_id: int) -> None:
    from feedback.tasks import summary_pdf_build  # tasks import this module

    summary_pdf_build.delay(organisation_id=organisation_id, file_id=file_id)


def file_name(summary_file: SummaryFile) -> str:
    """The download's name: tenant, subject and size, such as
    ``asi-summary-circularity-scoping-round-a4.pdf``."""
    subject = slugify(summary_file.title)[:80].strip("-") or summary_file.kind
    return (
        f"{summary_file.organisation.slug}-summary-{subject}-{summary_file.page_size.lower()}.pdf"
    )


def summary_file_build(*, organisation: Organisation, file_id: int) -> SummaryFile | None:
    """Typeset a pending summary file and store it (the Celery job's body).

    Claims the row (pending → running) under a lock, so that two runs never build one file;
    returns without rendering when the file is gone, already ready, or being built by another
    live run. Writes its progress as it goes, then the file (ready) or the error (failed).
    """
    with transaction.atomic():
        summary_file = (
            SummaryFile.objects.select_for_update()
            .filter(pk=file_id, organisation=organisation)
            .first()
        )
        if summary_file is None:
            logger.info("summary file %s is gone; nothing to do", file_id)
            return None
        live = (SummaryFile.Status.READY, SummaryFile.Status.RUNNING)
        if summary_file.status in live and not needs_build(summary_file):
            return summary_file
        summary_file.status = SummaryFile.Status.RUNNING
        summary_file.started_at = timezone.now()
        summary_file.progress = _("Gathering the feedback")
        summary_file.error = ""
        summary_file.save(update_fields=["status", "started_at", "progress", "error"])
    summary_file.organisation = organisation
    try:
        context = summary_context(organisation=organisation, subject=subject_of(summary_file))
        rendered = pdf.render_document(
            TEMPLATE,
            context,
            page_size=summary_file.page_size,
            progress=_ProgressWriter(summary_file.pk),
        )
    except Exception as error:  # the job records any failure for the person waiting
        logger.exception("summary file %s failed", file_id)
        SummaryFile.objects.filter(pk=file_id).update(
            status=SummaryFile.Status.FAILED,
            finished_at=timezone.now(),
            progress="",
            error=f"{type(error).__name__}: {error}"[:2000],
        )
        summary_file.refresh_from_db()
        return summary_file
    summary_file.file.save(file_name(summary_file), ContentFile(rendered.pdf), save=False)
    summary_file.status = SummaryFile.Status.READY
    summary_file.pages = rendered.pages
    summary_file.size_bytes = len(rendered.pdf)
    summary_file.finished_at = timezone.now()
    summary_file.progress = ""
    summary_file.save(
        update_fields=["file", "status", "pages", "size_bytes", "finished_at", "progress"]
    )
    logger.info(
        "summary file %s ready: %d pages, %d bytes", file_id, rendered.pages, len(rendered.pdf)
    )
    return summary_file


_PAGE = re.compile(r"Creating layout - Page (\d+)")


class _ProgressWriter:
    """Turns WeasyPrint's progress messages into a short text on the row, at most once a second."""

    def __init__(self, file_id: int) -> None:
        self.file_id = file_id
        self.last = 0.0

    def __call__(self, message: str) -> None:
        page = _PAGE.search(message)
        if page:
            text = _("Typesetting page %(page)s") % {"page": page.group(1)}
        elif "Creating PDF" in message:
            text = _("Writing the PDF file")
        elif "Step 1" in message or "Step 2" in message or "Step 3" in message:
            text = _("Applying the layout")
        else:
            return
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY and not text.startswith(_("Writing")):
            return
        self.last = now
        SummaryFile.objects.filter(pk=self.file_id).update(progress=text[:200])


def summary_context(*, organisation: Organisation, subject: Subject) -> dict[str, Any]:
    """What the PDF template shows: the summary's data and its charts."""
    summary = summaries.summary_for(subject.kind, subject.target)
    return {"organisation": organisation, "summary": summary, "sections": sections_for(summary)}


# --- Sections ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One criterion's section of the PDF: its summary and its rating charts (the committee
    pages' SVG, ``feedback.charts``)."""

    criterion: summaries.CriterionSummary
    charts: tuple[SafeString, ...]

    @property
    def anchor(self) -> str:
        return f"criterion-{self.criterion.pk}"


def sections_for(summary: summaries.Summary) -> list[Section]:
    sections = []
    for criterion in summary.criteria:
        subject = f"{criterion.reference} {criterion.title}"
        sections.append(
            Section(
                criterion,
                tuple(
                    charts.rating_chart(d, subject=subject, id_prefix=f"c{criterion.pk}-{d.scale}")
                    for d in criterion.ratings
                ),
            )
        )
    return sections
