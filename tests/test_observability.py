"""Logs, request ids, the health probes, the database pool and gunicorn's settings, as an operator meets them.

The logs are read as they are written (stderr, in JSON): one parseable line per request with its facts,
the request id on every line, no password, token or cookie. The probes answer a load balancer: /healthz
without the database, /readyz with each check. gunicorn runs with deploy/gunicorn.conf.py on port 9200.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade

from codev import create_app
from codev.core.observability import request_id_from
from codev.core.permissions import public
from codev.extensions import db as _db
from tests import factories
from tests.conftest import POSTGRES_URL, reset_postgres
from tests.servers import wait_for_port

ROOT = Path(__file__).parent.parent
GUNICORN_PORT = 9200  # this suite's range: 9200-9209
UNREACHABLE_PORT = 9209  # nothing listens there


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LOG_FORMAT": "json"}


def migrate(app, revision: str | None = None) -> None:
    """``flask db upgrade`` (or downgrade to ``revision``) on ``app``'s database, logging left as it was.

    Alembic's env.py reads alembic.ini's logging section (a root handler, root at WARNING), as the
    ``flask db upgrade`` command does in its own process.
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        with app.app_context():
            if revision:
                downgrade(revision=revision)
            else:
                upgrade()
            _db.engine.dispose()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def log_lines(capsys) -> list[dict]:
    """Every line written to stderr since the last call, each one a JSON object."""
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]


def access_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "codev.access"]


# Access lines and request ids ---------------------------------------------------------------------------


def test_one_json_access_line_per_request_with_its_facts(client, capsys):
    log_lines(capsys)
    response = client.get("/calls/?q=secret-query&page=2", headers={"X-Request-ID": "lb-7f3a.1_x"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "lb-7f3a.1_x"
    [line] = access_lines(log_lines(capsys))
    assert {k: line[k] for k in ("level", "method", "path", "status", "user_id", "request_id", "remote_addr")} == {
        "level": "INFO", "method": "GET", "path": "/calls/", "status": 200, "user_id": None,
        "request_id": "lb-7f3a.1_x", "remote_addr": "127.0.0.1"}
    assert isinstance(line["duration_ms"], int) and 0 <= line["duration_ms"] < 60_000
    assert "secret-query" not in json.dumps(line)


def test_the_access_line_names_the_signed_in_user(client, users, login_as, capsys):
    officer = login_as(users["officer"])
    log_lines(capsys)
    assert client.get("/").status_code == 200
    [line] = access_lines(log_lines(capsys))
    assert line["user_id"] == officer.id and line["path"] == "/"


def test_behind_a_proxy_the_address_is_the_client_s(app_config, backend, capsys):
    app = create_app({**app_config, "PROXY_FIX_HOPS": 1})
    with app.app_context():
        _db.create_all()
        log_lines(capsys)
        response = app.test_client().get("/calls/", headers={"X-Forwarded-For": "203.0.113.9"})
        _db.session.remove()
        _db.engine.dispose()
    assert response.status_code == 200
    assert [line["remote_addr"] for line in access_lines(log_lines(capsys))] == ["203.0.113.9"]


@pytest.mark.parametrize("given", [None, "", "has space", "x" * 65, "<script>", "a/b", "é"])
def test_a_missing_or_invalid_request_id_is_replaced_by_a_new_one(client, given):
    headers = {} if given is None else {"X-Request-ID": given}
    first = client.get("/healthz", headers=headers).headers["X-Request-ID"]
    second = client.get("/healthz", headers=headers).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second


def test_a_valid_request_id_of_64_characters_is_kept():
    assert request_id_from("A" * 64) == "A" * 64
    assert request_id_from("A" * 65) != "A" * 65


def test_an_error_is_logged_once_with_the_request_id_and_the_page_shows_it(app, client, capsys):
    def boom():
        logging.getLogger("codev.grants").warning("about to fail")
        raise RuntimeError("kaboom")

    app.add_url_rule("/boom", "boom", public(boom))
    log_lines(capsys)
    response = client.get("/boom", headers={"X-Request-ID": "support-123"})
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Si vous signalez ce problème, indiquez cette référence : support-123" in page
    assert "kaboom" not in page
    lines = log_lines(capsys)
    assert {line["request_id"] for line in lines} == {"support-123"}
    assert [line["message"] for line in lines if line["logger"] == "codev.grants"] == ["about to fail"]
    [error] = [line for line in lines if line["level"] == "ERROR"]
    assert error["message"] == "unhandled error" and "RuntimeError: kaboom" in error["exception"]
    assert [(line["path"], line["status"]) for line in access_lines(lines)] == [("/boom", 500)]
    english = client.get("/boom", headers={"Accept-Language": "en"})
    reference = english.headers["X-Request-ID"]
    assert f"If you report this problem, quote this reference: {reference}" in english.get_data(as_text=True)


def test_no_password_token_or_cookie_reaches_the_log(app_config, backend, outbox, capsys):
    """Sign in, ask for a reset link, follow it, choose a new password: none of the secrets is written."""
    app = create_app({**app_config, "LOG_LEVEL": "DEBUG"})
    client = app.test_client()
    with app.app_context():
        _db.create_all()
        user = factories.UserFactory(member=True, email="secret-keeper@asso.example.org", locale="en")
        _db.session.commit()
        log_lines(capsys)
        signed_in = client.post("/account/login", data={"email": user.email, "password": factories.PASSWORD})
        assert signed_in.status_code == 302
        cookie = client.get_cookie("session").value
        client.post("/account/logout")
        assert client.post("/account/reset", data={"email": user.email}).status_code == 302
        [message] = outbox(user.email)
        link = re.search(r"http://localhost(/account/reset/(\S+))", message.body)
        new_password = "a brand new passphrase 42"
        assert client.get(link.group(1)).status_code == 200
        changed = client.post(link.group(1), data={"password": new_password, "confirm": new_password})
        assert changed.status_code == 302
        lines = log_lines(capsys)
        _db.session.remove()
        _db.engine.dispose()
    written = json.dumps(lines)
    for secret in (factories.PASSWORD, new_password, link.group(2), cookie):
        assert secret not in written
    paths = [(line["method"], line["path"], line["status"]) for line in access_lines(lines)]
    assert ("GET", "/account/reset/<token>", 200) in paths and ("POST", "/account/reset/<token>", 302) in paths


# Health probes --------------------------------------------------------------------------------------


def test_healthz_answers_ok_without_the_database(app_config, backend, capsys):
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": f"postgresql://x:y@127.0.0.1:{UNREACHABLE_PORT}/x"})
    with app.app_context():
        response = app.test_client().get("/healthz")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "ok\n")
    assert response.headers["Cache-Control"] == "no-store" and "Set-Cookie" not in response.headers
    assert access_lines(log_lines(capsys)) == []  # a probe's access line is DEBUG, below INFO


@pytest.fixture
def migrated(backend, tmp_path, app_config):
    """An app on a database made by the migrations (not create_all), as in production."""
    if backend == "postgres":
        reset_postgres(POSTGRES_URL)
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"

    def make(**settings):
        return create_app({**app_config, "SQLALCHEMY_DATABASE_URI": url, **settings})

    migrate(make())
    yield make


def readyz(app):
    with app.app_context():
        response = app.test_client().get("/readyz")
        _db.session.remove()
        _db.engine.dispose()
    return response


@pytest.mark.backends
def test_readyz_on_a_migrated_database(migrated, capsys):
    response = readyz(migrated())
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "migrations": "ok", "storage": "ok"}}
    assert response.headers["Cache-Control"] == "no-store" and "Set-Cookie" not in response.headers
    assert access_lines(log_lines(capsys)) == []


