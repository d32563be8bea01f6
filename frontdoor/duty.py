"""The duty manager's surfaces (SPEC §6, §7): the end-of-day handover as the scheduler posts it and
as ``handover`` shows it, its acknowledgement and escalation, the duty rota (``duty``) and
``status``. The rota is in ``frontdoor.rota`` and ``status`` in ``frontdoor.status``.

The handover (``frontdoor.handover`` computes its content) is posted at ``handover.at`` on each
working day to the duty channel, once: its outbox key is its day. If the bot was down at that time
it is posted when the bot is back, marked late, as long as the next opening has not come: by then
the handover has done its job or failed it, the day's own handover is a few hours away and
``handover`` shows the same content on demand. Made after midnight, it still hands over its own
day (and names that day's incoming duty manager). A catch-up never reaches back past the first
start of the service on its database (``frontdoor.installation``): a new database posts no
handover for a day before it existed.

The incoming duty manager (on the rota for the next working day; every duty manager when nobody
is) or a team manager acknowledges it; the acknowledgement is an audit event on the handover's
subject (``handover:<day>``), which the escalation reads back. Unacknowledged at the next opening,
the handover is escalated once to the team managers on the rota that day and the duty channel, but
only if it was delivered: a handover never delivered (no duty channel, Teams refused it) is never
escalated as "not acknowledged"; ``status`` lists it as undelivered and ``handover`` says so too.

Everything here carries references, clock names, times, counts and staff ids only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from frontdoor.acting import Rules, Who
from frontdoor.alert_recipients import Staffing
from frontdoor.alerts import (
    AlertKind,
    OutboxItem,
    OutboxMessage,
    OutboxState,
    Recipient,
    is_late,
    outbox_key,
    utc_text,
)
from frontdoor.calendar import WorkingCalendar, require_aware
from frontdoor.contact import ContactState
from frontdoor.handover import (
    OPEN_STATES,
    ClockLine,
    Handover,
    HandoverContact,
    OpenContactCount,
    ReassignedContact,
    WorkerLoad,
    build_handover,
    handover_day_of,
    handover_escalation_at,
    handover_key,
    handover_message,
    plan_handover_escalation,
    previous_handover_at,
)
from frontdoor.installation import installed_at
from frontdoor.policy import Policy
from frontdoor.rag import Rag
from frontdoor.records import AuditEvent, ClockKind, Deadline, DirectoryEntry, RotaEntry
from frontdoor.roles import Role
from frontdoor.unit_of_work import UnitOfWork, UnitOfWorkFactory
from frontdoor.usecase import Refusal, RefusalReason

__all__ = [
    "HANDOVER_ACKNOWLEDGED",
    "HANDOVER_ACK_REFUSED",
    "HandoverAck",
    "HandoverAcknowledged",
    "HandoverEscalated",
    "HandoverEscalation",
    "HandoverPost",
    "HandoverPostState",
    "HandoverPosted",
    "acknowledge_handover",
    "current_handover",
    "escalate_due_handover",
    "handover_acknowledgement",
    "handover_from_json",
    "incoming_duty_managers",
    "latest_posted_handover",
    "post_due_handover",
]

#: The audit action of "I acknowledge" on a handover card (subject ``handover:<day>``).
HANDOVER_ACKNOWLEDGED = "handover.acknowledged"
#: Someone not entitled to acknowledge a handover tried to.
HANDOVER_ACK_REFUSED = "handover.acknowledge_refused"


#: Every open deadline is read for the handover and ``status`` (there are a few hundred at most).
_MAX_DEADLINES = 10_000
_DEADLINE_HORIZON = timedelta(days=3660)


def _utc(moment: datetime, name: str = "now") -> datetime:
    return require_aware(moment, name).astimezone(UTC)


def _local_day(moment: datetime, calendar: WorkingCalendar) -> date:
    return require_aware(moment).astimezone(calendar.tz).date()


# -- the handover as it stands --------------------------------------------------------------------


async def _open_deadlines(uow: UnitOfWork, now: datetime) -> list[Deadline]:
    return await uow.deadlines.open_due_before(now + _DEADLINE_HORIZON, limit=_MAX_DEADLINES)


async def _open_contacts(uow: UnitOfWork) -> list[HandoverContact]:
    summaries = await uow.contacts.summaries(sorted(OPEN_STATES))
    return [
        HandoverContact(s.reference, s.state, s.received_at, s.assignee_id, s.history_outstanding)
        for s in summaries
    ]


async def _build(uow: UnitOfWork, day: date, *, rules: Rules) -> Handover:
    next_day = rules.calendar.next_working_day(day)
    staffing = Staffing.of(await uow.rota.on(next_day), await uow.roles.entries())
    handover = build_handover(
        await _open_contacts(uow),
        await _open_deadlines(uow, rules.now),
        rules.now,
        rules.calendar,
        rules.policy,
        staffing,
    )
    untaken = tuple(item.received_at for item in await uow.mail.waiting())
    handover = replace(handover, untaken_mail=untaken)
    if handover.day == day:
        return handover
    # Made after midnight (a late handover): it still hands over its own day.
    on_rota = staffing.on_rota(Role.DUTY_MANAGER, next_day)
    return replace(
        handover,
        day=day,
        next_duty_day=next_day,
        next_duty_managers=on_rota or staffing.holders(Role.DUTY_MANAGER),
        next_duty_managers_from_rota=bool(on_rota),
    )


async def current_handover(uow: UnitOfWork, *, rules: Rules) -> Handover:
    """The handover as it would be made at ``now`` (for ``handover`` on demand)."""
    now = _utc(rules.now)
    async with uow:
        return await _build(
            uow,
            _local_day(now, rules.calendar),
            rules=Rules(now, rules.calendar, rules.policy),
        )


# -- posting and escalating (the scheduler's jobs) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class HandoverPosted:
    day: date
    late: bool
    next_duty_managers: tuple[str, ...]


async def post_due_handover(unit_of_work: UnitOfWorkFactory, *, rules: Rules) -> HandoverPosted | None:
    """Enqueue the last handover due by ``now`` if it has not been, the next opening has not come
    and it was due after the service first started on this database (``installed_at``, recorded
    by the first run if no start was; see the module docstring). Its row is due at the handover
    time, so a catch-up is late.
    Returns what was enqueued, or None (nothing due, or enqueued already here or elsewhere)."""
    now = _utc(rules.now)
    installed = await installed_at(unit_of_work, now)
    moment = previous_handover_at(now, rules.calendar, rules.policy)
    day = handover_day_of(moment, rules.calendar)
    if now >= handover_escalation_at(day, rules.calendar):
        return None
    if moment < installed:
        return None  # due before the service first started on this database: nothing to catch up
    key = handover_key(day, rules.calendar, rules.policy)
    async with unit_of_work() as uow:
        if key in await uow.alerts.planned([key.subject]):
            return None
        handover = await _build(uow, day, rules=Rules(now, rules.calendar, rules.policy))
        added = await uow.alerts.enqueue(
            [handover_message(handover, rules.calendar, rules.policy, at=moment)], now
        )
        await uow.commit()
    if not added:
        return None
    return HandoverPosted(day, is_late(moment, now), handover.next_duty_managers)


@dataclass(frozen=True, slots=True)
class HandoverEscalation:
    """What the escalation of an unacknowledged handover says (its outbox payload)."""

    day: date
    handover_at: datetime
    escalated_at: datetime
    next_duty_day: date
    #: the incoming duty managers who were to acknowledge it
    next_duty_managers: tuple[str, ...]
    #: the team managers on the rota that day (every team manager when nobody is)
    team_managers: tuple[str, ...]

    def data(self) -> dict[str, object]:
        return {
            "day": self.day.isoformat(),
            "handover_at": utc_text(self.handover_at),
            "escalated_at": utc_text(self.escalated_at),
            "next_duty_day": self.next_duty_day.isoformat(),
            "next_duty_managers": list(self.next_duty_managers),
            "team_managers": list(self.team_managers),
        }

    @classmethod
    def from_payload(cls, payload: str) -> HandoverEscalation:
        """The escalation an outbox row's payload holds; ``ValueError`` if it holds none."""
        data = _Reader.of(json.loads(payload), "payload").object("escalation")
        return cls(
            day=data.day("day"),
            handover_at=data.moment("handover_at"),
            escalated_at=data.moment("escalated_at"),
            next_duty_day=data.day("next_duty_day"),
            next_duty_managers=data.strings("next_duty_managers"),
            team_managers=data.strings("team_managers"),
        )


