"""Durable timers, fired by the scheduler process (bot/scheduling).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

The state list is copied here on purpose: a migration describes the schema as it was when written.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMER_STATES = ("pending", "done", "cancelled", "failed")


def _timestamp(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "timers",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        _timestamp("due_at", nullable=False),
        sa.Column(
            "state",
            sa.Enum(*TIMER_STATES, name="timer_state", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        _timestamp("lease_expires_at"),
        sa.Column("last_error", sa.Text(), nullable=True),
        _timestamp("created_at", nullable=False),
        _timestamp("fired_at"),
        _timestamp("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_timers"),
        sa.UniqueConstraint("key", name="uq_timers_key"),
    )
    op.create_index("ix_timers_guild_id", "timers", ["guild_id"])
    op.create_index("ix_timers_state_due_at", "timers", ["state", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_timers_state_due_at", table_name="timers")
    op.drop_index("ix_timers_guild_id", table_name="timers")
    op.drop_table("timers")
