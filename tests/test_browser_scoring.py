"""Browser tests of the evaluator's scoring page on a phone (issue 13): the grid a tap away, the project's
text folded by section, everything readable and scorable without JavaScript, and a live total that reads
scores with the app's one reader (codev/static/js/numbers.js) and says "not understood" — never 0.

Before, the grid began 6 060 px down a 360 px phone's page (4 757 px in the issue's walk), after the whole
project text. The demo programme is served on 127.0.0.1 on a port of this helper's range (9441-9449); in
each test's own demo, the French evaluator (evaluateur@codev.demo) is given the health post under review
and has declared no conflict; the English one (reviewer@codev.demo) keeps the demo's draft on it.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select

from codev.extensions import db
from codev.reviews.models import Assignment
from tests.browser_support import MARKS, chromium, click, demo_server, sign_in

pytestmark = MARKS

expect = pytest.importorskip("playwright.sync_api").expect

PORTS = range(9441, 9450)
PHONE = {"width": 360, "height": 740}
FRENCH, ENGLISH = "evaluateur@codev.demo", "reviewer@codev.demo"
SECTIONS_FR = ["Résumé", "Localisation et partenaire local", "Description et bénéficiaires", "Budget",
               "Plan de financement", "Pièces jointes"]
SCORES = ("9", "8", "8", "7", "7")  # weights 30, 25, 20, 15, 10, each out of 10: 80.50 out of 100


def _assign_the_french_evaluator() -> dict:
    """The health post under review, assigned to the French evaluator, who declares no conflict."""
    from flask import current_app

    from codev.accounts.models import User
    from codev.core.timeutil import utcnow
    from codev.demo.reviews import HEALTH_POST
    from codev.projects.models import Project
    from codev.reviews import assignments, evaluations

    project = db.session.scalar(select(Project).where(Project.title == HEALTH_POST))
    officer = db.session.scalar(select(User).where(User.email == "agent@codev.demo"))
    evaluator = db.session.scalar(select(User).where(User.email == FRENCH))
    reviewer = db.session.scalar(select(User).where(User.email == ENGLISH))
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_BASE_URL"]):
        assignment = assignments.assign(project, evaluator, officer, utcnow().date() + timedelta(days=10))
        evaluations.declare(assignment, evaluator, False, None)
    draft = db.session.scalar(select(Assignment).where(Assignment.project_id == project.id,
                                                       Assignment.evaluator_id == reviewer.id))
    db.session.flush()
    return {"french": assignment.id, "english": draft.id}


@pytest.fixture
def live(tmp_path):
    """A demo of its own for each test (each one scores or saves on the same health post)."""
    for port in PORTS:
        (tmp_path / str(port)).mkdir()
        try:
            with demo_server(tmp_path / str(port), _assign_the_french_evaluator, port=port) as live:
                yield live
            return
        except OSError as busy:
            if "in use" not in str(busy):
                raise
    raise RuntimeError("no free port in 9441-9449")


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@contextmanager
def phone(browser, live, email, javascript: bool = True):
    context = browser.new_context(viewport=PHONE, locale="fr-FR", java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, live.url, email)
        yield page
    finally:
        context.close()


def _top(page, selector: str) -> float:
    """Where ``selector`` begins, in pixels from the top of the page."""
    return page.evaluate("s => document.querySelector(s).getBoundingClientRect().top + window.scrollY", selector)


def _in_view(page, selector: str) -> bool:
    """Whether ``selector``'s top is on screen, below the bar that stays at the top."""
    return page.evaluate("""s => {
        const top = document.querySelector(s).getBoundingClientRect().top;
        const bar = document.querySelector(".evaluation-jump").getBoundingClientRect().bottom;
        return top >= bar - 1 && top < window.innerHeight;
    }""", selector)


def _stored(live, assignment_id: int):
    with live.db.app_context():
        assignment = db.session.get(Assignment, assignment_id)
        evaluation = assignment.evaluation
        return (assignment.status, sorted(s.score for s in evaluation.scores if s.score is not None),
                evaluation.score_centi)


