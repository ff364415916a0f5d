"""Browser tests of the review: screening, evaluators and their grid, the committee, what the association reads.

The demo programme served on 127.0.0.1 as in tests/test_browser_projects.py; each person signs in in a
browser context of their own; ``live.db`` (a second app on the same SQLite file) reads the database.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from codev.calls.models import Call
from codev.core.models import OutboxMessage
from codev.extensions import db
from codev.projects.models import Project
from codev.reviews.models import Assignment, CommitteeDecision, Screening
from tests.browser_support import MARKS, chromium, click, demo_server, sign_in

pytestmark = MARKS

expect = pytest.importorskip("playwright.sync_api").expect

BOREHOLE = "Forage équipé d'une pompe solaire à Kpimé-Séva"
HEALTH_POST = "Case de santé de Lama-Tessi"
CRITERIA = ["Pertinence pour la commune", "Faisabilité technique et budget réaliste", "Ancrage local et partenariat",
            "Durabilité et entretien", "Bénéficiaires, femmes et jeunes"]  # weights 30, 25, 20, 15, 10
COMMENTS = ["Le village n'a aucun point d'eau potable.", "Devis cohérent avec les prix de Kpalimé.",
            "Le CVD s'engage par écrit.", "Comité de gestion prévu.", "Les femmes gèrent les bornes-fontaines."]
# Each evaluator's scores out of 10 (in the order of CRITERIA), the total out of 100 shown, their name.
GRIDS = {"evaluateur@codev.demo": ((9, 8, 8, 7, 7), "80,50", "Yawo Tsogbe"),
         "evaluatrice@codev.demo": ((8, 8, 9, 8, 8), "82,00", "Akossiwa Dzifa")}
MEAN = "81,25"
REASON = "Projet prioritaire pour la commune ; l'apport de l'association est réuni et le CVD s'engage."


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The demo programme served on localhost; ``live.db`` is another app on the same database."""
    with demo_server(tmp_path_factory.mktemp("live-reviews")) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@contextmanager
