"""``InMemoryStore``: the ports of ``frontdoor.ports`` in plain Python, for fast tests.

It passes the same contract suite as the SQL store (``tests/store``). Transactions work like the
SQL store's on SQLite: reads before a unit of work's first write see the committed data; the first
write takes the store's writer lock and a private copy of the committed data; ``commit`` publishes
the copy and releases the lock, ``rollback`` (or leaving the ``async with`` block) drops it. So
others see changes only after commit, and writers never lose each other's updates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Self

from frontdoor.agencies import (
    Agency,
    Answer,
    BodyRequest,
    BodyRequestRepository,
    Closure,
    MappaInvitation,
    MaracAction,
    MaracCase,
    MaracRepository,
    MaracRequest,
    MashEpisode,
    MashRepository,
    Response,
    TriageDecision,
    TriageIncident,
    TriageRepository,
)
from frontdoor.alerts import AlertOutbox
from frontdoor.consultation import Consultation, ConsultationRepository
from frontdoor.contact import ChildOnContact, Contact, ContactState, ContactSummary
from frontdoor.figures_records import FiguresQueries
from frontdoor.mail_records import MailboxMark, MailItem, MailRepository, MailState
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
    LateReason,
    RotaEntry,
    StoredAuditEvent,
)
from frontdoor.retention import PERSONAL_DATA_REMOVED
from frontdoor.roles import Role
from store import chain
from tests.fake_figures import FakeFigures
from tests.outbox_fake import InMemoryAlertOutbox

#: How long a writer waits for another unit of work's uncommitted writes, in seconds.
WRITE_LOCK_TIMEOUT = 10.0


def _utc(moment: datetime) -> datetime:
    """The SQL store refuses naive datetimes and returns UTC; so does the fake."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime refused: store timezone-aware datetimes only")
    return moment.astimezone(UTC)


def _utc_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else _utc(moment)


def _normal_contact(contact: Contact) -> Contact:
    return replace(
        contact,
        created_at=_utc(contact.created_at),
        received_at=_utc_or_none(contact.received_at),
        events=tuple(replace(event, at=_utc(event.at)) for event in contact.events),
    )


