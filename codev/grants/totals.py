"""A grant's running totals, kept by the database itself: what was paid, and the diaspora money verified
(cash and in kind), declared and waiting. The ministry's dashboard and the public register sum these narrow
rows for the grants in view instead of aggregating the whole ledger and every payment on each request
(``codev.oversight``); the list of tranches due and the lapse count read V from them
(``codev.grants.disbursements.due``). The rules that move money still read the ledger itself, under the
grant's lock (``codev.grants.ledger``, ``codev.grants.disbursements.payments``).

- **Kept by triggers.** A row inserted into ``disbursements`` or ``contribution_entries`` (both
  append-only: no UPDATE or DELETE ever happens to them) recomputes its grant's four totals from that
  grant's own rows, by the same definitions as the oversight queries, and writes them to the grant's row
  of ``grant_totals`` (created by the first such insert: a grant without payments nor declarations has none,
  and reads as zeros). Whatever wrote the row (a form, the synthetic data's bulk inserts, raw SQL) the totals
  follow; nothing in Python has to remember. A restore copies the table as it was (``pg_restore`` creates
  the triggers after the data; SQLite's restore is the file itself).
- **A table of its own.** The totals change with each payment and each declaration: a narrow row of
  their own is rewritten each time, not the wide grant with its rules' snapshot, which stays small to scan.
- **Exact under concurrency.** On PostgreSQL the trigger first takes the grant's row lock (``FOR NO KEY
  UPDATE``: it does not wait on the foreign-key checks of the other inserts, so two declarations at once
  never deadlock) and then sums with a fresh snapshot: a transaction waiting for the lock sees the other
  one's rows once it commits. SQLite has one writer at a time.
- **The same statements everywhere.** ``db.create_all()`` installs them through ``after_create``
  listeners (:func:`attach`), Alembic's revision 0020 through :func:`create_statements`;
  :data:`REFRESH_ALL` recomputes every grant (the migration's backfill) and :func:`stale_statement` lists
  the grants whose totals are wrong (``check-data``).
"""

# ruff: noqa: S608 (SQL text built from constants of this module alone: no input reaches it)
from __future__ import annotations

from sqlalchemy import DDL, BigInteger, ForeignKey, Table, event
from sqlalchemy.orm import Mapped, mapped_column

from codev.extensions import db
from codev.projects.models import FundingSource

TABLE = "grant_totals"
SOURCES = ("contribution_entries", "disbursements")  # the tables whose inserts move the totals

# The diaspora's own money: the association's cash and in kind (the community's, the commune's and other
# partners' money is not the diaspora's).
CASH = f"('{FundingSource.ASSOCIATION_CASH.value}')"
IN_KIND = f"('{FundingSource.ASSOCIATION_IN_KIND.value}')"
DIASPORA = f"('{FundingSource.ASSOCIATION_CASH.value}', '{FundingSource.ASSOCIATION_IN_KIND.value}')"


class GrantTotals(db.Model):
    """One grant's running totals (whole XOF), written only by the triggers."""

    __tablename__ = TABLE

    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"), primary_key=True,
                                          autoincrement=False)
    paid_xof: Mapped[int] = mapped_column(BigInteger, default=0)  # Σ disbursements
    # The association's cash and in kind verified and never reversed (at face value: the share of in kind a
    # grant counts is applied where V is computed, codev.core.money.eligible_money_sql).
    verified_cash_xof: Mapped[int] = mapped_column(BigInteger, default=0)
    verified_in_kind_xof: Mapped[int] = mapped_column(BigInteger, default=0)
    diaspora_declared_xof: Mapped[int] = mapped_column(BigInteger, default=0)  # neither rejected nor reversed
    diaspora_pending_xof: Mapped[int] = mapped_column(BigInteger, default=0)  # no officer's answer yet


COLUMNS = ("paid_xof", "verified_cash_xof", "verified_in_kind_xof", "diaspora_declared_xof", "diaspora_pending_xof")


