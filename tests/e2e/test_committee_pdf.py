"""A committee member's PDF summary in a real browser: from the summaries to a round's page,
"Prepare PDF", the status page that updates itself while a worker typesets it, and the download;
the status page passes axe-core at desktop and phone widths, waiting, ready, and superseded by
newer feedback.

No Celery worker here: the job is recorded when queued and run by the test (the same function
the worker runs) while the page is open, so the test sees the page change by itself (htmx)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django_scopes import scope, scopes_disabled

from asi_wg.models import Organisation, User
from feedback import demo_pdf, services, summary_files
from feedback.demo import CLOSED_TITLE, OPEN_TITLE
from feedback.models import Answer, FeedbackRound, SummaryFile
from tests.e2e.axe import assert_accessible
from tests.e2e.test_meetings_flow import sign_in
from tests.e2e.test_public_pages import HAS_HORIZONTAL_SCROLL, header

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_the_committee_prepares_waits_for_and_downloads_a_pdf_summary(
    page: Page, phone_page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    with scopes_disabled():
        asi = Organisation.objects.get(slug="asi")
    with scope(organisation=asi):
        demo_pdf.load(  # what load_demo does outside the tests (DEMO_PDF_SUMMARY)
            asi,
            User.objects.get(email="committee@asi.example"),
            FeedbackRound.objects.select_related("group", "document").get(title=CLOSED_TITLE),
        )
    queued: list[int] = []
    monkeypatch.setattr(
        summary_files, "_queue_build", lambda organisation_id, file_id: queued.append(file_id)
    )
    sign_in(page, "committee@asi.example")
    header(page).get_by_role("link", name="Summaries").click()
    page.wait_for_url("**/asi/committee/summaries/")

    # The closed demo round's A4 summary is ready: offered at once.
    page.get_by_role("link", name=CLOSED_TITLE).click()
    page.get_by_role("button", name="Prepare PDF (A4)").click()
    page.wait_for_url("**/committee/summaries/pdf/files/*/")
    assert queued == []  # an unchanged summary is not typeset again
    page.get_by_text("Ready", exact=False).first.wait_for()
    assert_accessible(page)
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the PDF (A4").click()
    download = info.value
    assert download.suggested_filename.startswith("asi-summary-circularity-cross-cutting")
    assert download.suggested_filename.endswith("-a4.pdf")
    with open(download.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"

    # The open round's Letter summary does not exist yet: it waits for a worker.
    page.get_by_role("link", name="Feedback summaries").click()
    page.get_by_role("link", name=OPEN_TITLE).click()
    assert_accessible(page)  # the summary page with its "Prepare PDF" form
    page.get_by_role("button", name="Prepare PDF (Letter)").click()
    page.wait_for_url("**/committee/summaries/pdf/files/*/")
    assert len(queued) == 1
    status = page.get_by_role("status")
    assert "Waiting for a worker" in status.inner_text()
    assert page.get_by_role("link", name="Check again").is_visible()
    assert_accessible(page)

    sign_in(phone_page, "committee@asi.example")
    phone_page.goto(page.url)
    assert_accessible(phone_page)
    assert not phone_page.evaluate(HAS_HORIZONTAL_SCROLL)

    # The worker's part; the open page polls and offers the download by itself.
    with scope(organisation=asi):
        built: Any = summary_files.summary_file_build(organisation=asi, file_id=queued[0])
    assert built.status == SummaryFile.Status.READY
    link = page.get_by_role("link", name="Download the PDF (Letter")
    link.wait_for(timeout=15_000)
    assert page.get_by_role("link", name="Check again").count() == 0
    assert_accessible(page)
    with page.expect_download() as info:
        link.click()
    assert info.value.suggested_filename.endswith("-letter.pdf")

    # The phone's page polls too: it offers the download without being reloaded.
    phone_page.get_by_role("link", name="Download the PDF (Letter").wait_for(timeout=15_000)
    assert_accessible(phone_page)
    assert not phone_page.evaluate(HAS_HORIZONTAL_SCROLL)

    # A participant submits an answer of the open round: the file no longer shows the summary.
    # Its page says so, offers no download, and prepares the current version in one click.
    with scope(organisation=asi):
        draft = Answer.objects.filter(
            round__title=OPEN_TITLE,
            author__email="participant@asi.example",
            submitted_at__isnull=True,
        ).first()
        assert draft is not None
        services.answer_save(
            round=draft.round,
            criterion=draft.criterion,
            user=draft.author,
            data={"relevance": 3, "comment": "Submitted after the PDF was made."},
            expected_version=draft.version,
            submit=True,
        )
    page.reload()
    assert page.get_by_text("has changed since it was prepared").is_visible()
    assert page.get_by_role("link", name="Download the PDF (Letter").count() == 0
    assert_accessible(page)
    page.get_by_role("button", name="Prepare the current PDF").click()
    page.wait_for_url("**/committee/summaries/pdf/files/*/")
    assert len(queued) == 2
    assert "Waiting for a worker" in page.get_by_role("status").inner_text()
