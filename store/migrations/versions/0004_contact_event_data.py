"""A contact event keeps its decision's particulars (outcome, receiving team, agency, …) as JSON.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact_events") as batch:
        batch.add_column(sa.Column("data", sa.Text(), nullable=False, server_default=""))
    # The default only fills existing rows; new rows always say what they hold.
    with op.batch_alter_table("contact_events") as batch:
        batch.alter_column("data", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("contact_events") as batch:
        batch.drop_column("data")
