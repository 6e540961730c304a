"""Reading exported spreadsheets back, and the formula payloads every export must make inert."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import openpyxl

# What an attacker may type as a comment, a name or a title: each must come out of every
# export as text that no spreadsheet runs.
PAYLOADS = ["=cmd|' /C calc'!A0", "@SUM(1+1)", "+1", "-1+1", "\t=1", "\r=1", "\x00=1"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\x00")
# A number written to a CSV file: a spreadsheet reads it as a number, which runs nothing.
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def xlsx_rows(content: bytes) -> list[list[Any]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    rows: list[list[Any]] = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                # A cell of type "f" is a formula: the one thing no export may hold.
                assert cell.data_type != "f", f"formula cell {cell.coordinate}: {cell.value!r}"
            rows.append([cell.value for cell in row])
    return rows


def rows_of(content: bytes, file_format: str) -> list[list[Any]]:
    return csv_rows(content) if file_format == "csv" else xlsx_rows(content)


def cells(rows: list[list[Any]]) -> list[Any]:
    return [value for row in rows for value in row]


def assert_inert(rows: list[list[Any]], file_format: str) -> None:
    """No cell of the file begins like a formula (text that does has the quote in front)."""
    for value in cells(rows):
        if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
            continue
        assert file_format == "csv", f"live cell {value!r}"
        assert _NUMBER.fullmatch(value), f"live cell {value!r}"


def shown_as(payload: str, file_format: str) -> str:
    """How a payload reads back: behind a quote; in XLSX a control character as "�", and a
    carriage return as a line feed (XML reads every line break as one)."""
    text = "'" + payload
    if file_format == "xlsx":
        return text.replace("\x00", "\N{REPLACEMENT CHARACTER}").replace("\r", "\n")
    return text
