"""the grant's whole life: lapsed projects, cancellation, amendments, the reserve list

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 23:30:00.000000

- ``projects.status`` may be ``lapsed`` (its grant lapsed or was cancelled);
- a grant keeps who cancelled it, when and why (a cancelled grant must have a reason);
- ``grant_amendments`` (append-only): deadline extended, amount reduced or increased, with the reason;
- a closed committee session keeps the envelope left at closing and its ranking (``reserve_entries``).

The two CHECK constraints change in place. On PostgreSQL they are dropped and created again. On SQLite a
batch rebuild of ``projects`` or ``grants`` would drop the tables their children point at (with foreign
keys on, that deletes or refuses), so the constraint text is edited in ``sqlite_schema`` instead — the
way SQLite's documentation gives for changes that leave the stored rows as they are (adding a value to an
allowed list; a rule no existing row breaks, since no grant was cancelled before this revision).
"""
import sqlalchemy as sa
from alembic import op

from codev.core import appendonly

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

PROJECT_STATES = ("'draft', 'submitted', 'returned', 'ineligible', 'in_review', 'qualified', 'not_qualified', "
                  "'approved', 'rejected', 'deferred', 'funded', 'completed', 'closed', 'withdrawn'")
PROJECT_CHECK_BEFORE = f"status IN ({PROJECT_STATES})"
PROJECT_CHECK_AFTER = f"status IN ({PROJECT_STATES}, 'lapsed')"
GRANT_CHECK_BEFORE = "status IN ('awarded', 'active', 'completed', 'lapsed', 'cancelled')"
GRANT_CHECK_AFTER = (GRANT_CHECK_BEFORE + "), CONSTRAINT ck_grants_cancelled_has_reason "
                     "CHECK (status <> 'cancelled' OR cancel_reason IS NOT NULL")


