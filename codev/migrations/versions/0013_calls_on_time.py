"""calls that open and close on time by themselves (issue 14): a call may be set to open at its opening date

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 10:40:00.000000

``calls.opens_automatically``: the scheduled job ``flask open-close-calls`` opens such a draft call at its
``opens_at`` when it is complete by then (and closes every open call at its ``closes_at``, which needs no
column). Existing calls keep being opened by hand (false). The downgrade drops the column.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    # In place on both engines (a batch copy of ``calls`` on SQLite would drop the table others refer to).
    op.add_column('calls', sa.Column('opens_automatically', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    # SQLite (3.35+) drops a column in place: a batch copy of ``calls`` would drop the table the projects
    # and grants refer to.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE calls DROP COLUMN opens_automatically")
    else:
        op.drop_column('calls', 'opens_automatically')
