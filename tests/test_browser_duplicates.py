"""Browser paths of duplicate detection, on a phone without JavaScript: a member registers their association a
second time (the name without its accents), the officer sees the flag on the list to verify, opens it, reads why
and merges it into the first one after the confirm step; at screening, an application sent twice to a call is
flagged beside its twin.

The demo programme served on 127.0.0.1 as in tests/test_browser_reviews.py; ``live.db`` reads the database.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import select

from codev.accounts.models import Association, AssociationStatus, User
from codev.core.models import AuditEvent
from codev.extensions import db
from codev.projects.models import Project, ProjectStatus
from tests.browser_support import MARKS, chromium, click, demo_server, sign_in

pytestmark = MARKS

WIDTH = 360
SECOND_NAME = "Association des ressortissants de Kpalime en France"  # ARKF's name, accents left out
WIDTH_CHECK = "() => document.documentElement.scrollWidth"


def twin_application() -> dict:
    """The demo health post (TDAM's, submitted) sent a second time by ARKF: same call, commune and sector."""
    from tests.factories_projects import ProjectFactory

    health_post = db.session.scalars(select(Project).where(Project.title.like("Case de santé%"))).one()
    arkf = db.session.scalars(select(Association).where(Association.acronym == "ARKF")).one()
    twin = ProjectFactory(call=health_post.call, association=arkf, commune=health_post.commune,
                          sector=health_post.sector, title="Case de sante de Lama Tessi",
                          status=ProjectStatus.SUBMITTED, reference="CODEV-2026-0990")
    db.session.flush()
    return {"health_post": health_post.id, "health_post_reference": health_post.reference, "twin": twin.id}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("live-duplicates"), prepare=twin_application) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@contextmanager
def on_a_phone(browser):
    """A page of a person's own browser: a phone's screen, French, no JavaScript."""
    context = browser.new_context(viewport={"width": WIDTH, "height": 780}, locale="fr-FR", java_script_enabled=False)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def submit(page, label):
    click(page, page.get_by_role("button", name=label, exact=True))


def test_a_second_registration_is_flagged_and_merged_by_the_officer(browser, live):
    with on_a_phone(browser) as page:
        register_again(page, live)
    with live.db.app_context():
        second = db.session.scalars(select(Association).where(Association.name == SECOND_NAME)).one()
        arkf = db.session.scalars(select(Association).where(Association.acronym == "ARKF")).one()
        second_id, arkf_id = second.id, arkf.id
        assert second.status == AssociationStatus.PENDING
    with on_a_phone(browser) as page:
        merge_as_officer(page, live, second_id, arkf_id)
    with live.db.app_context():
        assert db.session.get(Association, second_id).status == AssociationStatus.REJECTED
        member = db.session.scalars(select(User).where(User.email == "kodjo.amavi@example.org")).one()
        assert member.association_id == arkf_id
        actions = set(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.object_type == "associations", AuditEvent.object_id == second_id)))
        assert {"association.register", "association.duplicates_found", "association.merge"} <= actions


def register_again(page, live):
    page.goto(f"{live.url}/associations/signup")
    page.fill("input[name=name]", SECOND_NAME)
    page.select_option("select[name=country]", "FR")
    page.fill("input[name=city]", "Lyon")
    page.locator("input[name=domains]").first.check()
    page.fill("input[name=full_name]", "Kodjo Amavi")
    page.fill("input[name=email]", "kodjo.amavi@example.org")
    page.fill("input[name=password]", "un mot de passe assez long")
    page.fill("input[name=confirm]", "un mot de passe assez long")
    page.check("input[name=accept]")
    click(page, page.locator("main form button[type=submit]").last)
    assert "/associations/" in page.url and "signup" not in page.url, page.locator("main").inner_text()


def merge_as_officer(page, live, second_id, arkf_id):
    sign_in(page, live.url, "agent@codev.demo")
    page.goto(f"{live.url}/associations/pending")
    row = page.locator("main tr", has_text=SECOND_NAME)
    flag = row.get_by_role("link", name="1 doublon possible")
    assert flag.is_visible()
    click(page, flag)
    assert page.url.endswith(f"/associations/{second_id}#duplicates")
    found = page.locator("#duplicates li.duplicate")
    assert found.count() == 1
    assert "ARKF" in found.inner_text() and "mots courants mis à part" in found.inner_text()  # the same name
    assert page.evaluate(WIDTH_CHECK) <= WIDTH

    submit(page, "Fusionner cette association dans celle-ci")
    assert page.locator(".confirm-step").is_visible()  # nothing happens before the confirm step
    with live.db.app_context():
        assert db.session.get(Association, second_id).status == AssociationStatus.PENDING
    click(page, page.locator(".confirm-form button[type=submit]"))
    assert page.url.endswith(f"/associations/{arkf_id}")
    assert "fusionnée" in page.locator(".flash").first.inner_text()


def test_an_application_sent_twice_is_flagged_at_screening(browser, live):
    with on_a_phone(browser) as page:
        screen_the_twin(page, live)


def screen_the_twin(page, live):
    sign_in(page, live.url, "agent@codev.demo")
    page.goto(f"{live.url}/reviews/projects/{live.twin}/screen")
    flag = page.locator("#similar")
    assert flag.is_visible()
    assert "1 autre candidature de cet appel ressemble à celle-ci" in flag.inner_text()
    assert "même commune et même secteur, titre semblable" in flag.inner_text()
    assert page.evaluate(WIDTH_CHECK) <= WIDTH
    click(page, flag.get_by_role("link").first)
    assert page.url.endswith(f"/reviews/projects/{live.health_post}")
    assert live.health_post_reference in page.locator("main").inner_text()
