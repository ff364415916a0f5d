"""The one PDF renderer: WeasyPrint fed plain data, a restricted fetcher, fonts set up once per process.

Templates under ``templates/pdf/`` receive plain dicts (never ORM objects); Jinja escapes every value.
The fetcher serves only the app's own static files and ``data:`` URLs: no ``file:``, no network, no
redirects, with a size bound, so text typed by a person cannot make the renderer read anything else.
"""

from __future__ import annotations

import logging
import threading
from functools import cache
from pathlib import Path

from flask import current_app, render_template
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger("codev.pdf")

STATIC_BASE = "https://codev.invalid/static/"  # never resolved: the fetcher maps it to disk
MAX_RESOURCE_BYTES = 5 * 1024 * 1024
_lock = threading.Lock()


class RestrictedFetcher(URLFetcher):
    """Serves ``STATIC_BASE`` URLs from codev/static and ``data:`` URLs; refuses everything else."""

    def __init__(self, static_folder: str):
        super().__init__(timeout=2, allowed_protocols=("data",), allow_redirects=False, fail_on_errors=False)
        self._static = Path(static_folder).resolve()

    def fetch(self, url, headers=None):
        if url.startswith(STATIC_BASE):
            relative = url[len(STATIC_BASE):].split("?")[0].split("#")[0]
            path = (self._static / relative).resolve()
            if not path.is_relative_to(self._static) or not path.is_file():
                raise ValueError(f"not a static file: {url}")
            if path.stat().st_size > MAX_RESOURCE_BYTES:
                raise ValueError(f"static file too large: {url}")
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": _content_type(path)})
        if url.startswith("data:"):
            if len(url) > MAX_RESOURCE_BYTES:
                raise ValueError("data URL too large")
            return super().fetch(url, headers)
        log.warning("PDF renderer refused to fetch %s", url[:200])
        raise ValueError(f"refused: {url[:200]}")


def _content_type(path: Path) -> str:
    return {
        ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
        ".ttf": "font/ttf", ".woff2": "font/woff2", ".woff": "font/woff",
    }.get(path.suffix.lower(), "application/octet-stream")


@cache
def _font_config() -> FontConfiguration:
    return FontConfiguration()


@cache
def _stylesheet(static_folder: str, name: str) -> CSS:
    path = Path(static_folder) / "pdf" / name
    return CSS(
        string=path.read_text(encoding="utf-8"),
        base_url=STATIC_BASE + "pdf/",
        url_fetcher=RestrictedFetcher(static_folder),
        font_config=_font_config(),
    )


def render_html_to_pdf(html: str, stylesheet: str = "document.css") -> bytes:
    """HTML (already rendered and escaped) to PDF bytes, with the shared fonts and stylesheet."""
    static = current_app.static_folder
    assert static is not None
    with _lock:  # WeasyPrint's shared font configuration is not thread-safe
        document = HTML(string=html, base_url=STATIC_BASE, url_fetcher=RestrictedFetcher(static))
        return document.write_pdf(
            stylesheets=[_stylesheet(static, stylesheet)], font_config=_font_config()
        )


def render_pdf(template: str, data: dict, stylesheet: str = "document.css") -> bytes:
    """Render ``templates/pdf/<template>`` with plain ``data`` to PDF bytes."""
    html = render_template(f"pdf/{template}", **data)
    return render_html_to_pdf(html, stylesheet)
