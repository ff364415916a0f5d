"""the oversight figures at scale (issue 10): each grant's running totals, kept by the database

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 19:50:00.000000

A narrow table ``grant_totals`` (paid, and the diaspora money verified, declared and waiting, per grant),
kept by triggers on the two append-only tables that move them (``codev.grants.totals``), and computed for
the grants already there; two indexes from which the figures read the grants in view and their projects'
place (``codev.oversight.cache``); the projects' indexes on the association, region and sector take the
status as a second column, and the prefecture gets one (the dashboard's counts read them in order). The
downgrade puts the old indexes back and drops the new ones, the triggers, then the table.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

# The triggers and the backfill as they stand at this revision: a copy of ``codev.grants.totals`` frozen here
# (a migration imports nothing but core; tests/test_grant_totals.py checks the two give the same statements).
TABLE = "grant_totals"
SOURCES = ("contribution_entries", "disbursements")
COLUMNS = ("paid_xof", "verified_cash_xof", "verified_in_kind_xof", "diaspora_declared_xof", "diaspora_pending_xof")
CASH, IN_KIND = "('association_cash')", "('association_in_kind')"
DIASPORA = "('association_cash', 'association_in_kind')"


def _answered(*kinds):
    kind = f" AND a.kind IN ({', '.join(repr(k) for k in kinds)})" if kinds else ""
    return f"EXISTS (SELECT 1 FROM contribution_entries a WHERE a.refers_to_id = e.id{kind})"


def _values(grant):
    def declared(sources):
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


def _upsert(grant, rows=""):
    computed = _values(grant)
    listed = ", ".join(computed[c] for c in COLUMNS)
    source = f"SELECT {grant}, {listed} FROM {rows} WHERE true" if rows else f"VALUES ({grant}, {listed})"
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS)
    return f"INSERT INTO {TABLE} (grant_id, {', '.join(COLUMNS)}) {source} ON CONFLICT (grant_id) DO UPDATE SET {updates}"


REFRESH_ALL = _upsert("g.id", "grants g")


def create_statements(table, dialect):
    refresh = _upsert("NEW.grant_id")
    if dialect == "sqlite":
        return [f"CREATE TRIGGER {table}_grant_totals AFTER INSERT ON {table} BEGIN {refresh}; END"]
    return [
        "CREATE OR REPLACE FUNCTION codev_grant_totals() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN PERFORM 1 FROM grants WHERE id = NEW.grant_id FOR NO KEY UPDATE; {refresh}; RETURN NULL; END $$",
        f"CREATE TRIGGER {table}_grant_totals AFTER INSERT ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION codev_grant_totals()",
    ]


def drop_statements(table, dialect):
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_grant_totals"]
    return [f"DROP TRIGGER IF EXISTS {table}_grant_totals ON {table}"]


BY_STATUS = {"ix_projects_association_status": "association_id", "ix_projects_region_status": "region",
             "ix_projects_prefecture_status": "prefecture", "ix_projects_sector_status": "sector"}


def upgrade():
    op.create_table(
        TABLE,
        sa.Column("grant_id", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in COLUMNS),
        sa.ForeignKeyConstraint(["grant_id"], ["grants.id"], name=op.f("fk_grant_totals_grant_id_grants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("grant_id", name=op.f("pk_grant_totals")),
    )
    dialect = op.get_bind().dialect.name
    for table in SOURCES:
        for statement in create_statements(table, dialect):
            op.execute(statement)
    op.execute(REFRESH_ALL)
    # The figures read the grants in view and their projects' place from these two indexes alone.
    op.create_index("ix_grants_oversight", "grants",
                    ["project_id", "call_id", "status", "approved_at", "amount_xof", "released_xof", "id"])
    op.create_index("ix_projects_oversight", "projects",
                    ["id", "region", "prefecture", "sector", "commune", "association_id"])
    # The dashboard counts the submitted projects by each dimension from an index in that dimension's order
    # (with the status): the single-column indexes become these.
    for name, column in BY_STATUS.items():
        op.create_index(name, "projects", [column, "status"])
    for column in ("association_id", "region", "sector"):
        op.drop_index(f"ix_projects_{column}", table_name="projects")


def downgrade():
    for column in ("association_id", "region", "sector"):
        op.create_index(f"ix_projects_{column}", "projects", [column])
    for name in BY_STATUS:
        op.drop_index(name, table_name="projects")
    op.drop_index("ix_projects_oversight", table_name="projects")
    op.drop_index("ix_grants_oversight", table_name="grants")
    dialect = op.get_bind().dialect.name
    for table in SOURCES:
        for statement in drop_statements(table, dialect):
            op.execute(statement)
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS codev_grant_totals()")
    op.drop_table(TABLE)