@pytest.mark.backends
def test_readyz_refuses_a_database_behind_the_code(migrated):
    app = migrated()
    migrate(app, revision="-1")
    response = readyz(app)
    assert response.status_code == 503
    assert response.json == {"status": "failing",
                             "checks": {"database": "ok", "migrations": "not at head", "storage": "ok"}}


def test_readyz_refuses_an_unreachable_database_without_telling_where_it_is(app_config, capsys):
    url = f"postgresql://codev:hunter2-secret@127.0.0.1:{UNREACHABLE_PORT}/codev_nowhere"
    started = time.monotonic()
    response = readyz(create_app({**app_config, "SQLALCHEMY_DATABASE_URI": url}))
    assert time.monotonic() - started < 10
    assert response.status_code == 503
    assert response.json == {"status": "failing",
                             "checks": {"database": "unreachable", "migrations": "unknown", "storage": "ok"}}
    body = response.get_data(as_text=True)
    assert "hunter2" not in body and "codev_nowhere" not in body and str(UNREACHABLE_PORT) not in body
    [warning] = [line for line in log_lines(capsys) if line["level"] == "WARNING"]
    assert "database unreachable" in warning["message"] and "hunter2" not in warning["message"]


@pytest.mark.backends
def test_readyz_refuses_a_file_store_it_cannot_write(migrated, tmp_path):
    # A folder under a regular file cannot be made, even by root (whom chmod 0o500 would not stop).
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    response = readyz(migrated(UPLOAD_FOLDER=str(blocker / "uploads")))
    assert response.status_code == 503
    assert response.json["checks"] == {"database": "ok", "migrations": "ok", "storage": "not writable"}


# Connection pool ------------------------------------------------------------------------------------


