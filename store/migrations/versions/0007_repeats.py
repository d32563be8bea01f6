"""The repeat-contact check reads children by date of birth (``contact_children``), not every
submitted contact.

Revision ID: 0007_repeats
Revises: 0006_reasons
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007_repeats"
down_revision: str | Sequence[str] | None = "0006_reasons"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_contact_children_date_of_birth", "contact_children", ["date_of_birth"])


def downgrade() -> None:
    op.drop_index("ix_contact_children_date_of_birth", table_name="contact_children")
