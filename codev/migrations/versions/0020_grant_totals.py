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

from codev.grants import totals

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

BY_STATUS = {"ix_projects_association_status": "association_id", "ix_projects_region_status": "region",
             "ix_projects_prefecture_status": "prefecture", "ix_projects_sector_status": "sector"}


def upgrade():
    op.create_table(
        totals.TABLE,
        sa.Column("grant_id", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in totals.COLUMNS),
        sa.ForeignKeyConstraint(["grant_id"], ["grants.id"], name=op.f("fk_grant_totals_grant_id_grants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("grant_id", name=op.f("pk_grant_totals")),
    )
    dialect = op.get_bind().dialect.name
    for table in totals.SOURCES:
        for statement in totals.create_statements(table, dialect):
            op.execute(statement)
    op.execute(totals.REFRESH_ALL)
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
    for table in totals.SOURCES:
        for statement in totals.drop_statements(table, dialect):
            op.execute(statement)
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS codev_grant_totals()")
    op.drop_table(totals.TABLE)
