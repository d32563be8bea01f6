"""Deadline alerts of SPEC §7: their kinds and keys, who a message is addressed to, and the outbox
they go through (its rows and its port). Which alerts are due at a moment is
``frontdoor.alert_schedule``; to whom, ``frontdoor.alert_recipients``.

Alerts carry references, clock names, times and person ids only: never names or free text.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import quote, unquote

from frontdoor.calendar import require_aware
from frontdoor.records import ChannelPurpose, ClockKind

__all__ = [
    "DUTY_CHANNEL",
    "DUTY_MANAGER_EMAIL",
    "EDT_CHANNEL",
    "INTERRUPTED",
    "LATE_GRACE",
    "AlertKey",
    "AlertKind",
    "AlertOutbox",
    "OutboxItem",
    "OutboxMessage",
    "OutboxState",
    "Recipient",
    "RecipientKind",
    "email_message",
    "is_late",
    "outbox_key",
    "reroute_message",
    "utc_text",
]


#: How long after its own time an alert may go out before it is marked late: a tick or two.
LATE_GRACE = timedelta(minutes=2)

#: The ``last_error`` of a row whose sending process stopped while it was leased.
INTERRUPTED = "interrupted: the dispatcher stopped while the row was leased"


_KEY_VERSION = "a1"
#: Separates an alert key from the recipient in an outbox row key, and marks a rerouted row.
_RECIPIENT_MARK = "#"
_REROUTE_MARK = "~reroute"


class AlertKind(StrEnum):
    DUE_SOON = "due_soon"
    BREACHED = "breached"
    #: a breached child-protection clock, re-alerted while nobody has acknowledged it
    REPEAT = "repeat"
    #: the unacknowledged breach passed on to the team manager
    ESCALATION = "escalation"
    #: the end-of-day handover post itself
    HANDOVER = "handover"
    #: the handover not acknowledged by the next opening, passed on to the team manager
    HANDOVER_ESCALATION = "handover_escalation"
    #: the reminder, on a MARAC meeting day, that information requests are due back before it
    MARAC_REMINDER = "marac_reminder"
    #: a parent letter lapsed: the contact is back with its worker to review and re-apply the threshold
    LETTER_LAPSED = "letter_lapsed"
    #: Monday's figures card to the duty channel: last week against the week before (SPEC §11)
    WEEKLY_FIGURES = "weekly_figures"
    #: an alert Teams could not deliver, sent by e-mail instead (its key is the alert's)
    EMAIL = "email"
    #: urgent-only mode switched on or off (SPEC §10)
    CONTINUITY = "continuity"
    #: the EDT handover at closing: child-protection clocks open overnight (SPEC §10)
    EDT_HANDOVER = "edt_handover"
    #: the duty channel's summary at opening of what the EDT did overnight (SPEC §10)
    OVERNIGHT_SUMMARY = "overnight_summary"
    #: an e-mail has waited in the queue untaken for longer than the policy allows (``frontdoor.mail``)
    MAIL_UNTAKEN = "mail_untaken"
    #: an urgent contact created out of office hours, told to the EDT at once (SPEC §10)
    URGENT_OUT_OF_HOURS = "urgent_out_of_hours"


def utc_text(moment: datetime) -> str:
    """``moment`` in UTC as ISO 8601 with a ``Z``: one text per instant, whatever its zone."""
    return require_aware(moment).astimezone(UTC).isoformat().replace("+00:00", "Z")


def utc_moment(value: object) -> datetime:
    """The instant in a payload's ISO 8601 text (``utc_text`` writes them), in UTC."""
    return require_aware(datetime.fromisoformat(str(value))).astimezone(UTC)


