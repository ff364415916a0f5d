"""background work: the mail worker's claims and retries, job locks, reminders sent once

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 12:00:00.000000

- ``outbox_messages`` gets its delivery (pending, sent, failed), the attempts so far, when the next is due,
  the claim of the worker sending it (who, until when) and its last error (the old ``error`` renamed).
  Messages already sent become ``sent``, the others ``pending``, due at once. Nothing points at the table,
  so on SQLite the batch rebuild is safe.
- ``job_locks``: one row per scheduled job running now (SQLite; PostgreSQL uses advisory locks).
- ``reminders_sent``: each reminder once per grant and key, filled from the audit log's ``grant.reminder``
  events (the record they were checked against until now). The downgrade drops it; the audit events
  stay, and the older code reads them again.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

OUTBOX_CHECKS = (
    ('delivery_valid', "delivery IN ('pending', 'sent', 'failed')"),
    ('attempts_not_negative', 'attempts >= 0'),
    ('sent_has_date', "(delivery = 'sent') = (sent_at IS NOT NULL)"),
)


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.alter_column('error', new_column_name='last_error', existing_type=sa.String(length=500),
                              existing_nullable=True)
        batch_op.add_column(sa.Column('delivery', sa.String(length=10), nullable=False, server_default='pending'))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True))

    outbox = sa.table('outbox_messages', sa.column('delivery', sa.String), sa.column('sent_at'),
                      sa.column('created_at'), sa.column('next_attempt_at'))
    op.execute(outbox.update().where(outbox.c.sent_at.is_not(None)).values(delivery='sent'))
    op.execute(outbox.update().values(next_attempt_at=outbox.c.created_at))

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.alter_column('delivery', existing_type=sa.String(length=10), server_default=None)
        batch_op.alter_column('attempts', existing_type=sa.Integer(), server_default=None)
        batch_op.alter_column('next_attempt_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        for name, condition in OUTBOX_CHECKS:
            batch_op.create_check_constraint(op.f(f'ck_outbox_messages_{name}'), condition)
        batch_op.create_index('ix_outbox_messages_due', ['delivery', 'next_attempt_at'], unique=False)

    op.create_table('job_locks',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=100), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_locks'))
    )

    op.create_table('reminders_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['grant_id'], ['grants.id'], name=op.f('fk_reminders_sent_grant_id_grants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders_sent')),
    sa.UniqueConstraint('grant_id', 'key', name='uq_reminders_sent_grant_id_key')
    )
    _reminders_from_the_audit_log()


def _reminders_from_the_audit_log():
    """One row per (grant, key) the audit log says was reminded, dated by its first event."""
    events = sa.table('audit_events', sa.column('action', sa.String), sa.column('object_type', sa.String),
                      sa.column('object_id', sa.Integer), sa.column('after', sa.JSON),
                      sa.column('at', sa.DateTime(timezone=True)))
    grants = sa.table('grants', sa.column('id', sa.Integer))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(events.c.object_id, events.c.after, events.c.at)
        .where(events.c.action == 'grant.reminder', events.c.object_type == 'grants',
               events.c.object_id.in_(sa.select(grants.c.id)))
        .order_by(events.c.at)
    ).all()
    first: dict[tuple[int, str], object] = {}
    for grant_id, after, at in rows:
        key = (after or {}).get('key') if isinstance(after, dict) else None
        if key:
            first.setdefault((grant_id, str(key)[:64]), at)
    if first:
        sent = sa.table('reminders_sent', sa.column('grant_id', sa.Integer), sa.column('key', sa.String),
                        sa.column('sent_at', sa.DateTime(timezone=True)))
        op.bulk_insert(sent, [{'grant_id': grant_id, 'key': key, 'sent_at': at}
                              for (grant_id, key), at in first.items()])


def downgrade():
    op.drop_table('reminders_sent')
    op.drop_table('job_locks')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_due')
        for name, _condition in reversed(OUTBOX_CHECKS):
            batch_op.drop_constraint(op.f(f'ck_outbox_messages_{name}'), type_='check')
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('delivery')
        batch_op.alter_column('last_error', new_column_name='error', existing_type=sa.String(length=500),
                              existing_nullable=True)
