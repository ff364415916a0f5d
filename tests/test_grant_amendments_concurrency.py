"""Rule 3 with amendments: increases and approvals at the same time never commit more than the envelope,
and reductions running beside them give back exactly what they release.

Each thread has its own app context (its own session and connection), on a file SQLite database and, when
configured, on PostgreSQL. The letters' rendering is stubbed, as in test_grants_concurrency.py: the
renderer's lock would space the threads out and hide the race.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from codev.accounts.models import User
from codev.calls.models import Call
from codev.core.unit_of_work import DomainError
from codev.extensions import db as _db
from codev.grants.award import approval, letters
from codev.grants.award.approval import approve_grant
from codev.grants.life import amendments
from codev.grants.models import Grant, GrantAmendment
from codev.projects.models import Project
from tests.factories import CallFactory, UserFactory
from tests.factories_grants import approved_project, approver
from tests.test_grants_concurrency import _stub_letters

M = 1_000_000
INCREASES, APPROVALS, REDUCTIONS = 6, 4, 2


@pytest.fixture
def app_config(app_config):
    total = INCREASES + APPROVALS + REDUCTIONS
    return {**app_config, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": total + 2, "max_overflow": 5}}


def _run(app, jobs) -> tuple[list[str], list[str]]:
    barrier = threading.Barrier(len(jobs))
    done, refused, lock = [], [], threading.Lock()

    def work(name, job) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                job()
                _db.session.commit()
                with lock:
                    done.append(name)
            except DomainError as exc:
                _db.session.rollback()
                with lock:
                    refused.append(f"{name}: {exc}")
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=work, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return done, refused


@pytest.mark.backends
def test_concurrent_increases_approvals_and_reductions_never_overspend(app, db, backend, monkeypatch):
    monkeypatch.setattr(approval, "build_letters", _stub_letters)
    monkeypatch.setattr(letters, "build_letters", _stub_letters)
    call = CallFactory(open=True, envelope_xof=100 * M, committed_xof=0)
    by = approver()
    UserFactory(officer=True)
    growing = [approved_project(call=call) for _ in range(INCREASES)]
    shrinking = [approved_project(call=call) for _ in range(REDUCTIONS)]
    waiting = [approved_project(call=call) for _ in range(APPROVALS)]
    for project in growing:
        approve_grant(project, by, 3 * M, by.name, "Ordonnatrice")  # each may grow by 1 M (it asked 4 M)
    for project in shrinking:
        approve_grant(project, by, 4 * M, by.name, "Ordonnatrice")  # each gives back 1 M
    # Room for 5 M more (the reductions add 2 M): the demand is 6 × 1 M + 4 × 2 M.
    call.envelope_xof = call.committed_xof + 5 * M
    db.session.commit()
    grant_of = {p.id: db.session.scalar(select(Grant.id).where(Grant.project_id == p.id)) for p in growing + shrinking}
    ids = {"approver": by.id, "call": call.id}
    growing, shrinking, waiting = ([p.id for p in group] for group in (growing, shrinking, waiting))
    db.session.remove()

    def person():
        return _db.session.get(User, ids["approver"])

    def increase(grant_id):
        return lambda: amendments.increase_amount(_db.session.get(Grant, grant_id), person(), 4 * M,
                                                  "Le prix du ciment a augmenté.")

    def reduce(grant_id):
        return lambda: amendments.reduce_amount(_db.session.get(Grant, grant_id), person(), 3 * M,
                                                "Le devis actualisé est moins cher.")

    def approve(project_id):
        def job():
            user = _db.session.get(User, ids["approver"])
            approve_grant(_db.session.get(Project, project_id), user, 2 * M, user.name, "Ordonnatrice")
        return job

    jobs = ([(f"increase-{p}", increase(grant_of[p])) for p in growing]
            + [(f"reduce-{p}", reduce(grant_of[p])) for p in shrinking]
            + [(f"approve-{p}", approve(p)) for p in waiting])
    done, refused = _run(app, jobs)

    assert len(done) + len(refused) == len(jobs), refused
    assert all(name.startswith(("increase", "approve")) for name in refused), refused
    assert sum(name.startswith("reduce") for name in done) == REDUCTIONS
    committed, envelope = db.session.execute(select(Call.committed_xof, Call.envelope_xof)
                                             .where(Call.id == ids["call"])).one()
    total = db.session.scalar(select(func.coalesce(func.sum(Grant.amount_xof), 0)).where(Grant.call_id == ids["call"]))
    assert committed == total <= envelope
    increased = sum(name.startswith("increase") for name in done)
    approved = sum(name.startswith("approve") for name in done)
    assert increased + 2 * approved <= 7  # the 5 M of room and the 2 M given back
    assert db.session.scalar(select(func.count(GrantAmendment.id))) == increased + REDUCTIONS


@pytest.mark.backends
def test_two_approvers_never_both_spend_the_same_returned_francs(app, db, backend, monkeypatch):
    monkeypatch.setattr(approval, "build_letters", _stub_letters)
    monkeypatch.setattr(letters, "build_letters", _stub_letters)
    call = CallFactory(open=True, envelope_xof=4 * M, committed_xof=0)
    first, second = approver(), approver(name="Kossi Amegan")
    funded = approved_project(call=call)
    grant = approve_grant(funded, first, 4 * M, first.name, "Ordonnatrice")  # the envelope is full
    amendments.reduce_amount(grant, first, 1 * M, "Le devis actualisé est moins cher.")  # 3 M return
    # Two projects the committee approved (from the reserve), each asking for the 3 M returned.
    rivals = [approved_project(call=call, requested_grant_xof=3 * M) for _ in range(2)]
    db.session.commit()
    pairs = [(rivals[0].id, first.id), (rivals[1].id, second.id)]
    call_id = call.id
    db.session.remove()

    def approve(project_id, user_id):
        def job():
            user = _db.session.get(User, user_id)
            approve_grant(_db.session.get(Project, project_id), user, 3 * M, user.name, "Ordonnatrice")
        return job

    done, refused = _run(app, [(f"approve-{p}", approve(p, u)) for p, u in pairs])
    assert (len(done), len(refused)) == (1, 1), refused
    committed = db.session.scalar(select(Call.committed_xof).where(Call.id == call_id))
    total = db.session.scalar(select(func.sum(Grant.amount_xof)).where(Grant.call_id == call_id))
    assert committed == total == 4 * M
