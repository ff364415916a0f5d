"""Possible duplicate associations: the keys that find them, the officer's decisions, the merge.

Every association has one row of normalised keys (:class:`AssociationKey`), kept by the mapper events
below whenever its name, acronym, registration number or contact email is written, so finding the
candidates of an association is one indexed query, never a loop over the table:

- the **name key**: the name without accents, case, punctuation and common words ("association",
  "des", "pour", …), its words in alphabetical order ("Association des Amis de Kpalimé" and
  "Les amis de KPALIME" both read ``amis kpalime``); its first four letters (``name_prefix``) bring the
  few names spelt a little differently, which :mod:`difflib` then compares in Python (a ratio of
  :data:`SIMILAR_RATIO` or more);
- the **acronym** and the **initials** of the name ("Association pour le Développement de Tsévié" has
  the initials ``adt``): an acronym equal to another's acronym or initials;
- the **registration number** without spaces, dashes or case, and the **contact email** (stored
  lower-cased): either equal is a strong match.

The officer sees the candidates on the association's page (at sign-up the candidates found are written
to the audit log, and the list of associations to verify marks the strong and exact ones) and decides:
*not a duplicate* (the pair is recorded and stops being shown) or *merge*: the duplicate is closed as a
duplicate of the association kept, its members and its draft projects move to the kept one. Later steps
register what a merge must check and move of theirs (:func:`merge_check`, :func:`merge_step`): the
projects package refuses a duplicate holding money and moves its drafts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
    delete,
    event,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, aliased, mapped_column

from codev.accounts.models import Association, AssociationStatus, Invitation, Role, User
from codev.accounts.workflows import ASSOCIATION
from codev.core import audit
from codev.core.i18n import gettext as _
from codev.core.i18n import lazy_gettext as _l
from codev.core.name_keys import (  # noqa: F401 (the keys, read from here by the other modules too)
    COMMON_WORDS,
    NO_NUMBER,
    PREFIX_LENGTH,
    SIMILAR_RATIO,
    STOP_WORDS,
    _numbers,
    acronym_key,
    initials,
    name_key,
    registration_key,
    similarity,
    words,
)
from codev.core.timeutil import UTCDateTime, utcnow
from codev.core.unit_of_work import DomainError
from codev.extensions import db, sql_values

CANDIDATES_MAX = 30  # rows read per association: strong and exact matches first


# --- tables ----------------------------------------------------------------------------------------


class AssociationKey(db.Model):
    """The normalised keys of one association, each indexed, that find its possible duplicates."""

    __tablename__ = "association_keys"

    association_id: Mapped[int] = mapped_column(
        ForeignKey("associations.id", ondelete="CASCADE"), primary_key=True
    )
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    name_prefix: Mapped[str] = mapped_column(String(PREFIX_LENGTH), index=True)
    acronym_key: Mapped[str | None] = mapped_column(String(30), index=True)
    initials_key: Mapped[str | None] = mapped_column(String(30), index=True)
    registration_key: Mapped[str | None] = mapped_column(String(100), index=True)
    email_key: Mapped[str] = mapped_column(String(254), index=True)


class DuplicateOutcome(StrEnum):
    NOT_DUPLICATE = "not_duplicate"
    MERGED = "merged"

    @property
    def label(self) -> str:
        return str(DUPLICATE_OUTCOME_LABELS[self])


DUPLICATE_OUTCOME_LABELS = {
    DuplicateOutcome.NOT_DUPLICATE: _l("Not a duplicate"),
    DuplicateOutcome.MERGED: _l("Merged"),
}


class DuplicateDecision(db.Model):
    """An officer's decision on a pair of associations (smaller id first): the pair is no longer shown."""

    __tablename__ = "duplicate_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_id: Mapped[int] = mapped_column(ForeignKey("associations.id"))
    second_id: Mapped[int] = mapped_column(ForeignKey("associations.id"), index=True)
    outcome: Mapped[DuplicateOutcome] = mapped_column(String(20))
    kept_id: Mapped[int | None] = mapped_column(ForeignKey("associations.id"))  # a merge: the one kept
    note: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("first_id", "second_id", name="uq_duplicate_decisions_pair"),
        CheckConstraint("first_id < second_id", name="pair_ordered"),
        CheckConstraint(f"outcome IN ({sql_values(DuplicateOutcome)})", name="outcome_valid"),
        CheckConstraint("outcome <> 'merged' OR kept_id IS NOT NULL", name="merged_has_kept"),
    )


