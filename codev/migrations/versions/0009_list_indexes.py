"""indexes of the lists at scale (issue 11): projects by submission, with and without a status; grants by approval

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 00:30:00.000000

The ministry's project list sorts every project by ``submitted_at DESC NULLS LAST, id DESC`` (drafts, never
submitted, last), alone or within one status; the grants list by ``approved_at DESC, id DESC``. Without an
index each page sorted every (wide) row of the table. PostgreSQL gets the index in the sort's own order
(``DESC NULLS LAST``: an ascending index read backwards would put the drafts first); SQLite reads a plain
index backwards, which is that order already (it sorts NULLs first when ascending).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_projects_submitted_at_desc", "projects",
                        [sa.text("submitted_at DESC NULLS LAST"), sa.text("id DESC")])
        op.create_index("ix_projects_status_submitted_at_desc", "projects",
                        ["status", sa.text("submitted_at DESC NULLS LAST"), sa.text("id DESC")])
    else:
        op.create_index("ix_projects_submitted_at", "projects", ["submitted_at", "id"])
        op.create_index("ix_projects_status_submitted_at", "projects", ["status", "submitted_at", "id"])
    op.create_index("ix_grants_approved_at", "grants", ["approved_at", "id"])


def downgrade():
    op.drop_index("ix_grants_approved_at", table_name="grants")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_projects_status_submitted_at_desc", table_name="projects")
        op.drop_index("ix_projects_submitted_at_desc", table_name="projects")
    else:
        op.drop_index("ix_projects_status_submitted_at", table_name="projects")
        op.drop_index("ix_projects_submitted_at", table_name="projects")
