"""Browser tests of the application form: an association fills every step on a phone and submits.

Playwright drives Debian's Chromium against the app served on 127.0.0.1 with the demo programme (same
approach as tests/test_browser.py); what the database holds afterwards is read with a second app on the
same SQLite file.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from codev.extensions import db
from tests.browser_support import MARKS, chromium, click, demo_server, sign_in

pytestmark = MARKS

PDF = b"%PDF-1.4\n% codev browser test\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SAVE = "Enregistrer et continuer"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The demo programme served on localhost; ``live.db`` is another app on the same database."""
    with demo_server(tmp_path_factory.mktemp("live-projects")) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")  # a phone
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def save(page, label=SAVE):
    click(page, page.get_by_role("button", name=label, exact=True))


def expect_digits(locator, amount: int) -> None:
    """Wait until the figure shown (whatever its spaces and currency) is ``amount``."""
    from playwright.sync_api import expect

    expect(locator).to_have_text(re.compile(r"^\D*" + r"\D?".join(f"{amount:,}".split(",")) + r"\D*$"))


def step_title(page) -> str:
    return page.inner_text("#step-title")


def balanced_plan(budget: int, form) -> tuple[int, int, int]:
    """(euros of the association, their value in francs, grant) meeting every rule of the call shown.

    The rules are the ones the page gives its script (data- attributes of the financing form)."""
    attr = lambda name: form.get_attribute(f"data-{name}") or None  # noqa: E731
    num, den = int(attr("ratio-num")), int(attr("ratio-den"))
    limits = {k: int(v) for k in ("max-grant", "max-grant-share-bps", "min-association-share-bps")
              if (v := attr(k)) is not None}
    eur_rate = dict(pair.split(":") for pair in attr("rates").split())["EUR"]
    for euros in range(100, budget // 600, 100):
        cash = (euros * 100 * int(eur_rate) * 2 + 10**8) // (2 * 10**8)  # half up, as the app rounds
        grant = budget - cash
        if grant <= 0:
            break
        if (grant * den <= num * cash and grant <= limits.get("max-grant", grant)
                and grant * 10_000 <= limits.get("max-grant-share-bps", 10_000) * budget
                and cash * 10_000 >= limits.get("min-association-share-bps", 0) * budget):
            return euros, cash, grant
    raise AssertionError("no plan in euros meets the call's rules")


def test_member_fills_every_step_on_a_phone_and_submits(page, live):
    from playwright.sync_api import expect

    from codev.core.models import OutboxMessage
    from codev.projects.models import Project

    sign_in(page, live.url, "association@codev.demo")
    page.goto(f"{live.url}/calls/")
    click(page, page.locator("article.card h2 a").first)  # the open call's public page
    click(page, page.get_by_role("link", name="Préparer un projet pour cet appel"))
    assert page.inner_text("h1") == "Créer un projet"
    required = page.locator("h3:has-text('Documents à joindre') + ul li").all_inner_texts()
    assert len(required) >= 1
    page.fill("input[name=title]", "Adduction d'eau de Kpimé-Tomégbé")
    save(page, "Créer le projet")

    assert step_title(page) == "Informations générales"
    page.select_option("select[name=sector]", "water")
    page.fill("textarea[name=summary]", "Un château d'eau et quatre bornes-fontaines pour 900 habitants.")
    page.check("input[name=led_by_women]")
    save(page)

    assert step_title(page) == "Localisation et partenaire local"
    click(page, page.get_by_role("link", name=re.compile("Trouver la commune étape par étape")))
    chooser = page.locator(".chooser")
    click(page, chooser.get_by_role("link", name="Plateaux", exact=True))
    click(page, chooser.get_by_role("link", name="Kloto", exact=True))
    click(page, chooser.get_by_role("link", name="Kloto 1", exact=True))
    assert "/location" in page.url
    assert page.input_value("select[name=commune]") == "Kloto 1"
    page.fill("input[name=village]", "Kpimé-Tomégbé")
    page.fill("input[name=local_partner_name]", "CVD de Kpimé-Tomégbé")
    page.select_option("select[name=local_partner_kind]", "committee")
    page.fill("textarea[name=local_partner_commitment]", "Le terrain, les tranchées et la gestion des bornes.")
    save(page)

    assert step_title(page) == "Description et bénéficiaires"
    page.fill("textarea[name=problem]", "Les femmes font 3 km pour puiser l'eau de la rivière.")
    page.fill("textarea[name=objectives]", "L'eau potable à moins de 500 m de chaque ménage.")
    page.fill("textarea[name=activities]", "Forage ; château d'eau ; bornes-fontaines ; comité de gestion.")
    page.fill("input[name=beneficiaries_total]", "900")
    page.fill("input[name=beneficiaries_women]", "470")
    page.fill("input[name=beneficiaries_youth]", "310")
    page.fill("input[name=start_date]", (date.today() + timedelta(days=120)).isoformat())
    page.fill("input[name=duration_months]", "8")
    save(page)

    assert step_title(page) == "Budget"
    for n, (category, text, quantity, cost) in enumerate([
        ("works", "Forage et château d'eau de 10 m³", "1", "4 000 000"),
        ("equipment", "Bornes-fontaines équipées", "4", "500 000"),
    ]):
        page.select_option(f"select[name=lines-{n}-category]", category)
        page.fill(f"input[name=lines-{n}-description]", text)
        page.fill(f"input[name=lines-{n}-quantity]", quantity)
        page.fill(f"input[name=lines-{n}-unit_cost]", cost)
    expect_digits(page.locator("output[data-total]"), 6_000_000)
    save(page)

    assert step_title(page) == "Plan de financement"
    form = page.locator("form[data-live=financing]")
    budget = int(form.get_attribute("data-total-budget"))
    assert budget == 6_000_000
    euros, cash, grant = balanced_plan(budget, form)
    page.select_option("select[name=lines-0-source]", "association_cash")
    page.fill("input[name=lines-0-description]", "Cotisations des membres à Paris")
    page.select_option("select[name=lines-0-currency]", "EUR")
    page.fill("input[name=lines-0-amount]", f"{euros},00")
    page.fill("input[name=requested_grant]", str(grant))
    expect_digits(form.locator("output[data-sum=total_financing]"), budget)
    expect(form.locator("[data-rule].todo")).to_have_count(0)  # every rule met, live
    save(page)

    assert step_title(page) == "Pièces jointes"
    listed = page.locator("ul.steps li").filter(has_text="manquant").all_inner_texts()
    kinds = [text.split(" — ")[0].strip() for text in listed]
    assert kinds == required
    for n, label in enumerate(kinds):
        page.select_option("select[name=kind]", label=label)
        page.set_input_files("input[name=file]", {"name": f"piece-{n}.pdf", "mimeType": "application/pdf",
                                                  "buffer": PDF})
        save(page, "Envoyer le document")
        assert page.locator(".flash-success").count() == 1
    assert page.locator("ul.steps li").filter(has_text="manquant").count() == 0
    save(page, "Passer à la vérification")

    assert step_title(page) == "Vérifier et soumettre"
    assert "Tout ce que demande l'appel est fourni." in page.inner_text(".project-step")
    assert page.locator(".project-step ul.steps li.todo").count() == 0
    save(page, "Soumettre le projet")
    match = re.search(r"CODEV-(\d{4})-\d{4}", page.inner_text("main"))
    assert match and match.group(1) == str(date.today().year)
    reference = match.group(0)
    assert f"Votre projet est soumis sous la référence {reference}." in page.inner_text(".flashes")
    assert page.locator("main p.muted").first.inner_text().startswith(reference)
    assert "/projects/" in page.url

    with live.db.app_context():
        project = db.session.scalar(select(Project).where(Project.reference == reference))
        assert project.status == "submitted" and project.title == "Adduction d'eau de Kpimé-Tomégbé"
        assert (project.commune, project.prefecture, project.region) == ("Kloto 1", "Kloto", "TG-P")
        assert len(project.budget_lines) == 2 and project.requested_grant_xof == grant
        [line] = project.financing_lines
        assert (line.currency, line.amount_minor, line.amount_xof) == ("EUR", euros * 100, cash)
        assert sorted(a.kind for a in project.attachments) == sorted(project.call.required_kinds)
        mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "agent@codev.demo"))
        assert any(reference in m.subject + m.body for m in mails)


