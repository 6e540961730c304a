"""Who reaches a meeting, its join link, its materials and its calendar, tried over the URLs."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django_scopes import scope, scopes_disabled
from icalendar import Calendar

from asi_wg.models import Organisation, User
from meetings import services
from meetings.models import CalendarFeed, Material
from meetings.uploads import MaterialRefused
from tests.conftest import make_secretariat
from tests.factories import MeetingFactory, PhaseFactory, UserFactory, WorkingGroupFactory
from tests.meetings.conftest import Circle, client_for

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def docx_bytes() -> bytes:
    """A minimal Word file, the same bytes every time (a parameter of a test below: test
    processes collecting it a second apart must see the same test)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in (
            ("[Content_Types].xml", "<Types/>"),
            ("word/document.xml", "<w:document/>"),
        ):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


def add_file(circle: Circle, staff: User, name: str, content: bytes) -> Material:
    with scope(organisation=circle.group.organisation):
        return services.material_add(
            meeting=circle.meeting,
            title="Draft criteria",
            upload=SimpleUploadedFile(name, content),
            acting_user=staff,
        )


def urls(circle: Circle, material: Material) -> dict[str, str]:
    base = f"/alu/meetings/{circle.meeting.uid}/"
    return {
        "detail": base,
        "ics": base + "calendar.ics",
        "material": f"/alu/meetings/materials/{material.pk}/",
    }


def test_a_seated_participant_sees_the_link_and_reads_the_materials(
    circle: Circle, secretariat: User
) -> None:
    material = add_file(circle, secretariat, "draft.pdf", PDF)
    client = client_for(circle.participant)
    page = client.get(urls(circle, material)["detail"]).content.decode()
    assert "https://video.example/j/123456" in page
    assert "Draft criteria" in page
    download = client.get(urls(circle, material)["material"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF  # type: ignore[attr-defined]
    assert download["Content-Type"] == "application/pdf"
    assert 'filename="draft.pdf"' in download["Content-Disposition"]
    listing = client.get("/alu/meetings/").content.decode()
    assert "Scope of the circularity criteria" in listing


def test_materials_wait_for_the_antitrust_acknowledgement(
    circle: Circle, secretariat: User
) -> None:
    material = add_file(circle, secretariat, "draft.pdf", PDF)
    client = client_for(circle.unacknowledged)
    page = client.get(urls(circle, material)["detail"]).content.decode()
    assert "https://video.example/j/123456" in page  # seated: may join
    assert "The materials open once you" in page
    assert f"/alu/meetings/materials/{material.pk}/" not in page
    assert client.get(urls(circle, material)["material"]).status_code == 404


def test_nobody_else_reaches_the_meeting_its_link_or_its_materials(
    circle: Circle, secretariat: User, other_org: Organisation
) -> None:
    material = add_file(circle, secretariat, "draft.pdf", PDF)
    addresses = urls(circle, material)
    stranger = UserFactory.create()
    other_staff = make_secretariat(other_org, email="staff@other.example")
    for who, client in {
        "participant of another group": client_for(circle.outsider),
        "signed-in stranger": client_for(stranger),
        "another tenant's secretariat": client_for(other_staff),
    }.items():
        for name, url in addresses.items():
            response = client.get(url)
            assert response.status_code == 404, (who, name)
            assert b"video.example" not in response.content, (who, name)
    anonymous = Client()
    for name, url in addresses.items():
        response = anonymous.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith("/accounts/login/"), name
    # Another tenant's address for this meeting is not found either.
    assert client_for(other_staff).get(f"/other/meetings/{circle.meeting.uid}/").status_code == 404


def test_the_secretariat_sees_every_meeting_with_its_link(
    circle: Circle, secretariat: User
) -> None:
    material = add_file(circle, secretariat, "draft.pdf", PDF)
    client = client_for(secretariat)
    assert b"video.example" in client.get(urls(circle, material)["detail"]).content
    download = client.get(urls(circle, material)["material"])
    assert b"".join(download.streaming_content) == PDF  # type: ignore[attr-defined]


def test_an_unpublished_material_stays_closed_until_its_time(
    circle: Circle, secretariat: User
) -> None:
    import datetime

    from django.utils import timezone

    with scope(organisation=circle.group.organisation):
        later = services.material_add(
            meeting=circle.meeting,
            title="Embargoed draft",
            url="https://docs.example/later.pdf",
            publish_at=timezone.now() + datetime.timedelta(days=2),
            acting_user=secretariat,
        )
    client = client_for(circle.participant)
    assert "Embargoed draft" not in client.get(urls(circle, later)["detail"]).content.decode()
    assert client.get(urls(circle, later)["material"]).status_code == 404


def test_the_meeting_calendar_file_parses_and_carries_the_link_only_for_those_who_join(
    circle: Circle,
) -> None:
    response = client_for(circle.participant).get(
        f"/alu/meetings/{circle.meeting.uid}/calendar.ics"
    )
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]).startswith(str(circle.meeting.uid))
    assert event.decoded("DTSTART") == circle.meeting.starts_at
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert "video.example" in str(event["DESCRIPTION"])
    assert calendar.walk("VTIMEZONE"), "the planned zone travels with the event"


