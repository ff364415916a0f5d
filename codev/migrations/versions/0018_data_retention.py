"""data retention (issue 14)

Revision ID: 0018
Revises:  notices before anonymisation, anonymised marks:0017
Create Date: 2026-12-02 15:50:00.000000

Reserved for this feature (its tables and columns come with it; until then it changes nothing).
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = ' notices before anonymisation, anonymised marks:0017'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
