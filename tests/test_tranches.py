"""Rule 4 at its boundaries, each tranche's state in words, and a grant's life from award to completion."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from flask_babel import force_locale

from codev.calls.models import TrancheCondition
from codev.core.money import format_xof
from codev.core.timeutil import utcnow
from codev.grants.disbursements.payments import record_disbursement
from codev.grants.disbursements.tranches import DisbursementRefused, money_facts, tranche_views
from codev.grants.models import Disbursement, GrantStatus
from codev.grants.reports import services as reports
from codev.projects.models import ProjectEvent, ProjectStatus
from tests.factories_ledger import make_grant, verified

ONE = ((10_000, TrancheCondition.AWARD),)


def pay(grant, officer, amount, tranche=1):
    return record_disbursement(grant, officer, tranche_number=tranche, amount_xof=amount,
                               value_date=utcnow().date(), bank_reference=f"VIR-{uuid.uuid4().hex[:6]}",
                               idempotency_key=str(uuid.uuid4()))


def paid(grant) -> int:
    return money_facts([grant])[grant.id].d


@pytest.mark.parametrize("ratio, amount, cash, in_kind, limit", [
    ((1, 1), 10_000_000, 3_000_000, 0, 3_000_000),  # 1:1
    ((2, 1), 10_000_000, 1_500_000, 0, 3_000_000),  # 2:1: the state gives two francs for one
    ((1, 2), 4_000_000, 3_000_001, 0, 1_500_000),  # 1:2, rounded down
    ((1, 1), 10_000_000, 1_000_000, 2_000_001, 2_000_000),  # in kind counts for 50 %, rounded down
])
def test_rule_4_boundary(db, users, ratio, amount, cash, in_kind, limit):
    member, officer = users["association"], users["officer"]
    grant = make_grant(member, amount=amount, ratio=ratio, in_kind_bps=5000, plan=ONE)
    verified(grant, member, officer, cash)
    if in_kind:
        verified(grant, member, officer, in_kind, source="association_in_kind")
    with force_locale("en"), pytest.raises(DisbursementRefused, match="would break the match"):
        pay(grant, officer, limit + 1)
    assert paid(grant) == 0
    pay(grant, officer, limit - 1000)
    pay(grant, officer, 1000)  # D + amount = min(G, ratio × V) exactly
    assert paid(grant) == limit
    with pytest.raises(DisbursementRefused):
        pay(grant, officer, 1)  # one franc more
    assert paid(grant) == limit


def test_rule_4_never_beyond_the_grant(db, users):
    member, officer = users["association"], users["officer"]
    grant = make_grant(member, amount=1_000_000, plan=ONE)
    verified(grant, member, officer, 5_000_000)  # ratio × V = 5 000 000 > G
    with force_locale("en"), pytest.raises(DisbursementRefused, match="exceeds tranche 1"):
        pay(grant, officer, 1_000_001)
    pay(grant, officer, 1_000_000)
    assert money_facts([grant])[grant.id].limit == 1_000_000 == paid(grant)


def reasons(grant, member=True):
    with force_locale("en"):
        return {v.number: (str(v.state), v.reasons) for v in tranche_views(grant, money_facts([grant])[grant.id],
                                                                           member=member)}


def test_each_tranche_says_what_it_waits_for(db, users):
    member, officer = users["association"], users["officer"]
    grant = make_grant(member, amount=10_000_000)  # T1 40 % verified, T2 40 % progress, T3 20 % final
    verified(grant, member, officer, 1_200_000)
    with force_locale("en"):
        contribution = ("your contribution is not verified enough yet: "
                        f"{format_xof(1_200_000)} verified of {format_xof(4_000_000)} required")
        officer_words = ("the association's contribution is not verified enough yet: "
                         f"{format_xof(1_200_000)} verified of {format_xof(4_000_000)} required")
    states = reasons(grant)
    assert states[1] == ("not_due", [contribution])
    assert reasons(grant, member=False)[1][1] == [officer_words]
    assert states[2][1][:2] == ["the previous tranche is not paid", "the progress report is not accepted yet"]
    assert states[3][1][:2] == ["the previous tranche is not paid", "the final report is not accepted yet"]
    verified(grant, member, officer, 8_800_000)  # everything verified: only the other conditions remain
    assert reasons(grant)[1] == ("due", [])
    pay(grant, officer, 4_000_000)
    states = reasons(grant)
    assert states[1] == ("paid", [])
    assert states[2] == ("not_due", ["the progress report is not accepted yet"])
    assert states[3] == ("not_due", ["the previous tranche is not paid", "the final report is not accepted yet"])


def file(grant, member, kind):
    today = utcnow().date()
    return reports.file_report(grant, member, kind=kind, period_start=today - timedelta(days=30), period_end=today,
                               narrative="Forage réalisé.", progress_pct=60, expenses={}, files=[])


def test_a_grant_from_award_to_completion(db, users, outbox):
    member, officer = users["association"], users["officer"]
    grant = make_grant(member, amount=10_000_000)
    project = grant.project
    verified(grant, member, officer, 10_000_000)
    with force_locale("en"), pytest.raises(DisbursementRefused, match="the previous tranche is not paid"):
        pay(grant, officer, 1_000, tranche=2)
    pay(grant, officer, 4_000_000)
    assert grant.status == GrantStatus.ACTIVE
    with force_locale("en"), pytest.raises(DisbursementRefused, match="the progress report is not accepted yet"):
        pay(grant, officer, 4_000_000, tranche=2)
    reports.accept_report(grant, file(grant, member, "progress").id, officer)
    pay(grant, officer, 4_000_000, tranche=2)
    with force_locale("en"), pytest.raises(DisbursementRefused, match="the final report is not accepted yet"):
        pay(grant, officer, 2_000_000, tranche=3)
    reports.accept_report(grant, file(grant, member, "final").id, officer)
    assert grant.status == GrantStatus.ACTIVE  # the last tranche is not paid yet
    pay(grant, officer, 2_000_000, tranche=3)
    assert grant.status == GrantStatus.COMPLETED and grant.completed_at is not None
    assert project.status == ProjectStatus.COMPLETED
    assert db.session.scalar(db.select(ProjectEvent).where(ProjectEvent.project_id == project.id,
                                                           ProjectEvent.action == "completed")) is not None
    assert db.session.scalar(db.select(db.func.count(Disbursement.id))) == 3
    with pytest.raises(DisbursementRefused):
        pay(grant, officer, 1, tranche=3)
    assert len(outbox(member.email)) >= 4


def test_final_report_last_completes_the_grant(db, users):
    member, officer = users["association"], users["officer"]
    grant = make_grant(member, amount=1_000_000, plan=ONE)
    verified(grant, member, officer, 1_000_000)
    pay(grant, officer, 1_000_000)
    assert grant.status == GrantStatus.ACTIVE  # every tranche paid, no final report yet
    reports.accept_report(grant, file(grant, member, "final").id, officer)
    assert grant.status == GrantStatus.COMPLETED and grant.project.status == ProjectStatus.COMPLETED


def test_disbursement_checks_its_inputs(db, users):
    member, officer = users["association"], users["officer"]
    grant = make_grant(member, plan=ONE)
    verified(grant, member, officer, 10_000_000)
    base = dict(tranche_number=1, amount_xof=10, bank_reference="VIR", idempotency_key=str(uuid.uuid4()))
    with pytest.raises(DisbursementRefused) as refused:
        record_disbursement(grant, officer, value_date=utcnow().date() + timedelta(days=1), **base)
    assert refused.value.field == "value_date"
    with pytest.raises(DisbursementRefused):
        record_disbursement(grant, officer, value_date=utcnow().date(), **{**base, "idempotency_key": "x"})
    with pytest.raises(DisbursementRefused):
        record_disbursement(grant, officer, value_date=utcnow().date(), **{**base, "tranche_number": 7})
    with pytest.raises(DisbursementRefused):
        record_disbursement(grant, member, value_date=utcnow().date(), **base)
    assert paid(grant) == 0


def test_required_for_rounds_up(app):
    from codev.core.money import Ratio

    assert Ratio(2, 1).required_for(3_000_001) == 1_500_001
    assert Ratio(1, 2).required_for(1_500_000) == 3_000_000
    assert Ratio(2, 1).apply(Ratio(2, 1).required_for(3_000_001)) >= 3_000_001
