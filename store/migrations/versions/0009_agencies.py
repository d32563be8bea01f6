"""Multi-agency records: the card each was made from, so a repeated or stale press makes nothing.

- ``form_id`` on ``mash_episodes``, ``body_requests`` and ``marac_requests``: the id of the card
  that opened the episode, logged the information request or linked the child; unique, so a second
  press of the same card (Teams delivering it twice, or a stale copy pressed again) adds no second
  record, clock or partner message. Rows from before this revision have none.
- ``marac_actions``: the actions a MARAC meeting agreed on a case (what, the agency or team, by
  when), deleted with their case.

Revision ID: 0009_agencies
Revises: 0008_retention
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_agencies"
down_revision: str | Sequence[str] | None = "0008_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FORMS = ("mash_episodes", "body_requests", "marac_requests")


def upgrade() -> None:
    for table in _FORMS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("form_id", sa.String(length=36), nullable=True))
            batch.create_unique_constraint(f"uq_{table}_form_id", ["form_id"])
    op.create_table(
        "marac_actions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=255), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("form_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["marac_cases.id"],
            name="fk_marac_actions_case_id_marac_cases",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_marac_actions"),
        sa.UniqueConstraint("form_id", name="uq_marac_actions_form_id"),
    )
    op.create_index("ix_marac_actions_case_id", "marac_actions", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_marac_actions_case_id", table_name="marac_actions")
    op.drop_table("marac_actions")
    for table in reversed(_FORMS):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_form_id", type_="unique")
            batch.drop_column("form_id")
