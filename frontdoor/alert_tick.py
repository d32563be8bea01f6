"""Deadline alerts (SPEC §7): the tick that plans them. The tick (``run_tick``), run by the scheduler's
leader every few seconds, reads everything from the tables and the clock it is given, so a run that
is missed, doubled or cut short changes nothing a later run would not put right:

1. ``lapse_due_letters``: each parent letter whose three working days are up is lapsed
   (``casework.lapse_parent_letter``: the contact goes back to its worker with a
   ``letter_review`` clock), and in the same transaction the worker is sent a ``LETTER_LAPSED``
   message saying the contact is back with them. This comes first, so the alerts planned next see
   the letter's clock closed instead of breached.
2. ``plan_alerts``: in one unit of work, the open deadlines, the alerts already in the outbox, the
   acknowledgements (audit events) and who is on duty (rota and directory) go to
   ``alerts.alerts_due``, and every planned alert's messages are enqueued under their keys. Enqueue
   is insert-if-absent by key, so each alert is enqueued exactly once however often the tick runs
   and however many processes run it.

The dispatcher that sends what the tick enqueues is ``frontdoor.dispatch``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from frontdoor.acting import Rules
from frontdoor.alert_recipients import Staffing, recipients_for
from frontdoor.alert_schedule import (
    Acknowledgement,
    PlannedAlert,
    acknowledgement_from_event,
    alerts_due,
    next_alert_at,
)
from frontdoor.alerts import AlertKey, AlertKind, OutboxMessage, is_late, outbox_key, utc_text
from frontdoor.calendar import WorkingCalendar, require_aware
from frontdoor.casework import LetterLapsed, due_parent_letters, lapse_parent_letter
from frontdoor.clocks import ClockUnit, clock_rules, due_at
from frontdoor.contact import ContactState
from frontdoor.policy import Policy
from frontdoor.records import ChannelPurpose, ClockKind, Deadline
from frontdoor.unit_of_work import UnitOfWork, UnitOfWorkFactory
from frontdoor.usecase import AlreadyDecided, Refusal

__all__ = [
    "PlanReport",
    "TickReport",
    "deadline_horizon",
    "lapse_due_letters",
    "letter_lapsed_messages",
    "plan_alerts",
    "run_tick",
]

log = logging.getLogger(__name__)


def deadline_horizon(policy: Policy) -> timedelta:
    """How far past ``now`` the tick reads open deadlines. A clock can be due soon no earlier than it
    started, so a deadline whose due time is further off than its clock's whole length cannot alert
    yet. A working day is counted as a week (weekends, bank holidays and closures between)."""
    longest = timedelta(hours=1)
    for rule in clock_rules(policy).values():
        if rule.unit is ClockUnit.HOURS:
            longest = max(longest, timedelta(hours=rule.amount))
        else:
            longest = max(longest, timedelta(days=7) * (max(rule.amount, 1) + 1))
    return longest


async def _staffing(uow: UnitOfWork, now: datetime, calendar: WorkingCalendar) -> Staffing:
    day = now.astimezone(calendar.tz).date()
    edt_channel = await uow.channels.get(ChannelPurpose.EDT) is not None
    return Staffing.of(
        await uow.rota.on(day), await uow.roles.entries(), await uow.mash.partners(), edt_channel=edt_channel
    )


async def _acknowledgements(uow: UnitOfWork, subjects: Iterable[str]) -> list[Acknowledgement]:
    found: list[Acknowledgement] = []
    for subject in sorted(set(subjects)):
        for stored in await uow.audit.for_subject(subject):
            ack = acknowledgement_from_event(stored.event)
            if ack is not None:
                found.append(ack)
    return found


@dataclass(frozen=True, slots=True)
class PlanReport:
    """What one planning run found: the alerts whose time had come, and how many rows were new."""

    alerts: tuple[PlannedAlert, ...] = ()
    enqueued: int = 0

    @property
    def late(self) -> int:
        return sum(1 for alert in self.alerts if alert.late)


async def plan_alerts(unit_of_work: UnitOfWorkFactory, *, rules: Rules) -> PlanReport:
    """Enqueue every alert due at ``now`` that is not in the outbox yet, in one unit of work."""
    now = require_aware(rules.now, "now").astimezone(UTC)
    async with unit_of_work() as uow:
        # Only the deadlines whose next alert has come (``alerts.next_alert_at``, indexed): a tick
        # with nothing due is one indexed query, however many deadlines are open or closed.
        deadlines = await uow.deadlines.alerts_due_by(now)
        if not deadlines:
            return PlanReport()
        already = await uow.alerts.planned({d.subject for d in deadlines})
        # Acknowledgements only change the repeats and escalation of a breached CP clock.
        breached_cp = [d.subject for d in deadlines if d.clock is ClockKind.CP_DECISION and d.due_at <= now]
        acknowledged = await _acknowledgements(uow, breached_cp)
        planned = alerts_due(
            deadlines,
            now,
            rules.calendar,
            rules.policy,
            already,
            acknowledged=acknowledged,
            staffing=await _staffing(uow, now, rules.calendar),
        )
        enqueued = await uow.alerts.enqueue([m for alert in planned for m in alert.messages()], now)
        await uow.deadlines.set_next_alerts(
            {
                d.id: next_alert_at(
                    d, now, rules.calendar, rules.policy, any(ack.covers(d) for ack in acknowledged)
                )
                for d in deadlines
                if d.id is not None
            }
        )
        await uow.commit()
    return PlanReport(tuple(planned), enqueued)


def letter_lapsed_messages(
    letter: Deadline,
    worker_id: str | None,
    review_due: datetime,
    now: datetime,
    calendar: WorkingCalendar,
    staffing: Staffing,
) -> tuple[OutboxMessage, ...]:
    """The message telling the worker that ``letter`` lapsed and the contact is back with them to
    review and re-apply the threshold by ``review_due``. Its own time is the letter's due time."""
    key = AlertKey(letter.subject, ClockKind.PARENT_LETTER, AlertKind.LETTER_LAPSED, 0, letter.due_at)
    day = now.astimezone(calendar.tz).date()
    alert = PlannedAlert(
        key=key,
        at=letter.due_at,
        started_at=letter.started_at,
        assignee_id=worker_id,
        recipients=recipients_for(AlertKind.LETTER_LAPSED, worker_id, day, staffing),
        late=is_late(letter.due_at, now),
        deadline_id=letter.id,
    )
    body = {**alert.body(), "review_due": utc_text(review_due)}
    return tuple(
        OutboxMessage.create(outbox_key(key, recipient), key, recipient, alert.at, body)
        for recipient in alert.recipients
    )


