"""Demo money: the seed fills demo grants through the services and tolerates having none."""

from __future__ import annotations

from codev.demo.money import seed_money
from codev.grants.disbursements.tranches import money_facts
from codev.grants.ledger import entries as ledger
from codev.grants.models import GrantStatus, Report
from tests.factories_ledger import make_grant, member_of_grant


def test_seed_money_tolerates_no_grant(db, users):
    assert "no grant" in seed_money([])


def test_seed_money_tells_three_stories(db, users):
    grants = [make_grant(amount=amount) for amount in (6_000_000, 4_000_000, 2_000_000)]
    for grant in grants:
        member_of_grant(grant)
    summary = seed_money(grants)
    assert "3 grants with" in summary
    full, waiting, partial = grants
    facts = money_facts(grants)
    assert full.status == GrantStatus.ACTIVE and facts[full.id].d == full.tranches[0].amount_xof
    assert facts[full.id].v == full.required_association_xof
    assert db.session.scalar(db.select(Report).where(Report.grant_id == full.id)).status == "submitted"
    assert facts[waiting.id].v == 0 and ledger.count_to_verify() == 1
    assert facts[partial.id].v == partial.required_association_xof // 4