def test_a_french_evaluator_on_a_phone_reaches_the_grid_in_one_tap_and_submits(browser, live):
    with phone(browser, live, FRENCH) as page:
        page.goto(f"{live.url}/reviews/assignments/{live.french}")
        expect(page.locator("h1")).to_have_text("Évaluation de « Case de santé de Lama-Tessi »")
        screen = PHONE["height"]
        jump = page.get_by_role("link", name="Aller à la grille d'évaluation")
        box = jump.bounding_box()
        assert box["y"] + box["height"] <= screen  # the way to the grid is on the first screen
        # The project's text folded by section: six lines, and the grid begins within the second screen.
        parts = page.locator("details[data-project-part]")
        expect(parts.locator("summary h2")).to_have_text(SECTIONS_FR)
        assert all(not part.evaluate("d => d.open") for part in parts.all())
        assert page.locator("#project-text").bounding_box()["height"] < screen * 0.75
        assert _top(page, "#grid-title") < 2 * screen
        assert page.locator("table").first.is_hidden()  # the budget's table waits in its folded section

        jump.click()  # one tap: the grid's heading on screen, not under the bar
        expect(page).to_have_url(re.compile("#grid$"))
        assert _in_view(page, "#grid-title")
        page.locator("fieldset.criterion").nth(3).scroll_into_view_if_needed()  # deep in the grid…
        click_back = page.locator(".evaluation-jump").get_by_role("link", name="Le projet", exact=True)
        assert click_back.bounding_box()["y"] >= 0  # …the bar is still at the top of the screen
        click_back.click()
        assert _in_view(page, "#project-text")
        page.locator("summary", has_text="Budget").click()  # a section opens with a tap
        expect(page.locator("#p-budget + .teaser")).to_contain_text("Total")
        expect(page.locator("details:has(#p-budget) table")).to_be_visible()
        assert page.evaluate("""() => [...document.querySelectorAll("details[open] .table-wrap")]
            .every(box => box.querySelector("table").scrollWidth <= box.clientWidth)""")  # opened, it fits
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        total = page.locator("output[data-score-total]")
        first = page.locator("fieldset.criterion").first.get_by_label("Note", exact=True)
        first.fill("9")
        expect(total).to_have_text(re.compile(r"^27,00\s…$"))  # 30 × 9 / 10, the grid not complete yet
        for unreadable in ("abc", "7,5", "-3", "１２"):  # a score is a whole number: "7,5" is not guessed
            first.fill(unreadable)
            expect(total).to_have_text("pas compris")
            expect(page.locator("fieldset.criterion").first.locator("[data-unread]")).to_have_text("pas compris")
        first.fill("12")  # read, but above the scale: the total cannot count it either
        expect(total).to_have_text("pas compris")
        expect(page.locator("fieldset.criterion").first.locator("[data-unread]")).to_have_text(
            "Saisissez un nombre entier de 0 à 10.")
        for n, score in enumerate(SCORES):
            page.locator("fieldset.criterion").nth(n).get_by_label("Note", exact=True).fill(score)
        expect(total).to_have_text("80,50")
        expect(page.locator("[data-unread]:visible")).to_have_count(0)
        page.select_option("select[name=recommendation]", label="Qualifier")
        click(page, page.get_by_role("button", name="Remettre l'évaluation", exact=True))
        expect(page.locator(".flash-success")).to_have_text("Votre évaluation est remise. Merci.")
        page.goto(f"{live.url}/reviews/assignments/{live.french}")  # what was submitted, a tap away too
        page.get_by_role("link", name="Aller à votre évaluation").click()
        assert _in_view(page, "#grid-title")
        expect(page.locator(".evaluation-grid")).to_contain_text("80,50")
    assert _stored(live, live.french) == ("submitted", [7, 7, 8, 8, 9], 8050)


def test_without_javascript_every_section_reads_and_the_scores_are_saved(browser, live):
    with phone(browser, live, FRENCH, javascript=False) as page:
        page.goto(f"{live.url}/reviews/assignments/{live.french}")
        assert _top(page, "#grid-title") < 2 * PHONE["height"]
        for part in page.locator("details[data-project-part]").all():  # <details> opens by itself
            body = part.locator(".part-body")
            expect(body).to_be_hidden()
            part.locator("summary").click()
            expect(body).to_be_visible()
            assert body.inner_text().strip()
        expect(page.locator("details:has(#p-files) a").first).to_be_visible()  # the attachments' links
        click(page, page.get_by_role("link", name="Aller à la grille d'évaluation"))
        fields = page.locator("fieldset.criterion")
        fields.first.get_by_label("Note", exact=True).fill("7,5")  # refused, what was typed kept
        for n, score in enumerate(SCORES[1:], 1):
            fields.nth(n).get_by_label("Note", exact=True).fill(score)
        click(page, page.get_by_role("button", name="Enregistrer le brouillon", exact=True))
        expect(fields.first.get_by_label("Note", exact=True)).to_have_value("7,5")
        expect(fields.first).to_contain_text("Saisissez un nombre entier de 0 à 10.")
        fields.first.get_by_label("Note", exact=True).fill(SCORES[0])
        click(page, page.get_by_role("button", name="Enregistrer le brouillon", exact=True))
        expect(page.locator(".flash-success")).to_contain_text("Votre brouillon est enregistré")
        expect(page.locator("output[data-score-total]")).to_have_text("80,50")  # the server's total
    assert _stored(live, live.french) == ("accepted", [7, 7, 8, 8, 9], None)  # a draft: scored on submitting


def test_the_english_live_total_says_not_understood_and_the_desktop_sits_side_by_side(browser, live):
    with phone(browser, live, ENGLISH) as page:
        page.goto(f"{live.url}/reviews/assignments/{live.english}")
        expect(page.get_by_role("link", name="Go to the evaluation grid")).to_be_visible()
        total = page.locator("output[data-score-total]")
        expect(total).to_have_text(re.compile(r"^\d+\.\d\d\s…$"))  # the draft's two scores, in English
        third = page.locator("fieldset.criterion").nth(2).get_by_label("Score", exact=True)
        for unreadable in ("7.5", "7,5", "seven"):
            third.fill(unreadable)
            expect(total).to_have_text("not understood")
        third.fill("")
        expect(total).to_have_text(re.compile(r"^\d+\.\d\d\s…$"))

        page.set_viewport_size({"width": 1280, "height": 900})
        page.reload()  # a wide screen: the text open beside the grid, no bar needed
        expect(page.locator(".evaluation-jump")).to_be_hidden()
        assert all(part.evaluate("d => d.open") for part in page.locator("details[data-project-part]").all())
        page.evaluate("window.scrollTo(0, 0)")
        text, grid = page.locator("#project-text").bounding_box(), page.locator("#grid").bounding_box()
        assert text["x"] + text["width"] <= grid["x"] and abs(text["y"] - grid["y"]) < 40
