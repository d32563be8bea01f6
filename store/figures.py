"""The figures' aggregate queries (SPEC §11) in SQL: counts over the deadlines, contacts and contact
events, each one statement, never rows loaded one by one.

Times are compared in UTC; buckets (days, weeks) are ``CASE`` expressions over boundaries the
domain works out in local time, so the same SQL runs on SQLite and PostgreSQL. The indexes these
read by are in ``store.tables`` (deadlines by clock and closing time and by state and due time;
contact events by action and time and by state and time; contacts by received-at).

The clocks' median and 90th-percentile times are PostgreSQL's ``percentile_cont``; SQLite has none,
so there the same statement ranks each group's times with window functions and interpolates between
the two ranks around p × (n − 1), which is ``percentile_cont``'s definition.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Float,
    Integer,
    SQLColumnExpression,
    String,
    Text,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.sql import Select

from frontdoor.calendar import require_aware
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
from frontdoor.records import ClockKind, DeadlineState, LateReason
from store.repository import SqlRepository
from store.tables import (
    ConsultationRow,
    ContactEventRow,
    ContactRow,
    DeadlineRow,
    UtcDateTime,
    WorkerTeamRow,
)

#: The events by which a contact arrives at the front door, and the one by which it leaves.
_ARRIVALS = (Action.SUBMIT.value, Action.REFER_REREFERRAL.value)
_CLOSED = ContactState.CLOSED.value
_ROUTE_ACTIONS = {route: f"route_{route}" for route in ("i", "ii", "iii", "iv")}
_CLOSED_STATES = (DeadlineState.MET.value, DeadlineState.LATE.value)


def _at(moment: datetime) -> ColumnElement[datetime]:
    return literal(require_aware(moment, "figures time").astimezone(UTC), UtcDateTime())


def _bucket(column: SQLColumnExpression[datetime], bounds: Sequence[datetime]) -> ColumnElement[int]:
    """Which of the buckets ``[bounds[i], bounds[i+1])`` ``column`` falls in (callers keep it in range)."""
    return case(
        *[(column < _at(upper), index) for index, upper in enumerate(bounds[1:])], else_=len(bounds) - 2
    )


def latest_route(contact: Contact) -> str | None:
    """The route ``contact`` was last screened to ("i" … "iv"), kept on its row for the figures."""
    routes = [e.action for e in contact.events if e.action in _ROUTE_ACTIONS.values()]
    return routes[-1].removeprefix("route_") if routes else None


def _narrowed_contacts(
    statement: Select[*tuple[Any, ...]], narrowing: Narrowing, worker: SQLColumnExpression[Any] | None
) -> Select[*tuple[Any, ...]]:
    if narrowing.route is not None:
        statement = statement.where(ContactRow.route == narrowing.route)
    if narrowing.worker_id is not None and worker is not None:
        statement = statement.where(worker == narrowing.worker_id)
    if narrowing.team is not None and worker is not None:
        members = select(WorkerTeamRow.aad_object_id).where(WorkerTeamRow.team == narrowing.team)
        statement = statement.where(worker.in_(members))
    return statement


def _worker() -> ColumnElement[str | None]:
    """The person a clock counts for: its assignee (when it closed, for a closed one) if it had one,
    else whoever closed it (``closed_by``: the decider of a screening or child-protection clock,
    which intake starts with no one assigned; the consultant who signed off a completion clock
    handed to the consultants). An open clock with no assignee: no one (``None``). Columns of the
    clock's own row, so no other table is read."""
    return func.coalesce(DeadlineRow.assignee_id, DeadlineRow.closed_by)


def _group(by: GroupBy, bounds: Sequence[datetime], when: SQLColumnExpression[Any]) -> ColumnElement[Any]:
    """The group a clock counts in: its week's bucket (by ``when``), its worker (``_worker``), its
    worker's team (the role directory's), or its route."""
    match by:
        case GroupBy.WEEK:
            return cast(_bucket(when, bounds), String)
        case GroupBy.WORKER:
            return func.coalesce(_worker(), "")
        case GroupBy.TEAM:
            team = select(WorkerTeamRow.team).where(WorkerTeamRow.aad_object_id == _worker())
            return func.coalesce(team.scalar_subquery(), "")
        case GroupBy.ROUTE:
            return func.coalesce(ContactRow.route, "")


def _clocks_of_contacts(
    statement: Select[*tuple[Any, ...]], narrowing: Narrowing, by: GroupBy
) -> Select[*tuple[Any, ...]]:
    """``statement`` over the deadlines, joined to their contacts when a route is asked about, and
    narrowed."""
    if narrowing.route is not None or by is GroupBy.ROUTE:
        statement = statement.join(ContactRow, ContactRow.reference == DeadlineRow.subject)
    return _narrowed_contacts(statement, narrowing, _worker())


