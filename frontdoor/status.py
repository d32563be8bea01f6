"""``status`` (SPEC §7): open contacts against the band, workers' loads against the cap, breached and
at-risk clocks, the chats and channels the bot can no longer post to, the alerts given up on and those
sent by e-mail, the outbox's counts, the registered channels and urgent-only mode.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from frontdoor.acting import Rules
from frontdoor.alerts import AlertKind, OutboxItem, OutboxState, Recipient
from frontdoor.continuity import UrgentOnly, urgent_only
from frontdoor.duty import _build, _local_day, _utc
from frontdoor.handover import ClockLine, OpenContactCount, WorkerLoad
from frontdoor.records import ChannelPurpose, ClockKind, ConversationKind
from frontdoor.unit_of_work import UnitOfWork

__all__ = [
    "DeadConversation",
    "EmailedAlert",
    "Status",
    "UndeliveredAlert",
    "system_status",
]


@dataclass(frozen=True, slots=True)
class DeadConversation:
    """A chat or channel the bot can no longer post to (Teams answered 403 or 404)."""

    conversation_id: str
    kind: ConversationKind
    #: the person of a personal chat
    person_id: str | None
    #: the purpose of a registered channel
    purpose: ChannelPurpose | None
    #: Teams' error code
    reason: str
    since: datetime


@dataclass(frozen=True, slots=True)
class UndeliveredAlert:
    """An outbox row given up on: its kind, subject, recipient, when it was due and why it failed
    (a status and a code)."""

    id: int
    kind: AlertKind
    subject: str
    recipient: Recipient | None
    due_at: datetime
    attempts: int
    error: str


@dataclass(frozen=True, slots=True)
class EmailedAlert:
    """An alert Teams could not deliver, sent (or being sent) by e-mail: the second route."""

    subject: str
    clock: ClockKind | None
    #: the kind of the alert that went by e-mail (due soon, breached…)
    kind: AlertKind
    due_at: datetime
    state: OutboxState
    sent_at: datetime | None
    error: str

    @classmethod
    def of(cls, item: OutboxItem) -> EmailedAlert:
        key = item.alert_key
        return cls(key.subject, key.clock, key.kind, key.due_at, item.state, item.sent_at, item.last_error)


@dataclass(frozen=True, slots=True)
class Status:
    made_at: datetime
    open_contacts: OpenContactCount
    loads: tuple[WorkerLoad, ...]
    breached: tuple[ClockLine, ...]
    #: red or amber clocks not yet breached
    at_risk: tuple[ClockLine, ...]
    dead: tuple[DeadConversation, ...]
    undelivered: tuple[UndeliveredAlert, ...]
    outbox: Mapping[OutboxState, int]
    #: which channels are registered
    channels: Mapping[ChannelPurpose, bool]
    #: urgent-only mode, when it is on (SPEC §10)
    urgent_only: UrgentOnly | None = None
    #: alerts that went (or are going) by e-mail, newest first
    emailed: tuple[EmailedAlert, ...] = ()


def _recipient(item_payload: str) -> Recipient | None:
    try:
        data = json.loads(item_payload)
        text = data.get("recipient") if isinstance(data, dict) else None
        return Recipient.parse(text) if isinstance(text, str) else None
    except ValueError:
        return None


async def system_status(uow: UnitOfWork, failed_limit: int = 20, *, rules: Rules) -> Status:
    """Open contacts against the band, loads against the cap, breached and at-risk clocks, dead
    conversations and undelivered alerts, at ``now``."""
    now = _utc(rules.now)
    async with uow:
        handover = await _build(
            uow,
            _local_day(now, rules.calendar),
            rules=Rules(now, rules.calendar, rules.policy),
        )
        registrations = {purpose: await uow.channels.get(purpose) for purpose in ChannelPurpose}
        dead = await uow.conversations.dead()
        failed = await uow.alerts.failed(failed_limit)
        counts = await uow.alerts.counts()
        mode = await urgent_only(uow)
        emailed = await uow.alerts.listed(kinds=[AlertKind.EMAIL], limit=failed_limit)
    by_conversation = {
        registration.conversation_id: purpose
        for purpose, registration in registrations.items()
        if registration is not None
    }
    return Status(
        made_at=now,
        open_contacts=handover.open_contacts,
        loads=handover.loads,
        breached=handover.breached(),
        at_risk=tuple(line for line in handover.at_risk if not line.breached),
        dead=tuple(
            DeadConversation(
                conversation_id=record.conversation_id,
                kind=record.kind,
                person_id=record.user_id if record.kind is ConversationKind.PERSONAL else None,
                purpose=by_conversation.get(record.conversation_id),
                reason=record.dead_reason,
                since=_utc(record.updated_at, "updated_at"),
            )
            for record in dead
        ),
        undelivered=tuple(
            UndeliveredAlert(
                id=item.id,
                kind=item.kind,
                subject=item.subject,
                recipient=_recipient(item.payload),
                due_at=_utc(item.due_at, "due_at"),
                attempts=item.attempts,
                error=item.last_error,
            )
            for item in failed
        ),
        outbox=dict(counts),
        channels={purpose: registration is not None for purpose, registration in registrations.items()},
        urgent_only=mode,
        emailed=tuple(EmailedAlert.of(item) for item in emailed),
    )
