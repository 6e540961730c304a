"""The meetings app's personal data: what a person's export shows and their erasure removes."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django_scopes import scope, scopes_disabled

from asi_wg.models import Organisation, User
from meetings import services
from meetings.models import Apology, CalendarFeed
from membership import personal_data, privacy
from tests.meetings.conftest import Circle

pytestmark = pytest.mark.django_db

NOTE = "Away at the smelter in Sohar that week."


def test_the_export_shows_and_erasure_removes_every_declared_meetings_field(
    circle: Circle, org: Organisation
) -> None:
    person = circle.participant
    with scope(organisation=org):
        services.apology_send(meeting=circle.meeting, user=person, note=NOTE)
        feed = services.calendar_feed_get(organisation=org, user=person)
    declared = {
        (label, name)
        for label, name in personal_data.personal_fields()
        if label.startswith("meetings.")
    }
    assert declared == {("meetings.apology", "note"), ("meetings.calendarfeed", "token")}

    export = json.dumps(privacy.person_data_export(user=person))
    assert NOTE in export
    assert feed.token in export

    with scope(organisation=org):
        privacy.person_erase(organisation=org, user=person, acting_user=person)
    with scopes_disabled():
        apology = Apology.objects.get(meeting=circle.meeting)
        assert apology.note == ""  # the apology itself stays: the register counts it
        assert not CalendarFeed.objects.filter(token=feed.token).exists()
    assert Client().get(f"/alu/calendar/{feed.token}.ics").status_code == 404


def test_a_person_without_meetings_rows_exports_and_erases_cleanly(
    org: Organisation, secretariat: User
) -> None:
    with scope(organisation=org):
        privacy.person_erase(organisation=org, user=secretariat, acting_user=secretariat)
    assert not secretariat.is_active
