"""Ports: what the domain needs from the outside world, as ``Protocol`` classes.

``store`` implements the repositories over SQL; ``tests`` keeps an in-memory fake that passes
the same contract suite. ``frontdoor.unit_of_work`` gathers them behind one transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Protocol

from frontdoor.contact import ChildOnContact, Contact, ContactState, ContactSummary
from frontdoor.records import (
    AuditEvent,
    ChannelPurpose,
    ChannelRegistration,
    ClockKind,
    ConversationRecord,
    Deadline,
    DirectoryEntry,
    LateReason,
    RotaEntry,
    StoredAuditEvent,
)
from frontdoor.roles import Role


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class StaleVersionError(Exception):
    """A record was saved from a version that is no longer the current one."""


class NotFoundError(Exception):
    """No record with that key."""


class ReferenceSequence(Protocol):
    async def allocate(self, prefix: str, year: int) -> int:
        """The next number for ``prefix`` in ``year`` (two- or four-digit year as given):
        1, 2, 3, … with no gaps and no reuse, even under concurrent callers."""
        ...


class ContactRepository(Protocol):
    async def add(self, contact: Contact) -> None: ...

    async def get(self, contact_id: str) -> Contact | None: ...

    async def get_by_reference(self, reference: str) -> Contact | None: ...

    async def save(self, contact: Contact, expected_version: int) -> Contact:
        """Save ``contact`` if the stored version is ``expected_version``; return it with the
        version incremented. Raises ``StaleVersionError`` otherwise."""
        ...

    async def delete(self, contact_id: str) -> None: ...

    async def list_by_state(self, states: Sequence[ContactState]) -> list[Contact]: ...

    async def summaries(self, states: Sequence[ContactState]) -> list[ContactSummary]:
        """The submitted contacts in ``states`` (those with a reference and a received time), in
        the order of ``list_by_state``, reading only the summary's columns."""
        ...

    async def children_born_on(
        self, dates: Collection[date], received_since: datetime, states: Sequence[ContactState]
    ) -> list[ChildOnContact]:
        """Each child born on one of ``dates`` in a submitted contact in ``states`` received at or
        after ``received_since`` (an indexed read: a submission must not load every contact)."""
        ...

    async def drafts_of(self, user_id: str) -> list[Contact]:
        """``user_id``'s drafts, and their urgent contacts still being completed (a
        ``draft_section`` is set), in the order they were created."""
        ...

    async def closed_before(self, cutoff: datetime) -> list[Contact]:
        """Closed contacts whose latest closing event (``to_state`` closed) is at or before
        ``cutoff`` and whose personal data has not been removed yet (no ``personal_data_removed``
        event), in the order they were created (what retention looks at): a note recorded after
        closing does not restart the count, and a contact done is not read again every night."""
        ...

    async def assigned_to(self, user_id: str, states: Sequence[ContactState]) -> list[Contact]:
        """Contacts in ``states`` whose assignee is ``user_id``, in the order they were created."""
        ...

    async def lock_worker(self, worker_id: str) -> None:
        """Hold ``worker_id``'s caseload until the unit of work ends: another unit of work calling
        this for the same worker waits, so counting their open contacts and allocating one more
        cannot interleave with another allocation (the caseload cap). It counts as a write."""
        ...


class RoleDirectory(Protocol):
    async def roles_of(self, aad_object_id: str) -> frozenset[Role]: ...

    async def grant(self, aad_object_id: str, role: Role) -> bool:
        """Grant a role; False when the person already held it."""
        ...

    async def revoke(self, aad_object_id: str, role: Role) -> bool:
        """Revoke a role; False when the person did not hold it."""
        ...

    async def entries(self) -> list[DirectoryEntry]: ...

    async def holders(self, role: Role) -> list[DirectoryEntry]: ...

    async def set_display_name(self, aad_object_id: str, name: str) -> None:
        """Remember a staff member's Teams display name (for @mentions) if they are listed."""
        ...

    async def set_team(self, aad_object_id: str, team: str) -> bool:
        """Record the team a listed person works in ("" for none); False when they are not in the
        directory (nothing is recorded then)."""
        ...

    async def named_roles(self, aad_object_id: str, name: str) -> frozenset[Role]:
        """``set_display_name`` and ``roles_of`` at once (one statement): what every turn does."""
        ...


