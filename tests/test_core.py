"""Core mechanisms: configuration layers, security headers, error pages, audit log, uploads, mail."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import text

from codev import create_app
from codev.core import audit
from codev.core.models import AuditEvent
from codev.core.storage import detect_format

BACKENDS = pytest.mark.backends


def test_refuses_to_start_in_production_without_secret_key(monkeypatch):
    monkeypatch.delenv("CODEV_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    app = create_app({"ENV_NAME": "production", "SECRET_KEY": "k" * 64, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SECRET_KEY"] == "k" * 64


def test_config_layers_environment_over_instance(monkeypatch, tmp_path):
    monkeypatch.setenv("CODEV_PAGE_SIZE", "7")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example/codev")
    app = create_app({"ENV_NAME": "test"})
    assert app.config["PAGE_SIZE"] == 7
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example/codev"
    monkeypatch.setenv("CODEV_DATABASE_URL", "sqlite:///elsewhere.db")
    assert create_app({"ENV_NAME": "test"}).config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///elsewhere.db"


@pytest.mark.sqlite_only
def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app, db):
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_security_headers(client):
    response = client.get("/account/login")
    headers = response.headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers
    set_cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Secure" not in set_cookie


def test_https_adds_hsts_and_secure_cookies(client):
    response = client.get("/account/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Secure" in response.headers["Set-Cookie"]


def test_friendly_404_without_traceback(client):
    response = client.get("/no/such/page", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_request_size_limit_gives_a_friendly_413(client, app):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post(
        "/account/login", data={"email": "a@b.c", "password": "x" * 5000}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 413
    assert "File too large" in response.get_data(as_text=True)


def test_unexpected_error_gives_a_500_page_without_traceback(app, client):
    @app.route("/boom-test")
    def boom():
        raise RuntimeError("secret internals")

    from codev.core.permissions import public

    public(boom)
    response = client.get("/boom-test", headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in page and "secret internals" not in page and "Traceback" not in page


def test_csrf_is_enforced_when_enabled(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/account/login", data={"email": "a@b.c", "password": "whatever"})
    assert response.status_code == 400


def test_static_assets_are_served_locally(client):
    response = client.get("/static/css/codev.css")
    assert response.status_code == 200 and b".topbar" in response.data
    response.close()
    page = client.get("/").get_data(as_text=True)
    assert "http://" not in page.replace("http://localhost", "") and "https://" not in page


@BACKENDS
def test_audit_log_is_append_only_in_the_database(db, users):
    audit.record("test.action", users["officer"], actor=users["officer"], after={"x": 1})
    db.session.commit()
    for statement in ("UPDATE audit_events SET action = 'changed'", "DELETE FROM audit_events"):
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text(statement))
            db.session.flush()
        db.session.rollback()
    assert db.session.scalar(db.select(AuditEvent.action).where(AuditEvent.action == "test.action"))


def _office_zip(folder: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{folder}/document.xml", "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"%PDF-1.7\n...", "pdf"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "png"),
        (_office_zip("word"), "docx"),
        (_office_zip("xl"), "xlsx"),
        (b"MZ\x90\x00\x03\x00\x00\x00", None),
        (b"PK\x03\x04not really a zip", None),
        (b"<html><script>alert(1)</script>", None),
    ],
)
def test_file_formats_are_detected_by_content(data, expected):
    assert detect_format(data[:16], data) == expected


def test_mail_goes_to_the_outbox_in_the_recipients_language(app, db, outbox):
    from codev.core.mail import queue_mail

    person = type("Person", (), {"name": "Ama"})
    with app.test_request_context():
        queue_mail("x@example.org", "en", "password_reset", user=person, url="http://l/x", hours=1)
        queue_mail("y@example.org", "fr", "password_reset", user=person, url="http://l/x", hours=1)
    db.session.commit()
    english, french = outbox()
    assert english.subject == "codev: reset your password"
    assert french.locale == "fr" and french.subject != english.subject
    assert english.sent_at is None and english.delivery == "pending"  # no SMTP server configured


def test_smtp_delivery_by_the_worker_when_configured(app, db, outbox, monkeypatch):
    """Queueing writes the outbox only; the worker's run sends it and marks it sent (tests/test_mail_worker.py
    has the real SMTP server)."""
    from codev.core import mail

    sent = []
    monkeypatch.setattr(mail, "_smtp_send", lambda message: sent.append(message.recipient))
    app.config["MAIL_SERVER"] = "smtp.example.org"
    with app.test_request_context():
        mail.queue_mail("x@example.org", "en", "password_reset", user=type("U", (), {"name": "A"}), url="u", hours=1)
    db.session.commit()
    assert sent == [] and outbox()[0].delivery == "pending"
    done = mail.deliver_due()
    assert (done.sent, done.retrying, done.failed) == (1, 0, 0)
    assert sent == ["x@example.org"]
    message = outbox()[0]
    assert message.delivery == "sent" and message.sent_at is not None and message.attempts == 1


def test_a_lost_race_on_a_unique_constraint_gives_a_409_page(app, client, db, users):
    from sqlalchemy.exc import IntegrityError

    from codev.core.permissions import public

    @app.route("/race-test")
    def race():
        raise IntegrityError("INSERT …", {}, Exception("UNIQUE constraint failed: users.email"))

    public(race)
    response = client.get("/race-test", headers={"Accept-Language": "en"})
    assert response.status_code == 409
    assert "Someone else changed this at the same moment" in response.get_data(as_text=True)


def test_upload_size_limits_are_written_for_people(app):
    from codev.core.storage import readable_size

    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert readable_size(100_000) == "98 kB"
        assert readable_size(1536 * 1024) == "1.5 MB"
