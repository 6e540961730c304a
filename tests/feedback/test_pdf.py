"""The committee's PDF summaries: what the PDF says (read back with pypdf), that WeasyPrint
fetches nothing, that an unchanged summary is rendered once, and who may fetch it."""

from __future__ import annotations

import io
import re
import socket
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client, TestCase
from django_scopes import scope, scopes_disabled
from pypdf import PdfReader
from pypdf.generic import Destination

from asi_wg.models import Organisation, OrganisationRole, User
from feedback import pdf, services, summary_files
from feedback.models import Answer, SummaryFile
from groups import services as group_services
from membership import services as membership_services
from membership.models import ParticipantProfile
from tests.factories import UserFactory
from tests.feedback.conftest import Consultation
from tests.meetings.conftest import client_for

CONSENTING = "Ada Consenting-Person"
PRIVATE = "Bob Private-Person"


# --- Helpers ----------------------------------------------------------------------------------


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def file_bytes(summary_file: SummaryFile) -> bytes:
    with summary_file.file.open("rb") as handle:
        return handle.read()


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def make_committee(organisation: Organisation, **kwargs: Any) -> User:
    user = UserFactory.create(**kwargs)
    group_services.organisation_role_grant(
        organisation=organisation, user=user, role=OrganisationRole.COMMITTEE, acting_user=None
    )
    return user


@dataclass
class Filled:
    consultation: Consultation
    answers: list[Answer]


@pytest.fixture
def filled(consultation: Consultation, secretariat: User) -> Filled:
    """Two people answer the round: one consents to being named, one does not; one answer is
    a draft (it counts nowhere); two comments have dispositions."""
    c = consultation
    with scopes_disabled():
        for user, name, consent in ((c.participant, CONSENTING, True), (c.second, PRIVATE, False)):
            user.full_name = name
            user.save(update_fields=["full_name"])
            ParticipantProfile.objects.filter(user=user).update(name_consent=consent)
    answers = []
    with scope(organisation=c.group.organisation):
        for user, reference, text in (
            (c.participant, "5.3", "Consenting view on scope."),
            (c.participant, "5.3.1", "Consenting view on evidence."),
            (c.second, "5.3", 'Private view: <img src="https://evil.example/x.png"> scope.'),
            (c.second, "5.9", "Private view on review cycles."),
        ):
            answers.append(
                services.answer_save(
                    round=c.round,
                    criterion=c.criteria[reference],
                    user=user,
                    data={"relevance": 4, "clarity": 2, "feasibility": 0, "comment": text},
                    expected_version=0,
                    submit=True,
                )
            )
        services.answer_save(
            round=c.round,
            criterion=c.criteria["5.9"],
            user=c.participant,
            data={"relevance": 1, "comment": "Draft, never submitted."},
            expected_version=0,
        )
        services.disposition_set(
            answers=answers[:1],
            status="accepted",
            response="Scope narrowed.",
            acting_user=secretariat,
        )
        services.disposition_set(
            answers=answers[2:3], status="noted", response="Thank you.", acting_user=secretariat
        )
    return Filled(c, answers)


def request_pdf(filled: Filled, user: User, page_size: str = "A4") -> SummaryFile:
    c = filled.consultation
    with scope(organisation=c.group.organisation), TestCase.captureOnCommitCallbacks(execute=True):
        return summary_files.summary_file_request(
            organisation=c.group.organisation,
            kind="round",
            object_id=c.round.pk,
            page_size=page_size,
            acting_user=user,
        )


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts WeasyPrint renders (each call of feedback.pdf.render_html)."""
    calls: list[str] = []
    original = pdf.render_html

    def counting(html: str, **kwargs: Any) -> pdf.Rendered:
        calls.append(kwargs.get("page_size", "A4"))
        return original(html, **kwargs)

    monkeypatch.setattr(pdf, "render_html", counting)
    return calls


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Any attempt to open a socket is recorded and refused."""
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


