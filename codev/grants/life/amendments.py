"""Amendments of a grant (DESIGN.md rule 6), each by an approver with the reason: the contribution deadline
extended, the amount reduced, or the amount increased within the envelope and the rules.

Each one locks the grant (a disbursement may be on its way), checks, changes the grant and its tranches,
writes a :class:`~codev.grants.models.GrantAmendment` (append-only) and the audit event, issues version
n+1 of the award letters in both languages (they state the amendment; the previous valid letters become
superseded through the letter workflow) and emails the association. A reduction gives the difference back
to the call's envelope (``release_envelope``, then :func:`codev.grants.life.reserve.money_returned`); an
increase takes it through the same guarded statement as an approval (``commit_envelope``), so concurrent
increases and approvals never commit more than the envelope holds.

The amounts follow the approval's own rules: the tranches are split again with
:func:`~codev.grants.award.approval.split_tranches` on the grant's shares, the association money that
unlocks the grant is recomputed with its ratio, and an increase passes
:func:`~codev.grants.award.approval.amount_problems` against the call's rules as they were snapshotted at
the approval (never the call as it stands today). Services flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import Any

from flask_babel import format_date
from sqlalchemy import func, select

from codev.accounts.models import Role, User
from codev.calls.rules import PlanFigures, max_grant_allowed
from codev.core import audit
from codev.core.i18n import gettext as _
from codev.core.money import commit_envelope, format_xof, release_envelope
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import DomainError
from codev.extensions import db
from codev.grants.award import letters as award_letters
from codev.grants.award.approval import (
    amount_problems,
    mail_members,
    remaining_envelope,
    split_tranches,
)
from codev.grants.common import lock_grant
from codev.grants.disbursements.tranches import MoneyFacts, money_facts
from codev.grants.life.reserve import money_returned
from codev.grants.models import (
    AMENDMENT_KIND_LABELS,
    AmendmentKind,
    AwardLetter,
    Grant,
    GrantAmendment,
    GrantStatus,
    LetterStatus,
)
from codev.grants.workflows import LETTER

AMENDABLE = (GrantStatus.AWARDED, GrantStatus.ACTIVE)
REASON_MAX = 2000


class AmendmentError(DomainError):
    """A refused amendment; ``str(error)`` is meant for the person, ``field`` names the form field."""


# --- who may, and what the page shows ---------------------------------------------------------------


def can_amend(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.role == Role.APPROVER)


def amendable(grant: Grant) -> bool:
    """An awarded or active grant that still has a valid letter (a revoked grant is cancelled, not amended)."""
    return grant.status in AMENDABLE and bool(award_letters.valid_letters(grant))


def not_amendable_reason(grant: Grant) -> str:
    if grant.status not in AMENDABLE:
        return _("Only an awarded or active grant can be amended; this one is “%(state)s”.",
                 state=GrantStatus(grant.status).label)
    return _("This grant's award letters were revoked: it cannot be amended. If the project will not go on, "
             "cancel the grant.")


def amendments_of(grant: Grant) -> list[GrantAmendment]:
    return list(db.session.scalars(
        select(GrantAmendment).where(GrantAmendment.grant_id == grant.id).order_by(GrantAmendment.id)
    ))


def snapshot_rules(grant: Grant) -> SimpleNamespace:
    """The call's funding rules as they stood at the approval (what an increase is checked against)."""
    snap = grant.rules_snapshot or {}
    return SimpleNamespace(
        ratio_num=grant.ratio_num, ratio_den=grant.ratio_den, in_kind_counts_bps=grant.in_kind_counts_bps,
        max_grant_xof=snap.get("max_grant_xof"), max_grant_share_bps=snap.get("max_grant_share_bps"),
        min_association_share_bps=snap.get("min_association_share_bps"),
        max_total_budget_xof=snap.get("max_total_budget_xof"),
    )


def snapshot_figures(grant: Grant) -> PlanFigures:
    """The project's plan as it stood at the approval."""
    plan = (grant.rules_snapshot or {}).get("plan") or {}
    keys = ("total_budget", "association_cash", "association_in_kind", "community", "commune", "other",
            "requested_grant")
    return PlanFigures(**{key: int(plan.get(key) or 0) for key in keys})


@dataclass(frozen=True)
class AmendmentFacts:
    """What the amendment pages show: the grant's money now and the limits of each kind."""

    amount: int
    disbursed: int
    pending: int  # awaiting a second signature
    floor: int  # the least a reduction may leave (paid and pending money of each tranche, kept whole)
    max_allowed: int  # the most the snapshotted rules allow
    requested: int  # what the association asked for
    remaining: int  # the call's envelope not yet committed


