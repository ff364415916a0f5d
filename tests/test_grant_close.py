"""Closing a project's file from the grant page: after a lapse or a cancellation (lapsed → closed) and after
the grant is completed (completed → closed), by an officer or an approver, with an optional message.
The people here read the pages in French, the programme's working language (their accounts' locale).
"""

from __future__ import annotations

import html
from datetime import timedelta

import pytest

from codev.core.models import AuditEvent
from codev.core.timeutil import utcnow
from codev.core.workflow import SYSTEM
from codev.grants.life import lapse
from codev.grants.life.cancellation import cancel_grant
from codev.grants.life.closing import ClosingError, close_project
from codev.grants.models import Grant, GrantStatus
from codev.projects.models import Project, ProjectEvent, ProjectStatus
from tests.confirm_support import confirmed
from tests.factories import UserFactory
from tests.factories_ledger import make_grant

PAST = utcnow().date() - timedelta(days=1)
MESSAGE = "Dossier archivé : l'association pourra présenter un nouveau projet à l'appel suivant."


def lapsed_grant(db, users, actor=None) -> Grant:
    grant = make_grant(users["association"], amount=2_000_000, deadline=PAST)
    db.session.commit()
    assert lapse.lapse_grant(grant, actor)
    db.session.commit()
    return grant


def history(db, project_id) -> list[tuple[str, str | None, int | None]]:
    return [(e.to_status, e.message, e.actor_id) for e in db.session.scalars(
        db.select(ProjectEvent).where(ProjectEvent.project_id == project_id).order_by(ProjectEvent.id))]


def test_the_nightly_lapse_moves_the_project_as_the_system(db, users):
    grant = lapsed_grant(db, users)  # no actor: the nightly job
    project = db.session.get(Project, grant.project_id)
    assert project.status == ProjectStatus.LAPSED
    to_status, message, actor_id = history(db, project.id)[-1]
    assert (to_status, actor_id) == (ProjectStatus.LAPSED, SYSTEM.id) and "2 000 000" in message.replace("\u202f", " ")
    events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action.in_(("grant.lapsed", "project.lapsed"))))
    assert {(e.action, e.actor_id) for e in events} == {("grant.lapsed", None), ("project.lapsed", None)}


def test_the_officers_button_lapses_as_the_officer(client, db, users, login_as):
    grant = make_grant(users["association"], amount=2_000_000, deadline=PAST)
    login_as(users["officer"])
    client.post("/grants/close-lapsed", data=confirmed())
    assert db.session.get(Project, grant.project_id).status == ProjectStatus.LAPSED
    assert history(db, grant.project_id)[-1][2] == users["officer"].id


def test_an_officer_closes_a_lapsed_project_from_the_grant_page(client, db, users, login_as):
    grant = lapsed_grant(db, users)
    login_as(users["officer"])
    page = html.unescape(client.get(f"/grants/{grant.id}").get_data(as_text=True))
    assert "Cette subvention est devenue caduque" in page and "Clôturer le dossier du projet" in page
    response = client.post(f"/grants/{grant.id}/close-project", data=confirmed({"message": MESSAGE}))
    assert response.status_code == 302
    assert db.session.get(Project, grant.project_id).status == ProjectStatus.CLOSED
    assert history(db, grant.project_id)[-1] == (ProjectStatus.CLOSED, MESSAGE, users["officer"].id)
    page = html.unescape(client.get(f"/grants/{grant.id}").get_data(as_text=True))
    assert "Le dossier du projet est clôturé" in page and MESSAGE in page and users["officer"].name in page
    assert f"/grants/{grant.id}/close-project" not in page


def test_an_approver_closes_a_cancelled_grants_project_without_a_message(client, db, users, login_as):
    grant = make_grant(users["association"], amount=2_000_000)
    cancel_grant(grant, users["approver"], "Projet abandonné par l'association.")
    db.session.commit()
    login_as(users["approver"])
    assert client.post(f"/grants/{grant.id}/close-project", data=confirmed({"message": ""})).status_code == 302
    assert history(db, grant.project_id)[-1] == (ProjectStatus.CLOSED, None, users["approver"].id)


def test_a_completed_project_is_closed(db, users):
    grant = make_grant(users["association"], amount=2_000_000, status=GrantStatus.COMPLETED)
    grant.project.status = ProjectStatus.COMPLETED  # as the final report and the last tranche leave it
    db.session.commit()
    close_project(grant, users["officer"], MESSAGE)
    db.session.commit()
    assert db.session.get(Project, grant.project_id).status == ProjectStatus.CLOSED


def test_a_funded_project_cannot_be_closed_and_the_page_says_why(client, db, users, login_as):
    grant = make_grant(users["association"], amount=2_000_000)
    db.session.commit()
    login_as(users["officer"])
    assert f"/grants/{grant.id}/close-project" not in client.get(f"/grants/{grant.id}").get_data(as_text=True)
    response = client.post(f"/grants/{grant.id}/close-project", data=confirmed({"message": MESSAGE}))
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "Seul un projet dont la subvention est achevée, caduque ou annulée peut être clôturé." in page
    assert MESSAGE in page  # what was typed is kept
    assert db.session.get(Project, grant.project_id).status == ProjectStatus.FUNDED


def test_closing_twice_says_it_is_closed(db, users):
    grant = lapsed_grant(db, users)
    close_project(grant, users["officer"])
    db.session.commit()
    with pytest.raises(ClosingError, match="déjà clôturé"):
        close_project(grant, users["approver"], MESSAGE)


def test_only_officers_and_approvers_close(client, db, users, login_as):
    grant = lapsed_grant(db, users)
    for role in ("association", "evaluator", "admin"):
        login_as(users[role])
        assert client.post(f"/grants/{grant.id}/close-project", data=confirmed({"message": "x"})).status_code == 403
    login_as(users["association"])
    page = html.unescape(client.get(f"/grants/{grant.id}").get_data(as_text=True))
    assert "Cette subvention est devenue caduque" in page and "/close-project" not in page
    login_as(UserFactory(member=True, email="other@asso.example.org"))
    assert client.get(f"/grants/{grant.id}").status_code == 404
    assert db.session.get(Project, grant.project_id).status == ProjectStatus.LAPSED
