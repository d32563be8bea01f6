"""``frontdoor.ports`` over SQL: ``SqlStore`` opens ``SqlUnitOfWork``s whose repositories read and
write through one ``AsyncSession`` and commit together.

Concurrency:

- Every write goes through ``SqlUnitOfWork.begin_write``. On SQLite that takes the store's
  writer lock (an ``asyncio.Lock``, so waiting writers queue fairly instead of polling the busy
  handler) and then ``BEGIN IMMEDIATE``, which takes SQLite's own write lock (the busy timeout
  covers a second process). Both are held until the unit of work commits or rolls back, so a
  read-then-write inside one unit of work (the audit chain, a compare-and-set) sees no other
  writer in between. Reads before the first write run outside a transaction and never block.
  A task that opens a second unit of work and writes in it while its first one holds the lock
  waits for the busy timeout and then fails: commit the first one before.
- On PostgreSQL each operation is safe by itself under READ COMMITTED: conditional ``UPDATE``s,
  ``INSERT … ON CONFLICT`` (the reference upsert locks its row until commit, so a rolled-back
  number is not consumed), and a transaction-scoped advisory lock around the audit chain.
- The caseload cap is a count followed by a write, which READ COMMITTED alone does not protect:
  ``lock_worker`` takes a transaction-scoped advisory lock on the worker (on SQLite, the writer
  lock), so two allocations to one worker are counted one after the other.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Self, TypeVar

from sqlalchemy import ColumnElement, Select, case, delete, func, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from frontdoor.agencies import BodyRequestRepository, MaracRepository, MashRepository, TriageRepository
from frontdoor.alerts import AlertOutbox
from frontdoor.calendar import require_aware
from frontdoor.consultation import ConsultationRepository
from frontdoor.contact import (
    Child,
    Consent,
    Contact,
    ContactEvent,
    ContactState,
    ContactSummary,
    ContactType,
    EmergencyDetails,
    HistoryChecks,
    ImmediateRisk,
    Parent,
    PresentingNeed,
    Referrer,
    ReferrerType,
    Source,
)
from frontdoor.figures_records import FiguresQueries
from frontdoor.mail_records import MailRepository
from frontdoor.ports import (
    AuditLog,
    ChannelRegistry,
    ContactRepository,
    ConversationStore,
    DeadlineRepository,
    DutyRota,
    NotFoundError,
    ProcessedActivities,
    ReferenceSequence,
    RoleDirectory,
    StaleVersionError,
)
from frontdoor.records import (
    AuditEvent,
    ChannelPurpose,
    ChannelRegistration,
    ClockKind,
    ConversationKind,
    ConversationRecord,
    Deadline,
    DeadlineState,
    DirectoryEntry,
    RotaEntry,
    StoredAuditEvent,
)
from frontdoor.roles import Role
from store import chain
from store.body_requests import SqlBodyRequestRepository
from store.consultations import SqlConsultationRepository
from store.engine import DEFAULT_BUSY_TIMEOUT, create_engine
from store.figures import SqlFigures, latest_route
from store.mail import SqlMailRepository
from store.marac import SqlMaracRepository
from store.mash import SqlMashRepository
from store.outbox import SqlAlertOutbox
from store.repository import SqlRepository as _Repository
from store.tables import (
    AuditEventRow,
    Base,
    ChannelRegistrationRow,
    ContactChildRow,
    ContactEventRow,
    ContactParentRow,
    ContactRow,
    ConversationRefRow,
    DeadlineRow,
    DutyRotaRow,
    ProcessedActivityRow,
    ReferenceSequenceRow,
    RoleDirectoryRow,
)
from store.triage import SqlTriageRepository

#: The key of the PostgreSQL advisory lock that serialises writers of the audit chain.
AUDIT_CHAIN_LOCK = 0x66_64_61_75_64_69_74  # "fdaudit"
#: The first key of the PostgreSQL advisory locks on a social worker's caseload (two-key form, so
#: they never meet the one-key audit chain lock); the second key is a hash of the worker's id.
CASELOAD_LOCK = 0x66_64_63_6C  # "fdcl"

_Row = TypeVar("_Row", bound=Base)
_Choice = TypeVar("_Choice", ContactState, Source, ContactType, Consent)
_Part = TypeVar("_Part", ContactChildRow, ContactParentRow, ContactEventRow)
_Values = dict[str, object]


class SqlStore:
    """A SQLite or PostgreSQL database (``sqlite+aiosqlite:///…``, ``postgresql+asyncpg://…``)
    migrated to the current schema (``store.migrate.upgrade``)."""

    def __init__(self, database_url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self._engine = create_engine(database_url, busy_timeout=busy_timeout)
        self._sessions = async_sessionmaker(self._engine, expire_on_commit=False, autoflush=False)
        self._busy_timeout = busy_timeout
        self._sqlite_writer = asyncio.Lock() if self._engine.dialect.name == "sqlite" else None

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    def unit_of_work(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions(), self._sqlite_writer, self._busy_timeout)

    async def ping(self) -> bool:
        """Whether the database answers a query within five seconds."""
        try:
            async with asyncio.timeout(5), self._engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError):
            return False
        return True

    async def close(self) -> None:
        await self._engine.dispose()


class SqlUnitOfWork:
    """One transaction: ``commit`` saves everything the repositories did since the last commit;
    leaving the ``async with`` block rolls back whatever was not committed."""

    def __init__(
        self, session: AsyncSession, sqlite_writer: asyncio.Lock | None, busy_timeout: float
    ) -> None:
        self.session = session
        self.dialect = session.bind.dialect.name if session.bind is not None else ""
        self._sqlite_writer = sqlite_writer
        self._busy_timeout = busy_timeout
        self._writing = False
        self.contacts: ContactRepository = SqlContactRepository(self)
        self.references: ReferenceSequence = SqlReferenceSequence(self)
        self.roles: RoleDirectory = SqlRoleDirectory(self)
        self.rota: DutyRota = SqlDutyRota(self)
        self.conversations: ConversationStore = SqlConversationStore(self)
        self.channels: ChannelRegistry = SqlChannelRegistry(self)
        self.deadlines: DeadlineRepository = SqlDeadlineRepository(self)
        self.audit: AuditLog = SqlAuditLog(self)
        self.consultations: ConsultationRepository = SqlConsultationRepository(self)
        self.activities: ProcessedActivities = SqlProcessedActivities(self)
        self.alerts: AlertOutbox = SqlAlertOutbox(self)
        self.figures: FiguresQueries = SqlFigures(self)
        self.mail: MailRepository = SqlMailRepository(self)
        self.mash: MashRepository = SqlMashRepository(self)
        self.triage: TriageRepository = SqlTriageRepository(self)
        self.body_requests: BodyRequestRepository = SqlBodyRequestRepository(self)
        self.marac: MaracRepository = SqlMaracRepository(self)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        try:
            await self.session.commit()
        finally:
            self._end_write()

    async def rollback(self) -> None:
        try:
            await self.session.rollback()
        finally:
            self._end_write()

    async def begin_write(self) -> None:
        """Called before the first write of a transaction (see the module docstring)."""
        if self._writing:
            return
        if self._sqlite_writer is None:
            self._writing = True
            return
        try:
            async with asyncio.timeout(self._busy_timeout):
                await self._sqlite_writer.acquire()
        except TimeoutError:
            raise TimeoutError(
                f"another unit of work has held the database's write lock for {self._busy_timeout:g} s"
            ) from None
        self._writing = True
        try:
            await self.session.execute(text("BEGIN IMMEDIATE"))
        except BaseException:
            self._end_write()
            raise

    def _end_write(self) -> None:
        if self._writing and self._sqlite_writer is not None:
            self._sqlite_writer.release()
        self._writing = False

    def insert(self, entity: type[Base]) -> postgresql.Insert | sqlite.Insert:
        """An ``INSERT`` that supports ``ON CONFLICT`` on this database."""
        if self.dialect == "postgresql":
            return postgresql.insert(entity)
        return sqlite.insert(entity)

    async def rows(self, statement: Select[_Row]) -> list[_Row]:
        """Run a query for mapped rows, refreshing any already in the session: writes go through
        bulk statements, which leave the session's identity map behind."""
        result = await self.session.execute(statement.execution_options(populate_existing=True))
        return list(result.scalars().all())


# -- contacts -----------------------------------------------------------------------------------


def _optional(kind: type[_Choice], value: str | None) -> _Choice | None:
    return None if value is None else kind(value)


def _contact_values(contact: Contact) -> _Values:
    referrer = contact.referrer
    history = contact.history
    return {
        "id": contact.id,
        "reference": contact.reference,
        "state": contact.state.value,
        "version": contact.version,
        "created_by": contact.created_by,
        "created_at": contact.created_at,
        "received_at": contact.received_at,
        "source": None if contact.source is None else contact.source.value,
        "contact_type": None if contact.contact_type is None else contact.contact_type.value,
        "assignee_id": contact.assignee_id,
        "route": latest_route(contact),
        "draft_section": contact.draft_section,
        "worries": contact.worries,
        "working_well": contact.working_well,
        "needs_to_happen": contact.needs_to_happen,
        "consent": None if contact.consent is None else contact.consent.value,
        "consent_reason": contact.consent_reason,
        "presenting_needs": sorted(need.value for need in contact.presenting_needs),
        "immediate_risks": sorted(risk.value for risk in contact.immediate_risks),
        "history_open_case": history.open_case,
        "history_allocated_worker_id": history.allocated_worker_id,
        "history_last_worker_id": history.last_worker_id,
        "history_systems_checked": list(history.systems_checked),
        "history_chronology": history.chronology,
        "history_closed_on": history.closed_on,
        "history_open_to_early_help": history.open_to_early_help,
        "history_early_help_worker_id": history.early_help_worker_id,
        "emergency_child": contact.emergency.child,
        "emergency_whereabouts": contact.emergency.whereabouts,
        "emergency_phone": contact.emergency.phone,
        "referrer_type": None if referrer is None else referrer.type.value,
        "referrer_name": "" if referrer is None else referrer.name,
        "referrer_agency": "" if referrer is None else referrer.agency,
        "referrer_role": "" if referrer is None else referrer.role,
        "referrer_phone": "" if referrer is None else referrer.phone,
        "referrer_email": "" if referrer is None else referrer.email,
        "referrer_anonymity_requested": False if referrer is None else referrer.anonymity_requested,
    }


def _contact(
    row: ContactRow,
    children: Sequence[ContactChildRow],
    parents: Sequence[ContactParentRow],
    events: Sequence[ContactEventRow],
) -> Contact:
    referrer = None
    if row.referrer_type is not None:
        referrer = Referrer(
            type=ReferrerType(row.referrer_type),
            name=row.referrer_name,
            agency=row.referrer_agency,
            role=row.referrer_role,
            phone=row.referrer_phone,
            email=row.referrer_email,
            anonymity_requested=row.referrer_anonymity_requested,
        )
    return Contact(
        id=row.id,
        created_by=row.created_by,
        created_at=row.created_at,
        state=ContactState(row.state),
        version=row.version,
        reference=row.reference,
        received_at=row.received_at,
        source=_optional(Source, row.source),
        contact_type=_optional(ContactType, row.contact_type),
        referrer=referrer,
        children=tuple(
            Child(
                name=child.name,
                date_of_birth=child.date_of_birth,
                expected_date=child.expected_date,
                gender=child.gender,
                address=child.address,
                school=child.school,
            )
            for child in children
        ),
        parents=tuple(
            Parent(
                name=parent.name, relationship=parent.relationship, address=parent.address, phone=parent.phone
            )
            for parent in parents
        ),
        consent=_optional(Consent, row.consent),
        consent_reason=row.consent_reason,
        worries=row.worries,
        working_well=row.working_well,
        needs_to_happen=row.needs_to_happen,
        presenting_needs=frozenset(PresentingNeed(value) for value in row.presenting_needs),
        immediate_risks=frozenset(ImmediateRisk(value) for value in row.immediate_risks),
        history=HistoryChecks(
            open_case=row.history_open_case,
            allocated_worker_id=row.history_allocated_worker_id,
            last_worker_id=row.history_last_worker_id,
            systems_checked=tuple(row.history_systems_checked),
            chronology=row.history_chronology,
            closed_on=row.history_closed_on,
            open_to_early_help=row.history_open_to_early_help,
            early_help_worker_id=row.history_early_help_worker_id,
        ),
        emergency=EmergencyDetails(
            child=row.emergency_child, whereabouts=row.emergency_whereabouts, phone=row.emergency_phone
        ),
        assignee_id=row.assignee_id,
        draft_section=row.draft_section,
        events=tuple(
            ContactEvent(
                at=event.at,
                actor_id=event.actor_id,
                action=event.action,
                from_state=_optional(ContactState, event.from_state),
                to_state=_optional(ContactState, event.to_state),
                rationale=event.rationale,
                data=event.data,
            )
            for event in events
        ),
    )


def _in_utc(contact: Contact) -> Contact:
    """``contact`` with its times in UTC, as the database gives them back."""
    return replace(
        contact,
        created_at=contact.created_at.astimezone(UTC),
        received_at=None if contact.received_at is None else contact.received_at.astimezone(UTC),
        events=tuple(replace(event, at=event.at.astimezone(UTC)) for event in contact.events),
    )


class SqlContactRepository(_Repository):
    async def add(self, contact: Contact) -> None:
        await self._uow.begin_write()
        await self._session.execute(insert(ContactRow).values(_contact_values(contact)))
        await self._insert_parts(contact)

    async def get(self, contact_id: str) -> Contact | None:
        found = await self._load(select(ContactRow).where(ContactRow.id == contact_id))
        return found[0] if found else None

    async def get_by_reference(self, reference: str) -> Contact | None:
        found = await self._load(select(ContactRow).where(ContactRow.reference == reference))
        return found[0] if found else None

    async def save(self, contact: Contact, expected_version: int) -> Contact:
        await self._uow.begin_write()
        values = _contact_values(contact)
        del values["id"]
        values["version"] = expected_version + 1
        statement = (
            update(ContactRow)
            .where(ContactRow.id == contact.id, ContactRow.version == expected_version)
            .values(values)
            .returning(ContactRow.id)
            .execution_options(synchronize_session=False)
        )
        if (await self._session.execute(statement)).first() is None:
            exists = await self._session.execute(select(ContactRow.id).where(ContactRow.id == contact.id))
            if exists.first() is None:
                raise NotFoundError(f"no contact {contact.id}")
            raise StaleVersionError(f"contact {contact.id} is no longer at version {expected_version}")
        for part in (ContactChildRow, ContactParentRow, ContactEventRow):
            await self._session.execute(
                delete(part).where(part.contact_id == contact.id).execution_options(synchronize_session=False)
            )
        await self._insert_parts(contact)
        return replace(_in_utc(contact), version=expected_version + 1)

    async def delete(self, contact_id: str) -> None:
        await self._uow.begin_write()
        # The children, parents and events go with it (ON DELETE CASCADE).
        await self._session.execute(
            delete(ContactRow).where(ContactRow.id == contact_id).execution_options(synchronize_session=False)
        )

    async def list_by_state(self, states: Sequence[ContactState]) -> list[Contact]:
        if not states:
            return []
        values = sorted({state.value for state in states})
        return await self._load(
            select(ContactRow)
            .where(ContactRow.state.in_(values))
            .order_by(ContactRow.created_at, ContactRow.id)
        )

    async def summaries(self, states: Sequence[ContactState]) -> list[ContactSummary]:
        if not states:
            return []
        columns = (ContactRow.reference, ContactRow.state, ContactRow.received_at, ContactRow.assignee_id)
        result = await self._session.execute(
            select(*columns)
            .where(
                ContactRow.state.in_(sorted({state.value for state in states})),
                ContactRow.reference.is_not(None),
                ContactRow.received_at.is_not(None),
            )
            .order_by(ContactRow.created_at, ContactRow.id)
        )
        return [
            ContactSummary(reference, ContactState(state), received_at, assignee_id)
            for reference, state, received_at, assignee_id in result.all()
            if reference is not None and received_at is not None  # the query's own filter, for the types
        ]

    async def drafts_of(self, user_id: str) -> list[Contact]:
        return await self._load(
            select(ContactRow)
            .where(
                or_(ContactRow.state == ContactState.DRAFT.value, ContactRow.draft_section != ""),
                ContactRow.created_by == user_id,
            )
            .order_by(ContactRow.created_at, ContactRow.id)
        )

    async def assigned_to(self, user_id: str, states: Sequence[ContactState]) -> list[Contact]:
        if not states:
            return []
        values = sorted({state.value for state in states})
        return await self._load(
            select(ContactRow)
            .where(ContactRow.assignee_id == user_id, ContactRow.state.in_(values))
            .order_by(ContactRow.created_at, ContactRow.id)
        )

    async def closed_before(self, cutoff: datetime) -> list[Contact]:
        latest = (
            select(ContactEventRow.contact_id)
            .group_by(ContactEventRow.contact_id)
            .having(func.max(ContactEventRow.at) <= cutoff)
        )
        return await self._load(
            select(ContactRow)
            .where(ContactRow.state == ContactState.CLOSED.value, ContactRow.id.in_(latest))
            .order_by(ContactRow.created_at, ContactRow.id)
        )

    async def lock_worker(self, worker_id: str) -> None:
        await self._uow.begin_write()  # on SQLite the writer lock is the worker's lock too
        if self._uow.dialect == "postgresql":
            key = int.from_bytes(hashlib.blake2b(worker_id.encode(), digest_size=4).digest(), signed=True)
            # Held to the end of the transaction, so the count after it sees every allocation
            # committed before it and none can commit between the count and ours.
            await self._session.execute(select(func.pg_advisory_xact_lock(CASELOAD_LOCK, key)))

    async def _insert_parts(self, contact: Contact) -> None:
        children: list[_Values] = [
            {
                "contact_id": contact.id,
                "position": position,
                "name": child.name,
                "date_of_birth": child.date_of_birth,
                "expected_date": child.expected_date,
                "gender": child.gender,
                "address": child.address,
                "school": child.school,
            }
            for position, child in enumerate(contact.children)
        ]
        parents: list[_Values] = [
            {
                "contact_id": contact.id,
                "position": position,
                "name": parent.name,
                "relationship": parent.relationship,
                "address": parent.address,
                "phone": parent.phone,
            }
            for position, parent in enumerate(contact.parents)
        ]
        events: list[_Values] = [
            {
                "contact_id": contact.id,
                "position": position,
                "at": event.at,
                "actor_id": event.actor_id,
                "action": event.action,
                "from_state": None if event.from_state is None else event.from_state.value,
                "to_state": None if event.to_state is None else event.to_state.value,
                "rationale": event.rationale,
                "data": event.data,
            }
            for position, event in enumerate(contact.events)
        ]
        for entity, values in (
            (ContactChildRow, children),
            (ContactParentRow, parents),
            (ContactEventRow, events),
        ):
            if values:
                await self._session.execute(insert(entity), values)

    async def _load(self, statement: Select[ContactRow]) -> list[Contact]:
        rows = await self._uow.rows(statement)
        if not rows:
            return []
        ids = [row.id for row in rows]
        children = await self._parts(ContactChildRow, ids)
        parents = await self._parts(ContactParentRow, ids)
        events = await self._parts(ContactEventRow, ids)
        return [_contact(row, children[row.id], parents[row.id], events[row.id]) for row in rows]

    async def _parts(self, entity: type[_Part], contact_ids: list[str]) -> defaultdict[str, list[_Part]]:
        rows = await self._uow.rows(
            select(entity)
            .where(entity.contact_id.in_(contact_ids))
            .order_by(entity.contact_id, entity.position)
        )
        grouped: defaultdict[str, list[_Part]] = defaultdict(list)
        for row in rows:
            grouped[row.contact_id].append(row)
        return grouped


# -- reference numbers ----------------------------------------------------------------------------


class SqlReferenceSequence(_Repository):
    async def allocate(self, prefix: str, year: int) -> int:
        if not prefix or len(prefix) > 8 or year < 0:
            raise ValueError(f"bad reference sequence {prefix!r} {year}")
        await self._uow.begin_write()
        statement = self._uow.insert(ReferenceSequenceRow).values(prefix=prefix, year=year, last_value=1)
        statement = statement.on_conflict_do_update(
            index_elements=[ReferenceSequenceRow.prefix, ReferenceSequenceRow.year],
            set_={"last_value": ReferenceSequenceRow.last_value + 1},
        )
        result = await self._session.execute(statement.returning(ReferenceSequenceRow.last_value))
        value: int = result.scalar_one()
        return value


# -- role directory and rota ----------------------------------------------------------------------


def _entries(rows: Iterable[RoleDirectoryRow]) -> list[DirectoryEntry]:
    roles: dict[str, set[Role]] = defaultdict(set)
    names: dict[str, str] = {}
    for row in rows:
        roles[row.aad_object_id].add(Role(row.role))
        names[row.aad_object_id] = row.display_name
    return [DirectoryEntry(person, frozenset(roles[person]), names[person]) for person in sorted(roles)]


class SqlRoleDirectory(_Repository):
    async def roles_of(self, aad_object_id: str) -> frozenset[Role]:
        result = await self._session.execute(
            select(RoleDirectoryRow.role).where(RoleDirectoryRow.aad_object_id == aad_object_id)
        )
        return frozenset(Role(value) for value in result.scalars())

    async def grant(self, aad_object_id: str, role: Role) -> bool:
        await self._uow.begin_write()
        known = await self._session.execute(
            select(RoleDirectoryRow.display_name)
            .where(RoleDirectoryRow.aad_object_id == aad_object_id)
            .limit(1)
        )
        name = known.scalar_one_or_none() or ""
        statement = (
            self._uow.insert(RoleDirectoryRow)
            .values(aad_object_id=aad_object_id, role=role.value, display_name=name)
            .on_conflict_do_nothing()
            .returning(RoleDirectoryRow.role)
        )
        return (await self._session.execute(statement)).first() is not None

    async def revoke(self, aad_object_id: str, role: Role) -> bool:
        await self._uow.begin_write()
        statement = (
            delete(RoleDirectoryRow)
            .where(RoleDirectoryRow.aad_object_id == aad_object_id, RoleDirectoryRow.role == role.value)
            .returning(RoleDirectoryRow.role)
            .execution_options(synchronize_session=False)
        )
        return (await self._session.execute(statement)).first() is not None

    async def entries(self) -> list[DirectoryEntry]:
        return _entries(await self._uow.rows(select(RoleDirectoryRow)))

    async def holders(self, role: Role) -> list[DirectoryEntry]:
        people = select(RoleDirectoryRow.aad_object_id).where(RoleDirectoryRow.role == role.value)
        return _entries(
            await self._uow.rows(select(RoleDirectoryRow).where(RoleDirectoryRow.aad_object_id.in_(people)))
        )

    async def set_display_name(self, aad_object_id: str, name: str) -> None:
        await self._uow.begin_write()
        await self._session.execute(
            update(RoleDirectoryRow)
            .where(RoleDirectoryRow.aad_object_id == aad_object_id)
            .values(display_name=name)
            .execution_options(synchronize_session=False)
        )


class SqlDutyRota(_Repository):
    async def set(self, entry: RotaEntry) -> None:
        await self._uow.begin_write()
        await self._session.execute(
            self._uow.insert(DutyRotaRow)
            .values(day=entry.day, role=entry.role.value, person_id=entry.person_id)
            .on_conflict_do_nothing()
        )

    async def remove(self, entry: RotaEntry) -> bool:
        await self._uow.begin_write()
        statement = (
            delete(DutyRotaRow)
            .where(
                DutyRotaRow.day == entry.day,
                DutyRotaRow.role == entry.role.value,
                DutyRotaRow.person_id == entry.person_id,
            )
            .returning(DutyRotaRow.person_id)
            .execution_options(synchronize_session=False)
        )
        return (await self._session.execute(statement)).first() is not None

    async def on(self, day: date) -> list[RotaEntry]:
        rows = await self._uow.rows(
            select(DutyRotaRow)
            .where(DutyRotaRow.day == day)
            .order_by(DutyRotaRow.role, DutyRotaRow.person_id)
        )
        return [RotaEntry(day=row.day, role=Role(row.role), person_id=row.person_id) for row in rows]


# -- conversations and channels -------------------------------------------------------------------


def _conversation(row: ConversationRefRow) -> ConversationRecord:
    return ConversationRecord(
        conversation_id=row.conversation_id,
        kind=ConversationKind(row.kind),
        tenant_id=row.tenant_id,
        service_url=row.service_url,
        reference=row.reference,
        updated_at=row.updated_at,
        user_id=row.user_id,
        team_id=row.team_id,
        channel_id=row.channel_id,
        dead=row.dead,
        dead_reason=row.dead_reason,
    )


class SqlConversationStore(_Repository):
    async def upsert(self, record: ConversationRecord) -> None:
        await self._uow.begin_write()
        values: _Values = {
            "conversation_id": record.conversation_id,
            "kind": record.kind.value,
            "tenant_id": record.tenant_id,
            "service_url": record.service_url,
            "user_id": record.user_id,
            "team_id": record.team_id,
            "channel_id": record.channel_id,
            "reference": record.reference,
            "updated_at": record.updated_at,
            "dead": record.dead,
            "dead_reason": record.dead_reason,
        }
        statement = self._uow.insert(ConversationRefRow).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[ConversationRefRow.conversation_id],
            set_={key: statement.excluded[key] for key in values if key != "conversation_id"},
        )
        await self._session.execute(statement)

    async def get(self, conversation_id: str) -> ConversationRecord | None:
        rows = await self._uow.rows(
            select(ConversationRefRow).where(ConversationRefRow.conversation_id == conversation_id)
        )
        return _conversation(rows[0]) if rows else None

    async def personal_chat_of(self, user_id: str) -> ConversationRecord | None:
        """The user's personal chat with the bot: a live one before a dead one, newest first."""
        rows = await self._uow.rows(
            select(ConversationRefRow)
            .where(
                ConversationRefRow.user_id == user_id,
                ConversationRefRow.kind == ConversationKind.PERSONAL.value,
            )
            .order_by(ConversationRefRow.dead, ConversationRefRow.updated_at.desc())
            .limit(1)
        )
        return _conversation(rows[0]) if rows else None

    async def mark_dead(self, conversation_id: str, reason: str) -> None:
        await self._uow.begin_write()
        await self._session.execute(
            update(ConversationRefRow)
            .where(ConversationRefRow.conversation_id == conversation_id)
            .values(dead=True, dead_reason=reason)
            .execution_options(synchronize_session=False)
        )

    async def dead(self) -> list[ConversationRecord]:
        rows = await self._uow.rows(
            select(ConversationRefRow)
            .where(ConversationRefRow.dead.is_(True))
            .order_by(ConversationRefRow.conversation_id)
        )
        return [_conversation(row) for row in rows]


