"""``InMemoryAlertOutbox``: ``frontdoor.alerts.AlertOutbox`` in plain Python, for fast tests.

It passes the same contract suite as ``store.outbox.SqlAlertOutbox`` (``tests/store/test_outbox``).
Unlike the SQL outbox it is not transactional: each call takes effect at once (there is nothing
to commit or roll back). Every method runs without awaiting in between, so on one event loop
each call is atomic, and two claimers never get the same row.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from frontdoor.alerts import (
    INTERRUPTED,
    AlertKey,
    AlertKind,
    AlertOutbox,
    OutboxItem,
    OutboxMessage,
    OutboxState,
)

MAX_ERROR_CHARS = 500


def _given_back(item: OutboxItem) -> int:
    """The attempts of ``item`` without the one its claim counted (a deferred, held or throttled row)."""
    return max(item.attempts - 1, 0)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime refused: store timezone-aware datetimes only")
    return moment.astimezone(UTC)


class InMemoryAlertOutbox:
    def __init__(self) -> None:
        self.rows: dict[int, OutboxItem] = {}
        self._by_key: dict[str, int] = {}
        self._next_id = 1

    async def enqueue(self, messages: Iterable[OutboxMessage], now: datetime) -> int:
        now = _utc(now)
        added = 0
        for message in messages:
            if message.key in self._by_key:
                continue
            item = OutboxItem(
                id=self._next_id,
                key=message.key,
                subject=message.subject,
                clock=message.clock,
                kind=message.kind,
                conversation_id=message.conversation_id,
                payload=message.payload,
                due_at=_utc(message.send_at),
                created_at=now,
                state=OutboxState.PENDING,
                attempts=0,
                next_attempt_at=_utc(message.send_at),
            )
            self.rows[item.id] = item
            self._by_key[item.key] = item.id
            self._next_id += 1
            added += 1
        return added

    async def planned(self, subjects: Collection[str]) -> dict[AlertKey, datetime]:
        wanted = set(subjects)
        found: dict[AlertKey, datetime] = {}
        for item in self.rows.values():
            if item.subject in wanted:
                key = AlertKey.parse(item.key)
                found[key] = min(item.created_at, found.get(key, item.created_at))
        return found

    @staticmethod
    def _claimable(item: OutboxItem, now: datetime) -> bool:
        if item.state is OutboxState.PENDING:
            return item.next_attempt_at <= now
        return item.state is OutboxState.LEASED and item.lease_until is not None and item.lease_until <= now

    async def claim(self, now: datetime, lease: timedelta, limit: int = 20) -> list[OutboxItem]:
        now = _utc(now)
        if lease <= timedelta(0) or limit < 1:
            raise ValueError("a claim needs a positive lease and limit")
        due = sorted(
            (item for item in self.rows.values() if self._claimable(item, now)),
            key=lambda item: (item.next_attempt_at, item.id),
        )[:limit]
        taken = []
        for item in due:
            leased = replace(
                item, state=OutboxState.LEASED, lease_until=now + lease, attempts=item.attempts + 1
            )
            self.rows[item.id] = leased
            taken.append(leased)
        return taken

    def _set(self, item_id: int, **changes: object) -> bool:
        item = self.rows.get(item_id)
        if item is None or item.state is OutboxState.SENT:
            return False
        self.rows[item_id] = replace(item, **changes)  # type: ignore[arg-type]
        return True

    async def mark_sent(
        self, item_id: int, activity_id: str | None, at: datetime, *, conversation_id: str | None = None
    ) -> bool:
        changes: dict[str, object] = {
            "state": OutboxState.SENT,
            "sent_at": _utc(at),
            "activity_id": activity_id,
            "lease_until": None,
        }
        if conversation_id is not None:
            changes["conversation_id"] = conversation_id
        return self._set(item_id, **changes)

    async def mark_retry(
        self, item_id: int, next_attempt_at: datetime, error: str, *, attempted: bool = True
    ) -> bool:
        item = self.rows.get(item_id)
        if item is None:
            return False
        attempts = item.attempts if attempted else _given_back(item)
        return self._set(
            item_id,
            state=OutboxState.PENDING,
            next_attempt_at=_utc(next_attempt_at),
            lease_until=None,
            last_error=error[:MAX_ERROR_CHARS],
            attempts=attempts,
        )

    async def mark_failed(self, item_id: int, error: str) -> bool:
        return self._set(
            item_id, state=OutboxState.FAILED, lease_until=None, last_error=error[:MAX_ERROR_CHARS]
        )

    async def defer(self, item_id: int, until: datetime) -> bool:
        item = self.rows.get(item_id)
        if item is None or item.state is not OutboxState.LEASED:
            return False
        self.rows[item_id] = replace(
            item,
            state=OutboxState.PENDING,
            next_attempt_at=_utc(until),
            lease_until=None,
            attempts=_given_back(item),
        )
        return True

    async def sent_about(self, subject: str) -> list[OutboxItem]:
        found = [
            item
            for item in self.rows.values()
            if item.subject == subject
            and item.state is OutboxState.SENT
            and item.conversation_id is not None
            and item.activity_id is not None
        ]
        return sorted(found, key=lambda item: (item.sent_at or item.created_at, item.id))

    async def sent_since(self, since: datetime) -> list[tuple[str, datetime]]:
        found = [
            item
            for item in self.rows.values()
            if item.state is OutboxState.SENT
            and item.sent_at is not None
            and item.sent_at >= since
            and item.conversation_id is not None
        ]
        found.sort(key=lambda item: (item.sent_at or item.created_at, item.id))
        return [(item.conversation_id or "", item.sent_at or item.created_at) for item in found]

    async def about(self, subject: str) -> list[OutboxItem]:
        return sorted(
            (item for item in self.rows.values() if item.subject == subject), key=lambda item: item.id
        )

    async def mark_withdrawn(self, item_id: int, reason: str) -> bool:
        return self._set(
            item_id, state=OutboxState.WITHDRAWN, lease_until=None, last_error=reason[:MAX_ERROR_CHARS]
        )

    async def expire_leases(self, now: datetime) -> int:
        now = _utc(now)
        expired = [
            item
            for item in self.rows.values()
            if item.state is OutboxState.LEASED and item.lease_until is not None and item.lease_until <= now
        ]
        for item in expired:
            self.rows[item.id] = replace(item, state=OutboxState.PENDING, lease_until=None)
        return len(expired)

    async def release_leases(self) -> int:
        leased = [item for item in self.rows.values() if item.state is OutboxState.LEASED]
        for item in leased:
            self.rows[item.id] = replace(
                item, state=OutboxState.PENDING, lease_until=None, last_error=INTERRUPTED
            )
        return len(leased)

    async def holds_lease(self, item_id: int, lease_until: datetime) -> bool:
        item = self.rows.get(item_id)
        return item is not None and item.state is OutboxState.LEASED and item.lease_until == _utc(lease_until)

    async def mark_held(self, item_id: int, reason: str) -> bool:
        item = self.rows.get(item_id)
        if item is None:
            return False
        return self._set(
            item_id,
            state=OutboxState.HELD,
            lease_until=None,
            last_error=reason[:MAX_ERROR_CHARS],
            attempts=_given_back(item),
        )

    async def listed(
        self,
        *,
        states: Collection[OutboxState] | None = None,
        kinds: Collection[AlertKind] | None = None,
        limit: int = 50,
    ) -> list[OutboxItem]:
        found = [
            item
            for item in self.rows.values()
            if (states is None or item.state in states) and (kinds is None or item.kind in kinds)
        ]
        found.sort(key=lambda item: (item.created_at, item.id), reverse=True)
        return found[:limit]

    async def get(self, item_id: int) -> OutboxItem | None:
        return self.rows.get(item_id)

    async def failed(self, limit: int = 50) -> list[OutboxItem]:
        found = [item for item in self.rows.values() if item.state is OutboxState.FAILED]
        found.sort(key=lambda item: (item.created_at, item.id), reverse=True)
        return found[:limit]

    async def counts(self) -> dict[OutboxState, int]:
        found = {state: 0 for state in OutboxState}
        for item in self.rows.values():
            found[item.state] += 1
        return found


def _conforms(outbox: InMemoryAlertOutbox) -> AlertOutbox:
    """mypy checks here that the fake satisfies the protocol."""
    return outbox
