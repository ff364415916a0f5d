"""forms sent once: an idempotency key on contribution declarations and on reports

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:00:00.000000

A nullable column and a unique index (NULLs do not collide), both altered in place: on SQLite a batch
rebuild of ``contribution_entries`` would drop its append-only triggers, and dropping the old ``reports``
table would cascade to ``report_attachments``. SQLite has added and dropped columns in place since 3.35.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

TABLES = ('contribution_entries', 'reports')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None, recreate='never') as batch_op:
            batch_op.add_column(sa.Column('idempotency_key', sa.String(length=64), nullable=True))
            batch_op.create_index(f'uq_{table}_idempotency_key', ['idempotency_key'], unique=True)


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None, recreate='never') as batch_op:
            batch_op.drop_index(f'uq_{table}_idempotency_key')
            batch_op.drop_column('idempotency_key')
