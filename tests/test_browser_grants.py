"""Browser tests of a grant: the approver signs it off, anyone verifies the letter, the association's money
comes in, the first tranche goes out, a disbursement form sent twice records once. Chromium against the demo
on 127.0.0.1 (as tests/test_browser.py); the demo funds every project its committee approved, so the setup has
the committee approve one more (its services). A second app reads the same database file afterwards."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import current_app
from sqlalchemy import func, select

from codev.accounts.models import Role, User
from codev.calls.models import Call, CallStatus
from codev.calls.rates import to_xof
from codev.core.money import xof_in_words
from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.grants.award.approval import approval_facts, approve_grant, awaiting_approval, grant_of
from codev.grants.models import AwardLetter, ContributionEntry, Disbursement, Grant
from codev.projects.models import Project, ProjectStatus
from codev.reviews.committee import DecisionData, SessionData, close_session, create_session, decide
from codev.reviews.models import ReviewResult
from tests.browser_support import MARKS, chromium, click, demo_server, fill_step_up, sign_in
from tests.factories_grants import pdf_text
from tests.factories_projects import ready_project

pytestmark = MARKS

OFFICER, APPROVER = "agent@codev.demo", "ordonnateur@codev.demo"
RECORD = "Enregistrer le décaissement"
CONFIRM_RECORD = "Oui, enregistrer le décaissement"  # the confirm step (codev.core.confirm)


def pdf_file(name: str) -> dict:
    """A real one-page PDF of a few hundred bytes, as a file chosen in a form."""
    from pypdf import PdfWriter
    writer, out = PdfWriter(), io.BytesIO()
    writer.add_blank_page(width=595, height=842)
    writer.write(out)
    return {"name": name, "mimeType": "application/pdf", "buffer": out.getvalue()}


def committee_approves_a_project() -> Project:
    """A project the committee approved that has no grant: the demo's own, else one approved now."""
    waiting, _count = awaiting_approval(limit=1)
    if waiting:
        return waiting[0]
    officer, approver, member = (db.session.scalar(select(User).where(User.email == email))
                                 for email in (OFFICER, APPROVER, "association@codev.demo"))
    call = db.session.scalar(select(Call).where(Call.status == CallStatus.OPEN).order_by(Call.id))
    project = ready_project(member, call, title="Château d'eau de Kuma-Adamé", status=ProjectStatus.QUALIFIED,
                            reference=f"CODEV-{utcnow().year}-0101", submitted_at=utcnow() - timedelta(days=45))
    db.session.add(ReviewResult(project_id=project.id, evaluations_count=2, score_centi=7800, spread_centi=400,
                                qualified=True))
    session = create_session(SessionData(call.id, utcnow().date(), "Lomé", "Essi Lawson\nKodjo Agbeko",
                                         "Essi Lawson", ("led_by_women",)), officer)
    decide(session, project, DecisionData("approved", "Projet pertinent ; l'apport est réuni."), approver)
    close_session(session, "Le comité a approuvé le projet à l'unanimité.", officer)
    return project


