"""The figures' queries over the in-memory store: the same counts as ``store.figures``, worked out
in Python one record at a time, so the contract suite can hold the SQL to them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Protocol

from frontdoor.contact import Contact, ContactState
from frontdoor.figures import INSPECTED_CLOCKS, NEEDS, GroupBy, Narrowing, TimelinessRow, Volumes
from frontdoor.lifecycle import Action
from frontdoor.records import ClockKind, Deadline, DeadlineState

_ARRIVALS = (Action.SUBMIT.value, Action.REFER_REREFERRAL.value)
_ROUTES = ("route_i", "route_ii", "route_iii", "route_iv")


class _Held(Protocol):
    contacts: dict[str, Contact]
    deadlines: dict[int, Deadline]


def _route(contact: Contact | None) -> str:
    if contact is None:
        return ""
    found = [e.action for e in contact.events if e.action in _ROUTES]
    return found[-1].removeprefix("route_") if found else ""


def _keeps(contact: Contact | None, narrowing: Narrowing, worker: str | None) -> bool:
    if narrowing.route is not None and _route(contact) != narrowing.route:
        return False
    return narrowing.worker_id is None or worker == narrowing.worker_id


class FakeFigures:
    def __init__(self, view: Callable[[], _Held]) -> None:
        self._view = view

    def _by_reference(self) -> dict[str, Contact]:
        return {c.reference: c for c in self._view().contacts.values() if c.reference}

    async def timeliness(
        self,
        bounds: Sequence[datetime],
        now: datetime,
        narrowing: Narrowing,
        by: GroupBy,
        clocks: Sequence[ClockKind] = INSPECTED_CLOCKS,
    ) -> list[TimelinessRow]:
        contacts = self._by_reference()
        met: Counter[tuple[str, ClockKind]] = Counter()
        late: Counter[tuple[str, ClockKind]] = Counter()
        for d in self._view().deadlines.values():
            if d.clock not in clocks:
                continue
            if d.state in (DeadlineState.MET, DeadlineState.LATE) and d.closed_at is not None:
                when = d.closed_at
            elif d.state is DeadlineState.OPEN and d.due_at < now:
                when = d.due_at
            else:
                continue
            if not bounds[0] <= when < bounds[-1]:
                continue
            contact = contacts.get(d.subject)
            if not _keeps(contact, narrowing, d.assignee_id):
                continue
            match by:
                case GroupBy.WEEK:
                    group = str(next(i for i, upper in enumerate(bounds[1:]) if when < upper))
                case GroupBy.WORKER:
                    group = d.assignee_id or ""
                case GroupBy.ROUTE:
                    group = _route(contact)
            (met if d.state is DeadlineState.MET else late)[(group, d.clock)] += 1
        return [
            TimelinessRow(group, clock, met[(group, clock)], late[(group, clock)])
            for group, clock in sorted(set(met) | set(late))
        ]

    def _events(self, narrowing: Narrowing) -> Iterable[tuple[datetime, bool, bool]]:
        for contact in self._view().contacts.values():
            if not _keeps(contact, narrowing, contact.assignee_id):
                continue
            for e in contact.events:
                yield e.at, e.action in _ARRIVALS, e.to_state is ContactState.CLOSED

    async def open_contacts(self, instants: Sequence[datetime]) -> list[int]:
        events = list(self._events(Narrowing()))
        return [
            sum(1 for at, arrival, _ in events if arrival and at < moment)
            - sum(1 for at, _, closing in events if closing and at < moment)
            for moment in instants
        ]

    async def volumes(self, start: datetime, end: datetime, narrowing: Narrowing) -> Volumes:
        received = [
            c
            for c in self._view().contacts.values()
            if c.reference
            and c.received_at is not None
            and start <= c.received_at < end
            and _keeps(c, narrowing, c.assignee_id)
        ]
        needs = Counter(need.value for c in received for need in c.presenting_needs)
        rereferrals = sum(
            1
            for c in self._view().contacts.values()
            if _keeps(c, narrowing, c.assignee_id)
            for e in c.events
            if e.action == Action.REFER_REREFERRAL.value and start <= e.at < end
        )
        return Volumes(
            received=len(received),
            urgent=sum(1 for c in received if c.immediate_risks),
            rereferrals=rereferrals,
            by_source=dict(Counter(c.source.value for c in received if c.source)),
            by_type=dict(Counter(c.contact_type.value for c in received if c.contact_type)),
            by_need={need: needs[need] for need in NEEDS if needs[need]},
        )
