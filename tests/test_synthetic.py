"""Synthetic data at scale (issue 11): what ``seed-synthetic`` writes in bulk obeys the app's own rules.

The rows are inserted without the services, so each rule the services would have enforced is read back
here with the app's functions: plans (check_plan), envelopes, rule 4 (money_facts), consolidated scores
(project_result), the workflow tables (every status reachable, every project's history a path of rows of
its table), the ledger's decisions; and the pages of every role open on the data.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import selectinload

from codev.accounts.models import Association, User
from codev.calls.models import Call
from codev.calls.rules import check_plan
from codev.core.models import AuditEvent
from codev.core.workflow import WORKFLOWS
from codev.demo.synthetic import seed_synthetic
from codev.demo.synthetic.shape import walk
from codev.grants.disbursements.tranches import money_facts
from codev.grants.ledger.entries import read_ledger
from codev.grants.models import AwardLetter, ContributionEntry, Grant
from codev.projects.models import Project, ProjectEvent
from codev.projects.workflow import PROJECT, plan_figures
from codev.reviews.models import CommitteeDecision, CommitteeSession, ReserveEntry, ReviewResult
from codev.reviews.scoring import project_result

N = 400


@pytest.fixture
def synthetic(db):
    summary = seed_synthetic(N, seed=7)
    db.session.commit()
    return summary


@pytest.mark.backends
def test_proportions_and_every_state(db, synthetic):
    assert db.session.scalar(select(func.count(Project.id))) == N
    assert db.session.scalar(select(func.count(Association.id))) == N // 10
    grants = db.session.scalar(select(func.count(Grant.id)))
    assert 0.10 * N <= grants <= 0.22 * N  # about 15 % funded
    reviewed = db.session.scalar(select(func.count(ReviewResult.id)).where(ReviewResult.evaluations_count >= 2))
    assert reviewed > N // 3
    # Every state of every workflow is there, and only states a workflow can reach.
    tables = {"project": Project, "call": Call, "grant": Grant, "letter": AwardLetter, "association": Association,
              "committee_session": CommitteeSession}
    from codev.grants.models import DisbursementRequest, Report
    from codev.reviews.models import Assignment

    tables |= {"report": Report, "disbursement": DisbursementRequest, "assignment": Assignment}
    for name, model in tables.items():
        workflow = WORKFLOWS[name]
        found = set(db.session.scalars(select(model.status).distinct()))
        assert found <= workflow.reachable(), name
        expected = workflow.reachable() - ({"refused"} if name == "disbursement" else set())
        assert found >= expected, (name, expected - found)
    # An audit event for each step: at least one per project event.
    events = db.session.scalar(select(func.count(ProjectEvent.id)))
    assert db.session.scalar(select(func.count(AuditEvent.id))) > events >= N


@pytest.mark.backends
def test_each_history_is_a_path_of_the_table(db, synthetic):
    histories = defaultdict(list)
    for project_id, action, source, target in db.session.execute(
        select(ProjectEvent.project_id, ProjectEvent.action, ProjectEvent.from_status, ProjectEvent.to_status)
        .order_by(ProjectEvent.project_id, ProjectEvent.at, ProjectEvent.id)
    ):
        histories[project_id].append((action, source, target))
    statuses = dict(db.session.execute(select(Project.id, Project.status)).all())
    assert set(histories) == set(statuses)
    for project_id, events in histories.items():
        assert events[0] == ("created", None, "draft")
        path = ["draft"] + [target for _action, _source, target in events[1:]]
        names = walk(PROJECT, path)
        assert names == [action for action, _s, _t in events[1:]]
        assert [source for _a, source, _t in events[1:]] == path[:-1]
        assert path[-1] == statuses[project_id]


def test_plans_balance_and_pass_the_rules(db, synthetic):
    projects = db.session.scalars(
        select(Project).options(selectinload(Project.budget_lines), selectinload(Project.financing_lines))
    ).all()
    for project in projects:
        figures = plan_figures(project)
        failed = [c.code for c in check_plan(project.call, figures) if not c.ok]
        assert failed == [], (project.id, figures, failed)


@pytest.mark.backends
def test_envelopes_and_rule_four(db, synthetic):
    for call in db.session.scalars(select(Call)):
        granted, released = db.session.execute(
            select(func.coalesce(func.sum(Grant.amount_xof), 0), func.coalesce(func.sum(Grant.released_xof), 0))
            .where(Grant.call_id == call.id)
        ).one()
        assert call.committed_xof == granted - released <= call.envelope_xof
    grants = db.session.scalars(select(Grant)).all()
    facts = money_facts(grants)
    for grant in grants:
        f = facts[grant.id]
        assert f.d + f.pending <= f.limit, grant.id  # D ≤ min(G, ratio × V), signatures awaited counted
        assert sum(t.amount_xof for t in grant.tranches) == grant.amount_xof
        if grant.status == "lapsed":
            assert f.d == 0 and f.v < grant.required_association_xof and grant.released_xof == grant.amount_xof
        if grant.status == "cancelled":
            assert grant.released_xof == grant.amount_xof - f.d
        if grant.status == "completed":
            assert f.d == grant.amount_xof and f.accepted_final
    # The ledger reads: every decision refers to a declaration of the same grant.
    entries = db.session.scalars(select(ContributionEntry).order_by(ContributionEntry.id)).all()
    by_grant = defaultdict(list)
    for entry in entries:
        by_grant[entry.grant_id].append(entry)
    declared = {e.id: e for e in entries if e.kind == "declared"}
    for entry in entries:
        if entry.kind != "declared":
            assert declared[entry.refers_to_id].grant_id == entry.grant_id
    for grant in grants:
        assert read_ledger(by_grant[grant.id], grant.in_kind_counts_bps).eligible_verified == facts[grant.id].v


@pytest.mark.backends
def test_scores_are_consolidated_and_sessions_ranked(db, synthetic):
    results = db.session.scalars(select(ReviewResult)).all()
    for row in results:
        result = project_result(row.project)
        assert (row.evaluations_count, row.score_centi, row.qualified, row.eliminated_by) == (
            result.evaluations_count, result.score_centi, result.qualified, result.eliminated_by)
    for project in db.session.scalars(select(Project).where(Project.status.in_(["qualified", "not_qualified"]))):
        assert project_result(project).qualified is (project.status == "qualified")
    for session in db.session.scalars(select(CommitteeSession)):
        ranks = sorted(r for r in db.session.scalars(select(ReserveEntry.rank)
                                                     .where(ReserveEntry.session_id == session.id)))
        if session.status == "closed":
            assert ranks == list(range(1, len(ranks) + 1)) and session.remaining_at_close_xof is not None
        decided = db.session.scalars(select(CommitteeDecision).where(CommitteeDecision.session_id == session.id))
        assert all(d.rank is not None for d in decided)


def test_the_pages_of_every_role_open(db, client, login_as, synthetic):
    def user(email_start):
        return db.session.scalar(select(User).where(User.email.startswith(email_start)).order_by(User.id))

    project = db.session.scalar(select(Project).where(Project.status == "funded").order_by(Project.id))
    grant = db.session.scalar(select(Grant).where(Grant.project_id == project.id))
    session = db.session.scalar(select(CommitteeSession).where(CommitteeSession.status == "open"))
    letter = db.session.scalar(select(AwardLetter).where(AwardLetter.status == "valid").order_by(AwardLetter.id))
    officer_pages = ["/", "/projects/", "/projects/?status=qualified", "/projects/?page=3", f"/projects/{project.id}",
                     f"/grants/{grant.id}", f"/grants/{grant.id}/ledger", "/grants/", "/grants/tranches/due",
                     "/grants/contributions/to-verify", "/grants/reports/to-read", "/reviews/screening",
                     "/reviews/in-review", "/reviews/committee/", f"/reviews/committee/{session.id}",
                     "/associations/directory", "/calls/manage"]
    login_as(user("officer1@"))
    for url in officer_pages:
        assert client.get(url).status_code == 200, url
    login_as(user("approver1@"))
    for url in ["/", "/grants/", f"/grants/{grant.id}", "/grants/reserve", "/grants/disbursement-requests"]:
        assert client.get(url).status_code == 200, url
    login_as(user("admin@"))
    assert client.get("/oversight/audit").status_code == 200
    member = db.session.scalar(select(User).where(User.association_id == project.association_id))
    login_as(member)
    for url in ["/", "/projects/mine", f"/projects/{project.id}", f"/grants/{grant.id}"]:
        assert client.get(url).status_code == 200, url
    evaluator = db.session.scalar(select(User).where(User.role == "evaluator").order_by(User.id))
    login_as(evaluator)
    assert client.get("/reviews/mine").status_code == 200
    client.post("/account/logout")
    page = client.get(f"/verify/{letter.reference}")
    assert page.status_code == 200 and letter.reference in page.get_data(as_text=True)


def test_the_command_refuses_production(app, runner):
    app.config["ENV_NAME"] = "production"
    result = runner.invoke(args=["seed-synthetic", "--projects", "10"])
    assert result.exit_code != 0 and "refusing" in result.output
    assert app.extensions["sqlalchemy"].session.scalar(select(func.count(Project.id))) == 0


def test_the_command_seeds_with_a_progress_bar(runner, db):
    result = runner.invoke(args=["seed-synthetic", "--projects", "60", "--associations", "8", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "60 projects, 8 associations" in result.output
    assert db.session.scalar(select(func.count(Project.id))) == 60


@pytest.mark.backends
def test_the_command_leaves_the_planner_its_statistics(runner, db):
    """Tables filled in bulk are analysed at once: the planner knows how many projects there are."""
    result = runner.invoke(args=["seed-synthetic", "--projects", "40", "--associations", "5", "--seed", "4"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_stat_clear_snapshot()"))
        analysed = db.session.scalar(text(
            "SELECT reltuples FROM pg_class WHERE relname = 'projects' AND relkind = 'r'"))
        assert analysed == 40
    else:
        stat = db.session.scalar(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'projects' LIMIT 1"))
        assert stat is not None and stat.split()[0] == "40"
