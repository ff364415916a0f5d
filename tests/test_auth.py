"""Sign-in, sign-out, sessions, throttling, timing, password reset and change, language, open redirects."""

from __future__ import annotations

import re
import statistics
import time

import pytest

from codev.accounts.models import User
from codev.core.models import AuditEvent, LoginAttempt
from tests.factories import PASSWORD, UserFactory
from tests.two_factor_support import complete_sign_in


def login(client, email, password, **extra):
    """Sign in with the form; an account with a second factor types its code next (tests/two_factor_support.py)."""
    return complete_sign_in(client, client.post("/account/login", data={"email": email, "password": password,
                                                                         **extra}))


def test_login_success_lands_on_home_for_the_role(client, users):
    users["officer"].locale = "en"
    response = login(client, "OFFICER@ministry.example.tg ", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Programme officer" in page and users["officer"].name in page


def test_wrong_password_says_so_and_keeps_the_email(client, users, db):
    users["officer"].locale = "en"
    db.session.commit()
    response = client.post(
        "/account/login",
        data={"email": "officer@ministry.example.tg", "password": "wrong password"},
        headers={"Accept-Language": "en"},
    )
    page = response.get_data(as_text=True)
    assert "Wrong email or password." in page
    assert 'value="officer@ministry.example.tg"' in page
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "login.failed"))


def test_french_is_the_default_language(client):
    page = client.get("/account/login").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Se connecter" in page


def test_old_cookie_refused_after_logout(client, users, app):
    login(client, users["approver"].email, PASSWORD)
    cookie = client.get_cookie("session").value
    assert client.get("/account/profile").status_code == 200
    client.post("/account/logout")
    thief = app.test_client()
    thief.set_cookie("session", cookie, domain="localhost")
    response = thief.get("/account/profile")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_password_change_ends_other_sessions(client, users, app, db):
    other_device = app.test_client()
    login(other_device, users["admin"].email, PASSWORD)
    login(client, users["admin"].email, PASSWORD)
    new = "a brand new passphrase"
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": new, "confirm": new},
    )
    assert response.status_code == 302
    assert client.get("/account/profile").status_code == 200  # this session goes on
    assert other_device.get("/account/profile").status_code == 302  # the other one ended
    assert login(app.test_client(), users["admin"].email, new).status_code == 302


def test_password_change_refuses_wrong_current_password(client, users, login_as, db):
    user = login_as(users["admin"])
    before = user.password_hash
    response = client.post(
        "/account/password",
        data={"current_password": "not it at all", "password": "x" * 12 + "yz", "confirm": "x" * 12 + "yz"},
    )
    assert response.status_code == 400
    db.session.refresh(user)
    assert user.password_hash == before


def test_throttling_after_repeated_failures(client, users, app, db):
    email = users["officer"].email
    limit = app.config["LOGIN_MAX_FAILURES_PER_EMAIL"]
    for _ in range(limit):
        assert login(client, email, "bad password!").status_code == 200
    response = login(client, email, PASSWORD)  # even the right password is refused now
    assert response.status_code == 429
    assert db.session.scalar(db.select(db.func.count(LoginAttempt.id))) == limit
    # The count lives in the database: a second worker (another app) sees it too.
    from codev import create_app

    other = create_app(dict(app.config))
    with other.app_context():
        assert login(other.test_client(), email, PASSWORD).status_code == 429


def test_throttling_counts_per_address(client, users, app, db):
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 3
    for n in range(3):
        login(client, f"nobody{n}@example.org", "whatever pass")
    assert login(client, users["officer"].email, PASSWORD).status_code == 429


