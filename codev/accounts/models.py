"""Users and their roles, diaspora associations, partner structures, invitations."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from codev.core.i18n import lazy_gettext as _l
from codev.core.models import Attachment
from codev.core.timeutil import UTCDateTime, utcnow
from codev.extensions import db, sql_values


class Role(StrEnum):
    ASSOCIATION = "association"
    EVALUATOR = "evaluator"
    OFFICER = "officer"
    APPROVER = "approver"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.ASSOCIATION: _l("Association member"),
    Role.EVALUATOR: _l("Evaluator (partner structure)"),
    Role.OFFICER: _l("Programme officer"),
    Role.APPROVER: _l("Approver"),
    Role.ADMIN: _l("Administrator"),
}

MINISTRY_ROLES = frozenset({Role.OFFICER, Role.APPROVER, Role.ADMIN})


class AssociationStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return str(ASSOCIATION_STATUS_LABELS[self])


ASSOCIATION_STATUS_LABELS = {
    AssociationStatus.PENDING: _l("Awaiting verification"),
    AssociationStatus.VERIFIED: _l("Verified"),
    AssociationStatus.REJECTED: _l("Rejected"),
}


class StructureKind(StrEnum):
    STATE = "state"
    NON_STATE = "non_state"

    @property
    def label(self) -> str:
        return str(_l("State structure") if self is StructureKind.STATE else _l("Non-state structure"))



class User(db.Model):
    """A person who signs in. Email is stored lower-cased and unique."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(5), default="fr")
    title: Mapped[str | None] = mapped_column(String(120))  # job title, printed under a signature
    association_id: Mapped[int | None] = mapped_column(ForeignKey("associations.id"), index=True)
    partner_structure_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner_structures.id"), index=True
    )
    active: Mapped[bool] = mapped_column(default=True)
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    association: Mapped[Association | None] = relationship(
        back_populates="members", foreign_keys=[association_id]
    )
    partner_structure: Mapped[PartnerStructure | None] = relationship(back_populates="evaluators")

    __table_args__ = (
        CheckConstraint(f"role IN ({sql_values(Role)})", name="role_valid"),
        CheckConstraint("locale IN ('fr', 'en')", name="locale_valid"),
        CheckConstraint(
            "role <> 'association' OR association_id IS NOT NULL", name="association_member"
        ),
        CheckConstraint(
            "role <> 'evaluator' OR partner_structure_id IS NOT NULL", name="evaluator_structure"
        ),
    )

    # Flask-Login protocol. The id carries the session version, so bumping it revokes every
    # cookie issued before (logout, password change, deactivation).
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_ministry(self) -> bool:
        return self.role in MINISTRY_ROLES

    def has_role(self, *roles: Role | str) -> bool:
        return self.role in {str(r) for r in roles}


class Association(db.Model):
    """A diaspora association; ``pending`` until an officer verifies it."""

    __tablename__ = "associations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    acronym: Mapped[str | None] = mapped_column(String(30))
    country: Mapped[str] = mapped_column(String(2), index=True)
    city: Mapped[str] = mapped_column(String(100))
    embassy: Mapped[str | None] = mapped_column(String(30), index=True)
    registration_number: Mapped[str | None] = mapped_column(String(100))
    registration_authority: Mapped[str | None] = mapped_column(String(200))
    founded_year: Mapped[int | None] = mapped_column()
    members_count: Mapped[int | None] = mapped_column()
    contact_name: Mapped[str] = mapped_column(String(120))
    contact_email: Mapped[str] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    website: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    home_region: Mapped[str | None] = mapped_column(String(10))  # the region of origin in Togo
    locale: Mapped[str] = mapped_column(String(5), default="fr")  # language of its letters
    status: Mapped[AssociationStatus] = mapped_column(
        String(20), default=AssociationStatus.PENDING, index=True
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    verified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", use_alter=True, name="fk_associations_verified_by_id_users")
    )
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    statutes_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[User]] = relationship(
        back_populates="association", foreign_keys=[User.association_id], order_by=User.id
    )
    domains: Mapped[list[AssociationDomain]] = relationship(  # lazy: the directory asks for them (selectinload)
        cascade="all, delete-orphan", order_by="AssociationDomain.sector"
    )
    statutes: Mapped[Attachment | None] = relationship()
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])

    __table_args__ = (
        CheckConstraint(f"status IN ({sql_values(AssociationStatus)})", name="status_valid"),
        CheckConstraint(
            "status <> 'verified' OR verified_at IS NOT NULL", name="verified_has_date"
        ),
        CheckConstraint("members_count IS NULL OR members_count >= 0", name="members_positive"),
    )

    @property
    def status_enum(self) -> AssociationStatus:
        return AssociationStatus(self.status)

    @property
    def domain_codes(self) -> list[str]:
        return [d.sector for d in self.domains]

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.acronym})" if self.acronym else self.name


class AssociationDomain(db.Model):
    """One domain of competence (a programme sector) of an association."""

    __tablename__ = "association_domains"

    association_id: Mapped[int] = mapped_column(
        ForeignKey("associations.id", ondelete="CASCADE"), primary_key=True
    )
    sector: Mapped[str] = mapped_column(String(30), primary_key=True)


class PartnerStructure(db.Model):
    """A structure whose staff study and score projects (technical directorate, NGO, agency)."""

    __tablename__ = "partner_structures"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    acronym: Mapped[str | None] = mapped_column(String(30))
    kind: Mapped[StructureKind] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    evaluators: Mapped[list[User]] = relationship(back_populates="partner_structure")
    regions: Mapped[list[PartnerRegion]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="PartnerRegion.region"
    )
    sectors: Mapped[list[PartnerSector]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="PartnerSector.sector"
    )

    __table_args__ = (CheckConstraint(f"kind IN ({sql_values(StructureKind)})", name="kind_valid"),)

    @property
    def region_codes(self) -> list[str]:
        return [r.region for r in self.regions]

    @property
    def sector_codes(self) -> list[str]:
        return [s.sector for s in self.sectors]


class PartnerRegion(db.Model):
    __tablename__ = "partner_structure_regions"

    structure_id: Mapped[int] = mapped_column(
        ForeignKey("partner_structures.id", ondelete="CASCADE"), primary_key=True
    )
    region: Mapped[str] = mapped_column(String(10), primary_key=True)


class PartnerSector(db.Model):
    __tablename__ = "partner_structure_sectors"

    structure_id: Mapped[int] = mapped_column(
        ForeignKey("partner_structures.id", ondelete="CASCADE"), primary_key=True
    )
    sector: Mapped[str] = mapped_column(String(30), primary_key=True)


class Invitation(db.Model):
    """An emailed invitation to join an association; the token is stored only as its SHA-256."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    association: Mapped[Association] = relationship()
    invited_by: Mapped[User] = relationship()

    def is_open(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now
