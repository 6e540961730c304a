"""The publishable synopsis of a round (issue 9, point 6): staff preview it and publish it;
the public sees only what was published, as it was published, with no person's name and no
Member named without its consent."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_scopes import scope, scopes_disabled

from asi_wg.models import AuditEntry, User
from feedback.models import Synopsis
from membership.models import Member
from tests.feedback.commented import CONSENTING_NAME, MEMBER, SECRET_NAME, Commented
from tests.meetings.conftest import client_for

pytestmark = pytest.mark.django_db


def _staff_url(commented: Commented) -> str:
    return f"/alu/staff/feedback/rounds/{commented.round.pk}/synopsis/"


def _publish(client: Client, commented: Commented, intro: str = "Thanks to all.") -> None:
    response = client.post(_staff_url(commented), {"intro": intro, "action": "publish"})
    assert response.status_code == 302, response.content.decode()[:2000]


def _consent(value: bool) -> None:
    with scopes_disabled():
        Member.objects.filter(name=MEMBER).update(name_in_publications=value)


def test_preview_shows_comments_by_criterion_without_names_or_drafts(
    commented: Commented, secretariat: User
) -> None:
    response = client_for(secretariat).get(_staff_url(commented))
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("5.3", "5.3.1", "5.9", "=cmd|&#x27; /C calc&#x27;!A0", "Typo in 5.9."):
        assert text in page
    assert "Accepted.</strong> +1 we agree" in page
    assert "Draft answer, not public yet." not in page  # an unpublished disposition
    assert "Response pending." in page
    assert SECRET_NAME not in page
    assert CONSENTING_NAME not in page
    assert MEMBER not in page  # the Member did not agree to be named
    assert "Other comments" in page
    assert "Not published yet" in page


def test_public_sees_nothing_before_publication(commented: Commented, secretariat: User) -> None:
    client_for(secretariat).post(_staff_url(commented), {"intro": "Draft intro", "action": "save"})
    with scopes_disabled():
        draft = Synopsis.objects.get(round=commented.round)
    assert draft.published_at is None
    anonymous = Client()
    listing = anonymous.get("/alu/synopses/")
    assert listing.status_code == 200
    assert "No synopsis has been published yet." in listing.content.decode()
    assert anonymous.get(f"/alu/synopses/{draft.pk}/").status_code == 404
    assert anonymous.get("/alu/synopses/999999/").status_code == 404


def test_publishing_freezes_a_version_the_public_can_read(
    commented: Commented, secretariat: User
) -> None:
    staff = client_for(secretariat)
    _publish(staff, commented, intro="We thank **every** respondent.")
    anonymous = Client()
    listing = anonymous.get("/alu/synopses/").content.decode()
    assert commented.round.title in listing
    with scopes_disabled():
        first = Synopsis.objects.get(round=commented.round, version=1)
        assert AuditEntry.objects.filter(action="synopsis.publish").count() == 1
    page = anonymous.get(f"/alu/synopses/{first.pk}/").content.decode()
    assert "We thank <strong>every</strong> respondent." in page
    assert "Typo in 5.9." in page
    assert MEMBER not in page
    assert SECRET_NAME not in page

    # The Member agrees to be named afterwards: version 1 stays as published...
    _consent(True)
    assert MEMBER not in anonymous.get(f"/alu/synopses/{first.pk}/").content.decode()
    # ...and the preview and the next version name it.
    assert MEMBER in staff.get(_staff_url(commented)).content.decode()
    _publish(staff, commented)
    with scopes_disabled():
        second = Synopsis.objects.get(round=commented.round, version=2)
    assert MEMBER in anonymous.get(f"/alu/synopses/{second.pk}/").content.decode()
    old = anonymous.get(f"/alu/synopses/{first.pk}/").content.decode()
    assert MEMBER not in old
    assert "A newer version (2) has been published" in old
    listing = anonymous.get("/alu/synopses/").content.decode()
    assert f"/alu/synopses/{second.pk}/" in listing
    assert f"/alu/synopses/{first.pk}/" not in listing


def test_an_open_round_is_not_published(commented: Commented, secretariat: User) -> None:
    url = f"/alu/staff/feedback/rounds/{commented.second_round.pk}/synopsis/"
    response = client_for(secretariat).post(url, {"intro": "x", "action": "publish"})
    assert response.status_code == 400
    assert "once the round has closed" in response.content.decode()
    with scopes_disabled():
        assert not Synopsis.objects.filter(published_at__isnull=False).exists()


def test_only_this_tenants_secretariat_reviews_and_other_tenants_synopsis_is_not_found(
    commented: Commented, secretariat: User, other_secretariat: User
) -> None:
    url = _staff_url(commented)
    assert client_for(commented.consultation.participant).get(url).status_code == 404
    assert client_for(other_secretariat).get(url).status_code == 404
    assert client_for(other_secretariat).post(url, {"action": "publish"}).status_code == 404
    _publish(client_for(secretariat), commented)
    with scopes_disabled():
        published = Synopsis.objects.get(version=1)
    assert Client().get(f"/other/synopses/{published.pk}/").status_code == 404
    assert commented.round.title not in Client().get("/other/synopses/").content.decode()


def test_a_crafted_post_changes_nothing(commented: Commented, secretariat: User) -> None:
    response = client_for(secretariat).post(_staff_url(commented), {"action": "delete"})
    assert response.status_code == 400
    assert "Choose to save the introduction or to publish." in response.content.decode()
    too_long = {"action": "save", "intro": "x" * 20001}
    assert client_for(secretariat).post(_staff_url(commented), too_long).status_code == 400
    with scopes_disabled():
        assert not Synopsis.objects.exists()


@pytest.mark.parametrize("rounds", [1, 3])
def test_public_list_query_count_does_not_grow(
    commented: Commented, secretariat: User, rounds: int, django_assert_num_queries
) -> None:
    staff = client_for(secretariat)
    for _ in range(rounds):
        _publish(staff, commented)
    anonymous = Client()
    anonymous.get("/alu/synopses/")
    with django_assert_num_queries(1):
        assert anonymous.get("/alu/synopses/").status_code == 200


def test_a_published_version_gets_its_pdf_saying_what_the_page_says(
    commented: Commented, secretariat: User, django_capture_on_commit_callbacks
) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    with django_capture_on_commit_callbacks(execute=True):
        _publish(client_for(secretariat), commented, intro="Thanks to all respondents.")
    with scopes_disabled():
        published = Synopsis.objects.get(version=1)
    assert published.pdf
    page = Client().get(f"/alu/synopses/{published.pk}/").content.decode()
    assert f"/alu/synopses/{published.pk}/synopsis.pdf" in page
    response = Client().get(f"/alu/synopses/{published.pk}/synopsis.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    data = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)
    for expected in ("Thanks to all respondents.", "5.3.1", "Typo in 5.9.", "+1 we agree"):
        assert expected in text
    for absent in (SECRET_NAME, CONSENTING_NAME, MEMBER, "Draft answer, not public yet."):
        assert absent not in text
    assert Client().get(f"/other/synopses/{published.pk}/synopsis.pdf").status_code == 404


def test_a_second_run_of_the_pdf_job_keeps_the_first_file_and_leaves_none_behind(
    commented: Commented, secretariat: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs of the job at once (a redelivered task): the one that records its file last
    finds the other's there, keeps it, and deletes its own."""
    from feedback import pdf, synopsis

    _publish(client_for(secretariat), commented)
    with scopes_disabled():
        published = Synopsis.objects.select_related("organisation").get(version=1)
        Synopsis.objects.filter(pk=published.pk).update(pdf="")
    storage = published.pdf.storage
    folder = f"synopses/{published.organisation_id}/{published.round_id}"

    def files() -> set[str]:
        return set(storage.listdir(folder)[1]) if storage.exists(folder) else set()

    typeset = pdf.render
    other = f"{folder}/the-other-run.pdf"

    def meanwhile_the_other_run_finishes(*args: Any, **kwargs: Any) -> bytes:
        with scopes_disabled():
            Synopsis.objects.filter(pk=published.pk).update(pdf=other)
        return typeset(*args, **kwargs)

    monkeypatch.setattr(pdf, "render", meanwhile_the_other_run_finishes)
    before = files()
    with scope(organisation=published.organisation):
        assert synopsis.synopsis_pdf_build(
            organisation=published.organisation, synopsis_id=published.pk
        )
    with scopes_disabled():
        assert Synopsis.objects.get(pk=published.pk).pdf.name == other
    assert files() == before
