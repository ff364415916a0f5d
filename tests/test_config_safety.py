"""Safe by default: without a mode the app is in production and will not start without a real secret key.

A key made at random in each worker signs people out whenever another worker answers and fails every form's
CSRF check across workers; only an explicit development mode (``make run``) may fall back to one. The
subprocess tests run ``flask --app codev`` on a copy of the package in a temporary folder, so its instance
folder (and no ``instance/config.py`` that ``make run`` may have left in the checkout) is the test's own.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from codev import create_app
from codev.extensions import db

ROOT = Path(__file__).resolve().parent.parent
FLASK = Path(sys.executable).parent / "flask"
GOOD_KEY = "5f0c9d1e7a3b4c2d8e6f1a0b9c8d7e6f5a4b3c2d1e0f9a8b"


@pytest.fixture
def no_mode(monkeypatch, tmp_path):
    """No CODEV_ENV_NAME or key in the environment, and an empty instance folder of the test's own."""
    for name in ("CODEV_ENV_NAME", "CODEV_SECRET_KEY", "CODEV_DATABASE_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CODEV_DATABASE_URL", f"sqlite:///{tmp_path / 'codev.sqlite3'}")
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(tmp_path / "instance"))
    return tmp_path


def test_without_a_mode_the_app_is_production_and_refuses_without_a_key(no_mode):
    with pytest.raises(RuntimeError) as refused:
        create_app()
    message = str(refused.value)
    assert "SECRET_KEY is not set" in message and "'production'" in message
    assert "CODEV_SECRET_KEY" in message and "secrets.token_hex(32)" in message  # says how to set one
    assert "CODEV_ENV_NAME=development" in message


@pytest.mark.parametrize("key, problem", [
    ("change-me", "SECRET_KEY is the placeholder 'change-me'"),
    ("k" * 31, "SECRET_KEY is shorter than 32 characters"),
    ("", "SECRET_KEY is not set"),
])
def test_production_refuses_an_insecure_or_short_key(no_mode, monkeypatch, key, problem):
    monkeypatch.setenv("CODEV_SECRET_KEY", key)
    with pytest.raises(RuntimeError, match="CODEV_SECRET_KEY") as refused:
        create_app()
    assert str(refused.value).startswith(problem)


def test_production_starts_with_a_good_key_and_its_workers_share_sessions_and_forms(no_mode, monkeypatch):
    monkeypatch.setenv("CODEV_SECRET_KEY", GOOD_KEY)
    worker_a, worker_b = create_app(), create_app()  # two gunicorn workers of one deployment
    assert worker_a.config["ENV_NAME"] == "production" and worker_b.config["SECRET_KEY"] == GOOD_KEY
    with worker_a.app_context():
        db.create_all()
    client_a, client_b = worker_a.test_client(), worker_b.test_client()
    page = client_a.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client_b.set_cookie("session", client_a.get_cookie("session").value)
    switched = client_b.post("/account/language", data={"lang": "en", "csrf_token": token})
    assert switched.status_code == 302  # worker B accepts the form worker A served
    client_a.set_cookie("session", client_b.get_cookie("session").value)
    assert "Co-development programme for Togolese abroad" in client_a.get("/").get_data(as_text=True)
    with worker_a.app_context():
        db.engine.dispose()
    with worker_b.app_context():
        db.engine.dispose()


def test_only_development_makes_a_key_of_its_own(no_mode):
    assert len(create_app({"ENV_NAME": "development"}).config["SECRET_KEY"]) == 64
    assert create_app({"ENV_NAME": "test"}).config["SECRET_KEY"] is None  # tests give theirs


# --- `flask --app codev` in a clean environment -------------------------------------------------


@pytest.fixture
def package_copy(tmp_path):
    """The codev package copied beside an empty instance folder (the venv's editable finder comes after it)."""
    shutil.copytree(ROOT / "codev", tmp_path / "src" / "codev", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "src"


def flask(source: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(source), **env}
    return subprocess.run([str(FLASK), "--app", "codev", *args], cwd=source, env=clean,  # noqa: S603
                          capture_output=True, text=True, timeout=120, check=False)


def printed_key(source: Path, **env: str) -> str:
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(source), **env}
    code = "import codev; app = codev.create_app(); print(codev.__file__, app.config['SECRET_KEY'])"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=source, env=clean, capture_output=True, text=True, timeout=120, check=True)
    where, key = result.stdout.split()
    assert where == str(source / "codev" / "__init__.py")
    return key


def test_flask_in_a_clean_environment_without_instance_config_refuses(package_copy):
    assert not (package_copy / "instance" / "config.py").exists()
    result = flask(package_copy, "routes")
    assert result.returncode != 0
    assert "refusing to start" in result.stderr and "CODEV_SECRET_KEY" in result.stderr
    assert "accounts.login" not in result.stdout


def test_make_runs_development_mode_starts_on_a_fresh_clone_with_the_instance_key(package_copy):
    written = flask(package_copy, "init-instance", CODEV_ENV_NAME="development")  # as `make run` does
    assert written.returncode == 0, written.stderr
    config = (package_copy / "instance" / "config.py").read_text()
    key = re.search(r"SECRET_KEY = '([0-9a-f]{64})'", config).group(1)
    # Every process of the laptop reads that key: no random one, so a restart keeps people signed in.
    assert printed_key(package_copy, CODEV_ENV_NAME="development") == key
    assert printed_key(package_copy, CODEV_ENV_NAME="development") == key
    routes = flask(package_copy, "routes", CODEV_ENV_NAME="development")
    assert routes.returncode == 0 and "accounts.login" in routes.stdout


def test_make_run_says_development_for_every_flask_command():
    planned = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True,  # noqa: S607
                             timeout=60, check=True).stdout.splitlines()
    commands = [line for line in planned if "--app codev" in line]
    assert [line.split()[-1] for line in commands][:1] == ["init-instance"] and len(commands) == 4
    assert all(line.startswith("CODEV_ENV_NAME=development ") for line in commands), commands
