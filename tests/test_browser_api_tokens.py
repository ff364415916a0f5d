"""In Chromium, on a phone without JavaScript: the admin issues a partner's token, sees it once, the partner
reads the funded projects with it, the list never shows it again, and after the revocation it reads nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from codev.accounts.api_tokens import ApiToken
from codev.core.models import AuditEvent
from codev.extensions import db
from tests.browser_support import MARKS, chromium, click, demo_server, sign_in

pytestmark = MARKS

WIDTH = 360
WIDTH_CHECK = "() => document.documentElement.scrollWidth"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("live-api-tokens")) as live:
        yield live


def test_an_admin_issues_a_token_sees_it_once_and_revokes_it(live):
    with chromium() as browser:
        context = browser.new_context(viewport={"width": WIDTH, "height": 780}, locale="fr-FR",
                                      java_script_enabled=False)
        context.set_default_timeout(10_000)
        page = context.new_page()
        sign_in(page, live.url, "admin@codev.demo")
        page.goto(f"{live.url}/admin/api-tokens")
        assert page.get_by_role("heading", name="Jetons d'API des partenaires").is_visible()
        assert page.evaluate(WIDTH_CHECK) <= WIDTH
        click(page, page.get_by_role("link", name="Émettre un jeton"))
        assert page.evaluate(WIDTH_CHECK) <= WIDTH
        # A refused form first: no partner named; what was ticked stays ticked, the fix said in French.
        page.get_by_label("grants:read", exact=False).check()
        click(page, page.get_by_role("button", name="Émettre le jeton"))
        assert page.get_by_label("grants:read", exact=False).is_checked()
        page.fill("input[name=partner]", "Agence française de développement — Lomé")
        click(page, page.get_by_role("button", name="Émettre le jeton"))
        assert page.get_by_text("Copiez-le maintenant").is_visible()
        plain = page.input_value("#token")
        assert re.fullmatch(r"codev_[0-9a-f]{8}_[A-Za-z0-9_-]{40,}", plain)
        assert page.evaluate(WIDTH_CHECK) <= WIDTH

        answer = context.request.get(f"{live.url}/api/v1/projects?limit=2",
                                     headers={"Authorization": f"Bearer {plain}"})
        assert answer.status == 200
        body = answer.json()
        assert body["items"] and len(body["items"]) <= 2 and "contact" not in body["items"][0]
        grants = context.request.get(f"{live.url}/api/v1/grants", headers={"Authorization": f"Bearer {plain}"})
        assert grants.status == 200

        page.goto(f"{live.url}/admin/api-tokens")
        listed = page.content()
        assert "Agence française de développement — Lomé" in listed and plain not in listed
        assert plain[:15] in listed  # its prefix, to tell it apart
        assert page.evaluate(WIDTH_CHECK) <= WIDTH
        click(page, page.get_by_role("button", name="Révoquer"))
        assert page.get_by_text("Un jeton révoqué ne peut plus être utilisé.").is_visible()
        click(page, page.get_by_role("button", name="Oui, révoquer le jeton"))
        assert page.get_by_text("Révoqué le").first.is_visible()
        refused = context.request.get(f"{live.url}/api/v1/projects", headers={"Authorization": f"Bearer {plain}"})
        assert refused.status == 401
        context.close()

    with live.db.app_context():
        token = db.session.scalars(select(ApiToken)).one()
        assert token.revoked_at is not None and plain not in token.token_hash
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "api_tokens")
                                     .order_by(AuditEvent.id)).all()
        assert actions == ["api_token.issue", "api_token.revoke"]
