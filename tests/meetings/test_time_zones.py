"""A meeting planned at 14:00 in London, read in São Paulo, Shanghai and Sydney, on both sides of
the European and the Australian daylight-saving changes.

São Paulo (UTC-3) and Shanghai (UTC+8) keep no daylight saving, so their time for a London
meeting moves when London's clocks move; Sydney moves twice, with London and on its own. The
expected times are worked out by hand below, not with the code under test, and checked in the
invitation e-mail, on the meeting page, and in the calendar file read through its own VTIMEZONE
(as a calendar program without a time-zone database would read it).

The 2027 changes: Europe on Sunday 28 March (to BST, UTC+1) and Sunday 31 October (back to GMT);
Sydney on Sunday 4 April (AEDT UTC+11 to AEST UTC+10) and Sunday 3 October (back to AEDT). Each
pair is the Friday before and the Monday after a change. (2027, not 2026: today's date is past
the 2026 changes, and an invitation is not sent for a meeting that is over.)
"""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

import pytest
from django.core import mail
from django_scopes import scopes_disabled
from icalendar import Calendar

from asi_wg.models import User
from membership import notifications
from tests.factories import MeetingFactory
from tests.meetings.conftest import Circle, client_for, seat_person
from tests.meetings.test_notifications import calendar_of, texts

pytestmark = pytest.mark.django_db(transaction=True)

LONDON = zoneinfo.ZoneInfo("Europe/London")
ZONES = ("America/Sao_Paulo", "Asia/Shanghai", "Australia/Sydney")

# 14:00 London on each date, 90 minutes, as each participant reads it. Worked out by hand:
# London is UTC+0 on 26 March and 1 November, UTC+1 in between; Sydney UTC+11 until 4 April and
# from 3 October, UTC+10 in between.
EXPECTED: dict[datetime.date, dict[str, str]] = {
    # Europe, spring: 14:00 GMT = 14:00 UTC, then 14:00 BST = 13:00 UTC.
    datetime.date(2027, 3, 26): {
        "America/Sao_Paulo": "Friday 26 March 2027, 11:00–12:30 (America/Sao_Paulo)",
        "Asia/Shanghai": "Friday 26 March 2027, 22:00–23:30 (Asia/Shanghai)",
        "Australia/Sydney": "Saturday 27 March 2027, 01:00–02:30 (Australia/Sydney)",
    },
    datetime.date(2027, 3, 29): {
        "America/Sao_Paulo": "Monday 29 March 2027, 10:00–11:30 (America/Sao_Paulo)",
        "Asia/Shanghai": "Monday 29 March 2027, 21:00–22:30 (Asia/Shanghai)",
        "Australia/Sydney": "Tuesday 30 March 2027, 00:00–01:30 (Australia/Sydney)",
    },
    # Australia, autumn: 13:00 UTC both days; Sydney from UTC+11 to UTC+10.
    datetime.date(2027, 4, 2): {
        "America/Sao_Paulo": "Friday 2 April 2027, 10:00–11:30 (America/Sao_Paulo)",
        "Asia/Shanghai": "Friday 2 April 2027, 21:00–22:30 (Asia/Shanghai)",
        "Australia/Sydney": "Saturday 3 April 2027, 00:00–01:30 (Australia/Sydney)",
    },
    datetime.date(2027, 4, 5): {
        "America/Sao_Paulo": "Monday 5 April 2027, 10:00–11:30 (America/Sao_Paulo)",
        "Asia/Shanghai": "Monday 5 April 2027, 21:00–22:30 (Asia/Shanghai)",
        "Australia/Sydney": "Monday 5 April 2027, 23:00–Tuesday 6 April 2027, 00:30 "
        "(Australia/Sydney)",
    },
    # Australia, spring: 13:00 UTC both days; Sydney from UTC+10 to UTC+11.
    datetime.date(2027, 10, 1): {
        "America/Sao_Paulo": "Friday 1 October 2027, 10:00–11:30 (America/Sao_Paulo)",
        "Asia/Shanghai": "Friday 1 October 2027, 21:00–22:30 (Asia/Shanghai)",
        "Australia/Sydney": "Friday 1 October 2027, 23:00–Saturday 2 October 2027, 00:30 "
        "(Australia/Sydney)",
    },
    datetime.date(2027, 10, 4): {
        "America/Sao_Paulo": "Monday 4 October 2027, 10:00–11:30 (America/Sao_Paulo)",
        "Asia/Shanghai": "Monday 4 October 2027, 21:00–22:30 (Asia/Shanghai)",
        "Australia/Sydney": "Tuesday 5 October 2027, 00:00–01:30 (Australia/Sydney)",
    },
    # Europe, autumn: 14:00 BST = 13:00 UTC, then 14:00 GMT = 14:00 UTC.
    datetime.date(2027, 10, 29): {
        "America/Sao_Paulo": "Friday 29 October 2027, 10:00–11:30 (America/Sao_Paulo)",
        "Asia/Shanghai": "Friday 29 October 2027, 21:00–22:30 (Asia/Shanghai)",
        "Australia/Sydney": "Saturday 30 October 2027, 00:00–01:30 (Australia/Sydney)",
    },
    datetime.date(2027, 11, 1): {
        "America/Sao_Paulo": "Monday 1 November 2027, 11:00–12:30 (America/Sao_Paulo)",
        "Asia/Shanghai": "Monday 1 November 2027, 22:00–23:30 (Asia/Shanghai)",
        "Australia/Sydney": "Tuesday 2 November 2027, 01:00–02:30 (Australia/Sydney)",
    },
}


