"""two-factor sign-in (issue 14): each person's authenticator app and recovery codes

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 10:45:00.000000

``second_factors`` holds one row per person who enrolled (or is enrolling) an authenticator app: the TOTP
secret, encrypted (Fernet, with a key from ``TOTP_ENCRYPTION_KEY`` or the app's ``SECRET_KEY``);
``enabled_at`` is set once the person typed a first code (until then it is an enrolment under way);
``last_step`` is the last 30-second step a code was accepted for, so that a code seen over a shoulder
cannot be used again. ``recovery_codes`` keeps ten single-use codes per person as werkzeug hashes.
Existing users start without a second factor (approvers and admins are asked to enrol at their next
sign-in). The downgrade drops both tables (and with them every enrolment).
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'second_factors',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('secret', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('enabled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_step', sa.BigInteger(), nullable=True),
        sa.CheckConstraint('last_step IS NULL OR last_step >= 0', name=op.f('ck_second_factors_last_step_positive')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_second_factors_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_second_factors')),
    )
    op.create_table(
        'recovery_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=256), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes')),
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_codes_user_id'))
    op.drop_table('recovery_codes')
    op.drop_table('second_factors')
