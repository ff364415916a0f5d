"""The partners' read API: tokens (none, revoked, expired, out of scope), its OpenAPI document, no personal
data without contacts:read, pages by cursor and filters, odd arguments answered 400 in JSON, the rate limit,
HTTPS, and a number of SQL statements per page that does not grow with the programme."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from codev.accounts.api_tokens import ApiToken, Scope, issue_token
from codev.core.timeutil import utcnow
from tests.factories_oversight import PEOPLE, SPECS, seed_programme
from tests.sql_count import statements_of

ALL = [s.value for s in Scope]
NOT_PERSONAL = [Scope.PUBLIC_READ.value, Scope.GRANTS_READ.value]


def make_token(db, users, scopes=(Scope.PUBLIC_READ.value,), days=30) -> str:
    _token, plain = issue_token(users["admin"], partner="Agence partenaire", scopes=list(scopes),
                                expires_on=(utcnow() + timedelta(days=days)).date())
    db.session.commit()
    return plain


def get(client, url, token=None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(url, headers=headers, **kwargs)


def operations(app) -> list[tuple[str, str]]:
    """(endpoint, sample URL) of every API operation in the URL map."""
    from flask import url_for

    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith("api."):
                found.append((rule.endpoint, url_for(rule.endpoint, **{a: 1 for a in rule.arguments})))
    return sorted(found)


def scope_of(app, endpoint: str) -> str:
    from codev.core.permissions import access_rule

    return access_rule(app, endpoint).scope


def test_every_operation_refuses_no_token_a_revoked_or_expired_one_and_another_scope(app, client, db, users):
    urls = operations(app)
    assert {e for e, _u in urls} == {"api.calls", "api.projects", "api.project", "api.grants", "api.disbursements",
                                     "api.figures"}
    revoked = make_token(db, users, ALL)
    expired = make_token(db, users, ALL)
    tokens = {t.token_hash: t for t in db.session.query(ApiToken)}
    from codev.accounts.api_tokens import hash_token, revoke_token

    revoke_token(tokens[hash_token(revoked)], users["admin"])
    tokens[hash_token(expired)].expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    for endpoint, url in urls:
        for token in (None, revoked, expired, "codev_00000000_not-a-token", "garbage"):
            response = get(client, url, token)
            assert response.status_code == 401, (url, token)
            assert response.is_json and response.json["code"] == 401
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        others = [scope for scope in ALL if scope != scope_of(app, endpoint)]
        response = get(client, url, make_token(db, users, others))
        assert response.status_code == 403, url
        assert scope_of(app, endpoint) in response.json["message"]
    # A signed-in admin's session is no token.
    with client.session_transaction() as session:
        session["_user_id"] = users["admin"].get_id()
    assert client.get("/api/v1/projects").status_code == 401


def test_the_openapi_document_validates_and_matches_the_routes(app, client):
    from openapi_spec_validator import validate

    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    spec = response.json
    validate(spec)
    verbs = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item if method in verbs}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            routed |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routed
    for path, item in spec["paths"].items():
        get_op = item["get"]
        scope = scope_of(app, next(r.endpoint for r in app.url_map.iter_rules()
                                   if re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule) == path))
        assert get_op["security"] == [{"bearerAuth": [scope]}], path
        assert {"401", "403", "429"} <= set(get_op["responses"]), path
    assert "404" in spec["paths"]["/api/v1/projects/{project_id}"]["get"]["responses"]
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}


def _every_answer(client, token, programme) -> str:
    """Every operation's answer for the seeded programme, one string."""
    project_ids = [g.project_id for g in programme["grants"]]
    urls = ["/api/v1/calls", "/api/v1/projects?limit=200", "/api/v1/grants?limit=200", "/api/v1/disbursements",
            "/api/v1/figures?by=country", *(f"/api/v1/projects/{pid}" for pid in project_ids)]
    bodies = []
    for url in urls:
        response = get(client, url, token)
        if response.status_code == 403:
            continue
        assert response.status_code == 200, url
        # as the partner reads it, decoded (the JSON escapes letters outside ASCII: "\\u00e0" for "à")
        bodies.append(json.dumps(response.json, ensure_ascii=False))
    return "\n".join(bodies)


