"""Pages and text downloads go out in gzip to browsers that accept it; files that are compressed
already (spreadsheets, PDF) go out as they are (asi_wg.compression)."""

from __future__ import annotations

import gzip

import pytest

from asi_wg.models import User
from tests.feedback.commented import Commented
from tests.meetings.conftest import client_for

pytestmark = pytest.mark.django_db

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def test_a_page_is_compressed_for_a_browser_and_plain_for_a_client_that_does_not_ask(
    commented: Commented, secretariat: User, settings: object
) -> None:
    settings.PAGE_CACHE_SECONDS = 0  # type: ignore[attr-defined]
    client = client_for(secretariat)
    url = f"/alu/staff/feedback/rounds/{commented.round.pk}/"
    plain = client.get(url)
    zipped = client.get(url, headers=GZIP)
    assert plain.status_code == zipped.status_code == 200
    assert not plain.has_header("Content-Encoding")
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    assert "Accept-Encoding" in plain["Vary"]
    page = gzip.decompress(zipped.content).decode()
    assert "5.3.1" in page
    assert "<h1" in page
    assert len(zipped.content) < len(plain.content) / 3


def test_a_csv_export_is_compressed_and_reads_back_the_same(
    commented: Commented, secretariat: User
) -> None:
    client = client_for(secretariat)
    url = f"/alu/staff/feedback/rounds/{commented.round.pk}/iso.csv"
    plain = client.get(url)
    zipped = client.get(url, headers=GZIP)
    assert zipped["Content-Encoding"] == "gzip"
    body = zipped.getvalue() if zipped.streaming else zipped.content
    assert gzip.decompress(body) == (plain.getvalue() if plain.streaming else plain.content)


def test_a_spreadsheet_goes_out_as_it_is(commented: Commented, secretariat: User) -> None:
    client = client_for(secretariat)
    url = f"/alu/staff/feedback/rounds/{commented.round.pk}/iso.xlsx"
    zipped = client.get(url, headers=GZIP)
    assert zipped.status_code == 200
    assert not zipped.has_header("Content-Encoding")
    body = zipped.getvalue() if zipped.streaming else zipped.content
    assert body[:2] == b"PK"  # the XLSX's own zip, not wrapped in gzip
