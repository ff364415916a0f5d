"""CLI commands: create-user, seed-demo (and its refusal on real data), init-instance."""

from __future__ import annotations

import pytest

from codev.accounts.models import Association, AssociationStatus, Role, User
from codev.demo import ASSOCIATIONS, DEMO_PASSWORD, DEMO_TOTP_SECRET, STAFF, STRUCTURES
from tests.two_factor_support import complete_sign_in

pytestmark = pytest.mark.backends


def test_create_user(runner, db):
    result = runner.invoke(
        args=["create-user", "--email", "Ama@Ministry.tg", "--name", "Ama K", "--role", "officer",
              "--password", "a long enough passphrase"],
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(db.select(User).where(User.email == "ama@ministry.tg"))
    assert user.role == Role.OFFICER and user.password_hash.startswith("pbkdf2:sha256:")


def test_create_user_refuses_weak_password_and_duplicates(runner, db, users):
    weak = runner.invoke(
        args=["create-user", "--email", "x@y.tg", "--name", "X", "--role", "admin", "--password", "short"]
    )
    assert weak.exit_code != 0 and "au moins 10 caractères" in weak.output
    dup = runner.invoke(
        args=["create-user", "--email", users["officer"].email.upper(), "--name", "X", "--role", "admin",
              "--password", "a long enough passphrase"],
    )
    assert dup.exit_code != 0


def test_seed_demo_creates_the_programme_and_refuses_to_run_twice(runner, db):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    countries = set(db.session.scalars(db.select(Association.country)))
    assert {"FR", "DE", "US", "CA", "BE", "CI"} <= countries
    statuses = set(db.session.scalars(db.select(Association.status)))
    assert statuses == {s.value for s in AssociationStatus}
    roles = set(db.session.scalars(db.select(User.role)))
    assert roles == {r.value for r in Role}
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code != 0 and "refusing" in again.output
    quiet = runner.invoke(args=["seed-demo", "--if-empty"])
    assert quiet.exit_code == 0
    assert db.session.scalar(db.select(db.func.count(User.id))) == len(STAFF) + len(ASSOCIATIONS) + sum(
        len(s["evaluators"]) for s in STRUCTURES
    )


def test_every_demo_account_signs_in_to_a_page_for_its_role(runner, app, db):
    runner.invoke(args=["seed-demo"])
    emails = db.session.scalars(db.select(User.email)).all()
    for email in emails:
        client = app.test_client()
        response = complete_sign_in(client, client.post("/account/login", data={
            "email": email, "password": DEMO_PASSWORD}), DEMO_TOTP_SECRET)  # the approver and admin: their code
        assert response.status_code == 302 and response.headers["Location"] == "/", email
        user = db.session.scalar(db.select(User).where(User.email == email))
        client.post("/account/language", data={"lang": "en"})
        page = client.get("/").get_data(as_text=True)
        assert user.name in page and Role(user.role).label in page, email


def test_init_instance_writes_a_secret_key_once(runner, app, tmp_path):
    app.instance_path = str(tmp_path / "instance")
    first = runner.invoke(args=["init-instance"])
    assert first.exit_code == 0
    text = (tmp_path / "instance" / "config.py").read_text()
    assert "SECRET_KEY = '" in text and len(text) > 60
    runner.invoke(args=["init-instance"])
    assert (tmp_path / "instance" / "config.py").read_text() == text
