"""The deadline alerts' jobs: the deadline tick and the dispatcher (SPEC §7; ``frontdoor.dispatch``).

- ``deadline_tick`` (every ``tick_seconds``, 30 by default, ``FRONTDOOR_TICK_SECONDS``): if this
  process leads (``scheduler.leadership``), lapse the parent letters that are due, plan the alerts
  that are due, then dispatch at once so a new alert does not wait for the next dispatcher run.
- ``dispatch`` (every ``tick_seconds`` too): send what the outbox holds, including retries whose
  time has come and rows enqueued by other processes or features (the handover).

Only the leader dispatches. Teams' per-conversation limits (7 a second, 60 in 30 seconds, 1,800 an
hour) apply to the bot as a whole, and a single dispatcher is what can keep to them exactly: with
a dispatcher in each of two processes one chat took 16 alerts in 2 seconds in the reliability
test. One dispatcher sends several conversations at once and far faster than the front door
raises alerts. The claim is still ``FOR UPDATE SKIP LOCKED`` with a lease, so two dispatchers
never claim the same row. On becoming the leader a process releases every lease at once
(``release_leases``): the rows its dead predecessor had claimed go out now rather than after the
lease, marked as interrupted so their cards say they may repeat an alert that reached Teams just
before the crash. A predecessor that lost its lock but lives on checks each row's lease just
before sending it (``Dispatcher`` asks ``holds_lease``), so it does not send what was released.

Both run once at start-up (catch-up): an alert that fell due while the bot was down is planned and
sent then, marked late. Manual calls (``tick``, ``dispatch``) are serialised with the scheduled
runs, so tests may drive them directly with an injected clock.

This module never imports ``bot`` or ``store``: the composition root passes in the unit-of-work
factory, the sender (Teams) and the leadership (the database's).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from apscheduler.triggers.interval import IntervalTrigger

from frontdoor.acting import Rules
from frontdoor.alert_tick import TickReport, run_tick
from frontdoor.calendar import WorkingCalendar
from frontdoor.delivery import RetryPolicy
from frontdoor.dispatch import AlertMail, AlertMailer, AlertSender, Dispatcher, DispatchReport
from frontdoor.policy import Policy
from frontdoor.ports import Clock
from frontdoor.unit_of_work import UnitOfWorkFactory
from scheduler.leadership import Leadership
from scheduler.runner import ScheduledJob

log = logging.getLogger(__name__)

DEADLINE_TICK_JOB_ID: Final = "deadline_tick"
DISPATCH_JOB_ID: Final = "dispatch"
#: Seconds between ticks (and dispatcher runs) unless ``FRONTDOOR_TICK_SECONDS`` says otherwise.
DEFAULT_TICK_SECONDS: Final = 30.0


class DeadlineAlerts:
    """The tick and the dispatcher of one process, and their two jobs."""

    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        clock: Clock,
        policy: Policy,
        calendar: WorkingCalendar,
        *,
        sender: AlertSender,
        leadership: Leadership,
        tick_seconds: float = DEFAULT_TICK_SECONDS,
        retry: RetryPolicy | None = None,
        dispatcher: Dispatcher | None = None,
        mailer: AlertMailer | None = None,
    ) -> None:
        if not tick_seconds > 0:
            raise ValueError(f"the tick needs a positive interval, got {tick_seconds}")
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._policy = policy
        self._calendar = calendar
        self.leadership = leadership
        self.tick_seconds = tick_seconds
        mail = AlertMail(mailer, copy_after=policy.continuity.email_after) if mailer is not None else None
        self.dispatcher = dispatcher or Dispatcher(unit_of_work, sender, clock, retry=retry, mail=mail)
        self._ticking = asyncio.Lock()
        self._leading = False

    async def _lead(self) -> bool:
        """Whether this process leads now; on taking over, free what the last leader held."""
        leading = await self.leadership.try_acquire()
        if leading and not self._leading:
            async with self._unit_of_work() as uow:
                released = await uow.alerts.release_leases()
                await uow.commit()
            remembered = await self.dispatcher.remember_recent_sends()
            log.info(
                "leading the scheduler",
                extra={"count": released, "status": f"leases released; recent sends counted={remembered}"},
            )
        self._leading = leading
        return leading

    async def tick(self) -> TickReport | None:
        """Lapse and plan (if this process leads), then dispatch. None when another process leads."""
        async with self._ticking:
            if not await self._lead():
                log.debug("deadline tick skipped: another process leads")
                return None
            report = await run_tick(
                self._unit_of_work,
                rules=Rules(self._clock.now(), self._calendar, self._policy),
            )
        if report.lapsed or report.plan.alerts:
            log.info(
                "deadline tick planned alerts",
                extra={"count": report.plan.enqueued, "status": f"lapsed={len(report.lapsed)}"},
            )
        await self.dispatch()
        return report

    async def dispatch(self) -> DispatchReport:
        async with self._ticking:
            leading = await self._lead()
        if not leading:
            return DispatchReport()
        report = await self.dispatcher.dispatch_due()
        if report.claimed:
            log.info(
                "alerts dispatched",
                extra={
                    "count": report.sent,
                    "status": (
                        f"claimed={report.claimed} late={report.late} retried={report.retried} "
                        f"deferred={report.deferred} failed={report.failed} rerouted={report.rerouted}"
                    ),
                },
            )
        return report

    def jobs(self) -> list[ScheduledJob]:
        every = IntervalTrigger(seconds=self.tick_seconds)
        return [
            ScheduledJob(DEADLINE_TICK_JOB_ID, every, self.tick, catch_up=True),
            ScheduledJob(
                DISPATCH_JOB_ID, IntervalTrigger(seconds=self.tick_seconds), self.dispatch, catch_up=True
            ),
        ]
