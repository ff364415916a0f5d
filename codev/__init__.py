"""codev: a co-development matched-grant programme (diaspora projects, evaluation, grants, letters)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from codev.config import Defaults
from codev.extensions import babel, csrf, db, login_manager, migrate

__all__ = ["create_app"]

INSECURE_KEYS = {None, "", "dev", "change-me", "secret"}


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config layers, extensions, access rules, blueprints, CLI."""
    app = Flask(__name__, instance_relative_config=True)
    register_config(app, test_config)
    register_database(app)
    register_extensions(app)
    register_core(app)
    register_blueprints(app)
    register_cli(app)
    return app


def register_config(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    """defaults → instance/config.py → CODEV_* environment (and DATABASE_URL) → test_config."""
    app.config.from_object(Defaults)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_pyfile("config.py", silent=True)
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    app.config.from_prefixed_env("CODEV")
    if "CODEV_DATABASE_URL" in os.environ:
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["CODEV_DATABASE_URL"]
    if test_config:
        app.config.update(test_config)
    config = app.config
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "codev.sqlite3")
    uri = config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://") or uri.startswith("postgresql://"):
        config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri.split("://", 1)[1]
    config.setdefault("UPLOAD_FOLDER", None)
    if not config["UPLOAD_FOLDER"]:
        config["UPLOAD_FOLDER"] = os.path.join(app.instance_path, "uploads")
    # Outside an explicit development or test mode, a real key or no start: a key made at random in each
    # worker would sign people out whenever another worker answers and fail forms' CSRF across workers.
    mode, key = config["ENV_NAME"], config.get("SECRET_KEY")
    if mode not in ("development", "test") and (key in INSECURE_KEYS or len(str(key)) < 32):
        problem = ("is not set" if not key else f"is the placeholder {key!r}" if key in INSECURE_KEYS
                   else "is shorter than 32 characters")
        raise RuntimeError(
            f"SECRET_KEY {problem} (CODEV_ENV_NAME is {mode!r}): refusing to start. Set CODEV_SECRET_KEY in the "
            "environment, or SECRET_KEY in instance/config.py, to one random value shared by every worker, "
            "made with: python3 -c 'import secrets; print(secrets.token_hex(32))'. "
            "On a laptop, set CODEV_ENV_NAME=development (make run does)."
        )
    if mode == "development" and not key:
        config["SECRET_KEY"] = os.urandom(32).hex()  # development only (make run writes instance/config.py)


def register_database(app: Flask) -> None:
    """Engine options: SQLite's busy timeout; PostgreSQL's pool (DB_POOL_*), pre-ping and application name.

    Options given in SQLALCHEMY_ENGINE_OPTIONS win over these.
    """
    config = app.config
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    # A database error in the log shows its statement, not its values (emails, password hashes, tokens).
    options.setdefault("hide_parameters", True)
    uri = config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        connect_args.setdefault("timeout", config["SQLITE_BUSY_TIMEOUT_MS"] / 1000)
    elif uri.startswith("postgresql"):
        if "poolclass" not in options:  # a NullPool or StaticPool takes no sizes
            options.setdefault("pool_size", int(config["DB_POOL_SIZE"]))
            options.setdefault("max_overflow", int(config["DB_MAX_OVERFLOW"]))
            options.setdefault("pool_timeout", float(config["DB_POOL_TIMEOUT"]))
            options.setdefault("pool_recycle", int(config["DB_POOL_RECYCLE"]))
        options.setdefault("pool_pre_ping", True)  # a connection the server or a firewall closed is replaced
        connect_args.setdefault("connect_timeout", int(config["DB_CONNECT_TIMEOUT"]))
        if config.get("DB_APPLICATION_NAME"):
            connect_args.setdefault("application_name", str(config["DB_APPLICATION_NAME"])[:63])
    if connect_args:
        options["connect_args"] = connect_args
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """WAL, a busy timeout and enforced foreign keys on every SQLite connection."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def register_models() -> None:
    """Import every model module so the metadata (and Alembic) sees all tables."""
    import codev.accounts.api_tokens  # noqa: F401
    import codev.accounts.models  # noqa: F401
    import codev.calls.models  # noqa: F401
    import codev.core.models  # noqa: F401
    import codev.core.notifications  # noqa: F401
    import codev.grants.models  # noqa: F401
    import codev.projects.models  # noqa: F401
    import codev.reviews.models  # noqa: F401


def register_extensions(app: Flask) -> None:
    register_models()
    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True
    )
    csrf.init_app(app)
    from codev.core import i18n

    i18n.init_app(app)
    assert babel  # bound by i18n.init_app
    login_manager.init_app(app)


def register_core(app: Flask) -> None:
    from codev.core import errors, mail, observability, params, permissions, security, templating

    observability.init_app(app)  # logging first; its request id and timer open every request
    params.init_app(app)  # before any blueprint binds its <int:…> routes
    security.init_app(app)
    permissions.init_app(app)
    errors.init_app(app)
    mail.init_app(app)
    templating.init_app(app)
    from codev.core import storage

    storage.init_app(app)  # wrong file-store settings stop the app here, not at the first upload


def register_blueprints(app: Flask) -> None:
    from codev.accounts import bp as accounts_bp
    from codev.accounts.admin import bp as admin_bp
    from codev.accounts.associations import bp as associations_bp
    from codev.accounts.notifications import bp as notifications_bp
    from codev.calls import bp as calls_bp
    from codev.core.views import bp as core_bp
    from codev.grants import bp as grants_bp
    from codev.oversight import bp as oversight_bp
    from codev.projects import bp as projects_bp
    from codev.reviews import bp as reviews_bp

    # In the order money and paper flow through the programme.
    for blueprint in (core_bp, accounts_bp, notifications_bp, associations_bp, admin_bp, calls_bp, projects_bp,
                      reviews_bp, grants_bp, oversight_bp):
        app.register_blueprint(blueprint)
    from codev import api

    api.init_app(app)  # the partners' read API, after every step it reads


def register_cli(app: Flask) -> None:
    from codev import cli

    cli.init_app(app)