def key_values(association: Association) -> dict[str, Any]:
    key = name_key(association.name)
    return {
        "association_id": association.id, "name_key": key, "name_prefix": key[:PREFIX_LENGTH],
        "acronym_key": acronym_key(association.acronym), "initials_key": initials(association.name),
        "registration_key": registration_key(association.registration_number),
        "email_key": (association.contact_email or "").strip().lower(),
    }


KEYED = ("name", "acronym", "registration_number", "contact_email")


@event.listens_for(Association, "after_insert")
def _keys_inserted(mapper, connection, target: Association) -> None:
    connection.execute(insert(AssociationKey.__table__).values(**key_values(target)))


@event.listens_for(Association, "after_update")
def _keys_updated(mapper, connection, target: Association) -> None:
    state = inspect(target)
    if not any(state.attrs[name].history.has_changes() for name in KEYED):
        return
    table = AssociationKey.__table__
    connection.execute(delete(table).where(table.c.association_id == target.id))
    connection.execute(insert(table).values(**key_values(target)))


def refresh_keys() -> int:
    """Write the keys of every association again (after a change of the rules above); returns the count."""
    table = AssociationKey.__table__
    db.session.execute(delete(table))
    count = 0
    for association in db.session.scalars(select(Association).execution_options(yield_per=500)):
        db.session.execute(insert(table).values(**key_values(association)))
        count += 1
    return count


# --- finding the candidates --------------------------------------------------------------------------


REASON_LABELS = {
    "registration": _l("Same registration number"),
    "email": _l("Same contact email"),
    "name": _l("Same name (accents, case and common words aside)"),
    "acronym": _l("Same acronym or initials"),
    "similar": _l("Similar name"),
}
STRONG = frozenset({"registration", "email"})


@dataclass
class Candidate:
    """Another association that may be the same one, with why it was found."""

    association: Association
    reasons: list[str] = field(default_factory=list)
    ratio: float = 0.0

    @property
    def strong(self) -> bool:
        return bool(STRONG & set(self.reasons))

    @property
    def reason_labels(self) -> list[str]:
        return [str(REASON_LABELS[r]) for r in self.reasons]


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _undecided(other_id: Any, association_id: int):
    """No decision recorded on the pair (``association_id``, the row's ``other_id``)."""
    decided = select(DuplicateDecision.id).where(or_(
        and_(DuplicateDecision.first_id == association_id, DuplicateDecision.second_id == other_id),
        and_(DuplicateDecision.second_id == association_id, DuplicateDecision.first_id == other_id),
    ))
    return ~decided.exists()


