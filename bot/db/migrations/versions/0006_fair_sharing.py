"""Fair sharing across servers: a waiting job's release key, and each modality's virtual clock.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MODALITIES = ("music", "image", "text")


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("fair_key", sa.Float(), nullable=True))
    op.create_index(
        "ix_jobs_status_modality_fair_key", "jobs", ["status", "modality", "fair_key", "created_at"]
    )
    clocks = op.create_table(
        "queue_clocks",
        sa.Column("modality", sa.String(16), nullable=False),
        sa.Column("virtual", sa.Float(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("modality", name="pk_queue_clocks"),
    )
    op.bulk_insert(clocks, [{"modality": m, "virtual": 0.0} for m in MODALITIES])


def downgrade() -> None:
    op.drop_table("queue_clocks")
    op.drop_index("ix_jobs_status_modality_fair_key", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("fair_key")
