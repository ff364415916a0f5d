"""A grant's running totals (paid, diaspora money verified, declared, waiting), kept by the database's
triggers (codev.grants.totals): equal to what the payments and the ledger add up to, however the rows were
written — the services, rows inserted straight into the tables, two declarations at once, a migration over
an existing ledger — and check-data says so when they are not.

Each expected figure is computed here by plain SQL over the ledger, written apart from the triggers' own.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from codev.core.timeutil import utcnow
from codev.extensions import db as _db
from codev.grants.invariants import check_grant_totals
from codev.grants.ledger import contributions
from codev.grants.models import ContributionEntry, Grant
from tests.factories_ledger import declare, make_grant, verified
from tests.factories_oversight import SPECS, seed_programme
from tests.test_four_eyes import money_grant, pay
from tests.test_migrations import _insert_ledger_row, empty_app  # noqa: F401 (the fixture)

pytestmark = pytest.mark.backends

# What each grant's totals must be (paid; cash and in kind verified; declared; waiting), by plain SQL over
# its own rows: a declaration of the association's cash or in kind is verified when a verification refers
# to it and no reversal does; declared when neither a rejection nor a reversal does; waiting when nothing
# refers to it at all.
EXPECTED = """
SELECT g.id,
  (SELECT COALESCE(SUM(amount_xof), 0) FROM disbursements WHERE grant_id = g.id) AS paid,
  (SELECT COALESCE(SUM(d.amount_xof), 0) FROM contribution_entries d WHERE d.grant_id = g.id AND d.kind = 'declared'
     AND d.source = 'association_cash'
     AND d.id IN (SELECT refers_to_id FROM contribution_entries WHERE kind = 'verified' AND refers_to_id IS NOT NULL)
     AND d.id NOT IN (SELECT refers_to_id FROM contribution_entries WHERE kind = 'reversal'
                      AND refers_to_id IS NOT NULL)) AS cash,
  (SELECT COALESCE(SUM(d.amount_xof), 0) FROM contribution_entries d WHERE d.grant_id = g.id AND d.kind = 'declared'
     AND d.source = 'association_in_kind'
     AND d.id IN (SELECT refers_to_id FROM contribution_entries WHERE kind = 'verified' AND refers_to_id IS NOT NULL)
     AND d.id NOT IN (SELECT refers_to_id FROM contribution_entries WHERE kind = 'reversal'
                      AND refers_to_id IS NOT NULL)) AS in_kind,
  (SELECT COALESCE(SUM(d.amount_xof), 0) FROM contribution_entries d WHERE d.grant_id = g.id AND d.kind = 'declared'
     AND d.source IN ('association_cash', 'association_in_kind')
     AND d.id NOT IN (SELECT refers_to_id FROM contribution_entries WHERE kind IN ('rejected', 'reversal')
                      AND refers_to_id IS NOT NULL)) AS declared,
  (SELECT COALESCE(SUM(d.amount_xof), 0) FROM contribution_entries d WHERE d.grant_id = g.id AND d.kind = 'declared'
     AND d.source IN ('association_cash', 'association_in_kind')
     AND d.id NOT IN (SELECT refers_to_id FROM contribution_entries WHERE refers_to_id IS NOT NULL)) AS pending