async def lapse_due_letters(unit_of_work: UnitOfWorkFactory, *, rules: Rules) -> tuple[LetterLapsed, ...]:
    """Lapse every parent letter due by ``now``, each with its message to the worker."""
    now = require_aware(rules.now, "now").astimezone(UTC)
    async with unit_of_work() as uow:
        overdue = await uow.deadlines.open_due_before(now, None, clock=ClockKind.PARENT_LETTER)
    letters: dict[str, Deadline] = {}
    for deadline in overdue:
        if deadline.clock is ClockKind.PARENT_LETTER:
            letters.setdefault(deadline.subject, deadline)
    lapsed: list[LetterLapsed] = []
    for reference in due_parent_letters(overdue, now):
        uow = unit_of_work()
        # ``lapse_parent_letter`` enters this same unit of work and commits the contact, its clocks,
        # its audit row and the worker's message together; a refusal rolls them all back.
        async with uow:
            contact = await uow.contacts.get_by_reference(reference)
            if contact is None or contact.state is not ContactState.SW_ASSESSMENT:
                continue  # nothing to lapse: ``lapse_parent_letter`` would refuse
            review_due = due_at(ClockKind.LETTER_REVIEW, now, rules.calendar, rules.policy)
            staffing = await _staffing(uow, now, rules.calendar)
            messages = letter_lapsed_messages(
                letters[reference], contact.assignee_id, review_due, now, rules.calendar, staffing
            )
            await uow.alerts.enqueue(messages, now)
            result = await lapse_parent_letter(uow, reference, rules=Rules(now, rules.calendar, rules.policy))
        if isinstance(result, LetterLapsed):
            log.info("parent letter lapsed", extra={"reference": reference})
            lapsed.append(result)
        elif isinstance(result, Refusal | AlreadyDecided):
            log.info("parent letter not lapsed", extra={"reference": reference, "status": "refused"})
    return tuple(lapsed)


@dataclass(frozen=True, slots=True)
class TickReport:
    lapsed: tuple[str, ...]
    plan: PlanReport


async def run_tick(unit_of_work: UnitOfWorkFactory, *, rules: Rules) -> TickReport:
    """The deadline tick at ``now``: lapse the parent letters due, then plan the alerts."""
    lapsed = await lapse_due_letters(unit_of_work, rules=rules)
    plan = await plan_alerts(unit_of_work, rules=rules)
    return TickReport(tuple(result.contact.reference or "" for result in lapsed), plan)
