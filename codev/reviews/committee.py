"""The selection committee: sessions, the ranking they decide on, decisions, minutes.

Who may do what is decided here (``can_*`` and ``get_session_or_404``). Services check, mutate, write
the audit event and flush; they never commit, flash or read ``request``. A refused operation raises
:class:`CommitteeError`, whose message is meant for the person (and ``field`` names the form field it
belongs beside, when there is one). Project statuses change only through
:func:`codev.projects.workflow.fire`; the session's own (open → closed) through
:data:`codev.reviews.workflows.SESSION`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import abort
from sqlalchemy import Index, and_, func, or_, select
from sqlalchemy.orm import joinedload

from codev.accounts.models import Association, Role, User
from codev.calls.models import Call, CallStatus
from codev.core import audit
from codev.core.i18n import gettext as _
from codev.core.mail import queue_mail
from codev.core.money import format_xof
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import DomainError
from codev.core.workflow import TransitionRefused
from codev.extensions import db
from codev.projects.models import Project, ProjectStatus
from codev.projects.services import project_url
from codev.projects.workflow import fire
from codev.reviews.models import (
    CommitteeDecision,
    CommitteeSession,
    DecisionOutcome,
    ReserveEntry,
    ReviewResult,
    SessionStatus,
)
from codev.reviews.ranking import (
    Candidate,
    Ranking,
    in_given_order,
    parse_tie_breaks,
    rank,
)
from codev.reviews.workflows import SESSION

S = ProjectStatus
DECIDABLE = frozenset({S.QUALIFIED, S.DEFERRED})
# Projects whose grant was approved: they count in a commune's total for the tie-break.
FUNDED = (S.APPROVED, S.FUNDED, S.COMPLETED, S.CLOSED)
APPROVALS = frozenset({DecisionOutcome.APPROVED, DecisionOutcome.CONDITIONALLY_APPROVED})
OUTCOME_STATUS = {
    DecisionOutcome.APPROVED: S.APPROVED,
    DecisionOutcome.CONDITIONALLY_APPROVED: S.APPROVED,
    DecisionOutcome.DEFERRED: S.DEFERRED,
    DecisionOutcome.REJECTED: S.REJECTED,
}
MAX_MEMBERS = 40


class CommitteeError(DomainError):
    """A refused committee operation; ``str(error)`` is meant for the person, ``field`` the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message, field=field)


# --- who may do what (every ministry role reads every session: the routes say so) ----------------


def can_create(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.role == Role.OFFICER)


def can_edit(user: Any, session: CommitteeSession) -> bool:
    """Officers correct the facts of a session until it is closed."""
    return can_create(user) and session.status == SessionStatus.OPEN


def can_decide(user: Any, session: CommitteeSession) -> bool:
    """Officers and approvers record decisions (and the minutes) until the session is closed."""
    return (
        bool(getattr(user, "is_authenticated", False))
        and user.role in (Role.OFFICER, Role.APPROVER)
        and session.status == SessionStatus.OPEN
    )


def get_session_or_404(session_id: int) -> CommitteeSession:
    session = db.session.scalar(
        select(CommitteeSession).where(CommitteeSession.id == session_id).options(joinedload(CommitteeSession.call))
    )
    if session is None:
        abort(404)
    return session


def get_session_project_or_404(session: CommitteeSession, project_id: int) -> Project:
    """A project of the session's call (404 for any other)."""
    project = db.session.scalar(
        select(Project).where(Project.id == project_id).options(joinedload(Project.association))
    )
    if project is None or project.call_id != session.call_id:
        abort(404)
    return project


def _require_open(session: CommitteeSession) -> None:
    if session.status != SessionStatus.OPEN:
        raise CommitteeError(_("This session is closed: nothing in it can change any more."))


# --- sessions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionData:
    call_id: int
    held_on: date
    place: str | None
    members: str
    chair: str | None
    tie_breaks: tuple[str, ...]