def test_financing_totals_update_while_typing_and_a_broken_rule_is_shown(page, live):
    from codev.projects.models import FinancingLine, Project

    sign_in(page, live.url, "bruxelles@codev.demo")  # its latrines draft has a budget, no plan yet
    click(page, page.get_by_role("link", name="Mes projets", exact=True))
    card = page.locator("article.card").filter(has_text="Latrines scolaires")
    click(page, card.get_by_role("link", name="Poursuivre la demande"))
    assert step_title(page) == "Plan de financement"
    project_id = int(re.search(r"/projects/(\d+)/financing", page.url).group(1))
    form = page.locator("form[data-live=financing]")
    budget = int(form.get_attribute("data-total-budget"))
    total = form.locator("output[data-sum=total_financing]")
    expect_digits(total, 0)

    page.select_option("select[name=lines-0-source]", "association_cash")
    page.fill("input[name=lines-0-amount]", "1 000 000")
    expect_digits(total, 1_000_000)
    expect_digits(form.locator("output[data-sum=association_cash]"), 1_000_000)
    page.select_option("select[name=lines-1-source]", "commune")
    page.fill("input[name=lines-1-amount]", "250 000")
    expect_digits(total, 1_250_000)
    grant = budget - 1_250_000  # balanced, but far more than 1 × the association's own money
    page.fill("input[name=requested_grant]", str(grant))
    expect_digits(total, budget)
    match = form.locator("[data-rule=match]")
    assert match.locator("[data-rule-state]").inner_text().strip() == "Non respectée :"
    assert "/financing" in page.url  # nothing was sent
    with live.db.app_context():
        assert db.session.scalar(select(func.count(FinancingLine.id))
                                 .where(FinancingLine.project_id == project_id)) == 0

    save(page)
    assert step_title(page) == "Plan de financement"  # saved, but the next step does not open
    assert "certaines règles de l'appel ne sont pas encore respectées" in page.inner_text(".flashes")
    match = page.locator("[data-rule=match]")
    assert match.locator("[data-rule-state]").inner_text().strip() == "Non respectée :"
    assert match.locator("[data-rule-message]").inner_text().startswith("La subvention demandée")
    assert "dépasse 1 × votre propre contribution" in match.inner_text()
    assert page.locator("[data-rule=balanced] [data-rule-state]").inner_text().strip() == "Respectée :"
    with live.db.app_context():
        project = db.session.get(Project, project_id)
        assert project.requested_grant_xof == grant and len(project.financing_lines) == 2
    # The budget, plan and review pages fit a phone's screen (their tables scroll inside).
    for step in ("budget", "financing", "review"):
        page.goto(f"{live.url}/projects/{project_id}/{step}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, step


def test_english_first_step_refuses_an_empty_title_and_keeps_the_rest(page, live):
    from codev.projects.models import Project

    sign_in(page, live.url, "association@codev.demo")
    click(page, page.locator(".lang-switch button"))
    try:
        click(page, page.get_by_role("link", name="My projects", exact=True))
        assert page.inner_text("h1") == "My projects"
        click(page, page.locator("main a[href*='/projects/new/']").first)
        page.fill("input[name=title]", "Health post of Agou")
        save(page, "Start the project")
        assert step_title(page) == "General information"
        project_id = int(re.search(r"/projects/(\d+)/general", page.url).group(1))

        page.fill("input[name=title]", "")
        page.select_option("select[name=sector]", "health")
        page.fill("textarea[name=summary]", "A health post with a maternity ward for six villages.")
        page.check("input[name=led_by_women]")
        save(page, "Save and continue")

        assert step_title(page) == "General information"
        assert page.inner_text("#title-error") == "This field is required."
        assert page.get_attribute("input[name=title]", "aria-invalid") == "true"
        assert page.input_value("select[name=sector]") == "health"
        assert page.input_value("textarea[name=summary]") == "A health post with a maternity ward for six villages."
        assert page.is_checked("input[name=led_by_women]")
        with live.db.app_context():
            project = db.session.get(Project, project_id)
            assert project.title == "Health post of Agou" and project.summary is None
    finally:  # the language is remembered on the account: give the demo member French back
        page.goto(f"{live.url}/")
        if page.locator(".lang-switch button[value=fr]").count():
            click(page, page.locator(".lang-switch button[value=fr]"))
