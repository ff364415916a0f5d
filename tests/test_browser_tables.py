"""No table is wider than its box, on a phone (360 px) or a desktop (1 280 px), and no string of the other
language, in French and English.

Each demo account (and an anonymous visitor) opens its home page, every entry of its navigation and the
first detail pages those lists link to (tests/browser_support.py's ``walk``); after the page's "load" (its
CSS applied, its scripts run), each page is measured at both widths: no table wider than the element
holding it (on a phone the tables fold into labelled cards, codev/core/tables.py), no element reaching
past the screen's edge nor a box to swipe sideways, and no "(s)" in the text a person reads. The same
pages are read for strings of the other language, checked against the French catalog and the demo's
bilingual content (the rule: tests/language_support.py; tests/test_language_pages.py runs it on the
server's HTML without a browser). The favicon answers anonymous visitors.
"""

from __future__ import annotations

import re

import pytest

from codev import create_app
from tests.browser_support import DEMO_ACCOUNTS, MARKS, chromium, demo_server, sign_in, walk
from tests.language_support import PIECES, dictionary_with_content

PHONE, DESKTOP = 360, 1280
PORT = 9461
ACCOUNTS = DEMO_ACCOUNTS


def in_browser(test):
    """The browser tests' marks (the favicon's test needs no browser)."""
    for mark in MARKS:
        test = mark(test)
    return test