def member_lines(text: str | None) -> list[str]:
    """The members, one per line, without blank lines."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def decidable_calls() -> list[Call]:
    """Calls a session may be held for (every call but drafts), newest first."""
    return list(db.session.scalars(select(Call).where(Call.status != CallStatus.DRAFT).order_by(Call.id.desc())))


def _check(data: SessionData) -> list[str]:
    members = member_lines(data.members)
    if not members:
        raise CommitteeError(_("List the members of the committee, one per line."), "members")
    if len(members) > MAX_MEMBERS:
        raise CommitteeError(_("A committee has at most %(n)s members.", n=MAX_MEMBERS), "members")
    call = db.session.get(Call, data.call_id)
    if call is None or call.status == CallStatus.DRAFT:
        raise CommitteeError(_("Choose a call that has been opened."), "call")
    return members


def _facts(session: CommitteeSession) -> dict:
    return {"call_id": session.call_id, "held_on": session.held_on.isoformat(), "place": session.place,
            "members": session.members, "chair": session.chair, "tie_breaks": session.tie_breaks}


def create_session(data: SessionData, user: User) -> CommitteeSession:
    """A new sitting of the committee for a call (officers)."""
    if not can_create(user):
        raise CommitteeError(_("Only programme officers can convene the committee."))
    members = _check(data)
    session = CommitteeSession(
        call_id=data.call_id, held_on=data.held_on, place=data.place, members="\n".join(members),
        chair=data.chair, tie_breaks=",".join(parse_tie_breaks(data.tie_breaks)), created_by_id=user.id,
        status=SessionStatus.OPEN,
    )
    db.session.add(session)
    db.session.flush()
    audit.record("committee.session_created", session, actor=user, after=_facts(session))
    db.session.flush()
    return session


def update_session(session: CommitteeSession, data: SessionData, user: User) -> None:
    """Correct the facts of an open session (its call stays the same)."""
    _require_open(session)
    if not can_edit(user, session):
        raise CommitteeError(_("Only programme officers can change the session."))
    members = _check(SessionData(session.call_id, data.held_on, data.place, data.members, data.chair,
                                 data.tie_breaks))
    before = _facts(session)
    session.held_on, session.place, session.chair = data.held_on, data.place, data.chair
    session.members = "\n".join(members)
    session.tie_breaks = ",".join(parse_tie_breaks(data.tie_breaks))
    audit.record("committee.session_updated", session, actor=user, before=before, after=_facts(session))
    db.session.flush()


def save_minutes(session: CommitteeSession, text: str | None, user: User) -> None:
    _require_open(session)
    if not can_decide(user, session):
        raise CommitteeError(_("Only programme officers and approvers can write the minutes."))
    session.minutes = (text or "").strip() or None
    audit.record("committee.minutes_saved", session, actor=user, after={"length": len(session.minutes or "")})
    db.session.flush()


def close_session(session: CommitteeSession, text: str | None, user: User) -> None:
    """Freeze the session with its minutes: no decision can be added or changed afterwards.

    The ranking is frozen with it (one :class:`ReserveEntry` per ranked project, and what was left of the
    envelope): the closed session's page, its PDFs and the reserve list read these, never today's figures.
    """
    save_minutes(session, text, user)
    entries = freeze_ranking(session)
    SESSION.fire(session, SessionStatus.CLOSED, user, audit_after={
        "decisions": len(session.decisions), "ranked": len(entries),
        "remaining_at_close_xof": session.remaining_at_close_xof,
    })


def freeze_ranking(session: CommitteeSession) -> list[ReserveEntry]:
    """Keep the ranking as it stands (rank, score, amount, outcome) and the envelope left, in the session."""
    remaining = db.session.execute(
        select(Call.envelope_xof - Call.committed_xof).where(Call.id == session.call_id)
    ).scalar_one()
    decisions = {d.project_id: d for d in session.decisions}
    entries = []
    for row in session_ranking(session, remaining=remaining).rows:
        candidate = row.candidate
        decision = decisions.get(candidate.project_id)
        amount = (decision.amount_proposed_xof if decision is not None and decision.amount_proposed_xof
                  else candidate.requested_grant_xof)
        if amount <= 0:  # nothing to fund: not a line of the reserve
            continue
        entries.append(ReserveEntry(
            session_id=session.id, project_id=candidate.project_id, rank=row.rank,
            score_centi=candidate.score_centi, amount_xof=amount,
            outcome=str(decision.outcome) if decision is not None else None,
        ))
    db.session.add_all(entries)
    session.remaining_at_close_xof = remaining
    db.session.flush()
    return entries


# --- the ranking -----------------------------------------------------------------------------


# The ranking's "least-funded commune" tie-break sums the requested grants of every approved (and later) project
# of the programme per commune: read from this index alone (migration 0019), not from thousands of wide rows.
COMMUNE_FUNDING_INDEX = Index("ix_projects_commune_funding", Project.status, Project.commune,
                              Project.requested_grant_xof, Project.id)


def commune_totals(exclude_ids: set[int]) -> dict[str, int]:
    """Requested grants of the programme's approved (and later) projects per commune, in one query.

    The projects decided in the session itself are left out, so the order does not move while the
    committee sits.
    """
    query = (
        select(Project.commune, func.sum(Project.requested_grant_xof))
        .where(Project.status.in_(FUNDED), Project.commune.is_not(None))
        .group_by(Project.commune)
    )
    if exclude_ids:
        query = query.where(Project.id.not_in(exclude_ids))
    return {commune: int(total or 0) for commune, total in db.session.execute(query)}


def remaining_envelope(call: Call) -> int:
    return call.envelope_xof - call.committed_xof


def is_frozen(session: CommitteeSession) -> bool:
    """A session closed with its ranking kept (every session closed since the reserve list exists)."""
    return session.status == SessionStatus.CLOSED and session.remaining_at_close_xof is not None


def session_remaining(session: CommitteeSession) -> int:
    """The envelope the ranking is read against: as it was at closing, or today's for an open session."""
    if is_frozen(session):
        return session.remaining_at_close_xof
    return remaining_envelope(session.call)


