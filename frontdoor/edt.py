"""The emergency duty team's handover, their overnight action, and the morning summary (SPEC §10).

- **EDT handover**: at closing (``office_hours.closing``, 17:00) on each working day, the EDT
  channel is sent the urgent contacts and child-protection clocks still open overnight, each with
  when it is due, and the EDT staff on the rota @mentioned. A bot that was down at closing posts it
  when it is back (marked late) as long as the office has not opened again. EDT staff take items
  on it ("I'll take it"): that is an ``alert.acknowledged`` of the child-protection clock
  (``dispatch.acknowledge_alert``), which stops its repeats and escalation.
- **Urgent contacts out of hours**: an urgent contact created out of office hours (before opening,
  from closing, weekends, bank holidays, closure dates) is told to the EDT channel at once, with
  the EDT staff on the rota @mentioned (``tell_edt_of_urgent_contact``, in the transaction that
  creates the contact, through the outbox). The decisions channel still gets its card. Without an
  EDT channel nothing is enqueued and the officer is told to phone the EDT.
- **Overnight action**: ``overnight CT-… <what was done>`` records a short note on the contact
  (a contact event shown in its record; audited as ``contact.edt_overnight_action`` without the
  text).
- **Overnight summary**: at opening on each working day, the duty channel is sent what happened
  since the last closing: which clocks EDT took, on which contacts an overnight action was
  recorded (the notes themselves are read in the record, never on a channel card), and the
  child-protection clocks still open.

Both posts go through the alert outbox under keys of their day, so each is posted exactly once, and
only once an EDT channel is registered (a service that does not use the bot out of hours gets
neither).
Payloads carry references, ids and times only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final

from frontdoor.acting import Rules, Who
from frontdoor.alert_recipients import Staffing
from frontdoor.alert_schedule import Acknowledgement, acknowledgement_from_event
from frontdoor.alerts import (
    DUTY_CHANNEL,
    EDT_CHANNEL,
    AlertKey,
    AlertKind,
    OutboxMessage,
    is_late,
    outbox_key,
    payload_part,
    utc_moment,
    utc_text,
)
from frontdoor.calendar import WorkingCalendar, require_aware
from frontdoor.contact import Contact
from frontdoor.outcomes import note
from frontdoor.records import ChannelPurpose, ClockKind, Deadline
from frontdoor.roles import Permission, Role, may
from frontdoor.unit_of_work import UnitOfWork, UnitOfWorkFactory
from frontdoor.usecase import (
    AlreadyDecided,
    Refusal,
    RefusalReason,
    audit_event,
    load_contact,
    not_permitted,
    save_or_race,
)

__all__ = [
    "OVERNIGHT_ACTION",
    "OVERNIGHT_AUDIT",
    "EdtHandover",
    "EdtItem",
    "OvernightRecorded",
    "OvernightSummary",
    "UrgentOutOfHours",
    "edt_handover_day",
    "post_due_edt_handover",
    "post_due_overnight_summary",
    "record_overnight_action",
    "takers",
    "tell_edt_of_urgent_contact",
]

#: The contact event that records what the EDT did overnight.
OVERNIGHT_ACTION: Final = "edt_overnight_action"
OVERNIGHT_AUDIT: Final = f"contact.{OVERNIGHT_ACTION}"
_HANDOVER: Final = "edt-handover:"
_SUMMARY: Final = "overnight:"
_MAX_DEADLINES: Final = 10_000
_FAR: Final = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class EdtItem:
    """An open child-protection clock: its contact, when it started and when it is due."""

    subject: str
    started_at: datetime
    due_at: datetime
    assignee_id: str | None = None

    @property
    def key(self) -> AlertKey:
        """The clock's breach alert key: what "I'll take it" acknowledges."""
        return AlertKey(self.subject, ClockKind.CP_DECISION, AlertKind.BREACHED, 0, self.due_at)

    def data(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "started_at": utc_text(self.started_at),
            "due_at": utc_text(self.due_at),
            "assignee_id": self.assignee_id,
        }

    @classmethod
    def of(cls, data: Mapping[str, object]) -> EdtItem:
        assignee = data.get("assignee_id")
        return cls(
            str(data["subject"]),
            utc_moment(data["started_at"]),
            utc_moment(data["due_at"]),
            assignee if isinstance(assignee, str) and assignee else None,
        )

    @classmethod
    def of_deadline(cls, deadline: Deadline) -> EdtItem:
        return cls(deadline.subject, deadline.started_at, deadline.due_at, deadline.assignee_id)


