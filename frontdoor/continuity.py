"""Urgent-only mode (SPEC §10, the business continuity plan): when staff, IT, buildings or the
weather fail, a team manager switches the front door to *urgent only*, with a reason.

While it is on:

- only alerts about child-protection clocks (urgent contacts and route I decisions) and urgent
  contacts go out; every other alert (due soon, breached, lapsed letters, MARAC reminders, an
  e-mail left untaken, the unacknowledged handover's escalation) is *held* by the dispatcher: its
  outbox row is kept in the ``held`` state, not sent and not lost;
- the decisions channel and the duty channel are told, the service managers are told in their
  personal chat, and the addresses in ``continuity.notify`` (the communication co-ordinator) are
  e-mailed;
- ``status`` says so.

Switching it off lists the held alerts (reference, clock, kind, due time; the ``MAX_LISTED``
earliest due one by one, any others counted by kind and clock) to the team manager and in the
decisions and duty channels, and withdraws every held row, so they are listed once and never sent
late in a burst. A dispatcher that read the mode just before it was switched off may hold a row
after that listing: once the mode is off the dispatcher releases any row still held
(``Dispatcher.dispatch_due``), so it is sent, late, rather than held for ever.

Each switch is audited (``continuity.on`` with the reason, ``continuity.off`` with how long it
lasted and how many alerts were held); the mode itself is read back from those
audit events, so it survives restarts and is the same for every process.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from frontdoor.acting import Rules, Who
from frontdoor.alerts import (
    AlertKey,
    AlertKind,
    OutboxItem,
    OutboxMessage,
    OutboxState,
    Recipient,
    outbox_key,
    payload_part,
    utc_moment,
    utc_text,
)
from frontdoor.calendar import require_aware
from frontdoor.records import AuditEvent, ChannelPurpose, ClockKind
from frontdoor.roles import Permission, Role, may
from frontdoor.unit_of_work import UnitOfWork
from frontdoor.usecase import Refusal, RefusalReason

__all__ = [
    "CONTINUITY_SUBJECT",
    "HELD_REASON",
    "MAX_LISTED",
    "MAX_REASON_CHARS",
    "RELEASED_REASON",
    "STRAY_HOLD_REASON",
    "SWITCHED_OFF",
    "SWITCHED_ON",
    "ContinuityNotice",
    "HeldAlert",
    "Switched",
    "UrgentOnly",
    "held_alerts",
    "held_counts",
    "holds",
    "switch_urgent_only",
    "urgent_only",
]

CONTINUITY_SUBJECT: Final = "continuity"
SWITCHED_ON: Final = "continuity.on"
SWITCHED_OFF: Final = "continuity.off"
HELD_REASON: Final = "held: urgent-only mode"
RELEASED_REASON: Final = "released: listed when urgent-only mode ended"
#: A row held just after the mode ended (a dispatcher read it as on): sent rather than kept.
STRAY_HOLD_REASON: Final = "released: held as urgent-only mode ended; sent now"
MAX_REASON_CHARS: Final = 200

#: The alerts urgent-only mode holds back unless they are about a child-protection clock.
_HOLDABLE: Final = frozenset(
    {
        AlertKind.DUE_SOON,
        AlertKind.BREACHED,
        AlertKind.REPEAT,
        AlertKind.ESCALATION,
        AlertKind.LETTER_LAPSED,
        AlertKind.MARAC_REMINDER,
        AlertKind.MAIL_UNTAKEN,
        AlertKind.HANDOVER_ESCALATION,
    }
)
#: The most held alerts listed one by one when the mode ends (the rest are counted by kind and clock).
MAX_LISTED: Final = 200
#: Held rows read (and withdrawn) at a time when the mode ends, until none is left.
_PAGE: Final = 1000

_USAGE: Final = (
    "Type **continuity on** and the reason (e.g. *continuity on loss of IT*), or **continuity off**."
)


@dataclass(frozen=True, slots=True)
class UrgentOnly:
    """Urgent-only mode is on: since when, switched on by whom, and why."""

    since: datetime
    by: str
    reason: str


async def urgent_only(uow: UnitOfWork, before_seq: int | None = None) -> UrgentOnly | None:
    """The mode in force, read from the last switch in the audit log (before the event numbered
    ``before_seq``, if given); None when it is off."""
    state: UrgentOnly | None = None
    for stored in await uow.audit.for_subject(CONTINUITY_SUBJECT):
        if before_seq is not None and stored.seq >= before_seq:
            break
        event = stored.event
        if event.action == SWITCHED_ON:
            state = UrgentOnly(event.at.astimezone(UTC), event.actor_id, event.detail.removeprefix("reason="))
        elif event.action == SWITCHED_OFF:
            state = None
    return state


def holds(item: OutboxItem) -> bool:
    """Whether urgent-only mode holds ``item`` back: an alert not about a child-protection clock."""
    return item.kind in _HOLDABLE and item.clock is not ClockKind.CP_DECISION


@dataclass(frozen=True, slots=True)
class HeldAlert:
    """One alert held back while the mode was on (its recipients' rows counted once)."""

    subject: str
    clock: ClockKind | None
    kind: AlertKind
    due_at: datetime

    def data(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "clock": self.clock.value if self.clock is not None else None,
            "kind": self.kind.value,
            "due_at": utc_text(self.due_at),
        }


def held_alerts(items: Iterable[OutboxItem]) -> tuple[HeldAlert, ...]:
    """The alerts ``items`` (held rows) are about, one per alert, by due time."""
    found: dict[str, HeldAlert] = {}
    for item in items:
        try:
            key = item.alert_key
        except ValueError:
            continue
        found.setdefault(key.text, HeldAlert(key.subject, key.clock, key.kind, key.due_at))
    return tuple(sorted(found.values(), key=lambda alert: (alert.due_at, alert.subject)))


def held_counts(alerts: Iterable[HeldAlert]) -> tuple[tuple[AlertKind, ClockKind | None, int], ...]:
    """How many of ``alerts`` there are of each kind and clock, most first: the compact list of the
    held alerts beyond the ``MAX_LISTED`` listed one by one."""
    counts = Counter((alert.kind, alert.clock) for alert in alerts)
    return tuple(
        (kind, clock, count)
        for (kind, clock), count in sorted(
            counts.items(), key=lambda entry: (-entry[1], entry[0][0].value, entry[0][1] or "")
        )
    )


@dataclass(frozen=True, slots=True)
class Switched:
    """Urgent-only mode was switched ``on`` (or off): the mode as it was on, how long it lasted
    (off only), the alerts it held (off only) and how many messages were enqueued to tell people."""

    on: bool
    mode: UrgentOnly
    duration: timedelta | None = None
    held: tuple[HeldAlert, ...] = ()
    notices: int = 0


def _parse(argument: str) -> tuple[bool, str] | str:
    word, _, rest = argument.strip().partition(" ")
    match word.lower():
        case "on":
            reason = " ".join(rest.split())
            if not reason:
                return f"Please give the reason. {_USAGE}"
            if len(reason) > MAX_REASON_CHARS or not reason.isprintable():
                return f"Please keep the reason to one line of at most {MAX_REASON_CHARS} characters."
            return True, reason
        case "off" if not rest.strip():
            return False, ""
        case _:
            return _USAGE


def _notice(
    key: AlertKey, recipients: Collection[Recipient], now: datetime, body: dict[str, object]
) -> list[OutboxMessage]:
    return [OutboxMessage.create(outbox_key(key, to), key, to, now, body) for to in recipients]


async def switch_urgent_only(uow: UnitOfWork, argument: str, *, who: Who, rules: Rules) -> Switched | Refusal:
    """``continuity on <reason>`` / ``continuity off`` by ``actor_id``. Switching on tells the
    channels, the service managers and ``continuity.notify``; switching off lists what was held."""
    now = require_aware(rules.now, "now").astimezone(UTC)
    if not may(who.roles, Permission.SWITCH_CONTINUITY):
        return Refusal(RefusalReason.NOT_PERMITTED, "Sorry, only team managers can switch urgent-only mode.")
    parsed = _parse(argument)
    if isinstance(parsed, str):
        return Refusal(RefusalReason.INVALID, parsed)
    on, reason = parsed
    channels = [Recipient.channel(ChannelPurpose.DECISIONS), Recipient.channel(ChannelPurpose.DUTY)]
    async with uow:
        current = await urgent_only(uow)
        if on and current is not None:
            return Refusal(
                RefusalReason.WRONG_STATE,
                f"The front door is already in urgent-only mode (since {utc_text(current.since)}); "
                "switch it off first to give a new reason.",
            )
        if not on and current is None:
            return Refusal(RefusalReason.WRONG_STATE, "The front door is not in urgent-only mode.")
        managers = sorted({e.aad_object_id for e in await uow.roles.holders(Role.SERVICE_MANAGER)})
        people = [Recipient.person(person) for person in managers]
        if on:
            mode = UrgentOnly(now, who.actor_id, reason)
            key = AlertKey(f"{CONTINUITY_SUBJECT}:{utc_text(now)}", None, AlertKind.CONTINUITY, 0, now)
            body = _body(key, mode, on=True)
            mails = [Recipient.email(address) for address in rules.policy.continuity.notify]
            notices = await uow.alerts.enqueue(_notice(key, [*channels, *people, *mails], now, body), now)
            stored = await uow.audit.append(
                AuditEvent(now, who.actor_id, SWITCHED_ON, CONTINUITY_SUBJECT, f"reason={reason}")
            )
            switched = await _switched_meanwhile(uow, stored.seq, current)
            if switched is not None:
                return switched
            await uow.commit()
            return Switched(True, mode, notices=notices)
        assert current is not None
        # Every held row, page after page (each page withdrawn before the next is read), so none is
        # left held however many there are.
        rows: list[OutboxItem] = []
        while page := await uow.alerts.listed(states=[OutboxState.HELD], limit=_PAGE):
            for row in page:
                await uow.alerts.mark_withdrawn(row.id, RELEASED_REASON)
            rows += page
        held = held_alerts(rows)
        duration = now - current.since
        key = AlertKey(f"{CONTINUITY_SUBJECT}:{utc_text(current.since)}", None, AlertKind.CONTINUITY, 1, now)
        body = {**_body(key, current, on=False), "ended_at": utc_text(now), "ended_by": who.actor_id}
        body["held"] = [alert.data() for alert in held[:MAX_LISTED]]
        body["held_count"] = len(held)
        body["held_rest"] = [
            {"kind": kind.value, "clock": clock.value if clock else None, "count": count}
            for kind, clock, count in held_counts(held[MAX_LISTED:])
        ]
        notices = await uow.alerts.enqueue(_notice(key, [*channels, *people], now, body), now)
        minutes = int(duration.total_seconds() // 60)
        detail = f"duration_minutes={minutes}; held={len(held)}"
        stored = await uow.audit.append(
            AuditEvent(now, who.actor_id, SWITCHED_OFF, CONTINUITY_SUBJECT, detail)
        )
        switched = await _switched_meanwhile(uow, stored.seq, current)
        if switched is not None:
            return switched
        await uow.commit()
    return Switched(False, current, duration, held, notices)


async def _switched_meanwhile(uow: UnitOfWork, seq: int, read: UrgentOnly | None) -> Refusal | None:
    """A refusal, with nothing kept, when someone switched the mode after ``read`` was read and
    before this switch was appended (number ``seq``). Appending holds the audit chain's write lock
    to commit, so a switch made first has committed by now and is seen here."""
    if await urgent_only(uow, before_seq=seq) == read:
        return None
    await uow.rollback()
    return Refusal(
        RefusalReason.WRONG_STATE, "Someone switched urgent-only mode at the same moment; nothing changed."
    )


def _body(key: AlertKey, mode: UrgentOnly, *, on: bool) -> dict[str, object]:
    return {
        "alert": key.text,
        "subject": key.subject,
        "kind": key.kind.value,
        "at": utc_text(key.due_at),
        "continuity": {"on": on, "since": utc_text(mode.since), "by": mode.by, "reason": mode.reason},
    }


@dataclass(frozen=True, slots=True)
class ContinuityNotice:
    """What a continuity notice (an outbox row of kind ``continuity``) says."""

    mode: UrgentOnly
    on: bool
    held: tuple[HeldAlert, ...] = ()
    held_count: int = 0
    ended_at: datetime | None = None
    #: the held alerts not listed one by one, counted by kind and clock
    rest: tuple[tuple[AlertKind, ClockKind | None, int], ...] = ()

    @classmethod
    def from_payload(cls, payload: str) -> ContinuityNotice:
        """``ValueError`` (or ``KeyError``) if the payload is not a continuity notice."""
        data, notice = payload_part(payload, "continuity", "a continuity notice")
        mode = UrgentOnly(
            utc_moment(notice["since"]), str(notice.get("by", "")), str(notice.get("reason", ""))
        )
        held = tuple(
            HeldAlert(
                subject=str(entry["subject"]),
                clock=ClockKind(entry["clock"]) if entry.get("clock") else None,
                kind=AlertKind(entry["kind"]),
                due_at=utc_moment(entry["due_at"]),
            )
            for entry in data.get("held", [])
            if isinstance(entry, dict)
        )
        count = data.get("held_count")
        ended = data.get("ended_at")
        rest = tuple(
            (
                AlertKind(entry["kind"]),
                ClockKind(entry["clock"]) if entry.get("clock") else None,
                int(entry["count"]),
            )
            for entry in data.get("held_rest", [])
            if isinstance(entry, dict)
        )
        return cls(
            mode=mode,
            on=notice.get("on") is True,
            held=held,
            held_count=count if isinstance(count, int) else len(held),
            ended_at=utc_moment(ended) if ended is not None else None,
            rest=rest,
        )