def session_ranking(session: CommitteeSession, *, remaining: int | None = None,
                    decisions: dict[int, Any] | None = None,
                    window: Callable[[list[int]], tuple[int, int]] | None = None) -> Ranking:
    """The projects before the session, ranked; a closed session keeps its ranking as it was at closing.

    An open session ranks the call's qualified and deferred projects with those it has already
    decided (at the score they had then). Three queries whatever the number of projects. A closed session
    reads its frozen ranking (:func:`frozen_ranking`, whole only in the ``window`` a page shows when one is
    given); one closed before rankings were kept, the order of its decisions.
    """
    if is_frozen(session):
        return frozen_ranking(session, window)
    decisions = decision_rows(session) if decisions is None else decisions
    closed = session.status == SessionStatus.CLOSED
    # Only the columns a ranking row shows (not the projects' long texts), in one query.
    query = (
        select(*CANDIDATE_COLUMNS, ReviewResult.score_centi, ReviewResult.spread_flagged)
        .join(Association, Association.id == Project.association_id)
        .outerjoin(ReviewResult, ReviewResult.project_id == Project.id)
        .where(Project.call_id == session.call_id)
    )
    if closed:
        query = query.where(Project.id.in_(list(decisions) or [-1]))
    else:
        query = query.where(or_(Project.status.in_(DECIDABLE), Project.id.in_(list(decisions) or [-1])))
    rows = db.session.execute(query).all()
    candidates = _candidates(rows, decisions, commune_totals(set(decisions)))
    rules = parse_tie_breaks(session.tie_breaks)
    if remaining is None:
        remaining = remaining_envelope(session.call)
    if closed:
        order = {pid: (d.rank is None, d.rank or 0, d.id) for pid, d in decisions.items()}
        return in_given_order(sorted(candidates, key=lambda c: order[c.project_id]), rules, remaining)
    return rank(candidates, rules, remaining)


def decision_rows(session: CommitteeSession, project_ids: list[int] | None = None) -> dict[int, Any]:
    """The session's decisions by project, as plain rows (what the ranking and its page read), in one query;
    with ``project_ids``, only theirs (the rows a page of a frozen ranking shows)."""
    query = (
        select(CommitteeDecision.id, CommitteeDecision.project_id, CommitteeDecision.rank,
               CommitteeDecision.score_centi, CommitteeDecision.outcome, CommitteeDecision.amount_proposed_xof)
        .where(CommitteeDecision.session_id == session.id).order_by(CommitteeDecision.rank, CommitteeDecision.id)
    )
    if project_ids is not None:
        query = query.where(CommitteeDecision.project_id.in_(project_ids or [-1]))
    rows = db.session.execute(query).all()
    return {row.project_id: row for row in rows}