def _items(deadlines: Iterable[Deadline]) -> tuple[EdtItem, ...]:
    cp = [EdtItem.of_deadline(d) for d in deadlines if d.clock is ClockKind.CP_DECISION]
    return tuple(sorted(cp, key=lambda item: (item.due_at, item.subject)))


def takers(
    acknowledgements: Iterable[Acknowledgement], items: Iterable[EdtItem]
) -> dict[str, Acknowledgement]:
    """Who took each item (by reference): the first acknowledgement of its clock since it started."""
    found: dict[str, Acknowledgement] = {}
    by_subject = {item.subject: item for item in items}
    for ack in sorted(acknowledgements, key=lambda a: a.at):
        item = by_subject.get(ack.subject)
        if item is not None and ack.clock is ClockKind.CP_DECISION and ack.at >= item.started_at:
            found.setdefault(ack.subject, ack)
    return found


async def acknowledgements_of(uow: UnitOfWork, subjects: Iterable[str]) -> list[Acknowledgement]:
    found: list[Acknowledgement] = []
    for subject in sorted(set(subjects)):
        for stored in await uow.audit.for_subject(subject):
            ack = acknowledgement_from_event(stored.event)
            if ack is not None:
                found.append(ack)
    return found


async def _uses_edt(uow: UnitOfWork) -> bool:
    """A service without an EDT channel does not use the bot out of hours: no handover, no summary."""
    return await uow.channels.get(ChannelPurpose.EDT) is not None


# -- the EDT handover ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EdtHandover:
    """The EDT handover of ``day``: posted at its closing, for the night until ``opens``."""

    day: date
    closing: datetime
    opens: datetime
    items: tuple[EdtItem, ...]
    #: the EDT staff on the rota, to @mention
    edt: tuple[str, ...] = ()

    @property
    def key(self) -> AlertKey:
        return AlertKey(f"{_HANDOVER}{self.day.isoformat()}", None, AlertKind.EDT_HANDOVER, 0, self.closing)

    def body(self) -> dict[str, object]:
        return {
            "alert": self.key.text,
            "subject": self.key.subject,
            "kind": self.key.kind.value,
            "at": utc_text(self.closing),
            "people": list(self.edt),
            "edt_handover": {
                "day": self.day.isoformat(),
                "closing": utc_text(self.closing),
                "opens": utc_text(self.opens),
                "items": [item.data() for item in self.items],
            },
        }

    @classmethod
    def from_payload(cls, payload: str) -> EdtHandover:
        """``ValueError`` or ``KeyError`` if the payload is not an EDT handover."""
        data, handover = payload_part(payload, "edt_handover", "an EDT handover")
        people = data.get("people")
        return cls(
            day=date.fromisoformat(str(handover["day"])),
            closing=utc_moment(handover["closing"]),
            opens=utc_moment(handover["opens"]),
            items=tuple(EdtItem.of(item) for item in handover.get("items", []) if isinstance(item, dict)),
            edt=tuple(p for p in people if isinstance(p, str)) if isinstance(people, list) else (),
        )


def edt_handover_day(now: datetime, calendar: WorkingCalendar) -> date | None:
    """The working day whose EDT handover is due at ``now``: the last closing at or before ``now``,
    as long as the office has not opened since. None during office hours."""
    now = require_aware(now, "now").astimezone(UTC)
    day = now.astimezone(calendar.tz).date()
    if not (calendar.is_working_day(day) and now >= calendar.closing_on(day)):
        day = calendar.previous_working_day(day)
    closing = calendar.closing_on(day)
    return day if closing <= now < calendar.next_opening(closing) else None


@dataclass(frozen=True, slots=True)
class Posted:
    day: date
    late: bool


