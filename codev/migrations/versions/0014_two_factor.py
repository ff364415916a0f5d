"""two-factor sign-in (issue 14): secrets, recovery codes, sign-ins

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 10:45:00.000000

Reserved for this feature (its tables and columns come with it; until then it changes nothing).
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