def test_no_email_or_phone_unless_the_scope_allows_it(app, client, db, users):
    programme = seed_programme()
    everyone = [(u.email, None) for u in db.session.execute(text("SELECT email FROM users"))]
    answers = _every_answer(client, make_token(db, users, NOT_PERSONAL), programme)
    assert "Projet 1 à Agou 1" in answers
    for name, email, phone in PEOPLE:
        assert email not in answers and phone not in answers and name not in answers
    for email, _none in everyone:
        assert email not in answers
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", answers), "an email address in an answer"
    with_contacts = _every_answer(client, make_token(db, users, ALL), programme)
    for name, email, phone in PEOPLE:
        assert email in with_contacts and phone in with_contacts and name in with_contacts
    for email, _none in everyone:  # the users' own emails never, whatever the scope
        assert email not in with_contacts


def _read_all(client, token, url) -> list[dict]:
    items, pages = [], 0
    while url:
        response = get(client, url, token)
        assert response.status_code == 200, response.json
        items += response.json["items"]
        url = response.json["next"]
        pages += 1
        assert pages < 100
    return items


def test_funded_projects_page_by_cursor_with_the_registers_filters(app, client, db, users):
    programme = seed_programme()
    token = make_token(db, users)
    items = _read_all(client, token, "/api/v1/projects?limit=3")
    grant_ids = sorted(g.id for g in programme["grants"])
    assert [i["grant_id"] for i in items] == grant_ids  # every funded project once, in the order of the grants
    first = next(i for i in items if i["title"] == "Projet 1 à Agou 1")
    assert (first["grant_xof"], first["paid_xof"], first["diaspora_xof"]) == (10_000_000, 3_000_000, 4_000_000)
    assert (first["region"], first["sector"], first["country"], first["status"]) == ("TG-P", "water", "FR", "funded")
    assert "contact" not in first
    page = get(client, "/api/v1/projects?limit=3", token).json
    assert len(page["items"]) == 3 and page["next_cursor"] and "cursor=" in page["next"]
    # the filters, each against the seeded specs
    region = _read_all(client, token, "/api/v1/projects?region=TG-P&limit=2")
    assert len(region) == sum(1 for spec in SPECS if spec.region == "TG-P")
    year = _read_all(client, token, "/api/v1/projects?year=2026&sector=health")
    assert len(year) == sum(1 for spec in SPECS if spec.year == 2026 and spec.sector == "health")
    call_a = programme["calls"]["A"].id
    assert len(_read_all(client, token, f"/api/v1/projects?call={call_a}")) == sum(1 for s in SPECS if s.call == "A")
    assert [i["status"] for i in _read_all(client, token, "/api/v1/projects?status=lapsed")] == ["lapsed"]
    detail = get(client, f"/api/v1/projects/{first['project_id']}", token).json
    assert [p["amount_xof"] for p in detail["payments"]] == [2_000_000, 1_000_000]
    assert get(client, "/api/v1/projects/999999", token).status_code == 404


