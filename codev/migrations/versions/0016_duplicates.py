"""duplicate detection (issue 14): decisions on similar associations and projects

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 10:45:00.000000

Reserved for this feature (its tables and columns come with it; until then it changes nothing).
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
