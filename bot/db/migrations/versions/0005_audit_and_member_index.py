"""Moderation: an audit log per server, and an index for counting a member's jobs on a server.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=True),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_guild_id_created_at", "audit_log", ["guild_id", "created_at"])
    op.create_index("ix_jobs_guild_id_user_id_created_at", "jobs", ["guild_id", "user_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_guild_id_user_id_created_at", table_name="jobs")
    op.drop_index("ix_audit_log_guild_id_created_at", table_name="audit_log")
    op.drop_table("audit_log")
