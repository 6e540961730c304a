"""Reading ids and numbers that a request sends as text.

``str.isdigit()`` is not the test: it is true for "²" and "٣", which ``int()`` refuses or reads,
and for a 30-digit number no database column holds. Each of those reached the database or
``int()`` as a 500.
"""

from __future__ import annotations

import re

#: A primary key as a request sends it: ASCII digits, no sign, at most 18 of them (a bigint).
_ID = re.compile(r"[0-9]{1,18}")


def is_id(text: object) -> bool:
    """Whether ``text`` is a database id that every column and ``int()`` accept."""
    return isinstance(text, str) and _ID.fullmatch(text) is not None


def as_whole_number(text: str, *, maximum: int) -> int | None:
    """A whole number from 0 to ``maximum`` written in ASCII digits, or None."""
    if not re.fullmatch(r"[0-9]{1,9}", text):
        return None
    value = int(text)
    return value if value <= maximum else None
