"""Who closed each clock: ``deadlines.closed_by``, the actor whose action closed it (a ``system:``
actor for the scheduler), so the figures count a clock nobody was assigned for whoever closed it
(SPEC §11) by reading the clock's own row.

Clocks closed before this revision get the actor of their contact's event recorded at the very
moment the clock closed (the use cases close a contact's clocks and record its event at the same
instant), the last such event when there are several; null when there is none (a clock of an
information request or a MARAC request, whose subject is no contact, or a contact since deleted).
Plain SQL that SQLite and PostgreSQL both run: one correlated subquery per closed clock, read by
``contacts.reference`` and the events' ``(contact_id, position)`` (both unique).

Revision ID: 0011_closed_by
Revises: 0010_letter_review
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_closed_by"
down_revision: str | Sequence[str] | None = "0010_letter_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The closers of clocks already closed, by the rule the figures used before this revision.
BACKFILL = (
    "UPDATE deadlines SET closed_by = ("
    "SELECT e.actor_id FROM contact_events e JOIN contacts c ON c.id = e.contact_id "
    "WHERE c.reference = deadlines.subject AND e.at = deadlines.closed_at "
    "ORDER BY e.position DESC LIMIT 1) "
    "WHERE closed_at IS NOT NULL AND closed_by IS NULL"
)


def upgrade() -> None:
    with op.batch_alter_table("deadlines") as batch:
        batch.add_column(sa.Column("closed_by", sa.String(length=255), nullable=True))
    op.execute(BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table("deadlines") as batch:
        batch.drop_column("closed_by")