async def post_due_edt_handover(unit_of_work: UnitOfWorkFactory, *, rules: Rules) -> Posted | None:
    """Enqueue the EDT handover if it is due and not enqueued yet (the scheduler's job)."""
    day = edt_handover_day(rules.now, rules.calendar)
    if day is None:
        return None
    closing = rules.calendar.closing_on(day)
    async with unit_of_work() as uow:
        subject = f"{_HANDOVER}{day.isoformat()}"
        if not await _uses_edt(uow) or await uow.alerts.planned([subject]):
            return None
        deadlines = await uow.deadlines.open_due_before(_FAR, _MAX_DEADLINES)
        staffing = Staffing.of(await uow.rota.on(day), await uow.roles.entries())
        handover = EdtHandover(
            day,
            closing,
            rules.calendar.next_opening(closing),
            _items(deadlines),
            staffing.on_duty(Role.EDT, day),
        )
        message = OutboxMessage.create(
            outbox_key(handover.key, EDT_CHANNEL), handover.key, EDT_CHANNEL, closing, handover.body()
        )
        added = await uow.alerts.enqueue([message], rules.now)
        await uow.commit()
    return Posted(day, is_late(closing, rules.now)) if added else None


# -- urgent contacts out of hours ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UrgentOutOfHours:
    """An urgent contact created out of office hours, for the EDT channel: its reference, when it
    was received and created, when its child-protection decision is due, and the EDT to @mention."""

    subject: str
    received_at: datetime
    created_at: datetime
    due_at: datetime
    edt: tuple[str, ...] = ()

    @property
    def key(self) -> AlertKey:
        return AlertKey(self.subject, ClockKind.CP_DECISION, AlertKind.URGENT_OUT_OF_HOURS, 0, self.due_at)

    def body(self) -> dict[str, object]:
        return {
            "alert": self.key.text,
            "subject": self.subject,
            "kind": self.key.kind.value,
            "at": utc_text(self.created_at),
            "people": list(self.edt),
            "urgent_out_of_hours": {
                "received_at": utc_text(self.received_at),
                "due_at": utc_text(self.due_at),
            },
        }

    @classmethod
    def from_payload(cls, payload: str) -> UrgentOutOfHours:
        """``ValueError`` or ``KeyError`` if the payload is not one of these."""
        data, urgent = payload_part(payload, "urgent_out_of_hours", "an urgent-out-of-hours")
        people = data.get("people")
        return cls(
            subject=str(data["subject"]),
            received_at=utc_moment(urgent["received_at"]),
            created_at=utc_moment(data["at"]),
            due_at=utc_moment(urgent["due_at"]),
            edt=tuple(p for p in people if isinstance(p, str)) if isinstance(people, list) else (),
        )


async def tell_edt_of_urgent_contact(
    uow: UnitOfWork, reference: str, deadlines: Iterable[Deadline], *, rules: Rules
) -> bool | None:
    """Out of office hours, enqueue (in the caller's unit of work) the EDT channel's notice of the
    urgent contact ``reference`` whose child-protection clock is among ``deadlines``, @mentioning the
    EDT staff on the rota for today (every EDT holder when nobody is). True: told; False: out of
    hours but no EDT channel is registered; None: office hours (or no child-protection clock)."""
    now = require_aware(rules.now, "now").astimezone(UTC)
    clock = next((d for d in deadlines if d.clock is ClockKind.CP_DECISION), None)
    if clock is None or rules.calendar.in_office_hours(now):
        return None
    if not await _uses_edt(uow):
        return False
    day = now.astimezone(rules.calendar.tz).date()
    staffing = Staffing.of(await uow.rota.on(day), await uow.roles.entries())
    notice = UrgentOutOfHours(reference, clock.started_at, now, clock.due_at, staffing.on_duty(Role.EDT, day))
    message = OutboxMessage.create(
        outbox_key(notice.key, EDT_CHANNEL), notice.key, EDT_CHANNEL, now, notice.body()
    )
    await uow.alerts.enqueue([message], now)
    return True


# -- overnight action -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OvernightRecorded:
    contact: Contact


async def record_overnight_action(
    uow: UnitOfWork, reference: str, text: str, *, who: Who, rules: Rules
) -> OvernightRecorded | Refusal | AlreadyDecided:
    """Record on the contact ``reference`` what the emergency duty team did overnight."""
    require_aware(rules.now, "now")
    if not may(who.roles, Permission.OVERNIGHT_ACTION):
        return not_permitted([Role.EDT], "record overnight action")
    text = text.strip()
    if not text:
        return Refusal(
            RefusalReason.INVALID, "Say what was done, e.g. *overnight CT-26-000123 visited, child safe*."
        )
    if len(text) > rules.policy.limits.max_free_text_chars:
        return Refusal(
            RefusalReason.INVALID,
            f"Please keep the note to {rules.policy.limits.max_free_text_chars} characters.",
        )
    async with uow:
        found = await uow.contacts.get_by_reference(reference)
        if found is None:
            return Refusal(RefusalReason.NOT_FOUND, f"No contact {reference}: nothing was recorded.")
        loaded = await load_contact(uow, found.id, who.actor_id, found.version)
        if not isinstance(loaded, Contact):
            return loaded
        saved = await save_or_race(
            uow, note(loaded, who.actor_id, rules.now, OVERNIGHT_ACTION, text), loaded.version, who.actor_id
        )
        if isinstance(saved, AlreadyDecided):
            return saved
        await uow.audit.append(audit_event(rules.now, who.actor_id, OVERNIGHT_AUDIT, reference))
        await uow.commit()
    return OvernightRecorded(saved)