def frozen_ranking(session: CommitteeSession, window: Callable[[list[int]], tuple[int, int]] | None = None) -> Ranking:
    """A closed session's ranking as it was frozen: its ranks, scores, amounts and envelope left (two queries).

    The amount of each line is what funding it takes (the committee's amount, else the request); the status
    is the project's today, so the page shows what became of each one.

    With ``window`` (given the lines' project ids in rank order, it answers the (start, stop) of the rows a
    page shows), only those rows are read whole; the others carry their project, score and amount alone —
    what the running totals, the envelope line and the counts need — and no text (a page never shows them).
    """
    rules, remaining = parse_tie_breaks(session.tie_breaks), session.remaining_at_close_xof or 0
    if window is None:
        return in_given_order(_frozen_candidates(ReserveEntry.session_id == session.id), rules, remaining)
    lines = db.session.execute(
        select(ReserveEntry.project_id, ReserveEntry.score_centi, ReserveEntry.amount_xof)
        .where(ReserveEntry.session_id == session.id).order_by(ReserveEntry.rank)
    ).all()
    start, stop = window([project_id for project_id, _score, _amount in lines])
    shown = {c.project_id: c for c in _frozen_candidates(
        and_(ReserveEntry.session_id == session.id,
             ReserveEntry.project_id.in_([line[0] for line in lines[start:stop]] or [-1])))}
    candidates = [
        shown.get(project_id) or Candidate(project_id=project_id, reference="", title="", association="",
                                           commune="", score_centi=score_centi, requested_grant_xof=amount_xof)
        for project_id, score_centi, amount_xof in lines
    ]
    return in_given_order(candidates, rules, remaining)


def _frozen_candidates(where) -> list[Candidate]:
    """The frozen lines matching ``where`` as whole candidates, in rank order (one query)."""
    rows = db.session.execute(
        select(*CANDIDATE_COLUMNS, ReserveEntry.score_centi, ReserveEntry.amount_xof, ReviewResult.spread_flagged)
        .join(Project, Project.id == ReserveEntry.project_id)
        .join(Association, Association.id == Project.association_id)
        .outerjoin(ReviewResult, ReviewResult.project_id == Project.id)
        .where(where)
        .order_by(ReserveEntry.rank)
    ).all()
    return [  # the rows unpacked as tuples: by name, a ranking's thousands of rows cost five times as much
        Candidate(
            project_id=project_id, reference=reference or "", title=title,
            association=_display_name(association_name, association_acronym), commune=commune or "",
            score_centi=score_centi, requested_grant_xof=amount_xof, led_by_women=led_by_women,
            submitted_at=submitted_at, spread_flagged=bool(spread_flagged), status=str(status),
        )
        for (project_id, reference, title, commune, _requested, led_by_women, submitted_at, status,
             association_name, association_acronym, score_centi, amount_xof, spread_flagged) in rows
    ]


# What a ranking row shows of a project and its association (never the long texts).
CANDIDATE_COLUMNS = (
    Project.id, Project.reference, Project.title, Project.commune, Project.requested_grant_xof,
    Project.led_by_women, Project.submitted_at, Project.status,
    Association.name.label("association_name"), Association.acronym.label("association_acronym"),
)


def _display_name(name: str, acronym: str | None) -> str:
    """As :attr:`codev.accounts.models.Association.display_name`, from the two columns."""
    return f"{name} ({acronym})" if acronym else name


def _candidates(rows: list[Any], decisions: dict[int, Any], funded: dict[str, int]) -> list[Candidate]:
    """The ranking's candidates from the rows of :data:`CANDIDATE_COLUMNS` (then score, spread flag): a project
    already decided keeps the score it had then.

    Thousands per page: the rows are unpacked as tuples (reading a result row's columns by name, ``row.title``,
    costs five times as much as building the candidate)."""
    decided, funded_in = decisions.get, funded.get
    candidates = []
    for (project_id, reference, title, commune, requested, led_by_women, submitted_at, status,
         association_name, association_acronym, score_centi, spread_flagged) in rows:
        decision = decided(project_id)
        if decision is not None:
            score_centi = decision.score_centi
        commune = commune or ""
        candidates.append(Candidate(
            project_id=project_id, reference=reference or "", title=title,
            association=_display_name(association_name, association_acronym), commune=commune,
            score_centi=score_centi, requested_grant_xof=requested, led_by_women=led_by_women,
            commune_funded_xof=funded_in(commune, 0), submitted_at=submitted_at,
            spread_flagged=bool(spread_flagged), status=str(status),
        ))
    return candidates


def awaiting_committee_count() -> int:
    """Qualified projects no committee has decided on yet."""
    return db.session.scalar(select(func.count(Project.id)).where(Project.status == S.QUALIFIED)) or 0


# --- decisions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionData:
    outcome: str
    reason: str | None
    conditions: str | None = None
    amount_xof: int | None = None  # None: the requested grant


