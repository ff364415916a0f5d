"""State changes of administration: user accounts and roles, partner structures.

Services check, mutate, write the audit event and flush; they never commit, flash or read ``request``.
A refusal is an :class:`AdminError` naming the form field it concerns, so the view can show the
message next to that field.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from codev.accounts import services as accounts
from codev.accounts.models import (
    Association,
    AssociationStatus,
    PartnerRegion,
    PartnerSector,
    PartnerStructure,
    Role,
    StructureKind,
    User,
)
from codev.core import audit
from codev.core.geography import regions
from codev.core.i18n import gettext as _
from codev.core.mail import queue_mail
from codev.core.sectors import SECTOR_BY_CODE
from codev.extensions import db

USER_FIELDS = ("name", "role", "locale", "title", "association_id", "partner_structure_id", "active")
STRUCTURE_FIELDS = ("name", "acronym", "kind", "email", "phone", "active")


class AdminError(accounts.AccountError):
    """A refused administrative change; ``field`` names the form field the message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, field=field)


# --- Reading -------------------------------------------------------------------------------------


def role_counts() -> dict[str, int]:
    """Number of users per role (active and inactive), every role present."""
    rows = db.session.execute(select(User.role, func.count(User.id)).group_by(User.role)).all()
    counts = {role.value: 0 for role in Role}
    counts.update({str(role): count for role, count in rows})
    return counts


def active_evaluator_counts(structure_ids: Iterable[int]) -> dict[int, int]:
    """Active evaluators per structure, in one query."""
    ids = list(structure_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(User.partner_structure_id, func.count(User.id))
        .where(
            User.partner_structure_id.in_(ids), User.role == Role.EVALUATOR, User.active.is_(True)
        )
        .group_by(User.partner_structure_id)
    ).all()
    return dict(rows)


def active_structure_count() -> int:
    return db.session.scalar(
        select(func.count(PartnerStructure.id)).where(PartnerStructure.active.is_(True))
    )


def pending_association_count() -> int:
    return db.session.scalar(
        select(func.count(Association.id)).where(Association.status == AssociationStatus.PENDING)
    )


def active_admin_count(excluding: User | None = None) -> int:
    query = select(func.count(User.id)).where(User.role == Role.ADMIN, User.active.is_(True))
    if excluding is not None and excluding.id is not None:
        query = query.where(User.id != excluding.id)
    return db.session.scalar(query)


def structure_choices(include_id: int | None = None) -> list[tuple[int, str]]:
    """Active structures (and ``include_id``, the current one even if inactive) for a select."""
    query = select(PartnerStructure.id, PartnerStructure.name, PartnerStructure.acronym)
    if include_id:
        query = query.where(PartnerStructure.active.is_(True) | (PartnerStructure.id == include_id))
    else:
        query = query.where(PartnerStructure.active.is_(True))
    rows = db.session.execute(query.order_by(PartnerStructure.name)).all()
    return [(row.id, f"{row.name} ({row.acronym})" if row.acronym else row.name) for row in rows]


def association_choices(include_id: int | None = None) -> list[tuple[int, str]]:
    """Associations that are not rejected (and ``include_id``, the current one), for a select."""
    wanted = Association.status != AssociationStatus.REJECTED
    if include_id:
        wanted = wanted | (Association.id == include_id)
    rows = db.session.execute(
        select(Association.id, Association.name, Association.acronym)
        .where(wanted)
        .order_by(Association.name)
    ).all()
    return [(row.id, f"{row.name} ({row.acronym})" if row.acronym else row.name) for row in rows]


def structure_name_taken(name: str, exclude_id: int | None = None) -> bool:
    """Whether another structure has ``name`` whatever its case.

    Compared in Python: SQLite's lower() folds ASCII only ("École" ≠ "école"), and the list is short.
    """
    wanted = (name or "").strip().casefold()
    rows = db.session.execute(select(PartnerStructure.id, PartnerStructure.name)).all()
    return any(row.name.casefold() == wanted and row.id != exclude_id for row in rows)


# --- Users ---------------------------------------------------------------------------------------


def _user_state(user: User) -> dict:
    return {field: getattr(user, field) for field in USER_FIELDS}


