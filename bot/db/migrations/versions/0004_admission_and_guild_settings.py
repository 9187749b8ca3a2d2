"""Jobs may wait in the database for queue capacity (status `waiting`), and servers have settings.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

The status lists are copied here on purpose: a migration describes the schema as it was when written.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "delivered")
NEW_STATUSES = ("waiting", *OLD_STATUSES)


def _status_check(statuses: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{status}'" for status in statuses) + ")"


def upgrade() -> None:
    with op.batch_alter_table("jobs", recreate="auto") as batch:
        batch.drop_constraint("job_status", type_="check")
        batch.create_check_constraint("job_status", _status_check(NEW_STATUSES))
    op.create_index("ix_jobs_status_modality_created_at", "jobs", ["status", "modality", "created_at"])
    op.create_table(
        "guild_settings",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name="pk_guild_settings"),
    )


def downgrade() -> None:
    op.drop_table("guild_settings")
    op.drop_index("ix_jobs_status_modality_created_at", table_name="jobs")
    op.execute("UPDATE jobs SET status = 'queued' WHERE status = 'waiting'")  # they were never sent
    with op.batch_alter_table("jobs", recreate="auto") as batch:
        batch.drop_constraint("job_status", type_="check")
        batch.create_check_constraint("job_status", _status_check(OLD_STATUSES))
