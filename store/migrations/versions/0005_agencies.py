"""Multi-agency work (SPEC §9): the agency of each partner, MASH episodes and their requests, the
daily domestic-abuse triage's incidents, CAFCASS and Ofsted information requests.

Revision ID: 0005_agencies
Revises: 0005_email
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_agencies"
down_revision: str | Sequence[str] | None = "0005_email"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partner_agencies",
        sa.Column("aad_object_id", sa.String(length=255), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("aad_object_id", name="pk_partner_agencies"),
    )
    op.create_table(
        "mash_episodes",
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("contact_reference", sa.String(length=32), nullable=False),
        sa.Column("opened_by", sa.String(length=255), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("urgency", sa.String(length=32), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("children", sa.JSON(), nullable=False),
        sa.Column("decision", sa.String(length=32), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("closed_by", sa.String(length=255), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("reference", name="pk_mash_episodes"),
    )
    op.create_index("ix_mash_episodes_contact_reference", "mash_episodes", ["contact_reference"])
    op.create_index("ix_mash_episodes_closed_at", "mash_episodes", ["closed_at"])
    op.create_table(
        "mash_requests",
        sa.Column("episode_reference", sa.String(length=32), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=255), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("given_by", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_reference"],
            ["mash_episodes.reference"],
            name="fk_mash_requests_episode_reference_mash_episodes",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("episode_reference", "agency", name="pk_mash_requests"),
    )
    op.create_table(
        "triage_incidents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("police_reference", sa.String(length=32), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=255), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("decided_by", sa.String(length=255), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("contact_reference", sa.String(length=32), nullable=False),
        sa.Column("other_authority", sa.Text(), nullable=False),
        sa.Column("told", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_triage_incidents"),
    )
    op.create_index("ix_triage_incidents_day", "triage_incidents", ["day"])
    op.create_index("ix_triage_incidents_recorded_at", "triage_incidents", ["recorded_at"])
    op.create_table(
        "body_requests",
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("body", sa.String(length=32), nullable=False),
        sa.Column("body_reference", sa.Text(), nullable=False),
        sa.Column("subject_name", sa.Text(), nullable=False),
        sa.Column("subject_date_of_birth", sa.Date(), nullable=True),
        sa.Column("subject_address", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("logged_by", sa.String(length=255), nullable=False),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("responded_by", sa.String(length=255), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("reference", name="pk_body_requests"),
    )
    op.create_index("ix_body_requests_responded_at", "body_requests", ["responded_at"])
    op.create_table(
        "marac_cases",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("meeting_day", sa.Date(), nullable=False),
        sa.Column("case_reference", sa.String(length=32), nullable=False),
        sa.Column("recorded_by", sa.String(length=255), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_marac_cases"),
    )
    op.create_index("ix_marac_cases_meeting_day", "marac_cases", ["meeting_day"])
    op.create_table(
        "marac_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("child_name", sa.Text(), nullable=False),
        sa.Column("child_date_of_birth", sa.Date(), nullable=True),
        sa.Column("team", sa.Text(), nullable=False),
        sa.Column("worker_id", sa.String(length=255), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=255), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["marac_cases.id"], name="fk_marac_requests_case_id_marac_cases", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_marac_requests"),
    )
    op.create_index("ix_marac_requests_case_id", "marac_requests", ["case_id"])
    op.create_table(
        "mappa_invitations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("mappa_reference", sa.String(length=32), nullable=False),
        sa.Column("meeting_day", sa.Date(), nullable=False),
        sa.Column("team", sa.Text(), nullable=False),
        sa.Column("worker_id", sa.String(length=255), nullable=True),
        sa.Column("logged_by", sa.String(length=255), nullable=False),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_mappa_invitations"),
    )
    op.create_index("ix_mappa_invitations_meeting_day", "mappa_invitations", ["meeting_day"])
    op.create_index("ix_mappa_invitations_logged_at", "mappa_invitations", ["logged_at"])


def downgrade() -> None:
    op.drop_index("ix_mappa_invitations_logged_at", table_name="mappa_invitations")
    op.drop_index("ix_mappa_invitations_meeting_day", table_name="mappa_invitations")
    op.drop_table("mappa_invitations")
    op.drop_index("ix_marac_requests_case_id", table_name="marac_requests")
    op.drop_table("marac_requests")
    op.drop_index("ix_marac_cases_meeting_day", table_name="marac_cases")
    op.drop_table("marac_cases")
    op.drop_index("ix_body_requests_responded_at", table_name="body_requests")
    op.drop_table("body_requests")
    op.drop_index("ix_triage_incidents_recorded_at", table_name="triage_incidents")
    op.drop_index("ix_triage_incidents_day", table_name="triage_incidents")
    op.drop_table("triage_incidents")
    op.drop_table("mash_requests")
    op.drop_index("ix_mash_episodes_closed_at", table_name="mash_episodes")
    op.drop_index("ix_mash_episodes_contact_reference", table_name="mash_episodes")
    op.drop_table("mash_episodes")
    op.drop_table("partner_agencies")
