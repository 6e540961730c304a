"""A committee member's PDF summary in a real browser: from the summaries to a round's page,
"Prepare PDF", the status page that updates itself while a worker typesets it, and the download;
the status page passes axe-core at desktop and phone widths, waiting and ready.

No Celery worker here: the job is recorded when queued and run by the test (the same function
the worker runs) while the page is open, so the test sees the page change by itself (htmx)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django_scopes import scope, scopes_disabled

from asi_wg.models import Organisation
from feedback import summary_files
from feedback.demo import CLOSED_TITLE, OPEN_TITLE
from feedback.models import SummaryFile
from tests.e2e.axe import assert_accessible
from tests.e2e.test_meetings_flow import sign_in
from tests.e2e.test_public_pages import HAS_HORIZONTAL_SCROLL, header

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_the_committee_prepares_waits_for_and_downloads_a_pdf_summary(
    page: Page, phone_page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued: list[int] = []
    monkeypatch.setattr(
        summary_files, "_queue_build", lambda organisation_id, file_id: queued.append(file_id)
    )
    sign_in(page, "committee@asi.example")
    header(page).get_by_role("link", name="Summaries").click()
    page.wait_for_url("**/asi/committee/summaries/")

    # The closed demo round's A4 summary is ready (load_demo made it): offered at once.
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
    with scopes_disabled():
        asi = Organisation.objects.get(slug="asi")
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
