"""Lapse (DESIGN.md rule 5): a grant whose match never arrived returns its money to the call's envelope.

An AWARDED grant lapses when its contribution deadline has passed, the association's verified eligible
money V is still below what the grant requires and nothing was disbursed; its project moves funded →
lapsed with it (both through the one engine). Its unspent balance G − D is released to the envelope
with one guarded UPDATE, so the envelope can never go below zero, and offered to the reserve list
(:func:`codev.grants.life.reserve.money_returned`); running the command twice changes nothing the
second time (the grant is no longer awarded, and :func:`lapse_grant` reads it again under its lock).

Nothing here commits: the officer's button lapses them all in its one unit of work, and the
``close-lapsed`` command (:mod:`codev.cli`) commits grant by grant, so one grant refused leaves the
others lapsed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from codev.core.i18n import gettext as _
from codev.core.money import format_xof, release_envelope
from codev.core.timeutil import utcnow
from codev.core.workflow import SYSTEM
from codev.extensions import db
from codev.grants.common import LedgerError, lock_grant, long_date, mail_members
from codev.grants.disbursements import due
from codev.grants.disbursements.tranches import money_facts
from codev.grants.life.reserve import money_returned
from codev.grants.models import Grant, GrantStatus
from codev.grants.workflows import GRANT
from codev.projects.models import ProjectStatus
from codev.projects.workflow import PROJECT


def lapsable_query(today: date):
    """Awarded grants past their contribution deadline (V and D are checked one by one, under lock)."""
    return (select(Grant).where(Grant.status == GrantStatus.AWARDED, Grant.contribution_deadline < today)
            .order_by(Grant.id))


def should_lapse(grant: Grant, today: date) -> bool:
    """The rule, read from fresh figures: deadline passed, match incomplete, nothing paid or being signed."""
    if grant.status != GrantStatus.AWARDED or grant.contribution_deadline >= today:
        return False
    facts = money_facts([grant])[grant.id]
    return facts.v < grant.required_association_xof and facts.d == 0 and facts.pending == 0


def lapse_grant(grant: Grant, actor: Any = None, today: date | None = None) -> bool:
    """Lapse one grant if the rule says so and give its unspent balance back to the envelope.

    The grant moves awarded → lapsed and its project funded → lapsed, both through the one engine, as
    ``actor`` (the officer's button) or, without one, as :data:`codev.core.workflow.SYSTEM` (the nightly job).
    """
    actor = actor or SYSTEM
    today = today or utcnow().date()
    if grant.status != GrantStatus.AWARDED:
        return False
    lock_grant(grant)  # a disbursement or a verification may be on its way
    if not should_lapse(grant, today):
        return False
    facts = money_facts([grant])[grant.id]
    released = grant.amount_xof - facts.d
    if not release_envelope(db.session, grant.call_id, released):
        raise LedgerError(_("The call's envelope does not hold this grant's money: nothing was changed."))
    grant.lapsed_at = utcnow()
    grant.released_xof = released
    GRANT.fire(grant, GrantStatus.LAPSED, actor, audit_after={
        "released_xof": released, "verified_xof": facts.v, "required_xof": grant.required_association_xof})
    project = grant.project
    if project.status == ProjectStatus.FUNDED:
        PROJECT.fire(project, ProjectStatus.LAPSED, actor, _(
            "The grant lapsed: %(verified)s of the association's contribution was verified by the deadline, of "
            "%(required)s required; %(released)s returned to the call's envelope.",
            verified=format_xof(facts.v), required=format_xof(grant.required_association_xof),
            released=format_xof(released)))
    db.session.expire(grant, ["call"])  # the call row was changed behind the ORM's back
    money_returned(grant.call_id, released, actor)
    mail_members(grant, "lapse_notice", released=lambda locale: format_xof(released, locale),
                 verified=lambda locale: format_xof(facts.v, locale),
                 required=lambda locale: format_xof(grant.required_association_xof, locale),
                 deadline=long_date(grant.contribution_deadline))
    return True


def lapsable_ids(today: date | None = None) -> list[int]:
    """The awarded grants past their deadline, by id: each is judged (and lapsed) by :func:`lapse_grant_id`."""
    return list(db.session.scalars(lapsable_query(today or utcnow().date()).with_only_columns(Grant.id)))


def lapse_grant_id(grant_id: int, actor: Any = None, today: date | None = None) -> Grant | None:
    """Lapse the grant ``grant_id`` if the rule says so (one item of the batch); returns it when it lapsed."""
    grant = db.session.get(Grant, grant_id)
    return grant if grant is not None and lapse_grant(grant, actor, today) else None


def close_lapsed(actor: Any = None, today: date | None = None) -> list[Grant]:
    """Lapse every grant the rule designates; returns those lapsed now (none on a second run)."""
    today = today or utcnow().date()
    return [grant for grant_id in lapsable_ids(today) if (grant := lapse_grant_id(grant_id, actor, today))]


def count_lapsable(today: date | None = None) -> int:
    """How many awarded grants would lapse now (the officer's home card), counted in SQL."""
    return due.count_lapsable(today or utcnow().date())
