"""The public register on a 360-pixel phone, without JavaScript: no sideways scroll, every table inside its
scrolling box, the filters work as a plain GET form; an officer downloads an export."""

from __future__ import annotations

import pytest

from tests.browser_support import MARKS, chromium, demo_server, sign_in

pytestmark = MARKS

WIDTH = 360


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("live-register")) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


OVERFLOW = """() => {
  const tables = [...document.querySelectorAll('main table')];
  return {
    page: document.documentElement.scrollWidth,
    tables: tables.length,
    unwrapped: tables.filter(t => !t.closest('.table-wrap')).length,
    wider: tables.map(t => t.closest('.table-wrap') || t)
                 .filter(box => box.getBoundingClientRect().right > window.innerWidth + 0.5).length,
  };
}"""


def fits(page) -> dict:
    page.wait_for_load_state("load")  # the stylesheets too: measured before them, a slow server looks too wide
    found = page.evaluate(OVERFLOW)
    assert found["page"] <= WIDTH, found
    assert found["unwrapped"] == 0 and found["wider"] == 0, found
    return found


def test_a_visitor_browses_the_register_on_a_phone(browser, live):
    context = browser.new_context(viewport={"width": WIDTH, "height": 780}, locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live.url + "/")
        page.click("a[href='/register']")
        assert page.url.endswith("/register")
        assert fits(page)["tables"] >= 2
        page.select_option("select[name=region]", "TG-P")
        page.click("form.filters button[type=submit]")
        assert "region=TG-P" in page.url
        fits(page)
        rows = page.locator("main table tbody tr").count()
        assert rows >= 1
        page.locator("main table tbody tr a").first.click()
        assert "/register/" in page.url
        assert page.locator("h1").inner_text()
        fits(page)
    finally:
        context.close()


def test_an_officer_downloads_an_export_on_a_phone(browser, live):
    context = browser.new_context(viewport={"width": WIDTH, "height": 780}, locale="fr-FR", accept_downloads=True)
    page = context.new_page()
    try:
        sign_in(page, live.url, "agent@codev.demo")
        page.goto(live.url + "/oversight/exports?region=TG-P")
        fits(page)
        with page.expect_download() as info:
            page.click("a[href^='/oversight/exports/grants.xlsx']")
        download = info.value
        assert download.suggested_filename.startswith("codev-grants-") and download.suggested_filename.endswith(".xlsx")
        from openpyxl import load_workbook

        with open(download.path(), "rb") as handle:  # the saved download has no extension
            rows = list(load_workbook(handle, read_only=True).worksheets[0].iter_rows(values_only=True))
        assert rows[0][0] == "Référence du projet" and len(rows) >= 2
    finally:
        context.close()