def signed_in(browser, live, email):
    """A page of ``email``'s own browser (French, a laptop's screen), on their home page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, live.url, email)
        expect(page).to_have_url(f"{live.url}/")
        yield page
    finally:
        context.close()


def nav(page, label):
    """Follow the navigation's link ``label``, opening first the menu that holds it."""
    link = page.locator("nav.menu").get_by_role("link", name=label, exact=True)
    # A link inside a closed menu is hidden, and roles see no hidden element: find its menu by the link's text.
    group = page.locator("nav.menu details").filter(
        has=page.locator("a", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")))
    if group.count() and not link.is_visible():
        group.locator("summary").click()
    click(page, link)


def button(page, label):
    click(page, page.get_by_role("button", name=label, exact=True))


def digits(amount: int) -> re.Pattern:  # whatever the spaces between thousands and before the currency
    return re.compile(r"\D?".join(f"{amount:,}".split(",")) + r"\s*F\s*CFA")


def _screen_and_assign(browser, live) -> int:
    with signed_in(browser, live, "agent@codev.demo") as page:
        nav(page, "Recevabilité")
        expect(page.locator("h1")).to_have_text("Projets à examiner (recevabilité)")
        row = page.locator("tbody tr").filter(has_text=BOREHOLE)
        expect(row).to_contain_text("5 sur 5 remplis")
        click(page, row.get_by_role("link", name="Examiner"))
        expect(page.locator("h1")).to_contain_text(BOREHOLE)
        boxes = page.locator("ol.checklist input[type=checkbox]")
        expect(boxes).to_have_count(5)
        for box in boxes.all():  # the officer confirms each item of the checklist
            box.check()
        page.get_by_label(re.compile("^Recevable")).check()
        button(page, "Enregistrer l'examen de recevabilité")
        project_id = int(re.fullmatch(r".*/reviews/projects/(\d+)", page.url).group(1))
        expect(page.locator(".flash-success")).to_contain_text("Le projet est recevable et passe en évaluation")
        # The suggestion comes first, already selected: the water structure of the Plateaux.
        suggestion = page.locator("select[name=evaluator] option").first
        expect(suggestion).to_contain_text("Yawo Tsogbe — DRH-P")
        expect(suggestion).to_contain_text("couvre le secteur")
        assert page.input_value("select[name=evaluator]") == suggestion.get_attribute("value")
        button(page, "Affecter")
        expect(page.locator(".flash-success")).to_contain_text("Yawo Tsogbe est affecté(e)")
        second = page.locator("select[name=evaluator] option", has_text="Akossiwa Dzifa")
        page.select_option("select[name=evaluator]", second.get_attribute("value"))
        button(page, "Affecter")
        expect(page.locator(".flash-success")).to_contain_text("Akossiwa Dzifa est affecté(e)")
        evaluators = page.locator("section[aria-labelledby=assignments-title] tbody tr")
        expect(evaluators).to_have_count(2)
        expect(evaluators.filter(has_text="Yawo Tsogbe")).to_contain_text("Direction régionale de l'Hydraulique")
        expect(evaluators.filter(has_text="Akossiwa Dzifa")).to_contain_text("Agence nationale d'appui")
    return project_id


def _evaluate(browser, live, email, from_home: bool) -> None:
    with signed_in(browser, live, email) as page:
        if from_home:  # the home card lists the new assignment
            card = page.locator("article.card").filter(has_text="Mes évaluations")
            expect(card).to_contain_text("déclarez d'abord vos conflits d'intérêts")
            click(page, card.get_by_role("link", name=BOREHOLE))
        else:
            nav(page, "Mes évaluations")
            row = page.locator("tbody tr").filter(has_text=BOREHOLE)
            expect(row).to_contain_text("Kloto 1")
            click(page, row.get_by_role("link", name="Déclarer et commencer"))
        expect(page.locator("h1")).to_have_text("Avant de commencer : conflit d'intérêts")
        page.get_by_label(re.compile("^Je n'ai aucun conflit d'intérêts")).check()
        button(page, "Envoyer ma déclaration")
        expect(page.locator(".flash-success")).to_contain_text("Vous pouvez maintenant étudier et noter le projet")
        expect(page.locator("h1")).to_have_text(f"Évaluation de « {BOREHOLE} »")
        total = page.locator("output[data-score-total]")
        scores, shown, _ = GRIDS[email]
        expect(page.locator("fieldset.criterion legend")).to_have_text(CRITERIA)
        for n, fieldset in enumerate(page.locator("fieldset.criterion").all()):
            fieldset.get_by_label("Note", exact=True).fill(str(scores[n]))
            fieldset.get_by_label("Commentaire sur ce critère").fill(COMMENTS[n])
            if n == 0:  # 30 × 9 / 10 = 27 points so far; the "…" says the grid is not complete
                expect(total).to_have_text(re.compile(rf"^{scores[0] * 3},00\s…$"))
        expect(total).to_have_text(shown)  # complete: no "…"
        page.select_option("select[name=recommendation]", label="Qualifier")
        page.fill("textarea[name=overall_comment]", "Dossier solide ; à financer en priorité.")
        button(page, "Remettre l'évaluation")
        expect(page.locator(".flash-success")).to_have_text("Votre évaluation est remise. Merci.")
        assert page.url.endswith("/reviews/mine")
        row = page.locator("tbody tr").filter(has_text=BOREHOLE)
        expect(row).to_contain_text("Soumis")
        click(page, row.get_by_role("link", name="Voir mon évaluation"))
        expect(page.locator(".evaluation-grid")).to_contain_text(shown)


def _committee(browser, live, project_id: int) -> None:
    with signed_in(browser, live, "agent@codev.demo") as page:
        nav(page, "Comité")
        expect(page.locator("h1")).to_have_text("Comité de sélection")
        waiting = page.locator("section[aria-labelledby=awaiting-title] li").filter(has_text="Appel à projets")
        expect(waiting).to_contain_text("1 projet qualifié ou ajourné")
        click(page, waiting.get_by_role("link", name="Convoquer une séance"))
        expect(page.locator("h1")).to_have_text("Convoquer le comité")
        expect(page.locator("select[name=call] option:checked")).to_contain_text("Appel à projets de coréalisation")
        page.fill("input[name=place]", "Lomé, ministère des Affaires étrangères")
        page.fill("input[name=chair]", "Essi Lawson")
        page.fill("textarea[name=members]", "Essi Lawson, présidente\nKodjo Agbeko\nMinistère des Finances")
        button(page, "Créer la séance")
        expect(page.locator(".flash-success")).to_contain_text("La séance est créée")
        expect(page.locator("h1")).to_contain_text("Séance du comité du")
        row = page.locator(f"tr#project-{project_id}")
        expect(row).to_contain_text(re.compile(f"{re.escape(BOREHOLE)}.*{MEAN}", re.S))
        expect(row).to_have_class("fits")
        expect(page.locator("section[aria-labelledby=envelope]")).to_contain_text(
            "Projet classé qui tient dans l'enveloppe restante : 1 sur 1.")
        expect(page.locator("tr.envelope-line")).to_have_count(0)
        session_url = page.url
        # The call's envelope is almost spent: the line where the money runs out shows above the borehole.
        with live.db.app_context():
            call = db.session.get(Call, db.session.get(Project, project_id).call_id)
            call.envelope_xof = call.committed_xof + 5_000_000
            db.session.commit()
        page.reload()
        line = page.locator("tr.envelope-line")
        expect(line).to_contain_text("L’enveloppe s’épuise ici")
        expect(line).to_contain_text(digits(5_000_000))
        expect(page.locator(f"tr.envelope-line + tr#project-{project_id}")).to_have_class("over-envelope")

    with signed_in(browser, live, "ordonnateur@codev.demo") as page:  # the approver records the decision
        nav(page, "Comité")
        click(page, page.locator("tbody tr").filter(has_text="Séance ouverte").get_by_role("link"))
        assert page.url == session_url
        click(page, page.locator(f"tr#project-{project_id}").get_by_role("link", name="Enregistrer la décision"))
        expect(page.locator("h1")).to_contain_text("Décision sur CODEV-")
        page.select_option("select[name=outcome]", label="Approuvé")
        page.fill("input[name=amount]", "5 000 000")  # what is left of the envelope
        page.fill("textarea[name=reason]", REASON)
        button(page, "Enregistrer la décision")
        expect(page.locator(".confirm-step")).to_contain_text("Cette action est irréversible.")
        button(page, "Oui, approuver le projet")
        expect(page.locator(".flash-success")).to_contain_text("Décision enregistrée : Approuvé.")
        expect(page.locator(f"tr#project-{project_id}")).to_contain_text("Approuvé")


def test_a_borehole_goes_from_screening_to_the_committee_s_approval(browser, live):
    project_id = _screen_and_assign(browser, live)
    with live.db.app_context():
        project = db.session.get(Project, project_id)
        assert project.title == BOREHOLE and project.status == "in_review"
        [screening] = db.session.scalars(select(Screening).where(Screening.project_id == project_id))
        assert screening.outcome == "eligible" and all(row["confirmed"] for row in screening.checklist)
        assigned = db.session.scalars(select(Assignment).where(Assignment.project_id == project_id)).all()
        assert sorted((a.evaluator.email, a.status) for a in assigned) == [
            ("evaluateur@codev.demo", "assigned"), ("evaluatrice@codev.demo", "assigned")]
    _evaluate(browser, live, "evaluateur@codev.demo", from_home=True)
    with live.db.app_context():
        assert db.session.get(Project, project_id).status == "in_review"  # one evaluation of the two needed
    _evaluate(browser, live, "evaluatrice@codev.demo", from_home=False)
    with live.db.app_context():
        assert db.session.get(Project, project_id).status == "qualified"
        got = {a.evaluator.email: (a.status, a.conflict_declared, a.evaluation.score_centi, a.evaluation.recommendation,
                                   sum(bool(s.comment) for s in a.evaluation.scores))
               for a in db.session.scalars(select(Assignment).where(Assignment.project_id == project_id))}
        assert got == {"evaluateur@codev.demo": ("submitted", False, 8050, "qualify", 5),
                       "evaluatrice@codev.demo": ("submitted", False, 8200, "qualify", 5)}
    _committee(browser, live, project_id)
    with live.db.app_context():
        assert (project := db.session.get(Project, project_id)).status == "approved"
        [decision] = db.session.scalars(select(CommitteeDecision).where(CommitteeDecision.project_id == project_id))
        assert (decision.outcome, decision.reason, decision.amount_proposed_xof, decision.rank,
                decision.score_centi) == ("approved", REASON, 5_000_000, 1, 8125)
        assert decision.session.status == "open"
        mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "association@codev.demo"))
        assert any(project.reference in m.subject + m.body and REASON in m.body for m in mails)
    with signed_in(browser, live, "association@codev.demo") as page:
        nav(page, "Mes projets")
        click(page, page.locator("article.card").get_by_role("link", name=BOREHOLE))
        study = page.locator("section[aria-labelledby=review-progress]")
        expect(study).to_contain_text("La décision du comité de sélection")
        expect(study.locator(".badge")).to_have_text("Approuvé")
        expect(study).to_contain_text(REASON)
        expect(study).to_contain_text(digits(5_000_000))
        text = page.inner_text("body")
        for secret in [*(name for _, _, name in GRIDS.values()), *(total for _, total, _ in GRIDS.values()),
                       MEAN, "DRH-P", "ANADEB", *COMMENTS]:
            assert secret not in text, secret


