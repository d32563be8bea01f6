"""``frontdoor.ports.ContactRepository`` over SQL: ``contacts`` with their children, parents and
events."""

from __future__ import annotations

import hashlib
from collections import OrderedDict, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Row, Select, Update, bindparam, delete, func, insert, or_, select, update

from frontdoor.contact import (
    Child,
    ChildOnContact,
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
from frontdoor.ports import NotFoundError, StaleVersionError
from frontdoor.retention import PERSONAL_DATA_REMOVED
from store.figures import latest_route
from store.repository import SqlRepository as _Repository
from store.repository import Transaction, table_of
from store.repository import Values as _Values
from store.tables import ContactChildRow, ContactEventRow, ContactParentRow, ContactRow

#: they never meet the one-key audit chain lock); the second key is a hash of the worker's id.
CASELOAD_LOCK = 0x66_64_63_6C  # "fdcl"

_Choice = TypeVar("_Choice", ContactState, Source, ContactType, Consent)
_Part = TypeVar("_Part", ContactChildRow, ContactParentRow, ContactEventRow)
#: a contact's parts, in the order ``_Parts.parts`` gives them
_PARTS: tuple[type[ContactChildRow | ContactParentRow | ContactEventRow], ...] = (
    ContactChildRow,
    ContactParentRow,
    ContactEventRow,
)
_CONTACTS = table_of(ContactRow)
# The statements of every script turn, built once with bound parameters: building one per call
# (with the values in it) costs more than running it, as SQLAlchemy walks every column and value to
# find its compiled form in the cache.
#: one contact's row, by id
_CONTACT_BY_ID = select(*_CONTACTS.columns).where(_CONTACTS.c.id == bindparam("contact_id"))
#: a person's drafts, and the contacts they submitted whose script is not finished
_DRAFTS_OF = (
    select(*_CONTACTS.columns)
    .where(
        or_(_CONTACTS.c.state == ContactState.DRAFT.value, _CONTACTS.c.draft_section != ""),
        _CONTACTS.c.created_by == bindparam("user_id"),
    )
    .order_by(_CONTACTS.c.created_at, _CONTACTS.c.id)
)
#: each part of one contact, in order
_PARTS_OF = {
    part: select(*table_of(part).columns)
    .where(table_of(part).c.contact_id == bindparam("contact_id"))
    .order_by(table_of(part).c.position)
    for part in _PARTS
}


@cache
def _save_statement(columns: tuple[str, ...]) -> Update:
    """A contact's save: ``columns`` (not the id), if the contact is still at the version it was
    read at (``_read_version``); built once for each set of columns (in practice one)."""
    return (
        update(_CONTACTS)
        .where(_CONTACTS.c.id == bindparam("_id"), _CONTACTS.c.version == bindparam("_read_version"))
        .values({name: bindparam(name) for name in columns})
        .returning(_CONTACTS.c.id)
    )


@dataclass(frozen=True, slots=True)
class _Parts:
    """A contact's children, parents and events at one version."""

    version: int
    children: tuple[Child, ...]
    parents: tuple[Parent, ...]
    events: tuple[ContactEvent, ...]

    @classmethod
    def of(cls, contact: Contact) -> _Parts:
        events = tuple(replace(event, at=event.at.astimezone(UTC)) for event in contact.events)
        return cls(contact.version, contact.children, contact.parents, events)

    def parts(self) -> tuple[object, ...]:
        return (self.children, self.parents, self.events)


class PartsCache:
    """Contacts' children, parents and events by contact id and version, kept by a store for all
    its units of work, the most recently used first.

    A contact's parts change only with its version (``save`` writes them under the version it
    bumps, and a version is committed once), so the parts of a version that was committed are the
    same for ever, in every process: a read of a contact reads its row, and its parts only when
    this version's are not kept. Entries come from units of work that committed, or that only
    read (committed data); a unit of work that wrote and rolled back adds none."""

    def __init__(self, size: int = 2048) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, int], _Parts] = OrderedDict()

    def get(self, contact_id: str, version: int) -> _Parts | None:
        found = self._entries.get((contact_id, version))
        if found is not None:
            self._entries.move_to_end((contact_id, version))
        return found

    def keep(self, parts: Mapping[str, _Parts]) -> None:
        for contact_id, kept in parts.items():
            self._entries[(contact_id, kept.version)] = kept
            self._entries.move_to_end((contact_id, kept.version))
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


