"""The team each person of the role directory works in, which the figures narrow and group by.

Revision ID: 0006_figures2
Revises: 0005_figures
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_figures2"
down_revision: str | Sequence[str] | None = "0005_figures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker_teams",
        sa.Column("aad_object_id", sa.String(255), primary_key=True),
        sa.Column("team", sa.String(80), nullable=False),
    )
    op.create_index("ix_worker_teams_team", "worker_teams", ["team"])


def downgrade() -> None:
    op.drop_index("ix_worker_teams_team", table_name="worker_teams")
    op.drop_table("worker_teams")
