"""The whole URL map, walked for anonymous visitors and for every role.

Each endpoint declares its rule (public, signed-in, a set of roles, or an API token's scope). Anonymous
visitors of a non-public endpoint are sent to the login page; a signed-in user without the role gets 403; a
user with the role gets the page (or a 404 for an object that is not theirs, or a form error) but never a
500. An API endpoint answers 401 to everybody without a token, a signed-in session included.
An endpoint without a rule fails the first test, so a new route cannot escape the matrix.
"""

from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from codev.accounts.models import Role
from codev.core.permissions import PUBLIC, SIGNED_IN, ApiTokenRule, access_rule
from tests import factories

ROLES = [r.value for r in Role]
# The readiness probe's 503 is an answer, not an error: these tests' database is made by create_all, not by
# the migrations, so it is "not at head" (tests/test_observability.py reads /readyz on a migrated one).
PROBE = "/readyz"


def failed(url: str, status: int) -> bool:
    """A 5xx that is an error (the readiness probe's 503 is not)."""
    return status >= 500 and not (url.split("?")[0] == PROBE and status == 503)


def endpoints(app):
    return sorted({rule.endpoint for rule in app.url_map.iter_rules()})


def test_every_endpoint_declares_an_access_rule(app):
    missing = [e for e in endpoints(app) if access_rule(app, e) is None]
    assert missing == [], f"endpoints without an access rule: {missing}"


def test_rules_name_only_known_roles(app):
    for endpoint in endpoints(app):
        rule = access_rule(app, endpoint)
        if isinstance(rule, frozenset):
            assert rule and rule <= set(ROLES), endpoint
        elif isinstance(rule, ApiTokenRule):
            from codev.accounts.api_tokens import Scope

            assert rule.scope in set(Scope), endpoint


def sample_urls(app, ids):
    """One concrete URL per rule and method, with ids of objects that exist."""
    from flask import url_for

    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            values = {}
            for arg in rule.arguments:
                numeric = isinstance(rule._converters[arg], IntegerConverter)
                values[arg] = ids.get(arg, 1) if numeric else "sample-token"
            url = url_for(rule.endpoint, **values)
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                urls.append((rule.endpoint, method, url))
    return urls


@pytest.fixture
def world(db, users):
    """Objects for URL arguments: another association, a structure, a user."""
    other = factories.AssociationFactory(verified=True)
    structure = factories.PartnerStructureFactory()
    db.session.commit()
    return {
        "association_id": other.id,
        "structure_id": structure.id,
        "user_id": users["officer"].id,
        "id": 1,
    }


def request(client, method, url):
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data={})


@pytest.mark.parametrize("who", ["anonymous", *ROLES])
def test_walk_url_map(app, client, db, users, world, login_as, who):
    from codev.accounts.models import User

    problems = []
    for endpoint, method, url in sample_urls(app, world):
        rule = access_rule(app, endpoint)
        if who != "anonymous":
            user = db.session.get(User, users[who].id)
            db.session.refresh(user)
            if not user.active:  # a walked admin form may not deactivate; guard anyway
                user.active = True
            login_as(user)
        else:
            client.delete_cookie("session", domain="localhost")
        response = request(client, method, url)
        status = response.status_code
        location = response.headers.get("Location", "")
        # The access hook sends anonymous visitors to the login page with ?next= (logout's own
        # redirect to the login page has none).
        to_login = status == 302 and "/account/login?next=" in location
        if failed(url, status):
            problems.append(f"{method} {url} [{endpoint}] → {status}")
        elif rule == PUBLIC:
            if status == 403:
                problems.append(f"{method} {url} public but 403")
        elif isinstance(rule, ApiTokenRule):
            if status != 401:
                problems.append(f"{method} {url} [{endpoint}] API without a token → {status}, not 401")
        elif who == "anonymous":
            if not to_login:
                problems.append(f"{method} {url} [{endpoint}] anonymous → {status}, not the login page")
        elif rule == SIGNED_IN or who in rule:
            if to_login or status == 403:
                problems.append(f"{method} {url} [{endpoint}] allowed to {who} but → {status}")
        elif status != 403:
            problems.append(f"{method} {url} [{endpoint}] refused to {who} but → {status}")
    assert problems == [], "\n".join(problems)