def amendment_facts(grant: Grant) -> AmendmentFacts:
    facts = money_facts([grant])[grant.id]
    return AmendmentFacts(
        amount=grant.amount_xof, disbursed=facts.d, pending=facts.pending, floor=reduction_floor(grant, facts),
        max_allowed=max_grant_allowed(snapshot_rules(grant), snapshot_figures(grant)),
        requested=snapshot_figures(grant).requested_grant or grant.project.requested_grant_xof,
        remaining=remaining_envelope(grant.call_id),
    )


def _plan(grant: Grant) -> list[tuple[int, str]]:
    return [(t.share_bps, str(t.condition)) for t in grant.tranches]


def _taken(facts: MoneyFacts, number: int) -> int:
    return facts.paid_by_tranche.get(number, 0) + facts.pending_by_tranche.get(number, 0)


def tranche_problems(grant: Grant, amount: int, facts: MoneyFacts) -> list[str]:
    """Why the tranches cannot be split again for ``amount`` (each tranche must keep what it paid)."""
    taken_total = facts.d + facts.pending
    if amount < taken_total:
        return [_("%(d)s of this grant is already paid or awaiting a second signature: the amount cannot go "
                  "below it.", d=format_xof(taken_total))]
    problems = []
    for number, _share, part, _condition in split_tranches(amount, _plan(grant)):
        if part <= 0:
            return [_("The amount is too small to be split into the grant's tranches.")]
        taken = _taken(facts, number)
        if part < taken:
            problems.append(_("Tranche %(n)s would be %(part)s, less than the %(taken)s already paid or awaiting "
                              "signature on it.", n=number, part=format_xof(part), taken=format_xof(taken)))
    return problems


def reduction_floor(grant: Grant, facts: MoneyFacts) -> int:
    """The least amount whose tranches still hold what each one paid (or has pending), at least 1 F CFA."""
    low, high = max(1, facts.d + facts.pending), grant.amount_xof
    if tranche_problems(grant, high, facts):
        return high
    while low < high:  # the tranche parts grow with the amount: the first amount that works
        middle = (low + high) // 2
        if tranche_problems(grant, middle, facts):
            low = middle + 1
        else:
            high = middle
    return low


# --- the amendments ----------------------------------------------------------------------------------


def _start(grant: Grant, user: User, reason: str | None) -> str:
    """The checks every amendment shares; returns the reason. Locks the grant for the transaction."""
    if not can_amend(user):
        raise AmendmentError(_("Only an approver may amend a grant."))
    reason = (reason or "").strip()
    if not reason:
        raise AmendmentError(_("Give the reason for the amendment: the association and the letter will state "
                               "it."), field="reason")
    if len(reason) > REASON_MAX:
        raise AmendmentError(_("The reason is too long (at most %(n)s characters).", n=REASON_MAX), field="reason")
    lock_grant(grant)  # a disbursement or another amendment may be on its way: read it again under the lock
    if not amendable(grant):
        raise AmendmentError(not_amendable_reason(grant))
    return reason


def extend_deadline(grant: Grant, user: User, new_deadline: date | None, reason: str | None) -> GrantAmendment:
    """Move the contribution deadline later (an awarded or active grant)."""
    reason = _start(grant, user, reason)
    before = grant.contribution_deadline
    if new_deadline is None:
        raise AmendmentError(_("Enter the new deadline."), field="deadline")
    if new_deadline <= before:
        raise AmendmentError(_("The new deadline must be later than the current one, %(date)s.",
                               date=format_date(before, "long")), field="deadline")
    grant.contribution_deadline = new_deadline
    return _record(grant, user, AmendmentKind.EXTEND_DEADLINE, reason, grant.amount_xof, grant.amount_xof,
                   before, new_deadline)


def reduce_amount(grant: Grant, user: User, new_amount: int | None, reason: str | None) -> GrantAmendment:
    """Lower the grant (never below what is paid or pending on each tranche); the difference returns to the call."""
    reason = _start(grant, user, reason)
    before = grant.amount_xof
    if new_amount is None or new_amount <= 0:
        raise AmendmentError(_("Enter the new amount of the grant."), field="amount")
    if new_amount >= before:
        raise AmendmentError(_("A reduction must leave less than the present %(a)s.", a=format_xof(before)),
                             field="amount")
    facts = money_facts([grant])[grant.id]
    problems = tranche_problems(grant, new_amount, facts)
    if problems:
        raise AmendmentError(" ".join(problems), field="amount")
    released = before - new_amount
    if not release_envelope(db.session, grant.call_id, released):
        raise AmendmentError(_("The call's envelope does not hold this grant's money: nothing was changed."))
    _set_amount(grant, new_amount)
    amendment = _record(grant, user, AmendmentKind.REDUCE, reason, before, new_amount,
                        grant.contribution_deadline, grant.contribution_deadline)
    money_returned(grant.call_id, released, user)
    return amendment


