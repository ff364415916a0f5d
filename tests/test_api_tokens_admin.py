"""The admin's pages for the partners' API tokens: issue one (shown once, only its hash kept), list them, revoke
one after the confirm step; each audited; refused forms keep what was typed; other roles get 403; the list
reads a fixed number of SQL statements; the pages in French."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from codev.accounts.api_tokens import ApiToken, Scope, issue_token
from codev.core.models import AuditEvent
from codev.core.timeutil import utcnow
from tests.confirm_support import confirmed
from tests.factories_admin import english
from tests.sql_count import statements_of

TOKEN_RE = re.compile(r"codev_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}")


def _in_a_year() -> str:
    return (utcnow() + timedelta(days=365)).date().isoformat()


def _issue(client, **data):
    form = {"partner": "AFD — bureau de Lomé", "scopes": [Scope.PUBLIC_READ.value, Scope.GRANTS_READ.value],
            "expires_on": _in_a_year(), **data}
    return client.post("/admin/api-tokens/new", data=form)


def test_an_admin_issues_a_token_shown_once_and_kept_as_its_hash(client, db, users, login_as):
    english(users["admin"])
    login_as(users["admin"])
    form = client.get("/admin/api-tokens/new")
    assert form.status_code == 200 and "contacts:read" in form.get_data(as_text=True)
    response = _issue(client)
    assert response.status_code == 201  # created, shown on this answer only
    page = response.get_data(as_text=True)
    shown = TOKEN_RE.findall(page)
    assert shown, page
    plain = shown[0]
    assert "shown only this once" in page
    token = db.session.scalars(select(ApiToken)).one()
    assert token.partner == "AFD — bureau de Lomé"
    assert token.scope_set == {"public:read", "grants:read"}
    assert token.token_hash == hashlib.sha256(plain.encode()).hexdigest() and plain not in token.token_hash
    assert token.created_by_id == users["admin"].id
    event_ = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api_token.issue")).one()
    assert (event_.actor_id, event_.object_id) == (users["admin"].id, token.id)
    assert plain not in str(event_.after) and event_.after["prefix"] == token.prefix
    # The list names the token by its prefix, never the token itself; the partner reads with it.
    listed = client.get("/admin/api-tokens").get_data(as_text=True)
    assert "AFD — bureau de Lomé" in listed and f"codev_{token.prefix}_…" in listed
    assert plain not in listed and not TOKEN_RE.search(listed)
    read = client.get("/api/v1/projects", headers={"Authorization": f"Bearer {plain}"})
    assert read.status_code == 200 and read.json["items"] == []


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"scopes": []}, "scopes", "This field is required"),
    ({"partner": "  "}, "partner", "This field is required"),
    ({"expires_on": "2020-01-01"}, "expires_on", "The expiry date must be after today."),
    ({"expires_on": "2999-01-01"}, "expires_on", "A token lives two years at most"),
    ({"expires_on": "not a date"}, "expires_on", "date"),
    ({"scopes": ["root:write"]}, "scopes", "valid choice"),
])
def test_a_refused_form_keeps_what_was_typed_and_says_what_to_fix(client, db, users, login_as, data, field, message):
    english(users["admin"])
    login_as(users["admin"])
    response = _issue(client, **{"partner": "Banque mondiale", **data})
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page
    assert message.lower() in page.lower()
    if field != "partner":
        assert 'value="Banque mondiale"' in page
    assert db.session.scalars(select(ApiToken)).all() == []
    assert not TOKEN_RE.search(page)


def test_revoking_asks_first_then_the_token_is_refused_and_the_revocation_audited(client, db, users, login_as):
    english(users["admin"])
    token, plain = issue_token(users["admin"], partner="Ministry dashboard", scopes=["public:read"],
                               expires_on=(utcnow() + timedelta(days=30)).date())
    db.session.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/v1/calls", headers=headers).status_code == 200
    login_as(users["admin"])
    url = f"/admin/api-tokens/{token.id}/revoke"
    ask = client.post(url, data={})
    assert ask.status_code == 200 and "A revoked token cannot be used again." in ask.get_data(as_text=True)
    db.session.refresh(token)
    assert token.revoked_at is None
    done = client.post(url, data=confirmed(), follow_redirects=True)
    assert done.status_code == 200 and "The token of Ministry dashboard is revoked." in done.get_data(as_text=True)
    db.session.refresh(token)
    assert token.revoked_at is not None and token.revoked_by_id == users["admin"].id
    assert "Revoked" in done.get_data(as_text=True)
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == token.id,
                                                               AuditEvent.object_type == "api_tokens")).all() \
        == ["api_token.issue", "api_token.revoke"]
    assert client.get("/api/v1/calls", headers=headers).status_code == 401
    again = client.post(url, data=confirmed(), follow_redirects=True)
    assert again.status_code == 200 and "already revoked" in again.get_data(as_text=True)
    assert client.post("/admin/api-tokens/99999999999/revoke", data=confirmed()).status_code == 404


@pytest.mark.parametrize("role", ["association", "evaluator", "officer", "approver"])
def test_other_roles_get_403(client, db, users, login_as, role):
    token, _plain = issue_token(users["admin"], partner="P", scopes=["public:read"],
                                expires_on=(utcnow() + timedelta(days=30)).date())
    db.session.commit()
    login_as(users[role])
    assert client.get("/admin/api-tokens").status_code == 403
    assert client.get("/admin/api-tokens/new").status_code == 403
    assert _issue(client).status_code == 403
    assert client.post(f"/admin/api-tokens/{token.id}/revoke", data=confirmed()).status_code == 403
    db.session.refresh(token)
    assert token.revoked_at is None and db.session.scalars(select(ApiToken)).all() == [token]


def _statements(db, client, url) -> int:
    client.get(url)
    db.session.expunge_all()
    with statements_of(db.engine) as found:
        assert client.get(url).status_code == 200
    return len(found)


def _tokens(db, users, count: int) -> None:
    for i in range(count):
        token, _plain = issue_token(users["admin"] if i % 2 else users["officer"], partner=f"Partner {i}",
                                    scopes=["public:read"], expires_on=(utcnow() + timedelta(days=30)).date())
        if i % 3 == 0:
            token.revoked_at, token.revoked_by_id = utcnow(), users["admin"].id
    db.session.commit()


@pytest.mark.backends
def test_the_list_reads_a_fixed_number_of_statements(client, db, users, login_as):
    login_as(users["admin"])
    _tokens(db, users, 4)
    few = _statements(db, client, "/admin/api-tokens")
    _tokens(db, users, 40)
    many = _statements(db, client, "/admin/api-tokens")
    assert few == many, (few, many)


def test_the_pages_speak_french(client, db, users, login_as):
    users["admin"].locale = "fr"
    login_as(users["admin"])
    listed = html.unescape(client.get("/admin/api-tokens").get_data(as_text=True))
    assert "Jetons d'API des partenaires" in listed and "Aucun jeton émis pour l'instant." in listed
    form = html.unescape(client.get("/admin/api-tokens/new").get_data(as_text=True))
    assert "Émettre un jeton" in form and "Valable jusqu'au" in form
    issued = _issue(client).get_data(as_text=True)
    assert "Copiez-le maintenant" in issued