@dataclass
class _Data:
    """Everything the store holds. Values are frozen, so copying the containers copies the data."""

    contacts: dict[str, Contact] = field(default_factory=dict)
    sequences: dict[tuple[str, int], int] = field(default_factory=dict)
    roles: dict[str, frozenset[Role]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    teams: dict[str, str] = field(default_factory=dict)
    rota: set[RotaEntry] = field(default_factory=set)
    conversations: dict[str, ConversationRecord] = field(default_factory=dict)
    channels: dict[ChannelPurpose, ChannelRegistration] = field(default_factory=dict)
    deadlines: dict[int, Deadline] = field(default_factory=dict)
    next_deadline_id: int = 1
    next_alerts: dict[int, datetime | None] = field(default_factory=dict)
    audit: list[StoredAuditEvent] = field(default_factory=list)
    consultations: dict[str, Consultation] = field(default_factory=dict)
    processed: dict[str, datetime] = field(default_factory=dict)
    mail: dict[str, MailItem] = field(default_factory=dict)
    mailbox_marks: dict[str, MailboxMark] = field(default_factory=dict)
    agencies: dict[str, Agency] = field(default_factory=dict)
    episodes: dict[str, MashEpisode] = field(default_factory=dict)
    incidents: dict[str, TriageIncident] = field(default_factory=dict)
    body_requests: dict[str, BodyRequest] = field(default_factory=dict)
    marac_cases: dict[str, MaracCase] = field(default_factory=dict)
    mappa: dict[str, MappaInvitation] = field(default_factory=dict)

    def copy(self) -> _Data:
        return _Data(
            contacts=dict(self.contacts),
            sequences=dict(self.sequences),
            roles=dict(self.roles),
            names=dict(self.names),
            teams=dict(self.teams),
            rota=set(self.rota),
            conversations=dict(self.conversations),
            channels=dict(self.channels),
            deadlines=dict(self.deadlines),
            next_deadline_id=self.next_deadline_id,
            next_alerts=dict(self.next_alerts),
            audit=list(self.audit),
            consultations=dict(self.consultations),
            processed=dict(self.processed),
            mail=dict(self.mail),
            mailbox_marks=dict(self.mailbox_marks),
            agencies=dict(self.agencies),
            episodes=dict(self.episodes),
            incidents=dict(self.incidents),
            body_requests=dict(self.body_requests),
            marac_cases=dict(self.marac_cases),
            mappa=dict(self.mappa),
        )


class InMemoryStore:
    """A ``frontdoor.ports.Store`` in memory."""

    def __init__(self) -> None:
        self.committed = _Data()
        self.outbox = InMemoryAlertOutbox()
        self.writer = asyncio.Lock()
        self.closed = False

    def unit_of_work(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self)

    async def ping(self) -> bool:
        return not self.closed

    async def close(self) -> None:
        self.closed = True


class InMemoryUnitOfWork:
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self._working: _Data | None = None
        self.contacts: ContactRepository = _Contacts(self)
        self.references: ReferenceSequence = _References(self)
        self.roles: RoleDirectory = _Roles(self)
        self.rota: DutyRota = _Rota(self)
        self.conversations: ConversationStore = _Conversations(self)
        self.channels: ChannelRegistry = _Channels(self)
        self.deadlines: DeadlineRepository = _Deadlines(self)
        self.audit: AuditLog = _Audit(self)
        self.consultations: ConsultationRepository = _Consultations(self)
        self.activities: ProcessedActivities = _Processed(self)
        self.mash: MashRepository = _Mash(self)
        self.triage: TriageRepository = _Triage(self)
        self.body_requests: BodyRequestRepository = _BodyRequests(self)
        self.marac: MaracRepository = _Marac(self)
        # Not transactional (see tests/outbox_fake.py): one outbox per store, shared by its units.
        self.alerts: AlertOutbox = store.outbox
        self.figures: FiguresQueries = FakeFigures(self.view)
        self.mail: MailRepository = _Mail(self)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.rollback()

    async def commit(self) -> None:
        if self._working is not None:
            self._store.committed = self._working
            self._release()

    async def rollback(self) -> None:
        if self._working is not None:
            self._release()

    def _release(self) -> None:
        self._working = None
        self._store.writer.release()

    def view(self) -> _Data:
        """What this unit of work reads: its own copy once it has written, else the committed data."""
        return self._working if self._working is not None else self._store.committed

    async def write(self) -> _Data:
        """The data to change, taking the writer lock first."""
        if self._working is None:
            async with asyncio.timeout(WRITE_LOCK_TIMEOUT):
                await self._store.writer.acquire()
            self._working = self._store.committed.copy()
        return self._working


class _Repository:
    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        self._uow = uow


class _Contacts(_Repository):
    async def add(self, contact: Contact) -> None:
        contact = _normal_contact(contact)
        data = await self._uow.write()
        if contact.id in data.contacts:
            raise ValueError(f"contact {contact.id} exists")
        if contact.reference is not None and any(
            c.reference == contact.reference for c in data.contacts.values()
        ):
            raise ValueError(f"reference {contact.reference} is taken")
        data.contacts[contact.id] = contact

    async def get(self, contact_id: str) -> Contact | None:
        return self._uow.view().contacts.get(contact_id)

    async def get_by_reference(self, reference: str) -> Contact | None:
        return next((c for c in self._uow.view().contacts.values() if c.reference == reference), None)

    async def save(self, contact: Contact, expected_version: int) -> Contact:
        contact = _normal_contact(contact)
        data = await self._uow.write()
        stored = data.contacts.get(contact.id)
        if stored is None:
            raise NotFoundError(f"no contact {contact.id}")
        if stored.version != expected_version:
            raise StaleVersionError(f"contact {contact.id} is no longer at version {expected_version}")
        saved = replace(contact, version=expected_version + 1)
        data.contacts[contact.id] = saved
        return saved

    async def delete(self, contact_id: str) -> None:
        data = await self._uow.write()
        data.contacts.pop(contact_id, None)

    async def list_by_state(self, states: Sequence[ContactState]) -> list[Contact]:
        wanted = set(states)
        return _ordered(c for c in self._uow.view().contacts.values() if c.state in wanted)

    async def summaries(self, states: Sequence[ContactState]) -> list[ContactSummary]:
        return [
            ContactSummary(
                c.reference, c.state, c.received_at, c.assignee_id, c.urgent and not c.history.recorded
            )
            for c in await self.list_by_state(states)
            if c.reference is not None and c.received_at is not None
        ]

    async def children_born_on(
        self, dates: Collection[date], received_since: datetime, states: Sequence[ContactState]
    ) -> list[ChildOnContact]:
        found = [
            (c, position, ChildOnContact(c.id, c.reference, c.received_at, child.name, child.date_of_birth))
            for c in await self.list_by_state(states)
            if c.reference is not None and c.received_at is not None and c.received_at >= received_since
            for position, child in enumerate(c.children)
            if child.date_of_birth is not None and child.date_of_birth in dates
        ]
        found.sort(key=lambda item: (item[2].received_at, item[0].id, item[1]))
        return [child for _, _, child in found]

    async def closed_before(self, cutoff: datetime) -> list[Contact]:
        return _ordered(
            c
            for c in self._uow.view().contacts.values()
            if c.state is ContactState.CLOSED
            and (closed := _closed_at(c)) is not None
            and closed <= cutoff
            and not any(e.action == PERSONAL_DATA_REMOVED for e in c.events)
        )

    async def drafts_of(self, user_id: str) -> list[Contact]:
        return _ordered(
            c
            for c in self._uow.view().contacts.values()
            if (c.state is ContactState.DRAFT or c.draft_section) and c.created_by == user_id
        )

    async def assigned_to(self, user_id: str, states: Sequence[ContactState]) -> list[Contact]:
        wanted = set(states)
        return _ordered(
            c for c in self._uow.view().contacts.values() if c.assignee_id == user_id and c.state in wanted
        )

    async def lock_worker(self, worker_id: str) -> None:
        # The fake's writer lock serialises every writer, so it covers each worker's caseload.
        await self._uow.write()


def _closed_at(contact: Contact) -> datetime | None:
    """When ``contact`` was last closed (its latest event moving it to closed)."""
    return max((e.at for e in contact.events if e.to_state is ContactState.CLOSED), default=None)


def _ordered(contacts: Iterable[Contact]) -> list[Contact]:
    return sorted(contacts, key=lambda c: (c.created_at, c.id))


class _References(_Repository):
    async def allocate(self, prefix: str, year: int) -> int:
        if not prefix or len(prefix) > 8 or year < 0:
            raise ValueError(f"bad reference sequence {prefix!r} {year}")
        data = await self._uow.write()
        value = data.sequences.get((prefix, year), 0) + 1
        data.sequences[(prefix, year)] = value
        return value


class _Roles(_Repository):
    async def roles_of(self, aad_object_id: str) -> frozenset[Role]:
        return self._uow.view().roles.get(aad_object_id, frozenset())

    async def grant(self, aad_object_id: str, role: Role) -> bool:
        data = await self._uow.write()
        held = data.roles.get(aad_object_id, frozenset())
        if role in held:
            return False
        data.roles[aad_object_id] = held | {role}
        data.names.setdefault(aad_object_id, "")
        return True

    async def revoke(self, aad_object_id: str, role: Role) -> bool:
        data = await self._uow.write()
        held = data.roles.get(aad_object_id, frozenset())
        if role not in held:
            return False
        if held == {role}:
            del data.roles[aad_object_id]
            data.names.pop(aad_object_id, None)
        else:
            data.roles[aad_object_id] = held - {role}
        return True

    async def entries(self) -> list[DirectoryEntry]:
        data = self._uow.view()
        return [
            DirectoryEntry(person, data.roles[person], data.names.get(person, ""), data.teams.get(person, ""))
            for person in sorted(data.roles)
        ]

    async def holders(self, role: Role) -> list[DirectoryEntry]:
        return [entry for entry in await self.entries() if role in entry.roles]

    async def set_display_name(self, aad_object_id: str, name: str) -> None:
        data = await self._uow.write()
        if aad_object_id in data.roles:
            data.names[aad_object_id] = name

    async def set_team(self, aad_object_id: str, team: str) -> bool:
        data = await self._uow.write()
        if aad_object_id not in data.roles:
            return False
        if team:
            data.teams[aad_object_id] = team
        else:
            data.teams.pop(aad_object_id, None)
        return True

    async def named_roles(self, aad_object_id: str, name: str) -> frozenset[Role]:
        await self.set_display_name(aad_object_id, name)
        return await self.roles_of(aad_object_id)


class _Rota(_Repository):
    async def set(self, entry: RotaEntry) -> None:
        data = await self._uow.write()
        data.rota.add(entry)

    async def remove(self, entry: RotaEntry) -> bool:
        data = await self._uow.write()
        if entry not in data.rota:
            return False
        data.rota.remove(entry)
        return True

    async def on(self, day: date) -> list[RotaEntry]:
        entries = [entry for entry in self._uow.view().rota if entry.day == day]
        return sorted(entries, key=lambda entry: (entry.role.value, entry.person_id))


class _Conversations(_Repository):
    async def upsert(self, record: ConversationRecord, *, keep_service_url: bool = False) -> bool:
        record = replace(record, updated_at=_utc(record.updated_at))
        data = await self._uow.write()
        known = data.conversations.get(record.conversation_id)
        if keep_service_url and known is not None and known.service_url != record.service_url:
            return False
        data.conversations[record.conversation_id] = record
        return True

    async def get(self, conversation_id: str) -> ConversationRecord | None:
        return self._uow.view().conversations.get(conversation_id)

    async def personal_chat_of(self, user_id: str) -> ConversationRecord | None:
        chats = [
            record
            for record in self._uow.view().conversations.values()
            if record.user_id == user_id and record.kind is ConversationKind.PERSONAL
        ]
        chats.sort(key=lambda record: record.updated_at, reverse=True)
        chats.sort(key=lambda record: record.dead)
        return chats[0] if chats else None

    async def personal_chats_of(self, user_ids: Collection[str]) -> dict[str, ConversationRecord]:
        chats = {user_id: await self.personal_chat_of(user_id) for user_id in user_ids}
        return {user_id: record for user_id, record in chats.items() if record is not None}

    async def mark_dead(self, conversation_id: str, reason: str) -> None:
        data = await self._uow.write()
        record = data.conversations.get(conversation_id)
        if record is not None:
            data.conversations[conversation_id] = replace(record, dead=True, dead_reason=reason)

    async def dead(self) -> list[ConversationRecord]:
        records = [record for record in self._uow.view().conversations.values() if record.dead]
        return sorted(records, key=lambda record: record.conversation_id)


class _Channels(_Repository):
    async def register(self, registration: ChannelRegistration) -> ChannelRegistration | None:
        registration = replace(registration, registered_at=_utc(registration.registered_at))
        data = await self._uow.write()
        previous = data.channels.get(registration.purpose)
        data.channels[registration.purpose] = registration
        return previous

    async def get(self, purpose: ChannelPurpose) -> ChannelRegistration | None:
        return self._uow.view().channels.get(purpose)


class _Deadlines(_Repository):
    async def add(self, deadline: Deadline) -> Deadline:
        deadline = replace(deadline, started_at=_utc(deadline.started_at), due_at=_utc(deadline.due_at))
        data = await self._uow.write()
        stored = replace(deadline, id=data.next_deadline_id)
        data.next_deadline_id += 1
        data.deadlines[data.next_deadline_id - 1] = stored
        data.next_alerts[data.next_deadline_id - 1] = (
            stored.started_at if stored.state is DeadlineState.OPEN else None
        )
        return stored

    async def for_subject(self, subject: str) -> list[Deadline]:
        found = [d for d in self._uow.view().deadlines.values() if d.subject == subject]
        return sorted(found, key=lambda d: (d.due_at, d.id or 0))

    async def open_due_before(
        self, moment: datetime, limit: int | None = 100, *, clock: ClockKind | None = None
    ) -> list[Deadline]:
        moment = _utc(moment)
        found = [
            d
            for d in self._uow.view().deadlines.values()
            if d.state is DeadlineState.OPEN and d.due_at <= moment and clock in (None, d.clock)
        ]
        return sorted(found, key=lambda d: (d.due_at, d.id or 0))[:limit]

    async def alerts_due_by(self, moment: datetime) -> list[Deadline]:
        moment = _utc(moment)
        data = self._uow.view()
        due = {key for key, at in data.next_alerts.items() if at is not None and at <= moment}
        found = [d for key, d in data.deadlines.items() if d.state is DeadlineState.OPEN and key in due]
        return sorted(found, key=lambda d: (d.due_at, d.id or 0))

    async def set_next_alerts(self, next_alerts: Mapping[int, datetime | None]) -> None:
        data = await self._uow.write()
        for key, moment in next_alerts.items():
            if key in data.deadlines:
                data.next_alerts[key] = None if moment is None else _utc(moment)

    async def open_for_subjects(self, subjects: Sequence[str]) -> list[Deadline]:
        wanted = set(subjects)
        found = [
            d
            for d in self._uow.view().deadlines.values()
            if d.state is DeadlineState.OPEN and d.subject in wanted
        ]
        return sorted(found, key=lambda d: (d.due_at, d.id or 0))

    async def open_for_assignee(self, assignee_id: str) -> list[Deadline]:
        found = [
            d
            for d in self._uow.view().deadlines.values()
            if d.state is DeadlineState.OPEN and d.assignee_id == assignee_id
        ]
        return sorted(found, key=lambda d: (d.due_at, d.id or 0))

    async def close(
        self, subject: str, clock: str, state: str, closed_at: datetime, *, closed_by: str
    ) -> int:
        kind, closing, closed_at = ClockKind(clock), DeadlineState(state), _utc(closed_at)
        data = await self._uow.write()
        closed = 0
        for key, deadline in data.deadlines.items():
            if (
                deadline.subject == subject
                and deadline.clock is kind
                and deadline.state is DeadlineState.OPEN
            ):
                new_state = DeadlineState.LATE if deadline.due_at < closed_at else closing
                data.deadlines[key] = replace(
                    deadline, state=new_state, closed_at=closed_at, closed_by=closed_by
                )
                data.next_alerts[key] = None
                closed += 1
        return closed

    async def reassign(self, subject: str, clock: str, assignee_id: str | None) -> int:
        kind = ClockKind(clock)
        data = await self._uow.write()
        moving = [
            key
            for key, d in data.deadlines.items()
            if d.subject == subject and d.clock is kind and d.state is DeadlineState.OPEN
        ]
        for key in moving:
            data.deadlines[key] = replace(data.deadlines[key], assignee_id=assignee_id)
        return len(moving)

    async def set_late_reason(self, deadline_id: int, reason: LateReason) -> None:
        data = await self._uow.write()
        if deadline_id in data.deadlines:
            data.deadlines[deadline_id] = replace(data.deadlines[deadline_id], late_reason=reason)


class _Audit(_Repository):
    async def append(self, event: AuditEvent) -> StoredAuditEvent:
        event = replace(event, at=_utc(event.at))
        data = await self._uow.write()
        prev_hash = data.audit[-1].row_hash if data.audit else chain.GENESIS_HASH
        seq = data.audit[-1].seq + 1 if data.audit else 1
        stored = StoredAuditEvent(
            seq=seq, event=event, prev_hash=prev_hash, row_hash=chain.row_hash(prev_hash, event)
        )
        data.audit.append(stored)
        return stored

    async def between(self, start: datetime, end: datetime) -> list[StoredAuditEvent]:
        start, end = _utc(start), _utc(end)
        return [stored for stored in self._uow.view().audit if start <= stored.event.at < end]

    async def for_subject(self, subject: str) -> list[StoredAuditEvent]:
        return [stored for stored in self._uow.view().audit if stored.event.subject == subject]


class _Consultations(_Repository):
    async def add(self, consultation: Consultation) -> None:
        consultation = replace(consultation, created_at=_utc(consultation.created_at))
        data = await self._uow.write()
        if consultation.reference in data.consultations or any(
            c.id == consultation.id
            or (
                consultation.form_id is not None
                and (c.author_id, c.form_id) == (consultation.author_id, consultation.form_id)
            )
            for c in data.consultations.values()
        ):
            raise ValueError(f"consultation {consultation.reference} clashes with a stored one")
        data.consultations[consultation.reference] = consultation

    async def get_by_reference(self, reference: str) -> Consultation | None:
        return self._uow.view().consultations.get(reference)

    async def list_between(self, start: datetime, end: datetime) -> list[Consultation]:
        start, end = _utc(start), _utc(end)
        return _by_age(c for c in self._uow.view().consultations.values() if start <= c.created_at < end)

    async def delete_older_than(self, cutoff: datetime) -> list[str]:
        cutoff = _utc(cutoff)
        data = await self._uow.write()
        old = sorted(ref for ref, c in data.consultations.items() if c.created_at < cutoff)
        for ref in old:
            del data.consultations[ref]
        return old

    async def link(self, reference: str, contact_reference: str) -> None:
        data = await self._uow.write()
        stored = data.consultations.get(reference)
        if stored is None:
            raise NotFoundError(f"no consultation {reference}")
        data.consultations[reference] = replace(stored, linked_contact_reference=contact_reference)

    async def linked_to(self, contact_reference: str) -> list[Consultation]:
        return _by_age(
            c
            for c in self._uow.view().consultations.values()
            if c.linked_contact_reference == contact_reference
        )

    async def from_form(self, author_id: str, form_id: str) -> Consultation | None:
        return next(
            (
                c
                for c in self._uow.view().consultations.values()
                if (c.author_id, c.form_id) == (author_id, form_id)
            ),
            None,
        )

    async def latest_own(self, author_id: str) -> Consultation | None:
        own = [
            c for c in self._uow.view().consultations.values() if c.author_id == author_id and not c.on_behalf
        ]
        return max(own, key=lambda c: (c.created_at, c.reference), default=None)


def _mail_order(items: Iterable[MailItem]) -> list[MailItem]:
    return sorted(items, key=lambda item: (item.received_at, item.uid))


class _Mail(_Repository):
    async def add(self, item: MailItem) -> bool:
        item = replace(item, received_at=_utc(item.received_at))
        data = await self._uow.write()
        slot = (item.mailbox, item.uid_validity, item.uid)
        if any(
            other.id == item.id
            or other.message_id == item.message_id
            or (other.mailbox, other.uid_validity, other.uid) == slot
            for other in data.mail.values()
        ):
            return False
        data.mail[item.id] = item
        return True

    async def get(self, item_id: str) -> MailItem | None:
        return self._uow.view().mail.get(item_id)

    async def waiting(self) -> list[MailItem]:
        return _mail_order(i for i in self._uow.view().mail.values() if i.state is MailState.WAITING)

    async def taken_by(self, user_id: str) -> list[MailItem]:
        return _mail_order(
            i for i in self._uow.view().mail.values() if i.taken_by == user_id and i.state is MailState.TAKEN
        )

    async def last_uid(self, mailbox: str, uid_validity: int) -> int:
        uids = [
            i.uid
            for i in self._uow.view().mail.values()
            if (i.mailbox, i.uid_validity) == (mailbox, uid_validity)
        ]
        return max(uids, default=0)

    async def save(self, item: MailItem, expected_version: int) -> MailItem:
        data = await self._uow.write()
        stored = data.mail.get(item.id)
        if stored is None:
            raise NotFoundError(f"no e-mail {item.id}")
        if stored.version != expected_version:
            raise StaleVersionError(f"e-mail {item.id} is no longer at version {expected_version}")
        saved = replace(
            item,
            version=expected_version + 1,
            taken_at=_utc_or_none(item.taken_at),
            closed_at=_utc_or_none(item.closed_at),
        )
        data.mail[item.id] = saved
        return saved

    async def for_contact(self, contact_id: str) -> MailItem | None:
        found = _mail_order(i for i in self._uow.view().mail.values() if i.contact_id == contact_id)
        return found[0] if found else None

    async def received_before(self, cutoff: datetime) -> list[MailItem]:
        return _mail_order(i for i in self._uow.view().mail.values() if i.received_at < cutoff)

    async def delete(self, item_id: str) -> None:
        (await self._uow.write()).mail.pop(item_id, None)

    async def mark(self, mailbox: str) -> MailboxMark | None:
        return self._uow.view().mailbox_marks.get(mailbox)

    async def set_mark(self, mark: MailboxMark) -> None:
        (await self._uow.write()).mailbox_marks[mark.mailbox] = replace(
            mark, passed_over_before=_utc(mark.passed_over_before), read_at=_utc(mark.read_at)
        )


class _Mash(_Repository):
    async def set_agency(self, person_id: str, agency: Agency | None) -> None:
        data = await self._uow.write()
        if agency is None:
            data.agencies.pop(person_id, None)
        else:
            data.agencies[person_id] = agency

    async def agency_of(self, person_id: str) -> Agency | None:
        return self._uow.view().agencies.get(person_id)

    async def partners(self) -> list[tuple[str, Agency]]:
        return sorted(self._uow.view().agencies.items())

    async def add(self, episode: MashEpisode) -> None:
        data = await self._uow.write()
        if episode.reference in data.episodes:
            raise ValueError(f"MASH episode {episode.reference} exists")
        if episode.form_id is not None and any(e.form_id == episode.form_id for e in data.episodes.values()):
            raise ValueError(f"a MASH episode from the card {episode.form_id} exists")
        data.episodes[episode.reference] = episode

    async def get(self, reference: str) -> MashEpisode | None:
        return self._uow.view().episodes.get(reference)

    async def answer(self, reference: str, agency: Agency, answer: Answer) -> bool:
        data = await self._uow.write()
        episode = data.episodes.get(reference)
        request = episode.request_for(agency) if episode is not None else None
        if episode is None or episode.closed or request is None or request.answered:
            return False
        data.episodes[reference] = episode.with_request(replace(request, answer=answer))
        return True

    async def close(self, reference: str, closure: Closure) -> bool:
        data = await self._uow.write()
        episode = data.episodes.get(reference)
        if episode is None or episode.closed:
            return False
        data.episodes[reference] = replace(episode, closure=closure)
        return True

    async def of_contact(self, contact_reference: str) -> list[MashEpisode]:
        found = [e for e in self._uow.view().episodes.values() if e.contact_reference == contact_reference]
        return sorted(found, key=lambda e: (e.opened_at, e.reference))

    async def delete_closed_before(self, cutoff: datetime) -> list[str]:
        data = await self._uow.write()
        old = sorted(r for r, e in data.episodes.items() if e.closure is not None and e.closure.at < cutoff)
        for reference in old:
            del data.episodes[reference]
        return old


class _Triage(_Repository):
    async def add(self, incident: TriageIncident) -> None:
        data = await self._uow.write()
        if incident.id in data.incidents:
            raise ValueError(f"incident {incident.id} exists")
        data.incidents[incident.id] = replace(incident, recorded_at=_utc(incident.recorded_at))

    async def get(self, incident_id: str) -> TriageIncident | None:
        return self._uow.view().incidents.get(incident_id)

    async def on(self, day: date) -> list[TriageIncident]:
        found = [i for i in self._uow.view().incidents.values() if i.day == day]
        return sorted(found, key=lambda i: (i.recorded_at, i.id))

    async def decide(self, incident_id: str, decision: TriageDecision) -> bool:
        data = await self._uow.write()
        incident = data.incidents.get(incident_id)
        if incident is None or incident.decision is not None:
            return False
        data.incidents[incident_id] = replace(incident, decision=replace(decision, at=_utc(decision.at)))
        return True

    async def name_contact(self, incident_id: str, contact_reference: str) -> None:
        data = await self._uow.write()
        incident = data.incidents[incident_id]
        assert incident.decision is not None, "the outcome is recorded before its contact is named"
        named = replace(incident.decision, contact_reference=contact_reference)
        data.incidents[incident_id] = replace(incident, decision=named)

    async def delete_recorded_before(self, cutoff: datetime) -> list[str]:
        data = await self._uow.write()
        old = [i for i in data.incidents.values() if i.recorded_at < cutoff]
        for incident in old:
            del data.incidents[incident.id]
        return sorted(i.police_reference for i in old)


class _BodyRequests(_Repository):
    async def add(self, request: BodyRequest) -> None:
        data = await self._uow.write()
        if request.reference in data.body_requests:
            raise ValueError(f"information request {request.reference} exists")
        if request.form_id is not None and any(
            r.form_id == request.form_id for r in data.body_requests.values()
        ):
            raise ValueError(f"an information request from the card {request.form_id} exists")
        data.body_requests[request.reference] = replace(
            request, due_at=_utc(request.due_at), logged_at=_utc(request.logged_at)
        )

    async def get(self, reference: str) -> BodyRequest | None:
        return self._uow.view().body_requests.get(reference)

    async def from_form(self, form_id: str) -> BodyRequest | None:
        return next((r for r in self._uow.view().body_requests.values() if r.form_id == form_id), None)

    async def respond(self, reference: str, response: Response) -> bool:
        data = await self._uow.write()
        request = data.body_requests.get(reference)
        if request is None or request.response is not None:
            return False
        data.body_requests[reference] = replace(request, response=replace(response, at=_utc(response.at)))
        return True

    async def delete_responded_before(self, cutoff: datetime) -> list[str]:
        data = await self._uow.write()
        old = sorted(
            r for r, q in data.body_requests.items() if q.response is not None and q.response.at < cutoff
        )
        for reference in old:
            del data.body_requests[reference]
        return old


class _Marac(_Repository):
    async def add_case(self, case: MaracCase) -> None:
        data = await self._uow.write()
        data.marac_cases[case.id] = replace(case, recorded_at=_utc(case.recorded_at), requests=(), actions=())

    async def cases_on(self, day: date) -> list[MaracCase]:
        found = [c for c in self._uow.view().marac_cases.values() if c.meeting_day == day]
        return sorted(found, key=lambda c: (c.recorded_at, c.id))

    async def get_case(self, case_id: str) -> MaracCase | None:
        return self._uow.view().marac_cases.get(case_id)

    async def add_request(self, request: MaracRequest) -> bool:
        data = await self._uow.write()
        if request.form_id is not None and any(
            r.form_id == request.form_id for c in data.marac_cases.values() for r in c.requests
        ):
            return False
        case = data.marac_cases[request.case_id]
        requests = sorted(
            (*case.requests, replace(request, due_at=_utc(request.due_at))),
            key=lambda r: (r.child_name, r.id),
        )
        data.marac_cases[case.id] = replace(case, requests=tuple(requests))
        return True

    async def add_action(self, action: MaracAction) -> bool:
        data = await self._uow.write()
        if action.form_id is not None and any(
            a.form_id == action.form_id for c in data.marac_cases.values() for a in c.actions
        ):
            return False
        case = data.marac_cases[action.case_id]
        stored = replace(action, recorded_at=_utc(action.recorded_at))
        data.marac_cases[case.id] = replace(case, actions=(*case.actions, stored))
        return True

    async def get_request(self, request_id: str) -> MaracRequest | None:
        return next(
            (r for c in self._uow.view().marac_cases.values() for r in c.requests if r.id == request_id), None
        )

    async def answer(self, request_id: str, answer: Response) -> bool:
        data = await self._uow.write()
        for case in data.marac_cases.values():
            for request in case.requests:
                if request.id == request_id:
                    if request.answer is not None:
                        return False
                    answered = replace(request, answer=replace(answer, at=_utc(answer.at)))
                    requests = tuple(answered if r.id == request_id else r for r in case.requests)
                    data.marac_cases[case.id] = replace(case, requests=requests)
                    return True
        return False

    async def add_invitation(self, invitation: MappaInvitation) -> None:
        data = await self._uow.write()
        data.mappa[invitation.id] = replace(invitation, logged_at=_utc(invitation.logged_at))

    async def invitations_since(self, moment: datetime) -> list[MappaInvitation]:
        found = [i for i in self._uow.view().mappa.values() if i.logged_at >= moment]
        return sorted(found, key=lambda i: (i.logged_at, i.id))

    async def delete_before(self, day: date) -> list[str]:
        data = await self._uow.write()
        cases = [c for c in data.marac_cases.values() if c.meeting_day < day]
        invitations = [i for i in data.mappa.values() if i.meeting_day < day]
        for case in cases:
            del data.marac_cases[case.id]
        for invitation in invitations:
            del data.mappa[invitation.id]
        return sorted([c.case_reference for c in cases] + [i.mappa_reference for i in invitations])


def _by_age(consultations: Iterable[Consultation]) -> list[Consultation]:
    return sorted(consultations, key=lambda c: (c.created_at, c.reference))


class _Processed(_Repository):
    async def claim(self, key: str, at: datetime) -> bool:
        at = _utc(at)
        data = await self._uow.write()
        if key in data.processed:
            return False
        data.processed[key] = at
        return True

    async def release(self, key: str) -> None:
        data = await self._uow.write()
        data.processed.pop(key, None)

    async def prune(self, before: datetime) -> int:
        before = _utc(before)
        data = await self._uow.write()
        old = [key for key, at in data.processed.items() if at < before]
        for key in old:
            del data.processed[key]
        return len(old)
