"""Approving a grant: the amount within every rule and the envelope, the rules' snapshot, the tranches,
the project's move to ``funded`` and the award letters, all in the caller's one transaction.

The envelope (DESIGN.md rule 3) is protected by ONE guarded statement,
``UPDATE calls SET committed_xof = committed_xof + :a WHERE id = :id AND committed_xof + :a <= envelope_xof``,
whose row count says whether the grant fits. It holds under concurrent approvals on SQLite (the statement
takes the write lock; a check-then-write would not) and on PostgreSQL (the row lock makes the second
statement re-read the committed value). The letters are rendered before that statement, so the write
lock is held only for the inserts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import defer, joinedload

from codev.accounts.models import Role, User
from codev.calls.models import Call, TrancheCondition
from codev.calls.rules import PlanFigures, check_plan, max_grant_allowed
from codev.core import audit
from codev.core.i18n import gettext as _
from codev.core.money import BPS, Ratio, commit_envelope, format_xof, split
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import DomainError
from codev.extensions import db
from codev.grants.award.letters import build_letters
from codev.grants.common import mail_members
from codev.grants.models import AwardLetter, Grant, GrantStatus, GrantTranche, LetterStatus
from codev.projects.models import Project, ProjectStatus
from codev.projects.workflow import fire, plan_figures

# When a call sets no contribution deadline, the association has this many days after the award.
DEFAULT_CONTRIBUTION_DAYS = 180


class GrantError(DomainError):
    """A refused approval; ``str(error)`` is meant for the person."""


# --- what the approval page shows -----------------------------------------------------------------


def committee_amount(project: Project) -> int | None:
    """The amount the latest committee decision on ``project`` proposed, if any."""
    from codev.reviews.models import CommitteeDecision

    return db.session.scalar(
        select(CommitteeDecision.amount_proposed_xof)
        .where(CommitteeDecision.project_id == project.id)
        .order_by(CommitteeDecision.decided_at.desc(), CommitteeDecision.id.desc())
        .limit(1)
    )


def remaining_envelope(call_id: int) -> int:
    """The envelope not yet committed, read from the database (not from a loaded object)."""
    return db.session.execute(
        select(Call.envelope_xof - Call.committed_xof).where(Call.id == call_id)
    ).scalar_one()


@dataclass(frozen=True)
class ApprovalFacts:
    requested: int
    proposed: int  # the committee's amount, else the request
    max_allowed: int  # max_grant_allowed of the call's rules for this plan
    remaining: int  # envelope left in the call
    figures: PlanFigures


def approval_facts(project: Project) -> ApprovalFacts:
    figures = plan_figures(project)
    proposed = committee_amount(project)
    return ApprovalFacts(
        requested=project.requested_grant_xof,
        proposed=proposed if proposed else project.requested_grant_xof,
        max_allowed=max_grant_allowed(project.call, figures),
        remaining=remaining_envelope(project.call_id),
        figures=figures,
    )


def approvable(project: Project) -> bool:
    return project.status == ProjectStatus.APPROVED and grant_of(project) is None


def grant_of(project: Project) -> Grant | None:
    return db.session.scalar(select(Grant).where(Grant.project_id == project.id))


def awaiting_approval(limit: int = 20) -> tuple[list[Project], int]:
    """Projects the committee approved that have no grant yet (the first ``limit``) and how many in all."""
    waiting = (Project.status == ProjectStatus.APPROVED,
               ~select(Grant.id).where(Grant.project_id == Project.id).exists())
    projects = list(db.session.scalars(
        select(Project).where(*waiting)
        .options(joinedload(Project.association).lazyload("*"), joinedload(Project.call).lazyload("*"))
        .order_by(Project.updated_at, Project.id).limit(limit)
    ))
    count = db.session.scalar(select(func.count(Project.id)).where(*waiting)) or 0
    return projects, count


def association_grants(association_id: int, limit: int = 5) -> list[tuple[Grant, AwardLetter | None]]:
    """The association's latest grants, each with its valid letter in the association's language."""
    grants = list(db.session.scalars(
        select(Grant).join(Project, Grant.project_id == Project.id)
        .where(Project.association_id == association_id)
        .options(joinedload(Grant.project).joinedload(Project.association))
        .order_by(Grant.approved_at.desc(), Grant.id.desc()).limit(limit)
    ))
    if not grants:
        return []
    language = grants[0].project.association.locale
    found = db.session.scalars(
        select(AwardLetter).where(AwardLetter.grant_id.in_([g.id for g in grants]),
                                  AwardLetter.status == LetterStatus.VALID, AwardLetter.language == language)
        .options(defer(AwardLetter.pdf))
    )
    by_grant = {letter.grant_id: letter for letter in found}
    return [(grant, by_grant.get(grant.id)) for grant in grants]


# --- the rules and the tranches -------------------------------------------------------------------


def amount_problems(project: Project, amount: int, figures: PlanFigures | None = None) -> list[str]:
    """Why ``amount`` cannot be granted to ``project`` (empty when it can), envelope aside."""
    figures = figures or plan_figures(project)
    call = project.call
    if amount <= 0:
        return [_("The amount must be greater than zero.")]
    problems = []
    if amount > project.requested_grant_xof:
        problems.append(_("The amount, %(a)s, is more than the association asked for (%(r)s).",
                          a=format_xof(amount), r=format_xof(project.requested_grant_xof)))
    allowed = max_grant_allowed(call, figures)
    if amount > allowed:
        problems.append(_("The amount, %(a)s, is more than the call's rules allow for this project "
                          "(at most %(m)s: the match, the maximum grant and the maximum share of the budget).",
                          a=format_xof(amount), m=format_xof(allowed)))
    # The rules that do not depend on the grant (the association's share, the budget ceiling).
    for check in check_plan(call, figures):
        if not check.ok and check.code in ("budget_positive", "min_association_share", "max_budget"):
            problems.append(check.message)
    return problems


def split_tranches(amount: int, plan: list[tuple[int, str]]) -> list[tuple[int, int, int, str]]:
    """(number, share, amount, condition) of each tranche: floor per share, the last takes the rest.

    The amounts add up to ``amount`` exactly. A call without a tranche plan pays in one tranche, once the
    association's contribution is verified.
    """
    plan = plan or [(BPS, str(TrancheCondition.CONTRIBUTION_VERIFIED))]
    parts = split(amount, [share for share, _condition in plan])
    return [(number, share, part, condition)
            for number, ((share, condition), part) in enumerate(zip(plan, parts, strict=True), start=1)]


def rules_snapshot(call: Call, figures: PlanFigures, proposed: int, allowed: int) -> dict[str, Any]:
    """Every funding rule of the call and the plan's figures, as they stood at approval."""
    return {
        "call_id": call.id, "call_title": call.title,
        "ratio_num": call.ratio_num, "ratio_den": call.ratio_den,
        "max_grant_xof": call.max_grant_xof, "max_grant_share_bps": call.max_grant_share_bps,
        "min_association_share_bps": call.min_association_share_bps,
        "max_total_budget_xof": call.max_total_budget_xof, "in_kind_counts_bps": call.in_kind_counts_bps,
        "contribution_deadline_days": call.contribution_deadline_days, "envelope_xof": call.envelope_xof,
        "tranches": [{"number": t.number, "share_bps": t.share_bps, "condition": str(t.condition)}
                     for t in call.tranches],
        "plan": {
            "total_budget": figures.total_budget, "association_cash": figures.association_cash,
            "association_in_kind": figures.association_in_kind, "community": figures.community,
            "commune": figures.commune, "other": figures.other, "requested_grant": figures.requested_grant,
        },
        "max_grant_allowed": allowed,
        "committee_amount": proposed,
    }


