"""The review after a lapsed parent letter is its own clock (``letter_review``), not a screening
decision: reviews stored before it had its own kind were ``screening`` rows. This renames them, so
one still open is closed by the worker's recommendation (which closes ``letter_review``) and none
is counted as a screening decision in the figures (SPEC §11). A review is the screening row that
started at the very moment of its contact's ``parent_letter_lapsed`` event (the lapse starts it);
a contact's own screening clock starts at its received time, long before.

Revision ID: 0010_letter_review
Revises: 0009_agencies
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_letter_review"
down_revision: str | Sequence[str] | None = "0009_agencies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Rename ``:old`` to ``:new`` on the reviews: the rows started at their contact's lapse.
_RENAME = sa.text(
    """
    UPDATE deadlines SET clock = :new
    WHERE clock = :old AND EXISTS (
        SELECT 1 FROM contact_events e JOIN contacts c ON c.id = e.contact_id
        WHERE c.reference = deadlines.subject
          AND e.action = 'parent_letter_lapsed'
          AND e.at = deadlines.started_at
    )
    """
)


def upgrade() -> None:
    op.execute(_RENAME.bindparams(new="letter_review", old="screening"))


def downgrade() -> None:
    op.execute(_RENAME.bindparams(new="screening", old="letter_review"))
