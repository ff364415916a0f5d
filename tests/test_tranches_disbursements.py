"""Disbursements: a form sent twice records once (also from two threads), four eyes above the threshold."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy.exc import IntegrityError

from codev.accounts.models import User
from codev.core.timeutil import utcnow
from codev.extensions import db as _db
from codev.grants.disbursements.payments import (
    DisbursementRefused,
    approve_request,
    record_disbursement,
    refuse_request,
)
from codev.grants.models import Disbursement, DisbursementRequest, Grant, GrantStatus
from tests.confirm_support import confirmed
from tests.factories import UserFactory
from tests.factories_ledger import make_grant, verified
from tests.test_tranches import ONE
from tests.two_factor_support import step_up


def count(db, model=Disbursement) -> int:
    return db.session.scalar(db.select(db.func.count(model.id)))


def record(grant, user, amount, key, tranche=1, bank_reference=None):
    """Record through the service; each form (key) is its own bank transfer unless told otherwise."""
    return record_disbursement(grant, user, tranche_number=tranche, amount_xof=amount, value_date=utcnow().date(),
                               bank_reference=bank_reference or f"VIR-{key[:8]}", idempotency_key=key)


@pytest.fixture
def ready(db, users):
    member, officer = users["association"], users["officer"]
    grant = make_grant(member, amount=20_000_000)
    verified(grant, member, officer, 20_000_000)
    db.session.commit()
    return grant


def test_same_key_twice_records_once(db, users, ready):
    key = str(uuid.uuid4())
    first = record(ready, users["officer"], 5_000_000, key)
    again = record(ready, users["officer"], 5_000_000, key)
    assert not first.duplicate and again.duplicate
    assert again.disbursement.id == first.disbursement.id
    assert count(db) == 1


def test_the_same_bank_transfer_is_recorded_once_whatever_the_form(db, users, ready):
    """Back in the browser gives the form a new key but the same typed transfer: it is recognised."""
    first = record(ready, users["officer"], 2_000_000, str(uuid.uuid4()), bank_reference="ORA-2026-9")
    again = record(ready, users["officer"], 2_000_000, str(uuid.uuid4()), bank_reference=" ora-2026-9 ")
    assert again.duplicate and again.disbursement.id == first.disbursement.id
    with pytest.raises(DisbursementRefused, match="ORA-2026-9"):
        record(ready, users["officer"], 1_000_000, str(uuid.uuid4()), bank_reference="ORA-2026-9")
    assert count(db) == 1


def test_double_submitted_form_shows_the_recorded_one(client, db, users, login_as, ready):
    login_as(users["officer"])
    form = {"idempotency_key": str(uuid.uuid4()), "tranche": "1", "amount": "3 000 000",
            "value_date": utcnow().date().isoformat(), "bank_reference": "VIR-77"}
    first = client.post(f"/grants/{ready.id}/disbursements/new", data=confirmed(form))
    second = client.post(f"/grants/{ready.id}/disbursements/new", data=confirmed(form), follow_redirects=True)
    assert first.status_code == 302 and second.status_code == 200
    assert "VIR-77" in second.get_data(as_text=True)
    assert count(db) == 1


def test_refused_form_keeps_what_was_typed(client, db, users, login_as, ready):
    login_as(users["officer"])
    form = {"idempotency_key": str(uuid.uuid4()), "tranche": "2", "amount": "3 000 000",
            "value_date": utcnow().date().isoformat(), "bank_reference": "VIR-78"}
    response = client.post(f"/grants/{ready.id}/disbursements/new", data=confirmed(form))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "VIR-78" in page
    assert "la tranche précédente" in page or "the previous tranche" in page
    assert count(db) == 0


def _in_thread(app, results, barrier, grant_id, user_id, amount, key):
    with app.app_context():
        grant = _db.session.get(Grant, grant_id)
        user = _db.session.get(User, user_id)
        barrier.wait()
        try:
            done = record(grant, user, amount, key)
            _db.session.commit()
            results.append("duplicate" if done.duplicate else "recorded")
        except DisbursementRefused:
            _db.session.rollback()
            results.append("refused")
        finally:
            _db.session.remove()


def race(app, grant, user, amounts_keys):
    results, barrier = [], threading.Barrier(len(amounts_keys))
    threads = [threading.Thread(target=_in_thread, args=(app, results, barrier, grant.id, user.id, amount, key))
               for amount, key in amounts_keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return sorted(results)


@pytest.mark.backends
def test_two_threads_same_key_record_once(app, db, users, ready, backend):
    key = str(uuid.uuid4())
    assert race(app, ready, users["officer"], [(4_000_000, key), (4_000_000, key)]) == ["duplicate", "recorded"]
    db.session.expire_all()
    assert count(db) == 1
    assert db.session.get(Grant, ready.id).status == GrantStatus.ACTIVE


@pytest.mark.backends
def test_two_threads_never_pay_beyond_the_match(app, db, users, backend):
    member, officer = users["association"], users["officer"]
    grant = make_grant(member, amount=5_000_000, plan=ONE)
    verified(grant, member, officer, 3_000_000)
    db.session.commit()
    results = race(app, grant, officer, [(3_000_000, str(uuid.uuid4())), (3_000_000, str(uuid.uuid4()))])
    assert results == ["recorded", "refused"]
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.sum(Disbursement.amount_xof))) == 3_000_000


def test_above_the_threshold_an_other_approver_signs(app, db, users, ready, outbox):
    first, second = users["approver"], UserFactory(approver=True, email="second@ministry.example.tg")
    app.config["FOUR_EYES_THRESHOLD_XOF"] = 5_000_000
    done = record(ready, first, 5_000_001, str(uuid.uuid4()))
    assert done.request is not None and done.disbursement is None and count(db) == 0
    assert [m.recipient for m in outbox() if m.recipient == second.email]  # the other approver is asked
    with pytest.raises(DisbursementRefused, match="another approver|autre ordonnateur"):
        approve_request(ready, done.request.id, first)
    with pytest.raises(DisbursementRefused):
        approve_request(ready, done.request.id, users["officer"])  # officers do not sign
    assert count(db) == 0
    paid = approve_request(ready, done.request.id, second)
    assert (paid.recorded_by_id, paid.approved_by_id, paid.request_id) == (first.id, second.id, done.request.id)
    assert done.request.status == "approved" and ready.status == GrantStatus.ACTIVE
    with pytest.raises(DisbursementRefused):
        approve_request(ready, done.request.id, second)  # once
    assert count(db) == 1


def test_at_the_threshold_one_signature_is_enough(app, db, users, ready):
    app.config["FOUR_EYES_THRESHOLD_XOF"] = 5_000_000
    assert record(ready, users["officer"], 5_000_000, str(uuid.uuid4())).disbursement is not None


def test_a_pending_request_holds_its_money(app, db, users, ready):
    app.config["FOUR_EYES_THRESHOLD_XOF"] = 1_000_000
    record(ready, users["officer"], 7_000_000, str(uuid.uuid4()))
    with pytest.raises(DisbursementRefused):  # tranche 1 is 8 000 000: 7 000 000 already await a signature
        record(ready, users["officer"], 1_000_001, str(uuid.uuid4()))
    assert count(db, DisbursementRequest) == 1


def test_refusal_needs_a_note_and_tells_the_requester(app, db, users, ready, outbox):
    app.config["FOUR_EYES_THRESHOLD_XOF"] = 1_000_000
    request = record(ready, users["officer"], 2_000_000, str(uuid.uuid4())).request
    with pytest.raises(DisbursementRefused):
        refuse_request(ready, request.id, users["approver"], " ")
    refuse_request(ready, request.id, users["approver"], "RIB du bénéficiaire à vérifier")
    assert request.status == "refused" and request.decision_note and count(db) == 0
    assert outbox(users["officer"].email)


@pytest.mark.backends
def test_the_database_refuses_self_approval(db, users, ready, backend):
    approver = users["approver"]
    request = DisbursementRequest(grant_id=ready.id, tranche_number=1, amount_xof=1, value_date=utcnow().date(),
                                  bank_reference="X", idempotency_key=str(uuid.uuid4()), requested_by_id=approver.id)
    db.session.add(request)
    db.session.flush()
    request.decided_by_id = approver.id
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_approver_pages(client, db, app, users, login_as, ready):
    app.config["FOUR_EYES_THRESHOLD_XOF"] = 1_000_000
    request = record(ready, users["officer"], 2_000_000, str(uuid.uuid4())).request
    login_as(users["approver"])
    home = client.get("/").get_data(as_text=True)
    assert f"/grants/{ready.id}/disbursement-requests/{request.id}" not in home  # the card links to the list
    page = client.get("/grants/disbursement-requests").get_data(as_text=True)
    assert f"/grants/{ready.id}/disbursement-requests/{request.id}" in page
    response = client.post(f"/grants/{ready.id}/disbursement-requests/{request.id}/refuse",
                           data=confirmed({"note": ""}))
    assert response.status_code == 400
    response = client.post(f"/grants/{ready.id}/disbursement-requests/{request.id}/approve",
                           data=step_up(users["approver"], confirmed()))
    assert response.status_code == 302 and count(db) == 1
