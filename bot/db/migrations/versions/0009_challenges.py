"""Community challenges (entries, votes, judges' scores, reminders) and the outbox the bot posts.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "challenges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("brief", sa.Text(), nullable=False),
        sa.Column("modality", sa.String(16), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("forum", sa.Boolean(), nullable=False),
        _at("opens_at", False),
        _at("voting_at", False),
        _at("closes_at", False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=True),
        sa.Column("discord", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        _at("created_at", False),
        _at("updated_at", False),
        sa.PrimaryKeyConstraint("id", name="pk_challenges"),
    )
    op.create_index("ix_challenges_guild_id", "challenges", ["guild_id"])
    op.create_table(
        "challenge_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("job_id", sa.String(32), nullable=True),
        sa.Column("made_by", sa.String(8), nullable=False),
        sa.Column("caption", sa.Text(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        _at("created_at", False),
        _at("withdrawn_at"),
        _at("removed_at"),
        sa.Column("post", sa.JSON(), nullable=True),
        sa.Column("points", sa.Float(), server_default="0", nullable=False),
        sa.Column("votes", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name="fk_challenge_entries_challenge_id_challenges",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_challenge_entries"),
        sa.UniqueConstraint("challenge_id", "job_id", name="uq_challenge_entries_challenge_id_job_id"),
    )
    op.create_index("ix_challenge_entries_challenge_id", "challenge_entries", ["challenge_id"])
    op.create_index(
        "ix_challenge_entries_challenge_id_points", "challenge_entries", ["challenge_id", "points"]
    )
    op.create_table(
        "challenge_votes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("voter_id", sa.BigInteger(), nullable=False),
        sa.Column("place", sa.Integer(), server_default="0", nullable=False),
        _at("created_at", False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name="fk_challenge_votes_challenge_id_challenges",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["challenge_entries.id"],
            name="fk_challenge_votes_entry_id_challenge_entries",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_challenge_votes"),
        sa.UniqueConstraint(
            "challenge_id", "voter_id", "entry_id", name="uq_challenge_votes_challenge_id_voter_id_entry_id"
        ),
    )
    op.create_index(
        "ix_challenge_votes_challenge_id_entry_id_place",
        "challenge_votes",
        ["challenge_id", "entry_id", "place"],
    )
    op.create_table(
        "challenge_scores",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("judge_id", sa.BigInteger(), nullable=False),
        sa.Column("criterion", sa.String(64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name="fk_challenge_scores_challenge_id_challenges",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["challenge_entries.id"],
            name="fk_challenge_scores_entry_id_challenge_entries",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_challenge_scores"),
        sa.UniqueConstraint(
            "challenge_id",
            "entry_id",
            "judge_id",
            "criterion",
            name="uq_challenge_scores_challenge_id_entry_id_judge_id_criterion",
        ),
    )
    op.create_table(
        "challenge_subscribers",
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name="fk_challenge_subscribers_challenge_id_challenges",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("challenge_id", "member_id", name="pk_challenge_subscribers"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _at("created_at", False),
        _at("claimed_at"),
        _at("posted_at"),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("key", name="uq_outbox_key"),
    )
    op.create_index("ix_outbox_posted_at_id", "outbox", ["posted_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_posted_at_id", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("challenge_subscribers")
    op.drop_table("challenge_scores")
    op.drop_index("ix_challenge_votes_challenge_id_entry_id_place", table_name="challenge_votes")
    op.drop_table("challenge_votes")
    op.drop_index("ix_challenge_entries_challenge_id_points", table_name="challenge_entries")
    op.drop_index("ix_challenge_entries_challenge_id", table_name="challenge_entries")
    op.drop_table("challenge_entries")
    op.drop_index("ix_challenges_guild_id", table_name="challenges")
    op.drop_table("challenges")
