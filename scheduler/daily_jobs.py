"""The scheduler's daily jobs: the end-of-day handover with its escalation, and MARAC reminders.

Neither is a cron: "16:30 on working days" and "09:30 on Tuesdays and Thursdays that are working
days" depend on the bank holidays and closure dates of the working calendar, and on the injected
clock, which APScheduler knows nothing about. So each job runs often (every ``alerts.tick_seconds``,
and once at start-up to catch up) and the use case decides from ``clock.now()``, the calendar and
the outbox whether anything is due. What is enqueued has a unique key (the handover's day, the
meeting's day), so however many runs and processes see it due, it is enqueued once; the alert
dispatcher sends it.
"""

from __future__ import annotations

import logging
from typing import Final

from apscheduler.triggers.interval import IntervalTrigger

from frontdoor.calendar import WorkingCalendar
from frontdoor.duty import HandoverEscalated, HandoverPosted, escalate_due_handover, post_due_handover
from frontdoor.marac import MaracPosted, post_due_marac_reminder
from frontdoor.policy import Policy
from frontdoor.ports import Clock, UnitOfWorkFactory
from scheduler.runner import ScheduledJob

log = logging.getLogger("frontdoor.scheduler.daily")

HANDOVER_JOB_ID: Final = "handover"
MARAC_JOB_ID: Final = "marac_reminders"


async def run_handover(
    unit_of_work: UnitOfWorkFactory, clock: Clock, policy: Policy, calendar: WorkingCalendar
) -> tuple[HandoverPosted | None, HandoverEscalated | None]:
    """Post the handover if its time has come, and escalate the last one if nobody acknowledged it
    by the next opening."""
    posted = await post_due_handover(unit_of_work, clock.now(), calendar, policy)
    if posted is not None:
        log.info(
            "handover enqueued",
            extra={
                "subject": f"handover:{posted.day.isoformat()}",
                "status": "late" if posted.late else "on_time",
                "count": len(posted.next_duty_managers),
            },
        )
    escalated = await escalate_due_handover(unit_of_work, clock.now(), calendar, policy)
    if escalated is not None:
        log.info(
            "handover escalation enqueued",
            extra={
                "subject": f"handover:{escalated.day.isoformat()}",
                "status": "late" if escalated.late else "on_time",
                "count": len(escalated.recipients),
            },
        )
    return posted, escalated


async def run_marac(
    unit_of_work: UnitOfWorkFactory, clock: Clock, policy: Policy, calendar: WorkingCalendar
) -> MaracPosted | None:
    """Post today's MARAC reminder if its time has come and the meeting has not started."""
    posted = await post_due_marac_reminder(unit_of_work, clock.now(), calendar, policy)
    if posted is not None:
        log.info(
            "MARAC reminder enqueued",
            extra={
                "subject": f"marac:{posted.day.isoformat()}",
                "status": "late" if posted.late else "on_time",
            },
        )
    return posted


def handover_job(
    unit_of_work: UnitOfWorkFactory, clock: Clock, policy: Policy, calendar: WorkingCalendar
) -> ScheduledJob:
    async def run() -> object:
        return await run_handover(unit_of_work, clock, policy, calendar)

    trigger = IntervalTrigger(seconds=policy.alerts.tick_seconds)
    return ScheduledJob(HANDOVER_JOB_ID, trigger, run, catch_up=True)


def marac_job(
    unit_of_work: UnitOfWorkFactory, clock: Clock, policy: Policy, calendar: WorkingCalendar
) -> ScheduledJob:
    async def run() -> object:
        return await run_marac(unit_of_work, clock, policy, calendar)

    trigger = IntervalTrigger(seconds=policy.alerts.tick_seconds)
    return ScheduledJob(MARAC_JOB_ID, trigger, run, catch_up=True)


def daily_jobs(
    unit_of_work: UnitOfWorkFactory, clock: Clock, policy: Policy, calendar: WorkingCalendar
) -> list[ScheduledJob]:
    """The handover and MARAC jobs (``scheduler.jobs.front_door_jobs`` adds them)."""
    return [
        handover_job(unit_of_work, clock, policy, calendar),
        marac_job(unit_of_work, clock, policy, calendar),
    ]