@pytest.fixture(autouse=True)
def _site(settings: Any) -> None:
    settings.SITE_URL = "https://wg.example.org"


def start_of(expected: str) -> str:
    """ "Friday 26 March 2027, 11:00" from the expected line."""
    return expected.split("–")[0]


@pytest.mark.parametrize("day", list(EXPECTED), ids=str)
def test_a_london_meeting_at_14_00_reads_right_in_sao_paulo_shanghai_and_sydney(
    circle: Circle, secretariat: User, day: datetime.date
) -> None:
    with scopes_disabled():
        people = {}
        for zone in ZONES:
            person = seat_person(circle.group, secretariat).holder
            person.time_zone = zone
            person.save()
            people[zone] = person
        meeting = MeetingFactory.create(
            group=circle.group,
            phase=circle.phase,
            starts_at=datetime.datetime.combine(day, datetime.time(14, 0), tzinfo=LONDON),
            time_zone="Europe/London",
            duration_minutes=90,
        )
    mail.outbox.clear()
    organisation = circle.group.organisation
    assert notifications.send(
        organisation=organisation, kind="meeting_invitation", object_id=meeting.pk
    )
    planned = f"{day:%A} {day.day} {day:%B} {day.year}, 14:00–15:30 (Europe/London)"

    for zone, person in people.items():
        expected = EXPECTED[day][zone]
        # The e-mail: their time, and the planned one.
        (message,) = [m for m in mail.outbox if m.to == [person.email]]
        text, html = texts(message)
        assert expected in text, (zone, text)
        assert expected in html
        assert f"Planned as: {planned}" in text

        # The meeting page.
        page = client_for(person).get(f"/alu/meetings/{meeting.uid}/").content.decode()
        assert expected in page, zone
        # The planned time follows; its date only where the reader's date is another one.
        same_day = expected.split(",")[0] == planned.split(",")[0]
        assert ("planned as 14:00–15:30 (Europe/London)" if same_day else planned) in page

        # The calendar file: 14:00 in London as written, and the same instant in their zone when
        # read through the VTIMEZONE the file carries (not a time-zone database).
        calendar, event, _part = calendar_of(message)
        assert event["DTSTART"].params["TZID"] == "Europe/London"
        assert event["DTSTART"].to_ical() == f"{day:%Y%m%d}T140000".encode()
        (vtimezone,) = [tz for tz in calendar.walk("VTIMEZONE") if tz["TZID"] == "Europe/London"]
        written = event.decoded("DTSTART").replace(tzinfo=vtimezone.to_tz(lookup_tzid=False))
        local = written.astimezone(zoneinfo.ZoneInfo(zone))
        assert f"{local:%A} {local.day} {local:%B %Y, %H:%M}" == start_of(expected)

    # The download and the person's feed say the same as the e-mail.
    sydney = people["Australia/Sydney"]
    downloaded = client_for(sydney).get(f"/alu/meetings/{meeting.uid}/calendar.ics")
    (event,) = Calendar.from_ical(downloaded.content).walk("VEVENT")
    assert event.decoded("DTSTART") == meeting.starts_at
    client = client_for(sydney)
    feed_page = client.get("/alu/me/calendar/").content.decode()
    token = feed_page.split("/alu/calendar/")[1].split(".ics")[0]
    feed = Calendar.from_ical(client.get(f"/alu/calendar/{token}.ics").content)
    starts = {str(e["UID"]): e.decoded("DTSTART") for e in feed.walk("VEVENT")}
    assert starts[f"{meeting.uid}@wg.example.org"] == meeting.starts_at
    assert f"{circle.meeting.uid}@wg.example.org" in starts  # and their other meeting