# --- The fetcher ------------------------------------------------------------------------------


HOSTILE = """<!DOCTYPE html><html><head>
<link rel="stylesheet" href="http://evil.example/style.css">
<link rel="stylesheet" href="file:///etc/passwd">
<link rel="stylesheet" href="asset:../../pyproject.toml">
<link rel="stylesheet" href="asset:summary.css">
<style>@import url("https://evil.example/import.css");
body { background: url(file:///etc/hostname); }</style>
</head><body>
<p>Hello</p>
<img src="https://evil.example/pixel.png" alt="">
<img src="file:///etc/passwd" alt="">
<img src="/etc/passwd" alt="">
<svg width="10" height="10">
<image href="http://evil.example/in-svg.png" width="10" height="10"/></svg>
</body></html>"""


def test_fetcher_refuses_remote_and_file_urls_in_a_template(no_network: list[Any]) -> None:
    rendered = pdf.render_html(HOSTILE)

    assert set(rendered.refused) >= {
        "http://evil.example/style.css",
        "file:///etc/passwd",
        "asset:../../pyproject.toml",
        "https://evil.example/import.css",
        "file:///etc/hostname",
        "https://evil.example/pixel.png",
        "http://evil.example/in-svg.png",
    }
    assert rendered.served == ["asset:summary.css"]
    assert no_network == []
    assert "Hello" in pdf_pages(rendered.pdf)[0]
    assert b"root:" not in rendered.pdf