def test_grants_disbursements_and_figures(app, client, db, users):
    programme = seed_programme()
    token = make_token(db, users, NOT_PERSONAL)
    grants = _read_all(client, token, "/api/v1/grants?limit=4")
    assert len(grants) == len(SPECS)
    cancelled = next(g for g in grants if g["grant_status"] == "cancelled")
    assert cancelled["status"] == "cancelled" and cancelled["released_xof"] == 5_000_000
    assert all(g["tranche_plan"] for g in grants)
    paid = _read_all(client, token, "/api/v1/disbursements?limit=2")
    assert sum(d["amount_xof"] for d in paid) == sum(a for spec in SPECS for _t, a in spec.paid)
    assert "bank_reference" not in paid[0]
    in_2025 = _read_all(client, token, "/api/v1/disbursements?year=2025")
    assert sum(d["amount_xof"] for d in in_2025) == sum(a for s in SPECS if s.year == 2025 for _t, a in s.paid)
    on_the_day = _read_all(client, token, "/api/v1/disbursements?since=2025-09-01&until=2025-09-01&limit=2")
    assert in_2025 and {d["id"] for d in on_the_day} == {d["id"] for d in in_2025}  # paid on 1 September
    assert _read_all(client, token, "/api/v1/disbursements?since=2025-09-02&until=2025-12-31") == []
    one = programme["grants"][0].id
    assert {d["grant_id"] for d in _read_all(client, token, f"/api/v1/disbursements?grant={one}")} == {one}
    figures = get(client, "/api/v1/figures?by=region", token).json
    assert figures["figures"]["projects_listed"] == len(SPECS)
    assert figures["figures"]["paid_xof"] == sum(a for spec in SPECS for _t, a in spec.paid)
    assert {row["key"] for row in figures["breakdown"]} == {spec.region for spec in SPECS}
    calls = _read_all(client, token, "/api/v1/calls")
    assert {c["id"] for c in calls} == {c.id for c in programme["calls"].values()}


@pytest.mark.parametrize("query", [
    "cursor=not-base64!", "cursor=eyJhZnRlciI6IC0xfQ", "cursor=" + "A" * 300, "cursor=bnVsbA",
    "limit=0", "limit=201", "limit=99999999999999999999999", "limit=abc", "limit=" + "9" * 5000,
    "region=ZZ", "sector=%00", "status=<script>", "year=abc", "year=99999", "call=-3", "call=abc",
    "call=99999999999999999999",
])
def test_odd_arguments_are_a_400_in_json(app, client, db, users, query):
    _odd_argument(client, make_token(db, users), "/api/v1/projects", query)


@pytest.mark.parametrize("query", [
    "since=2025-02-30", "since=yesterday", "until=2025-13-01", "since=0000-01-01", "until=99999-01-01",
    "since=2025-01-01T00:00:00", "until=%00", "grant=0", "year=20250",
])
def test_odd_dates_and_ids_of_disbursements_are_a_400_in_json(app, client, db, users, query):
    _odd_argument(client, make_token(db, users, ALL), "/api/v1/disbursements", query)


def _odd_argument(client, token, url, query):
    response = get(client, f"{url}?{query}", token)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.is_json and response.json["code"] == 400
    name = query.split("=")[0]
    assert name in response.json["errors"] and name in response.json["message"]