# -- the overnight summary ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OvernightEntry:
    """Something the EDT did overnight: took a clock, or recorded an action (reference, who, when)."""

    subject: str
    person_id: str
    at: datetime
    took: bool

    def data(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "person_id": self.person_id,
            "at": utc_text(self.at),
            "took": self.took,
        }


@dataclass(frozen=True, slots=True)
class OvernightSummary:
    """What happened between the last closing (``since``) and ``day``'s opening."""

    day: date
    since: datetime
    opening: datetime
    entries: tuple[OvernightEntry, ...]
    #: child-protection clocks still open at opening
    open_items: tuple[EdtItem, ...]

    @property
    def key(self) -> AlertKey:
        return AlertKey(
            f"{_SUMMARY}{self.day.isoformat()}", None, AlertKind.OVERNIGHT_SUMMARY, 0, self.opening
        )

    def body(self) -> dict[str, object]:
        return {
            "alert": self.key.text,
            "subject": self.key.subject,
            "kind": self.key.kind.value,
            "at": utc_text(self.opening),
            "overnight": {
                "day": self.day.isoformat(),
                "since": utc_text(self.since),
                "opening": utc_text(self.opening),
                "entries": [entry.data() for entry in self.entries],
                "open": [item.data() for item in self.open_items],
            },
        }

    @classmethod
    def from_payload(cls, payload: str) -> OvernightSummary:
        _, summary = payload_part(payload, "overnight", "an overnight summary")
        return cls(
            day=date.fromisoformat(str(summary["day"])),
            since=utc_moment(summary["since"]),
            opening=utc_moment(summary["opening"]),
            entries=tuple(
                OvernightEntry(
                    str(e["subject"]), str(e["person_id"]), utc_moment(e["at"]), e.get("took") is True
                )
                for e in summary.get("entries", [])
                if isinstance(e, dict)
            ),
            open_items=tuple(EdtItem.of(item) for item in summary.get("open", []) if isinstance(item, dict)),
        )


async def post_due_overnight_summary(unit_of_work: UnitOfWorkFactory, *, rules: Rules) -> Posted | None:
    """Enqueue the overnight summary to the duty channel on a working day from its opening until
    its closing, once (the scheduler's job)."""
    now = require_aware(rules.now, "now").astimezone(UTC)
    day = now.astimezone(rules.calendar.tz).date()
    opening = rules.calendar.opening_on(day)
    if not rules.calendar.is_working_day(day) or not opening <= now < rules.calendar.closing_on(day):
        return None
    since = rules.calendar.closing_on(rules.calendar.previous_working_day(day))
    async with unit_of_work() as uow:
        subject = f"{_SUMMARY}{day.isoformat()}"
        if not await _uses_edt(uow) or await uow.alerts.planned([subject]):
            return None
        edt = {entry.aad_object_id for entry in await uow.roles.holders(Role.EDT)}
        entries: list[OvernightEntry] = []
        for stored in await uow.audit.between(since, opening):
            event = stored.event
            if event.action == OVERNIGHT_AUDIT:
                entries.append(OvernightEntry(event.subject, event.actor_id, event.at, took=False))
            elif acknowledgement_from_event(event) is not None and event.actor_id in edt:
                entries.append(OvernightEntry(event.subject, event.actor_id, event.at, took=True))
        deadlines = await uow.deadlines.open_due_before(_FAR, _MAX_DEADLINES)
        summary = OvernightSummary(day, since, opening, tuple(entries), _items(deadlines))
        message = OutboxMessage.create(
            outbox_key(summary.key, DUTY_CHANNEL), summary.key, DUTY_CHANNEL, opening, summary.body()
        )
        added = await uow.alerts.enqueue([message], now)
        await uow.commit()
    return Posted(day, is_late(opening, now)) if added else None
