"""The unit of work: every repository port behind one transaction, and the store that opens it.

A use case opens a ``UnitOfWork``, works through its repositories and commits once, so a contact
change and the deadlines it starts are saved together or not at all. The repository ports live
in ``frontdoor.ports`` (and, for consultations and the alert outbox, beside their use cases); this
module only gathers them, so nothing it gathers needs to import it back.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self

from frontdoor.agencies import BodyRequestRepository, MaracRepository, MashRepository, TriageRepository
from frontdoor.alerts import AlertOutbox
from frontdoor.consultation import ConsultationRepository
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


class UnitOfWork(Protocol):
    contacts: ContactRepository
    references: ReferenceSequence
    roles: RoleDirectory
    rota: DutyRota
    conversations: ConversationStore
    channels: ChannelRegistry
    deadlines: DeadlineRepository
    audit: AuditLog
    consultations: ConsultationRepository
    activities: ProcessedActivities
    alerts: AlertOutbox
    mail: MailRepository
    mash: MashRepository
    triage: TriageRepository
    body_requests: BodyRequestRepository
    marac: MaracRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back anything not committed."""
        ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


class Store(Protocol):
    """A database: opens units of work and answers health checks."""

    def unit_of_work(self) -> UnitOfWork: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...
