"""The end-of-day handover of SPEC §7: when it is due, what it says, and its escalation.

At ``handover.at`` (16:30 by default) on each working day (never at a weekend, on a bank holiday
or a closure date) the duty channel gets:

- the contacts reassigned to social workers that are still open, with worker, age and due time
  (the seed procedure: the duty manager "keeps track of the contacts reassigned to social workers
  and messages the next duty manager where they remain open at the end of the day");
- every breached or at-risk clock (RAG red or amber);
- what falls due before the next working day opens;
- the open contacts against the target band (50–85 by default);
- each social worker's load against the cap;
- the next duty manager, from the next working day's rota, to @mention;
- urgent contacts whose history checks are still outstanding (SPEC §3).

The incoming duty manager acknowledges it; if nobody has by the next opening, it is escalated to
the team manager (``plan_handover_escalation``).

Everything here is computed from plain inputs, so it is the same on demand (``handover``) as at
16:30. It holds references, clock names, times, counts and person ids only: never a child's name
or any free text.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from frontdoor.alert_recipients import Staffing, recipients_for
from frontdoor.alert_schedule import PlannedAlert
from frontdoor.alerts import DUTY_CHANNEL, AlertKey, AlertKind, OutboxMessage, is_late, outbox_key, utc_text
from frontdoor.calendar import WorkingCalendar, require_aware
from frontdoor.clocks import clock_rule
from frontdoor.contact import Contact, ContactState
from frontdoor.policy import Policy
from frontdoor.rag import Rag, rag_status
from frontdoor.records import ClockKind, Deadline, DeadlineState
from frontdoor.roles import Role

__all__ = [
    "OPEN_STATES",
    "BandPosition",
    "ClockLine",
    "Handover",
    "HandoverContact",
    "OpenContactCount",
    "ReassignedContact",
    "WorkerLoad",
    "build_handover",
    "handover_at",
    "handover_day_of",
    "handover_escalation_at",
    "handover_key",
    "handover_message",
    "next_handover_at",
    "plan_handover_escalation",
    "previous_handover_at",
]

#: States in which a contact is open at the front door (counted against the band and loads).
OPEN_STATES: frozenset[ContactState] = frozenset(
    {
        ContactState.AWAITING_SCREENING,
        ContactState.CP_DECISION,
        ContactState.REFERRAL_ACCEPTED,
        ContactState.OFFICER_WORK,
        ContactState.SW_ASSESSMENT,
        ContactState.DUTY_MANAGER_REVIEW,
        ContactState.AWAITING_SIGNOFF,
    }
)

_HANDOVER_SUBJECT = "handover:"


# -- when -----------------------------------------------------------------------------------------


def handover_at(day: date, calendar: WorkingCalendar, policy: Policy) -> datetime | None:
    """The handover instant of ``day`` in UTC (local ``handover.at``, so it keeps its wall-clock
    time across a clock change), or None when ``day`` is not a working day."""
    if not calendar.is_working_day(day):
        return None
    return datetime.combine(day, policy.handover.at, tzinfo=calendar.tz).astimezone(UTC)


def next_handover_at(now: datetime, calendar: WorkingCalendar, policy: Policy) -> datetime:
    """The first handover at or after ``now``."""
    day = require_aware(now, "now").astimezone(calendar.tz).date()
    if not calendar.is_working_day(day):
        day = calendar.next_working_day(day)
    moment = handover_at(day, calendar, policy)
    if moment is not None and moment >= now:
        return moment
    following = handover_at(calendar.next_working_day(day), calendar, policy)
    assert following is not None  # a working day always has a handover
    return following


def previous_handover_at(now: datetime, calendar: WorkingCalendar, policy: Policy) -> datetime:
    """The last handover at or before ``now`` (for catching up after the bot was down)."""
    day = require_aware(now, "now").astimezone(calendar.tz).date()
    if not calendar.is_working_day(day):
        day = calendar.previous_working_day(day)
    moment = handover_at(day, calendar, policy)
    if moment is not None and moment <= now:
        return moment
    earlier = handover_at(calendar.previous_working_day(day), calendar, policy)
    assert earlier is not None
    return earlier


def handover_day_of(moment: datetime, calendar: WorkingCalendar) -> date:
    """The local date of a handover instant."""
    return require_aware(moment).astimezone(calendar.tz).date()


def handover_escalation_at(day: date, calendar: WorkingCalendar) -> datetime:
    """When the handover of ``day`` escalates if still unacknowledged: the next working day's
    opening (a Friday's handover escalates on Monday morning, or Tuesday after a bank holiday)."""
    return calendar.opening_on(calendar.next_working_day(day))


def handover_key(day: date, calendar: WorkingCalendar, policy: Policy) -> AlertKey:
    """The outbox key of the handover post of ``day`` (a working day)."""
    moment = handover_at(day, calendar, policy)
    if moment is None:
        raise ValueError(f"{day.isoformat()} is not a working day: it has no handover")
    return AlertKey(f"{_HANDOVER_SUBJECT}{day.isoformat()}", None, AlertKind.HANDOVER, 0, moment)


def plan_handover_escalation(
    day: date,
    now: datetime,
    calendar: WorkingCalendar,
    policy: Policy,
    already: Mapping[AlertKey, datetime],
    *,
    acknowledged: bool,
    staffing: Staffing | None = None,
) -> PlannedAlert | None:
    """The escalation of ``day``'s handover, if it is due at ``now``: the handover was posted
    (its key is in ``already``), nobody has acknowledged it, the next opening has come, and the
    escalation has not been enqueued yet. It goes to the team managers on duty that day and the
    duty channel."""
    posted = handover_key(day, calendar, policy)
    at = handover_escalation_at(day, calendar)
    key = posted.but(AlertKind.HANDOVER_ESCALATION)
    if acknowledged or posted not in already or key in already or now < at:
        return None
    today = require_aware(now).astimezone(calendar.tz).date()
    return PlannedAlert(
        key=key,
        at=at,
        started_at=posted.due_at,
        assignee_id=None,
        recipients=recipients_for(key.kind, None, today, staffing or Staffing()),
        late=is_late(at, now),
    )


# -- what -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HandoverContact:
    """What the handover needs of a contact: its reference, state, received time and assignee."""

    reference: str
    state: ContactState
    received_at: datetime
    assignee_id: str | None = None
    #: an urgent contact created before its history checks, which nobody has recorded yet
    history_outstanding: bool = False

    @classmethod
    def of(cls, contact: Contact) -> HandoverContact | None:
        """The handover view of a submitted contact (None for a draft without a reference)."""
        if contact.reference is None or contact.received_at is None:
            return None
        outstanding = contact.urgent and not contact.history.recorded
        return cls(contact.reference, contact.state, contact.received_at, contact.assignee_id, outstanding)

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES


@dataclass(frozen=True, slots=True)
class ReassignedContact:
    """A contact with a social worker that is still open."""

    reference: str
    worker_id: str
    state: ContactState
    received_at: datetime
    #: elapsed time since it was received
    age: timedelta
    #: its soonest open clock, if any
    due_at: datetime | None
    clock: ClockKind | None
    rag: Rag | None


@dataclass(frozen=True, slots=True)
class ClockLine:
    subject: str
    clock: ClockKind
    started_at: datetime
    due_at: datetime
    rag: Rag
    assignee_id: str | None
    #: the due time had come when the handover was made
    breached: bool


class BandPosition(StrEnum):
    BELOW = "below"
    WITHIN = "within"
    ABOVE = "above"


@dataclass(frozen=True, slots=True)
class OpenContactCount:
    """Open contacts against the target band (SPEC §7; the contact protocol's 5.4). Above the band
    is red (a backlog building); within it green; below it has no rating: fewer open contacts is not
    a concern in itself (a quiet day, or room to take more), so nothing flags it."""

    count: int
    band_low: int
    band_high: int

    @property
    def position(self) -> BandPosition:
        if self.count < self.band_low:
            return BandPosition.BELOW
        if self.count > self.band_high:
            return BandPosition.ABOVE
        return BandPosition.WITHIN

    @property
    def rag(self) -> Rag | None:
        return {BandPosition.WITHIN: Rag.GREEN, BandPosition.ABOVE: Rag.RED}.get(self.position)


@dataclass(frozen=True, slots=True)
class WorkerLoad:
    """A social worker's open contacts against the cap: green below it, amber at it (no more can be
    allocated), red over it."""

    worker_id: str
    open_contacts: int
    cap: int

    @property
    def rag(self) -> Rag:
        if self.open_contacts > self.cap:
            return Rag.RED
        if self.open_contacts == self.cap:
            return Rag.AMBER
        return Rag.GREEN


@dataclass(frozen=True, slots=True)
class Handover:
    """The handover content (SPEC §7)."""

    #: the working day it hands over (the local date it was made on)
    day: date
    made_at: datetime
    next_opening: datetime
    reassigned: tuple[ReassignedContact, ...]
    #: breached clocks first, then red, then amber; soonest due first within each
    at_risk: tuple[ClockLine, ...]
    #: open clocks not yet due that fall due before ``next_opening``, soonest first
    due_before_opening: tuple[ClockLine, ...]
    open_contacts: OpenContactCount
    loads: tuple[WorkerLoad, ...]
    next_duty_day: date
    next_duty_managers: tuple[str, ...]
    #: False when nobody is on the rota as duty manager that day (every duty manager is named)
    next_duty_managers_from_rota: bool
    #: open urgent contacts whose history checks are outstanding, by reference
    history_outstanding: tuple[str, ...] = ()
    #: when each e-mail still waiting untaken in the e-mail queue arrived, oldest first (SPEC §5a)
    untaken_mail: tuple[datetime, ...] = ()
    #: today's closing time when it was made in office hours (the front door is open now), else None
    open_until: datetime | None = None

    def breached(self) -> tuple[ClockLine, ...]:
        return tuple(line for line in self.at_risk if line.breached)

    def to_json(self) -> str:
        """The handover as a JSON object (for the outbox payload)."""

        def clock_line(line: ClockLine) -> dict[str, object]:
            return {
                "subject": line.subject,
                "clock": line.clock.value,
                "started_at": utc_text(line.started_at),
                "due_at": utc_text(line.due_at),
                "rag": line.rag.value,
                "assignee_id": line.assignee_id,
                "breached": line.breached,
            }

        data: dict[str, object] = {
            "day": self.day.isoformat(),
            "made_at": utc_text(self.made_at),
            "next_opening": utc_text(self.next_opening),
            "reassigned": [
                {
                    "reference": item.reference,
                    "worker_id": item.worker_id,
                    "state": item.state.value,
                    "received_at": utc_text(item.received_at),
                    "age_seconds": int(item.age.total_seconds()),
                    "due_at": None if item.due_at is None else utc_text(item.due_at),
                    "clock": None if item.clock is None else item.clock.value,
                    "rag": None if item.rag is None else item.rag.value,
                }
                for item in self.reassigned
            ],
            "at_risk": [clock_line(line) for line in self.at_risk],
            "due_before_opening": [clock_line(line) for line in self.due_before_opening],
            "open_contacts": {
                "count": self.open_contacts.count,
                "band_low": self.open_contacts.band_low,
                "band_high": self.open_contacts.band_high,
                "position": self.open_contacts.position.value,
                "rag": None if self.open_contacts.rag is None else self.open_contacts.rag.value,
            },
            "loads": [
                {
                    "worker_id": load.worker_id,
                    "open": load.open_contacts,
                    "cap": load.cap,
                    "rag": load.rag.value,
                }
                for load in self.loads
            ],
            "next_duty_day": self.next_duty_day.isoformat(),
            "next_duty_managers": list(self.next_duty_managers),
            "next_duty_managers_from_rota": self.next_duty_managers_from_rota,
            "history_outstanding": list(self.history_outstanding),
            "untaken_mail": [utc_text(moment) for moment in self.untaken_mail],
            "open_until": None if self.open_until is None else utc_text(self.open_until),
        }
        return json.dumps(data, sort_keys=True, separators=(",", ":"))


_RAG_ORDER = {Rag.RED: 0, Rag.AMBER: 1, Rag.GREEN: 2}


def build_handover(
    contacts: Iterable[HandoverContact],
    deadlines: Iterable[Deadline],
    now: datetime,
    calendar: WorkingCalendar,
    policy: Policy,
    staffing: Staffing,
) -> Handover:
    """The handover at ``now`` from the open contacts, the open deadlines and the staffing (the
    rota of the next working day and the role directory). Closed contacts and met or cancelled
    deadlines are ignored, so callers may pass more than they need to."""
    now = require_aware(now, "now").astimezone(UTC)
    today = now.astimezone(calendar.tz).date()
    next_opening = calendar.next_opening(now)
    open_contacts = [contact for contact in contacts if contact.open]
    open_deadlines = [d for d in deadlines if d.state is DeadlineState.OPEN]

    # Which clocks run in office time, once per kind rather than once per deadline (``clock_rag``).
    calendars = {
        kind: calendar if clock_rule(kind, policy).office_timed else None
        for kind in {d.clock for d in open_deadlines}
    }
    lines = [
        ClockLine(
            subject=d.subject,
            clock=d.clock,
            started_at=d.started_at.astimezone(UTC),
            due_at=d.due_at.astimezone(UTC),
            rag=rag_status(d.started_at, d.due_at, now, policy, calendar=calendars[d.clock]),
            assignee_id=d.assignee_id,
            breached=d.due_at <= now,
        )
        for d in open_deadlines
    ]
    at_risk = sorted(
        (line for line in lines if line.rag is not Rag.GREEN),
        key=lambda line: (not line.breached, _RAG_ORDER[line.rag], line.due_at, line.subject),
    )
    due_before_opening = sorted(
        (line for line in lines if now < line.due_at < next_opening),
        key=lambda line: (line.due_at, line.subject),
    )

    soonest: dict[str, ClockLine] = {}
    for line in sorted(lines, key=lambda line: line.due_at):
        soonest.setdefault(line.subject, line)
    social_workers = set(staffing.holders(Role.SOCIAL_WORKER))
    reassigned = sorted(
        (
            _reassigned(contact, contact.assignee_id, soonest.get(contact.reference), now)
            for contact in open_contacts
            if contact.assignee_id is not None
            and (contact.assignee_id in social_workers or contact.state is ContactState.SW_ASSESSMENT)
        ),
        key=lambda item: (item.worker_id, item.received_at, item.reference),
    )

    load_count = Counter(c.assignee_id for c in open_contacts if c.assignee_id is not None)
    workers = social_workers | {item.worker_id for item in reassigned}
    cap = policy.caseload.cap
    loads = sorted(
        (WorkerLoad(worker, load_count.get(worker, 0), cap) for worker in workers),
        key=lambda load: (-load.open_contacts, load.worker_id),
    )

    next_day = calendar.next_working_day(today)
    on_rota = staffing.on_rota(Role.DUTY_MANAGER, next_day)
    return Handover(
        day=today,
        made_at=now,
        next_opening=next_opening,
        reassigned=tuple(reassigned),
        at_risk=tuple(at_risk),
        due_before_opening=tuple(due_before_opening),
        open_contacts=OpenContactCount(
            len(open_contacts), policy.open_contacts.band_low, policy.open_contacts.band_high
        ),
        loads=tuple(loads),
        next_duty_day=next_day,
        next_duty_managers=on_rota or staffing.holders(Role.DUTY_MANAGER),
        next_duty_managers_from_rota=bool(on_rota),
        history_outstanding=tuple(sorted(c.reference for c in open_contacts if c.history_outstanding)),
        open_until=calendar.closing_on(today) if calendar.in_office_hours(now) else None,
    )


def _reassigned(
    contact: HandoverContact, worker_id: str, soonest: ClockLine | None, now: datetime
) -> ReassignedContact:
    return ReassignedContact(
        reference=contact.reference,
        worker_id=worker_id,
        state=contact.state,
        received_at=contact.received_at.astimezone(UTC),
        age=max(now - contact.received_at, timedelta(0)),
        due_at=None if soonest is None else soonest.due_at,
        clock=None if soonest is None else soonest.clock,
        rag=None if soonest is None else soonest.rag,
    )


def handover_message(
    handover: Handover, calendar: WorkingCalendar, policy: Policy, at: datetime | None = None
) -> OutboxMessage:
    """The outbox message that posts ``handover`` to the duty channel, keyed by its day, so each
    working day's handover is posted once. ``at`` is when it was due (the day's handover time)."""
    key = handover_key(handover.day, calendar, policy)
    body = {
        "alert": key.text,
        "subject": key.subject,
        "kind": key.kind.value,
        "at": utc_text(at or key.due_at),
        "handover": json.loads(handover.to_json()),
    }
    return OutboxMessage.create(outbox_key(key, DUTY_CHANNEL), key, DUTY_CHANNEL, at or key.due_at, body)