def test_a_wrong_password_takes_as_long_whether_the_account_exists_or_not(client, app, db):
    """Unknown and inactive emails are checked against a dummy hash of the configured (costly) method."""
    from codev.accounts.passwords import hash_password

    app.config.update(PASSWORD_HASH_METHOD="pbkdf2:sha256:200000", LOGIN_MAX_FAILURES_PER_EMAIL=100,
                      LOGIN_MAX_FAILURES_PER_IP=100)
    real = UserFactory(officer=True, password_hash=hash_password(PASSWORD))
    inactive = UserFactory(officer=True, active=False, password_hash=hash_password(PASSWORD))
    db.session.commit()
    emails = {"real": real.email, "unknown": "nobody-at-all@example.org", "inactive": inactive.email}
    login(client, "warm@example.org", "wrong password")  # the dummy hash is made once per process
    times = {kind: [] for kind in emails}
    for _ in range(15):  # interleaved, so that a busy moment of the machine weighs on every kind alike
        for kind, email in emails.items():
            started = time.perf_counter()
            assert login(client, email, "wrong password").status_code == 200
            times[kind].append(time.perf_counter() - started)
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    for kind in ("unknown", "inactive"):
        assert 0.5 < medians[kind] / medians["real"] < 2, medians


def test_inactive_user_cannot_sign_in(client, db):
    user = UserFactory(officer=True, active=False)
    db.session.commit()
    assert login(client, user.email, PASSWORD).status_code == 200


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/account/profile", "/account/profile"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_is_checked_against_open_redirects(client, users, target, expected):
    response = login(client, users["officer"].email, PASSWORD, next=target)
    assert response.headers["Location"] == expected


def test_password_reset_flow(client, users, outbox, db):
    user = users["association"]
    user.locale = "en"
    db.session.commit()
    response = client.post("/account/reset", data={"email": user.email.upper()})
    assert response.status_code == 302
    [message] = outbox(user.email)
    assert message.locale == "en" and "reset your password" in message.subject
    link = re.search(r"http://localhost(/account/reset/\S+)", message.body).group(1)
    new = "my new long passphrase"
    assert client.post(link, data={"password": new, "confirm": "different one!!"}).status_code == 200
    assert client.post(link, data={"password": new, "confirm": new}).status_code == 302
    assert login(client, user.email, new).status_code == 302
    client.post("/account/logout")
    # The link works once.
    response = client.get(link)
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/reset")


def test_reset_for_unknown_email_reveals_nothing(client, outbox):
    response = client.post("/account/reset", data={"email": "nobody@example.org"})
    assert response.status_code == 302
    assert outbox() == []


def test_tampered_reset_token_refused(client):
    response = client.get("/account/reset/not-a-real-token")
    assert response.status_code == 302


def test_password_hash_method_is_explicit(app):
    from codev import create_app
    from codev.accounts.passwords import hash_password

    production_like = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "ENV_NAME": "test"})
    assert production_like.config["PASSWORD_HASH_METHOD"] == "pbkdf2:sha256:600000"
    with production_like.app_context():
        assert hash_password("some long passphrase").startswith("pbkdf2:sha256:600000$")


@pytest.mark.parametrize(
    "password, ok",
    [
        ("short pw!", False),
        ("ten chars!", True),
        ("x" * 128 + "y", False),
        ("abcdefgh" * 16, True),
        ("1111111111", False),
    ],
)
def test_password_rules(app, password, ok):
    from codev.accounts.passwords import password_problem

    with app.test_request_context():
        assert (password_problem(password) is None) is ok


def test_language_switch_is_remembered_on_the_account(client, users, login_as, db):
    user = login_as(users["officer"])
    response = client.post("/account/language", data={"lang": "en", "next": "/account/profile"})
    assert response.headers["Location"] == "/account/profile"
    assert db.session.get(User, user.id).locale == "en"
    assert "My profile" in client.get("/account/profile").get_data(as_text=True)


def test_anonymous_language_switch_uses_the_session(client):
    client.post("/account/language", data={"lang": "en"})
    assert "Sign in" in client.get("/account/login").get_data(as_text=True)
    client.post("/account/language", data={"lang": "xx"})  # unknown: ignored
    assert '<html lang="en">' in client.get("/account/login").get_data(as_text=True)


def test_account_setup_links_last_longer_than_reset_links(app, users, monkeypatch):
    from datetime import timedelta

    from codev.accounts import services
    from codev.core.timeutil import utcnow

    user = users["officer"]
    with app.test_request_context():
        reset, setup = services.make_reset_token(user), services.make_reset_token(user, "setup")
        later = utcnow() + timedelta(hours=2)
        monkeypatch.setattr(services, "utcnow", lambda: later)
        assert services.user_for_reset_token(reset) is None
        assert services.user_for_reset_token(setup) == user
