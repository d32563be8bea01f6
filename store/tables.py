"""The database tables (SQLAlchemy 2 declarative).

Every timestamp column is ``UtcDateTime``: it refuses naive datetimes, stores UTC and reads back
timezone-aware UTC on SQLite and PostgreSQL alike. Choices (states, sources, roles, clocks) are
plain strings holding the ``StrEnum`` value, so adding a choice never needs a migration.

The migration in ``store/migrations/versions`` creates exactly these tables; a test compares the
migrated schema with this metadata on both databases.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Constraint and index names are fixed, so migrations and the metadata name things alike.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Our own ids (uuid4 text).
ID = 36
#: Azure AD object ids and Teams user ids.
PERSON = 255
#: Enum values, reference numbers and other short codes.
CODE = 32
#: What a deadline, alert or audit event is about: a reference, a record id or a key.
SUBJECT = 255
#: A team's name in the role directory (``frontdoor.records.TEAM_NAME_MOST``).
TEAM_NAME = 80


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    SQLite has no timestamp type: SQLAlchemy stores text without an offset, so values are
    converted to UTC and stored naive, and UTC is attached again on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime refused: store timezone-aware datetimes only")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime()}  # noqa: RUF012 - SQLAlchemy reads it as a class attribute


class ContactRow(Base):
    __tablename__ = "contacts"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(CODE), unique=True)
    state: Mapped[str] = mapped_column(String(CODE), index=True)
    version: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(PERSON), index=True)
    created_at: Mapped[datetime]
    received_at: Mapped[datetime | None] = mapped_column(index=True)
    source: Mapped[str | None] = mapped_column(String(CODE))
    contact_type: Mapped[str | None] = mapped_column(String(CODE))
    assignee_id: Mapped[str | None] = mapped_column(String(PERSON), index=True)
    #: the screening route the contact was last given ("i" … "iv"), from its events; the figures
    #: narrow by it
    route: Mapped[str | None] = mapped_column(String(CODE), index=True)
    draft_section: Mapped[str] = mapped_column(String(64))
    worries: Mapped[str] = mapped_column(Text)
    working_well: Mapped[str] = mapped_column(Text)
    needs_to_happen: Mapped[str] = mapped_column(Text)
    consent: Mapped[str | None] = mapped_column(String(CODE))
    consent_reason: Mapped[str] = mapped_column(Text)
    #: sorted lists of ``PresentingNeed`` / ``ImmediateRisk`` values
    presenting_needs: Mapped[list[str]] = mapped_column(JSON)
    immediate_risks: Mapped[list[str]] = mapped_column(JSON)
    history_open_case: Mapped[bool] = mapped_column(Boolean)
    history_allocated_worker_id: Mapped[str | None] = mapped_column(String(PERSON))
    history_last_worker_id: Mapped[str | None] = mapped_column(String(PERSON))
    #: the systems checked, in the order recorded
    history_systems_checked: Mapped[list[str]] = mapped_column(JSON)
    history_chronology: Mapped[str] = mapped_column(Text)
    history_closed_on: Mapped[date | None] = mapped_column(Date)
    history_open_to_early_help: Mapped[bool] = mapped_column(Boolean)
    history_early_help_worker_id: Mapped[str | None] = mapped_column(String(PERSON))
    #: the urgent path's emergency details (SPEC §3)
    emergency_child: Mapped[str] = mapped_column(Text)
    emergency_whereabouts: Mapped[str] = mapped_column(Text)
    emergency_phone: Mapped[str] = mapped_column(String(64))
    #: null when no referrer has been recorded yet
    referrer_type: Mapped[str | None] = mapped_column(String(CODE))
    referrer_name: Mapped[str] = mapped_column(Text)
    referrer_agency: Mapped[str] = mapped_column(Text)
    referrer_role: Mapped[str] = mapped_column(Text)
    referrer_phone: Mapped[str] = mapped_column(String(64))
    referrer_email: Mapped[str] = mapped_column(Text)
    referrer_anonymity_requested: Mapped[bool] = mapped_column(Boolean)


class ContactChildRow(Base):
    __tablename__ = "contact_children"
    __table_args__ = (
        UniqueConstraint("contact_id", "position"),
        # the repeat-contact check at each submission reads children by date of birth
        Index("ix_contact_children_date_of_birth", "date_of_birth"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(String(ID), ForeignKey("contacts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    expected_date: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(Text)
    school: Mapped[str] = mapped_column(Text)


class ContactParentRow(Base):
    __tablename__ = "contact_parents"
    __table_args__ = (UniqueConstraint("contact_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(String(ID), ForeignKey("contacts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    relationship: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(Text)
    phone: Mapped[str] = mapped_column(String(64))


class ContactEventRow(Base):
    """A contact's history: every decision or change, with who, when and why."""

    __tablename__ = "contact_events"
    __table_args__ = (
        UniqueConstraint("contact_id", "position"),
        # the figures count arrivals and closures by time, and contacts by the route they took
        Index("ix_contact_events_to_state_at", "to_state", "at"),
        Index("ix_contact_events_action_at", "action", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(String(ID), ForeignKey("contacts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(String(PERSON))
    action: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(CODE))
    to_state: Mapped[str | None] = mapped_column(String(CODE))
    rationale: Mapped[str] = mapped_column(Text)
    #: a decision's particulars as JSON (outcome, receiving team, agency, …); see ``ContactEvent``
    data: Mapped[str] = mapped_column(Text, default="")


class ConsultationRow(Base):
    """An anonymous consultation (SPEC §2): never names a child or family member."""

    __tablename__ = "consultations"
    #: a card saves one consultation: pressing Save twice gives the first receipt again
    __table_args__ = (UniqueConstraint("author_id", "form_id"),)

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    reference: Mapped[str] = mapped_column(String(CODE), unique=True)
    author_id: Mapped[str] = mapped_column(String(PERSON), index=True)
    professional_name: Mapped[str] = mapped_column(Text)
    professional_agency: Mapped[str] = mapped_column(Text)
    professional_role: Mapped[str] = mapped_column(Text)
    worry: Mapped[str] = mapped_column(Text)
    advice: Mapped[str] = mapped_column(Text)
    advised_by: Mapped[str | None] = mapped_column(String(PERSON))
    created_at: Mapped[datetime] = mapped_column(index=True)
    contact_reference: Mapped[str | None] = mapped_column(String(CODE), index=True)
    #: logged by front-door staff for a caller on the phone
    on_behalf: Mapped[bool] = mapped_column(Boolean)
    #: why staff saved it despite the guard's findings; empty otherwise
    override_reason: Mapped[str] = mapped_column(Text)
    contact_phone: Mapped[str] = mapped_column(String(64))
    #: the card it was saved from (uuid4 hex), when it came from a card
    form_id: Mapped[str | None] = mapped_column(String(ID))


class RoleDirectoryRow(Base):
    """One row per person and role; ``display_name`` is repeated on each of a person's rows."""

    __tablename__ = "role_directory"

    aad_object_id: Mapped[str] = mapped_column(String(PERSON), primary_key=True)
    role: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    display_name: Mapped[str] = mapped_column(Text)


class WorkerTeamRow(Base):
    """The team a person of the role directory works in (one row a person): the figures narrow
    and group by it (SPEC §11)."""

    __tablename__ = "worker_teams"

    aad_object_id: Mapped[str] = mapped_column(String(PERSON), primary_key=True)
    team: Mapped[str] = mapped_column(String(TEAM_NAME), index=True)


class DutyRotaRow(Base):
    __tablename__ = "duty_rota"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    role: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(PERSON), primary_key=True)


class ConversationRefRow(Base):
    __tablename__ = "conversation_refs"

    conversation_id: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(String(CODE))
    tenant_id: Mapped[str] = mapped_column(String(PERSON))
    service_url: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(String(PERSON), index=True)
    team_id: Mapped[str | None] = mapped_column(Text)
    channel_id: Mapped[str | None] = mapped_column(Text)
    #: the channel adapter's serialized conversation reference (JSON text)
    reference: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
    dead: Mapped[bool] = mapped_column(Boolean)
    dead_reason: Mapped[str] = mapped_column(Text)


class ChannelRegistrationRow(Base):
    __tablename__ = "channel_registrations"

    purpose: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(Text)
    registered_by: Mapped[str] = mapped_column(String(PERSON))
    registered_at: Mapped[datetime]


class DeadlineRow(Base):
    __tablename__ = "deadlines"
    __table_args__ = (
        Index("ix_deadlines_state_due_at", "state", "due_at"),
        Index("ix_deadlines_next_alert_at", "next_alert_at"),
        # the figures read closed clocks by clock and closing time (SPEC §11)
        Index("ix_deadlines_clock_closed_at", "clock", "closed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(SUBJECT), index=True)
    clock: Mapped[str] = mapped_column(String(CODE))
    started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(CODE))
    assignee_id: Mapped[str | None] = mapped_column(String(PERSON))
    #: when the tick next reads this deadline (``frontdoor.alerts.next_alert_at``); None once
    #: closed or when nothing more is automatic, so the index holds only what can still alert
    next_alert_at: Mapped[datetime | None]
    #: when the clock closed (met, late or cancelled); null while open
    closed_at: Mapped[datetime | None]
    #: why it ran late (``frontdoor.records.LateReason``), from the breach alert card; null: none
    late_reason: Mapped[str | None] = mapped_column(String(CODE))
    #: who closed it (an actor id; ``system:…`` for the scheduler); null while open
    closed_by: Mapped[str | None] = mapped_column(String(PERSON))


class AlertOutboxRow(Base):
    """A message waiting to be sent to Teams (SPEC §7): written in the same transaction as the
    change that causes it, sent at most once per ``key``, retried with backoff."""

    __tablename__ = "alert_outbox"
    __table_args__ = (Index("ix_alert_outbox_state_next_attempt_at", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: the deduplication key, e.g. subject, kind and due time
    key: Mapped[str] = mapped_column(Text, unique=True)
    subject: Mapped[str] = mapped_column(String(SUBJECT), index=True)
    clock: Mapped[str | None] = mapped_column(String(CODE))
    kind: Mapped[str] = mapped_column(String(CODE))
    conversation_id: Mapped[str | None] = mapped_column(Text)
    #: JSON text
    payload: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(CODE))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    activity_id: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str] = mapped_column(Text)


class AuditEventRow(Base):
    """The append-only, hash-chained audit log (see ``store.chain``)."""

    __tablename__ = "audit_events"
    # AUTOINCREMENT: a sequence number is never reused on SQLite either.
    __table_args__ = ({"sqlite_autoincrement": True},)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[str] = mapped_column(String(PERSON))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(SUBJECT), index=True)
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))


