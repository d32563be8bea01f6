"""The scheduler's jobs. Each is a thin call into a ``frontdoor`` use case over a fresh unit of work;
the use case decides what is due from the tables and the injected clock.

For now: nightly retention (SPEC §7), which deletes consultations past
``policy.retention.consultations_months``, removes the personal data of contacts closed without
being accepted more than ``policy.retention.referrals_not_accepted_months`` ago, and deletes closed
MASH episodes past ``policy.retention.mash_episodes_months`` and triage incidents past
``policy.retention.triage_incidents_months``, answered CAFCASS and Ofsted requests past
``policy.retention.information_requests_months``, MARAC cases and MAPPA invitations past
``policy.retention.marac_mappa_months`` (each deletion and removal audited by the use cases), at
02:30 London
time and once at start-up for whatever fell due while the bot was down; the end-of-day handover
and MARAC reminders (``scheduler.daily_jobs``); and, given ``alerts``, the deadline tick (with the
parent-letter lapse) and the alert dispatcher (``scheduler.alert_jobs``).
"""

from __future__ import annotations

import logging
from datetime import time
from typing import Final

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from frontdoor.acting import Rules
from frontdoor.body_requests import purge_expired_requests
from frontdoor.calendar import LONDON, WorkingCalendar
from frontdoor.consultation_retention import purge_expired_consultations
from frontdoor.mail import alert_untaken
from frontdoor.mail_records import SUBJECT_PREFIX
from frontdoor.marac_cases import purge_expired_marac
from frontdoor.mash import purge_expired_episodes
from frontdoor.policy import Policy
from frontdoor.ports import Clock
from frontdoor.retention import purge_expired_mail, remove_expired_personal_data
from frontdoor.triage import purge_expired_incidents
from frontdoor.unit_of_work import UnitOfWorkFactory
from scheduler.alert_jobs import DeadlineAlerts
from scheduler.daily_jobs import daily_jobs
from scheduler.mailbox import MailboxWatcher
from scheduler.runner import FrontDoorScheduler, ScheduledJob

log = logging.getLogger(__name__)

RETENTION_JOB_ID: Final = "retention"
#: When retention runs, London time: the quietest hour, clear of the clock changes (01:00-02:00).
RETENTION_AT: Final = time(2, 30)


async def run_retention(
    unit_of_work: UnitOfWorkFactory, clock: Clock, policy: Policy, calendar: WorkingCalendar | None = None
) -> tuple[str, ...]:
    """Delete or anonymise what is past retention as of ``clock.now()``: consultations, the personal
    data of contacts closed without acceptance, and the stored data of e-mails that did not become
    accepted referrals; the references (and ``mail:`` ids) done."""
    rules = Rules(clock.now(), calendar or WorkingCalendar(), policy)
    async with unit_of_work() as uow:
        deleted = tuple(await purge_expired_consultations(uow, rules=rules))
    for purge in (
        purge_expired_episodes,
        purge_expired_incidents,
        purge_expired_requests,
        purge_expired_marac,
    ):
        async with unit_of_work() as uow:
            deleted += tuple(await purge(uow, rules=rules))
    anonymised = await remove_expired_personal_data(unit_of_work, rules=rules)
    mail = await purge_expired_mail(unit_of_work(), rules=rules)
    log.info("retention ran", extra={"count": len(deleted) + len(anonymised) + len(mail)})
    return (*deleted, *anonymised, *(f"{SUBJECT_PREFIX}{item_id}" for item_id in mail))


def retention_job(
    unit_of_work: UnitOfWorkFactory, clock: Clock, policy: Policy, calendar: WorkingCalendar | None = None
) -> ScheduledJob:
    async def run() -> tuple[str, ...]:
        return await run_retention(unit_of_work, clock, policy, calendar)

    trigger = CronTrigger(hour=RETENTION_AT.hour, minute=RETENTION_AT.minute, timezone=LONDON)
    return ScheduledJob(RETENTION_JOB_ID, trigger, run, catch_up=True)


def front_door_jobs(
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    policy: Policy,
    calendar: WorkingCalendar,
    *,
    alerts: DeadlineAlerts | None = None,
    mailbox: MailboxWatcher | None = None,
) -> list[ScheduledJob]:
    """Every job the bot runs; the deadline tick and the dispatcher when ``alerts`` is given (they
    need a sender and a leadership only the composition root can build); the mailbox poll when
    ``mailbox`` is given (a mailbox is configured)."""
    return [
        retention_job(unit_of_work, clock, policy, calendar),
        *daily_jobs(unit_of_work, clock, policy, calendar),
        mail_untaken_job(unit_of_work, clock, policy, calendar),
        *(alerts.jobs() if alerts is not None else ()),
        *(mailbox.jobs() if mailbox is not None else ()),
    ]


MAIL_UNTAKEN_JOB_ID: Final = "mail_untaken"


async def run_mail_untaken(
    unit_of_work: UnitOfWorkFactory, clock: Clock, policy: Policy, calendar: WorkingCalendar
) -> int:
    """Alert the duty manager about e-mails left untaken too long (each once)."""
    added = await alert_untaken(unit_of_work, rules=Rules(clock.now(), calendar, policy))
    if added:
        log.info("untaken e-mail alerts enqueued", extra={"count": added})
    return added


def mail_untaken_job(
    unit_of_work: UnitOfWorkFactory, clock: Clock, policy: Policy, calendar: WorkingCalendar
) -> ScheduledJob:
    async def run() -> int:
        return await run_mail_untaken(unit_of_work, clock, policy, calendar)

    return ScheduledJob(
        MAIL_UNTAKEN_JOB_ID, IntervalTrigger(seconds=policy.alerts.tick_seconds), run, catch_up=True
    )


def create_scheduler(
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    policy: Policy,
    calendar: WorkingCalendar,
    *,
    alerts: DeadlineAlerts | None = None,
    mailbox: MailboxWatcher | None = None,
) -> FrontDoorScheduler:
    """The scheduler with every job, not yet started (``await scheduler.start()``)."""
    return FrontDoorScheduler(
        front_door_jobs(unit_of_work, clock, policy, calendar, alerts=alerts, mailbox=mailbox)
    )
