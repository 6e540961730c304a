"""The ISO/IEC commenting table of a round or a draft document, as XLSX and CSV.

Standards committees exchange comments in the ISO/IEC template's columns; the rows here are a
round's (or a document's) comments from the committee summary (``feedback.summaries``), so
the table says exactly what the committee's pages say and follows the same rules: submitted
answers only, the Member (or IPAF, or the expert's organisation) with its membership class
and region, never a person's name (the template's first column names a body, not a person).

Decisions:

- **MB/NC** is the organisation the commenter represents, with its membership class and
  region: "Member Co (Production and Transformation, Europe)".
- **Line number** stays empty: it means a line of the draft, which the platform does not know;
  a running number there would be read as one.
- **Paragraph/Figure/Table** stays empty (answers are given per criterion, not per paragraph).
- **Type of comment**: ge, te, ed from general, technical, editorial; empty when not given.
- **Observations of the secretariat**: the disposition and its response. Staff and the
  committee see the same table (the summary shows the committee every disposition, published
  or not); a disposition not yet published says so, so the table is not passed on as final.
- One row per comment, in natural order of the criterion reference ("5.9" before "5.10").

Every cell goes through ``asi_wg.exports`` (formula payloads become inert text).
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from dataclasses import dataclass

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from asi_wg.exports import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE, csv_bytes, xlsx_safe
from feedback.summaries import Comment, Summary

COLUMNS = (
    "MB/NC",
    "Line number",
    "Clause/Subclause",
    "Paragraph/Figure/Table",
    "Type of comment",
    "Comments",
    "Proposed change",
    "Observations of the secretariat",
)
# Widths in characters for the XLSX columns (the template's proportions).
WIDTHS = (28, 8, 12, 14, 9, 60, 50, 50)
TYPE_CODES = {"general": "ge", "technical": "te", "editorial": "ed"}
FORMATS = ("xlsx", "csv")


@dataclass(frozen=True)
class IsoRow:
    mb_nc: str
    line_number: str
    clause: str
    paragraph: str
    comment_type: str
    comments: str
    proposed_change: str
    observations: str

    def cells(self) -> tuple[str, ...]:
        return (
            self.mb_nc,
            self.line_number,
            self.clause,
            self.paragraph,
            self.comment_type,
            self.comments,
            self.proposed_change,
            self.observations,
        )


def _mb_nc(comment: Comment) -> str:
    who = comment.attribution
    details = [part for part in (who.membership_class, who.region) if part]
    if who.membership_class == who.organisation:
        details = details[1:]
    return f"{who.organisation} ({', '.join(details)})" if details else who.organisation


def _comments(comment: Comment) -> str:
    parts = [comment.comment.strip()]
    if comment.risks_opportunities.strip():
        parts.append(_("Risks and opportunities: %s") % comment.risks_opportunities.strip())
    return "\n\n".join(part for part in parts if part)


def _observations(comment: Comment) -> str:
    disposition = comment.disposition
    if disposition is None:
        return ""
    text = str(disposition.status_label)
    if disposition.response.strip():
        text = f"{text}: {disposition.response.strip()}"
    if not disposition.published:
        text = _("[Not yet published] %s") % text
    return text


def iso_rows(summary: Summary) -> Iterator[IsoRow]:
    """One row per comment of the summary, in its (natural) order of criteria."""
    for criterion in summary.criteria:
        for comment in criterion.comments:
            yield IsoRow(
                mb_nc=_mb_nc(comment),
                line_number="",
                clause=criterion.reference,
                paragraph="",
                comment_type=TYPE_CODES.get(comment.comment_type, ""),
                comments=_comments(comment),
                proposed_change=comment.proposed_change.strip(),
                observations=_observations(comment),
            )


def iso_filename(summary: Summary, file_format: str) -> str:
    """A file name from the tenant and the round or document, safe in a header."""
    from django.utils.text import slugify

    name = slugify(f"{summary.organisation_slug} {summary.title}")[:80] or "comments"
    return f"{name}-iso-comments.{file_format}"


def iso_csv(summary: Summary) -> bytes:
    return csv_bytes([COLUMNS, *(row.cells() for row in iso_rows(summary))])


def iso_xlsx(summary: Summary, now: datetime.datetime | None = None) -> bytes:
    """The table as a workbook laid out like the ISO template: a header block (document,
    round, date), then the column headings in bold (frozen) and one wrapped row per comment."""
    import openpyxl
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    now = now or timezone.now()
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Comments"
    bold = Font(bold=True)
    header = [
        (_("Organisation"), summary.organisation),
        (_("Document"), summary.document_label),
        (_("Comments on"), summary.title),
        (_("Date"), timezone.localdate(now).isoformat()),
    ]
    for index, (label, value) in enumerate(header, start=1):
        sheet.cell(row=index, column=1, value=xlsx_safe(label)).font = bold
        sheet.cell(row=index, column=2, value=xlsx_safe(value))
    heading_row = len(header) + 2
    for column, (title, width) in enumerate(zip(COLUMNS, WIDTHS, strict=True), start=1):
        cell = sheet.cell(row=heading_row, column=column, value=title)
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[get_column_letter(column)].width = width
    wrap = Alignment(wrap_text=True, vertical="top")
    for offset, row in enumerate(iso_rows(summary), start=1):
        for column, value in enumerate(row.cells(), start=1):
            cell = sheet.cell(row=heading_row + offset, column=column, value=xlsx_safe(value))
            cell.data_type = "s"  # text, never a formula or a number read from the text
            cell.alignment = wrap
    sheet.freeze_panes = sheet.cell(row=heading_row + 1, column=1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def iso_export(summary: Summary, file_format: str) -> bytes:
    if file_format == "csv":
        return iso_csv(summary)
    return iso_xlsx(summary)


def iso_response(summary: Summary, file_format: str) -> HttpResponse:
    """The table as a download (``file_format`` already checked to be one of ``FORMATS``)."""
    content_type = CSV_CONTENT_TYPE if file_format == "csv" else XLSX_CONTENT_TYPE
    response = HttpResponse(iso_export(summary, file_format), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{iso_filename(summary, file_format)}"'
    # Confidential committee material: never kept by a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response
