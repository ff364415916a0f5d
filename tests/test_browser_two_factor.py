"""Browser test of two-factor sign-in (issue 14's "done when"): on a phone 360 px wide, without JavaScript, an
approver whose second factor was reset signs in, reaches nothing but enrolment, enrols an authenticator app from
the page's key, keeps the recovery codes, then approves a grant, the confirm step asking for the code again
(step-up): a wrong code is refused in French, the right one approves. Chromium against the demo on 127.0.0.1."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import delete, func, select

from codev.accounts.models import User
from codev.accounts.two_factor.models import RecoveryCode, SecondFactor
from codev.core.models import AuditEvent
from codev.extensions import db
from codev.grants.models import Grant
from tests.browser_support import MARKS, chromium, click, demo_server, sign_in, totp_code
from tests.test_browser_grants import _awaiting_grant

pytestmark = MARKS

APPROVER = "ordonnateur@codev.demo"
WIDTH = 360


def _reset_and_wait() -> dict:
    """The demo approver's second factor removed (a lost phone), and a project awaiting its grant."""
    facts = _awaiting_grant()
    approver = db.session.scalar(select(User).where(User.email == APPROVER))
    db.session.execute(delete(SecondFactor).where(SecondFactor.user_id == approver.id))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == approver.id))
    return {**facts, "approver_id": approver.id}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("live-two-factor"), _reset_and_wait) as live:
        yield live


def fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, page.url


def test_an_approver_enrols_on_a_phone_and_approves_a_grant_with_step_up(live):
    with chromium() as browser:
        context = browser.new_context(viewport={"width": WIDTH, "height": 740}, locale="fr-FR",
                                      java_script_enabled=False)
        context.set_default_timeout(10_000)
        page = context.new_page()
        sign_in(page, live.url, APPROVER)
        assert page.url == f"{live.url}/account/two-factor/enrol"
        page.goto(f"{live.url}/grants/approve/{live.project_id}")  # nothing else opens before enrolment
        assert page.url == f"{live.url}/account/two-factor/enrol"
        assert page.inner_text("h1") == "Configurer la connexion en deux étapes"
        qr = page.locator("figure.qr svg")
        assert qr.is_visible() and qr.bounding_box()["width"] <= WIDTH
        fits(page)

        secret = page.inner_text("#totp-secret").replace(" ", "")
        page.fill("input[name=code]", "000000")
        click(page, page.get_by_role("button", name="Activer la connexion en deux étapes"))
        assert "Ce code est faux" in page.inner_text("form:has(input[name=code])")
        assert page.input_value("input[name=code]") == "000000"  # what was typed is kept
        page.fill("input[name=code]", pyotp.TOTP(secret).now())
        click(page, page.get_by_role("button", name="Activer la connexion en deux étapes"))
        assert page.inner_text("h1") == "Vos codes de secours"
        codes = page.locator("#recovery-codes li").all_inner_texts()
        assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", c) for c in codes)
        fits(page)
        click(page, page.get_by_role("link", name="Je les ai gardés ; continuer"))

        page.goto(f"{live.url}/grants/approve/{live.project_id}")
        assert page.inner_text("h1") == "Approuver la subvention"
        click(page, page.get_by_role("button", name="Approuver et émettre la lettre"))
        assert "Cette action est irréversible." in page.inner_text(".confirm-step")
        assert page.is_visible("input[name=step_up_code]")
        fits(page)
        page.fill("input[name=step_up_code]", "123456")
        click(page, page.get_by_role("button", name="Oui, approuver la subvention"))
        assert "Ce code est faux" in page.inner_text(".confirm-step")
        assert page.input_value("input[name=step_up_code]") == ""  # a code is never sent back
        with live.db.app_context():
            assert db.session.scalar(select(func.count(Grant.id)).where(Grant.project_id == live.project_id)) == 0

        page.fill("input[name=step_up_code]", totp_code(live.url, APPROVER, secret))
        click(page, page.get_by_role("button", name="Oui, approuver la subvention"))
        assert re.search(r"/grants/\d+$", page.url) and page.inner_text("h1") == live.title
        fits(page)
        context.close()

    with live.db.app_context():
        grant = db.session.scalar(select(Grant).where(Grant.project_id == live.project_id))
        assert grant is not None and grant.approved_by_id == live.approver_id
        factor = db.session.get(SecondFactor, live.approver_id)
        assert factor.enabled_at is not None
        steps = db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == live.approver_id,
                                                                   AuditEvent.action.like("two_factor.%"))).all()
        assert {"two_factor.enable", "two_factor.failed", "two_factor.step_up"} <= set(steps)
