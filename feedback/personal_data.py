"""The feedback app's part of the one declaration of personal data (``membership.personal_data``):
an answer's words are its author's own (the export shows them, erasure blanks them), and a
disposition's response may name the person it answers. Imported from ``FeedbackConfig.ready()``.
"""

from __future__ import annotations

from feedback.models import (
    Answer,
    Criterion,
    Disposition,
    DraftDocument,
    FeedbackRound,
    Framework,
    SummaryFile,
    Synopsis,
)
from membership.personal_data import audit_data_register, personal_data_register

personal_data_register(
    Answer,
    person="author",
    fields=["comment", "proposed_change", "risks_opportunities"],
)
personal_data_register(Disposition, person=None, mentions=["response"])
personal_data_register(Framework, person=None, not_personal=["name"])
personal_data_register(DraftDocument, person=None, not_personal=["version_label"])
personal_data_register(
    Criterion, person=None, not_personal=["reference", "sort_key", "title", "text", "guidance"]
)
personal_data_register(
    FeedbackRound, person=None, not_personal=["title", "instructions", "questions"]
)
# A published synopsis names no person (comments are attributed to a Member with its consent,
# or to a membership class and region): its frozen content is the public record. The staff's
# introduction may mention someone.
personal_data_register(Synopsis, person=None, mentions=["intro"], not_personal=["content"])

audit_data_register("round.create", not_personal=["opens_at", "closes_at", "criteria", "questions"])
audit_data_register("round.open", not_personal=["from", "to"])
audit_data_register("round.close", not_personal=["closes_at"])
audit_data_register("round.extend", not_personal=["from", "to", "reopened"])
# An answer's words never enter the audit log: only which fields changed.
audit_data_register("answer.save", not_personal=["version", "fields", "submitted"])
audit_data_register("disposition.set", text=["response"], not_personal=["status", "answers"])
audit_data_register("dispositions.publish", not_personal=["count"])
audit_data_register("synopsis.intro_save", text=["intro"])
audit_data_register("synopsis.publish", not_personal=["synopsis", "version"])
# A PDF summary's row holds no one's words. Its file does (answers' comments, a name only with
# consent); a new file is made when the data behind it changes, and old files are kept.
personal_data_register(
    SummaryFile, person=None, not_personal=["fingerprint", "progress", "title", "error"]
)
audit_data_register("summary_pdf.request", not_personal=["kind", "page_size", "again"])