# What a person would see go wrong, measured in the page: returns one sentence per problem.
MEASURE = r"""
(width) => {
  const problems = [];
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\s+/).join('.') : '');
  const shown = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  for (const table of document.querySelectorAll('main table')) {
    if (!shown(table)) continue;
    const box = table.parentElement;
    const wide = Math.max(table.scrollWidth, Math.ceil(table.getBoundingClientRect().width));
    if (wide > box.clientWidth + 1) {
      const head = (table.querySelector('th, td') || table).innerText.trim().slice(0, 30);
      problems.push(`table "${head}" ${wide}px in ${name(box)} ${box.clientWidth}px`);
    }
  }
  if (document.documentElement.scrollWidth > width) {
    problems.push(`page scrolls sideways: ${document.documentElement.scrollWidth}px`);
  }
  const clipped = (e) => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (style.overflowX !== 'visible' || style.clip !== 'auto') return true;
    }
    return false;
  };
  for (const e of document.body.querySelectorAll('*')) {
    const rect = e.getBoundingClientRect();
    if (rect.width === 0 || rect.right <= width + 1 || rect.left < -100 || !shown(e) || clipped(e)) continue;
    problems.push(`${name(e)} reaches ${Math.round(rect.right)}px`);
  }
  for (const e of document.body.querySelectorAll('*')) {
    if (e.matches('input, select, textarea, svg *') || !shown(e)) continue;
    const style = getComputedStyle(e);
    if (['auto', 'scroll'].includes(style.overflowX) && e.scrollWidth > e.clientWidth + 1) {
      problems.push(`${name(e)} scrolls sideways inside: ${e.scrollWidth}px in ${e.clientWidth}px`);
    }
  }
  const text = document.body.innerText;
  const at = text.indexOf('(s)');
  if (at >= 0) problems.push(`"(s)" in "${text.slice(Math.max(0, at - 40), at + 3).replace(/\s+/g, ' ')}"`);
  return problems;
}
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("live-tables"), port=PORT) as live:
        live.dictionary = dictionary_with_content(live.db)
        yield live


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def paths_of(page, selector: str) -> list[str]:
    hrefs = page.eval_on_selector_all(selector, "links => links.map(a => a.getAttribute('href'))")
    return [h.split("#")[0] for h in hrefs if h and h.startswith("/") and not h.startswith("/static/")]


def in_language(page, lang: str) -> None:
    """Switch the page (and a signed-in person's choice) to ``lang`` with the navigation's button."""
    if page.get_attribute("html", "lang") != lang:
        with page.expect_navigation():
            page.click(".lang-switch button")
        page.wait_for_load_state("load")
    assert page.get_attribute("html", "lang") == lang


@in_browser
@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("email", ACCOUNTS, ids=lambda email: (email or "anonymous").split("@")[0])
def test_tables_fit_their_box_and_the_text_is_in_one_language(browser, live, email, lang):
    from playwright.sync_api import Error as PlaywrightError

    context = browser.new_context(viewport={"width": PHONE, "height": 800}, locale="fr-FR")
    page = context.new_page()
    try:
        if email:
            sign_in(page, live.url, email)
        else:
            page.goto(live.url + "/")
        in_language(page, lang)
        dictionary, problems, tables = live.dictionary, {}, 0

        def visit(path):
            nonlocal tables
            try:
                response = page.goto(live.url + path)
            except PlaywrightError as error:  # a letter or a file: downloaded, not a page
                assert "Download is starting" in error.message, path
                return None
            assert response.status < 500, path
            if "text/html" not in response.headers.get("content-type", ""):
                return None
            page.wait_for_load_state("load")
            tables += page.locator("main table").count()
            for width in (PHONE, DESKTOP):
                page.set_viewport_size({"width": width, "height": 800})
                found = page.evaluate(MEASURE, width) + dictionary.leaks(page.evaluate(PIECES), lang)
                for problem in dict.fromkeys(found):
                    problems.setdefault(f"{path} at {width}px", []).append(problem)
            page.set_viewport_size({"width": PHONE, "height": 800})
            return paths_of(page, "main a")

        seen = walk(visit, ["/", *paths_of(page, "nav.menu a")])
        assert len(seen) >= 3
        assert problems == {}, "\n".join(f"{where}: {'; '.join(found)}" for where, found in problems.items())
        if email in ("association@codev.demo", "admin@codev.demo", "agent@codev.demo"):
            assert tables > 0  # the measure saw tables, not only pages without any
    finally:
        context.close()


def draft_project_id(live) -> int:
    from sqlalchemy import select

    from codev.accounts.models import Association
    from codev.extensions import db
    from codev.projects.models import Project

    with live.db.app_context():
        return db.session.scalar(
            select(Project.id).join(Association, Association.id == Project.association_id)
            .where(Association.acronym == "ATB", Project.status == "draft").order_by(Project.id)
        )


@in_browser
def test_the_live_financing_plan_is_labelled_cards_on_a_phone(browser, live):
    """The live financing plan as the member writing it reads it on a phone: each amount whole beside its
    label, the share column there too, and typing an amount still updates its card."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": PHONE, "height": 800}, locale="fr-FR")
    page = context.new_page()
    try:
        sign_in(page, live.url, "bruxelles@codev.demo")
        in_language(page, "fr")
        page.goto(f"{live.url}/projects/{draft_project_id(live)}/financing")
        page.wait_for_load_state("load")
        plan = page.locator("table.plan")
        assert "card-table" in plan.get_attribute("class")
        assert plan.locator("thead").evaluate("e => e.getBoundingClientRect().height") <= 1
        page.select_option("select[name=lines-0-source]", "association_cash")
        page.select_option("select[name=lines-0-currency]", "XOF")
        page.fill("input[name=lines-0-amount]", "4 250 000")
        amount = plan.locator("td:has(output[data-sum=association_cash])")
        expect(amount.locator("output")).to_have_text(re.compile(r"^4\s250\s000\sF\sCFA$"))
        assert amount.get_attribute("data-label") == "Montant"
        before = page.evaluate("e => getComputedStyle(e, '::before').content", amount.element_handle())
        assert before == '"Montant"'
        box = amount.locator("output").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE  # the whole amount on the screen
        share = plan.locator("td:has(output[data-share=association_cash])")
        assert share.get_attribute("data-label") == "Part du budget"
        expect(share.locator("output")).to_have_text(re.compile(r"%"))
        share_box = share.bounding_box()
        assert share_box["x"] + share_box["width"] <= PHONE
        assert amount.evaluate("e => getComputedStyle(e).display") == "block"
        page.set_viewport_size({"width": DESKTOP, "height": 800})  # a table again, amounts right-aligned
        assert amount.evaluate("e => getComputedStyle(e).display") == "table-cell"
        assert amount.evaluate("e => getComputedStyle(e).textAlign") == "right"
        assert page.evaluate("e => getComputedStyle(e, '::before').content", amount.element_handle()) == "none"
    finally:
        context.close()


