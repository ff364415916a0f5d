"""Reminders to associations: the contribution deadline approaching, a report the next tranche waits for.

``flask --app codev send-reminders`` (run it daily). Each reminder is sent once: it is written to the
audit log (``grant.reminder``, with its key) and the log is read before sending. Nothing here commits:
the command (:mod:`codev.cli`) commits grant by grant.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from flask import current_app
from sqlalchemy import select

from codev.core import audit
from codev.core.models import AuditEvent
from codev.core.money import format_xof
from codev.core.timeutil import utcnow
from codev.extensions import db
from codev.grants.common import OPEN_STATUSES, long_date, mail_members
from codev.grants.disbursements.tranches import MoneyFacts, money_facts
from codev.grants.models import Grant, Report
from codev.grants.reports.services import kind_in, reports_due

ACTION = "grant.reminder"


def _sent_keys(grant_ids: list[int]) -> set[tuple[int, str]]:
    if not grant_ids:
        return set()
    rows = db.session.execute(
        select(AuditEvent.object_id, AuditEvent.after)
        .where(AuditEvent.action == ACTION, AuditEvent.object_type == Grant.__tablename__,
               AuditEvent.object_id.in_(grant_ids))
    ).all()
    return {(object_id, (after or {}).get("key")) for object_id, after in rows}


def contribution_key(grant: Grant, today: date) -> str | None:
    """The contribution reminder due today for ``grant``, if any: the nearest window it entered."""
    days_left = (grant.contribution_deadline - today).days
    if days_left < 0:
        return None
    windows = sorted(int(d) for d in current_app.config.get("REMINDER_DAYS", (30, 7)))
    window = next((d for d in windows if days_left <= d), None)
    return None if window is None else f"contribution-{window}"


def reminders_by_grant(today: date | None = None) -> Iterator[tuple[Grant, int]]:
    """Queue the reminders due and not sent yet, grant by grant: yields each grant reminded and how many.

    A grant's mails and the audit rows that mark them sent are written together, so the caller may
    commit after each grant (the ``send-reminders`` command does): what was committed is never sent
    again, what was not is sent by the next run.
    """
    today = today or utcnow().date()
    grants = db.session.scalars(select(Grant).where(Grant.status.in_(OPEN_STATUSES)).order_by(Grant.id)).all()
    facts = money_facts(grants)
    sent = _sent_keys([g.id for g in grants])
    reports_by_grant: dict[int, list[Report]] = {g.id: [] for g in grants}
    if grants:
        for report in db.session.scalars(select(Report).where(Report.grant_id.in_(reports_by_grant))):
            reports_by_grant[report.grant_id].append(report)
    for grant in grants:
        count = remind_grant(grant, facts[grant.id], reports_by_grant[grant.id], sent, today)
        if count:
            db.session.flush()
            yield grant, count


def remind_grant(grant: Grant, figures: MoneyFacts, grant_reports: list[Report], sent: set[tuple[int, str]],
                 today: date) -> int:
    """Queue the reminders of one grant that are due and not in ``sent``; returns how many."""
    count = 0
    key = contribution_key(grant, today)
    if key and figures.v < grant.required_association_xof and (grant.id, key) not in sent:
        missing = grant.required_association_xof - figures.v
        mail_members(grant, "reminder_contribution", missing=lambda locale, m=missing: format_xof(m, locale),
                     verified=lambda locale, v=figures.v: format_xof(v, locale),
                     deadline=long_date(grant.contribution_deadline),
                     days=(grant.contribution_deadline - today).days)
        audit.record(ACTION, grant, after={"key": key})
        count += 1
    for due in reports_due(grant, figures, grant_reports):
        key = f"report-{due.kind}-{due.tranche_number}"
        if (grant.id, key) in sent:
            continue
        mail_members(grant, "reminder_report", kind=lambda locale, k=due.kind: kind_in(k, locale),
                     tranche=due.tranche_number)
        audit.record(ACTION, grant, after={"key": key})
        count += 1
    return count


def send_reminders(today: date | None = None) -> int:
    """Queue every reminder that is due and not sent yet; returns how many reminders were queued."""
    return sum(count for _grant, count in reminders_by_grant(today))
