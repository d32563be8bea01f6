"""Why a clock ran late (SPEC §11 "breaches with reasons"), recorded on the breach alert card.

Revision ID: 0006_reasons
Revises: 0006_figures2
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_reasons"
down_revision: str | Sequence[str] | None = "0006_figures2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("deadlines", sa.Column("late_reason", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deadlines") as batch:
        batch.drop_column("late_reason")
