"""Browser path of a staff-assisted application, on a phone without JavaScript: the officer files a paper
application for an association (its possible duplicate shown first), verifies it, starts its project on an open
call, uploads the scan of the signed application, submits it on its behalf and emails the hand-over link; the
association's contact opens the link, chooses a password and takes the account.

The demo programme served on 127.0.0.1 as in tests/test_browser_duplicates.py; ``live.db`` reads the database.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from codev.accounts.assisted import AssistedAssociation
from codev.accounts.models import Association, AssociationStatus, Role, User
from codev.core.models import AuditEvent, OutboxMessage
from codev.extensions import db
from codev.projects.assisted import AssistedProject
from codev.projects.models import Project, ProjectAttachment, ProjectStatus
from tests.browser_support import MARKS, chromium, click, demo_server, sign_in
from tests.factories_projects import PDF_BYTES, stored_file

pytestmark = MARKS

WIDTH = 360
WIDTH_CHECK = "() => document.documentElement.scrollWidth"
NAME = "Amicale des Ressortissants de Kpalimé à Bruxelles"
PASSWORD = "une phrase de passe assez longue"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("live-assisted")) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@contextmanager
def on_a_phone(browser):
    context = browser.new_context(viewport={"width": WIDTH, "height": 780}, locale="fr-FR", java_script_enabled=False)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def fits(page) -> None:
    assert page.evaluate(WIDTH_CHECK) <= WIDTH, page.url


def button(page, label):
    click(page, page.locator("main").get_by_role("button", name=label, exact=True))


def test_an_officer_files_a_paper_application_and_hands_it_over(browser, live, tmp_path):
    scan = tmp_path / "demande signée.pdf"
    scan.write_bytes(PDF_BYTES)
    with on_a_phone(browser) as page:
        sign_in(page, live.url, "agent@codev.demo")
        page.goto(f"{live.url}/projects/assisted/")
        click(page, page.get_by_role("link", name="Saisir une demande papier"))
        fits(page)
        page.check("input[name=channel][value=embassy]")
        page.fill("input[name=name]", NAME)
        page.fill("input[name=acronym]", "ARKB")
        page.select_option("select[name=country]", "BE")
        page.fill("input[name=city]", "Bruxelles")
        page.fill("input[name=registration_number]", "W 751 234 567")  # ARKF's number: a possible duplicate
        page.locator("input[name=domains]").first.check()
        page.fill("input[name=contact_name]", "Yawa Akakpo")
        page.fill("input[name=contact_email]", "yawa.akakpo@example.org")
        page.select_option("select[name=locale]", "en")
        button(page, "Enregistrer l’association")
        assert "Cette association est peut-être déjà inscrite" in page.locator("main").inner_text()
        assert page.locator("#duplicates li.duplicate", has_text="ARKF").count() >= 1
        assert page.input_value("input[name=city]") == "Bruxelles"  # what was typed is kept
        fits(page)
        page.check("input[name=not_duplicate]")
        button(page, "Enregistrer l’association")
        assert re.search(r"/projects/assisted/\d+$", page.url), page.locator("main").inner_text()
        case_url = page.url
        fits(page)

        button(page, "Vérifier l'association")
        page.goto(case_url)
        page.select_option("select[name=call_id]", index=1)
        page.fill("input[name=title]", "Forage de Kpimé")
        button(page, "Créer le projet")
        assert page.url.endswith("/general")
        project_id = int(page.url.rsplit("/", 2)[1])
        fits(page)

    with live.db.app_context():  # the other steps, as the step pages save them (tests/test_assisted.py)
        from tests.test_assisted import fill_steps

        project = db.session.get(Project, project_id)
        project.sector = "water"
        project.summary = "Un forage."
        fill_steps(project)
        for kind in project.call.required_kinds:  # the documents this demo call asks for
            document = stored_file(kind=kind)
            project.attachments.append(ProjectAttachment(attachment_id=document.id, kind=kind, file=document))
        db.session.commit()

    with on_a_phone(browser) as page:
        sign_in(page, live.url, "agent@codev.demo")
        page.goto(case_url)
        page.set_input_files("input[name=scan]", str(scan))
        button(page, "Déposer le scan")
        assert "demande signée" in page.locator(f"#project-{project_id}").inner_text()
        click(page, page.get_by_role("link", name="Relire et soumettre pour son compte"))
        button(page, "Soumettre le projet")
        assert page.url.endswith(f"/projects/{project_id}"), page.locator("main").inner_text()[:1500]
        assert "Saisi par le ministère pour le compte de l’association" in page.locator("main").inner_text()
        fits(page)
        page.goto(case_url)
        button(page, "Envoyer le lien de remise")
        assert "Un lien a été envoyé à yawa.akakpo@example.org" in page.locator("#handover").inner_text()
        assert "Lien de remise envoyé" in page.locator("main").inner_text()  # the history
        fits(page)

    with live.db.app_context():
        mail = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "yawa.akakpo@example.org")
                                  .order_by(OutboxMessage.id.desc())).first()
        assert mail.locale == "en" and "ready for you" in mail.subject
        path = re.search(r"/projects/assisted/take-over/[\w-]+", mail.body).group(0)
        association = db.session.scalars(select(Association).where(Association.acronym == "ARKB")).one()
        assert association.status == AssociationStatus.VERIFIED
        assert db.session.get(AssistedProject, project_id).submitted_by_id is not None
        assert db.session.get(Project, project_id).status == ProjectStatus.SUBMITTED

    with on_a_phone(browser) as page:  # the contact's own phone
        page.goto(f"{live.url}{path}")
        fits(page)
        assert page.input_value("input[name=full_name]") == "Yawa Akakpo"
        page.fill("input[name=password]", PASSWORD)
        page.fill("input[name=confirm]", PASSWORD)
        click(page, page.locator("main form button[type=submit]"))
        assert page.url.endswith(f"/associations/{association.id}"), page.locator("main").inner_text()
        page.goto(f"{live.url}{path}")
        assert "This link cannot be used" in page.locator("main").inner_text() or \
            "Ce lien ne peut pas être utilisé" in page.locator("main").inner_text()

    with live.db.app_context():
        member = db.session.scalars(select(User).where(User.email == "yawa.akakpo@example.org")).one()
        assert member.role == Role.ASSOCIATION and member.association_id == association.id
        assert db.session.get(AssistedAssociation, association.id).handed_over_to_id == member.id
        actions = list(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.object_type == "associations", AuditEvent.object_id == association.id)
            .order_by(AuditEvent.id)))
        assert actions[0] == "association.filed_by_staff" and actions[-1] == "association.handed_over"
