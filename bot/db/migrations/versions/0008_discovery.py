"""Discovery: items members may be recommended, the signals members give, and opt-outs.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "discovery_items",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("creator_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("modality", sa.String(16), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("nsfw", sa.Boolean(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("job_id", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("embedding_model", sa.String(64), nullable=True),
        sa.Column("embed_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_discovery_items"),
    )
    op.create_index("ix_discovery_items_guild_id_created_at", "discovery_items", ["guild_id", "created_at"])
    op.create_index("ix_discovery_items_message_id", "discovery_items", ["message_id"])
    op.create_table(
        "discovery_signals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.String(100), nullable=False),
        sa.Column("event", sa.String(24), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["discovery_items.id"],
            name="fk_discovery_signals_item_id_discovery_items",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_discovery_signals"),
    )
    op.create_index("ix_discovery_signals_member_id", "discovery_signals", ["member_id"])
    op.create_index("ix_discovery_signals_item_id", "discovery_signals", ["item_id"])
    op.create_index(
        "ix_discovery_signals_guild_id_created_at", "discovery_signals", ["guild_id", "created_at"]
    )
    op.create_table(
        "discovery_optouts",
        sa.Column("member_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("member_id", name="pk_discovery_optouts"),
    )


def downgrade() -> None:
    op.drop_table("discovery_optouts")
    op.drop_index("ix_discovery_signals_guild_id_created_at", table_name="discovery_signals")
    op.drop_index("ix_discovery_signals_item_id", table_name="discovery_signals")
    op.drop_index("ix_discovery_signals_member_id", table_name="discovery_signals")
    op.drop_table("discovery_signals")
    op.drop_index("ix_discovery_items_message_id", table_name="discovery_items")
    op.drop_index("ix_discovery_items_guild_id_created_at", table_name="discovery_items")
    op.drop_table("discovery_items")
