"""The scheduler's daily jobs: the end-of-day handover with its escalation, MARAC reminders, the
EDT handover at closing with the overnight summary at opening, and Monday's figures card.

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
from collections.abc import Awaitable, Callable, Sized
from functools import partial
from typing import Final

from apscheduler.triggers.interval import IntervalTrigger

from frontdoor.acting import Rules
from frontdoor.calendar import WorkingCalendar
from frontdoor.duty import HandoverEscalated, HandoverPosted, escalate_due_handover, post_due_handover
from frontdoor.edt import Posted, post_due_edt_handover, post_due_overnight_summary
from frontdoor.marac import MaracPosted, post_due_marac_reminder
from frontdoor.policy import Policy
from frontdoor.ports import Clock
from frontdoor.unit_of_work import UnitOfWorkFactory
from frontdoor.weekly_figures import WeeklyPosted, post_due_weekly_figures
from scheduler.runner import ScheduledJob

log = logging.getLogger(__name__)

HANDOVER_JOB_ID: Final = "handover"
MARAC_JOB_ID: Final = "marac_reminders"
WEEKLY_FIGURES_JOB_ID: Final = "weekly_figures"
EDT_JOB_ID: Final = "edt_handover"


async def run_handover(
    unit_of_work: UnitOfWorkFactory, clock: Clock, policy: Policy, calendar: WorkingCalendar
) -> tuple[HandoverPosted | None, HandoverEscalated | None]:
    """Post the handover if its time has come, and escalate the last one if nobody acknowledged it
    by the next opening."""
    posted = await post_due_handover(unit_of_work, rules=Rules(clock.now(), calendar, policy))
    if posted is not None:
        _enqueued(
            "handover enqueued", f"handover:{posted.day.isoformat()}", posted.late, posted.next_duty_managers
        )
    escalated = await escalate_due_handover(unit_of_work, rules=Rules(clock.now(), calendar, policy))
    if escalated is not None:
        _enqueued(
            "handover escalation enqueued",
            f"handover:{escalated.day.isoformat()}",
            escalated.late,
            escalated.recipients,
        )
    return posted, escalated


async def run_marac(
    unit_of_work: UnitOfWorkFactory, clock: Clock, policy: Policy, calendar: WorkingCalendar
) -> MaracPosted | None:
    """Post today's MARAC reminder if its time has come and the meeting has not started."""
    posted = await post_due_marac_reminder(unit_of_work, rules=Rules(clock.now(), calendar, policy))
    if posted is not None:
        _enqueued("MARAC reminder enqueued", f"marac:{posted.day.isoformat()}", posted.late)
    return posted


async def run_weekly_figures(
    unit_of_work: UnitOfWorkFactory, clock: Clock, calendar: WorkingCalendar
) -> WeeklyPosted | None:
    """Enqueue this week's figures card if its time has come (SPEC §11)."""
    posted = await post_due_weekly_figures(unit_of_work, clock.now(), calendar)
    if posted is not None:
        _enqueued("weekly figures enqueued", f"figures:{posted.week.isoformat()}", posted.late)
    return posted


async def run_edt(
    unit_of_work: UnitOfWorkFactory, clock: Clock, policy: Policy, calendar: WorkingCalendar
) -> tuple[Posted | None, Posted | None]:
    """Post the EDT handover at closing, and the overnight summary at opening (``frontdoor.edt``)."""
    handover = await post_due_edt_handover(unit_of_work, rules=Rules(clock.now(), calendar, policy))
    if handover is not None:
        _enqueued("EDT handover enqueued", f"edt-handover:{handover.day.isoformat()}", handover.late)
    summary = await post_due_overnight_summary(unit_of_work, rules=Rules(clock.now(), calendar, policy))
    if summary is not None:
        _enqueued("overnight summary enqueued", f"overnight:{summary.day.isoformat()}", summary.late)
    return handover, summary


def _enqueued(message: str, subject: str, late: bool, recipients: Sized | None = None) -> None:
    extra: dict[str, object] = {"subject": subject, "status": "late" if late else "on_time"}
    if recipients is not None:
        extra["count"] = len(recipients)
    log.info(message, extra=extra)


def handover_job(
    unit_of_work: UnitOfWorkFactory, clock: Clock, policy: Policy, calendar: WorkingCalendar
) -> ScheduledJob:
    return _every_tick(HANDOVER_JOB_ID, policy, partial(run_handover, unit_of_work, clock, policy, calendar))


def marac_job(
    unit_of_work: UnitOfWorkFactory, clock: Clock, policy: Policy, calendar: WorkingCalendar
) -> ScheduledJob:
    return _every_tick(MARAC_JOB_ID, policy, partial(run_marac, unit_of_work, clock, policy, calendar))


def weekly_figures_job(
    unit_of_work: UnitOfWorkFactory, clock: Clock, policy: Policy, calendar: WorkingCalendar
) -> ScheduledJob:
    return _every_tick(
        WEEKLY_FIGURES_JOB_ID, policy, partial(run_weekly_figures, unit_of_work, clock, calendar)
    )


def edt_job(
    unit_of_work: UnitOfWorkFactory, clock: Clock, policy: Policy, calendar: WorkingCalendar
) -> ScheduledJob:
    return _every_tick(EDT_JOB_ID, policy, partial(run_edt, unit_of_work, clock, policy, calendar))


def _every_tick(job_id: str, policy: Policy, run: Callable[[], Awaitable[object]]) -> ScheduledJob:
    """Run every ``alerts.tick_seconds``, and once at start-up to catch up."""
    return ScheduledJob(job_id, IntervalTrigger(seconds=policy.alerts.tick_seconds), run, catch_up=True)


def daily_jobs(
    unit_of_work: UnitOfWorkFactory, clock: Clock, policy: Policy, calendar: WorkingCalendar
) -> list[ScheduledJob]:
    """The handover, MARAC and weekly figures jobs (``scheduler.jobs.front_door_jobs`` adds them)."""
    return [
        handover_job(unit_of_work, clock, policy, calendar),
        marac_job(unit_of_work, clock, policy, calendar),
        weekly_figures_job(unit_of_work, clock, policy, calendar),
        edt_job(unit_of_work, clock, policy, calendar),
    ]
