"""The committee's routes in the permission matrix, walked with objects that exist; the demo session."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from codev.accounts.models import Role
from codev.core.permissions import access_rule
from codev.demo.committee import seed_committee
from codev.projects.models import ProjectStatus
from codev.reviews.models import CommitteeDecision, CommitteeSession, SessionStatus
from tests.factories import CallFactory
from tests.factories_committee import committee_session, qualified_project
from tests.factories_projects import member_of
from tests.test_access_map import request, sample_urls

ROLES = [r.value for r in Role]
MINISTRY = {"officer", "approver", "admin"}


def test_each_committee_endpoint_names_its_roles(app):
    rules = {e: access_rule(app, e) for e in app.view_functions if e.startswith("reviews.committee.")}
    assert rules["reviews.committee.sessions"] == MINISTRY
    assert rules["reviews.committee.session"] == MINISTRY
    assert rules["reviews.committee.ranking_pdf"] == MINISTRY
    assert rules["reviews.committee.minutes_pdf"] == MINISTRY
    assert rules["reviews.committee.new"] == {"officer"}
    assert rules["reviews.committee.edit"] == {"officer"}
    assert rules["reviews.committee.decide"] == {"officer", "approver"}
    assert rules["reviews.committee.minutes"] == {"officer", "approver"}


@pytest.mark.parametrize("who", ["anonymous", *ROLES])
def test_walk_the_committee_routes(app, client, db, users, login_as, who):
    call = CallFactory(open=True)
    project = qualified_project(call)
    session = committee_session(call, users["officer"])
    db.session.commit()
    ids = {"session_id": session.id, "project_id": project.id}
    problems = []
    for endpoint, method, url in sample_urls(app, ids):
        if not endpoint.startswith("reviews.committee."):
            continue
        if who == "anonymous":
            client.delete_cookie("session", domain="localhost")
        else:
            login_as(users[who])
        response = request(client, method, url)
        status, rule = response.status_code, access_rule(app, endpoint)
        if status >= 500:
            problems.append(f"{method} {url} → {status}")
        elif who == "anonymous":
            if not (status == 302 and "/account/login?next=" in response.headers.get("Location", "")):
                problems.append(f"{method} {url} anonymous → {status}")
        elif who in rule:
            if status in (403, 404):
                problems.append(f"{method} {url} allowed to {who} but → {status}")
        elif status != 403:
            problems.append(f"{method} {url} refused to {who} but → {status}")
    assert problems == [], "\n".join(problems)
    db.session.expire_all()
    assert project.status == ProjectStatus.QUALIFIED  # empty forms decided nothing


def test_the_demo_session_decides_the_qualified_projects_and_tolerates_none(app, db, users, outbox):
    call = CallFactory(open=True)
    assert seed_committee({"open": call}, users["officer"], users["approver"]) is None
    assert db.session.scalar(select(CommitteeSession)) is None
    projects = [qualified_project(call, score_centi=s) for s in (8000, 7000)]
    member = member_of(projects[0].association, email="demo@asso.example.org")
    session = seed_committee({"open": call}, users["officer"], users["approver"])
    assert session.status == SessionStatus.CLOSED and session.minutes
    outcomes = [d.outcome for d in db.session.scalars(select(CommitteeDecision).order_by(CommitteeDecision.rank))]
    assert outcomes == ["approved", "conditionally_approved"]
    assert [p.status for p in projects] == [ProjectStatus.APPROVED, ProjectStatus.APPROVED]
    assert outbox(member.email)  # the associations were told
