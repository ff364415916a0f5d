"""Browser paths of data retention and the association's export, on a phone (360 px) without JavaScript.

The demo's draft latrines of ATB (Brussels) have been idle for 400 days and THH's withdrawn market gardens for
800: ``flask apply-retention`` notices both associations by email in French; ATB's member follows the link,
edits the draft, and the next run after the notice period resets its notice and keeps the draft; THH's
application is anonymised — its page shows no title, text or document, the dashboard's figures unchanged.
A member downloads their association's data from "My association": a ZIP of their own projects.

The demo programme served on 127.0.0.1 as in tests/test_browser_reviews.py; ``live.db`` reads the database.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from codev.core.models import AuditEvent, OutboxMessage
from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.oversight.retention import RetentionNotice
from codev.projects.models import Project, ProjectStatus
from tests.browser_support import MARKS, chromium, click, demo_server, sign_in

pytestmark = MARKS

WIDTH = 360
LATRINES = "Latrines scolaires à l'EPP de Nassablé"
GARDENS = "Périmètre maraîcher irrigué des femmes de Vogan"
WIDTH_CHECK = "() => document.documentElement.scrollWidth"


def age_two_applications() -> dict:
    """The demo's idle draft and withdrawn application, as if untouched for 400 and 800 days."""
    ids = {}
    for key, title, days in (("latrines", LATRINES, 400), ("gardens", GARDENS, 800)):
        project = db.session.scalars(select(Project).where(Project.title == title)).one()
        db.session.execute(update(Project).where(Project.id == project.id)
                           .values(updated_at=utcnow() - timedelta(days=days)))
        ids[key] = project.id
    return ids


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("live-retention"), prepare=age_two_applications) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def phone(browser, base, email):
    context = browser.new_context(viewport={"width": WIDTH, "height": 780}, locale="fr-FR", java_script_enabled=False,
                                  accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, base, email)
    return context, page


def apply_retention(live) -> str:
    """What cron runs."""
    with live.db.app_context():
        result = live.db.test_cli_runner().invoke(args=["apply-retention"])
        assert result.exit_code == 0, result.output
        db.session.remove()
        return result.output


def test_notice_edit_reset_and_anonymisation(browser, live):
    assert "2 applications noticed" in apply_retention(live)
    with live.db.app_context():
        notices = {n.project_id: n.recipient for n in db.session.scalars(select(RetentionNotice))}
        assert set(notices) == {live.latrines, live.gardens}
        mail = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == notices[live.latrines])
                                  .order_by(OutboxMessage.id.desc())).first()
        assert mail.subject.startswith(f"codev : la candidature « {LATRINES} » sera anonymisée le ")
        assert "modifiez-le avant cette date" in mail.body and f"/projects/{live.latrines}" in mail.body

    context, page = phone(browser, live.url, "bruxelles@codev.demo")  # ATB's member edits the draft
    try:
        page.goto(f"{live.url}/projects/{live.latrines}")
        assert "Les données personnelles de cette candidature (titre, textes, noms, documents) seront supprimées le" \
            in page.locator("main").inner_text()
        page.goto(f"{live.url}/projects/{live.latrines}/general")
        page.fill("textarea[name=summary]", "Toujours d'actualité : les travaux commencent à la rentrée 2027.")
        click(page, page.locator("main form button[type=submit]").last)
        assert page.evaluate(WIDTH_CHECK) <= WIDTH
    finally:
        context.close()

    with live.db.app_context():
        past = utcnow() - timedelta(minutes=1)
        db.session.execute(update(RetentionNotice).values(noticed_at=past - timedelta(days=30), anonymise_after=past))
        db.session.commit()
        db.session.remove()
    output = apply_retention(live)
    assert "1 anonymised" in output and "1 notices reset (changed since)" in output
    with live.db.app_context():
        latrines, gardens = db.session.get(Project, live.latrines), db.session.get(Project, live.gardens)
        assert latrines.title == LATRINES and latrines.summary.startswith("Toujours d'actualité")
        assert (gardens.title, gardens.summary, gardens.status, gardens.sector) == (
            "—", None, ProjectStatus.WITHDRAWN, "agriculture")
        actions = {e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.actor_id.is_(None)))}
        assert {"project.retention_notice", "project.retention_reset", "project.anonymised"} <= actions

    context, page = phone(browser, live.url, "hamburg@codev.demo")  # THH's member sees what is left
    try:
        page.goto(f"{live.url}/projects/{live.gardens}")
        text = page.locator("main").inner_text()
        assert GARDENS not in text and "Aménager deux hectares" not in text
        assert "Retiré" in text and "ont été supprimées le" in text
        assert page.evaluate(WIDTH_CHECK) <= WIDTH
    finally:
        context.close()


def test_a_member_downloads_their_association_data_from_its_page(browser, live):
    context, page = phone(browser, live.url, "association@codev.demo")  # ARKF, Paris
    try:
        page.goto(f"{live.url}/associations/mine")
        assert "Les données de votre association" in page.locator("main").inner_text()
        assert page.evaluate(WIDTH_CHECK) <= WIDTH
        with page.expect_download() as info:
            page.get_by_role("link", name="Télécharger nos données (ZIP)").click()
        download = info.value
        assert download.suggested_filename.startswith("codev-association-") and download.suggested_filename.endswith(
            ".zip")
        archive = zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read()))
        profile = json.loads(archive.read("association.json"))
        assert profile["acronym"] == "ARKF"
        projects = json.loads(archive.read("projects.json"))
        assert projects and {p["title"] for p in projects}.isdisjoint({LATRINES, GARDENS})  # other associations'
    finally:
        context.close()