def new_grant(project: Project, user: User, amount: int, facts: ApprovalFacts) -> Grant:
    """The grant as it will be stored (transient: not in the session yet)."""
    call = project.call
    tranches = split_tranches(amount, [(t.share_bps, str(t.condition)) for t in call.tranches])
    if any(part <= 0 for _n, _s, part, _c in tranches):
        raise GrantError(_("The amount is too small to be split into the call's tranches."), field="amount")
    days = call.contribution_deadline_days or DEFAULT_CONTRIBUTION_DAYS
    return Grant(
        project_id=project.id, call_id=call.id, amount_xof=amount,
        ratio_num=call.ratio_num, ratio_den=call.ratio_den, in_kind_counts_bps=call.in_kind_counts_bps,
        rules_snapshot=rules_snapshot(call, facts.figures, facts.proposed, facts.max_allowed),
        required_association_xof=Ratio(call.ratio_num, call.ratio_den).required_for(amount),
        contribution_deadline=utcnow().date() + timedelta(days=days),
        status=GrantStatus.AWARDED, approved_by_id=user.id, approved_at=utcnow(), released_xof=0,
        tranches=[GrantTranche(number=n, share_bps=s, amount_xof=a, condition=c) for n, s, a, c in tranches],
    )


# --- the approval -------------------------------------------------------------------------------