@in_browser
def test_the_members_grant_page_shows_the_letters_download_link_on_a_phone(browser, live):
    context = browser.new_context(viewport={"width": PHONE, "height": 800}, locale="fr-FR")
    page = context.new_page()
    try:
        sign_in(page, live.url, "association@codev.demo")
        in_language(page, "fr")
        grants = [p for p in paths_of(page, "main a") if re.match(r"^/grants/\d+$", p)]  # on her home page
        assert grants
        page.goto(live.url + grants[0])
        page.wait_for_load_state("load")
        link = page.locator("a[download]").first
        assert link.inner_text() == "Télécharger (PDF)"
        cell = page.locator("td:has(a[download])").first
        assert cell.get_attribute("data-label") == "Fichier"
        link.scroll_into_view_if_needed()
        box = link.bounding_box()
        assert link.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= PHONE
    finally:
        context.close()


@in_browser
def test_an_officer_verifies_a_contribution_from_its_card_on_a_phone(browser, live):
    """A button inside a table still works once the table is cards: the officer's Verify in the ledger."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": PHONE, "height": 800}, locale="fr-FR")
    page = context.new_page()
    try:
        sign_in(page, live.url, "agent@codev.demo")
        in_language(page, "fr")
        page.goto(live.url + "/grants/contributions/to-verify")
        waiting = [p for p in paths_of(page, "main table a") if re.match(r"^/grants/\d+/contributions/\d+$", p)]
        assert waiting
        grant_path = waiting[0].rsplit("/contributions/", 1)[0]
        page.goto(live.url + grant_path)
        page.wait_for_load_state("load")
        row = page.locator(f"table.ledger tbody tr:has(a[href='{waiting[0]}'])")
        button = row.get_by_role("button", name="Vérifier")
        box = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE
        assert row.evaluate("e => getComputedStyle(e).display") == "block"  # a card, not a table row
        with page.expect_navigation():
            button.click()
        page.wait_for_load_state("load")
        expect(page.locator(".flash-success")).to_contain_text("La contribution est vérifiée")
        page.goto(live.url + grant_path)
        row = page.locator(f"table.ledger tbody tr:has(a[href='{waiting[0]}'])")
        assert row.locator(".badge").get_attribute("class") == "badge badge-verified"
        assert row.get_by_role("button", name="Vérifier").count() == 0
    finally:
        context.close()


def test_favicon_answers_anonymous_visitors(tmp_path):
    url = f"sqlite:///{tmp_path / 'f.db'}"
    app = create_app({"ENV_NAME": "test", "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})
    with app.test_client() as client:
        response = client.get("/favicon.ico")
        assert response.status_code == 200
        assert response.mimetype == "image/vnd.microsoft.icon"
        assert response.data[:4] == b"\x00\x00\x01\x00"  # an icon file, not an HTML page
        response.close()


@in_browser
def test_the_walk_reads_what_scripts_and_cards_show(browser, live):
    """The text the language check reads in Chromium: a string a script writes after the load, a card's
    label, a button's and an option's — and not what is marked as another language or as written."""
    context = browser.new_context(viewport={"width": PHONE, "height": 800}, locale="fr-FR")
    page = context.new_page()
    try:
        page.goto(live.url + "/")
        in_language(page, "fr")
        page.evaluate("""() => {
          const main = document.querySelector('main');
          main.insertAdjacentHTML('beforeend', '<p>Il reste <strong>3</strong> jours. '
            + '<em>Some fields need your attention; nothing has been saved yet.</em></p>'
            + '<table><tr><td data-label="Amount">5</td></tr></table><select><option>Draft</option></select>'
            + '<p lang="en">Switch to English</p><p translate="no">Save</p>');
          const late = document.createElement('button');
          late.textContent = 'Save';
          main.append(late);
        }""")
        found = live.dictionary.leaks(page.evaluate(PIECES), "fr")
        assert sorted(f.split(" (")[0] for f in found) == [
            "'Amount'", "'Draft'", "'Il reste 3 jours. Some fields need your attention; nothing has been saved yet.'",
            "'Save'",
        ]
        assert live.dictionary.leaks(page.evaluate(PIECES), "en")  # the French page read as English is French
    finally:
        context.close()
