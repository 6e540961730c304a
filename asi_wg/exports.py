"""Spreadsheet exports that no spreadsheet runs: every CSV and XLSX file the product writes
passes its cells through ``spreadsheet_safe``.

A cell whose text begins with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a null
byte is what Excel, LibreOffice and Google Sheets may read as a formula (CSV injection,
OWASP): a comment ``=cmd|' /C calc'!A0`` would run a program on the reader's computer. Such a
cell gets a single quote in front (OWASP's advice), which every spreadsheet shows as text, and
the rest of the text is kept as written. Numbers, dates and empty cells exported as such stay
what they are (a count of -1 is a number, not a formula); the same characters as text ("-5")
get the quote.

django-import-export's own ``IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT`` only drops a leading
``=`` (changing the text and leaving ``+``, ``-`` and ``@`` alone) and turns every cell into
text; ``SafeCSV`` and ``SafeXLSX`` replace it for every import-export export (the admin's and
the staff pages'), and ``csv_bytes`` and ``xlsx_safe`` are the hooks for files written without
import-export.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from import_export.formats import base_formats

# What a spreadsheet may take for the start of a formula (OWASP CSV injection, plus the null
# byte, which some readers drop before looking at the next character).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\x00")
QUOTE = "'"
# Characters an XLSX file cannot hold at all (openpyxl refuses the whole file): shown as "�".
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def spreadsheet_safe(value: Any) -> Any:
    """The value as a spreadsheet cell that cannot run: text that begins like a formula gets a
    single quote in front; anything that is not text (numbers, dates, None) is returned as is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return QUOTE + value
    return value


def xlsx_safe(value: Any) -> Any:
    """``spreadsheet_safe`` for an XLSX cell, whose format also refuses control characters."""
    value = spreadsheet_safe(value)
    if isinstance(value, str):
        return _XLSX_ILLEGAL.sub("\N{REPLACEMENT CHARACTER}", value)
    return value


def _safe_dataset(dataset: Any, cell: Any) -> Any:
    """A copy of a tablib dataset with every cell and header passed through ``cell``."""
    import tablib

    safe = tablib.Dataset(title=dataset.title)
    if dataset.headers:
        safe.headers = [cell(header) for header in dataset.headers]
    for row in dataset:
        safe.append([cell(value) for value in row])
    return safe


class SafeCSV(base_formats.CSV):
    """import-export's CSV with every cell made inert by ``spreadsheet_safe``."""

    CONTENT_TYPE = CSV_CONTENT_TYPE

    def export_data(self, dataset: Any, **kwargs: Any) -> Any:
        # Not the stock escaping (``super().export_data``): it drops the "=" and makes every
        # number text; the dataset is already safe.
        return _safe_dataset(dataset, spreadsheet_safe).export(self.get_title(), **kwargs)


class SafeXLSX(base_formats.XLSX):
    """import-export's XLSX with every cell made inert by ``xlsx_safe``."""

    def export_data(self, dataset: Any, **kwargs: Any) -> Any:
        import warnings

        with warnings.catch_warnings():
            # openpyxl's own deprecation warnings when writing (import-export does the same).
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            return _safe_dataset(dataset, xlsx_safe).export(self.get_title(), **kwargs)


SAFE_FORMATS: tuple[type[base_formats.Format], ...] = (SafeCSV, SafeXLSX)


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """Rows (the first one the header) as a UTF-8 CSV file with a byte-order mark (so that
    Excel reads accents right), every cell made inert."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(["" if value is None else spreadsheet_safe(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
