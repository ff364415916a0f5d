"""the assignments at scale (issue 11): counted by project and status, and the open ones per evaluator

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 13:05:00.000000

The bulk assignment's preview counts, for each project of a call under review, its assignments that count
towards the minimum (``codev.reviews.assignments.bulk_plan``); from the project's index each assignment row
was then fetched for its status. ``(project_id, status)`` answers from the index alone. The evaluators'
loads (their open assignments) read ``evaluator_id`` by status: ``(status, evaluator_id)`` replaces the index
on the status alone, which it covers. The downgrade puts the status index back and drops both.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_assignments_project_status", "assignments", ["project_id", "status"])
    op.create_index("ix_assignments_status_evaluator", "assignments", ["status", "evaluator_id"])
    op.drop_index("ix_assignments_status", table_name="assignments")


def downgrade():
    op.create_index("ix_assignments_status", "assignments", ["status"])
    op.drop_index("ix_assignments_status_evaluator", table_name="assignments")
    op.drop_index("ix_assignments_project_status", table_name="assignments")