def _awaiting_grant() -> dict:
    """Facts of a project awaiting its grant (``project_id``, ``reference``, ``title``, its ``member``)."""
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_BASE_URL"]):
        project = committee_approves_a_project()
        member = db.session.scalar(select(User.email).where(User.association_id == project.association_id,
                                                            User.role == Role.ASSOCIATION).order_by(User.id))
        return {"project_id": project.id, "reference": project.reference, "title": project.title, "member": member}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The demo on localhost with a project awaiting its grant."""
    with demo_server(tmp_path_factory.mktemp("live-grants"), _awaiting_grant) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def people(browser, live):
    """``people(email)``: a fresh browser (a phone, in French) signed in as ``email`` (None: nobody)."""
    contexts = []

    def open_page(email):
        contexts.append(browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR"))
        contexts[-1].set_default_timeout(10_000)
        page = contexts[-1].new_page()
        if email:
            sign_in(page, live.url, email)
        return page

    yield open_page
    for context in contexts:
        context.close()


def seen(locator) -> str:
    """The text shown by ``locator``, spaces of every kind made plain."""
    return " ".join(locator.inner_text().replace("\u202f", " ").replace("\xa0", " ").split())


def fcfa(amount: int) -> str:
    return f"{amount:,}".replace(",", " ") + " F CFA"


def disbursements(live, grant_id) -> list[tuple[int, int, str]]:
    with live.db.app_context():
        return [tuple(row) for row in db.session.execute(
            select(Disbursement.tranche_number, Disbursement.amount_xof, Disbursement.bank_reference)
            .where(Disbursement.grant_id == grant_id).order_by(Disbursement.id))]


def fill_disbursement(page, bank_reference: str, amount: str | None = None):
    form = page.locator("form.disbursement-form")
    if amount:
        form.locator("input[name=amount]").fill(amount)
    form.locator("input[name=bank_reference]").fill(bank_reference)
    return form


def the_grant(live) -> SimpleNamespace:
    """The setup project's grant (approved through the service when the first test did not run)."""
    with live.db.app_context(), live.db.test_request_context(base_url=live.url):
        project = db.session.get(Project, live.project_id)
        if (grant := grant_of(project)) is None:
            boss = db.session.scalar(select(User).where(User.email == APPROVER))
            grant = approve_grant(project, boss, approval_facts(project).proposed, boss.name, boss.title)
            db.session.commit()
        return SimpleNamespace(id=grant.id, tranches=[t.amount_xof for t in grant.tranches])


def test_approver_signs_off_the_grant_and_anyone_verifies_the_letter(people, live):
    page = people(APPROVER)
    card = page.locator("article.card").filter(has_text="Subventions à approuver")
    click(page, card.get_by_role("link", name=f"{live.reference} — {live.title}"))
    assert page.inner_text("h1") == "Approuver la subvention"
    amount = int(re.sub(r"\D", "", page.input_value("input[name=amount]")))
    click(page, page.get_by_role("button", name="Approuver et émettre la lettre"))
    assert "Cette action est irréversible." in seen(page.locator(".confirm-step"))  # the confirm step first
    fill_step_up(page, live.url, APPROVER)  # with the second factor's code (step-up)
    click(page, page.get_by_role("button", name="Oui, approuver la subvention"))
    assert re.search(r"/grants/\d+$", page.url) and page.inner_text("h1") == live.title

    with live.db.app_context():
        grant = db.session.scalar(select(Grant).where(Grant.project_id == live.project_id))
        assert (grant.amount_xof, grant.status, grant.project.status) == (amount, "awarded", "funded")
        letters = {x.language: x for x in db.session.scalars(select(AwardLetter).filter_by(grant_id=grant.id))}
        assert sorted(letters) == ["en", "fr"] and {x.status for x in letters.values()} == {"valid"}
        letter_ref, stored = letters["fr"].reference, letters["fr"].pdf
    flash = seen(page.locator(".flashes"))
    assert f"La subvention de {fcfa(amount)} est approuvée" in flash and letter_ref in flash
    with page.expect_download() as info:
        page.locator("tr").filter(has_text=letter_ref).get_by_role("link", name="Télécharger (PDF)").click()
    pdf = Path(info.value.path()).read_bytes()
    assert pdf == stored and letter_ref in (printed := pdf_text(pdf)) and xof_in_words(amount, "fr") in printed

    visitor = people(None)  # anyone, signed in nowhere, types the address printed on the letter
    printed_url = re.search(r"https?://\S+/verify/" + re.escape(letter_ref), printed)
    assert printed_url and printed_url.group(0) == f"{live.url}/verify/{letter_ref}"
    visitor.goto(printed_url.group(0))
    assert visitor.inner_text("h1") == letter_ref and visitor.inner_text(".verify-word").casefold() == "valide"
    assert "en vigueur" in seen(visitor.locator(".verify-status")) and seen(visitor.locator("dd.verify-amount")) == (
        fcfa(amount))
    visitor.set_input_files("input[name=file]", {**pdf_file(f"{letter_ref}.pdf"), "buffer": pdf})
    click(visitor, visitor.get_by_role("button", name="Vérifier le fichier"))
    assert seen(visitor.locator(".verify-match")).startswith("Ce fichier est la lettre émise le")
    visitor.set_input_files("input[name=file]", pdf_file(f"{letter_ref}.pdf"))
    click(visitor, visitor.get_by_role("button", name="Vérifier le fichier"))
    assert seen(visitor.locator(".verify-result")).startswith("Ce fichier ne correspond pas")  # and only that