FROM grants g ORDER BY g.id
"""
KEPT = ("SELECT g.id, COALESCE(t.paid_xof, 0), COALESCE(t.verified_cash_xof, 0), COALESCE(t.verified_in_kind_xof, 0), "
        "COALESCE(t.diaspora_declared_xof, 0), COALESCE(t.diaspora_pending_xof, 0) "
        "FROM grants g LEFT JOIN grant_totals t ON t.grant_id = g.id ORDER BY g.id")


def expected() -> list[tuple[int, ...]]:
    return [tuple(int(v) for v in row) for row in _db.session.execute(text(EXPECTED))]


def kept() -> list[tuple[int, ...]]:
    _db.session.expire_all()
    return [tuple(int(v) for v in row) for row in _db.session.execute(text(KEPT))]


def totals_of(grant: Grant) -> tuple[int, int, int, int, int]:
    return next(row[1:] for row in kept() if row[0] == grant.id)


def test_a_seeded_programme_has_the_totals_of_its_ledger(db):
    seeded = seed_programme()
    assert kept() == expected()
    # The first project of the seed, by its own figures: 3 000 000 cash and 1 000 000 in kind verified (the
    # community's 400 000 is not the diaspora's; 700 000 was reversed, 500 000 rejected), 3 000 000 paid.
    first = seeded["grants"][0]
    assert SPECS[0].verified[:2] == [("association_cash", 3_000_000), ("association_in_kind", 1_000_000)]
    assert totals_of(first) == (3_000_000, 3_000_000, 1_000_000, 4_000_000, 0)
    # The second: 2 000 000 verified, 300 000 still waiting for an officer.
    assert totals_of(seeded["grants"][1]) == (0, 2_000_000, 0, 2_300_000, 300_000)


def test_each_step_of_the_services_moves_the_totals(db, users):
    member, officer = users["association"], users["officer"]
    grant = make_grant(member, amount=10_000_000)
    db.session.commit()
    assert totals_of(grant) == (0, 0, 0, 0, 0)

    first = declare(grant, member, 2_000_000)
    db.session.commit()
    assert totals_of(grant) == (0, 0, 0, 2_000_000, 2_000_000)
    contributions.verify_contribution(grant, first.id, officer)
    db.session.commit()
    assert totals_of(grant) == (0, 2_000_000, 0, 2_000_000, 0)

    second = declare(grant, member, 500_000, source="association_in_kind")
    db.session.commit()
    assert totals_of(grant) == (0, 2_000_000, 0, 2_500_000, 500_000)
    contributions.reject_contribution(grant, second.id, officer, "Reçu illisible")
    db.session.commit()
    assert totals_of(grant) == (0, 2_000_000, 0, 2_000_000, 0)

    third = verified(grant, member, officer, 1_000_000)
    db.session.commit()
    assert totals_of(grant) == (0, 3_000_000, 0, 3_000_000, 0)
    contributions.reverse_contribution(grant, third.id, officer, "Virement annulé par la banque")
    db.session.commit()
    assert totals_of(grant) == (0, 2_000_000, 0, 2_000_000, 0)
    assert kept() == expected()


def test_payments_move_the_paid_total(db, users):
    grant = money_grant(db, users, 4_000_000, 1, 1)
    assert pay(grant, users["officer"], 1_500_000, tranche=1) == "paid"
    assert pay(grant, users["officer"], 500_000, tranche=1) == "paid"
    assert totals_of(grant)[0] == 2_000_000
    assert kept() == expected()


def test_rows_written_straight_into_the_tables_keep_the_totals(db, users):
    """A restore or a bulk load writes rows without the services: the triggers still follow."""
    member, officer = users["association"], users["officer"]
    grant = make_grant(member)
    db.session.commit()
    insert = text(
        "INSERT INTO contribution_entries (grant_id, kind, refers_to_id, source, currency, amount_minor, "
        "rate_millionths, amount_xof, value_date, created_by_id, created_at) VALUES (:g, :kind, :refers, :source, "
        "'XOF', :amount, 1000000, :amount, :day, :user, CURRENT_TIMESTAMP)")
    day = date(2026, 3, 1)
    for source, amount in (("association_cash", 700_000), ("community", 300_000)):
        db.session.execute(insert, {"g": grant.id, "kind": "declared", "refers": None, "source": source,
                                    "amount": amount, "day": day, "user": member.id})
    cash = db.session.scalar(text("SELECT min(id) FROM contribution_entries WHERE grant_id = :g"), {"g": grant.id})
    db.session.execute(insert, {"g": grant.id, "kind": "verified", "refers": cash, "source": "association_cash",
                                "amount": 700_000, "day": day, "user": officer.id})
    db.session.execute(text(
        "INSERT INTO disbursements (grant_id, tranche_number, amount_xof, value_date, bank_reference, "
        "idempotency_key, recorded_by_id, recorded_at) VALUES (:g, 1, 250000, :day, 'VIR-1', 'k-straight', :user, "
        "CURRENT_TIMESTAMP)"), {"g": grant.id, "day": day, "user": officer.id})
    db.session.commit()
    assert totals_of(grant) == (250_000, 700_000, 0, 700_000, 0)
    assert kept() == expected()


THREADS = 8


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": THREADS + 2, "max_overflow": 5}}


def test_declarations_sent_at_once_are_all_counted(app, db, users):
    """Declarations do not take the grant's lock in the service; the trigger does, so that none of the
    concurrent transactions sums the ledger without the others' rows (a lost update)."""
    member = users["association"]
    grant = make_grant(member)
    db.session.commit()
    grant_id, member_id = grant.id, member.id
    barrier, errors = threading.Barrier(THREADS), []

    def work(n: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                _db.session.add(ContributionEntry(
                    grant_id=grant_id, kind="declared", source="association_cash", currency="XOF",
                    amount_minor=100_000 + n, rate_millionths=1_000_000, amount_xof=100_000 + n,
                    value_date=utcnow().date() - timedelta(days=1), created_by_id=member_id))
                _db.session.commit()
            except Exception as exc:  # noqa: BLE001 (reported below)
                errors.append(repr(exc))
                _db.session.rollback()
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    everything = sum(100_000 + n for n in range(THREADS))
    assert totals_of(grant) == (0, 0, 0, everything, everything)
    assert kept() == expected()


def test_check_data_finds_totals_that_drifted_and_missing_triggers(db, users):
    grant = money_grant(db, users, 4_000_000, 1)
    assert check_grant_totals().ok
    db.session.execute(text("UPDATE grant_totals SET verified_cash_xof = verified_cash_xof + 1 "
                            "WHERE grant_id = :g"), {"g": grant.id})
    result = check_grant_totals()
    assert not result.ok
    assert result.problems == [f"grant {grant.id}: verified_cash_xof 4000001 instead of 4000000"]
    db.session.rollback()
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("DROP TRIGGER disbursements_grant_totals"))
    else:
        db.session.execute(text("DROP TRIGGER disbursements_grant_totals ON disbursements"))
    assert check_grant_totals().problems == ["the trigger disbursements_grant_totals that keeps the grants' totals "
                                             "is missing"]
    db.session.rollback()


