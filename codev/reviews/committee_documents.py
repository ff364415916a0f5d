"""The committee's documents: the ranking and the minutes of a session as PDFs, plain data in the
reader's language (the sessions, their ranking and decisions are in :mod:`codev.reviews.committee`)."""

from __future__ import annotations

from flask_babel import force_locale, format_date, format_datetime
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from codev.core.money import format_xof
from codev.core.pdf import render_pdf
from codev.core.templating import ministry_name
from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.projects.models import Project
from codev.reviews.committee import APPROVALS, is_frozen, member_lines, session_ranking, session_remaining
from codev.reviews.models import CommitteeSession, DecisionOutcome, SessionStatus
from codev.reviews.ranking import TIE_BREAK_LABELS, format_score, parse_tie_breaks, table


def session_facts(session: CommitteeSession, locale: str) -> dict:
    """What the ranking and the minutes print about the session (call ``force_locale`` around it)."""
    call = session.call
    return {
        "lang": locale,
        "ministry": ministry_name(locale),
        "printed_at": format_datetime(utcnow(), "medium"),
        "call": call.title_for(locale),
        "held_on": format_date(session.held_on, "long"),
        "place": session.place or "",
        "chair": session.chair or "",
        "members": member_lines(session.members),
        "closed": session.status == SessionStatus.CLOSED,
        "closed_at": format_datetime(session.closed_at, "medium") if session.closed_at else "",
        "rules": [str(TIE_BREAK_LABELS[rule]) for rule in parse_tie_breaks(session.tie_breaks)],
        "envelope": format_xof(call.envelope_xof, locale),
        "committed": format_xof(call.envelope_xof - session_remaining(session), locale),
        "remaining": format_xof(session_remaining(session), locale),
        "frozen": is_frozen(session),
    }


def ranking_document(session: CommitteeSession, locale: str) -> bytes:
    """The ranking of the session as a PDF: order, scores, running totals, the envelope line."""
    with force_locale(locale):
        ranking = session_ranking(session)
        decisions = {d.project_id: DecisionOutcome(d.outcome).label for d in session.decisions}
        data = {**session_facts(session, locale), "rows": table(ranking, locale, decisions),
                "total": format_xof(ranking.total_requested_xof, locale), "fitting": ranking.fitting_count}
        return render_pdf("ranking.html", data)


def minutes_document(session: CommitteeSession, locale: str) -> bytes:
    """The minutes as a PDF: the session's facts, its members and each decision with its reasons."""
    with force_locale(locale):
        projects = {p.id: p for p in db.session.scalars(
            select(Project).where(Project.id.in_([d.project_id for d in session.decisions] or [-1]))
            .options(joinedload(Project.association))
        )}
        decisions = sorted(session.decisions, key=lambda d: (d.rank is None, d.rank or 0, d.id))
        rows = [
            {"rank": d.rank or "", "reference": projects[d.project_id].reference or "",
             "title": projects[d.project_id].title, "association": projects[d.project_id].association.display_name,
             "score": format_score(d.score_centi, locale), "outcome": DecisionOutcome(d.outcome).label,
             "reason": d.reason, "conditions": d.conditions or "",
             "amount": format_xof(d.amount_proposed_xof, locale) if d.amount_proposed_xof else ""}
            for d in decisions
        ]
        approved = sum(d.amount_proposed_xof or 0 for d in decisions if d.outcome in APPROVALS)
        data = {**session_facts(session, locale), "decisions": rows, "minutes": session.minutes or "",
                "approved_total": format_xof(approved, locale)}
        return render_pdf("minutes.html", data)
