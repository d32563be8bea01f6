"""The figures' queries over the in-memory store: the same counts as ``store.figures``, worked out
in Python one record at a time, so the contract suite can hold the SQL to them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Protocol

from frontdoor.consultation import Consultation
from frontdoor.contact import Contact, ContactState
from frontdoor.figures import (
    INSPECTED_CLOCKS,
    NEEDS,
    ClockTimes,
    GroupBy,
    Narrowing,
    ReasonRow,
    TimelinessRow,
    Volumes,
)
from frontdoor.lifecycle import Action
from frontdoor.records import ClockKind, Deadline, DeadlineState, LateReason

_ARRIVALS = (Action.SUBMIT.value, Action.REFER_REREFERRAL.value)
_ROUTES = ("route_i", "route_ii", "route_iii", "route_iv")


class _Held(Protocol):
    contacts: dict[str, Contact]
    deadlines: dict[int, Deadline]
    consultations: dict[str, Consultation]
    teams: dict[str, str]


def _route(contact: Contact | None) -> str:
    if contact is None:
        return ""
    found = [e.action for e in contact.events if e.action in _ROUTES]
    return found[-1].removeprefix("route_") if found else ""


def _percentile(ordered: Sequence[float], p: float) -> float:
    """PostgreSQL's ``percentile_cont``: interpolated between the ranks around p × (n − 1)."""
    position = p * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def _worker(d: Deadline) -> str | None:
    """Its assignee if it has one, else whoever closed it (None while open): ``store.figures._worker``."""
    return d.assignee_id if d.assignee_id is not None else d.closed_by


def _group(
    by: GroupBy,
    bounds: Sequence[datetime],
    when: datetime,
    d: Deadline,
    contact: Contact | None,
    teams: dict[str, str],
) -> str:
    match by:
        case GroupBy.WEEK:
            return str(next(i for i, upper in enumerate(bounds[1:]) if when < upper))
        case GroupBy.WORKER:
            return _worker(d) or ""
        case GroupBy.TEAM:
            return teams.get(_worker(d) or "", "")
        case GroupBy.ROUTE:
            return _route(contact)


class FakeFigures:
    def __init__(self, view: Callable[[], _Held]) -> None:
        self._view = view

    def _keeps(self, contact: Contact | None, narrowing: Narrowing, worker: str | None) -> bool:
        if narrowing.route is not None and _route(contact) != narrowing.route:
            return False
        if narrowing.team is not None and self._view().teams.get(worker or "") != narrowing.team:
            return False
        return narrowing.worker_id is None or worker == narrowing.worker_id

    def _by_reference(self) -> dict[str, Contact]:
        return {c.reference: c for c in self._view().contacts.values() if c.reference}

    def _timed(
        self,
        bounds: Sequence[datetime],
        now: datetime,
        narrowing: Narrowing,
        by: GroupBy,
        clocks: Sequence[ClockKind],
    ) -> Iterable[tuple[str, Deadline]]:
        """The clocks timeliness counts, with their group: closed met or late in the period, or open
        past their due time, due in it."""
        contacts = self._by_reference()
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
            if not self._keeps(contact, narrowing, _worker(d)):
                continue
            yield _group(by, bounds, when, d, contact, self._view().teams), d

    async def timeliness(
        self,
        bounds: Sequence[datetime],
        now: datetime,
        narrowing: Narrowing,
        by: GroupBy,
        clocks: Sequence[ClockKind] = INSPECTED_CLOCKS,
    ) -> list[TimelinessRow]:
        met: Counter[tuple[str, ClockKind]] = Counter()
        late: Counter[tuple[str, ClockKind]] = Counter()
        for group, d in self._timed(bounds, now, narrowing, by, clocks):
            (met if d.state is DeadlineState.MET else late)[(group, d.clock)] += 1
        return [
            TimelinessRow(group, clock, met[(group, clock)], late[(group, clock)])
            for group, clock in sorted(set(met) | set(late))
        ]

    async def breach_reasons(
        self,
        bounds: Sequence[datetime],
        now: datetime,
        narrowing: Narrowing,
        by: GroupBy,
        clocks: Sequence[ClockKind] = INSPECTED_CLOCKS,
    ) -> list[ReasonRow]:
        counts: Counter[tuple[str, LateReason | None]] = Counter(
            (group, d.late_reason)
            for group, d in self._timed(bounds, now, narrowing, by, clocks)
            if d.state is not DeadlineState.MET
        )
        return [ReasonRow(group, reason, n) for (group, reason), n in counts.items()]

    async def times(
        self,
        bounds: Sequence[datetime],
        narrowing: Narrowing,
        by: GroupBy,
        clocks: Sequence[ClockKind] = INSPECTED_CLOCKS,
    ) -> list[ClockTimes]:
        contacts = self._by_reference()
        seconds: dict[tuple[str, ClockKind], list[float]] = {}
        for d in self._view().deadlines.values():
            if d.clock not in clocks or d.state not in (DeadlineState.MET, DeadlineState.LATE):
                continue
            if d.closed_at is None or not bounds[0] <= d.closed_at < bounds[-1]:
                continue
            contact = contacts.get(d.subject)
            if not self._keeps(contact, narrowing, _worker(d)):
                continue
            key = (_group(by, bounds, d.closed_at, d, contact, self._view().teams), d.clock)
            seconds.setdefault(key, []).append((d.closed_at - d.started_at).total_seconds())
        return [
            ClockTimes(group, clock, len(times), _percentile(ordered, 0.5), _percentile(ordered, 0.9))
            for (group, clock), times in sorted(seconds.items())
            if (ordered := sorted(times))
        ]

    async def returning(
        self, days: Sequence[datetime], opens: Sequence[Sequence[date]], narrowing: Narrowing
    ) -> list[int]:
        counts = [0] * len(opens)
        for c in self._view().contacts.values():
            closed_on, received = c.history.closed_on, c.received_at
            if not c.reference or closed_on is None or received is None:
                continue
            if not days[0] <= received < days[-1] or not self._keeps(c, narrowing, c.assignee_id):
                continue
            day = next(i for i, upper in enumerate(days[1:]) if received < upper)
            for w, window in enumerate(opens):
                counts[w] += closed_on >= window[day]
        return counts

    def _events(self, narrowing: Narrowing) -> Iterable[tuple[datetime, bool, bool]]:
        for contact in self._view().contacts.values():
            if not self._keeps(contact, narrowing, contact.assignee_id):
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
            and self._keeps(c, narrowing, c.assignee_id)
        ]
        needs = Counter(need.value for c in received for need in c.presenting_needs)
        rereferrals = sum(
            1
            for c in self._view().contacts.values()
            if self._keeps(c, narrowing, c.assignee_id)
            for e in c.events
            if e.action == Action.REFER_REREFERRAL.value and start <= e.at < end
        )
        consultations = sum(1 for c in self._view().consultations.values() if start <= c.created_at < end)
        return Volumes(
            consultations=consultations,
            received=len(received),
            urgent=sum(1 for c in received if c.immediate_risks),
            rereferrals=rereferrals,
            by_source=dict(Counter(c.source.value for c in received if c.source)),
            by_type=dict(Counter(c.contact_type.value for c in received if c.contact_type)),
            by_need={need: needs[need] for need in NEEDS if needs[need]},
        )
