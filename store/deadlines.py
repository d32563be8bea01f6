"""``frontdoor.ports.DeadlineRepository`` over SQL: ``deadlines``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, Select, bindparam, case, insert, select, update

from frontdoor.calendar import require_aware
from frontdoor.records import ClockKind, Deadline, DeadlineState, LateReason
from store.repository import SqlRepository as _Repository
from store.repository import table_of
from store.tables import DeadlineRow

#: What a ``Deadline`` holds, read as plain columns (no ORM objects) where many rows are read.
_DEADLINE_COLUMNS = (
    DeadlineRow.id,
    DeadlineRow.subject,
    DeadlineRow.clock,
    DeadlineRow.started_at,
    DeadlineRow.due_at,
    DeadlineRow.state,
    DeadlineRow.assignee_id,
    DeadlineRow.closed_at,
    DeadlineRow.late_reason,
    DeadlineRow.closed_by,
)


def _deadline(row: DeadlineRow | Row[*tuple[Any, ...]]) -> Deadline:
    return Deadline(
        subject=row.subject,
        clock=ClockKind(row.clock),
        started_at=row.started_at,
        due_at=row.due_at,
        state=DeadlineState(row.state),
        assignee_id=row.assignee_id,
        id=row.id,
        closed_at=row.closed_at,
        late_reason=LateReason(row.late_reason) if row.late_reason else None,
        closed_by=row.closed_by,
    )


def alerts_due_statement(moment: datetime) -> Select[DeadlineRow]:
    """The tick's query: open deadlines whose next alert is due by ``moment``. Closed deadlines
    have no next alert, so it reads only the due entries of ``ix_deadlines_next_alert_at``."""
    return (
        select(DeadlineRow)
        .where(DeadlineRow.next_alert_at <= moment, DeadlineRow.state == DeadlineState.OPEN.value)
        .order_by(DeadlineRow.due_at, DeadlineRow.id)
    )


_DEADLINES = table_of(DeadlineRow)
#: a subject's clocks (every decision reads them), built once
_FOR_SUBJECT = (
    select(*_DEADLINE_COLUMNS)
    .where(DeadlineRow.subject == bindparam("subject"))
    .order_by(DeadlineRow.due_at, DeadlineRow.id)
)
#: a new clock, built once: its values are bound at each run
_ADD = (
    insert(_DEADLINES)
    .values(
        {
            name: bindparam(name, type_=_DEADLINES.c[name].type)
            for name in (
                "subject",
                "clock",
                "started_at",
                "due_at",
                "state",
                "assignee_id",
                "next_alert_at",
                "late_reason",
            )
        }
    )
    .returning(_DEADLINES.c.id)
)


#: every closing of a clock, built once: the state given (met, or cancelled) when closed by the due
#: time, else late, decided per row in the one statement (SPEC §3: a breached clock is never
#: recorded as met, nor does it disappear as cancelled)
_CLOSED_AT = bindparam("_closed_at", type_=_DEADLINES.c.closed_at.type)
_CLOSE = (
    update(DeadlineRow)
    .where(
        DeadlineRow.subject == bindparam("_subject"),
        DeadlineRow.clock == bindparam("_clock"),
        DeadlineRow.state == DeadlineState.OPEN.value,
    )
    .values(
        state=case(
            (DeadlineRow.due_at >= _CLOSED_AT, bindparam("_state", type_=_DEADLINES.c.state.type)),
            else_=DeadlineState.LATE.value,
        ),
        closed_at=_CLOSED_AT,
        closed_by=bindparam("_closed_by", type_=_DEADLINES.c.closed_by.type),
        next_alert_at=None,
    )
    .returning(DeadlineRow.id)
    .execution_options(synchronize_session=False)
)
#: a clock handed on: the same row, another assignee
_REASSIGN = (
    update(DeadlineRow)
    .where(
        DeadlineRow.subject == bindparam("_subject"),
        DeadlineRow.clock == bindparam("_clock"),
        DeadlineRow.state == DeadlineState.OPEN.value,
    )
    .values(assignee_id=bindparam("_assignee_id", type_=_DEADLINES.c.assignee_id.type))
    .returning(DeadlineRow.id)
    .execution_options(synchronize_session=False)
)


class SqlDeadlineRepository(_Repository):
    async def add(self, deadline: Deadline) -> Deadline:
        await self._uow.begin_write()
        values = {
            "subject": deadline.subject,
            "clock": deadline.clock.value,
            "started_at": deadline.started_at,
            "due_at": deadline.due_at,
            "state": deadline.state.value,
            "assignee_id": deadline.assignee_id,
            "next_alert_at": deadline.started_at if deadline.state is DeadlineState.OPEN else None,
            "late_reason": deadline.late_reason.value if deadline.late_reason else None,
        }
        new_id: int = (await self._session.execute(_ADD, values)).scalar_one()
        return replace(
            deadline,
            id=new_id,
            started_at=deadline.started_at.astimezone(UTC),
            due_at=deadline.due_at.astimezone(UTC),
        )

    async def for_subject(self, subject: str) -> list[Deadline]:
        result = await self._session.execute(_FOR_SUBJECT, {"subject": subject})
        return [_deadline(row) for row in result.all()]

    async def open_due_before(
        self, moment: datetime, limit: int | None = 100, *, clock: ClockKind | None = None
    ) -> list[Deadline]:
        """Open deadlines (of ``clock``, or any) due at or before ``moment``, soonest first."""
        # A core select of the columns: the handover reads thousands of these, and mapped objects
        # cost several times as much to build.
        statement = select(*_DEADLINE_COLUMNS).where(
            DeadlineRow.state == DeadlineState.OPEN.value, DeadlineRow.due_at <= moment
        )
        if clock is not None:
            statement = statement.where(DeadlineRow.clock == clock.value)
        result = await self._session.execute(
            statement.order_by(DeadlineRow.due_at, DeadlineRow.id).limit(limit)
        )
        return [_deadline(row) for row in result.all()]

    async def alerts_due_by(self, moment: datetime) -> list[Deadline]:
        return [_deadline(row) for row in await self._uow.rows(alerts_due_statement(moment))]

    async def set_next_alerts(self, next_alerts: Mapping[int, datetime | None]) -> None:
        if not next_alerts:
            return
        await self._uow.begin_write()
        if self._uow.dialect == "postgresql":
            # Only the rows nobody holds: a decision closing a contact's clocks one by one may hold
            # one of them, and the tick waiting for it while holding another would deadlock with
            # it. A row passed over keeps its due next alert, so the next tick reads it again.
            free = await self._session.execute(
                select(DeadlineRow.id)
                .where(DeadlineRow.id.in_(sorted(next_alerts)))
                .with_for_update(skip_locked=True)
            )
            held = set(free.scalars())
            next_alerts = {key: moment for key, moment in next_alerts.items() if key in held}
            if not next_alerts:
                return
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

    async def close(
        self, subject: str, clock: str, state: str, closed_at: datetime, *, closed_by: str
    ) -> int:
        await self._uow.begin_write()
        parameters = {
            "_subject": subject,
            "_clock": ClockKind(clock).value,
            "_state": DeadlineState(state).value,
            "_closed_at": require_aware(closed_at, "closing time").astimezone(UTC),
            "_closed_by": closed_by,
        }
        return len((await self._session.execute(_CLOSE, parameters)).all())

    async def reassign(self, subject: str, clock: str, assignee_id: str | None) -> int:
        await self._uow.begin_write()
        parameters = {"_subject": subject, "_clock": ClockKind(clock).value, "_assignee_id": assignee_id}
        return len((await self._session.execute(_REASSIGN, parameters)).all())

    async def set_late_reason(self, deadline_id: int, reason: LateReason) -> None:
        await self._uow.begin_write()
        await self._session.execute(
            update(DeadlineRow)
            .where(DeadlineRow.id == deadline_id)
            .values(late_reason=reason.value)
            .execution_options(synchronize_session=False)
        )