def _tables() -> set[str]:
    return set(inspect(_db.engine).get_table_names())


def test_migration_0020_computes_the_totals_of_an_existing_ledger_and_goes_back(empty_app):  # noqa: F811
    upgrade(revision="0019")
    with _db.engine.begin() as connection:
        connection.execute(text("INSERT INTO users (email, name, role, locale, active, session_version, created_at) "
                                "VALUES ('o@x.tg', 'x', 'officer', 'fr', true, 1, CURRENT_TIMESTAMP)"))
        _insert_ledger_row(connection, "contribution_entries")
        _insert_ledger_row(connection, "disbursements")
    upgrade(revision="0020")
    rows = [tuple(row) for row in _db.session.execute(text(KEPT))]
    assert [row[1:] for row in rows] == [(0, 0, 0, 5, 5), (5, 0, 0, 0, 0)]
    assert [tuple(row) for row in _db.session.execute(text(EXPECTED))] == rows
    _db.session.rollback()
    downgrade(revision="0019")
    assert "grant_totals" not in _tables()
    with _db.engine.begin() as connection:  # no trigger left writing to the table that is gone
        _insert_ledger_row(connection, "disbursements")
    upgrade()
    assert [row[1] for row in _db.session.execute(text(KEPT))] == [0, 5, 5]
    _db.session.rollback()


def test_the_migration_installs_the_triggers_create_all_installs():
    """Revision 0020 carries its own copy of the triggers (a migration imports only core): the same statements
    as codev.grants.totals, so a database made by the migrations keeps its totals as the tests' one does."""
    import importlib.util
    from pathlib import Path

    from codev.grants import totals

    path = Path(totals.__file__).parents[1] / "migrations" / "versions" / "0020_grant_totals.py"
    spec = importlib.util.spec_from_file_location("revision_0020", path)
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    assert revision.COLUMNS == totals.COLUMNS and revision.TABLE == totals.TABLE
    assert revision.REFRESH_ALL == totals.REFRESH_ALL
    for table in totals.SOURCES:
        for dialect in ("sqlite", "postgresql"):
            assert revision.create_statements(table, dialect) == totals.create_statements(table, dialect)
            assert revision.drop_statements(table, dialect) == totals.drop_statements(table, dialect)
