"""``frontdoor.ports.AuditLog`` over SQL: appends to the hash-chained ``audit_events``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, insert, select

from frontdoor.records import AuditEvent, StoredAuditEvent
from store import chain
from store.repository import SqlRepository as _Repository
from store.repository import table_of
from store.tables import AuditEventRow

_AUDIT = table_of(AuditEventRow)
#: the hash at the end of the chain, and an append to it: built once (most turns append)
_LAST_HASH = select(_AUDIT.c.row_hash).order_by(_AUDIT.c.seq.desc()).limit(1)
_APPENDED = ("at", "actor_id", "action", "subject", "detail", "prev_hash", "row_hash")
#: a subject's events (every decision card redrawn in its channel reads them), built once
_FOR_SUBJECT = select(_AUDIT).where(_AUDIT.c.subject == bindparam("subject")).order_by(_AUDIT.c.seq)
_APPEND = insert(_AUDIT).values({name: bindparam(name) for name in _APPENDED}).returning(_AUDIT.c.seq)

#: The key of the PostgreSQL advisory lock that serialises writers of the audit chain.
AUDIT_CHAIN_LOCK = 0x66_64_61_75_64_69_74  # "fdaudit"


def _stored(row: AuditEventRow | Row[Any]) -> StoredAuditEvent:
    event = AuditEvent(
        at=row.at, actor_id=row.actor_id, action=row.action, subject=row.subject, detail=row.detail
    )
    return StoredAuditEvent(seq=row.seq, event=event, prev_hash=row.prev_hash, row_hash=row.row_hash)


class SqlAuditLog(_Repository):
    async def append(self, event: AuditEvent) -> StoredAuditEvent:
        if event.at.tzinfo is None:
            raise ValueError("naive datetime refused: audit events need a timezone-aware time")
        event = replace(event, at=event.at.astimezone(UTC))
        await self._uow.begin_write()
        if self._uow.dialect == "postgresql":
            # Held to the end of the transaction: the next writer reads this row's hash.
            await self._session.execute(select(func.pg_advisory_xact_lock(AUDIT_CHAIN_LOCK)))
        last = await self._session.execute(_LAST_HASH)
        prev_hash = last.scalar_one_or_none() or chain.GENESIS_HASH
        digest = chain.row_hash(prev_hash, event)
        row = {
            "at": event.at,
            "actor_id": event.actor_id,
            "action": event.action,
            "subject": event.subject,
            "detail": event.detail,
            "prev_hash": prev_hash,
            "row_hash": digest,
        }
        seq: int = (await self._session.execute(_APPEND, row)).scalar_one()
        return StoredAuditEvent(seq=seq, event=event, prev_hash=prev_hash, row_hash=digest)

    async def between(self, start: datetime, end: datetime) -> list[StoredAuditEvent]:
        """Events at or after ``start`` and before ``end``, in order."""
        rows = await self._uow.rows(
            select(AuditEventRow)
            .where(AuditEventRow.at >= start, AuditEventRow.at < end)
            .order_by(AuditEventRow.seq)
        )
        return [_stored(row) for row in rows]

    async def for_subject(self, subject: str) -> list[StoredAuditEvent]:
        result = await self._session.execute(_FOR_SUBJECT, {"subject": subject})
        return [_stored(row) for row in result.all()]