def test_the_feed_lists_the_persons_meetings_and_a_reset_kills_the_old_address(
    circle: Circle, org: Organisation
) -> None:
    with scopes_disabled():
        other_group = WorkingGroupFactory.create(organisation=org, name="Climate")
        MeetingFactory.create(
            group=other_group, phase=PhaseFactory.create(group=other_group), title="Not mine"
        )
    client = client_for(circle.participant)
    page = client.get("/alu/me/calendar/").content.decode()
    with scopes_disabled():
        feed = CalendarFeed.objects.get(user=circle.participant, revoked_at__isnull=True)
    assert f"/alu/calendar/{feed.token}.ics" in page
    anonymous = Client()
    body = anonymous.get(f"/alu/calendar/{feed.token}.ics")
    assert body.status_code == 200
    events = Calendar.from_ical(body.content).walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == ["Circularity: Scope of the circularity criteria"]
    client.post("/alu/me/calendar/")
    assert anonymous.get(f"/alu/calendar/{feed.token}.ics").status_code == 404
    assert anonymous.get("/alu/calendar/not-a-token.ics").status_code == 404
    assert anonymous.get(f"/other/calendar/{feed.token}.ics").status_code == 404


def test_apologies_and_interpretation_round_trip(circle: Circle) -> None:
    with scopes_disabled():
        circle.meeting.interpretation_languages = ["fr", "es"]
        circle.meeting.save()
    client = client_for(circle.participant)
    base = f"/alu/meetings/{circle.meeting.uid}/"
    sent = client.post(base + "apologies/", {"note": "Travelling"}, follow=True)
    assert "Your apologies are sent to the secretariat." in sent.content.decode()
    assert "You sent apologies (“Travelling”)" in sent.content.decode()
    back = client.post(base + "apologies/withdraw/", follow=True).content.decode()
    assert "you are expected at the meeting" in back
    refused = client.post(base + "interpretation/", {"language": "de"}, follow=True)
    assert "Choose one of the languages offered." in refused.content.decode()
    asked = client.post(base + "interpretation/", {"language": "fr"}, follow=True)
    assert "You asked for interpretation into French." in asked.content.decode()
    # Someone of another group cannot answer for this meeting.
    assert client_for(circle.outsider).post(base + "apologies/", {}).status_code == 404


# --- Uploads ------------------------------------------------------------------------------


def test_an_office_file_is_accepted_by_its_content(circle: Circle, secretariat: User) -> None:
    material = add_file(circle, secretariat, "Draft.DOCX", docx_bytes())
    assert material.content_type.endswith("wordprocessingml.document")
    assert material.original_name == "Draft.DOCX"
    assert material.file.name.startswith("materials/alu/")
    assert "Draft" not in material.file.name  # stored under a random name


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.pdf", b"<html><script>alert(1)</script></html>", "is not a file type we accept"),
        ("payload.exe", b"MZ\x90\x00", "is not a file type we accept"),
        ("draft.pdf", docx_bytes(), "is named as .pdf but its content is a Word file"),
        ("empty.pdf", b"", "is empty"),
    ],
    ids=["html-named-pdf", "program", "word-named-pdf", "empty"],
)
def test_a_refused_upload_says_why_and_stores_nothing(
    circle: Circle, secretariat: User, name: str, content: bytes, message: str
) -> None:
    with pytest.raises(MaterialRefused, match=message):
        add_file(circle, secretariat, name, content)
    with scopes_disabled():
        assert not Material.objects.exists()


@override_settings(MATERIAL_MAX_BYTES=1024)
def test_an_oversize_upload_is_refused(circle: Circle, secretariat: User) -> None:
    with pytest.raises(MaterialRefused, match=r"a reading material is at most 1\.0"):
        add_file(circle, secretariat, "big.pdf", PDF + b"0" * 2048)