class ReferenceSequenceRow(Base):
    __tablename__ = "reference_sequences"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer)


class ProcessedActivityRow(Base):
    """Inbound activity ids already handled, so a Teams retry is not acted on twice."""

    __tablename__ = "processed_activities"

    activity_id: Mapped[str] = mapped_column(Text, primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(index=True)


class MailItemRow(Base):
    """An e-mail in the queue (SPEC §5a): headers, a preview and attachment names, never the message.
    Taken in once: one row per Message-ID, and one per mailbox UID (``frontdoor.mail``)."""

    __tablename__ = "mail_items"
    __table_args__ = (
        UniqueConstraint("message_id"),
        UniqueConstraint("mailbox", "uid_validity", "uid"),
    )

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(SUBJECT))
    uid_validity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str] = mapped_column(String(1000))
    received_at: Mapped[datetime] = mapped_column(index=True)
    sender_name: Mapped[str] = mapped_column(Text)
    sender_address: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    #: the attachments' file names, in message order
    attachments: Mapped[list[str]] = mapped_column(JSON)
    preview: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(CODE), index=True)
    version: Mapped[int] = mapped_column(Integer)
    taken_by: Mapped[str | None] = mapped_column(String(PERSON), index=True)
    taken_at: Mapped[datetime | None]
    contact_id: Mapped[str | None] = mapped_column(String(ID), index=True)
    reason: Mapped[str | None] = mapped_column(String(CODE))
    reason_detail: Mapped[str] = mapped_column(Text)
    closed_at: Mapped[datetime | None]


