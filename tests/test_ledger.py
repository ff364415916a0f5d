"""The counterpart ledger: declarations, decisions, reversals, V, and an append-only table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from codev.calls.models import ExchangeRate
from codev.core.models import AuditEvent
from codev.core.timeutil import utcnow
from codev.grants.common import LedgerError
from codev.grants.ledger import contributions
from codev.grants.ledger import entries as ledger
from codev.grants.ledger.entries import DeclarationState, read_ledger
from codev.grants.models import ContributionEntry, EntryKind
from tests.factories_ledger import declare, make_grant, proof, verified

EXE = b"MZ\x90\x00" + b"\x00" * 100


@dataclass
class E:
    id: int
    kind: str
    refers_to_id: int | None
    source: str
    amount_xof: int


def test_pure_reading_of_entries():
    entries = [
        E(1, "declared", None, "association_cash", 1_000_000),
        E(2, "declared", None, "association_in_kind", 1_000_001),
        E(3, "declared", None, "community", 500_000),
        E(4, "declared", None, "association_cash", 700_000),
        E(5, "declared", None, "association_cash", 300_000),
        E(6, "verified", 1, "association_cash", 1_000_000),
        E(7, "verified", 2, "association_in_kind", 1_000_001),
        E(8, "verified", 3, "community", 500_000),
        E(9, "rejected", 4, "association_cash", 700_000),
        E(10, "verified", 5, "association_cash", 300_000),
        E(11, "reversal", 5, "association_cash", 300_000),
    ]
    book = read_ledger(entries, 5000)
    assert book.states == {1: "verified", 2: "verified", 3: "verified", 4: "rejected", 5: "reversed"}
    # 1 000 000 cash + ⌊1 000 001 × 50 %⌋ in kind; the community's money is recorded, not counted.
    assert book.eligible_verified == 1_500_000
    assert read_ledger(entries[:5], 5000).pending_xof == 3_500_001
    assert ledger.eligible_verified(entries, 0) == 1_000_000


def test_declaration_keeps_both_figures_at_the_value_dates_rate(db, users):
    member, grant = users["association"], make_grant(users["association"])
    db.session.add(ExchangeRate(currency="USD", rate_millionths=600_500_000, valid_from=date(2024, 1, 1)))
    db.session.add(ExchangeRate(currency="USD", rate_millionths=550_000_000, valid_from=date(2025, 6, 1)))
    euros = declare(grant, member, 1_000_050, currency="EUR")  # 10 000,50 €
    dollars = declare(grant, member, 100_000, currency="USD", value_date=date(2025, 1, 15))  # 1 000 $
    assert (euros.amount_minor, euros.rate_millionths, euros.amount_xof) == (1_000_050, 655_957_000, 6_559_898)
    assert (dollars.rate_millionths, dollars.amount_xof) == (600_500_000, 600_500)
    francs = declare(grant, member, 2_500_000)
    assert (francs.amount_minor, francs.rate_millionths, francs.amount_xof) == (2_500_000, 1_000_000, 2_500_000)
    assert francs.proof.content_type == "application/pdf" and francs.kind == EntryKind.DECLARED
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "contribution.declared",
                                                         AuditEvent.object_id == francs.id)) is not None


@pytest.mark.parametrize("kwargs, field", [
    ({"value_date": utcnow().date() + timedelta(days=1)}, "value_date"),
    ({"currency": "JPY"}, "currency"),
    ({"source": "state"}, "source"),
])
def test_declaration_refused(db, users, kwargs, field):
    grant = make_grant(users["association"])
    with pytest.raises(LedgerError) as refused:
        declare(grant, users["association"], 1_000, **kwargs)
    assert refused.value.field == field
    assert db.session.scalar(db.select(db.func.count(ContributionEntry.id))) == 0


def test_declaration_needs_a_rate_and_a_real_proof(db, users):
    from codev.core.storage import UploadError

    member, grant = users["association"], make_grant(users["association"])
    with pytest.raises(LedgerError, match="Aucun taux|No exchange rate"):
        declare(grant, member, 10_000, currency="CAD")
    with pytest.raises(UploadError):
        contributions.declare_contribution(grant, member, source="association_cash", currency="XOF", amount_minor=5,
                                    value_date=date(2025, 1, 1), proof=proof(EXE, "recu.pdf"))
    with pytest.raises(LedgerError):
        contributions.declare_contribution(grant, member, source="association_cash", currency="XOF", amount_minor=5,
                                    value_date=date(2025, 1, 1), proof=None)


def test_only_the_associations_members_declare(db, users):
    grant = make_grant()  # another association's grant
    with pytest.raises(LedgerError):
        declare(grant, users["association"], 1_000)
    with pytest.raises(LedgerError):
        declare(grant, users["officer"], 1_000)


def test_verify_reject_reverse_append_entries(db, users, outbox):
    member, officer = users["association"], users["officer"]
    grant = make_grant(member, in_kind_bps=5000)
    cash = verified(grant, member, officer, 3_000_000)
    kind = verified(grant, member, officer, 2_000_001, source="association_in_kind")
    community = verified(grant, member, officer, 900_000, source="community")
    wrong = declare(grant, member, 450_000)
    contributions.reject_contribution(grant, wrong.id, officer, "Le relevé ne montre pas ce virement.")
    assert ledger.eligible_verified_sql(grant) == 3_000_000 + 1_000_000
    contributions.reverse_contribution(grant, cash.id, officer, "Virement annulé par la banque.")
    book = read_ledger(ledger.grant_entries(grant.id), grant.in_kind_counts_bps)
    assert book.states[cash.id] == DeclarationState.REVERSED
    assert book.states[wrong.id] == DeclarationState.REJECTED
    assert book.states[community.id] == DeclarationState.VERIFIED and book.states[kind.id] == "verified"
    assert ledger.eligible_verified_sql(grant) == book.eligible_verified == 1_000_000
    kinds = db.session.scalars(db.select(ContributionEntry.kind).order_by(ContributionEntry.id)).all()
    assert kinds.count("declared") == 4 and kinds.count("reversal") == 1 and kinds.count("rejected") == 1
    subjects = [m.subject for m in outbox(member.email)]
    assert any("vérifiée" in s for s in subjects) and any("annulée" in s or "annul" in s for s in subjects)


def test_a_declaration_is_decided_once(db, users):
    member, officer = users["association"], users["officer"]
    grant = make_grant(member)
    entry = verified(grant, member, officer, 1_000)
    with pytest.raises(LedgerError):
        contributions.verify_contribution(grant, entry.id, officer)
    with pytest.raises(LedgerError):
        contributions.reject_contribution(grant, entry.id, officer, "trop tard")
    with pytest.raises(LedgerError):
        contributions.reject_contribution(grant, declare(grant, member, 5).id, officer, "  ")
    with pytest.raises(LedgerError):  # only verified contributions are reversed
        contributions.reverse_contribution(grant, declare(grant, member, 5).id, officer, "raison")
    with pytest.raises(LedgerError):  # members do not verify their own money
        contributions.verify_contribution(grant, declare(grant, member, 5).id, member)


def test_reversal_refused_when_disbursed_money_relies_on_it(db, users):
    from codev.grants.disbursements.payments import record_disbursement

    member, officer = users["association"], users["officer"]
    grant = make_grant(member, amount=10_000_000)
    first = verified(grant, member, officer, 2_000_000)
    verified(grant, member, officer, 2_000_000)
    record_disbursement(grant, officer, tranche_number=1, amount_xof=3_000_000, value_date=utcnow().date(),
                        bank_reference="VIR-1", idempotency_key="6f1c1a52-3f4e-4b7a-9a59-0a3c2f8e0b11")
    with pytest.raises(LedgerError, match="3"):
        contributions.reverse_contribution(grant, first.id, officer, "Faux reçu")
    assert ledger.eligible_verified_sql(grant) == 4_000_000


@pytest.mark.backends
def test_ledgers_are_append_only_in_the_database(db, users, backend):
    from codev.grants.disbursements.payments import record_disbursement

    member, officer = users["association"], users["officer"]
    grant = make_grant(member)
    verified(grant, member, officer, 4_000_000)
    record_disbursement(grant, officer, tranche_number=1, amount_xof=1_000_000, value_date=utcnow().date(),
                        bank_reference="VIR-9", idempotency_key="0b6f7f2e-2b83-4d8e-a0d6-1c1b3f0a9e21")
    db.session.commit()
    for statement in ("UPDATE contribution_entries SET amount_xof = 1", "DELETE FROM contribution_entries",
                      "UPDATE disbursements SET amount_xof = 1", "DELETE FROM disbursements"):
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert db.session.scalar(text("SELECT SUM(amount_xof) FROM disbursements")) == 1_000_000
    assert db.session.scalar(text("SELECT COUNT(*) FROM contribution_entries")) == 2
