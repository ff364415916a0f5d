"""A keyed form sent twice at the same instant (a double click reaching two workers) records one row.

Each sending is a real request in its own thread, with its own test client, app context, session and
connection, on a file SQLite database and, when configured, on PostgreSQL. Both sendings are held at
the grant's lock until both have passed the view's first look at the key: the race the lock and the
unique index close is then certain to happen, not left to the scheduler. One answer is the usual
redirect, the other "already recorded" with the link; one row, its files stored once.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.exc import IntegrityError

from codev.core.timeutil import utcnow
from codev.extensions import db as _db
from codev.grants import common
from codev.grants.models import ContributionEntry, Report
from codev.grants.reports.services import file_report
from tests.factories_ledger import declare, make_grant
from tests.test_idempotency import (
    CASES,
    ContributionForm,
    ReportForm,
    assert_already_recorded,
    keyed_form,
    keyed_rows,
    stored_files,
)


@pytest.fixture
def grant(db, users):
    grant = make_grant(users["association"])
    db.session.commit()
    return grant


def signed_in(app, user):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


@pytest.fixture
def held_at_the_lock(monkeypatch):
    """Both sendings wait for each other just before the grant's lock (after the view's first look)."""
    barrier = threading.Barrier(2)
    lock_grant = common.lock_grant

    def both_then_lock(grant):
        barrier.wait(timeout=30)
        lock_grant(grant)

    monkeypatch.setattr(common, "lock_grant", both_then_lock)  # claim_key takes it there
    return barrier


@pytest.mark.backends
@pytest.mark.parametrize("form_class", [ContributionForm, ReportForm], ids=lambda f: f.__name__)
def test_two_identical_sendings_at_once_record_one_row(app, db, users, grant, held_at_the_lock, form_class, backend):
    case = CASES[form_class]
    member = users[case.role]
    address = case.pages[0].address.format(grant=grant.id)
    clients = [signed_in(app, member) for _ in range(2)]
    form = keyed_form(clients[0].get(address).get_data(as_text=True))
    files_before, answers, errors = stored_files(), [], []

    def send(client) -> None:
        try:
            answers.append(client.post(address, data={**form["fields"], **case.typed(grant)},
                                       content_type="multipart/form-data"))
        except Exception as exc:  # noqa: BLE001 (reported below, with the thread's failure)
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and not held_at_the_lock.broken
    db.session.expire_all()
    [row] = keyed_rows(_db, case.model, form["fields"]["idempotency_key"])
    assert sorted(answer.status_code for answer in answers) == [200, 302]
    assert_already_recorded(next(a for a in answers if a.status_code == 200), case.link.format(grant=grant.id,
                                                                                                 id=row.id))
    expected_files = 1 if case.model is ContributionEntry else 2
    assert len(stored_files() - files_before) == expected_files
    attachments = [row.proof] if case.model is ContributionEntry else [a.file for a in row.attachments]
    assert {a.stored_name for a in attachments} == stored_files() - files_before


@pytest.mark.backends
@pytest.mark.parametrize("model", [ContributionEntry, Report], ids=lambda m: m.__tablename__)
def test_the_database_keeps_one_row_per_key(db, users, grant, model, backend):
    """Behind the lock, the unique index: a second row with a used key is refused; rows without a key are not."""
    member = users["association"]
    rows = [declare(grant, member, 1000) for _ in range(2)] if model is ContributionEntry else [
        a_report(grant, member, kind) for kind in ("progress", "final")]
    db.session.commit()
    assert [r.idempotency_key for r in rows] == [None, None]
    table = model.__table__
    key = "2d1f0c86-8f7e-4f55-9d6a-0e4bb6f6c3a1"
    values = {c.name: getattr(rows[0], c.name) for c in table.columns if c.name != "id"}
    db.session.execute(table.insert().values(**{**values, "idempotency_key": key}))
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(table.insert().values(**{**values, "idempotency_key": key}))
    db.session.rollback()
    assert len(keyed_rows(db, model, key)) == 1


def a_report(grant, member, kind: str) -> Report:
    today = utcnow().date()
    return file_report(grant, member, kind=kind, period_start=today, period_end=today, narrative="Travaux",
                       progress_pct=10, expenses={}, files=[])
