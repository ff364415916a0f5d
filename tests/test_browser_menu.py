"""The navigation in menus, in Chromium: at 1 280 px the long navigations (the officer's, the admin's) and
the language button sit on one line; at 360 px nothing scrolls sideways, a menu opened or not; without
JavaScript a menu opens and its link is followed; with it, Escape closes a menu and opening one closes
the other.
"""

from __future__ import annotations

import pytest

from tests.browser_support import MARKS, chromium, click, demo_server, sign_in

pytestmark = MARKS

PORT = 9451
OFFICER, ADMIN, APPROVER, MEMBER = "agent@codev.demo", "admin@codev.demo", "ordonnateur@codev.demo", \
    "association@codev.demo"

# The top of every element on the bar (links, menus' titles, the sign-out button, the language button).
BAR_TOPS = """() => {
  const items = [...document.querySelectorAll('nav.menu > ul > li > a, nav.menu > ul > li > details > summary, '
    + 'nav.menu > ul > li > form button, .lang-switch button')];
  return items.map(e => ({text: e.textContent.trim(), top: Math.round(e.getBoundingClientRect().top),
                          bottom: Math.round(e.getBoundingClientRect().bottom)}));
}"""
SIDEWAYS = """() => ({page: document.documentElement.scrollWidth, screen: window.innerWidth,
  beyond: [...document.querySelectorAll('header *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
    .map(e => e.tagName + ' ' + e.textContent.trim().slice(0, 30))})"""


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("live-menu"), port=PORT) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def open_page(browser, live, email, width, lang="fr-FR", javascript=True):
    context = browser.new_context(viewport={"width": width, "height": 800}, locale=lang,
                                  java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, live.url, email)
    return context, page


@pytest.mark.parametrize("lang", ["fr-FR", "en-GB"])
@pytest.mark.parametrize("email", [OFFICER, ADMIN, APPROVER])
def test_a_long_navigation_and_the_language_button_fit_one_line_at_1280(browser, live, email, lang):
    context, page = open_page(browser, live, email, 1280, lang)
    try:
        for path in ("/", "/projects/", "/grants/"):
            page.goto(live.url + path)
            bar = page.evaluate(BAR_TOPS)
            assert len(bar) >= 8, bar
            assert len({item["top"] for item in bar if item["text"] not in ("EN", "FR")}) == 1, bar
            lang_button = next(item for item in bar if item["text"] in ("EN", "FR"))
            links = [item for item in bar if item["text"] not in ("EN", "FR")]
            # the language button is on the same line: its box overlaps the links' line
            assert lang_button["top"] < links[0]["bottom"] and lang_button["bottom"] > links[0]["top"], bar
            assert page.locator("nav.menu details").count() >= 2
            assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    finally:
        context.close()


@pytest.mark.parametrize("email", [OFFICER, ADMIN, APPROVER, MEMBER, "evaluateur@codev.demo"])
def test_nothing_scrolls_sideways_at_360_with_a_menu_open_or_not(browser, live, email):
    context, page = open_page(browser, live, email, 360)
    try:
        found = page.evaluate(SIDEWAYS)
        assert found["page"] <= 360 and not found["beyond"], found
        groups = page.locator("nav.menu details > summary")
        for index in range(groups.count()):
            groups.nth(index).click()
            details = page.locator("nav.menu details").nth(index)
            assert details.get_attribute("open") is not None
            assert details.locator("ul a").first.is_visible()
            found = page.evaluate(SIDEWAYS)
            assert found["page"] <= 360 and not found["beyond"], found
            # the open menu's links are stacked, one under the other
            tops = details.locator("ul a").evaluate_all("links => links.map(a => a.getBoundingClientRect().top)")
            assert tops == sorted(tops) and len(set(tops)) == len(tops), tops
        # the unread count stays on the bar
        assert page.locator("nav.menu > ul > li > a[href='/notifications']").is_visible()
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 360])
def test_without_javascript_a_menu_opens_and_its_link_is_followed(browser, live, width):
    context, page = open_page(browser, live, OFFICER, width, javascript=False)
    try:
        review = page.locator("nav.menu details[data-group=review]")
        link = review.get_by_role("link", name="En cours d'examen", exact=True)
        assert not link.is_visible()
        review.locator("summary").click()
        assert link.is_visible()
        click(page, link)
        assert page.locator("h1").inner_text() == "Projets en évaluation"
        # the menu holding the page read is marked, closed; its link says it is the current page
        review = page.locator("nav.menu li.menu-group.current details[data-group=review]")
        assert review.count() == 1 and review.get_attribute("open") is None
        assert review.locator("summary").get_attribute("aria-current") == "true"
        assert review.locator("a[aria-current=page]").get_attribute("href") == page.url.removeprefix(live.url)
    finally:
        context.close()


def test_the_keyboard_opens_a_menu_escape_closes_it_and_one_menu_is_open_at_a_time(browser, live):
    context, page = open_page(browser, live, OFFICER, 1280)
    try:
        programme = page.locator("nav.menu details[data-group=programme]")
        review = page.locator("nav.menu details[data-group=review]")
        programme.locator("summary").focus()
        page.keyboard.press("Enter")
        assert programme.get_attribute("open") is not None
        page.keyboard.press("Tab")  # into the menu: its first link
        assert page.evaluate("document.activeElement.closest('details')?.dataset.group") == "programme"
        page.keyboard.press("Escape")
        assert programme.get_attribute("open") is None
        assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
        programme.locator("summary").click()
        review.locator("summary").click()
        page.wait_for_function("!document.querySelector('nav.menu details[data-group=programme]').open")
        assert review.get_attribute("open") is not None
        page.mouse.click(1200, 700)  # on the page, away from the menu
        page.wait_for_function("!document.querySelector('nav.menu details[open]')")
    finally:
        context.close()