def _registration(row: ChannelRegistrationRow) -> ChannelRegistration:
    return ChannelRegistration(
        purpose=ChannelPurpose(row.purpose),
        conversation_id=row.conversation_id,
        registered_by=row.registered_by,
        registered_at=row.registered_at,
    )


class SqlChannelRegistry(_Repository):
    async def register(self, registration: ChannelRegistration) -> ChannelRegistration | None:
        await self._uow.begin_write()
        previous = await self.get(registration.purpose)
        values: _Values = {
            "purpose": registration.purpose.value,
            "conversation_id": registration.conversation_id,
            "registered_by": registration.registered_by,
            "registered_at": registration.registered_at,
        }
        statement = self._uow.insert(ChannelRegistrationRow).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[ChannelRegistrationRow.purpose],
            set_={key: statement.excluded[key] for key in values if key != "purpose"},
        )
        await self._session.execute(statement)
        return previous

    async def get(self, purpose: ChannelPurpose) -> ChannelRegistration | None:
        rows = await self._uow.rows(
            select(ChannelRegistrationRow).where(ChannelRegistrationRow.purpose == purpose.value)
        )
        return _registration(rows[0]) if rows else None


# -- deadlines ----------------------------------------------------------------------------------


def _deadline(row: DeadlineRow) -> Deadline:
    return Deadline(
        subject=row.subject,
        clock=ClockKind(row.clock),
        started_at=row.started_at,
        due_at=row.due_at,
        state=DeadlineState(row.state),
        assignee_id=row.assignee_id,
        id=row.id,
        closed_at=row.closed_at,
    )


