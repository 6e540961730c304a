"""Reading a videoconference attendance report: Zoom's participant report or Microsoft Teams'
attendance report, as each tool exports it.

- **Zoom** (Reports › Usage › Participants › Export): CSV in UTF-8 with a byte-order mark.
  With "Export with meeting data" ticked, a meeting section (Meeting ID, Topic, Start Time, ...)
  and a blank line come first. The participants' header is ``Name (Original Name), User Email,
  Join Time, Leave Time, Duration (Minutes), Guest, ...``; times look like
  ``10/14/2025 01:58:12 PM``; one row per join, so someone who dropped out and came back has
  several rows. Guests have no e-mail.
- **Teams** (the meeting's Attendance tab › Download): UTF-16 text with a byte-order mark,
  tab-separated, in sections: ``1. Summary`` (title, start, end, ...), ``2. Participants``
  (``Name, First Join, Last Leave, In-Meeting Duration, Email, Participant ID (UPN), Role``;
  one row per person; durations like ``1h 23m 5s``) and ``3. In-Meeting Activities`` (one row
  per join). The capitalisation of the headings and the date order follow the organiser's
  language settings (``15/11/22, 09:30:17`` or ``11/15/25, 1:58:12 PM``).

Only the participants' table is read: for Teams, section 2. Rows of the same e-mail are summed
in seconds and rounded to whole minutes once. A file with any problem is refused whole, with
every problem listed by line, so that nothing is half applied: wrong or missing columns, a time
or duration that cannot be read, someone leaving before they joined, an e-mail cell that is not
an address, a row repeated exactly, bytes that are neither UTF-8 nor UTF-16. An address that
matches nobody seated is not an error: the service lists it for the secretariat to resolve.
"""

from __future__ import annotations

import csv
import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from asi_wg.errors import DomainError

MAX_BYTES = 2 * 1024 * 1024
MAX_ERRORS_SHOWN = 20

# Normalised header text (lower case, single spaces) → the column it means.
COLUMNS: dict[str, str] = {
    "name (original name)": "name",
    "name": "name",
    "user email": "email",
    "email": "email",
    "participant id (upn)": "upn",
    "join time": "join",
    "first join": "join",
    "leave time": "leave",
    "last leave": "leave",
    "duration (minutes)": "minutes",
    "in-meeting duration": "duration",
    "duration": "duration",
}
REQUIRED = ("name", "email", "join", "leave")
COLUMN_LABELS = {
    "name": "Name",
    "email": "E-mail",
    "join": "Join time",
    "leave": "Leave time",
    "duration": "Duration",
}

TIME_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",  # Zoom: 10/14/2025 01:58:12 PM
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M %p",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%m/%d/%y, %I:%M:%S %p",  # Teams, US English: 11/15/25, 1:58:12 PM
    "%d/%m/%y, %H:%M:%S",  # Teams, UK English: 15/11/22, 09:30:17
    "%m/%d/%y, %H:%M:%S",
    "%d.%m.%Y, %H:%M:%S",  # Teams, German/Polish
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y, %H:%M:%S",
    "%m/%d/%Y, %I:%M:%S %p",
)
DURATION_PART = re.compile(r"(\d+)\s*(h|hr|hrs|hours?|m|min|mins|minutes?|s|sec|secs|seconds?)\b")


