"""The audit log as a whole: verify its hash chain, export a period for an information-governance
request.

The log is append-only: the application only ever inserts into ``audit_events`` (and takes the
chain's lock to do so, see ``SqlAuditLog``), and the database refuses ``UPDATE`` and ``DELETE`` on
it with triggers (migration 0003). Someone with the database owner's rights can still drop the
triggers and rewrite rows; ``verify`` then names the first row that does not match. Re-hashing
every row after a change defeats the chain alone, which is why ``verify`` prints the head hash:
record it somewhere else (research C6) and check later runs against it with ``anchor``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from frontdoor.records import AuditEvent, StoredAuditEvent
from store.chain import GENESIS_HASH, ChainBreak, first_break
from store.sql import SqlStore
from store.tables import AuditEventRow

#: Rows read per query while walking the log.
BATCH = 1000

#: The columns an export holds: ids, actions and times, never free text.
EXPORT_COLUMNS = ("seq", "at", "actor_id", "action", "subject", "row_hash")


@dataclass(frozen=True, slots=True)
class Anchor:
    """A row's hash recorded outside the database: ``SEQ:HASH``."""

    seq: int
    row_hash: str

    @classmethod
    def parse(cls, text: str) -> Anchor:
        seq, _, digest = text.strip().partition(":")
        if not seq.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError("an anchor is SEQ:HASH, e.g. 1234:<64 hex digits> as printed by `audit verify`")
        return cls(int(seq), digest)

    def __str__(self) -> str:
        return f"{self.seq}:{self.row_hash}"


@dataclass(frozen=True, slots=True)
class ChainReport:
    events: int
    #: the last row, as an anchor to record elsewhere (None for an empty log)
    head: Anchor | None
    problem: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.problem is None


def _stored(row: AuditEventRow) -> StoredAuditEvent:
    event = AuditEvent(
        at=row.at, actor_id=row.actor_id, action=row.action, subject=row.subject, detail=row.detail
    )
    return StoredAuditEvent(seq=row.seq, event=event, prev_hash=row.prev_hash, row_hash=row.row_hash)


async def _rows(store: SqlStore, batch: int = BATCH) -> AsyncIterator[StoredAuditEvent]:
    """The whole log in ``seq`` order, a batch per query (the log only grows)."""
    after = -1
    while True:
        async with store.unit_of_work() as uow:
            rows = await uow.rows(
                select(AuditEventRow)
                .where(AuditEventRow.seq > after)
                .order_by(AuditEventRow.seq)
                .limit(batch)
            )
            events = [_stored(row) for row in rows]
        if not events:
            return
        for stored in events:
            yield stored
        after = events[-1].seq


async def verify(store: SqlStore, anchor: Anchor | None = None, batch: int = BATCH) -> ChainReport:
    """Walk the whole chain. With ``anchor``, the row it names must still carry its hash: that also
    catches rows re-hashed after a change, and rows removed from the end."""
    count = 0
    prev = GENESIS_HASH
    last: StoredAuditEvent | None = None
    anchor_seen = anchor is None
    async for stored in _rows(store, batch):
        problem = first_break([stored], prev)
        if problem is not None:
            return ChainReport(count, None, problem)
        if anchor is not None and stored.seq == anchor.seq:
            anchor_seen = True
            if stored.row_hash != anchor.row_hash:
                return ChainReport(
                    count, None, ChainBreak(stored.seq, "its hash is not the one recorded in the anchor")
                )
        prev = stored.row_hash
        last = stored
        count += 1
    head = None if last is None else Anchor(last.seq, last.row_hash)
    if not anchor_seen and anchor is not None:
        return ChainReport(
            count,
            head,
            ChainBreak(anchor.seq, "the anchored row is missing (rows were removed from the log)"),
        )
    return ChainReport(count, head, None)


async def export_csv(store: SqlStore, start: datetime, end: datetime) -> str:
    """Events at or after ``start`` and before ``end`` as CSV: ids, actions and times only. The
    ``detail`` column is left out: it holds role keys and reasons, and an export must never carry
    free text about a child."""
    async with store.unit_of_work() as uow:
        events = await uow.audit.between(start, end)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for stored in events:
        event = stored.event
        writer.writerow(
            [
                stored.seq,
                event.at.isoformat(timespec="seconds"),
                _cell(event.actor_id),
                _cell(event.action),
                _cell(event.subject),
                stored.row_hash,
            ]
        )
    return out.getvalue()


def _cell(value: str) -> str:
    """Keep a spreadsheet from reading a cell as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
