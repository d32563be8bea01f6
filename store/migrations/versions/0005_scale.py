"""The deadline tick reads only what is due: each deadline's next alert time, indexed.

Open deadlines start with their next alert at their start time, so the first tick after the
upgrade reads each of them once and records when it may next alert; closed ones have none.

Revision ID: 0005_scale
Revises: 0005_agencies
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_scale"
down_revision: str | Sequence[str] | None = "0005_agencies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deadlines") as batch:
        batch.add_column(sa.Column("next_alert_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_deadlines_next_alert_at", ["next_alert_at"])
    op.execute("UPDATE deadlines SET next_alert_at = started_at WHERE state = 'open'")


def downgrade() -> None:
    with op.batch_alter_table("deadlines") as batch:
        batch.drop_index("ix_deadlines_next_alert_at")
        batch.drop_column("next_alert_at")
