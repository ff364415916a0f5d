"""Browser tests of numbers as each language writes them (issue 13), in the live financing plan and budget.

The script of the plan (codev/static/js/financing.js) reads figures by the rule of codev/core/numbers.py
and writes amounts as format_xof does: "4,000" dollars on an English page is four thousand dollars, "4 000"
on a French one too; "abc" is shown as not understood (in the page's language), never counted as 0; the
figures it writes are the server's own strings. Chromium runs the script; the demo programme is served on
127.0.0.1, on a port of this helper's range (9410-9419).
"""

from __future__ import annotations

import itertools
import re
import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from codev import create_app
from codev.core.money import convert_to_xof, format_xof
from codev.core.numbers import NumberError, Wording, parse_number
from codev.extensions import db
from tests.browser_support import MARKS, chromium, click, config, sign_in

pytestmark = MARKS
PORTS = range(9410, 9420)
MEMBER = "bruxelles@codev.demo"  # its latrines draft has a budget and no plan yet


def _server(app):
    for port in PORTS:
        try:
            return make_server("127.0.0.1", port, app, threaded=True)
        except OSError:
            continue
    raise RuntimeError("no free port in 9410-9419")


@contextmanager
def _demo(folder):
    app = create_app(config(folder))
    with app.app_context():
        from codev.demo import seed_demo
        from codev.projects.models import Project

        db.create_all()
        seed_demo()
        project_id = db.session.scalar(select(Project.id).where(Project.title.startswith("Latrines scolaires")))
        db.session.commit()
    server = _server(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app, project_id
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with _demo(tmp_path_factory.mktemp("live-numbers")) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def _text(page, selector: str) -> str:
    return page.locator(selector).text_content()


def _shows(page, selector: str, text: str) -> None:
    """Wait until the element shows exactly ``text`` (its spaces included, U+202F and U+00A0)."""
    from playwright.sync_api import expect

    expect(page.locator(selector).first).to_have_text(re.compile("^" + re.escape(text) + "$"))


def _usd_rate(page) -> int:
    pairs = page.locator("form[data-live=financing]").get_attribute("data-rates")
    return int(dict(pair.split(":") for pair in pairs.split())["USD"])


def _type_line(page, source: str, currency: str, amount: str) -> None:
    page.select_option("select[name=lines-0-source]", source)
    page.select_option("select[name=lines-0-currency]", currency)
    page.fill("input[name=lines-0-amount]", amount)


@contextmanager
def _in_english(page, base):
    click(page, page.locator(".lang-switch button[value=en]"))
    try:
        yield
    finally:  # the language is remembered on the account: give the demo member French back
        page.goto(f"{base}/")
        if page.locator(".lang-switch button[value=fr]").count():
            click(page, page.locator(".lang-switch button[value=fr]"))


def test_french_plan_reads_spaces_and_says_when_it_does_not_understand(page, live):
    base, _app, project_id = live
    sign_in(page, base, MEMBER)
    page.goto(f"{base}/projects/{project_id}/financing")
    rate = _usd_rate(page)
    cash, total = "output[data-sum=association_cash]", "output[data-sum=total_financing]"
    _type_line(page, "association_cash", "USD", "4\u202f000")
    expected = format_xof(convert_to_xof(400_000, rate), "fr")
    _shows(page, cash, expected)
    assert _text(page, total) == expected  # the server's own string: "2 281 800 F CFA"
    assert page.locator("[data-unread]:visible").count() == 0

    for unreadable in ("abc", "4,000", "-4000", "１２３"):  # "4,000" dollars: thousands or decimals? Not guessed
        page.fill("input[name=lines-0-amount]", unreadable)
        _shows(page, cash, "pas compris")
        assert _text(page, total) == "pas compris" and _text(page, "output[data-share=association_cash]") == ""
        assert _text(page, "[data-rule=balanced] [data-rule-state]") == "pas compris"
        assert page.locator("[data-unread]").inner_text() == "pas compris"
    page.fill("input[name=lines-0-amount]", "4 000,50")
    expected = format_xof(convert_to_xof(400_050, rate), "fr")
    _shows(page, cash, expected)
    assert page.locator("[data-unread]").is_hidden()
    page.fill("input[name=requested_grant]", "1.500.000")  # the francophone way to write thousands
    expected = format_xof(convert_to_xof(400_050, rate) + 1_500_000, "fr")
    _shows(page, total, expected)


def test_english_plan_reads_4000_dollars_and_the_server_keeps_the_same(page, live):
    base, app, project_id = live
    sign_in(page, base, MEMBER)
    page.goto(f"{base}/projects/{project_id}/financing")
    with _in_english(page, base):
        page.goto(f"{base}/projects/{project_id}/financing")
        rate = _usd_rate(page)
        cash = "output[data-sum=association_cash]"
        _type_line(page, "association_cash", "USD", "abc")
        _shows(page, cash, "not understood")
        assert _text(page, "output[data-sum=total_financing]") == "not understood"
        assert _text(page, "[data-rule=match] [data-rule-state]") == "not understood"
        assert page.locator("[data-unread]").inner_text() == "not understood"

        page.fill("input[name=lines-0-amount]", "4,000")
        xof = convert_to_xof(400_000, rate)
        expected = format_xof(xof, "en")
        _shows(page, cash, expected)
        assert expected.startswith(f"{xof:,}") and expected.endswith("F\u202fCFA")  # "2,281,800 F CFA"
        page.fill("input[name=requested_grant]", "1,000,000")
        _shows(page, "output[data-sum=total_financing]", format_xof(xof + 10**6, "en"))
        click(page, page.get_by_role("button", name="Save and continue", exact=True))

    from codev.projects.models import Project

    with app.app_context():
        project = db.session.get(Project, project_id)
        assert [(line.currency, line.amount_minor, line.amount_xof) for line in project.financing_lines] == [
            ("USD", 400_000, xof)]
        assert project.requested_grant_xof == 1_000_000
        for line in project.financing_lines:  # the next test starts from an empty plan again
            db.session.delete(line)
        project.requested_grant_xof = 0
        db.session.commit()


def test_english_budget_reads_thousands_and_shows_what_it_cannot_read(page, live):
    base, _app, project_id = live
    sign_in(page, base, MEMBER)
    page.goto(f"{base}/projects/{project_id}/budget")
    with _in_english(page, base):
        page.goto(f"{base}/projects/{project_id}/budget")
        line = page.locator("[data-line]").first
        line.locator("[name$='-quantity']").fill("1,200")
        line.locator("[name$='-unit_cost']").fill("2,500")
        expected = format_xof(3_000_000, "en")
        _shows(page, "[data-line] [data-amount]", expected)
        line.locator("[name$='-quantity']").fill("1.200")  # one point two lamps? Not guessed
        _shows(page, "[data-line] [data-amount]", "not understood")
        assert _text(page, "output[data-total]") == "not understood"


# The script's reading against the server's, figure by figure, in both languages.
FIGURES = ["1200", "1,200", "1.200", "1 200", "1\u202f200", "1\u00a0200", "4,000.50", "4.000,50", "4 000,50", "0,500",
           "1234,567", "1,200,000", "1.200.000", "12,00,000", "1.", ",5", "1,2,3.4", "33,5", "610.25", "655.957",
           "655,957", "abc", "-5", "1e5", "１２３", "9" * 19, "", "0"]


def test_the_script_reads_every_figure_as_the_server_does(page, live):
    base, app, project_id = live
    sign_in(page, base, MEMBER)
    page.goto(f"{base}/projects/{project_id}/financing")
    cases = list(itertools.product(FIGURES, (0, 2, 6), ("en", "fr")))
    seen = page.evaluate("""cases => cases.map(([text, places, locale]) => {
        const value = window.codevNumbers.parseNumber(text, places, locale);
        return value === undefined ? "empty" : value === null ? null : value.toString();
    })""", [list(case) for case in cases])
    wording = Wording(format="x")
    expected = []
    with app.test_request_context():
        for text, places, locale in cases:
            try:
                expected.append(str(parse_number(text, places=places, maximum=10**30, wording=wording, locale=locale)))
            except NumberError as refused:
                expected.append("empty" if refused.kind == "empty" else None)
    assert [(case, js) for case, js, py in zip(cases, seen, expected, strict=True) if js != py] == []