class ReportInvalid(DomainError):
    """The file cannot be applied; ``errors`` lists every problem found."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        shown = errors[:MAX_ERRORS_SHOWN]
        more = len(errors) - len(shown)
        text = " ".join(shown)
        if more > 0:
            text += " " + _("And %(n)d more problems.") % {"n": more}
        super().__init__(
            _("The attendance report was not applied; nothing was changed. %(problems)s")
            % {"problems": text}
        )


@dataclass
class ReportPerson:
    """Everything the report says about one person (one e-mail, or one guest's name)."""

    name: str
    email: str
    alternates: list[str] = field(default_factory=list)  # Teams' UPN when it differs
    seconds: int = 0
    joins: int = 0

    @property
    def minutes(self) -> int:
        return min(1440, (self.seconds + 30) // 60)


@dataclass
class ParsedReport:
    tool: str  # "zoom" or "teams"
    rows: int
    people: list[ReportPerson]


def decode(content: bytes) -> str:
    """UTF-16 (with its byte-order mark, as Teams writes it) or UTF-8 (with or without one)."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif content.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif len(content) > 1 and content[1:2] == b"\x00" and content[0:1] != b"\x00":
        encoding = "utf-16-le"  # UTF-16 saved without its mark
    else:
        encoding = "utf-8"
    try:
        return content.decode(encoding)
    except UnicodeDecodeError as error:
        raise ReportInvalid(
            [
                _(
                    "The file is not UTF-8 or UTF-16 text (byte %(at)d cannot be read). Upload "
                    "the report as Zoom or Teams exported it, or save it as “CSV UTF-8”."
                )
                % {"at": error.start + 1}
            ]
        ) from error


def parse_time(text: str) -> datetime.datetime | None:
    value = " ".join(text.replace("\u202f", " ").split())
    for fmt in TIME_FORMATS:
        try:
            return datetime.datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def parse_duration(text: str, *, minutes_column: bool) -> int | None:
    """Seconds from ``92`` (Zoom's minutes), ``1h 23m 5s`` or ``45m`` (Teams), ``1:23:05``."""
    value = text.strip().lower()
    if not value:
        return None
    if re.fullmatch(r"\d+", value):
        return int(value) * (60 if minutes_column else 1)
    if re.fullmatch(r"\d+:\d{2}(:\d{2})?", value):
        parts = [int(p) for p in value.split(":")]
        hours, minutes, seconds = (*parts, 0) if len(parts) == 2 else parts  # h:mm or h:mm:ss
        return hours * 3600 + minutes * 60 + seconds
    found = DURATION_PART.findall(value)
    if not found or DURATION_PART.sub("", value).strip():
        return None
    seconds = 0
    for number, unit in found:
        seconds += int(number) * {"h": 3600, "m": 60, "s": 1}[unit[0]]
    return seconds


def _normalise(cell: str) -> str:
    return " ".join(cell.strip().lower().split())


def _header(cells: list[str]) -> dict[str, int]:
    """The columns this row names, if it is a participants' header."""
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        column = COLUMNS.get(_normalise(cell))
        if column is not None and column not in found:
            found[column] = index
    if "minutes" in found:
        found.setdefault("duration", found["minutes"])
    return found


def _rows(text: str) -> list[list[str]]:
    lines = text.splitlines()
    delimiter = "\t" if any("\t" in line for line in lines[:40]) else ","
    return list(csv.reader(lines, delimiter=delimiter))


def _is_blank(cells: Iterable[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def parse(content: bytes) -> ParsedReport:
    """Read the participants of a Zoom or Teams report; raise ``ReportInvalid`` on any problem."""
    if not content.strip():
        raise ReportInvalid([_("The file is empty.")])
    if len(content) > MAX_BYTES:
        raise ReportInvalid([_("The file is larger than 2 MB: this is not an attendance report.")])
    rows = _rows(decode(content))
    tool = "teams" if any(_normalise(" ".join(r)) == "2. participants" for r in rows) else "zoom"

    start = None
    columns: dict[str, int] = {}
    best: dict[str, int] = {}
    for number, cells in enumerate(rows):
        found = _header(cells)
        if len(found) > len(best):
            best = found
        if all(column in found for column in REQUIRED) and "duration" in found:
            start, columns = number + 1, found
            break
    if start is None:
        if len(best) >= 2:
            missing = [COLUMN_LABELS[c] for c in (*REQUIRED, "duration") if c not in best]
            raise ReportInvalid(
                [
                    _("The participants' table lacks the columns: %(missing)s.")
                    % {"missing": ", ".join(missing)}
                ]
            )
        raise ReportInvalid(
            [
                _(
                    "This is not a Zoom participant report or a Teams attendance report: no row "
                    "names the columns Name, E-mail, Join time, Leave time and Duration."
                )
            ]
        )

    errors: list[str] = []
    people: dict[str, ReportPerson] = {}
    seen: dict[tuple[str, ...], int] = {}
    count = 0
    for offset, cells in enumerate(rows[start:]):
        line = start + offset + 1
        if _is_blank(cells):
            if tool == "teams":
                break  # section 2 ends at the blank line before "3. In-Meeting Activities"
            continue
        if tool == "teams" and re.match(r"^\d+\.\s", cells[0].strip()):
            break

        def cell(column: str, cells: list[str] = cells) -> str:
            index = columns.get(column)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        count += 1
        name, email = cell("name"), cell("email").lower()
        key = (name.lower(), email, cell("join"), cell("leave"), cell("duration"))
        if key in seen:
            errors.append(
                _("Line %(line)d repeats line %(first)d exactly.")
                % {"line": line, "first": seen[key]}
            )
            continue
        seen[key] = line
        problems = []
        joined, left = parse_time(cell("join")), parse_time(cell("leave"))
        if joined is None:
            problems.append(
                _("the join time “%(value)s” is not a date and time") % {"value": cell("join")}
            )
        if left is None:
            problems.append(
                _("the leave time “%(value)s” is not a date and time") % {"value": cell("leave")}
            )
        if joined and left and left < joined:
            problems.append(_("the leave time is before the join time"))
        seconds = parse_duration(cell("duration"), minutes_column="minutes" in columns)
        if seconds is None:
            problems.append(
                _("the duration “%(value)s” is not minutes or like 1h 23m 5s")
                % {"value": cell("duration")}
            )
        if email:
            try:
                validate_email(email)
            except ValidationError:
                problems.append(
                    _("“%(value)s” is not an e-mail address") % {"value": cell("email")}
                )
        if problems:
            errors.append(
                _("Line %(line)d: %(problems)s.") % {"line": line, "problems": "; ".join(problems)}
            )
            continue
        person_key = email or f"name:{name.lower()}"
        person = people.setdefault(person_key, ReportPerson(name=name, email=email))
        upn = cell("upn").lower()
        if upn and upn != email and upn not in person.alternates:
            person.alternates.append(upn)
        person.seconds += seconds or 0
        person.joins += 1
    if not errors and not people:
        errors.append(_("The report lists no participants."))
    if errors:
        raise ReportInvalid(errors)
    return ParsedReport(tool=tool, rows=count, people=list(people.values()))
