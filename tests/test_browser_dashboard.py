"""In Chromium, on the demo programme: an officer goes from the home card to the dashboard, filters it by
region with the plain form, reads the charts (SVG, no JavaScript, no style blocked by the CSP), opens the maps
and the audit log; on a 360-pixel phone none of these pages scrolls sideways."""

from __future__ import annotations

import pytest

from tests.browser_support import MARKS, chromium, click, demo_server, sign_in

pytestmark = MARKS


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("live-dashboard")) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def test_an_officer_filters_the_dashboard_and_opens_the_maps(browser, live):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)
    try:
        sign_in(page, live.url, "agent@codev.demo")
        click(page, page.get_by_role("link", name="Tableau de bord", exact=True))
        assert page.url.endswith("/oversight/dashboard")
        funnel = page.locator("svg#chart-funnel")
        assert funnel.locator("text", has_text="Soumis —").count() == 1
        whole = int(funnel.locator("text", has_text="Soumis —").text_content().split("—")[1])
        page.select_option("select[name=region]", "TG-P")
        click(page, page.get_by_role("button", name="Filtrer"))
        assert "region=TG-P" in page.url
        plateaux = int(page.locator("svg#chart-funnel text", has_text="Soumis —").text_content().split("—")[1])
        assert 0 < plateaux < whole
        # The region chart now holds Plateaux alone; its table is behind <details>.
        assert page.locator("svg#chart-region text.bar-label").all_text_contents() == ["Plateaux"]
        page.locator("details.chart-table summary").first.click()
        assert page.locator("details.chart-table").first.locator("table").first.is_visible()
        click(page, page.get_by_role("link", name="Cartes de ces chiffres"))
        assert "region=TG-P" in page.url
        assert page.locator('svg#map-togo path[data-id="TG-P"]').get_attribute("class") == "area step-5"
        assert page.locator("svg#map-world path").count() > 150
        page.goto(live.url + "/oversight/audit")
        assert page.locator("table tbody tr").count() > 10
        assert refused == []
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/oversight/dashboard", "/oversight/maps", "/oversight/audit",
                                  "/oversight/audit?object_type=projects&object_id=1&related=y"])
def test_the_pages_fit_a_phone(browser, live, path):
    context = browser.new_context(viewport={"width": 360, "height": 780}, locale="fr-FR")
    page = context.new_page()
    try:
        sign_in(page, live.url, "agent@codev.demo")
        assert page.goto(live.url + path).status == 200
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    finally:
        context.close()
