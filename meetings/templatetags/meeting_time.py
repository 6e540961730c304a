"""``{% meeting_when meeting zone %}``: a meeting's time in the reader's zone, with the zone named,
and in the zone it was planned in when that reads differently."""

from __future__ import annotations

import datetime
import zoneinfo

from django import template
from django.utils import dateformat
from django.utils.html import format_html
from django.utils.safestring import SafeString

from meetings.models import Meeting

register = template.Library()


def _zone(name: str) -> tuple[zoneinfo.ZoneInfo, str]:
    try:
        return zoneinfo.ZoneInfo(name), name
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC"), "UTC"


def when(
    start: datetime.datetime,
    end: datetime.datetime,
    zone_name: str,
    *,
    same_day_as: datetime.date | None = None,
) -> str:
    """ "Thursday 4 December 2025, 14:00–15:30 (Europe/London)"; an end on another day is
    written in full, and the date is left out when it is ``same_day_as``."""
    zone, name = _zone(zone_name)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    start_format = "H:i" if local_start.date() == same_day_as else "l j F Y, H:i"
    end_format = "H:i" if local_end.date() == local_start.date() else "l j F Y, H:i"
    return (
        f"{dateformat.format(local_start, start_format)}–"
        f"{dateformat.format(local_end, end_format)} ({name})"
    )


@register.simple_tag
def meeting_when(meeting: Meeting, zone_name: str) -> SafeString:
    mine = when(meeting.starts_at, meeting.ends_at, zone_name)
    my_day = meeting.starts_at.astimezone(_zone(zone_name)[0]).date()
    planned = when(meeting.starts_at, meeting.ends_at, meeting.time_zone, same_day_as=my_day)
    time = format_html('<time datetime="{}">{}</time>', meeting.starts_at.isoformat(), mine)
    if _zone(zone_name)[1] == meeting.time_zone:
        return time
    return format_html('{} <span class="meta">· planned as {}</span>', time, planned)
