"""PDF from a Django template, typeset by WeasyPrint, fetching nothing outside the app.

``render(template_name, context, page_size=...)`` is the one entry point: the summaries
(``feedback.summary_files``) and anyone else who needs a PDF (the synopsis) call it.

WeasyPrint would otherwise fetch whatever a document names: an ``<img src="https://…">`` or a
``file:///etc/passwd`` in a comment that reached the HTML unescaped, a stylesheet on another
host. ``LocalOnlyFetcher`` refuses every URL except two kinds that never leave the process:
``data:`` URLs and ``asset:NAME``, a file of the app's own PDF assets (``static/pdf/``) looked up
by name in that folder only. Every refusal is recorded on the fetcher, so tests can assert that
nothing was fetched. Fonts come from the system's fontconfig (DejaVu on Debian), not from URLs.

The page size is the ``page_size`` argument (A4 or Letter), given to the stylesheet as a last
``@page { size: … }`` rule. WeasyPrint is imported inside the functions: it is slow to import
and only the worker needs it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.template.loader import render_to_string

if TYPE_CHECKING:
    from weasyprint.document import Document

logger = logging.getLogger(__name__)

PAGE_SIZES = {"A4": "A4", "Letter": "letter"}
ASSET_SCHEME = "asset:"
ASSET_TYPES = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}


def assets_dir() -> Path:
    return Path(settings.BASE_DIR) / "static" / "pdf"


class FetchRefused(ValueError):
    """A document named a URL outside the app's own assets."""


def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalOnlyFetcher(URLFetcher):  # type: ignore[misc]
        """Serves ``data:`` and the app's own ``asset:`` files; refuses everything else."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols=("data", "asset"))
            self.refused: list[str] = []
            self.served: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = url.split(":", 1)[0].lower() if ":" in url else ""
            if scheme == "data":
                self.served.append(url[:40])
                return super().fetch(url, headers)
            if scheme == "asset":
                name = url[len(ASSET_SCHEME) :]
                base = assets_dir().resolve()
                path = (base / name).resolve()
                suffix = path.suffix.lower()
                if path.parent == base and suffix in ASSET_TYPES and path.is_file():
                    self.served.append(url)
                    return URLFetcherResponse(
                        url, path.read_bytes(), {"Content-Type": ASSET_TYPES[suffix]}
                    )
            self.refused.append(url)
            logger.info("PDF: refused to fetch %r", url[:200])
            raise FetchRefused(f"Refused to fetch {url[:200]!r}: the PDF fetches nothing.")

    return LocalOnlyFetcher


def local_only_fetcher() -> Any:
    """A fresh fetcher (it records what it refused and served)."""
    return _fetcher_class()()


@dataclass
class Rendered:
    """A typeset document: its bytes, its page count, what its fetcher refused and served."""

    pdf: bytes
    pages: int
    refused: list[str] = field(default_factory=list)
    served: list[str] = field(default_factory=list)


def page_size_css(page_size: str) -> str:
    if page_size not in PAGE_SIZES:
        raise ValueError(f"Unknown page size {page_size!r}: one of {', '.join(PAGE_SIZES)}")
    return f"@page {{ size: {PAGE_SIZES[page_size]}; }}"


Progress = Callable[[str], None]


class _ProgressHandler(logging.Handler):
    """Passes WeasyPrint's progress messages ("Step 5 - Creating layout - Page 12") of this
    thread only to ``callback``: two renders in two threads each hear their own."""

    def __init__(self, callback: Progress) -> None:
        super().__init__(logging.INFO)
        self.callback = callback
        self.thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if threading.get_ident() != self.thread:
            return
        try:
            self.callback(record.getMessage())
        except Exception:  # a progress note must never break the document
            logger.exception("PDF progress callback failed")


@contextmanager
def _progress(callback: Progress | None) -> Iterator[None]:
    if callback is None:
        yield
        return
    progress_logger = logging.getLogger("weasyprint.progress")
    handler = _ProgressHandler(callback)
    old_level = progress_logger.level
    progress_logger.addHandler(handler)
    if not progress_logger.isEnabledFor(logging.INFO):
        progress_logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        progress_logger.removeHandler(handler)
        progress_logger.setLevel(old_level)


def layout(html: str, *, page_size: str = "A4", fetcher: Any = None) -> Document:
    """Lay out ``html`` in pages (WeasyPrint's slow step); ``write_pdf()`` on the result."""
    from weasyprint import CSS, HTML

    fetcher = fetcher or local_only_fetcher()
    size = CSS(string=page_size_css(page_size), url_fetcher=fetcher)
    # No base URL: a relative address in the document resolves to nothing, so it is not fetched.
    return HTML(string=html, base_url=None, url_fetcher=fetcher).render(stylesheets=[size])


def render_html(html: str, *, page_size: str = "A4", progress: Progress | None = None) -> Rendered:
    """Typeset ``html``; ``progress`` hears WeasyPrint's steps and each page it lays out."""
    fetcher = local_only_fetcher()
    with _progress(progress):
        document = layout(html, page_size=page_size, fetcher=fetcher)
        pdf = document.write_pdf()
    return Rendered(pdf, len(document.pages), fetcher.refused, fetcher.served)


def render_document(
    template_name: str,
    context: dict[str, Any],
    *,
    page_size: str = "A4",
    progress: Progress | None = None,
) -> Rendered:
    """Render the template with ``page_size`` in its context, then typeset it."""
    page_size_css(page_size)  # refuses an unknown size before the template work
    html = render_to_string(template_name, {**context, "page_size": page_size})
    return render_html(html, page_size=page_size, progress=progress)


def render(template_name: str, context: dict[str, Any], *, page_size: str = "A4") -> bytes:
    """The PDF of a template (A4 or Letter): the small API other modules call."""
    return render_document(template_name, context, page_size=page_size).pdf
