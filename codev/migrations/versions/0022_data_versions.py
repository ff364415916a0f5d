"""the data's versions in one table of scopes: the oversight figures' token, and every table's for kept pages

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 00:20:00.000000

``oversight_data_version`` (0012) held one token, replaced by every committed write to a table the oversight
figures read. It becomes ``data_versions``, one row per scope (``codev.core.versions``): row 1 is that same
token, row 2 the token of every table (but the throttles' and the jobs' locks), which the kept pages read
(``codev.core.kept_pages``: the officer's project list). The downgrade drops row 2 and gives the table its
old name back.
"""
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def _rename(old: str, new: str) -> None:
    op.rename_table(old, new)
    if op.get_bind().dialect.name == "postgresql":  # SQLite keeps the constraint's name inside the table's text
        op.execute(f"ALTER TABLE {new} RENAME CONSTRAINT pk_{old} TO pk_{new}")


def upgrade():
    _rename("oversight_data_version", "data_versions")
    table = sa.table("data_versions", sa.column("id", sa.Integer), sa.column("token", sa.String))
    op.execute(table.delete().where(table.c.id == 2))
    op.bulk_insert(table, [{"id": 2, "token": secrets.token_hex(16)}])


def downgrade():
    table = sa.table("data_versions", sa.column("id", sa.Integer))
    op.execute(table.delete().where(table.c.id != 1))
    _rename("data_versions", "oversight_data_version")
