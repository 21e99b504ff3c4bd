"""Hardening from an outside probe (#13): confusable-insensitive name keys for users, teams and
systems; a public task hash with nothing hidden in it; sign-up modes per challenge with
invitations, a sign-up throttle, and registrations an organiser approves.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("address", "at"):
        op.create_index(f"ix_signups_{column}", "signups", [column])
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.String(length=100), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_by", sa.Integer(), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["challenge_id"], ["challenges.id"]),
        sa.ForeignKeyConstraint(["used_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("digest"),
    )
    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("signup", sa.String(length=20), server_default="open", nullable=False)
        )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("approval", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("campaign_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=20), server_default="approved", nullable=False)
        )
    for table in ("users", "teams", "systems"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in ("name_key", "name_key_cased"):
                batch_op.add_column(sa.Column(column, sa.String(length=400), nullable=True))
    # rows made before this revision keep empty keys: campaigns.names compares their names
    # in Python (the store may not import the campaigns layer)
    for table in ("users", "teams"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in ("name_key", "name_key_cased"):
                batch_op.create_unique_constraint(f"uq_{table}_{column}", [column])
    with op.batch_alter_table("systems", schema=None) as batch_op:
        for column in ("name_key", "name_key_cased"):
            batch_op.create_unique_constraint(f"uq_systems_team_{column}", ["team_id", column])


def downgrade() -> None:
    for table, prefix in (
        ("systems", "uq_systems_team"),
        ("teams", "uq_teams"),
        ("users", "uq_users"),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in ("name_key_cased", "name_key"):
                batch_op.drop_constraint(f"{prefix}_{column}", type_="unique")
                batch_op.drop_column(column)
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_column("status")
    with op.batch_alter_table("campaign_tasks", schema=None) as batch_op:
        batch_op.drop_column("public_hash")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("approval")
    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.drop_column("signup")
    op.drop_table("invitations")
    for column in ("address", "at"):
        op.drop_index(f"ix_signups_{column}", table_name="signups")
    op.drop_table("signups")
