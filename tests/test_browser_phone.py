"""Every page a person reaches from the navigation fits a phone's screen, for every role.

Each demo account signs in on a 390-pixel-wide screen, opens its home page, every entry of its
navigation and the first few detail pages those lists link to, and no page may scroll sideways (tables
fold into labelled cards in a narrow box; tests/test_browser_tables.py measures each at 360 and 1 280 px).
"""

from __future__ import annotations

import re

import pytest

from tests.browser_support import MARKS, chromium, demo_server, sign_in

pytestmark = MARKS

WIDTH = 390
DETAIL = re.compile(r"^/(projects|grants|associations|calls|reviews/projects|reviews/committee|admin/structures)/\d+$")
ACCOUNTS = [
    "association@codev.demo", "hamburg@codev.demo", "evaluateur@codev.demo", "reviewer@codev.demo",
    "agent@codev.demo", "ordonnateur@codev.demo", "admin@codev.demo",
]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("live-phone")) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def paths_of(page, selector: str) -> list[str]:
    hrefs = page.eval_on_selector_all(selector, "links => links.map(a => a.getAttribute('href'))")
    return [h for h in hrefs if h and h.startswith("/")]


@pytest.mark.parametrize("email", ACCOUNTS)
def test_pages_fit_a_phone(browser, live, email):
    context = browser.new_context(viewport={"width": WIDTH, "height": 844}, locale="fr-FR")
    page = context.new_page()
    try:
        sign_in(page, live.url, email)
        to_visit, seen, too_wide = ["/", *paths_of(page, "nav.menu a")], set(), []
        while to_visit and len(seen) < 25:
            path = to_visit.pop(0)
            if path in seen:
                continue
            seen.add(path)
            response = page.goto(live.url + path)
            assert response.status < 500, path
            if page.evaluate("document.documentElement.scrollWidth") > WIDTH:
                too_wide.append(path)
            details = [p for p in paths_of(page, "main a") if DETAIL.match(p) and p not in seen]
            to_visit.extend(details[:3])
        assert len(seen) >= 3
        assert too_wide == []
    finally:
        context.close()