#: a row of a table's columns (a core select), read by column name like the mapped row
_Columns = Row[*tuple[Any, ...]]


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
    row: ContactRow | _Columns,
    children: Sequence[ContactChildRow | _Columns],
    parents: Sequence[ContactParentRow | _Columns],
    events: Sequence[ContactEventRow | _Columns],
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
    def __init__(self, uow: Transaction, kept: PartsCache | None = None) -> None:
        super().__init__(uow)
        #: the parts of each contact as this unit of work loaded or saved them, by contact id
        self._parts_at: dict[str, _Parts] = {}
        self._kept = kept if kept is not None else PartsCache(0)
        #: the contacts whose parts go to the store's cache: those read one at a time or saved
        #: (a list of thousands, as the worklists read, would only push out the drafts being worked)
        self._keepable: set[str] = set()

    def keep_parts(self) -> None:
        """Hand the parts of the contacts this unit of work read one at a time or saved to the
        store's ``PartsCache``: called when it commits, or ends having only read."""
        self._kept.keep({cid: self._parts_at[cid] for cid in self._keepable if cid in self._parts_at})

    async def add(self, contact: Contact) -> None:
        await self._uow.begin_write()
        await self._session.execute(insert(table_of(ContactRow)).values(_contact_values(contact)))
        await self._insert_parts(contact, _PARTS)

    async def get(self, contact_id: str) -> Contact | None:
        result = await self._session.execute(_CONTACT_BY_ID, {"contact_id": contact_id})
        found = await self._assemble(result.all())
        return found[0] if found else None

    async def get_by_reference(self, reference: str) -> Contact | None:
        found = await self._load(select(ContactRow).where(ContactRow.reference == reference))
        return found[0] if found else None

    async def save(self, contact: Contact, expected_version: int) -> Contact:
        await self._uow.begin_write()
        values = _contact_values(contact)
        values["version"] = expected_version + 1
        contact_id = values.pop("id")
        statement = _save_statement(tuple(values))
        parameters = {**values, "_id": contact_id, "_read_version": expected_version}
        if (await self._session.execute(statement, parameters)).first() is None:
            exists = await self._session.execute(select(ContactRow.id).where(ContactRow.id == contact.id))
            if exists.first() is None:
                raise NotFoundError(f"no contact {contact.id}")
            raise StaleVersionError(f"contact {contact.id} is no longer at version {expected_version}")
        # Each part is rewritten only if it changed since this unit of work read it at the version
        # the update just replaced: every write of a part bumps the version, so the rows are then
        # exactly what was read. A script card changes one part at most, often none.
        known = self._parts_at.get(contact.id)
        now = _Parts.of(contact)
        appended = 0
        if known is None or known.version != expected_version:
            changed = list(_PARTS)
        else:
            pairs = zip(_PARTS, known.parts(), now.parts(), strict=True)
            changed = [part for part, was, is_now in pairs if was != is_now]
            # A history only grows: when the events read are the first ones now, only the new
            # ones are written (a decision adds one event to a history of any length).
            if ContactEventRow in changed and now.events[: len(known.events)] == known.events:
                appended = len(known.events)
        for part in changed:
            if part is ContactEventRow and appended:
                continue
            await self._session.execute(
                delete(part).where(part.contact_id == contact.id).execution_options(synchronize_session=False)
            )
        await self._insert_parts(contact, changed, events_from=appended)
        self._parts_at[contact.id] = replace(now, version=expected_version + 1)
        self._keepable.add(contact.id)
        return replace(_in_utc(contact), version=expected_version + 1)

    async def delete(self, contact_id: str) -> None:
        await self._uow.begin_write()
        self._parts_at.pop(contact_id, None)
        self._keepable.discard(contact_id)
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
        columns = (
            ContactRow.reference,
            ContactRow.state,
            ContactRow.received_at,
            ContactRow.assignee_id,
            ContactRow.immediate_risks,
            ContactRow.history_systems_checked,
        )
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
            # urgent (an immediate risk) and no system checked yet: ``Contact.history.recorded``
            ContactSummary(
                reference, ContactState(state), received_at, assignee_id, bool(risks) and not systems
            )
            for reference, state, received_at, assignee_id, risks, systems in result.all()
            if reference is not None and received_at is not None  # the query's own filter, for the types
        ]

    async def children_born_on(
        self, dates: Collection[date], received_since: datetime, states: Sequence[ContactState]
    ) -> list[ChildOnContact]:
        if not dates or not states:
            return []
        child = ContactChildRow
        result = await self._session.execute(
            select(
                ContactRow.id, ContactRow.reference, ContactRow.received_at, child.name, child.date_of_birth
            )
            .join(child, child.contact_id == ContactRow.id)
            .where(
                child.date_of_birth.in_(sorted(set(dates))),
                ContactRow.received_at >= received_since,
                ContactRow.reference.is_not(None),
                ContactRow.state.in_(sorted({state.value for state in states})),
            )
            .order_by(ContactRow.received_at, ContactRow.id, child.position)
        )
        return [
            ChildOnContact(contact_id, reference, received_at.astimezone(UTC), name, born)
            for contact_id, reference, received_at, name, born in result.all()
            if reference is not None and received_at is not None and born is not None  # for the types
        ]

    async def drafts_of(self, user_id: str) -> list[Contact]:
        return await self._assemble((await self._session.execute(_DRAFTS_OF, {"user_id": user_id})).all())

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
        # the event that closed it (a note after closing, a letter sent, does not restart the count)
        latest = (
            select(ContactEventRow.contact_id)
            .where(ContactEventRow.to_state == ContactState.CLOSED.value)
            .group_by(ContactEventRow.contact_id)
            .having(func.max(ContactEventRow.at) <= cutoff)
        )
        removed = select(ContactEventRow.contact_id).where(ContactEventRow.action == PERSONAL_DATA_REMOVED)
        return await self._load(
            select(ContactRow)
            .where(
                ContactRow.state == ContactState.CLOSED.value,
                ContactRow.id.in_(latest),
                ContactRow.id.not_in(removed),
            )
            .order_by(ContactRow.created_at, ContactRow.id)
        )

    async def lock_worker(self, worker_id: str) -> None:
        await self._uow.begin_write()  # on SQLite the writer lock is the worker's lock too
        if self._uow.dialect == "postgresql":
            key = int.from_bytes(hashlib.blake2b(worker_id.encode(), digest_size=4).digest(), signed=True)
            # Held to the end of the transaction, so the count after it sees every allocation
            # committed before it and none can commit between the count and ours.
            await self._session.execute(select(func.pg_advisory_xact_lock(CASELOAD_LOCK, key)))

    async def _insert_parts(
        self,
        contact: Contact,
        parts: Sequence[type[ContactChildRow | ContactParentRow | ContactEventRow]],
        *,
        events_from: int = 0,
    ) -> None:
        """Insert the rows of ``parts``; of the events, those from position ``events_from`` on."""
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
            if position >= events_from
        ]
        for entity, values in zip(_PARTS, (children, parents, events), strict=True):
            if values and entity in parts:
                await self._session.execute(insert(table_of(entity)), values)

    async def _load(self, statement: Select[ContactRow]) -> list[Contact]:
        # Plain column rows, not mapped objects: every turn of the contact script loads its draft,
        # and building (and refreshing) mapped objects cost more than the queries themselves.
        result = await self._session.execute(statement.with_only_columns(*_CONTACTS.columns))
        return await self._assemble(result.all())

    async def _assemble(self, rows: Sequence[Row[Any]]) -> list[Contact]:
        """The contacts of these rows of ``contacts``' columns, with their parts."""
        if not rows:
            return []
        known: dict[str, _Parts] = {}
        for row in rows:
            found = self._parts_at.get(row.id)
            if found is None or found.version != row.version:
                found = self._kept.get(row.id, row.version)
            if found is not None:
                known[row.id] = found
        ids = [row.id for row in rows if row.id not in known]
        children = await self._parts(ContactChildRow, ids)
        parents = await self._parts(ContactParentRow, ids)
        events = await self._parts(ContactEventRow, ids)
        contacts = []
        for row in rows:
            kept = known.get(row.id)
            if kept is None:
                contact = _contact(row, children[row.id], parents[row.id], events[row.id])
                self._parts_at[row.id] = _Parts.of(contact)
            else:
                bare = _contact(row, (), (), ())
                contact = replace(bare, children=kept.children, parents=kept.parents, events=kept.events)
                self._parts_at[row.id] = kept
            contacts.append(contact)
        if len(rows) == 1:
            self._keepable.add(rows[0].id)
        return contacts

    async def _parts(self, entity: type[_Part], contact_ids: list[str]) -> defaultdict[str, list[_Columns]]:
        grouped: defaultdict[str, list[_Columns]] = defaultdict(list)
        if not contact_ids:
            return grouped
        # One contact (the usual case) is a plain ``=``: an ``IN`` list is expanded at every run.
        if len(contact_ids) == 1:
            result = await self._session.execute(_PARTS_OF[entity], {"contact_id": contact_ids[0]})
        else:
            result = await self._session.execute(
                select(*entity.__table__.columns)
                .where(entity.contact_id.in_(contact_ids))
                .order_by(entity.contact_id, entity.position)
            )
        for row in result.all():
            grouped[row.contact_id].append(row)
        return grouped
