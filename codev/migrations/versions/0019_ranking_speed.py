"""the committee ranking at scale (issue 11): an index of the projects' funding per commune

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 16:20:00.000000

The ranking's "least-funded commune" tie-break sums the requested grants of the programme's approved (and
later) projects per commune, the session's own decisions left out (``codev.reviews.committee.commune_totals``).
Read from the table, each of those rows is fetched whole (the long texts too); this index holds the four
columns the sum needs (status first: the filter is a list of statuses). The downgrade drops it.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_projects_commune_funding", "projects", ["status", "commune", "requested_grant_xof", "id"])


def downgrade():
    op.drop_index("ix_projects_commune_funding", table_name="projects")