def candidates(association: Association) -> list[Candidate]:
    """The associations that may be duplicates of ``association`` and are not decided yet, strongest first.

    One indexed query reads at most :data:`CANDIDATES_MAX` rows; Python only compares their names.
    """
    mine = key_values(association)
    k = AssociationKey
    acronyms = [v for v in (mine["acronym_key"], mine["initials_key"]) if v]
    matches = [k.name_key == mine["name_key"], k.email_key == mine["email_key"]]
    if len(mine["name_prefix"]) == PREFIX_LENGTH:
        matches.append(k.name_prefix == mine["name_prefix"])
    if mine["registration_key"]:
        matches.append(k.registration_key == mine["registration_key"])
    if acronyms:
        matches.append(k.acronym_key.in_(acronyms))
    if mine["acronym_key"] and len(mine["acronym_key"]) >= 3:
        matches.append(k.initials_key == mine["acronym_key"])
    strength = case(
        (or_(k.email_key == mine["email_key"], k.registration_key == (mine["registration_key"] or "")), 0),
        (k.name_key == mine["name_key"], 1), else_=2,
    )
    rows = db.session.execute(
        select(Association, k).join(k, k.association_id == Association.id)
        .where(Association.id != association.id, or_(*matches), _undecided(Association.id, association.id))
        .order_by(strength, Association.id).limit(CANDIDATES_MAX)
    ).all()
    found = []
    for other, keys in rows:
        candidate = Candidate(other, ratio=similarity(mine["name_key"], keys.name_key))
        if mine["registration_key"] and keys.registration_key == mine["registration_key"]:
            candidate.reasons.append("registration")
        if mine["email_key"] and keys.email_key == mine["email_key"]:
            candidate.reasons.append("email")
        if keys.name_key == mine["name_key"]:
            candidate.reasons.append("name")
        elif candidate.ratio >= SIMILAR_RATIO and _numbers(keys.name_key) == _numbers(mine["name_key"]):
            candidate.reasons.append("similar")
        my_acronym = mine["acronym_key"] if mine["acronym_key"] and len(mine["acronym_key"]) >= 3 else None
        if (keys.acronym_key and keys.acronym_key in acronyms) or (my_acronym and keys.initials_key == my_acronym):
            candidate.reasons.append("acronym")
        if candidate.reasons:
            found.append(candidate)
    found.sort(key=lambda c: (not c.strong, "name" not in c.reasons, -c.ratio, c.association.id))
    return found


def flagged(association_ids: list[int]) -> dict[int, int]:
    """For a page of associations, how many undecided candidates each has by an exact key (one query)."""
    if not association_ids:
        return {}
    mine, other = aliased(AssociationKey), aliased(AssociationKey)
    same = or_(
        other.name_key == mine.name_key, other.email_key == mine.email_key,
        other.registration_key == mine.registration_key, other.acronym_key == mine.acronym_key,
        other.acronym_key == mine.initials_key, other.initials_key == mine.acronym_key,
    )
    rows = db.session.execute(
        select(mine.association_id, func.count(other.association_id))
        .join(other, and_(other.association_id != mine.association_id, same))
        .where(mine.association_id.in_(association_ids),
               _undecided(other.association_id, mine.association_id))
        .group_by(mine.association_id)
    )
    return dict(rows.all())


def record_detected(association: Association, actor: Any) -> list[Candidate]:
    """At sign-up: the candidates found, written to the audit log for the officers (nothing if none)."""
    found = candidates(association)
    if found:
        audit.record("association.duplicates_found", association, actor=actor, after={
            "candidates": [{"id": c.association.id, "reasons": c.reasons} for c in found]})
    return found


# --- the officer's decisions ------------------------------------------------------------------------


class DuplicateError(DomainError):
    """A refused decision on a possible duplicate; the message is meant for the officer."""


Check = Callable[[Association, Association], str | None]
Step = Callable[[Association, Association, User], dict[str, Any]]
Preview = Callable[[Association], list[tuple[str, str]]]
MERGE_CHECKS: list[Check] = []
MERGE_STEPS: list[Step] = []
MERGE_PREVIEWS: list[Preview] = []


def merge_check(fn: Check) -> Check:
    """Register what refuses a merge (a later step's reason in words, or None)."""
    MERGE_CHECKS.append(fn)
    return fn


def merge_step(fn: Step) -> Step:
    """Register what a merge moves of a later step (returns what it moved, for the audit log)."""
    MERGE_STEPS.append(fn)
    return fn


def merge_preview(fn: Preview) -> Preview:
    """Register what a merge would move of a later step, as (label, figure) for the confirm step."""
    MERGE_PREVIEWS.append(fn)
    return fn


def merge_facts(duplicate: Association) -> list[tuple[str, str]]:
    """What a merge of ``duplicate`` would move: its members, then what later steps registered."""
    members = db.session.scalar(select(func.count(User.id)).where(User.association_id == duplicate.id)) or 0
    facts = [(_("Members moved"), str(members))]
    for preview in MERGE_PREVIEWS:
        facts += preview(duplicate)
    return facts


