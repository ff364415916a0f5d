"""Reminders to associations: the contribution deadline approaching, a report the next tranche waits for.

``flask --app codev send-reminders`` (run it daily). Each reminder is sent once per grant and key: a
``reminders_sent`` row (unique on grant and key) is written first, in the transaction of its emails. Two
runs that overlap (two servers, a slow run and the next day's) cannot both send it: the second one's
insert fails on the constraint — on PostgreSQL it waits for the first's commit, on SQLite for its write
lock — and the command rolls that grant back (its emails with it) and goes on. The job lock
(``codev.core.jobs``) usually keeps a second run from starting at all. The audit log also records each
reminder (``grant.reminder``, with its key), for the grant's history. Nothing here commits: the command
(:mod:`codev.cli`) commits grant by grant.
"""

from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import select

from codev.core import audit
from codev.core.money import format_xof
from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.grants.common import OPEN_STATUSES, long_date, mail_members
from codev.grants.disbursements.tranches import MoneyFacts, money_facts
from codev.grants.models import Grant, ReminderSent, Report
from codev.grants.reports.services import kind_in, reports_due

ACTION = "grant.reminder"


def _sent_keys(grant_ids: list[int]) -> set[tuple[int, str]]:
    if not grant_ids:
        return set()
    rows = db.session.execute(
        select(ReminderSent.grant_id, ReminderSent.key).where(ReminderSent.grant_id.in_(grant_ids))
    ).all()
    return {(grant_id, key) for grant_id, key in rows}


def contribution_key(grant: Grant, today: date) -> str | None:
    """The contribution reminder due today for ``grant``, if any: the nearest window it entered."""
    days_left = (grant.contribution_deadline - today).days
    if days_left < 0:
        return None
    windows = sorted(int(d) for d in current_app.config.get("REMINDER_DAYS", (30, 7)))
    window = next((d for d in windows if days_left <= d), None)
    return None if window is None else f"contribution-{window}"


class ReminderRun:
    """One run's reading of every open grant (figures, reports, reminders already sent), read once;
    :meth:`remind` then queues one grant's reminders, which the caller commits (or rolls back) alone."""

    def __init__(self, today: date | None = None) -> None:
        self.today = today or utcnow().date()
        grants = db.session.scalars(select(Grant).where(Grant.status.in_(OPEN_STATUSES)).order_by(Grant.id)).all()
        self.grant_ids = [g.id for g in grants]
        self.facts = money_facts(grants)
        self.sent = _sent_keys(self.grant_ids)
        self.reports: dict[int, list[Report]] = {g.id: [] for g in grants}
        if grants:
            for report in db.session.scalars(select(Report).where(Report.grant_id.in_(self.reports))):
                self.reports[report.grant_id].append(report)

    def remind(self, grant_id: int) -> int:
        """Queue the reminders of one grant that are due and not sent; how many (flushed).

        Raises ``IntegrityError`` when another run sent one of them meanwhile: roll the grant back.
        """
        grant = db.session.get(Grant, grant_id)
        count = remind_grant(grant, self.facts[grant_id], self.reports[grant_id], self.sent, self.today)
        if count:
            db.session.flush()
        return count


def due_keys(grant: Grant, figures: MoneyFacts, grant_reports: list[Report], today: date) -> list[tuple[str, dict]]:
    """The reminders due today for ``grant``: (key, what the email needs), sent or not."""
    due: list[tuple[str, dict]] = []
    key = contribution_key(grant, today)
    if key and figures.v < grant.required_association_xof:
        missing = grant.required_association_xof - figures.v
        due.append((key, {"template": "reminder_contribution",
                          "missing": lambda locale, m=missing: format_xof(m, locale),
                          "verified": lambda locale, v=figures.v: format_xof(v, locale),
                          "deadline": long_date(grant.contribution_deadline),
                          "days": (grant.contribution_deadline - today).days}))
    for report in reports_due(grant, figures, grant_reports):
        due.append((f"report-{report.kind}-{report.tranche_number}",
                    {"template": "reminder_report", "kind": lambda locale, k=report.kind: kind_in(k, locale),
                     "tranche": report.tranche_number}))
    return due


def remind_grant(grant: Grant, figures: MoneyFacts, grant_reports: list[Report], sent: set[tuple[int, str]],
                 today: date) -> int:
    """Queue the reminders of one grant that are due and not in ``sent``; returns how many.

    The ``reminders_sent`` rows go first and are flushed before any email, so that a run which lost the
    race fails before queueing anything.
    """
    todo = [(key, context) for key, context in due_keys(grant, figures, grant_reports, today)
            if (grant.id, key) not in sent]
    if not todo:
        return 0
    for key, _context in todo:
        db.session.add(ReminderSent(grant_id=grant.id, key=key))
    db.session.flush()
    for key, context in todo:
        context = dict(context)
        mail_members(grant, context.pop("template"), **context)
        audit.record(ACTION, grant, after={"key": key})
        sent.add((grant.id, key))
    return len(todo)


def send_reminders(today: date | None = None) -> int:
    """Queue every reminder that is due and not sent yet (not committed); how many were queued."""
    run = ReminderRun(today)
    return sum(run.remind(grant_id) for grant_id in run.grant_ids)
