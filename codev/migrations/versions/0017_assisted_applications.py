"""staff-assisted applications (issue 14): applications an officer files on an association's behalf, hand-over links

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 15:50:00.000000

Three new tables: ``assisted_associations`` (``codev.accounts.assisted``), the mark of an association an
officer filed from paper or a visit to the embassy (who, when, how; when it was handed over and to whom);
``handover_links``, the emailed single-use links that hand it over (only the SHA-256 of the token kept);
and ``assisted_projects`` (``codev.projects.assisted``), the mark of a project filed on the association's
behalf (who, when, the scan of the signed application, who submitted it). Nothing existing is altered, so
the downgrade drops the three tables.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assisted_associations',
    sa.Column('association_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('filed_by_id', sa.Integer(), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('handed_over_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handed_over_to_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("channel IN ('paper', 'embassy')", name=op.f('ck_assisted_associations_channel_valid')),
    sa.CheckConstraint('(handed_over_at IS NULL) = (handed_over_to_id IS NULL)',
                       name=op.f('ck_assisted_associations_handed_over_whole')),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'],
                            name=op.f('fk_assisted_associations_association_id_associations')),
    sa.ForeignKeyConstraint(['filed_by_id'], ['users.id'], name=op.f('fk_assisted_associations_filed_by_id_users')),
    sa.ForeignKeyConstraint(['handed_over_to_id'], ['users.id'],
                            name=op.f('fk_assisted_associations_handed_over_to_id_users')),
    sa.PrimaryKeyConstraint('association_id', name=op.f('pk_assisted_associations'))
    )
    op.create_table('handover_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['association_id'], ['assisted_associations.association_id'],
                            name=op.f('fk_handover_links_association_id_assisted_associations')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_handover_links_sent_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_handover_links_token_hash'))
    )
    with op.batch_alter_table('handover_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_links_association_id'), ['association_id'], unique=False)

    op.create_table('assisted_projects',
    sa.Column('project_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('filed_by_id', sa.Integer(), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signed_scan_id', sa.Integer(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_assisted_projects_project_id_projects'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['filed_by_id'], ['users.id'], name=op.f('fk_assisted_projects_filed_by_id_users')),
    sa.ForeignKeyConstraint(['signed_scan_id'], ['attachments.id'],
                            name=op.f('fk_assisted_projects_signed_scan_id_attachments')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'],
                            name=op.f('fk_assisted_projects_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_assisted_projects'))
    )


def downgrade():
    op.drop_table('assisted_projects')
    with op.batch_alter_table('handover_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handover_links_association_id'))
    op.drop_table('handover_links')
    op.drop_table('assisted_associations')
