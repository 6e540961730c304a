"""What a reading material may be: the type read from the file's content, never its name.

A file is accepted when its bytes are a PDF, a Word, Excel or PowerPoint document (Office Open
XML) or an OpenDocument text, and it is no larger than ``settings.MATERIAL_MAX_BYTES``. The name's
extension must agree with the content, so an HTML page renamed ``.pdf`` is refused, and so is a
Word file renamed ``.pdf`` (which a browser would then open with the wrong program).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from asi_wg.errors import DomainError


@dataclass(frozen=True)
class Kind:
    label: str
    extension: str
    content_type: str


PDF = Kind("PDF", ".pdf", "application/pdf")
DOCX = Kind(
    "Word", ".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
)
XLSX = Kind("Excel", ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
PPTX = Kind(
    "PowerPoint",
    ".pptx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
)
ODT = Kind("OpenDocument text", ".odt", "application/vnd.oasis.opendocument.text")
KINDS = (PDF, DOCX, XLSX, PPTX, ODT)
# The part every Office Open XML package of each kind holds (ECMA-376 part 2).
OOXML_PARTS = {"word/document.xml": DOCX, "xl/workbook.xml": XLSX, "ppt/presentation.xml": PPTX}


class MaterialRefused(DomainError):
    default_message = _("This file cannot be used as a reading material.")


def allowed_list() -> str:
    return ", ".join(f"{kind.label} ({kind.extension})" for kind in KINDS)


def sniff(handle: IO[bytes]) -> Kind | None:
    """The kind the content says it is, or None."""
    handle.seek(0)
    head = handle.read(8)
    handle.seek(0)
    if head.startswith(b"%PDF-"):
        return PDF
    if not head.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(handle) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and archive.read("mimetype").strip() == (
                ODT.content_type.encode()
            ):
                return ODT
            if "[Content_Types].xml" in names:
                for part, kind in OOXML_PARTS.items():
                    if part in names:
                        return kind
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError):
        return None
    finally:
        handle.seek(0)
    return None


def check(*, name: str, size: int, handle: IO[bytes]) -> Kind:
    """The file's kind if it may be a material; ``MaterialRefused`` with the reason otherwise."""
    limit = settings.MATERIAL_MAX_BYTES
    if size > limit:
        raise MaterialRefused(
            _("“%(name)s” is %(size)s; a reading material is at most %(limit)s.")
            % {"name": name, "size": filesizeformat(size), "limit": filesizeformat(limit)}
        )
    if size == 0:
        raise MaterialRefused(_("“%(name)s” is empty.") % {"name": name})
    kind = sniff(handle)
    if kind is None:
        raise MaterialRefused(
            _("“%(name)s” is not a file type we accept. Upload one of: %(allowed)s.")
            % {"name": name, "allowed": allowed_list()}
        )
    extension = PurePosixPath(name).suffix.lower()
    if extension != kind.extension:
        raise MaterialRefused(
            _(
                "“%(name)s” is named as %(extension)s but its content is a %(label)s file: "
                "rename it %(expected)s or upload the right file."
            )
            % {
                "name": name,
                "extension": extension or _("no type"),
                "label": kind.label,
                "expected": kind.extension,
            }
        )
    return kind