def _links_for_role(
    role: str, association_id: int | None, partner_structure_id: int | None
) -> tuple[int | None, int | None]:
    """Keep only the link the role uses; refuse a role whose link is missing or unknown."""
    if role not in {r.value for r in Role}:
        raise AdminError(_("Choose a role from the list."), "role")
    if role == Role.EVALUATOR:
        if not partner_structure_id or db.session.get(PartnerStructure, partner_structure_id) is None:
            raise AdminError(_("An evaluator belongs to a partner structure: choose it."),
                             "partner_structure_id")
        return None, partner_structure_id
    if role == Role.ASSOCIATION:
        if not association_id or db.session.get(Association, association_id) is None:
            raise AdminError(_("An association member belongs to an association: choose it."),
                             "association_id")
        return association_id, None
    return None, None


def _check_locale(locale: str) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise AdminError(_("Choose a language from the list."), "locale")


def create_account(
    actor: User | None,
    *,
    email: str,
    name: str,
    role: str,
    locale: str,
    title: str | None = None,
    association_id: int | None = None,
    partner_structure_id: int | None = None,
) -> User:
    """Create a user without a password and email them a link to choose one."""
    _check_locale(locale)
    association_id, partner_structure_id = _links_for_role(role, association_id, partner_structure_id)
    if accounts.email_taken(email):
        raise AdminError(_("A user with this email address already exists."), "email")
    user = accounts.create_user(
        email=email, name=name, role=role, locale=locale, title=title or None,
        association_id=association_id, partner_structure_id=partner_structure_id, actor=actor,
    )
    send_password_link(user, actor, template="account_created")
    return user


def update_account(user: User, actor: User | None, **changes) -> bool:
    """Apply the admin's edits to ``user``; returns whether anything changed.

    Changing the role or deactivating ends the user's open sessions. Nobody removes their own admin
    role or deactivates themselves, and the last active admin stays an active admin.
    """
    unknown = set(changes) - set(USER_FIELDS)
    if unknown:
        raise TypeError(f"unknown user fields: {sorted(unknown)}")
    wanted = {**_user_state(user), **changes}
    wanted["title"] = wanted["title"] or None
    _check_locale(wanted["locale"])
    wanted["association_id"], wanted["partner_structure_id"] = _links_for_role(
        wanted["role"], wanted["association_id"], wanted["partner_structure_id"]
    )
    demoted = user.role == Role.ADMIN and wanted["role"] != Role.ADMIN
    deactivated = user.active and not wanted["active"]
    if actor is not None and actor.id == user.id:
        if demoted:
            raise AdminError(_("You cannot remove your own administrator role."), "role")
        if deactivated:
            raise AdminError(_("You cannot deactivate your own account."), "active")
    if user.active and (demoted or deactivated) and user.role == Role.ADMIN:
        if active_admin_count(excluding=user) == 0:
            field = "role" if demoted else "active"
            raise AdminError(_("This is the last active administrator: keep at least one."), field)
    before = _user_state(user)
    changed = {k: v for k, v in wanted.items() if before[k] != v}
    if not changed:
        return False
    for key, value in changed.items():
        setattr(user, key, value)
    if "role" in changed or deactivated:
        accounts.end_sessions(user)
    audit.record(
        "user.update", user, actor=actor,
        before={k: before[k] for k in changed}, after={k: _plain(v) for k, v in changed.items()},
    )
    db.session.flush()
    return True


