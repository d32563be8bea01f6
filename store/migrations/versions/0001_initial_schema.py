"""Initial schema: every table of ``store.tables``.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("clock", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.Text(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activity_id", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_outbox"),
        sa.UniqueConstraint("key", name="uq_alert_outbox_key"),
    )
    op.create_index("ix_alert_outbox_state_next_attempt_at", "alert_outbox", ["state", "next_attempt_at"])
    op.create_index("ix_alert_outbox_subject", "alert_outbox", ["subject"])

    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_events"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_subject", "audit_events", ["subject"])

    op.create_table(
        "channel_registrations",
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.Text(), nullable=False),
        sa.Column("registered_by", sa.String(length=255), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("purpose", name="pk_channel_registrations"),
    )
    op.create_table(
        "consultations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.String(length=255), nullable=False),
        sa.Column("professional_name", sa.Text(), nullable=False),
        sa.Column("professional_agency", sa.Text(), nullable=False),
        sa.Column("professional_role", sa.Text(), nullable=False),
        sa.Column("worry", sa.Text(), nullable=False),
        sa.Column("advice", sa.Text(), nullable=False),
        sa.Column("advised_by", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("contact_reference", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_consultations"),
        sa.UniqueConstraint("reference", name="uq_consultations_reference"),
    )
    op.create_index("ix_consultations_author_id", "consultations", ["author_id"])
    op.create_index("ix_consultations_created_at", "consultations", ["created_at"])

    op.create_table(
        "contacts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=True),
        sa.Column("contact_type", sa.String(length=32), nullable=True),
        sa.Column("assignee_id", sa.String(length=255), nullable=True),
        sa.Column("draft_section", sa.String(length=64), nullable=False),
        sa.Column("worries", sa.Text(), nullable=False),
        sa.Column("working_well", sa.Text(), nullable=False),
        sa.Column("needs_to_happen", sa.Text(), nullable=False),
        sa.Column("consent", sa.String(length=32), nullable=True),
        sa.Column("consent_reason", sa.Text(), nullable=False),
        sa.Column("presenting_needs", sa.JSON(), nullable=False),
        sa.Column("immediate_risks", sa.JSON(), nullable=False),
        sa.Column("history_open_case", sa.Boolean(), nullable=False),
        sa.Column("history_allocated_worker_id", sa.String(length=255), nullable=True),
        sa.Column("history_closed_within_3_months", sa.Boolean(), nullable=False),
        sa.Column("history_last_worker_id", sa.String(length=255), nullable=True),
        sa.Column("history_systems_checked", sa.JSON(), nullable=False),
        sa.Column("history_chronology", sa.Text(), nullable=False),
        sa.Column("referrer_type", sa.String(length=32), nullable=True),
        sa.Column("referrer_name", sa.Text(), nullable=False),
        sa.Column("referrer_agency", sa.Text(), nullable=False),
        sa.Column("referrer_role", sa.Text(), nullable=False),
        sa.Column("referrer_phone", sa.String(length=64), nullable=False),
        sa.Column("referrer_email", sa.Text(), nullable=False),
        sa.Column("referrer_anonymity_requested", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contacts"),
        sa.UniqueConstraint("reference", name="uq_contacts_reference"),
    )
    op.create_index("ix_contacts_assignee_id", "contacts", ["assignee_id"])
    op.create_index("ix_contacts_created_by", "contacts", ["created_by"])
    op.create_index("ix_contacts_state", "contacts", ["state"])

    op.create_table(
        "conversation_refs",
        sa.Column("conversation_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("service_url", sa.Text(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=True),
        sa.Column("team_id", sa.Text(), nullable=True),
        sa.Column("channel_id", sa.Text(), nullable=True),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dead", sa.Boolean(), nullable=False),
        sa.Column("dead_reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_conversation_refs"),
    )
    op.create_index("ix_conversation_refs_user_id", "conversation_refs", ["user_id"])

    op.create_table(
        "deadlines",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("clock", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("assignee_id", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_deadlines"),
    )
    op.create_index("ix_deadlines_state_due_at", "deadlines", ["state", "due_at"])
    op.create_index("ix_deadlines_subject", "deadlines", ["subject"])

    op.create_table(
        "duty_rota",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("day", "role", "person_id", name="pk_duty_rota"),
    )
    op.create_table(
        "processed_activities",
        sa.Column("activity_id", sa.Text(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("activity_id", name="pk_processed_activities"),
    )
    op.create_index("ix_processed_activities_seen_at", "processed_activities", ["seen_at"])

    op.create_table(
        "reference_sequences",
        sa.Column("prefix", sa.String(length=8), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", "year", name="pk_reference_sequences"),
    )
    op.create_table(
        "role_directory",
        sa.Column("aad_object_id", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("aad_object_id", "role", name="pk_role_directory"),
    )
    op.create_table(
        "state_documents",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("etag", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_state_documents"),
    )
    op.create_table(
        "contact_children",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("contact_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("expected_date", sa.Date(), nullable=True),
        sa.Column("gender", sa.String(length=64), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("school", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name="fk_contact_children_contact_id_contacts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_contact_children"),
        sa.UniqueConstraint("contact_id", "position", name="uq_contact_children_contact_id_position"),
    )
    op.create_table(
        "contact_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("contact_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name="fk_contact_events_contact_id_contacts", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_contact_events"),
        sa.UniqueConstraint("contact_id", "position", name="uq_contact_events_contact_id_position"),
    )
    op.create_table(
        "contact_parents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("contact_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("relationship", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name="fk_contact_parents_contact_id_contacts", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_contact_parents"),
        sa.UniqueConstraint("contact_id", "position", name="uq_contact_parents_contact_id_position"),
    )


def downgrade() -> None:
    # Dropping a table drops its indexes; children go before the table they refer to.
    for table in (
        "contact_parents",
        "contact_events",
        "contact_children",
        "state_documents",
        "role_directory",
        "reference_sequences",
        "processed_activities",
        "duty_rota",
        "deadlines",
        "conversation_refs",
        "contacts",
        "consultations",
        "channel_registrations",
        "audit_events",
        "alert_outbox",
    ):
        op.drop_table(table)
