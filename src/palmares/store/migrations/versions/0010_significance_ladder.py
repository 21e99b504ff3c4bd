"""Leaderboard statistics and the Ladder: per-part evidence of each scored submission (bootstrap
replicates on a shared resampling, per-item scores), the Ladder's state per team, phase and task,
its decision on each submission, and a phase's fixed Ladder step.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "score_evidence",
        sa.Column("submission_id", sa.String(length=32), nullable=False),
        sa.Column("part", sa.String(length=10), nullable=False),
        sa.Column("metric", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("items_digest", sa.String(length=64), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("replicates", sa.LargeBinary(), nullable=False),
        sa.Column("items", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"]),
        sa.PrimaryKeyConstraint("submission_id", "part"),
    )
    op.create_table(
        "ladder_states",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("phase_id", sa.Integer(), nullable=False),
        sa.Column("campaign_task_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.String(length=32), nullable=False),
        sa.Column("released", sa.Float(), nullable=False),
        sa.Column("precision", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_task_id"], ["campaign_tasks.id"]),
        sa.ForeignKeyConstraint(["phase_id"], ["phases.id"]),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"]),
        sa.PrimaryKeyConstraint("team_id", "phase_id", "campaign_task_id"),
    )
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ladder", sa.JSON(), nullable=True))
    with op.batch_alter_table("phases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ladder_step", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("phases", schema=None) as batch_op:
        batch_op.drop_column("ladder_step")
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.drop_column("ladder")
    op.drop_table("ladder_states")
    op.drop_table("score_evidence")
