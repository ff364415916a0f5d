"""Throttling under bursts: one guarded UPDATE per key, on SQLite and PostgreSQL, at every throttled door.

The parallel tests start 16 requests (or claims) at once behind a barrier, each thread with its own app
context, hence its own session and connection, as gunicorn workers would. The checked password is slowed
down a little so that, without an atomic claim, every request would pass the check before any counted.
"""

from __future__ import annotations

import io
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from codev.accounts import services
from codev.accounts.models import Association
from codev.core import throttle
from codev.core.models import AuditEvent, LoginAttempt, ThrottleCounter
from codev.core.timeutil import utcnow
from codev.extensions import db as _db
from codev.grants.models import AwardLetter
from tests.factories import PASSWORD, UserFactory
from tests.factories_associations import signup_data
from tests.factories_grants import awarded_grant

THREADS = 16
EN = {"Accept-Language": "en"}
RULE = throttle.Rule("test.key", "TEST_LIMIT", "TEST_WINDOW")


@pytest.fixture
def app_config(app_config):
    """A connection per thread and per counter transaction; a test rule of 5 per 10 minutes."""
    return {**app_config, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 2 * THREADS + 2, "max_overflow": 5},
            "TEST_LIMIT": 5, "TEST_WINDOW": 600}


def _at_once(work, count: int = THREADS) -> list:
    """Run ``work(i)`` in ``count`` threads released together; their results in any order."""
    barrier = threading.Barrier(count)
    results, lock = [], threading.Lock()

    def run(i: int) -> None:
        barrier.wait(timeout=30)
        outcome = work(i)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == count
    return results


def _counter(db, scope: str, key: str) -> ThrottleCounter | None:
    db.session.expire_all()
    return db.session.get(ThrottleCounter, (scope, key))


def _counting_verify(monkeypatch) -> list:
    """Count the passwords actually checked (slowed down to widen any race)."""
    calls, lock, real = [], threading.Lock(), services.verify_password

    def verify(password_hash, password):
        with lock:
            calls.append(password)
        time.sleep(0.05)
        return real(password_hash, password)

    monkeypatch.setattr(services, "verify_password", verify)
    return calls


# --- the mechanism -------------------------------------------------------------------------------------


@pytest.mark.backends
def test_parallel_claims_take_exactly_the_limit(app, db, backend):
    def work(_i):
        with app.app_context():
            try:
                return bool(throttle.claim((RULE, "one key")))
            finally:
                _db.session.remove()

    granted = _at_once(work)
    assert granted.count(True) == 5 and granted.count(False) == THREADS - 5
    assert _counter(db, "test.key", "one key").hits == 5


@pytest.mark.backends
def test_a_window_ends_and_the_next_one_starts_from_one(app, db, backend, monkeypatch):
    for _ in range(5):
        assert throttle.claim((RULE, "k"))
    refused = throttle.claim((RULE, "k"))
    assert not refused and 9 <= refused.minutes <= 10
    later = utcnow() + timedelta(minutes=11)
    monkeypatch.setattr(throttle, "utcnow", lambda: later)
    assert throttle.claim((RULE, "k"))
    row = _counter(db, "test.key", "k")
    assert row.hits == 1 and row.started_at == later and row.expires_at == later + timedelta(minutes=10)


@pytest.mark.backends
def test_a_refusal_takes_nothing_and_release_gives_back(app, db, backend):
    other = throttle.Rule("test.other", "TEST_LIMIT", "TEST_WINDOW")
    for _ in range(5):
        throttle.claim((other, "full"))
    assert not throttle.claim((RULE, "first"), (other, "full"))
    assert _counter(db, "test.key", "first").hits == 0  # the first rule's slot was given back
    claim = throttle.claim((RULE, "first"), (other, None))  # no key: that rule does not apply
    assert claim and _counter(db, "test.key", "first").hits == 1
    claim.release()
    claim.release()  # once only
    assert _counter(db, "test.key", "first").hits == 0


