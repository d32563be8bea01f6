"""The audit log's hash chain (research C6).

Each stored event carries ``row_hash = sha256(prev_hash + canonical JSON of the event)``, and the
first event's ``prev_hash`` is 64 zeros. Changing, removing or reordering a stored event breaks
every hash after it, which ``verify_chain`` finds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC

from frontdoor.records import AuditEvent, StoredAuditEvent

GENESIS_HASH = "0" * 64


def canonical_json(event: AuditEvent) -> str:
    """The event as JSON with sorted keys, no spaces and its time in UTC to the microsecond."""
    if event.at.tzinfo is None:
        raise ValueError("naive datetime refused: audit events need a timezone-aware time")
    body = {
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "action": event.action,
        "subject": event.subject,
        "detail": event.detail,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + canonical_json(event)).encode("utf-8")).hexdigest()


def verify_chain(events: Iterable[StoredAuditEvent]) -> bool:
    """Whether ``events``, the whole log in ``seq`` order, link up from the genesis hash."""
    prev = GENESIS_HASH
    for stored in events:
        if stored.prev_hash != prev or stored.row_hash != row_hash(prev, stored.event):
            return False
        prev = stored.row_hash
    return True


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first stored event that does not match the chain, and why."""

    seq: int
    reason: str


def first_break(events: Iterable[StoredAuditEvent], prev: str = GENESIS_HASH) -> ChainBreak | None:
    """Walk ``events`` (the log in ``seq`` order, from the start or from the event whose hash is
    ``prev``) and name the first that does not match; None when every one does.

    - content changed: the stored row hash is not the hash of the row's own content;
    - removed or reordered: the row's ``prev_hash`` is not the hash of the row before it.
    """
    for stored in events:
        if stored.prev_hash != prev:
            return ChainBreak(
                stored.seq,
                "its previous-row hash does not match the row before it "
                "(a row before it was removed, inserted or moved)",
            )
        if stored.row_hash != row_hash(prev, stored.event):
            return ChainBreak(stored.seq, "its content does not match its hash (the row was changed)")
        prev = stored.row_hash
    return None