def commit_to_envelope(call_id: int, amount: int) -> None:
    """Add ``amount`` to the call's committed money if it fits, in one guarded statement."""
    if not commit_envelope(db.session, call_id, amount):
        raise GrantError(_("The call's envelope cannot take this grant: only %(r)s remain uncommitted.",
                           r=format_xof(remaining_envelope(call_id))), field="amount")
    call = db.session.get(Call, call_id)
    if call is not None:
        db.session.expire(call, ["committed_xof"])


def check_approval(project: Project, user: User, amount: int, signatory_name: str | None,
                   signatory_title: str | None) -> ApprovalFacts:
    """Refuse (:class:`GrantError`) an approval that :func:`approve_grant` would refuse; its figures when not.

    Asked before the confirm step too, so that the person confirms only an approval that can be made.
    """
    if user.role != Role.APPROVER:
        raise GrantError(_("Only an approver may approve a grant."))
    if project.status != ProjectStatus.APPROVED:
        raise GrantError(_("Only a project the committee approved can receive a grant."))
    if grant_of(project) is not None:
        raise GrantError(_("This project already has a grant."))
    if not (signatory_name or "").strip() or not (signatory_title or "").strip():
        raise GrantError(_("Give the name and title of the signatory."), field="signatory_name")
    facts = approval_facts(project)
    problems = amount_problems(project, amount, facts.figures)
    if problems:
        raise GrantError(" ".join(problems), field="amount")
    return facts


def approve_grant(project: Project, user: User, amount: int, signatory_name: str, signatory_title: str) -> Grant:
    """Approve ``amount`` for ``project``: envelope, snapshot, tranches, approved → funded, letters, emails.

    Raises :class:`GrantError` (or ``TransitionRefused``) with a message for the person; flushes, never commits.
    """
    facts = check_approval(project, user, amount, signatory_name, signatory_title)
    signatory_name, signatory_title = signatory_name.strip(), signatory_title.strip()
    grant = new_grant(project, user, amount, facts)
    letters = build_letters(grant, project, user, version=1, signatory_name=signatory_name,
                            signatory_title=signatory_title)
    commit_to_envelope(project.call_id, amount)  # the first write: from here the call is ours
    db.session.add(grant)
    db.session.flush()
    fire(project, ProjectStatus.FUNDED, user,
         _("Grant of %(a)s approved.", a=format_xof(amount)))
    for letter in letters:
        letter.grant_id = grant.id
        db.session.add(letter)
    db.session.flush()
    audit.record("grant.approved", grant, actor=user, after={
        "project": project.reference, "amount_xof": amount, "call_id": project.call_id,
        "letters": [letter.reference for letter in letters],
    })
    mail_members(grant, "grant_awarded", officers=True)
    return grant