def test_long_keys_are_stored_as_their_digest_and_stay_distinct(app, db):
    a, b = "x" * 300 + "a", "x" * 300 + "b"
    throttle.claim((RULE, a))
    throttle.claim((RULE, b))
    keys = db.session.scalars(select(ThrottleCounter.key)).all()
    assert sorted(keys) == sorted([throttle.stored_key(a), throttle.stored_key(b)])
    assert all(k.startswith("sha256:") and len(k) < 255 for k in keys)


@pytest.mark.parametrize("ip, key", [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),  # one subscriber's /64 is one key
    ("2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.7", "203.0.113.7"),
    ("not an address", "not an address"),
    (None, None),
])
def test_addresses_are_keyed_by_what_one_client_holds(ip, key):
    assert throttle.address(ip) == key


def test_a_claim_inside_a_writing_sqlite_transaction_does_not_wait_for_itself(app, db):
    UserFactory(officer=True)  # flushed, not committed: this session holds SQLite's write lock
    started = time.monotonic()
    assert throttle.claim((RULE, "k"))
    assert time.monotonic() - started < 2
    db.session.commit()
    assert _counter(db, "test.key", "k").hits == 1


# --- sign-in -------------------------------------------------------------------------------------------


@pytest.mark.backends
def test_sixteen_parallel_wrong_passwords_check_exactly_five(app, db, backend, monkeypatch):
    email = UserFactory(officer=True).email
    db.session.commit()
    db.session.remove()
    checked = _counting_verify(monkeypatch)

    def work(_i):
        response = app.test_client().post("/account/login", data={"email": email, "password": "wrong password"})
        return response.status_code, response.get_data(as_text=True)

    results = _at_once(work)
    assert len(checked) == 5
    statuses = sorted(status for status, _page in results)
    assert statuses == [200] * 5 + [429] * (THREADS - 5)
    refused = next(page for status, page in results if status == 429)
    assert "Trop de tentatives échouées" in refused and f'value="{email}"' in refused
    failures = db.session.scalar(select(func.count(LoginAttempt.id)).where(LoginAttempt.success.is_(False)))
    assert failures == 5
    assert _counter(db, "login.email", email).hits == 5


@pytest.mark.backends
def test_parallel_wrong_passwords_from_one_address_check_its_limit(app, db, backend, monkeypatch):
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 5
    checked = _counting_verify(monkeypatch)

    def work(i):
        client = app.test_client()
        return client.post("/account/login", data={"email": f"nobody{i}@example.org", "password": "wrong password"},
                           environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code

    statuses = _at_once(work)
    assert len(checked) == 5 and statuses.count(429) == THREADS - 5
    other = app.test_client().post("/account/login", data={"email": "nobody@example.org", "password": "x"},
                                   environ_base={"REMOTE_ADDR": "203.0.113.8"})
    assert other.status_code == 200  # another address is not concerned


def test_a_success_gives_its_slot_back_so_the_limit_counts_failures(client, users, app, db):
    email = users["officer"].email
    for _ in range(4):
        client.post("/account/login", data={"email": email, "password": "wrong password"})
    assert client.post("/account/login", data={"email": email, "password": PASSWORD}).status_code == 302
    client.post("/account/logout")
    assert _counter(db, "login.email", email).hits == 4
    assert client.post("/account/login", data={"email": email, "password": "wrong password"}).status_code == 200
    response = client.post("/account/login", data={"email": email, "password": PASSWORD}, headers=EN)
    assert response.status_code == 429
    assert "Too many failed attempts. Wait 15 minutes or reset your password." in response.text
    assert response.headers["Retry-After"] == "900"
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "login.throttled")) == 1


# --- password reset, sign-up, letter verification -------------------------------------------------------


@pytest.mark.backends
def test_sixteen_parallel_reset_requests_send_exactly_the_limit(app, db, backend, outbox):
    email = UserFactory(officer=True).email
    db.session.commit()
    db.session.remove()

    def work(_i):
        return app.test_client().post("/account/reset", data={"email": email}).status_code

    statuses = _at_once(work)
    assert sorted(statuses) == [302] * 3 + [429] * (THREADS - 3)
    assert len(outbox(email)) == 3


