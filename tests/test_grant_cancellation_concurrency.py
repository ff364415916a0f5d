"""Rule 6 under concurrency: cancellations and approvals on one envelope at once leave it exact, a grant is
cancelled (and its money returned) once, and a disbursement racing a cancellation is counted in G − D.

Each thread has its own app context (its own session and connection), as concurrent requests would, on a
file SQLite database and, when configured, on PostgreSQL. Letters are stubbed for the approvals, as in
test_grants_concurrency.py (the renderer's lock would space the threads out and hide the race).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from codev.accounts.models import User
from codev.calls.models import Call
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import DomainError
from codev.extensions import db as _db
from codev.grants.award import approval
from codev.grants.award.approval import approve_grant
from codev.grants.disbursements.payments import record_disbursement
from codev.grants.life.cancellation import cancel_grant
from codev.grants.models import Disbursement, Grant, GrantStatus
from codev.projects.models import Project
from tests.factories import CallFactory, UserFactory
from tests.factories_grants import approved_project, approver
from tests.factories_ledger import make_grant, verified
from tests.test_grants_concurrency import _stub_letters
from tests.test_tranches import ONE

GRANT = 4_000_000
CANCELLED = 4
WAITING = 8
REASON = "Projet abandonné par l'association."


@pytest.fixture
def app_config(app_config):
    """A connection per thread (the default pool would make the last threads wait)."""
    return {**app_config, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": CANCELLED + WAITING + 2, "max_overflow": 5}}


def run_together(app, jobs: list[Callable[[], str]]) -> list[str]:
    """Run each job in its own thread and app context, all released at once; each commits or rolls back."""
    barrier = threading.Barrier(len(jobs))
    results: list[str | None] = [None] * len(jobs)

    def work(index: int, job: Callable[[], str]) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[index] = job()
                _db.session.commit()
            except DomainError as exc:
                _db.session.rollback()
                results[index] = f"refused: {exc}"
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=work, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return [r or "lost" for r in results]


def cancelling(grant_id: int, user_id: int) -> Callable[[], str]:
    def job() -> str:
        cancel_grant(_db.session.get(Grant, grant_id), _db.session.get(User, user_id), REASON)
        return "cancelled"
    return job


def approving(project_id: int, user_id: int) -> Callable[[], str]:
    def job() -> str:
        user = _db.session.get(User, user_id)
        approve_grant(_db.session.get(Project, project_id), user, GRANT, user.name, "Ordonnatrice")
        return "approved"
    return job


def envelope(db, call_id: int) -> tuple[int, int, int]:
    """(committed, Σ (G − released) over the call's grants, envelope), read afresh."""
    db.session.expire_all()
    call = db.session.get(Call, call_id)
    held = db.session.scalar(select(func.coalesce(func.sum(Grant.amount_xof - Grant.released_xof), 0))
                             .where(Grant.call_id == call_id))
    return call.committed_xof, held, call.envelope_xof


@pytest.mark.backends
def test_cancellations_and_approvals_at_once_keep_the_envelope_exact(app, db, backend, monkeypatch):
    monkeypatch.setattr(approval, "build_letters", _stub_letters)
    by = approver()
    UserFactory(officer=True)
    # Full but for 1 000 000: no waiting project fits until a cancellation gives money back.
    call = CallFactory(open=True, envelope_xof=CANCELLED * GRANT + 1_000_000, committed_xof=0)
    grants = [make_grant(amount=GRANT, call=call, approver=by) for _ in range(CANCELLED)]
    projects = [approved_project(call=call) for _ in range(WAITING)]
    db.session.commit()
    call_id, by_id = call.id, by.id
    jobs = [cancelling(g.id, by_id) for g in grants] + [approving(p.id, by_id) for p in projects]
    db.session.remove()

    results = run_together(app, jobs)

    assert results[:CANCELLED] == ["cancelled"] * CANCELLED, results
    approved = results.count("approved")
    assert approved + sum(r.startswith("refused") for r in results[CANCELLED:]) == WAITING, results
    assert approved <= CANCELLED  # 4 × 4 000 000 returned, plus a rest of 1 000 000 that fits none
    committed, held, total = envelope(db, call_id)
    assert committed == held == approved * GRANT and committed <= total
    statuses = db.session.scalars(select(Grant.status).where(Grant.call_id == call_id)).all()
    assert statuses.count(GrantStatus.CANCELLED) == CANCELLED and len(statuses) == CANCELLED + approved


@pytest.mark.backends
def test_two_approvers_cancelling_one_grant_return_its_money_once(app, db, backend):
    first, second = approver(), approver(email="second@ministry.example.tg")
    UserFactory(officer=True)
    call = CallFactory(open=True, committed_xof=1_000_000)  # another grant's money stays committed
    grant = make_grant(amount=GRANT, call=call, approver=first)
    db.session.commit()
    grant_id, call_id = grant.id, call.id
    jobs = [cancelling(grant_id, first.id), cancelling(grant_id, second.id)]
    db.session.remove()

    results = run_together(app, jobs)

    assert sorted(results)[0] == "cancelled" and sorted(results)[1].startswith("refused"), results
    committed, held, _total = envelope(db, call_id)
    assert committed == 1_000_000 and held == 0
    assert db.session.get(Grant, grant_id).released_xof == GRANT


@pytest.mark.backends
def test_a_disbursement_racing_a_cancellation_is_counted_once(app, db, users, backend):
    member, officer, by = users["association"], users["officer"], users["approver"]
    call = CallFactory(open=True, committed_xof=0)
    grant = make_grant(member, amount=GRANT, call=call, plan=ONE, approver=by)
    verified(grant, member, officer, GRANT)
    db.session.commit()
    grant_id, call_id, officer_id = grant.id, call.id, officer.id

    def paying() -> str:
        record_disbursement(_db.session.get(Grant, grant_id), _db.session.get(User, officer_id), tranche_number=1,
                            amount_xof=1_500_000, value_date=utcnow().date(), bank_reference="VIR-RACE",
                            idempotency_key=str(uuid.uuid4()))
        return "paid"

    jobs = [cancelling(grant_id, by.id), paying]
    db.session.remove()

    results = run_together(app, jobs)

    assert results[0] == "cancelled" and (results[1] == "paid" or results[1].startswith("refused")), results
    paid = db.session.scalar(select(func.coalesce(func.sum(Disbursement.amount_xof), 0))
                             .where(Disbursement.grant_id == grant_id))
    assert paid == (1_500_000 if results[1] == "paid" else 0)
    committed, held, _total = envelope(db, call_id)
    assert committed == held == paid and db.session.get(Grant, grant_id).released_xof == GRANT - paid
