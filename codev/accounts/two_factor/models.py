"""The second factor of a person, in tables of its own: the TOTP secret (encrypted) with the last time step a
code was accepted for, and the single-use recovery codes (hashed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from codev.accounts.models import Role
from codev.core.timeutil import UTCDateTime, utcnow
from codev.extensions import db

# Roles that may not use codev without a second factor (issue 14); everyone else may turn it on.
TWO_FACTOR_ROLES = frozenset({Role.APPROVER, Role.ADMIN})


class SecondFactor(db.Model):
    """A person's authenticator app: an enrolment under way until ``enabled_at`` is set (a first code typed)."""

    __tablename__ = "second_factors"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(255))  # Fernet token of the base32 secret
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last 30-second step a code was accepted for: a code works once, and never an older one.
    last_step: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (CheckConstraint("last_step IS NULL OR last_step >= 0", name="last_step_positive"),)

    @property
    def enabled(self) -> bool:
        return self.enabled_at is not None


class RecoveryCode(db.Model):
    """One of a person's single-use recovery codes, stored as a werkzeug hash (never in clear)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def requires_two_factor(user) -> bool:
    """Whether this person's role may not go without a second factor."""
    return user is not None and user.role in TWO_FACTOR_ROLES


def factor_of(user) -> SecondFactor | None:
    """The person's second factor (enabled or under way), or None; one primary-key lookup (identity map)."""
    return db.session.get(SecondFactor, user.id) if user is not None and user.id is not None else None


def has_two_factor(user) -> bool:
    """Whether the person has an enabled second factor."""
    factor = factor_of(user)
    return factor is not None and factor.enabled