def test_reset_requests_are_throttled_alike_for_unknown_emails(client, db, outbox):
    for email in ("nobody@example.org", "officer@ministry.example.tg"):
        for _ in range(3):
            assert client.post("/account/reset", data={"email": email}).status_code == 302
    response = client.post("/account/reset", data={"email": "NOBODY@example.org"}, headers=EN)
    assert response.status_code == 429
    assert "Too many attempts. Wait 60 minutes before trying again." in response.text
    assert 'value="NOBODY@example.org"' in response.text  # what was typed is kept
    assert outbox() == []


def test_reset_requests_per_address(client, app, db):
    app.config["PASSWORD_RESET_MAX_PER_IP"] = 2
    for n in range(2):
        assert client.post("/account/reset", data={"email": f"a{n}@example.org"}).status_code == 302
    assert client.post("/account/reset", data={"email": "a9@example.org"}).status_code == 429


def test_signup_is_throttled_per_address_and_keeps_what_was_typed(client, app, db):
    app.config["SIGNUP_MAX_PER_IP"] = 2
    send = lambda data: client.post("/associations/signup", data=data, content_type="multipart/form-data",  # noqa: E731
                                    headers=EN)
    assert send(signup_data(email="not an email")).status_code == 400  # refused forms count too
    assert send(signup_data(email="first@example.org", acronym="ONE")).status_code == 302
    client.post("/account/logout")
    response = send(signup_data(email="second@example.org", acronym="TWO", name="Association numéro deux"))
    assert response.status_code == 429 and response.headers["Retry-After"] == "3600"
    assert "Too many attempts. Wait 60 minutes before trying again." in response.text
    assert 'value="Association numéro deux"' in response.text and 'value="second@example.org"' in response.text
    assert db.session.scalar(select(func.count(Association.id))) == 1
    elsewhere = client.post("/associations/signup", data=signup_data(email="x@example.org", acronym="X"),
                            content_type="multipart/form-data", environ_base={"REMOTE_ADDR": "198.51.100.2"})
    assert elsewhere.status_code == 302


def test_letter_checks_are_throttled_per_address(client, app, db):
    app.config["LETTER_VERIFY_MAX_PER_IP"] = 2
    letter = db.session.scalar(select(AwardLetter).where(AwardLetter.grant_id == awarded_grant().id))
    db.session.commit()

    def check(address="192.0.2.1"):
        return client.post(f"/verify/{letter.reference}", data={"file": (io.BytesIO(letter.pdf), "lettre.pdf")},
                           content_type="multipart/form-data", environ_base={"REMOTE_ADDR": address})

    assert [check().status_code for _ in range(2)] == [200, 200]
    response = check()
    assert response.status_code == 429
    assert "Trop de tentatives. Attendez 15 minutes avant de réessayer." in response.text
    assert "Ce fichier est la lettre" not in response.text and letter.reference in response.text
    assert check("192.0.2.2").status_code == 200


# --- pruning -------------------------------------------------------------------------------------------


def test_prune_throttle_deletes_what_is_over_and_keeps_the_rest(app, db, runner):
    now = utcnow()
    db.session.add_all([
        ThrottleCounter(scope="login.email", key="old@x.tg", hits=5, started_at=now - timedelta(hours=2),
                        expires_at=now - timedelta(hours=1)),
        ThrottleCounter(scope="login.email", key="new@x.tg", hits=2, started_at=now,
                        expires_at=now + timedelta(minutes=15)),
        LoginAttempt(email="old@x.tg", at=now - timedelta(days=91), success=False),
        LoginAttempt(email="new@x.tg", at=now - timedelta(days=89), success=False),
    ])
    db.session.commit()
    result = runner.invoke(args=["prune-throttle"])
    assert result.exit_code == 0, result.output
    assert "deleted 1 throttle counter and 1 sign-in attempt" in result.output
    db.session.expire_all()
    assert db.session.scalars(select(ThrottleCounter.key)).all() == ["new@x.tg"]
    assert db.session.scalars(select(LoginAttempt.email)).all() == ["new@x.tg"]
    result = runner.invoke(args=["prune-throttle", "--keep-days", "0"])
    assert "deleted 0 throttle counters and 1 sign-in attempt" in result.output
    assert db.session.scalar(select(func.count(LoginAttempt.id))) == 0
