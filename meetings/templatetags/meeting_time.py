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


def when(start: datetime.datetime, end: datetime.datetime, zone_name: str) -> str:
    """ "Thursday 4 December 2025, 14:00–15:30 (Europe/London)"; an end on another day is
    written in full."""
    zone, name = _zone(zone_name)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    end_format = "H:i" if local_end.date() == local_start.date() else "l j F Y, H:i"
    return (
        f"{dateformat.format(local_start, 'l j F Y, H:i')}–"
        f"{dateformat.format(local_end, end_format)} ({name})"
    )


@register.simple_tag
def meeting_when(meeting: Meeting, zone_name: str) -> SafeString:
    mine = when(meeting.starts_at, meeting.ends_at, zone_name)
    planned = when(meeting.starts_at, meeting.ends_at, meeting.time_zone)
    time = format_html('<time datetime="{}">{}</time>', meeting.starts_at.isoformat(), mine)
    if _zone(zone_name)[1] == meeting.time_zone:
        return time
    return format_html('{} <span class="meta">· planned as {}</span>', time, planned)