def decision_on(a: int, b: int) -> DuplicateDecision | None:
    first, second = _pair(a, b)
    return db.session.scalar(select(DuplicateDecision).where(
        DuplicateDecision.first_id == first, DuplicateDecision.second_id == second))


def _officer_only(officer: User, association: Association, other: Association) -> None:
    if officer.role != Role.OFFICER:
        raise DuplicateError(_("Only a programme officer can decide on possible duplicates."))
    if association.id == other.id:
        raise DuplicateError(_("An association cannot be a duplicate of itself."))
    if decision_on(association.id, other.id) is not None:
        raise DuplicateError(_("A decision on these two associations is already recorded; nothing was changed."))


def mark_not_duplicate(association: Association, other: Association, officer: User,
                       note: str | None = None) -> DuplicateDecision:
    """Record that two associations are different ones: the pair stops being shown (audited)."""
    _officer_only(officer, association, other)
    first, second = _pair(association.id, other.id)
    decision = DuplicateDecision(first_id=first, second_id=second, outcome=DuplicateOutcome.NOT_DUPLICATE,
                                 note=(note or "").strip() or None, decided_by_id=officer.id)
    db.session.add(decision)
    db.session.flush()
    audit.record("association.not_duplicate", association, actor=officer,
                 after={"other_id": other.id, "note": decision.note})
    return decision


def merge_problems(duplicate: Association, kept: Association) -> list[str]:
    """Why ``duplicate`` cannot be merged into ``kept`` (empty when it can)."""
    problems = []
    if duplicate.status == AssociationStatus.REJECTED:
        problems.append(_("%(name)s is already rejected: there is nothing to merge.", name=duplicate.display_name))
    if kept.status == AssociationStatus.REJECTED:
        problems.append(_("%(name)s is rejected: an association is merged into one that is not.",
                          name=kept.display_name))
    problems += [p for p in (check(duplicate, kept) for check in MERGE_CHECKS) if p]
    return problems


def merge_associations(duplicate: Association, kept: Association, officer: User) -> DuplicateDecision:
    """Close ``duplicate`` as a duplicate of ``kept``; move its members, invitations and what later steps
    registered (its draft projects) to ``kept``. Cannot be undone; every move is in the audit log."""
    _officer_only(officer, duplicate, kept)
    problems = merge_problems(duplicate, kept)
    if problems:
        raise DuplicateError(_("These associations cannot be merged."), problems)
    reason = _("Duplicate of %(name)s (no. %(id)s): its members and its draft projects were moved there.",
               name=kept.display_name, id=kept.id)
    ASSOCIATION.fire(duplicate, AssociationStatus.REJECTED, officer, reason)
    member_ids = list(db.session.scalars(select(User.id).where(User.association_id == duplicate.id)))
    db.session.execute(update(User).where(User.association_id == duplicate.id).values(association_id=kept.id)
                       .execution_options(synchronize_session=False))
    db.session.execute(update(Invitation).where(Invitation.association_id == duplicate.id)
                       .values(association_id=kept.id).execution_options(synchronize_session=False))
    moved: dict[str, Any] = {"kept_id": kept.id, "members": member_ids}
    for step in MERGE_STEPS:
        moved.update(step(duplicate, kept, officer))
    first, second = _pair(duplicate.id, kept.id)
    decision = DuplicateDecision(first_id=first, second_id=second, outcome=DuplicateOutcome.MERGED,
                                 kept_id=kept.id, decided_by_id=officer.id)
    db.session.add(decision)
    db.session.flush()
    audit.record("association.merge", duplicate, actor=officer, after=moved)
    audit.record("association.merged_into", kept, actor=officer, after={"duplicate_id": duplicate.id, **moved})
    db.session.expire_all()  # the members' and projects' association, changed by the updates above
    return decision