def test_user_text_with_urls_is_printed_not_fetched(
    filled: Filled, secretariat: User, no_network: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[pdf.Rendered] = []
    original = pdf.render_html

    def keep(html: str, **kwargs: Any) -> pdf.Rendered:
        seen.append(original(html, **kwargs))
        return seen[-1]

    monkeypatch.setattr(pdf, "render_html", keep)
    with scopes_disabled():
        Answer.objects.filter(pk=filled.answers[1].pk).update(
            comment='See file:///etc/passwd and <link rel="stylesheet" href="http://evil.example/a.css">'
        )
    request_pdf(filled, secretariat)

    assert len(seen) == 1
    assert seen[0].refused == []
    assert seen[0].served == ["asset:summary.css"]
    assert no_network == []
    text = flat(" ".join(pdf_pages(seen[0].pdf)))
    assert '<img src="https://evil.example/x.png">' in text
    assert "file:///etc/passwd" in text


def test_page_sizes_are_a4_and_letter() -> None:
    a4 = PdfReader(io.BytesIO(pdf.render_html("<p>x</p>", page_size="A4").pdf)).pages[0]
    letter = PdfReader(io.BytesIO(pdf.render_html("<p>x</p>", page_size="Letter").pdf)).pages[0]
    assert (round(float(a4.mediabox.width)), round(float(a4.mediabox.height))) == (595, 842)
    assert (round(float(letter.mediabox.width)), round(float(letter.mediabox.height))) == (612, 792)
    with pytest.raises(ValueError, match="Unknown page size"):
        pdf.render_html("<p>x</p>", page_size="A3")


# --- What the PDF says ------------------------------------------------------------------------


def built_pdf(filled: Filled, user: User, page_size: str = "A4") -> tuple[SummaryFile, bytes]:
    summary_file = request_pdf(filled, user, page_size)
    with scopes_disabled():
        summary_file.refresh_from_db()
        assert summary_file.status == SummaryFile.Status.READY, summary_file.error
        return summary_file, file_bytes(summary_file)


def test_pdf_has_every_criterion_the_counts_and_no_name_without_consent(
    filled: Filled, secretariat: User
) -> None:
    summary_file, data = built_pdf(filled, secretariat)
    pages = pdf_pages(data)
    text = flat(" ".join(pages))
    c = filled.consultation

    assert summary_file.pages == len(pages)
    for reference in ("5.3", "5.3.1", "5.9"):
        criterion = c.criteria[reference]
        assert f"{reference} {criterion.title}" in text
    assert c.criteria["5.10"].title not in text  # not in the round
    # Two respondents, four submitted answers (the draft counts nowhere), four comments.
    assert re.search(r"Respondents\s*2\b", text)
    assert re.search(r"Answers\s*4\b", text)
    assert re.search(r"Comments\s*4\b", text)
    assert "2 answers · 2 comments" in text  # 5.3
    assert "1 answer · 1 comment" in text  # 5.3.1 and 5.9
    assert "Draft, never submitted." not in text
    # Comments with their dispositions, and the consent rule.
    assert "Consenting view on scope." in text
    assert "Scope narrowed." in text
    assert "Accepted" in text
    assert "not yet published" in text
    assert CONSENTING in text
    assert PRIVATE not in text
    assert "Private view on review cycles." in text
    # Cover and running header/footer.
    assert "Draft for the Standards Committee, confidential" in pages[0]
    assert c.group.organisation.name in pages[0]
    assert f"Page 2 of {len(pages)}" in pages[1]
    assert c.document.version_label in flat(pages[2])


def test_contents_page_numbers_match_the_pages_where_sections_start(
    filled: Filled, secretariat: User
) -> None:
    _summary_file, data = built_pdf(filled, secretariat, "Letter")
    reader = PdfReader(io.BytesIO(data))
    pages = [flat(page.extract_text() or "") for page in reader.pages]
    contents = pages[1]
    assert contents.startswith("Contents")
    headings = (
        ["Executive summary"]
        + [f"{ref} {filled.consultation.criteria[ref].title}" for ref in ("5.3", "5.3.1", "5.9")]
        + ["Referrals between groups", "Annex: participation by organisation"]
    )
    # The PDF's bookmarks, made by WeasyPrint from the headings where they were laid out.
    outline = {
        item.title: reader.get_destination_page_number(item)
        for item in reader.outline
        if isinstance(item, Destination)
    }
    for heading in headings:
        match = re.search(re.escape(heading) + r"[ .]*?(\d+)(?!\.\d)", contents)
        assert match, f"{heading!r} is not in the contents: {contents}"
        page_number = int(match.group(1))
        assert heading in pages[page_number - 1], f"{heading!r} is not on page {page_number}"
        assert outline[heading] == page_number - 1


# --- Built once per fingerprint ---------------------------------------------------------------


def test_asking_twice_for_an_unchanged_summary_renders_once(
    filled: Filled, secretariat: User, renders: list[str]
) -> None:
    first = request_pdf(filled, secretariat)
    second = request_pdf(filled, secretariat)

    assert first.pk == second.pk
    assert renders == ["A4"]
    with scopes_disabled():
        assert SummaryFile.objects.count() == 1
        assert SummaryFile.objects.get().status == SummaryFile.Status.READY


def test_a_new_disposition_or_answer_makes_a_new_pdf(
    filled: Filled, secretariat: User, renders: list[str]
) -> None:
    c = filled.consultation
    first = request_pdf(filled, secretariat)
    with scope(organisation=c.group.organisation):
        services.disposition_set(
            answers=[filled.answers[3]],
            status="not_accepted",
            response="Out of scope for this revision.",
            acting_user=secretariat,
        )
    second = request_pdf(filled, secretariat)
    with scope(organisation=c.group.organisation):
        services.answer_save(
            round=c.round,
            criterion=c.criteria["5.9"],
            user=c.participant,
            data={"comment": "Submitted after all."},
            expected_version=1,
            submit=True,
        )
    third = request_pdf(filled, secretariat)

    assert len({first.pk, second.pk, third.pk}) == 3
    assert len({first.fingerprint, second.fingerprint, third.fingerprint}) == 3
    assert renders == ["A4", "A4", "A4"]
    with scopes_disabled():
        third.refresh_from_db()
        text = flat(" ".join(pdf_pages(file_bytes(third))))
    assert "Out of scope for this revision." in text
    assert "Submitted after all." in text


def test_a4_and_letter_are_two_files(filled: Filled, secretariat: User, renders: list[str]) -> None:
    request_pdf(filled, secretariat, "A4")
    request_pdf(filled, secretariat, "Letter")
    request_pdf(filled, secretariat, "Letter")
    assert renders == ["A4", "Letter"]


def test_running_the_job_again_for_a_ready_file_does_nothing(
    filled: Filled, secretariat: User, renders: list[str]
) -> None:
    from feedback.tasks import summary_pdf_build

    summary_file = request_pdf(filled, secretariat)
    org = filled.consultation.group.organisation
    assert summary_pdf_build(organisation_id=org.pk, file_id=summary_file.pk) == "ready"
    assert summary_pdf_build(organisation_id=org.pk, file_id=summary_file.pk + 999) is None
    assert renders == ["A4"]


def test_a_failed_build_is_recorded_and_built_again_on_the_next_request(
    filled: Filled, secretariat: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = pdf.render_html

    def broken(html: str, **kwargs: Any) -> pdf.Rendered:
        raise RuntimeError("the typesetter fell over")

    monkeypatch.setattr(pdf, "render_html", broken)
    failed = request_pdf(filled, secretariat)
    with scopes_disabled():
        failed.refresh_from_db()
    assert failed.status == SummaryFile.Status.FAILED
    assert "fell over" in failed.error

    monkeypatch.setattr(pdf, "render_html", original)
    again = request_pdf(filled, secretariat)
    with scopes_disabled():
        again.refresh_from_db()
    assert again.pk == failed.pk
    assert again.status == SummaryFile.Status.READY
    assert again.error == ""


# --- The pages --------------------------------------------------------------------------------


def request_url(filled: Filled, kind: str = "rounds", object_id: int | None = None) -> str:
    c = filled.consultation
    oid = c.round.pk if object_id is None else object_id
    return f"/{c.group.organisation.slug}/committee/summaries/pdf/{kind}/{oid}/"


def status_url(org: Organisation, file_id: int) -> str:
    return f"/{org.slug}/committee/summaries/pdf/files/{file_id}/"


def test_committee_member_asks_waits_and_downloads(
    filled: Filled, django_capture_on_commit_callbacks: Any
) -> None:
    org = filled.consultation.group.organisation
    member = make_committee(org)
    client = client_for(member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(request_url(filled), {"page_size": "Letter"})
    with scopes_disabled():
        summary_file = SummaryFile.objects.get()
    assert response.status_code == 302
    assert response["Location"] == status_url(org, summary_file.pk)

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Download the PDF (Letter," in page.content.decode()
    assert 'hx-trigger="every 2s"' not in page.content.decode()  # ready: no more polling

    download = client.get(f"{status_url(org, summary_file.pk)}download.pdf")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == (
        'attachment; filename="alu-summary-circularity-first-consultation-letter.pdf"'
    )
    assert "no-store" in download["Cache-Control"]
    data = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    assert "Draft for the Standards Committee, confidential" in pdf_pages(data)[0]


def test_status_page_polls_while_the_pdf_is_prepared_and_stops_when_done(
    filled: Filled, secretariat: User
) -> None:
    org = filled.consultation.group.organisation
    with scope(organisation=org):  # queued, but no worker runs it (no on_commit here)
        summary_file = summary_files.summary_file_request(
            organisation=org,
            kind="round",
            object_id=filled.consultation.round.pk,
            page_size="A4",
            acting_user=secretariat,
        )
    client = client_for(secretariat)
    page = client.get(status_url(org, summary_file.pk)).content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert "Check again" in page
    assert "Download the PDF" not in page
    assert "http-equiv" not in page  # no automatic refresh of the whole page

    fragment = client.get(status_url(org, summary_file.pk), headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert 'hx-trigger="every 2s"' in fragment.content.decode()

    download = client.get(f"{status_url(org, summary_file.pk)}download.pdf")
    assert download.status_code == 302  # not ready: back to the status page

    with scope(organisation=org):
        summary_files.summary_file_build(organisation=org, file_id=summary_file.pk)
    fragment = client.get(status_url(org, summary_file.pk), headers={"HX-Request": "true"})
    assert fragment.status_code == 286  # htmx stops polling
    assert "Download the PDF" in fragment.content.decode()


@pytest.fixture
def ready_file(filled: Filled, secretariat: User) -> SummaryFile:
    summary_file, _data = built_pdf(filled, secretariat)
    return summary_file


def test_who_cannot_fetch_a_summary(
    filled: Filled, ready_file: SummaryFile, other_org: Organisation, secretariat: User
) -> None:
    org = filled.consultation.group.organisation
    status = status_url(org, ready_file.pk)
    download = f"{status}download.pdf"
    foreign_committee = make_committee(other_org)
    other_org_secretariat = UserFactory.create()
    group_services.organisation_role_grant(
        organisation=other_org,
        user=other_org_secretariat,
        role=OrganisationRole.SECRETARIAT,
        acting_user=None,
    )

    anonymous = Client()
    for url in (status, download):
        response = anonymous.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert anonymous.post(request_url(filled), {"page_size": "A4"}).status_code == 302

    for user in (filled.consultation.participant, foreign_committee, other_org_secretariat):
        client = client_for(user)
        for url in (status, download):
            assert client.get(url).status_code == 404, (user, url)
        assert client.post(request_url(filled), {"page_size": "A4"}).status_code == 404
        # The other tenant's own address with this tenant's file id: no such file there.
        assert client.get(f"{status_url(other_org, ready_file.pk)}download.pdf").status_code == 404
    with scopes_disabled():
        assert SummaryFile.objects.count() == 1


def test_guessed_ids_and_crafted_requests_are_404_and_change_nothing(
    filled: Filled, ready_file: SummaryFile, other_org: Organisation
) -> None:
    org = filled.consultation.group.organisation
    client = client_for(make_committee(org))
    foreign = make_committee(other_org)
    foreign_client = client_for(foreign)
    assert (
        foreign_client.get(f"{status_url(other_org, ready_file.pk)}download.pdf").status_code == 404
    )
    assert client.get(f"{status_url(org, ready_file.pk + 1)}download.pdf").status_code == 404
    assert client.get(status_url(org, 10**12)).status_code == 404
    for url, data in (
        (request_url(filled), {"page_size": "A3"}),
        (request_url(filled), {}),
        (request_url(filled, kind="meetings"), {"page_size": "A4"}),
        (request_url(filled, object_id=10**9), {"page_size": "A4"}),
        (request_url(filled, kind="documents", object_id=10**9), {"page_size": "A4"}),
        ("/alu/committee/summaries/pdf/groups/circ/documents/0/", {"page_size": "A4"}),
        (
            f"/alu/committee/summaries/pdf/groups/nope/documents/{filled.consultation.document.pk}/",
            {"page_size": "A4"},
        ),
    ):
        assert client.post(url, data).status_code == 404, (url, data)
    assert client.get(request_url(filled)).status_code == 405
    with scopes_disabled():
        assert SummaryFile.objects.count() == 1


def test_staff_of_the_tenant_may_fetch_it(ready_file: SummaryFile, secretariat: User) -> None:
    org = ready_file.organisation
    download = client_for(secretariat).get(f"{status_url(org, ready_file.pk)}download.pdf")
    assert download.status_code == 200
    b"".join(download.streaming_content)  # type: ignore[attr-defined]


def test_every_summary_page_offers_its_pdf_and_each_kind_is_built(
    filled: Filled, django_capture_on_commit_callbacks: Any
) -> None:
    c = filled.consultation
    client = client_for(make_committee(c.group.organisation))
    pages = {
        f"/alu/committee/summaries/rounds/{c.round.pk}/": (
            f"/alu/committee/summaries/pdf/rounds/{c.round.pk}/"
        ),
        f"/alu/committee/summaries/groups/circ/documents/{c.document.pk}/": (
            f"/alu/committee/summaries/pdf/groups/circ/documents/{c.document.pk}/"
        ),
        f"/alu/committee/summaries/documents/{c.document.pk}/": (
            f"/alu/committee/summaries/pdf/documents/{c.document.pk}/"
        ),
    }
    for page, action in pages.items():
        html = client.get(page).content.decode()
        assert f'action="{action}"' in html
        assert "Prepare PDF (A4)" in html
        assert "Prepare PDF (Letter)" in html
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(action, {"page_size": "A4"})
        assert response.status_code == 302
        status = client.get(response["Location"]).content.decode()
        assert "Download the PDF (A4," in status
        assert f'href="{page}"' in status  # back to the summary it was made from
    with scopes_disabled():
        files = {f.kind: f for f in SummaryFile.objects.all()}
        assert set(files) == {"round", "group", "document"}
        document_text = flat(" ".join(pdf_pages(file_bytes(files["document"]))))
    # The document's summary has every criterion of the document, 5.10 included.
    assert f"5.10 {c.criteria['5.10'].title}" in document_text


def test_the_demo_committee_has_the_closed_rounds_pdf_ready(
    db: None, django_capture_on_commit_callbacks: Any, renders: list[str], settings: Any
) -> None:
    from django.core.management import call_command

    settings.DEMO_PDF_SUMMARY = True
    from feedback.demo import CLOSED_TITLE

    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=io.StringIO())
    # The committee's summary, and the published synopsis's PDF once its publication commits.
    assert renders == ["A4", "A4"]
    call_command("load_demo", stdout=io.StringIO())  # again: the file is found, not typeset
    assert renders == ["A4", "A4"]
    with scopes_disabled():
        summary_file = SummaryFile.objects.get()
        asi = Organisation.objects.get(slug="asi")
    assert summary_file.status == SummaryFile.Status.READY
    assert summary_file.title.endswith(CLOSED_TITLE)
    client = client_for(User.objects.get(email="committee@asi.example"))
    response = client.get(f"{status_url(asi, summary_file.pk)}download.pdf")
    assert response.status_code == 200
    text = flat(" ".join(pdf_pages(b"".join(response.streaming_content))))  # type: ignore[attr-defined]
    assert "Draft for the Standards Committee, confidential" in text
    assert CLOSED_TITLE in text


def downloaded_text(response: Any) -> str:
    """The text of a downloaded PDF (a FileResponse streams its content)."""
    return flat(" ".join(pdf_pages(b"".join(response.streaming_content))))


def test_a_pdf_made_before_consent_was_withdrawn_is_no_longer_served(
    filled: Filled, secretariat: User
) -> None:
    c = filled.consultation
    organisation = c.group.organisation
    made = request_pdf(filled, secretariat)
    member = client_for(make_committee(organisation))
    download = f"/alu/committee/summaries/pdf/files/{made.pk}/download.pdf"
    status = f"/alu/committee/summaries/pdf/files/{made.pk}/"
    response = member.get(download)
    assert response.status_code == 200
    assert CONSENTING in downloaded_text(response)

    with scope(organisation=organisation):
        membership_services.profile_save(
            organisation=organisation, user=c.participant, data={"name_consent": False}
        )

    # The file still names her: it is not served, and its page offers the current version.
    response = member.get(download)
    assert response.status_code == 302
    assert response["Location"] == status
    page = member.get(status).content.decode()
    assert "has changed since it was prepared" in page
    assert "download.pdf" not in page
    current = request_pdf(filled, secretariat)
    assert current.pk != made.pk
    response = member.get(f"/alu/committee/summaries/pdf/files/{current.pk}/download.pdf")
    assert response.status_code == 200
    assert CONSENTING not in downloaded_text(response)
