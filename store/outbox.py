"""``frontdoor.alerts.AlertOutbox`` over the ``alert_outbox`` table.

``SqlAlertOutbox`` works inside a ``SqlUnitOfWork`` like the other repositories: every write goes
through ``begin_write`` and nothing is saved until the unit of work commits, so the tick can
enqueue alerts in the same transaction as the changes that cause them.

- ``enqueue`` is ``INSERT … ON CONFLICT (key) DO NOTHING``: however often it runs, and from however
  many processes, one row per key.
- ``claim`` on PostgreSQL selects due rows ``FOR UPDATE SKIP LOCKED``, so concurrent claimers pass
  over each other's rows instead of waiting for them, and leases them (``lease_until``) in the
  same statement batch; commit at once so the lease is seen by others. On SQLite (one process:
  ``FOR UPDATE`` is silently dropped there) the store's write serialisation (``begin_write``, then
  ``BEGIN IMMEDIATE``) is what keeps two claimers apart.
- The update in ``claim`` repeats the "is it claimable" test, so a row that another claimer leased
  between the select and the update (only possible without row locks) is not taken twice.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update

from frontdoor.alerts import INTERRUPTED, AlertKey, AlertKind, OutboxItem, OutboxMessage, OutboxState
from frontdoor.calendar import require_aware
from frontdoor.records import ClockKind
from store.repository import SqlRepository
from store.tables import AlertOutboxRow

#: ``last_error`` holds a status and code; anything longer is cut.
MAX_ERROR_CHARS = 500


def _item(row: AlertOutboxRow) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        key=row.key,
        subject=row.subject,
        clock=None if row.clock is None else ClockKind(row.clock),
        kind=AlertKind(row.kind),
        conversation_id=row.conversation_id,
        payload=row.payload,
        due_at=row.due_at,
        created_at=row.created_at,
        state=OutboxState(row.state),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        lease_until=row.lease_until,
        sent_at=row.sent_at,
        activity_id=row.activity_id,
        last_error=row.last_error,
    )


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(AlertOutboxRow.state == OutboxState.PENDING.value, AlertOutboxRow.next_attempt_at <= now),
        and_(AlertOutboxRow.state == OutboxState.LEASED.value, AlertOutboxRow.lease_until <= now),
    )


#: The attempt a claim counted, given back (a deferred row, a throttled try).
_ATTEMPT_GIVEN_BACK: Final = case((AlertOutboxRow.attempts > 0, AlertOutboxRow.attempts - 1), else_=0)


def _utc(moment: datetime, name: str) -> datetime:
    return require_aware(moment, name).astimezone(UTC)


class SqlAlertOutbox(SqlRepository):
    """The outbox in the unit of work ``uow``."""

    async def enqueue(self, messages: Iterable[OutboxMessage], now: datetime) -> int:
        now = _utc(now, "now")
        values = [
            {
                "key": message.key,
                "subject": message.subject,
                "clock": None if message.clock is None else message.clock.value,
                "kind": message.kind.value,
                "conversation_id": message.conversation_id,
                "payload": message.payload,
                "due_at": message.send_at,
                "created_at": now,
                "state": OutboxState.PENDING.value,
                "attempts": 0,
                "next_attempt_at": message.send_at,
                "lease_until": None,
                "sent_at": None,
                "activity_id": None,
                "last_error": "",
            }
            for message in messages
        ]
        if not values:
            return 0
        await self._uow.begin_write()
        statement = (
            self._uow.insert(AlertOutboxRow)
            .values(values)
            .on_conflict_do_nothing(index_elements=[AlertOutboxRow.key])
            .returning(AlertOutboxRow.id)
        )
        return len((await self._session.execute(statement)).all())

    async def planned(self, subjects: Collection[str]) -> dict[AlertKey, datetime]:
        if not subjects:
            return {}
        result = await self._session.execute(
            select(AlertOutboxRow.key, AlertOutboxRow.created_at).where(
                AlertOutboxRow.subject.in_(sorted(set(subjects)))
            )
        )
        found: dict[AlertKey, datetime] = {}
        for key_text, created_at in result.all():
            key = AlertKey.parse(key_text)
            moment = created_at if created_at.tzinfo is not None else created_at.replace(tzinfo=UTC)
            found[key] = min(moment, found.get(key, moment))
        return found

    async def claim(self, now: datetime, lease: timedelta, limit: int = 20) -> list[OutboxItem]:
        now = _utc(now, "now")
        if lease <= timedelta(0) or limit < 1:
            raise ValueError("a claim needs a positive lease and limit")
        await self._uow.begin_write()
        chosen = (
            select(AlertOutboxRow.id)
            .where(_claimable(now))
            .order_by(AlertOutboxRow.next_attempt_at, AlertOutboxRow.id)
            .limit(limit)
        )
        if self._uow.dialect == "postgresql":
            chosen = chosen.with_for_update(skip_locked=True)
        ids = list((await self._session.execute(chosen)).scalars().all())
        if not ids:
            return []
        leased = await self._session.execute(
            update(AlertOutboxRow)
            .where(AlertOutboxRow.id.in_(ids), _claimable(now))
            .values(
                state=OutboxState.LEASED.value,
                lease_until=now + lease,
                attempts=AlertOutboxRow.attempts + 1,
            )
            .returning(AlertOutboxRow.id)
            .execution_options(synchronize_session=False)
        )
        taken = [row_id for (row_id,) in leased.all()]
        if not taken:
            return []
        rows = await self._uow.rows(
            select(AlertOutboxRow)
            .where(AlertOutboxRow.id.in_(taken))
            .order_by(AlertOutboxRow.next_attempt_at, AlertOutboxRow.id)
        )
        return [_item(row) for row in rows]

    async def _set(self, item_id: int, **values: object) -> bool:
        await self._uow.begin_write()
        result = await self._session.execute(
            update(AlertOutboxRow)
            .where(AlertOutboxRow.id == item_id, AlertOutboxRow.state != OutboxState.SENT.value)
            .values(**values)
            .returning(AlertOutboxRow.id)
            .execution_options(synchronize_session=False)
        )
        return result.first() is not None

    async def mark_sent(
        self, item_id: int, activity_id: str | None, at: datetime, *, conversation_id: str | None = None
    ) -> bool:
        values: dict[str, object] = {
            "state": OutboxState.SENT.value,
            "sent_at": _utc(at, "at"),
            "activity_id": activity_id,
            "lease_until": None,
        }
        if conversation_id is not None:
            values["conversation_id"] = conversation_id
        return await self._set(item_id, **values)

    async def mark_retry(
        self, item_id: int, next_attempt_at: datetime, error: str, *, attempted: bool = True
    ) -> bool:
        values: dict[str, object] = {
            "state": OutboxState.PENDING.value,
            "next_attempt_at": _utc(next_attempt_at, "next_attempt_at"),
            "lease_until": None,
            "last_error": error[:MAX_ERROR_CHARS],
        }
        if not attempted:
            values["attempts"] = _ATTEMPT_GIVEN_BACK
        return await self._set(item_id, **values)

    async def mark_failed(self, item_id: int, error: str) -> bool:
        return await self._set(
            item_id, state=OutboxState.FAILED.value, lease_until=None, last_error=error[:MAX_ERROR_CHARS]
        )

    async def defer(self, item_id: int, until: datetime) -> bool:
        await self._uow.begin_write()
        result = await self._session.execute(
            update(AlertOutboxRow)
            .where(AlertOutboxRow.id == item_id, AlertOutboxRow.state == OutboxState.LEASED.value)
            .values(
                state=OutboxState.PENDING.value,
                next_attempt_at=_utc(until, "until"),
                lease_until=None,
                # The claim counted an attempt that was never made.
                attempts=_ATTEMPT_GIVEN_BACK,
            )
            .returning(AlertOutboxRow.id)
            .execution_options(synchronize_session=False)
        )
        return result.first() is not None

    async def sent_about(self, subject: str) -> list[OutboxItem]:
        rows = await self._uow.rows(
            select(AlertOutboxRow)
            .where(
                AlertOutboxRow.subject == subject,
                AlertOutboxRow.state == OutboxState.SENT.value,
                AlertOutboxRow.conversation_id.is_not(None),
                AlertOutboxRow.activity_id.is_not(None),
            )
            .order_by(AlertOutboxRow.sent_at, AlertOutboxRow.id)
        )
        return [_item(row) for row in rows]

    async def sent_since(self, since: datetime) -> list[tuple[str, datetime]]:
        result = await self._session.execute(
            select(AlertOutboxRow.conversation_id, AlertOutboxRow.sent_at)
            .where(
                AlertOutboxRow.state == OutboxState.SENT.value,
                AlertOutboxRow.sent_at >= _utc(since, "since"),
                AlertOutboxRow.conversation_id.is_not(None),
            )
            .order_by(AlertOutboxRow.sent_at, AlertOutboxRow.id)
        )
        return [
            (conversation, sent_at.replace(tzinfo=UTC) if sent_at.tzinfo is None else sent_at)
            for conversation, sent_at in result.all()
            if conversation is not None and sent_at is not None
        ]

    async def about(self, subject: str) -> list[OutboxItem]:
        rows = await self._uow.rows(
            select(AlertOutboxRow).where(AlertOutboxRow.subject == subject).order_by(AlertOutboxRow.id)
        )
        return [_item(row) for row in rows]

    async def mark_withdrawn(self, item_id: int, reason: str) -> bool:
        return await self._set(
            item_id, state=OutboxState.WITHDRAWN.value, lease_until=None, last_error=reason[:MAX_ERROR_CHARS]
        )

    async def expire_leases(self, now: datetime) -> int:
        now = _utc(now, "now")
        await self._uow.begin_write()
        result = await self._session.execute(
            update(AlertOutboxRow)
            .where(AlertOutboxRow.state == OutboxState.LEASED.value, AlertOutboxRow.lease_until <= now)
            .values(state=OutboxState.PENDING.value, lease_until=None)
            .returning(AlertOutboxRow.id)
            .execution_options(synchronize_session=False)
        )
        return len(result.all())

    async def release_leases(self) -> int:
        await self._uow.begin_write()
        result = await self._session.execute(
            update(AlertOutboxRow)
            .where(AlertOutboxRow.state == OutboxState.LEASED.value)
            .values(state=OutboxState.PENDING.value, lease_until=None, last_error=INTERRUPTED)
            .returning(AlertOutboxRow.id)
            .execution_options(synchronize_session=False)
        )
        return len(result.all())

    async def holds_lease(self, item_id: int, lease_until: datetime) -> bool:
        found = await self._session.execute(
            select(AlertOutboxRow.id).where(
                AlertOutboxRow.id == item_id,
                AlertOutboxRow.state == OutboxState.LEASED.value,
                AlertOutboxRow.lease_until == _utc(lease_until, "lease_until"),
            )
        )
        return found.first() is not None

    async def mark_held(self, item_id: int, reason: str) -> bool:
        return await self._set(
            item_id,
            state=OutboxState.HELD.value,
            lease_until=None,
            last_error=reason[:MAX_ERROR_CHARS],
            attempts=_ATTEMPT_GIVEN_BACK,
        )

    async def listed(
        self,
        *,
        states: Collection[OutboxState] | None = None,
        kinds: Collection[AlertKind] | None = None,
        limit: int = 50,
    ) -> list[OutboxItem]:
        query = select(AlertOutboxRow)
        if states is not None:
            query = query.where(AlertOutboxRow.state.in_([state.value for state in states]))
        if kinds is not None:
            query = query.where(AlertOutboxRow.kind.in_([kind.value for kind in kinds]))
        rows = await self._uow.rows(
            query.order_by(AlertOutboxRow.created_at.desc(), AlertOutboxRow.id.desc()).limit(limit)
        )
        return [_item(row) for row in rows]

    async def get(self, item_id: int) -> OutboxItem | None:
        rows = await self._uow.rows(select(AlertOutboxRow).where(AlertOutboxRow.id == item_id))
        return _item(rows[0]) if rows else None

    async def failed(self, limit: int = 50) -> list[OutboxItem]:
        rows = await self._uow.rows(
            select(AlertOutboxRow)
            .where(AlertOutboxRow.state == OutboxState.FAILED.value)
            .order_by(AlertOutboxRow.created_at.desc(), AlertOutboxRow.id.desc())
            .limit(limit)
        )
        return [_item(row) for row in rows]

    async def counts(self) -> dict[OutboxState, int]:
        result = await self._session.execute(
            select(AlertOutboxRow.state, func.count()).group_by(AlertOutboxRow.state)
        )
        found = {state: 0 for state in OutboxState}
        for state, count in result.all():
            found[OutboxState(state)] = count
        return found