@dataclass(frozen=True, slots=True)
class HandoverEscalated:
    day: date
    late: bool
    recipients: tuple[Recipient, ...]


def _escalation_day(now: datetime, calendar: WorkingCalendar, policy: Policy) -> date:
    """The handover whose escalation time is the latest at or before ``now``."""
    last = handover_day_of(previous_handover_at(now, calendar, policy), calendar)
    if now >= handover_escalation_at(last, calendar):
        return last
    return calendar.previous_working_day(last)


async def escalate_due_handover(unit_of_work: UnitOfWorkFactory, *, rules: Rules) -> HandoverEscalated | None:
    """Enqueue the escalation of the latest handover whose next opening has come, if it was posted,
    nobody has acknowledged it and it has not been escalated yet."""
    now = _utc(rules.now)
    day = _escalation_day(now, rules.calendar, rules.policy)
    today = _local_day(now, rules.calendar)
    posted = handover_key(day, rules.calendar, rules.policy)
    async with unit_of_work() as uow:
        already = await uow.alerts.planned([posted.subject])
        if posted not in already or posted.but(AlertKind.HANDOVER_ESCALATION) in already:
            return None
        post = _post_of(await uow.alerts.about(posted.subject))
        if post is None or post.state is not OutboxState.SENT:
            # Never delivered (yet): nobody could acknowledge it, so it is not escalated as
            # unacknowledged; ``status`` and ``handover`` show it as undelivered.
            return None
        acknowledged = await _first_ack(uow, day, posted.subject) is not None
        directory = await uow.roles.entries()
        staffing = Staffing.of(await uow.rota.on(today), directory)
        planned = plan_handover_escalation(
            day, now, rules.calendar, rules.policy, already, acknowledged=acknowledged, staffing=staffing
        )
        if planned is None:
            return None
        incoming, _ = _incoming(
            day, rules.calendar, await uow.rota.on(rules.calendar.next_working_day(day)), directory
        )
        escalation = HandoverEscalation(
            day=day,
            handover_at=posted.due_at,
            escalated_at=planned.at,
            next_duty_day=rules.calendar.next_working_day(day),
            next_duty_managers=incoming,
            team_managers=staffing.on_duty(Role.TEAM_MANAGER, today),
        )
        body = {**planned.body(), "escalation": escalation.data()}
        messages = [
            OutboxMessage.create(outbox_key(planned.key, recipient), planned.key, recipient, planned.at, body)
            for recipient in planned.recipients
        ]
        added = await uow.alerts.enqueue(messages, now)
        await uow.commit()
    return HandoverEscalated(day, planned.late, planned.recipients) if added else None


