"""What must hold of the grants' money and paper whatever happened: checked after a restore and by
``flask --app codev check-data``.

Each check is an SQL query that returns only the rows that break it (the database counts and sums), and
says what it read. The app registers them with core (``codev.core.invariants.check_with``, in ``cli.py``):

- every call's committed money is exactly what its grants still hold, Σ (amount − released) (rule 3);
- no grant has paid out more than min(G, ratio × V) (rule 4), no tranche more than its amount, and a
  grant's tranches add up to it;
- the ledgers are intact: append-only triggers in place, every decision and reversal refers to a
  declaration of the same grant with the same figures, a reversal only to a verified one, and the
  amendments chain from one to the next to the grant's present amount and deadline;
- every grant's running totals (paid, diaspora money verified, declared, waiting) are what its payments
  and ledger add up to, and the triggers that keep them are in place (``codev.grants.totals``);
- every award letter's stored SHA-256 is that of its PDF bytes, and a grant has at most one valid letter
  per language.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import BigInteger, and_, case, cast, exists, func, literal, or_, select, text
from sqlalchemy.orm import aliased

from codev.calls.models import Call
from codev.core.invariants import CheckResult, append_only_problems, triggers_present
from codev.core.money import eligible_money_sql
from codev.extensions import db
from codev.grants import totals
from codev.grants.ledger.entries import _standing_declarations
from codev.grants.models import (
    AwardLetter,
    ContributionEntry,
    Disbursement,
    EntryKind,
    Grant,
    GrantAmendment,
    GrantTranche,
    LetterStatus,
)
from codev.projects.models import FundingSource

APPEND_ONLY = ("contribution_entries", "disbursements", "grant_amendments")


def _count(model) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def _sum(column):
    return cast(func.coalesce(func.sum(column), 0), BigInteger)


def check_envelopes() -> CheckResult:
    """Every call's committed money equals what its grants hold (Σ amount − released)."""
    held = (select(Grant.call_id, _sum(Grant.amount_xof - Grant.released_xof).label("held"))
            .group_by(Grant.call_id).subquery())
    held_xof = func.coalesce(held.c.held, 0)
    rows = db.session.execute(
        select(Call.id, Call.committed_xof, held_xof, Call.envelope_xof)
        .outerjoin(held, held.c.call_id == Call.id)
        .where(or_(Call.committed_xof != held_xof, Call.committed_xof > Call.envelope_xof))
        .order_by(Call.id)
    )
    problems = [f"call {call_id}: {committed} XOF committed, its grants hold {int(grants)} "
                f"(envelope {envelope})" for call_id, committed, grants, envelope in rows]
    return CheckResult("every call's committed envelope equals the sum of its grants", _count(Call), problems)


def _verified():
    """Verified, not reversed, association cash and in-kind money per grant (V's two parts)."""
    entry = ContributionEntry
    return (select(entry.grant_id,
                   _sum(case((entry.source == FundingSource.ASSOCIATION_CASH, entry.amount_xof), else_=0))
                   .label("cash"),
                   _sum(case((entry.source == FundingSource.ASSOCIATION_IN_KIND, entry.amount_xof), else_=0))
                   .label("in_kind"))
            .where(_standing_declarations()).group_by(entry.grant_id).subquery())


def check_rule_four() -> CheckResult:
    """Disbursed never exceeds min(G, ratio × V), nor a tranche its amount; the tranches add up to the grant."""
    paid = (select(Disbursement.grant_id, _sum(Disbursement.amount_xof).label("d"))
            .group_by(Disbursement.grant_id).subquery())
    verified = _verified()
    d = func.coalesce(paid.c.d, 0)
    v = eligible_money_sql(func.coalesce(verified.c.cash, 0), func.coalesce(verified.c.in_kind, 0),
                           Grant.in_kind_counts_bps)
    # D ≤ ⌊ratio × V⌋ ⟺ D × den ≤ num × V (whole francs): exact in integers.
    over = db.session.execute(
        select(Grant.id, Grant.amount_xof, d, v, Grant.ratio_num, Grant.ratio_den)
        .outerjoin(paid, paid.c.grant_id == Grant.id).outerjoin(verified, verified.c.grant_id == Grant.id)
        .where(or_(d > Grant.amount_xof, d * Grant.ratio_den > v * Grant.ratio_num)).order_by(Grant.id)
    )
    problems = [f"grant {grant_id}: {int(paid_xof)} XOF disbursed, rule 4 allows min({amount}, "
                f"{num}:{den} × {int(verified_xof)})" for grant_id, amount, paid_xof, verified_xof, num, den in over]

    by_tranche = (select(Disbursement.grant_id, Disbursement.tranche_number,
                         _sum(Disbursement.amount_xof).label("paid"))
                  .group_by(Disbursement.grant_id, Disbursement.tranche_number).subquery())
    for grant_id, number, paid_xof, amount in db.session.execute(
        select(by_tranche.c.grant_id, by_tranche.c.tranche_number, by_tranche.c.paid, GrantTranche.amount_xof)
        .outerjoin(GrantTranche, and_(GrantTranche.grant_id == by_tranche.c.grant_id,
                                      GrantTranche.number == by_tranche.c.tranche_number))
        .where(or_(GrantTranche.id.is_(None), by_tranche.c.paid > GrantTranche.amount_xof))
        .order_by(by_tranche.c.grant_id, by_tranche.c.tranche_number)
    ):
        problems.append(f"grant {grant_id}, tranche {number}: {int(paid_xof)} XOF paid, "
                        + ("no such tranche" if amount is None else f"the tranche is {amount}"))

    tranches = (select(GrantTranche.grant_id, _sum(GrantTranche.amount_xof).label("total"))
                .group_by(GrantTranche.grant_id).subquery())
    total = func.coalesce(tranches.c.total, 0)
    for grant_id, amount, split in db.session.execute(
        select(Grant.id, Grant.amount_xof, total).outerjoin(tranches, tranches.c.grant_id == Grant.id)
        .where(total != Grant.amount_xof).order_by(Grant.id)
    ):
        problems.append(f"grant {grant_id}: its tranches add up to {int(split)} XOF, the grant is {amount}")
    return CheckResult("disbursed within rule 4 and within each tranche, for every grant", _count(Grant), problems)


