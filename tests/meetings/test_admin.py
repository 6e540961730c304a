"""The secretariat schedules, changes and cancels meetings and adds readings in its admin, and
every one of those goes through the services: numbering, revision, invitations, file checks."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django_scopes import scopes_disabled

from asi_wg.models import AuditEntry, User
from meetings.models import Material, Meeting
from tests.meetings.conftest import Circle
from tests.meetings.test_access import PDF

pytestmark = pytest.mark.django_db

ADD = "/alu/admin/meetings/meeting/add/"


def _form(circle: Circle, **changes: Any) -> dict[str, Any]:
    data = {
        "group": circle.group.pk,
        "phase": circle.phase.pk,
        "title": "Drafting session",
        "starts_local": "2027-03-02T14:00",
        "time_zone": "Europe/London",
        "duration_minutes": 90,
        "join_url": "https://video.example/j/42",
        "language": "en",
        "interpretation_languages": ["fr"],
        "agenda": "1. Welcome",
    }
    data.update(changes)
    return data


def test_scheduling_in_the_admin_numbers_the_meeting_and_invites_the_group(
    circle: Circle, secretariat_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = secretariat_client.post(ADD, _form(circle))
    assert response.status_code == 302
    with scopes_disabled():
        meeting = Meeting.objects.get(title="Drafting session")
        assert meeting.number == circle.meeting.number + 1  # the next in the phase
        assert meeting.starts_at.isoformat() == "2027-03-02T14:00:00+00:00"
        assert meeting.interpretation_languages == ["fr"]
        assert AuditEntry.objects.filter(action="meeting.schedule", target_id=str(meeting.pk))
    invited = sorted(message.to[0] for message in mail.outbox)
    assert invited == sorted([circle.participant.email, circle.unacknowledged.email])


def test_a_phase_of_another_group_is_a_form_error(
    circle: Circle, secretariat_client: Client, org: Any
) -> None:
    from tests.factories import PhaseFactory, WorkingGroupFactory

    with scopes_disabled():
        other_phase = PhaseFactory.create(group=WorkingGroupFactory.create(organisation=org))
    page = secretariat_client.post(ADD, _form(circle, phase=other_phase.pk))
    assert page.status_code == 200
    assert "Choose a phase of this group." in page.content.decode()
    with scopes_disabled():
        assert not Meeting.objects.filter(title="Drafting session").exists()


def test_moving_a_meeting_raises_its_revision_and_sends_the_update(
    circle: Circle, secretariat_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    url = f"/alu/admin/meetings/meeting/{circle.meeting.pk}/change/"
    form = _form(circle, title=circle.meeting.title, starts_local="2027-03-09T15:30")
    del form["group"], form["phase"]
    with django_capture_on_commit_callbacks(execute=True):
        assert secretariat_client.post(url, form).status_code == 302
    with scopes_disabled():
        meeting = Meeting.objects.get(pk=circle.meeting.pk)
    assert meeting.revision == 1
    assert meeting.starts_at.isoformat() == "2027-03-09T15:30:00+00:00"
    assert sorted(m.to[0] for m in mail.outbox if m.subject.startswith("Updated")) == sorted(
        [circle.participant.email, circle.unacknowledged.email]
    )


def test_a_meeting_is_cancelled_never_deleted(circle: Circle, secretariat_client: Client) -> None:
    listing = "/alu/admin/meetings/meeting/"
    response = secretariat_client.post(
        listing,
        {"action": "cancel_meetings", "_selected_action": [circle.meeting.pk]},
        follow=True,
    )
    assert "1 meetings cancelled." in response.content.decode()
    with scopes_disabled():
        meeting = Meeting.objects.get(pk=circle.meeting.pk)
    assert meeting.status == Meeting.Status.CANCELLED
    assert meeting.revision == 1
    delete = secretariat_client.post(f"{listing}{meeting.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403


def _upload(client: Client, circle: Circle, name: str, content: bytes) -> Any:
    upload = io.BytesIO(content)
    upload.name = name
    return client.post(
        "/alu/admin/meetings/material/add/",
        {
            "meeting": circle.meeting.pk,
            "title": "Draft",
            "upload": upload,
            "url": "",
            "reading_minutes": 45,
            "publish_local": "2027-01-04T09:00",
        },
    )


def test_the_admin_refuses_an_html_file_named_pdf_with_the_reason(
    circle: Circle, secretariat_client: Client
) -> None:
    page = _upload(secretariat_client, circle, "draft.pdf", b"<!doctype html><p>hi</p>")
    assert page.status_code == 200
    assert "“draft.pdf” is not a file type we accept." in page.content.decode()
    with scopes_disabled():
        assert not Material.objects.exists()


def test_the_admin_adds_a_pdf_reading_through_the_service(
    circle: Circle, secretariat_client: Client, secretariat: User
) -> None:
    assert _upload(secretariat_client, circle, "draft.pdf", PDF).status_code == 302
    with scopes_disabled():
        material = Material.objects.get()
        assert material.content_type == "application/pdf"
        assert material.reading_minutes == 45
        # 09:00 in the organisation's zone (Melbourne, summer time: UTC+11).
        assert material.publish_at.isoformat() == "2027-01-03T22:00:00+00:00"
        assert material.created_by == secretariat
        assert AuditEntry.objects.filter(action="material.add").count() == 1


def test_a_published_reading_is_shown_not_edited(
    circle: Circle, secretariat_client: Client, secretariat: User
) -> None:
    from django_scopes import scope

    from meetings import services

    with scope(organisation=circle.group.organisation):
        material = services.material_add(
            meeting=circle.meeting,
            title="Glossary",
            url="https://docs.example/glossary",
            acting_user=secretariat,
        )
    url = f"/alu/admin/meetings/material/{material.pk}/change/"
    page = secretariat_client.get(url)
    assert page.status_code == 200
    assert "https://docs.example/glossary" in page.content.decode()
    assert 'name="url"' not in page.content.decode()
    assert secretariat_client.post(url, {"url": "https://evil.example/"}).status_code == 403
