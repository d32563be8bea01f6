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
  waits for the busy timeout and then fails: commit the first one before. A writer checks out its
  connection before it waits for the lock, and SQLite's pool has no limit (``store.engine``), so
  the lock's holder never waits for a connection that a waiter for the lock holds.
- On PostgreSQL each operation is safe by itself under READ COMMITTED: conditional ``UPDATE``s,
  ``INSERT … ON CONFLICT`` (the reference upsert locks its row until commit, so a rolled-back
  number is not consumed), and a transaction-scoped advisory lock around the audit chain.
- The caseload cap is a count followed by a write, which READ COMMITTED alone does not protect:
  ``lock_worker`` takes a transaction-scoped advisory lock on the worker (on SQLite, the writer
  lock), so two allocations to one worker are counted one after the other.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self, TypeVar

from sqlalchemy import Select, Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from frontdoor.agencies import BodyRequestRepository, MaracRepository, MashRepository, TriageRepository
from frontdoor.alerts import AlertOutbox
from frontdoor.consultation import ConsultationRepository
from frontdoor.figures_records import FiguresQueries
from frontdoor.mail_records import MailRepository
from frontdoor.ports import (
    AuditLog,
    ChannelRegistry,
    ContactRepository,
    ConversationStore,
    DeadlineRepository,
    DutyRota,
    ProcessedActivities,
    ReferenceSequence,
    RoleDirectory,
)
from store.activities import SqlProcessedActivities
from store.audit_log import SqlAuditLog
from store.body_requests import SqlBodyRequestRepository
from store.channels import SqlChannelRegistry
from store.consultations import SqlConsultationRepository
from store.contacts import PartsCache, SqlContactRepository
from store.conversations import SqlConversationStore
from store.deadlines import SqlDeadlineRepository
from store.directory import SqlRoleDirectory
from store.engine import DEFAULT_BUSY_TIMEOUT, create_engine
from store.figures import SqlFigures
from store.mail import SqlMailRepository
from store.marac import SqlMaracRepository
from store.mash import SqlMashRepository
from store.outbox import SqlAlertOutbox
from store.references import SqlReferenceSequence
from store.repository import dialect_insert
from store.rota import SqlDutyRota
from store.tables import Base
from store.triage import SqlTriageRepository

_Row = TypeVar("_Row", bound=Base)
_BEGIN_IMMEDIATE = text("BEGIN IMMEDIATE")


class SqlStore:
    """A SQLite or PostgreSQL database (``sqlite+aiosqlite:///…``, ``postgresql+asyncpg://…``)
    migrated to the current schema (``store.migrate.upgrade``)."""

    def __init__(self, database_url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self._engine = create_engine(database_url, busy_timeout=busy_timeout)
        self._sessions = async_sessionmaker(self._engine, expire_on_commit=False, autoflush=False)
        self._busy_timeout = busy_timeout
        self._sqlite_writer = asyncio.Lock() if self._engine.dialect.name == "sqlite" else None
        #: contacts' parts by version, for every unit of work of this store (``store.contacts``)
        self._parts = PartsCache()

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    def unit_of_work(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions(), self._sqlite_writer, self._busy_timeout, self._parts)

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
        self,
        session: AsyncSession,
        sqlite_writer: asyncio.Lock | None,
        busy_timeout: float,
        parts: PartsCache | None = None,
    ) -> None:
        self.session = session
        self.dialect = session.bind.dialect.name if session.bind is not None else ""
        self._sqlite_writer = sqlite_writer
        self._busy_timeout = busy_timeout
        self._writing = False
        #: whether this unit of work ever began a write (what it read is then not only committed data)
        self._wrote = False
        self._contacts = SqlContactRepository(self, parts)
        self.contacts: ContactRepository = self._contacts
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
        if exc_type is None and not self._wrote:
            self._contacts.keep_parts()  # it only read: committed data
        try:
            await self.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        try:
            await self.session.commit()
        finally:
            self._end_write()
        self._contacts.keep_parts()

    async def rollback(self) -> None:
        try:
            await self.session.rollback()
        finally:
            self._end_write()

    async def begin_write(self) -> None:
        """Called before the first write of a transaction (see the module docstring)."""
        if self._writing:
            return
        self._wrote = True
        if self._sqlite_writer is None:
            self._writing = True
            return
        # The connection first, then the writer lock: a lock holder still waiting for a pooled
        # connection while the waiters for the lock hold them all would wait for ever.
        await self.session.connection()
        try:
            async with asyncio.timeout(self._busy_timeout):
                await self._sqlite_writer.acquire()
        except TimeoutError:
            raise TimeoutError(
                f"another unit of work has held the database's write lock for {self._busy_timeout:g} s"
            ) from None
        self._writing = True
        try:
            await self.session.execute(_BEGIN_IMMEDIATE)
        except BaseException:
            self._end_write()
            raise

    def _end_write(self) -> None:
        if self._writing and self._sqlite_writer is not None:
            self._sqlite_writer.release()
        self._writing = False

    def insert(self, entity: type[Base] | Table) -> postgresql.Insert | sqlite.Insert:
        """An ``INSERT`` that supports ``ON CONFLICT`` on this database."""
        return dialect_insert(self.dialect, entity)

    async def rows(self, statement: Select[_Row]) -> list[_Row]:
        """Run a query for mapped rows, refreshing any already in the session: writes go through
        bulk statements, which leave the session's identity map behind."""
        result = await self.session.execute(statement.execution_options(populate_existing=True))
        return list(result.scalars().all())