def test_contribution_verified_first_tranche_paid_and_the_next_one_refused(people, live):
    grant = the_grant(live)
    first, second = grant.tranches[:2]
    value_date = utcnow().date() - timedelta(days=3)
    with live.db.app_context():
        euros_xof, _rate = to_xof(300_000, "EUR", value_date)  # 3 000 € collected by the members
    assert first <= euros_xof < first + second  # enough for the first tranche only

    member = people(live.member)
    card = member.locator("article.card").filter(has=member.get_by_role("heading", name="Vos subventions"))
    click(member, card.get_by_role("link", name=live.title))
    click(member, member.get_by_role("link", name="Déclarer une contribution"))
    member.select_option("select[name=source]", "association_cash")
    member.select_option("select[name=currency]", "EUR")
    member.fill("input[name=amount]", "3 000,00")
    member.fill("input[name=value_date]", value_date.isoformat())
    member.set_input_files("input[name=proof]", proof := pdf_file("virement-cotisations.pdf"))
    click(member, member.get_by_role("button", name="Déclarer la contribution"))
    assert f"Votre contribution de {fcfa(euros_xof)} est déclarée" in seen(member.locator(".flashes"))
    with live.db.app_context():
        entry = db.session.scalar(select(ContributionEntry).where(ContributionEntry.grant_id == grant.id))
        assert (entry.kind, entry.currency, entry.amount_minor, entry.amount_xof, entry.value_date,
                entry.proof.original_name) == ("declared", "EUR", 300_000, euros_xof, value_date, proof["name"])

    officer = people(OFFICER)  # from the home card to the declaration, then verified
    click(officer, officer.get_by_role("link", name=re.compile(r"contributions? à vérifier")))
    click(officer, officer.locator("tr").filter(has_text=live.title).get_by_role("link", name=live.title))
    assert seen(officer.locator("h1")) == f"Contribution de {fcfa(euros_xof)}"
    click(officer, officer.get_by_role("button", name="Vérifier : la preuve concorde"))
    assert "La contribution est vérifiée" in seen(officer.locator(".flashes"))

    form = fill_disbursement(officer, "BTCI-VIR-2026-0420")  # the form offers tranche 1 and what may be paid
    assert (form.locator("select[name=tranche]").input_value(),
            int(re.sub(r"\D", "", form.locator("input[name=amount]").input_value()))) == ("1", first)
    click(officer, form.get_by_role("button", name=RECORD))
    click(officer, officer.get_by_role("button", name=CONFIRM_RECORD))
    assert f"Le décaissement de {fcfa(first)} est enregistré" in seen(officer.locator(".flashes"))

    officer.select_option("form.disbursement-form select[name=tranche]", "2")
    form = fill_disbursement(officer, "BTCI-VIR-2026-0421", str(second + 400_000))
    click(officer, form.get_by_role("button", name=RECORD))
    assert officer.inner_text("h1") == "Enregistrer un décaissement" and seen(officer.locator("#amount-error")) == (
        "La tranche 2 n'est pas encore exigible : le rapport d'avancement n'est pas encore accepté.")
    assert officer.input_value("input[name=bank_reference]") == "BTCI-VIR-2026-0421"
    assert disbursements(live, grant.id) == [(1, first, "BTCI-VIR-2026-0420")]
    with live.db.app_context():
        assert db.session.get(Grant, grant.id).status == "active" and db.session.scalar(
            select(func.count()).where(ContributionEntry.refers_to_id == entry.id,
                                       ContributionEntry.kind == "verified")) == 1

    member.reload()  # the association sees what was paid and what the next tranche waits for
    tranches = member.locator("ol.tranche-list > li")
    assert "Versée" in seen(tranches.nth(0)) and f"Déjà versé : {fcfa(first)}" in seen(tranches.nth(0))
    waits = seen(tranches.nth(1))
    assert "Pas encore exigible" in waits
    assert "Ce qui la retient : le rapport d'avancement n'est pas encore accepté" in waits
    assert (f"votre contribution n'est pas encore assez vérifiée : {fcfa(euros_xof)} vérifiés sur "
            f"{fcfa(first + second)} requis") in waits


