"""The meetings app's part of the one declaration of personal data (``membership.personal_data``):
what a person's data export shows and what their erasure removes, for meetings' models and audit
entries. Imported once from ``MeetingsConfig.ready()``."""

from __future__ import annotations

from meetings.models import (
    Apology,
    Attendance,
    AttendanceReport,
    CalendarFeed,
    InterpretationRequest,
    Material,
    Meeting,
)
from membership.personal_data import audit_data_register, personal_data_register

personal_data_register(
    Meeting,
    person=None,
    mentions=["agenda", "notes"],
    not_personal=["title", "time_zone", "join_url"],
)
personal_data_register(
    Material,
    person=None,
    not_personal=["title", "original_name", "content_type", "url"],
)
personal_data_register(Apology, person="person", fields=["note"])
personal_data_register(InterpretationRequest, person="person")
personal_data_register(Attendance, person="person")
# An attendance report's unmatched rows hold names and e-mail addresses as the videoconference
# tool wrote them: someone erased is replaced there like anywhere the organisation wrote them.
personal_data_register(
    AttendanceReport, person=None, mentions=["unmatched", "file_name"], not_personal=["digest"]
)
# The secret feed address goes with the person: their calendar stops showing meetings.
personal_data_register(CalendarFeed, person="user", fields=["token"], delete_rows=True)

audit_data_register("meeting.schedule", not_personal=["starts_at", "time_zone", "number"])
audit_data_register(
    "meeting.update",
    not_personal=[
        "title",
        "starts_at",
        "time_zone",
        "duration_minutes",
        "join_url",
        "agenda",
        "language",
        "interpretation_languages",
    ],
)
audit_data_register("meeting.cancel", text=["reason"])
audit_data_register("material.add", not_personal=["meeting", "publish_at"])
audit_data_register("interpretation.request", not_personal=["language"])
