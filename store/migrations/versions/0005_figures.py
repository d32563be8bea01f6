"""Honest clocks and the figures: a clock keeps when it closed (met, late or cancelled), and the
indexes the management information reads by.

Revision ID: 0005_figures
Revises: 0005_scale
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_figures"
down_revision: str | Sequence[str] | None = "0005_scale"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deadlines") as batch:
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_deadlines_clock_closed_at", "deadlines", ["clock", "closed_at"])
    op.create_index("ix_contacts_received_at", "contacts", ["received_at"])
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("route", sa.String(32), nullable=True))
    op.create_index("ix_contacts_route", "contacts", ["route"])
    # The route each contact was last screened to, from its events (``route_i`` → ``i``).
    op.execute(
        "UPDATE contacts SET route = (SELECT substr(e.action, 7) FROM contact_events e "
        "WHERE e.contact_id = contacts.id AND e.action IN ('route_i', 'route_ii', 'route_iii', 'route_iv') "
        "ORDER BY e.position DESC LIMIT 1)"
    )
    op.create_index("ix_contact_events_to_state_at", "contact_events", ["to_state", "at"])
    op.create_index("ix_contact_events_action_at", "contact_events", ["action", "at"])


def downgrade() -> None:
    op.drop_index("ix_contact_events_action_at", table_name="contact_events")
    op.drop_index("ix_contact_events_to_state_at", table_name="contact_events")
    op.drop_index("ix_contacts_route", table_name="contacts")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("route")
    op.drop_index("ix_contacts_received_at", table_name="contacts")
    op.drop_index("ix_deadlines_clock_closed_at", table_name="deadlines")
    with op.batch_alter_table("deadlines") as batch:
        batch.drop_column("closed_at")
