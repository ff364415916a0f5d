"""staff-assisted applications (issue 14): applications an officer files on an association's behalf, hand-over links

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 15:50:00.000000

Reserved for this feature (its tables and columns come with it; until then it changes nothing).
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