def _post_of(items: Sequence[OutboxItem]) -> OutboxItem | None:
    """The handover post among the rows about a handover's subject (not its escalation)."""
    return next((item for item in items if item.kind is AlertKind.HANDOVER), None)


@dataclass(frozen=True, slots=True)
class HandoverPostState:
    """Where the latest handover enqueued stands: its day, its outbox state (sent, or waiting for
    its first or next attempt, or given up on) and, when it is not sent, the last error."""

    day: date
    state: OutboxState
    attempts: int
    error: str

    @property
    def delivered(self) -> bool:
        return self.state is OutboxState.SENT


async def latest_posted_handover(uow: UnitOfWork, *, rules: Rules) -> HandoverPostState | None:
    """The latest handover enqueued by ``now`` (today's after 16:30, else the previous working
    day's) and whether it was delivered; None when it was never enqueued."""
    now = _utc(rules.now)
    day = handover_day_of(previous_handover_at(now, rules.calendar, rules.policy), rules.calendar)
    key = handover_key(day, rules.calendar, rules.policy)
    async with uow:
        post = _post_of(await uow.alerts.about(key.subject))
    if post is None:
        return None
    return HandoverPostState(day, post.state, post.attempts, post.last_error)


# -- acknowledging --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HandoverAck:
    day: date
    person_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class HandoverAcknowledged:
    #: the acknowledgement that counts: the first one
    ack: HandoverAck
    #: False when someone had acknowledged it already (``ack`` is theirs)
    new: bool


async def _first_ack(
    uow: UnitOfWork, day: date, subject: str, before_seq: int | None = None
) -> HandoverAck | None:
    for stored in await uow.audit.for_subject(subject):
        if before_seq is not None and stored.seq >= before_seq:
            break
        if stored.event.action == HANDOVER_ACKNOWLEDGED:
            return HandoverAck(day, stored.event.actor_id, _utc(stored.event.at, "at"))
    return None


async def handover_acknowledgement(
    uow: UnitOfWork, day: date, calendar: WorkingCalendar, policy: Policy
) -> HandoverAck | None:
    """Who acknowledged the handover of ``day`` first, and when; None if nobody has (or ``day`` is
    not a working day)."""
    if not calendar.is_working_day(day):
        return None
    async with uow:
        return await _first_ack(uow, day, handover_key(day, calendar, policy).subject)