def alerts_due_statement(moment: datetime) -> Select[DeadlineRow]:
    """The tick's query: open deadlines whose next alert is due by ``moment``. Closed deadlines
    have no next alert, so it reads only the due entries of ``ix_deadlines_next_alert_at``."""
    return (
        select(DeadlineRow)
        .where(DeadlineRow.next_alert_at <= moment, DeadlineRow.state == DeadlineState.OPEN.value)
        .order_by(DeadlineRow.due_at, DeadlineRow.id)
    )


class SqlDeadlineRepository(_Repository):
    async def add(self, deadline: Deadline) -> Deadline:
        await self._uow.begin_write()
        statement = (
            insert(DeadlineRow)
            .values(
                subject=deadline.subject,
                clock=deadline.clock.value,
                started_at=deadline.started_at,
                due_at=deadline.due_at,
                state=deadline.state.value,
                assignee_id=deadline.assignee_id,
                next_alert_at=deadline.started_at if deadline.state is DeadlineState.OPEN else None,
            )
            .returning(DeadlineRow.id)
        )
        new_id: int = (await self._session.execute(statement)).scalar_one()
        return replace(
            deadline,
            id=new_id,
            started_at=deadline.started_at.astimezone(UTC),
            due_at=deadline.due_at.astimezone(UTC),
        )

    async def for_subject(self, subject: str) -> list[Deadline]:
        rows = await self._uow.rows(
            select(DeadlineRow)
            .where(DeadlineRow.subject == subject)
            .order_by(DeadlineRow.due_at, DeadlineRow.id)
        )
        return [_deadline(row) for row in rows]

    async def open_due_before(
        self, moment: datetime, limit: int | None = 100, *, clock: ClockKind | None = None
    ) -> list[Deadline]:
        """Open deadlines (of ``clock``, or any) due at or before ``moment``, soonest first."""
        statement = select(DeadlineRow).where(
            DeadlineRow.state == DeadlineState.OPEN.value, DeadlineRow.due_at <= moment
        )
        if clock is not None:
            statement = statement.where(DeadlineRow.clock == clock.value)
        rows = await self._uow.rows(statement.order_by(DeadlineRow.due_at, DeadlineRow.id).limit(limit))
        return [_deadline(row) for row in rows]

    async def alerts_due_by(self, moment: datetime) -> list[Deadline]:
        return [_deadline(row) for row in await self._uow.rows(alerts_due_statement(moment))]

    async def set_next_alerts(self, next_alerts: Mapping[int, datetime | None]) -> None:
        if not next_alerts:
            return
        await self._uow.begin_write()
        await self._session.execute(
            update(DeadlineRow).execution_options(synchronize_session=False),
            [{"id": key, "next_alert_at": moment} for key, moment in next_alerts.items()],
        )

    async def open_for_subjects(self, subjects: Sequence[str]) -> list[Deadline]:
        if not subjects:
            return []
        rows = await self._uow.rows(
            select(DeadlineRow)
            .where(
                DeadlineRow.state == DeadlineState.OPEN.value, DeadlineRow.subject.in_(sorted(set(subjects)))
            )
            .order_by(DeadlineRow.due_at, DeadlineRow.id)
        )
        return [_deadline(row) for row in rows]

    async def open_for_assignee(self, assignee_id: str) -> list[Deadline]:
        rows = await self._uow.rows(
            select(DeadlineRow)
            .where(DeadlineRow.state == DeadlineState.OPEN.value, DeadlineRow.assignee_id == assignee_id)
            .order_by(DeadlineRow.due_at, DeadlineRow.id)
        )
        return [_deadline(row) for row in rows]

    async def close(self, subject: str, clock: str, state: str, closed_at: datetime) -> int:
        await self._uow.begin_write()
        closing = DeadlineState(state)
        closed_at = require_aware(closed_at, "closing time").astimezone(UTC)
        new_state: str | ColumnElement[str] = closing.value
        if closing is DeadlineState.MET:
            # Decided per row in the one statement: a breached clock is never recorded as met.
            new_state = case(
                (DeadlineRow.due_at >= closed_at, DeadlineState.MET.value), else_=DeadlineState.LATE.value
            )
        statement = (
            update(DeadlineRow)
            .where(
                DeadlineRow.subject == subject,
                DeadlineRow.clock == ClockKind(clock).value,
                DeadlineRow.state == DeadlineState.OPEN.value,
            )
            .values(state=new_state, closed_at=closed_at, next_alert_at=None)
            .returning(DeadlineRow.id)
            .execution_options(synchronize_session=False)
        )
        return len((await self._session.execute(statement)).all())