def check_ledgers() -> CheckResult:
    """The ledgers are append-only and consistent: follow-ups match their declarations, amendments chain."""
    problems = append_only_problems(APPEND_ONLY)
    entry, declaration = ContributionEntry, aliased(ContributionEntry)
    for entry_id, kind, refers_to in db.session.execute(
        select(entry.id, entry.kind, entry.refers_to_id)
        .join(declaration, declaration.id == entry.refers_to_id)
        .where(entry.kind != EntryKind.DECLARED,
               or_(declaration.kind != EntryKind.DECLARED, declaration.grant_id != entry.grant_id,
                   declaration.amount_xof != entry.amount_xof, declaration.source != entry.source))
        .order_by(entry.id)
    ):
        problems.append(f"ledger entry {entry_id} ({kind}) does not match declaration {refers_to}")
    verified = aliased(ContributionEntry)
    for entry_id, refers_to in db.session.execute(
        select(entry.id, entry.refers_to_id)
        .where(entry.kind == EntryKind.REVERSAL,
               ~exists().where(verified.refers_to_id == entry.refers_to_id, verified.kind == EntryKind.VERIFIED))
        .order_by(entry.id)
    ):
        problems.append(f"ledger entry {entry_id} reverses declaration {refers_to}, which was never verified")

    chain = select(
        GrantAmendment.id, GrantAmendment.grant_id, GrantAmendment.amount_before_xof, GrantAmendment.amount_after_xof,
        GrantAmendment.deadline_before, GrantAmendment.deadline_after,
        func.lag(GrantAmendment.amount_after_xof).over(partition_by=GrantAmendment.grant_id,
                                                       order_by=GrantAmendment.id).label("previous_amount"),
        func.lag(GrantAmendment.deadline_after).over(partition_by=GrantAmendment.grant_id,
                                                     order_by=GrantAmendment.id).label("previous_deadline"),
        func.row_number().over(partition_by=GrantAmendment.grant_id,
                               order_by=GrantAmendment.id.desc()).label("from_last"),
    ).subquery()
    for amendment_id, grant_id in db.session.execute(
        select(chain.c.id, chain.c.grant_id).join(Grant, Grant.id == chain.c.grant_id)
        .where(or_(chain.c.previous_amount != chain.c.amount_before_xof,
                   chain.c.previous_deadline != chain.c.deadline_before,
                   and_(chain.c.from_last == 1, or_(chain.c.amount_after_xof != Grant.amount_xof,
                                                   chain.c.deadline_after != Grant.contribution_deadline))))
        .order_by(chain.c.id)
    ):
        problems.append(f"grant {grant_id}: amendment {amendment_id} does not follow from the one before it "
                        "or does not give the grant's present amount and deadline")
    checked = _count(ContributionEntry) + _count(GrantAmendment) + _count(Disbursement)
    return CheckResult("ledgers intact: append-only, decisions and amendments consistent", checked, problems)


def check_grant_totals() -> CheckResult:
    """The totals the oversight figures sum equal the payments and the ledger, grant by grant."""
    problems = [f"the trigger {name} that keeps the grants' totals is missing"
                for name in sorted(totals.trigger_names() - triggers_present())]
    for row in db.session.connection().execute(text(totals.stale_statement())):
        values = row._mapping
        wrong = [f"{name} {values[name]} instead of {values[name + '_expected']}" for name in totals.COLUMNS
                 if values[name] != values[name + "_expected"]]
        problems.append(f"grant {values['id']}: " + ", ".join(wrong))
    return CheckResult("every grant's running totals agree with its payments and ledger", _count(Grant), problems)


def _sha256_hex(column):
    """The hexadecimal SHA-256 of a binary column, computed by the database (SQLite: a function we give it)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        return func.encode(func.sha256(column), literal("hex"))
    connection.connection.driver_connection.create_function(
        "codev_sha256", 1, lambda data: None if data is None else hashlib.sha256(data).hexdigest(), deterministic=True)
    return func.codev_sha256(column)


def check_letters() -> CheckResult:
    """Every award letter's stored SHA-256 is that of its PDF bytes; at most one valid letter per language."""
    computed = _sha256_hex(AwardLetter.pdf)
    problems = [f"letter {reference}: its PDF bytes give SHA-256 {(actual or '')[:12]}…, the stored one is "
                f"{stored[:12]}…" for reference, stored, actual in db.session.execute(
                    select(AwardLetter.reference, AwardLetter.sha256, computed)
                    .where(or_(computed.is_(None), computed != AwardLetter.sha256)).order_by(AwardLetter.id))]
    for grant_id, language, valid in db.session.execute(
        select(AwardLetter.grant_id, AwardLetter.language, func.count(AwardLetter.id))
        .where(AwardLetter.status == LetterStatus.VALID)
        .group_by(AwardLetter.grant_id, AwardLetter.language).having(func.count(AwardLetter.id) > 1)
    ):
        problems.append(f"grant {grant_id}: {valid} valid letters in {language}")
    return CheckResult("every award letter's stored hash matches its PDF bytes", _count(AwardLetter), problems)


CHECKS = (check_envelopes, check_rule_four, check_ledgers, check_grant_totals, check_letters)
