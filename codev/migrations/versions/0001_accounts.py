"""accounts, associations, partner structures, audit, outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-22 20:32:05.705522

"""
import sqlalchemy as sa
from alembic import op

from codev.core import appendonly


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    # Tables in a cycle (attachments → users → associations → users) get their users FKs
    # at the end, once users exists.
    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=80), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('size > 0', name=op.f('ck_attachments_size_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_attachments_stored_name'))
    )
    op.create_table('associations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('acronym', sa.String(length=30), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('embassy', sa.String(length=30), nullable=True),
    sa.Column('registration_number', sa.String(length=100), nullable=True),
    sa.Column('registration_authority', sa.String(length=200), nullable=True),
    sa.Column('founded_year', sa.Integer(), nullable=True),
    sa.Column('members_count', sa.Integer(), nullable=True),
    sa.Column('contact_name', sa.String(length=120), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('contact_phone', sa.String(length=40), nullable=True),
    sa.Column('website', sa.String(length=200), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('home_region', sa.String(length=10), nullable=True),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('statutes_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status <> 'verified' OR verified_at IS NOT NULL", name=op.f('ck_associations_verified_has_date')),
    sa.CheckConstraint("status IN ('pending', 'verified', 'rejected')", name=op.f('ck_associations_status_valid')),
    sa.CheckConstraint('members_count IS NULL OR members_count >= 0', name=op.f('ck_associations_members_positive')),
    sa.ForeignKeyConstraint(['statutes_id'], ['attachments.id'], name=op.f('fk_associations_statutes_id_attachments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_associations'))
    )
    with op.batch_alter_table('associations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_associations_country'), ['country'], unique=False)
        batch_op.create_index(batch_op.f('ix_associations_embassy'), ['embassy'], unique=False)
        batch_op.create_index(batch_op.f('ix_associations_status'), ['status'], unique=False)

    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempts_email_at', ['email', 'at'], unique=False)
        batch_op.create_index('ix_login_attempts_ip_at', ['ip', 'at'], unique=False)

    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_messages_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_recipient'), ['recipient'], unique=False)

    op.create_table('partner_structures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('acronym', sa.String(length=30), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('state', 'non_state')", name=op.f('ck_partner_structures_kind_valid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_structures')),
    sa.UniqueConstraint('name', name=op.f('uq_partner_structures_name'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=True),
    sa.Column('association_id', sa.Integer(), nullable=True),
    sa.Column('partner_structure_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("locale IN ('fr', 'en')", name=op.f('ck_users_locale_valid')),
    sa.CheckConstraint("role <> 'association' OR association_id IS NOT NULL", name=op.f('ck_users_association_member')),
    sa.CheckConstraint("role <> 'evaluator' OR partner_structure_id IS NOT NULL", name=op.f('ck_users_evaluator_structure')),
    sa.CheckConstraint("role IN ('association', 'evaluator', 'officer', 'approver', 'admin')", name=op.f('ck_users_role_valid')),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_users_association_id_associations')),
    sa.ForeignKeyConstraint(['partner_structure_id'], ['partner_structures.id'], name=op.f('fk_users_partner_structure_id_partner_structures')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_association_id'), ['association_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_users_partner_structure_id'), ['partner_structure_id'], unique=False)

    op.create_table('association_domains',
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('sector', sa.String(length=30), nullable=False),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_association_domains_association_id_associations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('association_id', 'sector', name=op.f('pk_association_domains'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=True),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_events_object', ['object_type', 'object_id'], unique=False)

    op.create_table('invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_invitations_association_id_associations')),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_invitations_invited_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitations_token_hash'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_association_id'), ['association_id'], unique=False)

    op.create_table('partner_structure_regions',
    sa.Column('structure_id', sa.Integer(), nullable=False),
    sa.Column('region', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['structure_id'], ['partner_structures.id'], name=op.f('fk_partner_structure_regions_structure_id_partner_structures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('structure_id', 'region', name=op.f('pk_partner_structure_regions'))
    )
    op.create_table('partner_structure_sectors',
    sa.Column('structure_id', sa.Integer(), nullable=False),
    sa.Column('sector', sa.String(length=30), nullable=False),
    sa.ForeignKeyConstraint(['structure_id'], ['partner_structures.id'], name=op.f('fk_partner_structure_sectors_structure_id_partner_structures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('structure_id', 'sector', name=op.f('pk_partner_structure_sectors'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_attachments_uploaded_by_id_users', 'users', ['uploaded_by_id'], ['id'])
    with op.batch_alter_table('associations', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_associations_verified_by_id_users', 'users', ['verified_by_id'], ['id'])

    dialect = op.get_bind().dialect.name
    for statement in appendonly.create_statements('audit_events', dialect):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in appendonly.drop_statements('audit_events', dialect):
        op.execute(statement)
    with op.batch_alter_table('associations', schema=None) as batch_op:
        batch_op.drop_constraint('fk_associations_verified_by_id_users', type_='foreignkey')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_constraint('fk_attachments_uploaded_by_id_users', type_='foreignkey')
    op.drop_table('partner_structure_sectors')
    op.drop_table('partner_structure_regions')
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_association_id'))

    op.drop_table('invitations')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_object')
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
    op.drop_table('association_domains')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_partner_structure_id'))
        batch_op.drop_index(batch_op.f('ix_users_association_id'))

    op.drop_table('users')
    op.drop_table('partner_structures')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_messages_recipient'))
        batch_op.drop_index(batch_op.f('ix_outbox_messages_created_at'))

    op.drop_table('outbox_messages')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_ip_at')
        batch_op.drop_index('ix_login_attempts_email_at')

    op.drop_table('login_attempts')
    with op.batch_alter_table('associations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_associations_status'))
        batch_op.drop_index(batch_op.f('ix_associations_embassy'))
        batch_op.drop_index(batch_op.f('ix_associations_country'))

    op.drop_table('associations')
    op.drop_table('attachments')
