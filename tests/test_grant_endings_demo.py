"""The demo programme shows grants whose life ended: one cancelled (its project lapsed, its file open) and one
lapsed (its project closed), every franc back in the envelope it came from."""

from __future__ import annotations

import html

from sqlalchemy import func, select

from codev.accounts.models import User
from codev.calls.models import Call
from codev.demo import seed_demo
from codev.demo.grants import CANCEL_REASON, CLOSE_MESSAGE, ENDINGS
from codev.grants.models import AwardLetter, Grant, GrantStatus, LetterStatus
from codev.projects.models import Project, ProjectStatus


def test_the_demo_shows_a_cancelled_and_a_lapsed_grant(app, db, client, login_as):
    seed_demo()
    db.session.commit()
    by_title = {g.project.title: g for g in db.session.scalars(select(Grant).join(Project))}
    cancelled, lapsed = by_title[ENDINGS["cancelled"]["title"]], by_title[ENDINGS["lapsed"]["title"]]
    assert (cancelled.status, cancelled.project.status) == (GrantStatus.CANCELLED, ProjectStatus.LAPSED)
    assert cancelled.cancel_reason == CANCEL_REASON and 0 < cancelled.released_xof < cancelled.amount_xof
    assert (lapsed.status, lapsed.project.status) == (GrantStatus.LAPSED, ProjectStatus.CLOSED)
    assert lapsed.released_xof == lapsed.amount_xof and lapsed.contribution_deadline < lapsed.lapsed_at.date()
    assert lapsed.project.events[-1].message == CLOSE_MESSAGE

    call = db.session.get(Call, cancelled.call_id)  # the envelope holds exactly what the grants still hold
    held = db.session.scalar(select(func.sum(Grant.amount_xof - Grant.released_xof)).where(Grant.call_id == call.id))
    assert call.committed_xof == held

    letter = db.session.scalar(select(AwardLetter).where(AwardLetter.grant_id == cancelled.id))
    assert letter.status == LetterStatus.REVOKED
    page = html.unescape(client.get(f"/verify/{letter.reference}").get_data(as_text=True))
    assert CANCEL_REASON in page and "annulée le" in page

    login_as(db.session.scalar(select(User).where(User.email == "agent@codev.demo")))
    page = html.unescape(client.get(f"/grants/{cancelled.id}").get_data(as_text=True))
    assert "Cette subvention est annulée" in page and f"/grants/{cancelled.id}/close-project" in page
    page = html.unescape(client.get(f"/grants/{lapsed.id}").get_data(as_text=True))
    assert "Cette subvention est devenue caduque" in page and CLOSE_MESSAGE in page
