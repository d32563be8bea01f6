"""Consultations: who it was logged for, the override reason, the caller's phone, the card it came from.

- ``on_behalf``: front-door staff logged it for a caller on the phone.
- ``override_reason``: why staff saved it despite the identifying-data guard's findings.
- ``contact_phone``: the professional's own number, which the guard does not flag.
- ``form_id``: the card a consultation was saved from, unique per author, so pressing *Save* twice
  (or Teams delivering the press twice) gives the first receipt again instead of a second record.
- an index on ``contact_reference``: a contact looks up the consultations it follows.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DEFAULTED = ("on_behalf", "override_reason", "contact_phone")


def upgrade() -> None:
    # Rows saved before this revision get the defaults; the defaults are then dropped, because the
    # application always writes every column (as for every other table).
    with op.batch_alter_table("consultations") as batch:
        batch.add_column(sa.Column("on_behalf", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("override_reason", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("contact_phone", sa.String(length=64), nullable=False, server_default=""))
        batch.add_column(sa.Column("form_id", sa.String(length=36), nullable=True))
    with op.batch_alter_table("consultations") as batch:
        for name in _DEFAULTED:
            batch.alter_column(name, server_default=None)
        batch.create_unique_constraint("uq_consultations_author_id_form_id", ["author_id", "form_id"])
    op.create_index("ix_consultations_contact_reference", "consultations", ["contact_reference"])


def downgrade() -> None:
    op.drop_index("ix_consultations_contact_reference", table_name="consultations")
    with op.batch_alter_table("consultations") as batch:
        batch.drop_constraint("uq_consultations_author_id_form_id", type_="unique")
        batch.drop_column("form_id")
        for name in reversed(_DEFAULTED):
            batch.drop_column(name)
