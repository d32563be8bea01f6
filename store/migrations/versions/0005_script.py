"""The contact script's urgent path and history checks: emergency details, the closure date (which
replaces the "closed within 3 months" tick box: re-referral is decided from the date and the
policy's window) and early help.

Revision ID: 0005_script
Revises: 0005_shape
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_script"
down_revision: str | Sequence[str] | None = "0005_shape"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FILLED = (
    ("history_open_to_early_help", sa.Boolean(), sa.false()),
    ("emergency_child", sa.Text(), ""),
    ("emergency_whereabouts", sa.Text(), ""),
    ("emergency_phone", sa.String(64), ""),
)


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("history_closed_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("history_early_help_worker_id", sa.String(255), nullable=True))
        for name, kind, default in _FILLED:
            batch.add_column(sa.Column(name, kind, nullable=False, server_default=default))
        # A tick box cannot become a date; contacts already submitted keep their route.
        batch.drop_column("history_closed_within_3_months")
    # The defaults only fill existing rows; new rows always say what they hold.
    with op.batch_alter_table("contacts") as batch:
        for name, _, _ in _FILLED:
            batch.alter_column(name, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(
            sa.Column(
                "history_closed_within_3_months", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        for name, _, _ in _FILLED:
            batch.drop_column(name)
        batch.drop_column("history_early_help_worker_id")
        batch.drop_column("history_closed_on")