# -- audit ----------------------------------------------------------------------------------------


def _stored(row: AuditEventRow) -> StoredAuditEvent:
    event = AuditEvent(
        at=row.at, actor_id=row.actor_id, action=row.action, subject=row.subject, detail=row.detail
    )
    return StoredAuditEvent(seq=row.seq, event=event, prev_hash=row.prev_hash, row_hash=row.row_hash)


class SqlAuditLog(_Repository):
    async def append(self, event: AuditEvent) -> StoredAuditEvent:
        if event.at.tzinfo is None:
            raise ValueError("naive datetime refused: audit events need a timezone-aware time")
        event = replace(event, at=event.at.astimezone(UTC))
        await self._uow.begin_write()
        if self._uow.dialect == "postgresql":
            # Held to the end of the transaction: the next writer reads this row's hash.
            await self._session.execute(select(func.pg_advisory_xact_lock(AUDIT_CHAIN_LOCK)))
        last = await self._session.execute(
            select(AuditEventRow.row_hash).order_by(AuditEventRow.seq.desc()).limit(1)
        )
        prev_hash = last.scalar_one_or_none() or chain.GENESIS_HASH
        digest = chain.row_hash(prev_hash, event)
        statement = (
            insert(AuditEventRow)
            .values(
                at=event.at,
                actor_id=event.actor_id,
                action=event.action,
                subject=event.subject,
                detail=event.detail,
                prev_hash=prev_hash,
                row_hash=digest,
            )
            .returning(AuditEventRow.seq)
        )
        seq: int = (await self._session.execute(statement)).scalar_one()
        return StoredAuditEvent(seq=seq, event=event, prev_hash=prev_hash, row_hash=digest)

    async def between(self, start: datetime, end: datetime) -> list[StoredAuditEvent]:
        """Events at or after ``start`` and before ``end``, in order."""
        rows = await self._uow.rows(
            select(AuditEventRow)
            .where(AuditEventRow.at >= start, AuditEventRow.at < end)
            .order_by(AuditEventRow.seq)
        )
        return [_stored(row) for row in rows]

    async def for_subject(self, subject: str) -> list[StoredAuditEvent]:
        rows = await self._uow.rows(
            select(AuditEventRow).where(AuditEventRow.subject == subject).order_by(AuditEventRow.seq)
        )
        return [_stored(row) for row in rows]


# -- inbound activities already handled -----------------------------------------------------------


class SqlProcessedActivities(_Repository):
    async def claim(self, key: str, at: datetime) -> bool:
        await self._uow.begin_write()
        statement = (
            self._uow.insert(ProcessedActivityRow)
            .values(activity_id=key, seen_at=at)
            .on_conflict_do_nothing()
            .returning(ProcessedActivityRow.activity_id)
        )
        return (await self._session.execute(statement)).first() is not None

    async def release(self, key: str) -> None:
        await self._uow.begin_write()
        await self._session.execute(
            delete(ProcessedActivityRow)
            .where(ProcessedActivityRow.activity_id == key)
            .execution_options(synchronize_session=False)
        )

    async def prune(self, before: datetime) -> int:
        await self._uow.begin_write()
        statement = (
            delete(ProcessedActivityRow)
            .where(ProcessedActivityRow.seen_at < before)
            .returning(ProcessedActivityRow.activity_id)
            .execution_options(synchronize_session=False)
        )
        return len((await self._session.execute(statement)).all())