def send_password_link(user: User, actor: User | None, *, template: str = "account_password_link") -> None:
    """Email ``user`` a link to choose a (new) password, in their language."""
    if not user.active:
        raise AdminError(_("This account is deactivated: reactivate it before sending a link."))
    purpose = "setup" if template == "account_created" else "reset"
    url = url_for("accounts.reset", token=accounts.make_reset_token(user, purpose), _external=True)
    queue_mail(
        user.email, user.locale, template, user=user, url=url,
        hours=max(1, accounts.token_max_age(purpose) // 3600),
        request_url=url_for("accounts.reset_request", _external=True),
    )
    audit.record("user.password_link", user, actor=actor, after={"template": template})


def _plain(value):
    return str(value) if isinstance(value, Role | StructureKind) else value


# --- Partner structures --------------------------------------------------------------------------


def structure_state(structure: PartnerStructure) -> dict:
    """The audited (and editable) values of a structure, as plain data."""
    state = {field: _plain(getattr(structure, field)) for field in STRUCTURE_FIELDS}
    state["regions"] = sorted(structure.region_codes)
    state["sectors"] = sorted(structure.sector_codes)
    return state


def _check_structure(
    structure: PartnerStructure | None, name: str, kind: str, region_codes: list[str],
    sector_codes: list[str],
) -> None:
    if not (name or "").strip():
        raise AdminError(_("This field is required."), "name")
    if len(name) > 200:
        raise AdminError(_("At most %(max)d characters.", max=200), "name")
    if structure_name_taken(name, exclude_id=structure.id if structure else None):
        raise AdminError(_("Another partner structure already has this name."), "name")
    if kind not in {k.value for k in StructureKind}:
        raise AdminError(_("Choose a kind from the list."), "kind")
    known_regions = {r.code for r in regions()}
    if not region_codes or not set(region_codes) <= known_regions:
        raise AdminError(_("Tick at least one region of competence."), "regions")
    if not sector_codes or not set(sector_codes) <= set(SECTOR_BY_CODE):
        raise AdminError(_("Tick at least one sector."), "sectors")


def _apply_structure(
    structure: PartnerStructure, *, name: str, acronym: str | None, kind: str, email: str | None,
    phone: str | None, active: bool, region_codes: list[str], sector_codes: list[str],
) -> None:
    structure.name = name.strip()
    structure.acronym = acronym or None
    structure.kind = kind
    structure.email = accounts.normalize_email(email) or None
    structure.phone = phone or None
    structure.active = bool(active)
    # Change the rows that differ only: removing and re-adding one region would reuse its key.
    wanted_regions, wanted_sectors = set(region_codes), set(sector_codes)
    for row in [r for r in structure.regions if r.region not in wanted_regions]:
        structure.regions.remove(row)
    for code in sorted(wanted_regions - set(structure.region_codes)):
        structure.regions.append(PartnerRegion(region=code))
    for row in [s for s in structure.sectors if s.sector not in wanted_sectors]:
        structure.sectors.remove(row)
    for code in sorted(wanted_sectors - set(structure.sector_codes)):
        structure.sectors.append(PartnerSector(sector=code))


def create_structure(actor: User | None, *, regions: list[str], sectors: list[str], **data) -> PartnerStructure:
    """Add a partner structure (name unique whatever its case, at least one region and sector)."""
    _check_structure(None, data["name"], data["kind"], regions, sectors)
    structure = PartnerStructure(name=data["name"].strip(), kind=data["kind"])
    _apply_structure(structure, region_codes=regions, sector_codes=sectors, **data)
    db.session.add(structure)
    db.session.flush()
    audit.record("structure.create", structure, actor=actor, after=structure_state(structure))
    return structure


def update_structure(
    structure: PartnerStructure, actor: User | None, *, regions: list[str], sectors: list[str], **data
) -> bool:
    """Edit a partner structure; returns whether anything changed."""
    _check_structure(structure, data["name"], data["kind"], regions, sectors)
    before = structure_state(structure)
    _apply_structure(structure, region_codes=regions, sector_codes=sectors, **data)
    db.session.flush()
    after = structure_state(structure)
    changed = [k for k in after if after[k] != before[k]]
    if not changed:
        return False
    audit.record(
        "structure.update", structure, actor=actor,
        before={k: before[k] for k in changed}, after={k: after[k] for k in changed},
    )
    return True


# --- Lists (bounded queries whatever the data size) -----------------------------------------------


def users_query(*, role: str | None = None, active: str | None = None, text: str | None = None):
    """Users by name; their structure and association come in the same query."""
    query = select(User).options(
        joinedload(User.partner_structure).raiseload("*"),
        joinedload(User.association).raiseload("*"),
    )
    if role:
        query = query.where(User.role == role)
    if active in ("1", "0"):
        query = query.where(User.active.is_(active == "1"))
    if text:
        query = query.where(
            or_(User.name.icontains(text, autoescape=True), User.email.icontains(text, autoescape=True))
        )
    return query.order_by(func.lower(User.name), User.id)


def structures_query(*, kind: str | None = None, active: str | None = None):
    """Structures by name (regions and sectors load in one query each)."""
    query = select(PartnerStructure)
    if kind:
        query = query.where(PartnerStructure.kind == kind)
    if active in ("1", "0"):
        query = query.where(PartnerStructure.active.is_(active == "1"))
    return query.order_by(func.lower(PartnerStructure.name), PartnerStructure.id)


def structure_evaluators(structure: PartnerStructure) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.partner_structure_id == structure.id)
            .order_by(User.active.desc(), func.lower(User.name), User.id)
        )
    )
