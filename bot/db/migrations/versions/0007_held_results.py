"""Approval mode: a finished job may be held (status `held`) with what was decided about it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = ("waiting", "queued", "running", "succeeded", "failed", "cancelled", "delivered")
NEW_STATUSES = (*OLD_STATUSES, "held")


def _status_check(statuses: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{status}'" for status in statuses) + ")"


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("hold", sa.JSON(), nullable=True))
        batch.drop_constraint("job_status", type_="check")
        batch.create_check_constraint("job_status", _status_check(NEW_STATUSES))


def downgrade() -> None:
    op.execute("UPDATE jobs SET status = 'succeeded' WHERE status = 'held'")  # delivered on the next pass
    with op.batch_alter_table("jobs") as batch:
        batch.drop_constraint("job_status", type_="check")
        batch.create_check_constraint("job_status", _status_check(OLD_STATUSES))
        batch.drop_column("hold")