def _incoming(
    day: date, calendar: WorkingCalendar, rota: Sequence[RotaEntry], directory: Sequence[DirectoryEntry]
) -> tuple[tuple[str, ...], bool]:
    next_day = calendar.next_working_day(day)
    staffing = Staffing.of(rota, directory)
    on_rota = staffing.on_rota(Role.DUTY_MANAGER, next_day)
    return (on_rota or staffing.holders(Role.DUTY_MANAGER)), bool(on_rota)


async def incoming_duty_managers(
    uow: UnitOfWork, day: date, calendar: WorkingCalendar
) -> tuple[tuple[str, ...], bool]:
    """The duty managers who take over from ``day``'s handover: those on the rota for the next
    working day, or every duty manager when nobody is (then the flag is False)."""
    async with uow:
        rota = await uow.rota.on(calendar.next_working_day(day))
        return _incoming(day, calendar, rota, await uow.roles.entries())


async def acknowledge_handover(
    uow: UnitOfWork, day: date, *, who: Who, rules: Rules
) -> HandoverAcknowledged | Refusal:
    """``person_id`` acknowledges the handover of ``day``. They must be an incoming duty manager
    (``incoming_duty_managers``) holding the role, or a team manager (the escalation's recipient,
    who may take the handover on when the incoming duty manager cannot). A refusal is audited."""
    now = _utc(rules.now)
    if not rules.calendar.is_working_day(day):
        return Refusal(RefusalReason.NOT_FOUND, "There is no handover for that day.")
    key = handover_key(day, rules.calendar, rules.policy)
    async with uow:
        if key not in await uow.alerts.planned([key.subject]):
            return Refusal(
                RefusalReason.NOT_FOUND, "That handover has not been posted, so it cannot be acknowledged."
            )
        first = await _first_ack(uow, day, key.subject)
        if first is not None:
            return HandoverAcknowledged(first, new=False)
        directory = await uow.roles.entries()
        incoming, _ = _incoming(
            day, rules.calendar, await uow.rota.on(rules.calendar.next_working_day(day)), directory
        )
        as_duty_manager = Role.DUTY_MANAGER in who.roles and who.actor_id in incoming
        if not as_duty_manager and Role.TEAM_MANAGER not in who.roles:
            await uow.audit.append(
                AuditEvent(now, who.actor_id, HANDOVER_ACK_REFUSED, key.subject, "reason=not_incoming")
            )
            await uow.commit()
            names = {entry.aad_object_id: entry.display_name for entry in directory}
            incoming_names = ", ".join(names.get(person) or "a duty manager" for person in incoming)
            next_day = rules.calendar.next_working_day(day)
            return Refusal(
                RefusalReason.NOT_PERMITTED,
                f"Only the incoming duty manager for {next_day:%a} {next_day.day} {next_day:%b}"
                + (f" ({incoming_names})" if incoming_names else "")
                + " or a team manager can acknowledge this handover.",
            )
        role = Role.DUTY_MANAGER if as_duty_manager else Role.TEAM_MANAGER
        stored = await uow.audit.append(
            AuditEvent(now, who.actor_id, HANDOVER_ACKNOWLEDGED, key.subject, f"as={role.value}")
        )
        # Appending holds the audit chain's write lock to commit, so anyone who acknowledged first
        # has committed by now and is seen here: the first keeps it, as with "I've got this".
        earlier = await _first_ack(uow, day, key.subject, before_seq=stored.seq)
        if earlier is not None:
            await uow.rollback()
            return HandoverAcknowledged(earlier, new=False)
        await uow.commit()
    return HandoverAcknowledged(HandoverAck(day, who.actor_id, now), new=True)


# -- the handover as posted (read back from the outbox) -------------------------------------------