def _timed(bounds: Sequence[datetime], now: datetime, states: Sequence[str]) -> ColumnElement[bool]:
    """The clocks timeliness counts in ``[bounds[0], bounds[-1])``: closed in one of ``states`` in
    it, or open and past their due time, due in it (a late clock still open)."""
    d = DeadlineRow
    first, last = _at(bounds[0]), _at(bounds[-1])
    closed = and_(d.state.in_(states), d.closed_at >= first, d.closed_at < last)
    overdue = and_(
        d.state == DeadlineState.OPEN.value, d.due_at >= first, d.due_at < last, d.due_at < _at(now)
    )
    return or_(closed, overdue)


def _timed_at() -> ColumnElement[datetime]:
    """When a clock ``_timed`` counts was timed: its closing, or for an open one its due time."""
    return func.coalesce(DeadlineRow.closed_at, DeadlineRow.due_at, type_=UtcDateTime())


#: The percentiles of ``times``: the median and the 90th.
_PERCENTILES = (0.5, 0.9)


class SqlFigures(SqlRepository):
    async def _all(self, statement: Select[*tuple[Any, ...]]) -> list[Any]:
        return list((await self._session.execute(statement)).all())

    @staticmethod
    def _grouped(
        key: Any,
        counts: Sequence[ColumnElement[Any]],
        bounds: Sequence[datetime],
        now: datetime,
        narrowing: Narrowing,
        by: GroupBy,
        clocks: Sequence[ClockKind],
        closed_states: Sequence[str],
    ) -> Select[*tuple[Any, ...]]:
        """``counts`` per group and ``key`` (a deadline column), over the ``clocks`` timed in the period
        (closed in one of ``closed_states``, or open past their due time) and ``narrowing``."""
        if len(bounds) < 2:
            raise ValueError("figures need at least one bucket")
        group = _group(by, bounds, _timed_at())
        statement = select(group.label("grp"), key, *counts).where(
            DeadlineRow.clock.in_([clock.value for clock in clocks]), _timed(bounds, now, closed_states)
        )
        return _clocks_of_contacts(statement, narrowing, by).group_by("grp", key)

    async def timeliness(
        self,
        bounds: Sequence[datetime],
        now: datetime,
        narrowing: Narrowing,
        by: GroupBy,
        clocks: Sequence[ClockKind] = INSPECTED_CLOCKS,
    ) -> list[TimelinessRow]:
        d = DeadlineRow
        met = func.sum(case((d.state == DeadlineState.MET.value, 1), else_=0))
        statement = self._grouped(
            d.clock, (met, func.count()), bounds, now, narrowing, by, clocks, _CLOSED_STATES
        )
        return [
            TimelinessRow(
                str(grp),
                ClockKind(clock),
                int(met_count or 0),
                int(total) - int(met_count or 0),
            )
            for grp, clock, met_count, total in await self._all(statement)
        ]

    async def breach_reasons(
        self,
        bounds: Sequence[datetime],
        now: datetime,
        narrowing: Narrowing,
        by: GroupBy,
        clocks: Sequence[ClockKind] = INSPECTED_CLOCKS,
    ) -> list[ReasonRow]:
        late = (DeadlineState.LATE.value,)
        statement = self._grouped(
            DeadlineRow.late_reason, (func.count(),), bounds, now, narrowing, by, clocks, late
        )
        return [
            ReasonRow(str(grp), LateReason(reason) if reason else None, int(count))
            for grp, reason, count in await self._all(statement)
        ]

    def _seconds(self) -> ColumnElement[float]:
        """A closed clock's time from start to close, in seconds."""
        d = DeadlineRow
        if self._uow.dialect == "postgresql":
            return cast(extract("epoch", d.closed_at - d.started_at), Float)
        # SQLite keeps the UTC times as text; julianday reads them as fractional days.
        return func.round((func.julianday(d.closed_at) - func.julianday(d.started_at)) * 86400.0, 3)

    async def times(
        self,
        bounds: Sequence[datetime],
        narrowing: Narrowing,
        by: GroupBy,
        clocks: Sequence[ClockKind] = INSPECTED_CLOCKS,
    ) -> list[ClockTimes]:
        if len(bounds) < 2:
            raise ValueError("times need at least one bucket")
        d = DeadlineRow
        seconds = self._seconds()
        group = _group(by, bounds, d.closed_at)
        where = (
            d.clock.in_([clock.value for clock in clocks]),
            d.state.in_(_CLOSED_STATES),
            d.closed_at >= _at(bounds[0]),
            d.closed_at < _at(bounds[-1]),
        )
        statement: Select[*tuple[Any, ...]]
        if self._uow.dialect == "postgresql":
            statement = select(
                group.label("grp"),
                d.clock,
                func.count(),
                *(func.percentile_cont(p).within_group(seconds) for p in _PERCENTILES),
            ).where(*where)
            statement = _clocks_of_contacts(statement, narrowing, by).group_by("grp", d.clock)
        else:
            # SQLite has no percentile_cont: rank each group's times in order (window functions)
            # and interpolate between the two ranks around p × (n − 1), as percentile_cont does.
            partition = (group, d.clock)
            ranked = _clocks_of_contacts(
                select(
                    group.label("grp"),
                    d.clock.label("clock"),
                    seconds.label("seconds"),
                    (func.row_number().over(partition_by=partition, order_by=seconds) - 1).label("rank"),
                    func.count().over(partition_by=partition).label("n"),
                ).where(*where),
                narrowing,
                by,
            ).subquery()

            def percentile(p: float) -> ColumnElement[float]:
                position = p * (ranked.c.n - 1)
                lower = cast(position, Integer)
                fraction = position - lower
                return func.sum(
                    case(
                        (ranked.c.rank == lower, ranked.c.seconds * (1 - fraction)),
                        (ranked.c.rank == lower + 1, ranked.c.seconds * fraction),
                        else_=0,
                    )
                )

            statement = select(
                ranked.c.grp, ranked.c.clock, func.count(), *(percentile(p) for p in _PERCENTILES)
            ).group_by(ranked.c.grp, ranked.c.clock)
        return [
            ClockTimes(str(grp), ClockKind(clock), int(count), float(median), float(p90))
            for grp, clock, count, median, p90 in await self._all(statement)
        ]

    async def returning(
        self, days: Sequence[datetime], opens: Sequence[Sequence[date]], narrowing: Narrowing
    ) -> list[int]:
        c = ContactRow
        columns = []
        for window in opens:
            opening = case(
                *[
                    (c.received_at < _at(upper), literal(day, Date()))
                    for upper, day in zip(days[1:], window, strict=True)
                ],
                else_=literal(window[-1], Date()),
            )
            columns.append(func.sum(case((c.history_closed_on >= opening, 1), else_=0)))
        if not columns:
            return []
        statement = select(*columns).where(
            c.reference.is_not(None),
            c.history_closed_on.is_not(None),
            c.received_at >= _at(days[0]),
            c.received_at < _at(days[-1]),
        )
        [row] = await self._all(_narrowed_contacts(statement, narrowing, c.assignee_id))
        return [int(value or 0) for value in row]

    def _events(self, narrowing: Narrowing) -> Select[*tuple[Any, ...]]:
        statement = select(ContactEventRow.at)
        if narrowing != Narrowing():
            statement = statement.join(ContactRow, ContactRow.id == ContactEventRow.contact_id)
        return _narrowed_contacts(statement, narrowing, ContactRow.assignee_id)

    async def open_contacts(self, instants: Sequence[datetime]) -> list[int]:
        if not instants:
            return []
        e = ContactEventRow
        first = _at(instants[0])
        arrival = e.action.in_(_ARRIVALS)
        closing = e.to_state == _CLOSED
        # Before the first instant: two counts an index answers; after it, a handful of buckets.
        arrived = await self._count(self._events(Narrowing()).where(arrival, e.at < first))
        closed = await self._count(self._events(Narrowing()).where(closing, e.at < first))
        counts = [arrived - closed]
        if len(instants) > 1:
            step = func.sum(case((arrival, 1), else_=-1))
            bucket = _bucket(e.at, instants)
            statement = (
                self._events(Narrowing())
                .with_only_columns(bucket.label("bucket"), step)
                .where(or_(arrival, closing), e.at >= first, e.at < _at(instants[-1]))
                .group_by("bucket")
            )
            deltas = {int(bucket_index): int(change) for bucket_index, change in await self._all(statement)}
            for index in range(len(instants) - 1):
                counts.append(counts[-1] + deltas.get(index, 0))
        return counts

    async def _count(self, statement: Select[*tuple[Any, ...]]) -> int:
        counted = statement.with_only_columns(func.count()).order_by(None)
        return int((await self._session.execute(counted)).scalar_one())

    async def volumes(self, start: datetime, end: datetime, narrowing: Narrowing) -> Volumes:
        c = ContactRow
        received = and_(c.reference.is_not(None), c.received_at >= _at(start), c.received_at < _at(end))
        needs_text = cast(c.presenting_needs, Text)
        risks_text = cast(c.immediate_risks, Text)
        columns = [
            func.count(),
            func.sum(case((risks_text != "[]", 1), else_=0)),
            *(func.sum(case((needs_text.like(f'%"{need}"%'), 1), else_=0)) for need in NEEDS),
        ]
        totals = _narrowed_contacts(select(*columns).where(received), narrowing, c.assignee_id)
        [row] = await self._all(totals)
        count, urgent, *needs = (int(value or 0) for value in row)

        async def grouped(column: SQLColumnExpression[Any]) -> dict[str, int]:
            statement = _narrowed_contacts(
                select(column, func.count()).where(received, column.is_not(None)).group_by(column),
                narrowing,
                c.assignee_id,
            )
            return {str(key): int(n) for key, n in await self._all(statement)}

        e = ContactEventRow
        rereferrals = await self._count(
            self._events(narrowing).where(
                e.action == Action.REFER_REREFERRAL.value, e.at >= _at(start), e.at < _at(end)
            )
        )
        consultations = await self._count(
            select(ConsultationRow.id).where(
                ConsultationRow.created_at >= _at(start), ConsultationRow.created_at < _at(end)
            )
        )
        return Volumes(
            consultations=consultations,
            received=count,
            urgent=urgent,
            rereferrals=rereferrals,
            by_source=await grouped(c.source),
            by_type=await grouped(c.contact_type),
            by_need={need: n for need, n in zip(NEEDS, needs, strict=True) if n},
        )
