"""How far the mailbox watcher has read each mailbox (``mailbox_marks``), so switching the watcher
on, or a mailbox renumbered by its server, passes over the mail already there instead of queueing it.

Revision ID: 0008_retention
Revises: 0007_repeats
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_retention"
down_revision: str | Sequence[str] | None = "0007_repeats"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mailbox_marks",
        sa.Column("mailbox", sa.String(255), nullable=False),
        sa.Column("uid_validity", sa.BigInteger(), nullable=False),
        sa.Column("read_up_to", sa.BigInteger(), nullable=False),
        sa.Column("found_up_to", sa.BigInteger(), nullable=False),
        sa.Column("passed_over_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("mailbox", name=op.f("pk_mailbox_marks")),
    )


def downgrade() -> None:
    op.drop_table("mailbox_marks")