class MailboxMarkRow(Base):
    """How far the watcher has read a mailbox (``frontdoor.mail_records.MailboxMark``)."""

    __tablename__ = "mailbox_marks"

    mailbox: Mapped[str] = mapped_column(String(SUBJECT), primary_key=True)
    uid_validity: Mapped[int] = mapped_column(BigInteger)
    read_up_to: Mapped[int] = mapped_column(BigInteger)
    found_up_to: Mapped[int] = mapped_column(BigInteger)
    passed_over_before: Mapped[datetime]
    read_at: Mapped[datetime]


metadata = Base.metadata


class PartnerAgencyRow(Base):
    """The agency a ``partner`` of the role directory works for (SPEC §1)."""

    __tablename__ = "partner_agencies"

    aad_object_id: Mapped[str] = mapped_column(String(PERSON), primary_key=True)
    agency: Mapped[str] = mapped_column(String(CODE))


class MashEpisodeRow(Base):
    """A MASH episode (SPEC §9); ``reasons``, ``children`` and ``participants`` are JSON lists."""

    __tablename__ = "mash_episodes"

    reference: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    contact_reference: Mapped[str] = mapped_column(String(CODE), index=True)
    opened_by: Mapped[str] = mapped_column(String(PERSON))
    opened_at: Mapped[datetime]
    urgency: Mapped[str] = mapped_column(String(CODE))
    reasons: Mapped[list[str]] = mapped_column(JSON)
    question: Mapped[str] = mapped_column(Text)
    #: what the requests share about each child: [{"name": ..., "date_of_birth": "YYYY-MM-DD" | null}]
    children: Mapped[list[dict[str, str | None]]] = mapped_column(JSON)
    decision: Mapped[str | None] = mapped_column(String(CODE))
    rationale: Mapped[str] = mapped_column(Text)
    participants: Mapped[list[str]] = mapped_column(JSON)
    closed_by: Mapped[str | None] = mapped_column(String(PERSON))
    closed_at: Mapped[datetime | None] = mapped_column(index=True)
    #: the card it was opened from (a repeated press opens nothing)
    form_id: Mapped[str | None] = mapped_column(String(ID), unique=True)


