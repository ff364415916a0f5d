"""Partners' API tokens: issued by an admin per partner, scoped, expiring, revocable, audited.

A token is ``codev_<prefix>_<secret>``: the prefix (8 characters) is stored as it is, so that an admin and
the partner can tell their tokens apart; the whole token is stored only as its SHA-256, and shown once,
when issued. A request is let in by the token whose hash it names, when neither revoked nor expired and
holding the scope the endpoint asks for (:mod:`codev.api.auth`).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, and_, or_, select, update
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

from codev.accounts.models import User
from codev.core import audit
from codev.core.i18n import lazy_gettext as _l
from codev.core.timeutil import UTCDateTime, utcnow
from codev.core.unit_of_work import DomainError
from codev.extensions import db

TOKEN_PREFIX = "codev_"  # noqa: S105 (the start of every token, not a secret)
PREFIX_CHARS = 8
LAST_USED_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per token
MAX_DAYS = 366 * 2  # a token lives two years at most: a partner asks for a new one, the old one dies


class Scope(StrEnum):
    PUBLIC_READ = "public:read"
    GRANTS_READ = "grants:read"
    CONTACTS_READ = "contacts:read"

    @property
    def label(self) -> str:
        return str(SCOPE_LABELS[self])


SCOPE_LABELS = {
    Scope.PUBLIC_READ: _l("What the public register shows: calls, funded projects, figures"),
    Scope.GRANTS_READ: _l("Grants and disbursements in detail"),
    Scope.CONTACTS_READ: _l("The associations' contact people, emails and phones (personal data)"),
}


class ApiToken(db.Model):
    """One partner's token (its secret kept only as a hash)."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint("(revoked_at IS NULL) = (revoked_by_id IS NULL)", name="revoked_with_its_author"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner: Mapped[str] = mapped_column(String(200))  # who holds it: "AFD — Lomé office", "Ministry dashboard"
    prefix: Mapped[str] = mapped_column(String(PREFIX_CHARS), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256, hex
    scopes: Mapped[str] = mapped_column(String(200))  # space-separated Scope values
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    def is_live(self, now: datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or utcnow())

    def can_revoke(self) -> bool:
        return self.revoked_at is None

    @property
    def shown_prefix(self) -> str:
        """How the token is recognised: its first characters, never the secret."""
        return f"{TOKEN_PREFIX}{self.prefix}_…"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _state(token: ApiToken) -> dict:
    return {"partner": token.partner, "prefix": token.prefix, "scopes": token.scopes,
            "expires_at": token.expires_at.isoformat()}


def issue_token(actor: User, *, partner: str, scopes: list[str], expires_on: date) -> tuple[ApiToken, str]:
    """A new token for ``partner``: the row (flushed, audited) and the token itself, to show once."""
    chosen = [scope for scope in Scope if scope.value in set(scopes)]
    if not chosen:
        raise DomainError(str(_l("Choose at least one scope.")), field="scopes")
    today = utcnow().date()
    if expires_on <= today:
        raise DomainError(str(_l("The expiry date must be after today.")), field="expires_on")
    if expires_on > today + timedelta(days=MAX_DAYS):
        raise DomainError(str(_l("A token lives two years at most: choose an earlier expiry date.")),
                          field="expires_on")
    prefix = secrets.token_hex(PREFIX_CHARS // 2)
    while db.session.scalar(select(ApiToken.id).where(ApiToken.prefix == prefix)) is not None:
        prefix = secrets.token_hex(PREFIX_CHARS // 2)  # 4 billion prefixes: a second draw, almost never
    plain = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(partner=partner.strip(), prefix=prefix, token_hash=hash_token(plain),
                     scopes=" ".join(chosen), created_by_id=actor.id,
                     # the end of the chosen day, UTC: "valid until 31 March" holds on 31 March
                     expires_at=datetime.combine(expires_on, time(23, 59, 59), tzinfo=UTC))
    db.session.add(token)
    db.session.flush()
    audit.record("api_token.issue", token, actor=actor, after=_state(token))
    return token, plain


def revoke_token(token: ApiToken, actor: User) -> None:
    """Revoke ``token`` at once (audited); its next request gets 401."""
    if not token.can_revoke():
        raise DomainError(str(_l("This token was already revoked.")))
    token.revoked_at, token.revoked_by_id = utcnow(), actor.id
    db.session.flush()
    audit.record("api_token.revoke", token, actor=actor, before=_state(token),
                 after={"revoked_at": token.revoked_at.isoformat()})


def find_token(plain: str) -> ApiToken | None:
    """The token whose hash ``plain`` has (live or not), or None."""
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        return None
    return db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plain)))


def mark_used(token_id: int, now: datetime | None = None) -> None:
    """Note that the token was used now, in its own short transaction, at most once a minute per token (a
    read API writes nothing else; the partner's requests do not each take a row lock)."""
    now = now or utcnow()
    table = ApiToken.__table__
    with db.engine.begin() as connection:
        connection.execute(update(table).where(
            table.c.id == token_id,
            or_(table.c.last_used_at.is_(None), and_(table.c.last_used_at < now - LAST_USED_EVERY)),
        ).values(last_used_at=now))


def tokens_query():
    """Every token, live ones first, newest first, with who issued it (the admin's list, in one statement)."""
    return (select(ApiToken).options(joinedload(ApiToken.created_by))
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc()))
