"""Reliability and security (#8): failed logins for rate limiting; a secret seed per campaign
task for the public/private partition of its hidden split; a job's progress, so that attempts
that kept work do not count towards failing it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("name", "address", "at"):
        op.create_index(f"ix_login_failures_{column}", "login_failures", [column])
    with op.batch_alter_table("campaign_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("split_secret", sa.String(length=64), nullable=True))
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        for column in ("progress", "progress_at_claim"):
            batch_op.add_column(sa.Column(column, sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("progress_at_claim")
        batch_op.drop_column("progress")
    with op.batch_alter_table("campaign_tasks", schema=None) as batch_op:
        batch_op.drop_column("split_secret")
    for column in ("name", "address", "at"):
        op.drop_index(f"ix_login_failures_{column}", table_name="login_failures")
    op.drop_table("login_failures")
