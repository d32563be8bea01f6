"""The e-mail queue (SPEC §5a): one row per e-mail taken in from the front door's mailbox.

Revision ID: 0005_email
Revises: 0005_script
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_email"
down_revision: str | Sequence[str] | None = "0005_script"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_items",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("mailbox", sa.String(255), nullable=False),
        sa.Column("uid_validity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.String(1000), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sender_name", sa.Text(), nullable=False),
        sa.Column("sender_address", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("preview", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("taken_by", sa.String(255), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("contact_id", sa.String(36), nullable=True),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("reason_detail", sa.Text(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_items")),
        sa.UniqueConstraint("message_id", name=op.f("uq_mail_items_message_id")),
        sa.UniqueConstraint(
            "mailbox", "uid_validity", "uid", name=op.f("uq_mail_items_mailbox_uid_validity_uid")
        ),
    )
    op.create_index(op.f("ix_mail_items_received_at"), "mail_items", ["received_at"])
    op.create_index(op.f("ix_mail_items_state"), "mail_items", ["state"])
    op.create_index(op.f("ix_mail_items_taken_by"), "mail_items", ["taken_by"])
    op.create_index(op.f("ix_mail_items_contact_id"), "mail_items", ["contact_id"])


def downgrade() -> None:
    op.drop_table("mail_items")