def test_unknown_addresses_and_methods_answer_in_json(app, client, db, users):
    token = make_token(db, users)
    assert get(client, "/api/v1/nothing-here", token).json["code"] == 404
    response = client.post("/api/v1/projects", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 405 and response.is_json
    assert "Page introuvable" in client.get("/no-such-page").get_data(as_text=True)  # the app's pages stay HTML


def test_each_token_has_a_rate_limit(app, client, db, users):
    app.config.update(API_RATE_LIMIT=3)
    token, other = make_token(db, users), make_token(db, users)
    assert [get(client, "/api/v1/calls", token).status_code for _ in range(3)] == [200, 200, 200]
    refused = get(client, "/api/v1/calls", token)
    assert refused.status_code == 429 and refused.is_json
    assert int(refused.headers["Retry-After"]) > 0
    assert get(client, "/api/v1/calls", other).status_code == 200  # per token


def test_https_only_where_required_and_last_use_noted(app, client, db, users):
    token = make_token(db, users)
    app.config.update(API_REQUIRE_HTTPS=True)
    assert get(client, "/api/v1/calls", token).status_code == 403
    assert get(client, "/api/v1/calls", token, base_url="https://localhost").status_code == 200
    db.session.rollback()
    assert db.session.query(ApiToken).one().last_used_at is not None


def test_the_stored_token_is_only_its_hash(app, db, users):
    import hashlib

    plain = make_token(db, users)
    row = db.session.execute(text("SELECT * FROM api_tokens")).one()._mapping
    assert plain not in json.dumps({k: str(v) for k, v in row.items()})
    assert row["token_hash"] == hashlib.sha256(plain.encode()).hexdigest()
    assert plain.startswith(f"codev_{row['prefix']}_")


def _statements(app, db, client, token, url) -> int:
    db.session.expunge_all()
    with statements_of(db.engine) as found:
        response = get(client, url, token)
    assert response.status_code == 200, url
    return len(found)


BOUNDED = ["/api/v1/calls?limit=20", "/api/v1/projects?limit=20", "/api/v1/projects?limit=20&region=TG-P",
           "/api/v1/grants?limit=20", "/api/v1/disbursements?limit=20", "/api/v1/figures?by=sector"]


@pytest.mark.backends
def test_statements_per_page_do_not_grow_with_the_data(app, client, db, users):
    app.config.update(API_RATE_LIMIT=10_000)
    token = make_token(db, users, ALL)
    seed_programme()
    small = {url: _statements(app, db, client, token, url) for url in BOUNDED}
    for _ in range(3):
        seed_programme()
    large = {url: _statements(app, db, client, token, url) for url in BOUNDED}
    assert get(client, "/api/v1/projects?limit=20", token).json["next_cursor"]  # more than a page now
    assert large == small
    assert max(small.values()) <= 8, small


ODD_REQUESTS = [
    "/api/v1/projects/99999999999999999999", "/api/v1/projects/2147483648", "/api/v1/projects/0",
    "/api/v1/projects/-1", "/api/v1/projects/abc", "/api/v1/figures?by=nothing", "/api/v1/figures?year=0",
    "/api/v1/figures?year=2026-13-45", "/api/v1/figures?call=1e9", "/api/v1/disbursements?grant=99999999999999",
    "/api/v1/disbursements?year=-1", "/api/v1/calls?status=draft", "/api/v1/calls?year=1.5",
    "/api/v1/calls?cursor=%FF%FE", "/api/v1/projects?limit=10&limit=20", "/api/v1/projects?unknown=1",
    "/api/v1/grants?cursor=eyJhZnRlciI6IDk5OTk5OTk5OTk5OTk5fQ", "/api/v1/grants?cursor=eyJhZnRlciI6dHJ1ZX0",
    "/api/v1/projects?region=%00%01", "/api/v1/projects/1/..%2f..%2fetc",
]


@pytest.mark.backends
def test_no_500_on_odd_requests_and_every_error_in_json(app, client, db, users):
    seed_programme()
    token = make_token(db, users, ALL)
    app.config.update(API_RATE_LIMIT=10_000)
    for url in ODD_REQUESTS:
        response = get(client, url, token)
        assert response.status_code in (200, 400, 404), (url, response.status_code)
        assert response.is_json, url
        if response.status_code != 200:
            assert response.json["code"] == response.status_code and response.json["message"], url
    # odd Authorization headers: 401, never a 500
    for header in ("Bearer", "Bearer " + "x" * 10_000, "Basic dXNlcjpwYXNz", "Bearer codev_é_ü", "bearer  "):
        response = client.get("/api/v1/projects", headers={"Authorization": header})
        assert response.status_code == 401 and response.is_json, header


def test_the_next_page_neither_repeats_nor_skips_a_row_when_grants_are_added_meanwhile(app, client, db, users):
    first_programme = seed_programme()
    token = make_token(db, users)
    page = get(client, "/api/v1/projects?limit=3", token).json
    seen = [item["grant_id"] for item in page["items"]]
    second_programme = seed_programme()  # new grants, later ids, while the partner reads
    url = page["next"]
    assert "cursor=" in url and "limit=3" in url
    seen += [item["grant_id"] for item in _read_all(client, token, url)]
    everything = sorted(g.id for g in [*first_programme["grants"], *second_programme["grants"]])
    assert seen == everything  # each once, in order: the new ones come at the end
    # the same cursor read twice gives the same page
    again = get(client, url, token).json
    assert [i["grant_id"] for i in again["items"]] == seen[3:6]