def demo_grant_due(people, live):
    """The officer on the page of a demo grant whose first tranche is not paid in full (its declaration verified)."""
    with live.db.app_context():
        paid = dict(db.session.execute(select(Disbursement.grant_id, func.sum(Disbursement.amount_xof))
                                       .where(Disbursement.tranche_number == 1).group_by(Disbursement.grant_id)).all())
        grant_id, title = next(
            (g.id, g.project.title) for g in db.session.scalars(select(Grant).order_by(Grant.id))
            if g.project_id != live.project_id and paid.get(g.id, 0) < g.tranches[0].amount_xof)
    officer = people(OFFICER)
    click(officer, officer.locator("nav.menu").get_by_role("link", name="Subventions", exact=True))
    click(officer, officer.locator("tbody tr").get_by_role("link", name=title))
    verify = officer.locator("table.ledger").get_by_role("button", name="Vérifier", exact=True)
    if verify.count():
        click(officer, verify.first)
    return officer, grant_id


def test_the_same_disbursement_form_sent_twice_records_once(people, live):
    officer, grant_id = demo_grant_due(people, live)
    before = disbursements(live, grant_id)
    form = fill_disbursement(officer, "ORABANK-2026-0077", "500 000")
    sent = form.evaluate("f => Object.fromEntries(new FormData(f))")  # what the browser posts
    click(officer, form.get_by_role("button", name=RECORD))
    click(officer, officer.get_by_role("button", name=CONFIRM_RECORD))
    assert "Le décaissement de 500 000 F CFA est enregistré" in seen(officer.locator(".flashes"))
    # The browser sends the very same form again (a second click, a retry): its key says it is a repeat.
    again = officer.request.post(f"{live.url}/grants/{grant_id}/disbursements/new", form=sent)
    assert again.ok and "Ce formulaire a déjà été envoyé" in again.text()
    assert disbursements(live, grant_id) == [*before, (1, 500_000, "ORABANK-2026-0077")]


def test_going_back_and_sending_the_disbursement_form_again_records_once(people, live):
    """The grant page again (never cached, so re-fetched): the form has a new key, the person types the same
    transfer and confirms it: the same bank transfer is recognised and recorded once. (Back from the grant page
    now meets the confirm step, a page a POST answered, which the browser offers to send again: its key is the
    first one, answered by test_the_same_disbursement_form_sent_twice_records_once.)"""
    officer, grant_id = demo_grant_due(people, live)
    before = disbursements(live, grant_id)
    click(officer, fill_disbursement(officer, "ORABANK-2026-0078", "300 000").get_by_role("button", name=RECORD))
    click(officer, officer.get_by_role("button", name=CONFIRM_RECORD))
    assert "Le décaissement de 300 000 F CFA est enregistré" in seen(officer.locator(".flashes"))
    officer.goto(f"{live.url}/grants/{grant_id}")
    form = fill_disbursement(officer, "ORABANK-2026-0078", "300 000")
    click(officer, form.get_by_role("button", name=RECORD))
    click(officer, officer.get_by_role("button", name=CONFIRM_RECORD))
    assert "déjà été envoyé" in seen(officer.locator(".flashes"))
    assert disbursements(live, grant_id) == [*before, (1, 300_000, "ORABANK-2026-0078")]