class _Reader:
    """Typed reads from a decoded JSON object; any surprise is a ``ValueError``."""

    def __init__(self, data: Mapping[str, object], where: str) -> None:
        self._data = data
        self._where = where

    @classmethod
    def of(cls, value: object, where: str) -> _Reader:
        if not isinstance(value, Mapping):
            raise ValueError(f"{where}: expected an object")
        return cls(value, where)

    def _get(self, name: str) -> object:
        if name not in self._data:
            raise ValueError(f"{self._where}.{name}: missing")
        return self._data[name]

    def raw(self, name: str) -> object:
        return self._get(name)

    def has(self, name: str) -> bool:
        return name in self._data

    def object(self, name: str) -> _Reader:
        return _Reader.of(self._get(name), f"{self._where}.{name}")

    def objects(self, name: str) -> list[_Reader]:
        value = self._get(name)
        if not isinstance(value, list):
            raise ValueError(f"{self._where}.{name}: expected a list")
        return [_Reader.of(item, f"{self._where}.{name}[{i}]") for i, item in enumerate(value)]

    def text(self, name: str) -> str:
        value = self._get(name)
        if not isinstance(value, str):
            raise ValueError(f"{self._where}.{name}: expected text")
        return value

    def optional_text(self, name: str) -> str | None:
        return None if self._data.get(name) is None else self.text(name)

    def number(self, name: str) -> int:
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{self._where}.{name}: expected a whole number")
        return value

    def flag(self, name: str) -> bool:
        value = self._get(name)
        if not isinstance(value, bool):
            raise ValueError(f"{self._where}.{name}: expected true or false")
        return value

    def strings(self, name: str) -> tuple[str, ...]:
        value = self._get(name)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError(f"{self._where}.{name}: expected a list of text")
        return tuple(str(item) for item in value)

    def day(self, name: str) -> date:
        return date.fromisoformat(self.text(name))

    def moment(self, name: str) -> datetime:
        return _utc(datetime.fromisoformat(self.text(name)), f"{self._where}.{name}")

    def optional_moment(self, name: str) -> datetime | None:
        return None if self._data.get(name) is None else self.moment(name)


def _clock_line(data: _Reader) -> ClockLine:
    return ClockLine(
        subject=data.text("subject"),
        clock=ClockKind(data.text("clock")),
        started_at=data.moment("started_at"),
        due_at=data.moment("due_at"),
        rag=Rag(data.text("rag")),
        assignee_id=data.optional_text("assignee_id"),
        breached=data.flag("breached"),
    )


def handover_from_json(value: object) -> Handover:
    """The ``Handover`` that ``Handover.to_json`` wrote (decoded); ``ValueError`` if it is not one."""
    data = _Reader.of(value, "handover")
    band = data.object("open_contacts")
    reassigned = []
    for item in data.objects("reassigned"):
        clock = item.optional_text("clock")
        rag = item.optional_text("rag")
        reassigned.append(
            ReassignedContact(
                reference=item.text("reference"),
                worker_id=item.text("worker_id"),
                state=ContactState(item.text("state")),
                received_at=item.moment("received_at"),
                age=timedelta(seconds=item.number("age_seconds")),
                due_at=item.optional_moment("due_at"),
                clock=None if clock is None else ClockKind(clock),
                rag=None if rag is None else Rag(rag),
            )
        )
    return Handover(
        day=data.day("day"),
        made_at=data.moment("made_at"),
        next_opening=data.moment("next_opening"),
        reassigned=tuple(reassigned),
        at_risk=tuple(_clock_line(line) for line in data.objects("at_risk")),
        due_before_opening=tuple(_clock_line(line) for line in data.objects("due_before_opening")),
        open_contacts=OpenContactCount(
            band.number("count"), band.number("band_low"), band.number("band_high")
        ),
        loads=tuple(
            WorkerLoad(load.text("worker_id"), load.number("open"), load.number("cap"))
            for load in data.objects("loads")
        ),
        next_duty_day=data.day("next_duty_day"),
        next_duty_managers=data.strings("next_duty_managers"),
        next_duty_managers_from_rota=data.flag("next_duty_managers_from_rota"),
        # absent from handovers queued before it was kept
        history_outstanding=data.strings("history_outstanding") if data.has("history_outstanding") else (),
        untaken_mail=_untaken_mail(value),
        # absent from handovers queued before it was kept (those were made at the closing handover)
        open_until=data.optional_moment("open_until"),
    )


def _untaken_mail(value: object) -> tuple[datetime, ...]:
    """The untaken e-mails' received times (absent from handovers posted before e-mail came in)."""
    times = value.get("untaken_mail", []) if isinstance(value, dict) else []
    if not isinstance(times, list) or not all(isinstance(moment, str) for moment in times):
        raise ValueError("handover: untaken_mail must be a list of times")
    return tuple(require_aware(datetime.fromisoformat(moment)).astimezone(UTC) for moment in times)


@dataclass(frozen=True, slots=True)
class HandoverPost:
    """A handover as posted: its content and when it was due (``handover.at`` of its day)."""

    handover: Handover
    due_at: datetime

    @classmethod
    def from_payload(cls, payload: str) -> HandoverPost:
        """The handover an outbox row's payload holds; ``ValueError`` if it holds none."""
        data = _Reader.of(json.loads(payload), "payload")
        return cls(handover_from_json(data.raw("handover")), data.moment("at"))


# -- status ---------------------------------------------------------------------------------------