def _answered(*kinds: str) -> str:
    """A declaration some later entry (of ``kinds``, or of any kind) refers to."""
    kind = f" AND a.kind IN ({', '.join(repr(k) for k in kinds)})" if kinds else ""
    return f"EXISTS (SELECT 1 FROM contribution_entries a WHERE a.refers_to_id = e.id{kind})"


def values(grant: str) -> dict[str, str]:
    """column → its value for the grant whose id is the SQL expression ``grant`` (subqueries over its rows)."""
    def declared(sources: str) -> str:
        return (f"SELECT COALESCE(SUM(e.amount_xof), 0) FROM contribution_entries e WHERE e.grant_id = {grant} "
                f"AND e.kind = 'declared' AND e.source IN {sources}")

    standing = f"AND {_answered('verified')} AND NOT {_answered('reversal')}"
    return {
        "paid_xof": f"(SELECT COALESCE(SUM(d.amount_xof), 0) FROM disbursements d WHERE d.grant_id = {grant})",
        "verified_cash_xof": f"({declared(CASH)} {standing})",
        "verified_in_kind_xof": f"({declared(IN_KIND)} {standing})",
        "diaspora_declared_xof": f"({declared(DIASPORA)} AND NOT {_answered('rejected', 'reversal')})",
        "diaspora_pending_xof": f"({declared(DIASPORA)} AND NOT {_answered()})",
    }


def _upsert(grant: str, rows: str = "") -> str:
    """Write the totals of ``grant`` (an SQL expression; over ``rows``, a FROM clause, when given)."""
    computed = values(grant)
    names = ", ".join(COLUMNS)
    if rows:  # INSERT … SELECT … ON CONFLICT needs a WHERE on SQLite (the parser's rule)
        source = f"SELECT {grant}, {', '.join(computed[c] for c in COLUMNS)} FROM {rows} WHERE true"
    else:
        source = f"VALUES ({grant}, {', '.join(computed[c] for c in COLUMNS)})"
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS)
    return (f"INSERT INTO {TABLE} (grant_id, {names}) {source} "
            f"ON CONFLICT (grant_id) DO UPDATE SET {updates}")


REFRESH_ALL = _upsert("g.id", "grants g")


def create_statements(table: str, dialect: str) -> list[str]:
    """SQL that installs the trigger keeping the totals when a row is inserted into ``table``."""
    refresh = _upsert("NEW.grant_id")
    if dialect == "sqlite":
        return [f"CREATE TRIGGER {table}_grant_totals AFTER INSERT ON {table} BEGIN {refresh}; END"]
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION codev_grant_totals() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN PERFORM 1 FROM grants WHERE id = NEW.grant_id FOR NO KEY UPDATE; {refresh}; RETURN NULL; END $$",
            f"CREATE TRIGGER {table}_grant_totals AFTER INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION codev_grant_totals()",
        ]
    return []


def drop_statements(table: str, dialect: str) -> list[str]:
    """SQL that removes the trigger (the migration's downgrade drops the function after both)."""
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_grant_totals"]
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_grant_totals ON {table}"]
    return []


def attach(table: Table) -> None:
    """Install the trigger with ``create_all`` too."""
    for dialect in ("sqlite", "postgresql"):
        for statement in create_statements(table.name, dialect):
            event.listen(table, "after_create", DDL(statement.replace("%", "%%")).execute_if(dialect=dialect))


def trigger_names() -> set[str]:
    """The triggers :func:`create_statements` installs (``check-data`` looks for them)."""
    return {f"{table}_grant_totals" for table in SOURCES}


def stale_statement() -> str:
    """SQL listing each grant whose totals differ from its payments and ledger: its id, then for each column
    the value kept and the value expected."""
    expected = values("g.id")
    kept = ", ".join(f"COALESCE(t.{c}, 0) AS {c}, {expected[c]} AS {c}_expected" for c in COLUMNS)
    differs = " OR ".join(f"COALESCE(t.{c}, 0) <> {expected[c]}" for c in COLUMNS)
    return (f"SELECT g.id, {kept} FROM grants g LEFT JOIN {TABLE} t ON t.grant_id = g.id "
            f"WHERE {differs} ORDER BY g.id")