class DutyRota(Protocol):
    async def set(self, entry: RotaEntry) -> None:
        """Put a person on duty in a role for a day (several people may share a role)."""
        ...

    async def remove(self, entry: RotaEntry) -> bool: ...

    async def on(self, day: date) -> list[RotaEntry]: ...


class ConversationStore(Protocol):
    async def upsert(self, record: ConversationRecord, *, keep_service_url: bool = False) -> bool:
        """Insert or update; an update from a live activity clears a dead mark. With
        ``keep_service_url``, a known conversation stored with another service URL is left as it is
        and False is returned (in the same statement: no read before the write)."""
        ...

    async def get(self, conversation_id: str) -> ConversationRecord | None: ...

    async def personal_chat_of(self, user_id: str) -> ConversationRecord | None: ...

    async def personal_chats_of(self, user_ids: Collection[str]) -> dict[str, ConversationRecord]:
        """``personal_chat_of`` for many people in one read: those with a chat, by user id."""
        ...

    async def mark_dead(self, conversation_id: str, reason: str) -> None: ...

    async def dead(self) -> list[ConversationRecord]: ...


class ChannelRegistry(Protocol):
    async def register(self, registration: ChannelRegistration) -> ChannelRegistration | None:
        """Make a conversation the channel for a purpose; returns the registration it replaced."""
        ...

    async def get(self, purpose: ChannelPurpose) -> ChannelRegistration | None: ...


class DeadlineRepository(Protocol):
    async def add(self, deadline: Deadline) -> Deadline: ...

    async def for_subject(self, subject: str) -> list[Deadline]: ...

    async def open_due_before(
        self, moment: datetime, limit: int | None = 100, *, clock: ClockKind | None = None
    ) -> list[Deadline]:
        """The open deadlines (of ``clock``, or any) due at or before ``moment``, soonest first;
        all of them when ``limit`` is None."""
        ...

    async def alerts_due_by(self, moment: datetime) -> list[Deadline]:
        """The open deadlines whose next alert (``set_next_alerts``) is due at or before
        ``moment``, soonest due first. A deadline is added with its next alert at its start."""
        ...

    async def set_next_alerts(self, next_alerts: Mapping[int, datetime | None]) -> None:
        """Record when each deadline (by id) may next alert; None: not automatically again."""
        ...

    async def open_for_subjects(self, subjects: Sequence[str]) -> list[Deadline]:
        """The open deadlines of any of ``subjects``, soonest first."""
        ...

    async def open_for_assignee(self, assignee_id: str) -> list[Deadline]:
        """The open deadlines assigned to ``assignee_id``, soonest first."""
        ...

    async def close(
        self, subject: str, clock: str, state: str, closed_at: datetime, *, closed_by: str
    ) -> int:
        """Close the open deadlines of ``subject`` on ``clock`` at ``closed_at`` by ``closed_by`` (the
        actor whose action closed them, recorded on each); returns how many.

        Closing is honest (SPEC §3): a row closed by its due time gets ``state`` (met, or cancelled
        when it stopped mattering); a row whose due time is before ``closed_at`` is recorded as late
        instead, never as met and never as cancelled. Closing as late is late.
        """
        ...

    async def reassign(self, subject: str, clock: str, assignee_id: str | None) -> int:
        """Give the open deadlines of ``subject`` on ``clock`` to ``assignee_id`` (None: the
        consultants on duty); returns how many. The rows keep their id, times and late reason."""
        ...

    async def set_late_reason(self, deadline_id: int, reason: LateReason) -> None:
        """Record why the deadline ``deadline_id`` ran late (the last recorded wins)."""
        ...


class AuditLog(Protocol):
    async def append(self, event: AuditEvent) -> StoredAuditEvent: ...

    async def between(self, start: datetime, end: datetime) -> list[StoredAuditEvent]: ...

    async def for_subject(self, subject: str) -> list[StoredAuditEvent]: ...


class ProcessedActivities(Protocol):
    """Inbound activity keys already handled, so a channel's retry is acted on once."""

    async def claim(self, key: str, at: datetime) -> bool:
        """Record ``key`` as handled at ``at``; False when it was recorded already."""
        ...

    async def release(self, key: str) -> None:
        """Forget ``key`` (its turn failed, so a retry must be handled)."""
        ...

    async def prune(self, before: datetime) -> int:
        """Forget keys recorded before ``before``; returns how many."""
        ...