def _sqlite_edit(table, before, after):
    """Replace ``before`` by ``after`` in the CREATE TABLE text SQLite keeps for ``table``."""
    bind = op.get_bind()
    sql = bind.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"),
                       {"t": table}).scalar_one()
    if before not in sql:
        raise RuntimeError(f"{table}: the constraint text to change is not found")
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :t"),
                 {"sql": sql.replace(before, after, 1), "t": table})
    bind.execute(sa.text(f"PRAGMA schema_version = {version + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))


def _checks(project_check, grant_cancel_check):
    if op.get_bind().dialect.name == "sqlite":
        if grant_cancel_check:
            _sqlite_edit("projects", PROJECT_CHECK_BEFORE, PROJECT_CHECK_AFTER)
            _sqlite_edit("grants", GRANT_CHECK_BEFORE, GRANT_CHECK_AFTER)
        else:
            _sqlite_edit("grants", GRANT_CHECK_AFTER, GRANT_CHECK_BEFORE)
            _sqlite_edit("projects", PROJECT_CHECK_AFTER, PROJECT_CHECK_BEFORE)
        return
    op.drop_constraint(op.f('ck_projects_status_valid'), 'projects', type_='check')
    op.create_check_constraint(op.f('ck_projects_status_valid'), 'projects', project_check)
    if grant_cancel_check:
        op.create_check_constraint(op.f('ck_grants_cancelled_has_reason'), 'grants',
                                   "status <> 'cancelled' OR cancel_reason IS NOT NULL")
    else:
        op.drop_constraint(op.f('ck_grants_cancelled_has_reason'), 'grants', type_='check')


def upgrade():
    with op.batch_alter_table('grants', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":  # SQLite adds a column with its foreign key in place
        op.execute("ALTER TABLE grants ADD COLUMN cancelled_by_id INTEGER "
                   "CONSTRAINT fk_grants_cancelled_by_id_users REFERENCES users (id)")
    else:
        op.add_column('grants', sa.Column('cancelled_by_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_grants_cancelled_by_id_users'), 'grants', 'users', ['cancelled_by_id'], ['id'])
    _checks(PROJECT_CHECK_AFTER, True)

    op.create_table(
        'grant_amendments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('grant_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('amount_before_xof', sa.BigInteger(), nullable=False),
        sa.Column('amount_after_xof', sa.BigInteger(), nullable=False),
        sa.Column('deadline_before', sa.Date(), nullable=False),
        sa.Column('deadline_after', sa.Date(), nullable=False),
        sa.Column('letter_version', sa.Integer(), nullable=True),
        sa.Column('approved_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('extend_deadline', 'reduce', 'increase')", name=op.f('ck_grant_amendments_kind_valid')),
        sa.CheckConstraint('amount_after_xof > 0 AND amount_before_xof > 0', name=op.f('ck_grant_amendments_amounts_positive')),
        sa.CheckConstraint(
            "(kind = 'extend_deadline' AND deadline_after > deadline_before AND amount_after_xof = amount_before_xof)"
            " OR (kind = 'reduce' AND amount_after_xof < amount_before_xof)"
            " OR (kind = 'increase' AND amount_after_xof > amount_before_xof)",
            name=op.f('ck_grant_amendments_change_matches_kind')),
        sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_grant_amendments_approved_by_id_users')),
        sa.ForeignKeyConstraint(['grant_id'], ['grants.id'], name=op.f('fk_grant_amendments_grant_id_grants')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_grant_amendments')),
    )
    with op.batch_alter_table('grant_amendments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grant_amendments_grant_id'), ['grant_id'], unique=False)
    dialect = op.get_bind().dialect.name
    for statement in appendonly.create_statements('grant_amendments', dialect):
        op.execute(statement)

    with op.batch_alter_table('committee_sessions', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('remaining_at_close_xof', sa.BigInteger(), nullable=True))
    op.create_table(
        'reserve_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('rank', sa.Integer(), nullable=False),
        sa.Column('score_centi', sa.Integer(), nullable=True),
        sa.Column('amount_xof', sa.BigInteger(), nullable=False),
        sa.Column('outcome', sa.String(length=30), nullable=True),
        sa.CheckConstraint('amount_xof > 0', name=op.f('ck_reserve_entries_amount_positive')),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_reserve_entries_project_id_projects')),
        sa.ForeignKeyConstraint(['session_id'], ['committee_sessions.id'], name=op.f('fk_reserve_entries_session_id_committee_sessions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reserve_entries')),
        sa.UniqueConstraint('session_id', 'project_id', name='uq_reserve_entries_session_project'),
        sa.UniqueConstraint('session_id', 'rank', name='uq_reserve_entries_session_rank'),
    )
    with op.batch_alter_table('reserve_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reserve_entries_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reserve_entries_session_id'), ['session_id'], unique=False)


def downgrade():
    with op.batch_alter_table('reserve_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reserve_entries_session_id'))
        batch_op.drop_index(batch_op.f('ix_reserve_entries_project_id'))
    op.drop_table('reserve_entries')
    with op.batch_alter_table('committee_sessions', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('remaining_at_close_xof')

    dialect = op.get_bind().dialect.name
    for statement in appendonly.drop_statements('grant_amendments', dialect):
        op.execute(statement)
    with op.batch_alter_table('grant_amendments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grant_amendments_grant_id'))
    op.drop_table('grant_amendments')

    # The states this revision added have no place before it: a lapsed project goes back to funded (its
    # grant says it lapsed), a cancelled grant keeps its status and loses only the recorded reason.
    op.execute("UPDATE projects SET status = 'funded' WHERE status = 'lapsed'")
    _checks(PROJECT_CHECK_BEFORE, False)
    if dialect != "sqlite":
        op.drop_constraint(op.f('fk_grants_cancelled_by_id_users'), 'grants', type_='foreignkey')
    with op.batch_alter_table('grants', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('cancelled_by_id')
        batch_op.drop_column('cancelled_at')