def outcomes_for(project: Project) -> list[DecisionOutcome]:
    """The outcomes open to ``project`` (a deferred project is approved or rejected, not deferred again)."""
    if project.status == S.DEFERRED:
        return [o for o in DecisionOutcome if o != DecisionOutcome.DEFERRED]
    return list(DecisionOutcome)


def decision_problem(session: CommitteeSession, project: Project) -> str | None:
    """Why no decision can be recorded on ``project`` in ``session`` (None when one can)."""
    if session.status != SessionStatus.OPEN:
        return _("This session is closed: nothing in it can change any more.")
    if any(d.project_id == project.id for d in session.decisions):
        return _("The committee has already decided on this project in this session.")
    if project.status not in DECIDABLE:
        return _("This project is “%(state)s”: the committee decides only on qualified or deferred projects. "
                 "Nothing was changed.", state=S(project.status).label)
    return None


def decide(session: CommitteeSession, project: Project, data: DecisionData, user: User) -> CommitteeDecision:
    """Record the committee's decision on ``project``, move it on and tell its association."""
    problem = decision_problem(session, project)
    if problem:
        raise CommitteeError(problem)
    if not can_decide(user, session):
        raise CommitteeError(_("Only programme officers and approvers can record the committee's decisions."))
    outcome, reason, conditions, amount = check_decision(project, data)
    row = next((r for r in session_ranking(session).rows if r.candidate.project_id == project.id), None)
    try:
        fire(project, OUTCOME_STATUS[outcome], user, reason)
    except TransitionRefused as exc:
        raise CommitteeError(" ".join([str(exc), *exc.problems])) from exc
    decision = CommitteeDecision(
        session=session, project_id=project.id, rank=row.rank if row else None,
        score_centi=row.candidate.score_centi if row else None, outcome=outcome, conditions=conditions,
        reason=reason, amount_proposed_xof=amount, decided_by_id=user.id, decided_at=utcnow(),
    )
    db.session.add(decision)
    db.session.flush()
    audit.record("committee.decided", decision, actor=user, after={
        "project_id": project.id, "reference": project.reference, "outcome": str(outcome), "amount": amount,
        "rank": decision.rank, "score_centi": decision.score_centi,
    })
    db.session.flush()
    _tell_members(project, decision)
    return decision


def check_decision(project: Project, data: DecisionData) -> tuple[DecisionOutcome, str, str | None, int | None]:
    """The decision as it will be recorded (outcome, reasons, conditions, amount), or a :class:`CommitteeError`."""
    try:
        outcome = DecisionOutcome(data.outcome)
    except ValueError:
        raise CommitteeError(_("Choose the committee's decision."), "outcome") from None
    if outcome not in outcomes_for(project):
        raise CommitteeError(_("A deferred project is approved or rejected: it cannot be deferred again."),
                             "outcome")
    reason = (data.reason or "").strip()
    if not reason:
        raise CommitteeError(_("Give the reasons of the decision: the association will read them."), "reason")
    conditions = (data.conditions or "").strip() or None
    if outcome == DecisionOutcome.CONDITIONALLY_APPROVED and not conditions:
        raise CommitteeError(_("Write the conditions of the approval."), "conditions")
    if outcome != DecisionOutcome.CONDITIONALLY_APPROVED:
        conditions = None
    amount = None
    if outcome in APPROVALS:
        amount = project.requested_grant_xof if data.amount_xof is None else data.amount_xof
        if amount <= 0:
            raise CommitteeError(_("The amount must be greater than zero."), "amount")
        if amount > project.requested_grant_xof:
            raise CommitteeError(
                _("The amount proposed cannot exceed the grant requested (%(amount)s).",
                  amount=format_xof(project.requested_grant_xof)), "amount")
    return outcome, reason, conditions, amount


def _tell_members(project: Project, decision: CommitteeDecision) -> None:
    """Each member of the association, in their language: the decision and its reasons, nothing else."""
    members = db.session.scalars(
        select(User).where(User.association_id == project.association_id, User.role == Role.ASSOCIATION,
                           User.active.is_(True)).order_by(User.id)
    )
    for person in members:
        queue_mail(
            person.email, person.locale, f"decision_{decision.outcome}", name=person.name, title=project.title,
            reference=project.reference, association=project.association.display_name, reason=decision.reason,
            conditions=decision.conditions, url=project_url(project),
            amount=format_xof(decision.amount_proposed_xof, person.locale) if decision.amount_proposed_xof else "",
        )