@pytest.mark.backends
def test_pool_settings_reach_the_engine(app_config, backend):
    app = create_app({**app_config, "DB_POOL_SIZE": 3, "DB_MAX_OVERFLOW": 2, "DB_POOL_TIMEOUT": 7,
                      "DB_POOL_RECYCLE": 600, "DB_APPLICATION_NAME": "codev-test-pool"})
    with app.app_context():
        engine = _db.engine
        try:
            if backend == "postgres":
                pool = engine.pool
                assert (pool.size(), pool._max_overflow, pool._timeout, pool._recycle, pool._pre_ping) == (
                    3, 2, 7, 600, True)
                with engine.connect() as connection:
                    name = connection.exec_driver_sql(
                        "SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()").scalar()
                assert name == "codev-test-pool"
            else:  # SQLite keeps its own options: the busy timeout, no server-side pool sizes
                options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
                assert options["connect_args"] == {"timeout": 15.0} and "pool_size" not in options
            assert engine.hide_parameters  # a logged database error shows no values
        finally:
            engine.dispose()


def test_postgres_defaults_follow_the_documented_settings(app_config):
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": "postgresql://codev@localhost/x"})
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert {k: options[k] for k in ("pool_size", "max_overflow", "pool_timeout", "pool_recycle", "pool_pre_ping")} \
        == {"pool_size": 2, "max_overflow": 2, "pool_timeout": 30, "pool_recycle": 1800, "pool_pre_ping": True}
    assert options["connect_args"] == {"connect_timeout": 10, "application_name": "codev-web"}


# gunicorn -------------------------------------------------------------------------------------------


def get_healthz(port: int) -> tuple[int, str]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: codev\r\nConnection: close\r\n\r\n")
        return read_answer(sock)


def read_answer(sock: socket.socket) -> tuple[int, str]:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _sep, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode()


@pytest.fixture
def gunicorn(tmp_path, app_config):
    """gunicorn with deploy/gunicorn.conf.py (one worker) on a migrated SQLite database."""
    url = f"sqlite:///{tmp_path / 'gunicorn.sqlite3'}"
    migrate(create_app({**app_config, "SQLALCHEMY_DATABASE_URI": url}))
    env = {**os.environ, "CODEV_ENV_NAME": "production", "CODEV_SECRET_KEY": "gunicorn-test-" + "x" * 40,
           "CODEV_DATABASE_URL": url,
           "CODEV_UPLOAD_FOLDER": str(tmp_path / "uploads"), "CODEV_LOG_FORMAT": "json",
           "GUNICORN_BIND": f"127.0.0.1:{GUNICORN_PORT}", "GUNICORN_WORKERS": "1"}
    errors = tmp_path / "gunicorn.err"
    with open(errors, "wb") as stderr:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        wait_for_port(GUNICORN_PORT)
        yield process, errors
    finally:
        process.terminate()
        process.wait(timeout=40)


def test_gunicorn_with_the_deploy_settings_serves_and_reloads_without_dropping_a_request(gunicorn):
    process, errors = gunicorn
    assert get_healthz(GUNICORN_PORT) == (200, "ok\n")
    log = errors.read_text()
    assert "Using worker: sync" in log and log.count("Booting worker") == 1
    # A request in flight (its headers half sent) when the master is told to reload (HUP) ...
    with socket.create_connection(("127.0.0.1", GUNICORN_PORT), timeout=30) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: codev\r\n")
        time.sleep(0.5)
        process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while errors.read_text().count("Booting worker") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert errors.read_text().count("Booting worker") == 2  # the new worker is up
        sock.sendall(b"Connection: close\r\n\r\n")
        # ... is answered by the old worker, which then leaves.
        assert read_answer(sock) == (200, "ok\n")
    assert get_healthz(GUNICORN_PORT) == (200, "ok\n")
    deadline = time.monotonic() + 30
    while "Worker exiting" not in errors.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "Worker exiting" in errors.read_text()


def test_under_gunicorn_every_line_is_json_the_app_s_and_gunicorn_s(gunicorn):
    _process, errors = gunicorn
    with socket.create_connection(("127.0.0.1", GUNICORN_PORT), timeout=30) as sock:
        sock.sendall(b"GET /calls/?q=x HTTP/1.1\r\nHost: codev\r\nX-Request-ID: from-nginx-1\r\n"
                     b"Connection: close\r\n\r\n")
        assert read_answer(sock)[0] == 200
    with socket.create_connection(("127.0.0.1", GUNICORN_PORT), timeout=30) as sock:
        sock.sendall(b"GET /readyz HTTP/1.1\r\nHost: codev\r\nConnection: close\r\n\r\n")
        status, body = read_answer(sock)
        assert (status, json.loads(body)["status"]) == (200, "ok")
    deadline = time.monotonic() + 10
    while "codev.access" not in errors.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = [json.loads(line) for line in errors.read_text().splitlines()]
    assert {"gunicorn.error", "codev.access"} <= {line["logger"] for line in lines}
    [access] = access_lines(lines)
    assert (access["path"], access["status"], access["request_id"]) == ("/calls/", 200, "from-nginx-1")
