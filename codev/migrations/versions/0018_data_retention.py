"""data retention (issue 14): notices before anonymisation, anonymised marks

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 15:50:00.000000

One new table (``codev.oversight.retention``): ``retention_notices``, one row per project an association was
told would be anonymised (the rule, the project's version when noticed, the recipient, when the notice
period ends) and, once done, when it was anonymised. Nothing existing is altered: anonymising clears
columns the projects already have. The downgrade drops the table (the anonymised projects stay as they are:
what was removed is gone).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('retention_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=20), nullable=False),
    sa.Column('project_version', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=True),
    sa.Column('noticed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('anonymise_after', sa.DateTime(timezone=True), nullable=False),
    sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("rule IN ('draft_idle', 'withdrawn', 'rejected')", name=op.f('ck_retention_notices_rule_valid')),
    sa.CheckConstraint('anonymise_after >= noticed_at', name=op.f('ck_retention_notices_notice_period')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_retention_notices_project_id_projects'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_notices')),
    sa.UniqueConstraint('project_id', name=op.f('uq_retention_notices_project_id'))
    )
    with op.batch_alter_table('retention_notices', schema=None) as batch_op:
        batch_op.create_index('ix_retention_notices_due', ['anonymised_at', 'anonymise_after'], unique=False)


def downgrade():
    with op.batch_alter_table('retention_notices', schema=None) as batch_op:
        batch_op.drop_index('ix_retention_notices_due')
    op.drop_table('retention_notices')
