"""duplicate detection (issue 14): decisions on similar associations and projects

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 10:45:00.000000

Two new tables (``codev.accounts.duplicates``): ``association_keys``, one row of normalised, indexed keys
per association (name, its first letters, acronym, initials, registration number, contact email) that
find its possible duplicates in one query, filled here for the associations already registered; and
``duplicate_decisions``, an officer's "not a duplicate" or "merged" on a pair. Nothing existing is
altered (the projects of a call are compared on columns they have), so the downgrade drops both tables.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

KEY_INDEXES = ('name_key', 'name_prefix', 'acronym_key', 'initials_key', 'registration_key', 'email_key')


def upgrade():
    keys = op.create_table('association_keys',
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('name_prefix', sa.String(length=4), nullable=False),
    sa.Column('acronym_key', sa.String(length=30), nullable=True),
    sa.Column('initials_key', sa.String(length=30), nullable=True),
    sa.Column('registration_key', sa.String(length=100), nullable=True),
    sa.Column('email_key', sa.String(length=254), nullable=False),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'],
                            name=op.f('fk_association_keys_association_id_associations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('association_id', name=op.f('pk_association_keys'))
    )
    with op.batch_alter_table('association_keys', schema=None) as batch_op:
        for column in KEY_INDEXES:
            batch_op.create_index(batch_op.f(f'ix_association_keys_{column}'), [column], unique=False)

    op.create_table('duplicate_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_id', sa.Integer(), nullable=False),
    sa.Column('second_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('kept_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('first_id < second_id', name=op.f('ck_duplicate_decisions_pair_ordered')),
    sa.CheckConstraint("outcome IN ('not_duplicate', 'merged')", name=op.f('ck_duplicate_decisions_outcome_valid')),
    sa.CheckConstraint("outcome <> 'merged' OR kept_id IS NOT NULL",
                       name=op.f('ck_duplicate_decisions_merged_has_kept')),
    sa.ForeignKeyConstraint(['first_id'], ['associations.id'],
                            name=op.f('fk_duplicate_decisions_first_id_associations')),
    sa.ForeignKeyConstraint(['second_id'], ['associations.id'],
                            name=op.f('fk_duplicate_decisions_second_id_associations')),
    sa.ForeignKeyConstraint(['kept_id'], ['associations.id'], name=op.f('fk_duplicate_decisions_kept_id_associations')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_duplicate_decisions_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_decisions')),
    sa.UniqueConstraint('first_id', 'second_id', name='uq_duplicate_decisions_pair')
    )
    with op.batch_alter_table('duplicate_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duplicate_decisions_second_id'), ['second_id'], unique=False)

    _fill_keys(keys)


def _fill_keys(keys):
    """The keys of the associations registered before this revision (the app keeps them from then on)."""
    from codev.core.name_keys import PREFIX_LENGTH, acronym_key, initials, name_key, registration_key

    connection = op.get_bind()
    rows = connection.execute(sa.text(
        'SELECT id, name, acronym, registration_number, contact_email FROM associations ORDER BY id')).all()
    values = []
    for row in rows:
        key = name_key(row.name)
        values.append({'association_id': row.id, 'name_key': key, 'name_prefix': key[:PREFIX_LENGTH],
                       'acronym_key': acronym_key(row.acronym), 'initials_key': initials(row.name),
                       'registration_key': registration_key(row.registration_number),
                       'email_key': (row.contact_email or '').strip().lower()})
    if values:
        op.bulk_insert(keys, values)


def downgrade():
    with op.batch_alter_table('duplicate_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duplicate_decisions_second_id'))
    op.drop_table('duplicate_decisions')
    with op.batch_alter_table('association_keys', schema=None) as batch_op:
        for column in reversed(KEY_INDEXES):
            batch_op.drop_index(batch_op.f(f'ix_association_keys_{column}'))
    op.drop_table('association_keys')