def increase_amount(grant: Grant, user: User, new_amount: int | None, reason: str | None) -> GrantAmendment:
    """Raise the grant within the rules snapshotted at the approval and within the envelope (guarded)."""
    reason = _start(grant, user, reason)
    before = grant.amount_xof
    if new_amount is None or new_amount <= 0:
        raise AmendmentError(_("Enter the new amount of the grant."), field="amount")
    if new_amount <= before:
        raise AmendmentError(_("An increase must give more than the present %(a)s.", a=format_xof(before)),
                             field="amount")
    rules = SimpleNamespace(call=snapshot_rules(grant),
                            requested_grant_xof=snapshot_figures(grant).requested_grant
                            or grant.project.requested_grant_xof)
    problems = amount_problems(rules, new_amount, snapshot_figures(grant))
    problems += tranche_problems(grant, new_amount, money_facts([grant])[grant.id])
    if problems:
        raise AmendmentError(" ".join(problems), field="amount")
    added = new_amount - before
    if not commit_envelope(db.session, grant.call_id, added):
        raise AmendmentError(_("The call's envelope cannot take this increase of %(a)s: only %(r)s remain "
                               "uncommitted.", a=format_xof(added), r=format_xof(remaining_envelope(grant.call_id))),
                             field="amount")
    db.session.expire(grant.call, ["committed_xof"])
    _set_amount(grant, new_amount)
    return _record(grant, user, AmendmentKind.INCREASE, reason, before, new_amount,
                   grant.contribution_deadline, grant.contribution_deadline)


def _set_amount(grant: Grant, amount: int) -> None:
    """The grant's amount, the association money that unlocks it and its tranches, split as at approval."""
    parts = {number: part for number, _share, part, _condition in split_tranches(amount, _plan(grant))}
    grant.amount_xof = amount
    grant.required_association_xof = grant.ratio.required_for(amount)
    for tranche in grant.tranches:
        tranche.amount_xof = parts[tranche.number]


def next_letter_version(grant: Grant) -> int:
    return (db.session.scalar(select(func.max(AwardLetter.version)).where(AwardLetter.grant_id == grant.id))
            or 0) + 1


def _record(grant: Grant, user: User, kind: AmendmentKind, reason: str, amount_before: int, amount_after: int,
            deadline_before: date, deadline_after: date) -> GrantAmendment:
    """The amendment row, the new letters, the audit event and the association's email."""
    version = next_letter_version(grant)
    amendment = GrantAmendment(
        grant_id=grant.id, kind=kind, reason=reason, amount_before_xof=amount_before,
        amount_after_xof=amount_after, deadline_before=deadline_before, deadline_after=deadline_after,
        letter_version=version, approved_by_id=user.id, created_at=utcnow(),
    )
    grant.amendments.append(amendment)
    db.session.flush()
    new_letters = issue_letters(grant, user, version, reason)
    audit.record(f"grant.amended.{kind}", grant, actor=user, before={
        "amount_xof": amount_before, "contribution_deadline": deadline_before.isoformat(),
    }, after={
        "amount_xof": amount_after, "contribution_deadline": deadline_after.isoformat(),
        "required_association_xof": grant.required_association_xof, "reason": reason,
        "amendment_id": amendment.id, "letters": [letter.reference for letter in new_letters],
    })
    db.session.flush()
    mail_members(grant, "grant_amended", kind=AMENDMENT_KIND_LABELS[kind], reason=reason,
                 amount_before=amount_before, amount_after=amount_after, deadline_before=deadline_before,
                 deadline_after=deadline_after, version=version, amount_changed=amount_before != amount_after)
    return amendment


def issue_letters(grant: Grant, user: User, version: int, reason: str) -> list[AwardLetter]:
    """Version ``version`` of the letters in both languages; the valid ones become superseded."""
    current = list(db.session.scalars(
        select(AwardLetter).where(AwardLetter.grant_id == grant.id, AwardLetter.status == LetterStatus.VALID)
        .order_by(AwardLetter.version.desc(), AwardLetter.id)
    ))
    latest = current[0] if current else None
    title = user.title or (latest.signatory_title if latest else "") or ""
    new_letters = award_letters.build_letters(grant, grant.project, user, version=version,
                                              signatory_name=user.name, signatory_title=title)
    now = utcnow()
    for letter in current:
        letter.status_reason = reason
        letter.status_changed_at = now
        LETTER.fire(letter, LetterStatus.SUPERSEDED, user, reason)
    for letter in new_letters:
        letter.grant_id = grant.id
        db.session.add(letter)
    db.session.flush()
    return new_letters