def test_an_evaluator_declaring_a_conflict_loses_the_project(browser, live):
    with signed_in(browser, live, "agent@codev.demo") as page:  # a third evaluator on the health post
        nav(page, "En cours d'examen")
        click(page, page.locator("tbody tr").filter(has_text=HEALTH_POST).get_by_role("link", name="Page d'évaluation"))
        page.select_option("select[name=evaluator]", page.locator("select[name=evaluator] option",
                                                                  has_text="Yawo Tsogbe").get_attribute("value"))
        button(page, "Affecter")
        expect(page.locator(".flash-success")).to_contain_text("Yawo Tsogbe est affecté(e)")

    with signed_in(browser, live, "evaluateur@codev.demo") as page:
        nav(page, "Mes évaluations")
        row = page.locator("tbody tr").filter(has_text=HEALTH_POST)
        start = row.get_by_role("link", name="Déclarer et commencer")
        url = live.url + start.get_attribute("href")
        click(page, start)
        page.get_by_label(re.compile("^J'ai un conflit d'intérêts")).check()
        page.fill("textarea[name=note]", "Mon frère est membre de l'association.")
        button(page, "Envoyer ma déclaration")
        button(page, "Oui, j'ai un conflit d'intérêts")
        expect(page.locator(".flash-success")).to_contain_text("Vous avez déclaré un conflit d'intérêts")
        expect(row).to_contain_text("Récusé (conflit d'intérêts)")
        expect(row.get_by_role("link")).to_have_count(0)
        assert page.goto(url).status == 404  # the project page is no longer theirs

    with live.db.app_context():
        [assignment] = db.session.scalars(select(Assignment).where(
            Assignment.evaluator.has(email="evaluateur@codev.demo"),
            Assignment.project.has(title=HEALTH_POST)))
        assert (assignment.status, assignment.conflict_declared, assignment.conflict_note) == (
            "recused", True, "Mon frère est membre de l'association.")
        mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "agent@codev.demo"))
        assert any("Yawo Tsogbe" in m.body and HEALTH_POST in m.body for m in mails)


def test_the_scoring_page_fits_a_phone(browser, live):
    """An evaluator on a phone scores without scrolling sideways (the project's tables scroll inside)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    page = context.new_page()
    try:
        sign_in(page, live.url, "reviewer@codev.demo")
        with live.db.app_context():
            from codev.accounts.models import User
            from codev.reviews.models import Assignment

            reviewer = db.session.scalar(select(User).where(User.email == "reviewer@codev.demo"))
            assignment = db.session.scalar(select(Assignment).where(
                Assignment.evaluator_id == reviewer.id, Assignment.status == "accepted"))
        page.goto(f"{live.url}/reviews/assignments/{assignment.id}")
        page.wait_for_load_state()
        assert page.locator("form input[type=number], form input[inputmode=numeric]").count() >= 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
