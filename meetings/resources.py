"""The participation records as a spreadsheet (django-import-export), for the secretariat.

Export only: the rows are ``selectors.participation_records`` of one organisation, so the file
holds that tenant's participants and nothing else; there is no import (attendance is written by
the register and the reports, through the services). Cells are written through
``asi_wg.exports``' formats, which make inert anything a spreadsheet would run as a formula.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from import_export import fields, resources
from import_export.formats import base_formats

from asi_wg.exports import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE, SafeCSV, SafeXLSX
from meetings.selectors import ParticipationRecord

FORMATS: dict[str, tuple[type[base_formats.Format], str]] = {
    "csv": (SafeCSV, CSV_CONTENT_TYPE),
    "xlsx": (SafeXLSX, XLSX_CONTENT_TYPE),
}


class ParticipationResource(resources.Resource):
    group = fields.Field(attribute="group__name", column_name="group")
    phase = fields.Field(attribute="phase__name", column_name="phase")
    participant = fields.Field(column_name="participant")
    email = fields.Field(attribute="person__email", column_name="email")
    seat = fields.Field(column_name="seat")
    meetings = fields.Field(attribute="meetings", column_name="meetings held while seated")
    attended = fields.Field(attribute="attended", column_name="attended")
    apologies = fields.Field(attribute="apologies", column_name="apologies")
    absences = fields.Field(attribute="absences", column_name="absences")
    not_recorded = fields.Field(attribute="unrecorded", column_name="not recorded")
    rate = fields.Field(attribute="rate", column_name="attendance rate (%)")
    minutes_attended = fields.Field(attribute="minutes_attended", column_name="minutes attended")
    reading_minutes = fields.Field(attribute="reading_minutes", column_name="reading minutes")
    hours = fields.Field(attribute="hours", column_name="hours")
    target_hours = fields.Field(attribute="target_hours", column_name="minimum hours")

    def dehydrate_participant(self, record: ParticipationRecord) -> str:
        return record.person.full_name or record.person.email

    def dehydrate_seat(self, record: ParticipationRecord) -> str:
        return "held" if record.seat_held else "ended"


def participation_export(records: Sequence[ParticipationRecord], file_format: str) -> Any:
    """The records as a CSV (text) or XLSX (bytes) file."""
    format_class, _content_type = FORMATS[file_format]
    dataset = ParticipationResource().export(queryset=list(records))
    return format_class().export_data(dataset)
