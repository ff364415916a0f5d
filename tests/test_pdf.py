"""The PDF renderer: real PDFs, escaped text, no local files or network, fonts for Ewe and Kabiyè."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader

from codev.core.pdf import RestrictedFetcher, render_html_to_pdf, render_pdf


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_renders_a_pdf_with_ewe_and_kabiye_letters(app):
    with app.test_request_context():
        data = {"lang": "fr", "title": "Forage à Kpalimé", "body": "ɖ ɛ ƒ ɣ ŋ ɔ ʋ Ɖ Ɛ Ƒ Ɣ Ŋ Ɔ Ʋ"}
        pdf = render_pdf("_sample.html", data)
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    assert "Forage à Kpalimé" in text
    for letter in "ɖɛƒɣŋɔʋ":
        assert letter in text


def test_user_text_is_escaped_and_fetches_nothing(app, caplog):
    hostile = '<img src="file:///etc/passwd"><a href="http://169.254.169.254/latest/">x</a>'
    with app.test_request_context():
        pdf = render_pdf("_sample.html", {"lang": "fr", "title": "t", "body": hostile})
    text = text_of(pdf)
    assert '<img src="file:///etc/passwd">' in text.replace("\n", "")
    assert b"root:x:0" not in pdf


def test_fetcher_refuses_files_and_network_even_in_raw_html(app, caplog):
    html = (
        '<img src="file:///etc/passwd"><img src="http://169.254.169.254/x.png">'
        '<link rel="attachment" href="file:///etc/passwd"><p>ok</p>'
    )
    with app.test_request_context(), caplog.at_level(logging.WARNING, logger="codev.pdf"):
        pdf = render_html_to_pdf(html)
    assert b"root:x:0" not in pdf
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert any("file:///etc/passwd" in m for m in refused)
    assert any("169.254.169.254" in m for m in refused)


def test_fetcher_serves_static_files_and_data_urls_only(app):
    fetcher = RestrictedFetcher(app.static_folder)
    response = fetcher.fetch("https://codev.invalid/static/img/favicon.svg")
    assert b"<svg" in response.read()
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"
    for url in ("https://codev.invalid/static/../__init__.py", "file:///etc/passwd", "http://127.0.0.1/"):
        try:
            fetcher.fetch(url)
        except ValueError:
            continue
        raise AssertionError(f"fetched {url}")
