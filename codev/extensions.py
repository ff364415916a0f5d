"""Flask extensions: created here, bound to the app in the factory."""

from __future__ import annotations

from enum import StrEnum

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base whose constraints get stable names (Alembic needs them on SQLite)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def sql_values(values: type[StrEnum]) -> str:
    """An enum's values as an SQL list, for the CHECK constraints that keep states valid."""
    return ", ".join(f"'{v.value}'" for v in values)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