ODD_QUERY = (
    "?page=-3&status=%3Cscript%3E&call=abc&region=ZZ&sector=%00&country=xx&q=%27%22%3E&need=x&role=nope"
    "&active=maybe&lang=zz&action=%25&actor=%00&commune=Nowhere&prefecture=%3C&next=//evil"
)


@pytest.mark.backends
@pytest.mark.parametrize("who", ["anonymous", *ROLES])
def test_odd_query_strings_never_give_a_500(app, client, db, users, world, login_as, who, backend):
    """Filters, pages and choosers given nonsense (markup, NUL, negative pages) answer without an error."""
    from codev.accounts.models import User

    broken = []
    for _endpoint, method, url in sample_urls(app, world):
        if method != "GET":
            continue
        if who != "anonymous":
            login_as(db.session.get(User, users[who].id))
        status = client.get(url + ODD_QUERY).status_code
        if failed(url, status):
            broken.append(f"{url} → {status}")
    assert broken == []


HUGE_IDS = (2**31, 2**63, 10**20)


def huge_id_urls(app, huge):
    """Every rule that takes an id, with every id set to ``huge``."""
    from flask import url_for

    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            ints = [a for a in rule.arguments if isinstance(rule._converters[a], IntegerConverter)]
            if not ints:
                continue
            values = {a: huge if a in ints else "sample-token" for a in rule.arguments}
            url = url_for(rule.endpoint, **values)
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                urls.append((rule.endpoint, method, url))
    return urls


def test_every_id_argument_is_bounded_to_the_database_range(app):
    """A route cannot take an unbounded <int:…>: the app's converter replaces Werkzeug's."""
    from codev.core.params import DB_INT_MAX, IdConverter

    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if isinstance(converter, IntegerConverter) or converter.regex == r"\d+":
                assert isinstance(converter, IdConverter), (rule.rule, name)
                assert converter.max == DB_INT_MAX and converter.min == 1


@pytest.mark.backends
@pytest.mark.parametrize("who", ["anonymous", *ROLES])
def test_ids_outside_the_database_range_are_not_found(app, client, db, users, login_as, who, backend):
    """/calls/99999999999999999999 and its like, for every route, method and role: 404, never a 500."""
    from codev.accounts.models import User

    if who != "anonymous":
        login_as(db.session.get(User, users[who].id))
    wrong = []
    for huge in HUGE_IDS:
        for endpoint, method, url in huge_id_urls(app, huge):
            status = request(client, method, url).status_code
            if status != 404:
                wrong.append(f"{method} {url} [{endpoint}] → {status}")
    assert wrong == []
    # Still the friendly page, in French (the default language).
    page = client.get("/calls/99999999999999999999")
    assert page.status_code == 404 and "Page introuvable" in page.get_data(as_text=True)


HUGE_PAGES = ("9223372036854775807", "99999999999999999999999", "1000001")


@pytest.mark.backends
@pytest.mark.parametrize("who", ["anonymous", *ROLES])
def test_huge_page_numbers_show_the_last_page(app, client, db, users, world, login_as, who, backend):
    """Every GET page given ?page= far past the end answers as it does without it (no 500)."""
    from codev.accounts.models import User

    if who != "anonymous":
        login_as(db.session.get(User, users[who].id))
    wrong = []
    for _endpoint, method, url in sample_urls(app, world):
        if method != "GET" or "/logout" in url:
            continue
        plain = client.get(url).status_code
        for huge in HUGE_PAGES:
            joiner = "&" if "?" in url else "?"
            status = client.get(f"{url}{joiner}page={huge}&call={huge}&call_id={huge}&structure={huge}").status_code
            if failed(url, status) or status != plain:
                wrong.append(f"{url}?page={huge} → {status} (without: {plain})")
    assert wrong == []