class MashRequestRow(Base):
    """One partner agency's information request in an episode, and its answer."""

    __tablename__ = "mash_requests"

    episode_reference: Mapped[str] = mapped_column(
        String(CODE), ForeignKey("mash_episodes.reference", ondelete="CASCADE"), primary_key=True
    )
    agency: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    due_at: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(PERSON))
    answered_at: Mapped[datetime | None]
    channel: Mapped[str | None] = mapped_column(String(CODE))
    given_by: Mapped[str] = mapped_column(Text)


class TriageIncidentRow(Base):
    """A police incident on the daily domestic-abuse triage list and its outcome (SPEC §9)."""

    __tablename__ = "triage_incidents"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    police_reference: Mapped[str] = mapped_column(String(CODE))
    occurred_on: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(PERSON))
    recorded_at: Mapped[datetime] = mapped_column(index=True)
    outcome: Mapped[str | None] = mapped_column(String(CODE))
    decided_by: Mapped[str | None] = mapped_column(String(PERSON))
    decided_at: Mapped[datetime | None]
    contact_reference: Mapped[str] = mapped_column(String(CODE))
    other_authority: Mapped[str] = mapped_column(Text)
    told: Mapped[str] = mapped_column(Text)


class MaracCaseRow(Base):
    """A case on a MARAC meeting (SPEC §9)."""

    __tablename__ = "marac_cases"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    meeting_day: Mapped[date] = mapped_column(Date, index=True)
    case_reference: Mapped[str] = mapped_column(String(CODE))
    recorded_by: Mapped[str] = mapped_column(String(PERSON))
    recorded_at: Mapped[datetime]


class MaracRequestRow(Base):
    """A linked child of a MARAC case and the request to the team they are open to."""

    __tablename__ = "marac_requests"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    case_id: Mapped[str] = mapped_column(
        String(ID), ForeignKey("marac_cases.id", ondelete="CASCADE"), index=True
    )
    child_name: Mapped[str] = mapped_column(Text)
    child_date_of_birth: Mapped[date | None] = mapped_column(Date)
    team: Mapped[str] = mapped_column(Text)
    worker_id: Mapped[str] = mapped_column(String(PERSON))
    due_at: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(PERSON))
    answered_at: Mapped[datetime | None]
    #: the card the child was linked from (a repeated press sends nothing)
    form_id: Mapped[str | None] = mapped_column(String(ID), unique=True)


class MaracActionRow(Base):
    """An action a MARAC meeting agreed on a case: what, who (an agency or team), by when."""

    __tablename__ = "marac_actions"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    case_id: Mapped[str] = mapped_column(
        String(ID), ForeignKey("marac_cases.id", ondelete="CASCADE"), index=True
    )
    what: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(PERSON))
    recorded_at: Mapped[datetime]
    #: the card it was recorded from (a repeated press records nothing)
    form_id: Mapped[str | None] = mapped_column(String(ID), unique=True)


class MappaInvitationRow(Base):
    """A MAPPA invitation and where it was forwarded (empty team: the front door)."""

    __tablename__ = "mappa_invitations"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    mappa_reference: Mapped[str] = mapped_column(String(CODE))
    meeting_day: Mapped[date] = mapped_column(Date, index=True)
    team: Mapped[str] = mapped_column(Text)
    worker_id: Mapped[str | None] = mapped_column(String(PERSON))
    logged_by: Mapped[str] = mapped_column(String(PERSON))
    logged_at: Mapped[datetime] = mapped_column(index=True)


class BodyRequestRow(Base):
    """A CAFCASS safeguarding request or an Ofsted check (SPEC §9) and its response."""

    __tablename__ = "body_requests"

    reference: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    body: Mapped[str] = mapped_column(String(CODE))
    body_reference: Mapped[str] = mapped_column(Text)
    subject_name: Mapped[str] = mapped_column(Text)
    subject_date_of_birth: Mapped[date | None] = mapped_column(Date)
    subject_address: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime]
    logged_by: Mapped[str] = mapped_column(String(PERSON))
    logged_at: Mapped[datetime]
    response: Mapped[str | None] = mapped_column(Text)
    responded_by: Mapped[str | None] = mapped_column(String(PERSON))
    responded_at: Mapped[datetime | None] = mapped_column(index=True)
    #: the card it was logged from (a repeated press logs nothing)
    form_id: Mapped[str | None] = mapped_column(String(ID), unique=True)