def payload_part(payload: str, key: str, what: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """An outbox row's payload decoded, and the object it holds under ``key``; ``ValueError``
    saying it is not ``what`` when it holds none."""
    data = json.loads(payload)
    part = data.get(key) if isinstance(data, dict) else None
    if not isinstance(part, dict):
        raise ValueError(f"not {what} payload")
    return data, part


def _parse_utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return require_aware(moment, "time in an alert key").astimezone(UTC)


@dataclass(frozen=True, slots=True)
class AlertKey:
    """What makes an alert one alert: the subject (a contact reference, or ``handover:<day>``), the
    clock, the kind, the sequence (the repeat number; 0 otherwise) and the due time of the clock
    (SPEC §2: one alert per subject, kind and due time, so a clock that is started again on the
    same subject alerts again).

    ``text`` is stable and reversible (``AlertKey.parse``); the outbox's unique key starts with it.
    """

    subject: str
    clock: ClockKind | None
    kind: AlertKind
    sequence: int
    due_at: datetime

    def __post_init__(self) -> None:
        require_aware(self.due_at, "due_at")
        object.__setattr__(self, "due_at", self.due_at.astimezone(UTC))
        if self.sequence < 0:
            raise ValueError(f"an alert sequence is 0 or more, got {self.sequence}")
        if not self.subject:
            raise ValueError("an alert needs a subject")

    @property
    def text(self) -> str:
        clock = self.clock.value if self.clock is not None else "-"
        subject = quote(self.subject, safe="-_.:")
        return f"{_KEY_VERSION}|{subject}|{clock}|{self.kind.value}|{self.sequence}|{utc_text(self.due_at)}"

    @classmethod
    def parse(cls, text: str) -> AlertKey:
        """The key whose ``text`` is ``text``; also accepts an outbox row key (which starts with
        it). Raises ``ValueError`` for anything else."""
        head = text.split(_RECIPIENT_MARK, 1)[0]
        parts = head.split("|")
        if len(parts) != 6 or parts[0] != _KEY_VERSION:
            raise ValueError(f"not an alert key: {text!r}")
        _, subject, clock, kind, sequence, due = parts
        return cls(
            subject=unquote(subject),
            clock=None if clock == "-" else ClockKind(clock),
            kind=AlertKind(kind),
            sequence=int(sequence),
            due_at=_parse_utc(due),
        )

    def but(self, kind: AlertKind, sequence: int = 0) -> AlertKey:
        """The key of another alert about the same clock."""
        return AlertKey(self.subject, self.clock, kind, sequence, self.due_at)


# -- recipients -----------------------------------------------------------------------------------


class RecipientKind(StrEnum):
    #: a person, reached in their personal chat with the bot
    PERSON = "person"
    #: a registered channel (decisions, duty or EDT)
    CHANNEL = "channel"
    #: an e-mail address, or ``duty_manager`` for the duty manager's address in the settings
    EMAIL = "email"


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who an alert is for; the dispatcher turns it into a conversation when it sends."""

    kind: RecipientKind
    #: the Azure AD object id of a person, or the ``ChannelPurpose`` value of a channel
    address: str

    def __post_init__(self) -> None:
        if not self.address:
            raise ValueError("a recipient needs an address")
        if self.kind is RecipientKind.CHANNEL:
            ChannelPurpose(self.address)

    @classmethod
    def person(cls, person_id: str) -> Recipient:
        return cls(RecipientKind.PERSON, person_id)

    @classmethod
    def channel(cls, purpose: ChannelPurpose) -> Recipient:
        return cls(RecipientKind.CHANNEL, purpose.value)

    @classmethod
    def email(cls, address: str) -> Recipient:
        return cls(RecipientKind.EMAIL, address)

    @property
    def person_id(self) -> str | None:
        return self.address if self.kind is RecipientKind.PERSON else None

    @property
    def purpose(self) -> ChannelPurpose | None:
        return ChannelPurpose(self.address) if self.kind is RecipientKind.CHANNEL else None

    @property
    def is_duty_channel(self) -> bool:
        return self.kind is RecipientKind.CHANNEL and self.address == ChannelPurpose.DUTY.value

    @property
    def text(self) -> str:
        return f"{self.kind.value}:{quote(self.address, safe=':-_.@')}"

    @classmethod
    def parse(cls, text: str) -> Recipient:
        kind, sep, address = text.partition(":")
        if not sep:
            raise ValueError(f"not a recipient: {text!r}")
        return cls(RecipientKind(kind), unquote(address))


DUTY_CHANNEL = Recipient.channel(ChannelPurpose.DUTY)
#: The duty manager's e-mail address (``FRONTDOOR_DUTY_MANAGER_EMAIL``): the second route.
DUTY_MANAGER_EMAIL = Recipient.email("duty_manager")
EDT_CHANNEL = Recipient.channel(ChannelPurpose.EDT)


def is_late(at: datetime, now: datetime, grace: timedelta = LATE_GRACE) -> bool:
    """Whether something due at ``at`` and sent at ``now`` is late: more than ``grace`` after."""
    return require_aware(now) - require_aware(at) > grace


# -- the outbox -----------------------------------------------------------------------------------


class OutboxState(StrEnum):
    #: waiting for its time, or for its next attempt
    PENDING = "pending"
    #: claimed by a dispatcher until ``lease_until``; claimable again once that has passed
    LEASED = "leased"
    SENT = "sent"
    #: given up: a permanent failure or too many attempts (shown in ``status``)
    FAILED = "failed"
    #: not sent because it no longer applies: its clock was met or cancelled before it went out
    WITHDRAWN = "withdrawn"
    #: held back by urgent-only mode; listed (and withdrawn) when the mode ends
    HELD = "held"


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One row to enqueue: one alert (or handover) for one recipient.

    ``payload`` is a JSON object; it always holds ``"recipient"`` (``Recipient.text``) so the
    dispatcher knows where it goes. Build messages with ``OutboxMessage.create``.
    """

    key: str
    subject: str
    clock: ClockKind | None
    kind: AlertKind
    #: when it is due to go out: the alert's own time (stored as the row's ``due_at``)
    send_at: datetime
    payload: str
    conversation_id: str | None = None

    def __post_init__(self) -> None:
        require_aware(self.send_at, "send_at")

    @classmethod
    def create(
        cls,
        key: str,
        alert: AlertKey,
        recipient: Recipient,
        send_at: datetime,
        body: Mapping[str, object],
        conversation_id: str | None = None,
    ) -> OutboxMessage:
        payload = json.dumps({**body, "recipient": recipient.text}, sort_keys=True, separators=(",", ":"))
        return cls(key, alert.subject, alert.clock, alert.kind, send_at, payload, conversation_id)

    @property
    def recipient(self) -> Recipient:
        return _payload_recipient(self.payload)


def _payload_recipient(payload: str) -> Recipient:
    data = json.loads(payload)
    if not isinstance(data, dict) or not isinstance(data.get("recipient"), str):
        raise ValueError("an outbox payload must be a JSON object with a recipient")
    return Recipient.parse(data["recipient"])


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A row of the outbox as stored."""

    id: int
    key: str
    subject: str
    clock: ClockKind | None
    kind: AlertKind
    conversation_id: str | None
    payload: str
    #: when it was due to go out
    due_at: datetime
    created_at: datetime
    state: OutboxState
    attempts: int
    next_attempt_at: datetime
    lease_until: datetime | None = None
    sent_at: datetime | None = None
    activity_id: str | None = None
    last_error: str = ""

    @property
    def recipient(self) -> Recipient:
        return _payload_recipient(self.payload)

    @property
    def alert_key(self) -> AlertKey:
        return AlertKey.parse(self.key)

    @property
    def interrupted(self) -> bool:
        """Whether the last attempt was cut short by its process stopping: it may have reached
        Teams already (the Bot Connector API takes no idempotency key), so a resend may repeat it."""
        return self.last_error == INTERRUPTED

    @property
    def rerouted(self) -> bool:
        return self.key.endswith(_REROUTE_MARK)

    def late(self, now: datetime, grace: timedelta = LATE_GRACE) -> bool:
        """Whether sending it at ``now`` is late (the card then says so)."""
        return is_late(self.due_at, now, grace)


def outbox_key(alert: AlertKey, recipient: Recipient) -> str:
    """The outbox row key of ``alert`` for ``recipient``: the alert key, a mark, the recipient."""
    return f"{alert.text}{_RECIPIENT_MARK}{recipient.text}"


def reroute_message(item: OutboxItem, reason: str, to: Recipient = DUTY_CHANNEL) -> OutboxMessage:
    """The message that takes a failed item to the duty channel instead (SPEC §7: an alert that
    could not be delivered is not lost). Its key is the item's with a mark, so a failed row is
    rerouted at most once. ``reason`` must be a status and code, never content."""
    data = json.loads(item.payload)
    body: dict[str, object] = dict(data) if isinstance(data, dict) else {}
    body["rerouted_from"] = body.get("recipient", "")
    body["reroute_reason"] = reason
    payload = json.dumps({**body, "recipient": to.text}, sort_keys=True, separators=(",", ":"))
    return OutboxMessage(
        key=f"{item.key}{_REROUTE_MARK}",
        subject=item.subject,
        clock=item.clock,
        kind=item.kind,
        send_at=item.due_at,
        payload=payload,
    )


def email_message(item: OutboxItem, reason: str, to: Recipient = DUTY_MANAGER_EMAIL) -> OutboxMessage:
    """The e-mail copy of an alert Teams could not deliver (SPEC §10: the second route). Its key is
    the alert's with the e-mail recipient, so however many of the alert's rows fail, and however
    often, it is e-mailed once. It carries the alert key, the reference, the clock and the times
    only; ``reason`` must be a status and code."""
    alert = item.alert_key
    body: dict[str, object] = {
        "alert": alert.text,
        "subject": alert.subject,
        "clock": alert.clock.value if alert.clock is not None else None,
        "kind": alert.kind.value,
        "due_at": utc_text(alert.due_at),
        "at": utc_text(item.due_at),
        "reason": reason,
    }
    return OutboxMessage(
        key=outbox_key(alert, to),
        subject=item.subject,
        clock=item.clock,
        kind=AlertKind.EMAIL,
        send_at=item.due_at,
        payload=json.dumps({**body, "recipient": to.text}, sort_keys=True, separators=(",", ":")),
    )


class AlertOutbox(Protocol):
    """The durable outbox of alerts and handovers (``alert_outbox``).

    The SQL implementation works inside a unit of work: nothing is saved until it commits.
    Dispatchers ``claim`` rows (a lease, committed at once), send, then ``mark_sent`` /
    ``mark_retry`` / ``mark_failed`` in a second unit of work. A crash between sending and marking
    leaves the lease to expire and the row is sent again: delivery is at least once, exactly once
    by key at enqueue.
    """

    async def enqueue(self, messages: Iterable[OutboxMessage], now: datetime) -> int:
        """Insert each message unless a row with its key exists; returns how many were new."""
        ...

    async def planned(self, subjects: Collection[str]) -> dict[AlertKey, datetime]:
        """The alerts already enqueued about ``subjects``, with when each was first enqueued."""
        ...

    async def claim(self, now: datetime, lease: timedelta, limit: int = 20) -> list[OutboxItem]:
        """Lease up to ``limit`` rows that are due (pending with ``next_attempt_at <= now``, or
        leased with an expired lease), oldest first, counting an attempt on each. Two claimers
        never get the same row while its lease lasts."""
        ...

    async def mark_sent(
        self, item_id: int, activity_id: str | None, at: datetime, *, conversation_id: str | None = None
    ) -> bool:
        """Record the send; False if there is no such row or it was already sent."""
        ...

    async def mark_retry(
        self, item_id: int, next_attempt_at: datetime, error: str, *, attempted: bool = True
    ) -> bool:
        """Back to pending until ``next_attempt_at``; False if sent already or missing.
        ``attempted=False``: the try was throttled (429), so it gives back the attempt its claim
        counted, as ``defer`` does: throttling never uses up the attempts other failures have."""
        ...

    async def mark_failed(self, item_id: int, error: str) -> bool:
        """Given up; False if sent already or missing."""
        ...

    async def mark_withdrawn(self, item_id: int, reason: str) -> bool:
        """Not to be sent: it no longer applies. False if sent already or missing."""
        ...

    async def expire_leases(self, now: datetime) -> int:
        """Return rows whose lease has run out to pending; returns how many."""
        ...

    async def release_leases(self) -> int:
        """Return every leased row to pending at once, noting ``INTERRUPTED`` as its last error:
        for a dispatcher that has just become the only one (``scheduler.leadership``), so the rows
        a dead predecessor held need not wait out their leases. Returns how many."""
        ...

    async def holds_lease(self, item_id: int, lease_until: datetime) -> bool:
        """Whether the row is still leased as its claim left it (``lease_until`` from the claim):
        False once a new leader has released it, another dispatcher has claimed it since, or it is
        settled. A dispatcher asks just before each send, so one that lost the lead (its process
        alive, its lock gone) does not send the rows its successor released and sends itself."""
        ...

    async def defer(self, item_id: int, until: datetime) -> bool:
        """Back to pending until ``until`` without counting the claim as an attempt: the dispatcher
        held the row back (a conversation at its rate limit) rather than trying it. False if the
        row is not leased (sent, failed, pending or missing)."""
        ...

    async def sent_about(self, subject: str) -> list[OutboxItem]:
        """The rows about ``subject`` that were sent and can be updated in place (both a
        ``conversation_id`` and an ``activity_id`` recorded), oldest first."""
        ...

    async def sent_since(self, since: datetime) -> list[tuple[str, datetime]]:
        """(conversation id, sent at) of every row sent at or after ``since``, oldest first: what a
        process taking over the dispatch must count against Teams' per-conversation limits."""
        ...

    async def mark_held(self, item_id: int, reason: str) -> bool:
        """Held back by urgent-only mode (not tried: the claim's attempt is given back); False if
        sent already or missing."""
        ...

    async def listed(
        self,
        *,
        states: Collection[OutboxState] | None = None,
        kinds: Collection[AlertKind] | None = None,
        limit: int = 50,
    ) -> list[OutboxItem]:
        """Rows in ``states`` and of ``kinds`` (any when None), newest first."""
        ...

    async def get(self, item_id: int) -> OutboxItem | None: ...

    async def about(self, subject: str) -> list[OutboxItem]:
        """Every row about ``subject``, whatever its state, oldest first."""
        ...

    async def failed(self, limit: int = 50) -> list[OutboxItem]:
        """Rows given up on, newest first, for ``status``."""
        ...

    async def counts(self) -> dict[OutboxState, int]:
        """How many rows are in each state (every state present, 0 when none)."""
        ...
