"""The scheduler's wiring and its retention job: the job against each store with an injected
clock, and the APScheduler options, start-up catch-up and shutdown of ``FrontDoorScheduler``."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.interval import IntervalTrigger

from frontdoor.calendar import WorkingCalendar
from frontdoor.consultation import Consultation
from frontdoor.policy import default_policy, parse_policy
from frontdoor.records import RETENTION_ACTOR
from frontdoor.systemclock import SettableClock
from frontdoor.unit_of_work import Store
from scheduler.daily_jobs import EDT_JOB_ID, HANDOVER_JOB_ID, MARAC_JOB_ID, WEEKLY_FIGURES_JOB_ID
from scheduler.jobs import (
    MAIL_UNTAKEN_JOB_ID,
    RETENTION_JOB_ID,
    create_scheduler,
    retention_job,
    run_retention,
)
from scheduler.runner import JOB_DEFAULTS, FrontDoorScheduler, ScheduledJob
from tests.fakes import InMemoryStore

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 6, 8, 9, 30, tzinfo=UTC)
POLICY = default_policy()


def consultation(reference: str, created_at: datetime) -> Consultation:
    return Consultation(
        id=f"id-{reference}",
        reference=reference,
        author_id="prof-1",
        on_behalf=False,
        professional_name="Testy McTestface",
        agency="Example Primary School",
        professional_role="",
        worry="A Year 6 pupil has been arriving hungry.",
        advice="",
        advised_by=None,
        created_at=created_at,
    )


async def seed(store: Store, *consultations: Consultation) -> None:
    async with store.unit_of_work() as uow:
        for c in consultations:
            await uow.consultations.add(c)
        await uow.commit()


async def references(store: Store) -> list[str]:
    async with store.unit_of_work() as uow:
        found = await uow.consultations.list_between(NOW - timedelta(days=3650), NOW + timedelta(days=3650))
    return [c.reference for c in found]


# -- the retention job, against memory, SQLite and PostgreSQL --------------------------------------


async def test_retention_deletes_what_the_clock_says_is_due_and_audits_it(store: Store) -> None:
    # With 6 months, on 8 June 2026 09:30 UTC (10:30 London) the cutoff is 8 December 2025 10:30 GMT.
    cutoff = datetime(2025, 12, 8, 10, 30, tzinfo=UTC)
    await seed(
        store,
        consultation("PC-25-00001", cutoff - timedelta(days=30)),
        consultation("PC-25-00002", cutoff - timedelta(seconds=1)),
        consultation("PC-25-00003", cutoff),
        consultation("PC-26-00001", NOW - timedelta(days=1)),
    )
    clock = SettableClock(NOW)

    assert await run_retention(store.unit_of_work, clock, POLICY) == ("PC-25-00001", "PC-25-00002")
    assert await references(store) == ["PC-25-00003", "PC-26-00001"]
    assert await run_retention(store.unit_of_work, clock, POLICY) == ()  # nothing twice

    clock.advance(timedelta(seconds=1))
    assert await run_retention(store.unit_of_work, clock, POLICY) == ("PC-25-00003",)

    async with store.unit_of_work() as uow:
        audited = await uow.audit.between(NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert [(s.event.actor_id, s.event.action, s.event.subject, s.event.detail) for s in audited] == [
        (RETENTION_ACTOR, "consultation.delete", reference, "retention")
        for reference in ("PC-25-00001", "PC-25-00002", "PC-25-00003")
    ]


async def test_retention_follows_the_policy(store: Store) -> None:
    await seed(
        store,
        consultation("PC-26-00001", NOW - timedelta(days=40)),
        consultation("PC-26-00002", NOW - timedelta(days=20)),
    )
    one_month = parse_policy("[retention]\nconsultations_months = 1\n")
    assert await run_retention(store.unit_of_work, SettableClock(NOW), one_month) == ("PC-26-00001",)
    assert await references(store) == ["PC-26-00002"]


async def test_the_retention_job_as_scheduled_runs_the_same(store: Store) -> None:
    await seed(store, consultation("PC-25-00001", NOW - timedelta(days=400)))
    job = retention_job(store.unit_of_work, SettableClock(NOW), POLICY)
    assert (job.id, job.catch_up) == (RETENTION_JOB_ID, True)
    assert await job.run() == ("PC-25-00001",)
    assert await references(store) == []


# -- the trigger ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "fires"),
    [
        (datetime(2026, 6, 8, 9, 30, tzinfo=UTC), datetime(2026, 6, 9, 1, 30, tzinfo=UTC)),  # BST
        (datetime(2026, 12, 1, 12, 0, tzinfo=UTC), datetime(2026, 12, 2, 2, 30, tzinfo=UTC)),  # GMT
        # the clocks go forward at 01:00 on 29 March 2026 and back at 02:00 on 25 October 2026
        (datetime(2026, 3, 28, 12, 0, tzinfo=UTC), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        (datetime(2026, 10, 24, 12, 0, tzinfo=UTC), datetime(2026, 10, 25, 2, 30, tzinfo=UTC)),
    ],
)
def test_retention_runs_at_half_past_two_london_time(after: datetime, fires: datetime) -> None:
    trigger = retention_job(InMemoryStore().unit_of_work, SettableClock(NOW), POLICY).trigger
    assert trigger.get_next_fire_time(None, after.astimezone(LONDON)) == fires


# -- the scheduler --------------------------------------------------------------------------------


async def test_the_scheduler_uses_the_design_options_and_fixed_ids(store: Store) -> None:
    scheduler = create_scheduler(store.unit_of_work, SettableClock(NOW), POLICY, WorkingCalendar())
    await scheduler.start()
    try:
        assert scheduler.running
        assert scheduler.job_ids() == sorted(
            [
                RETENTION_JOB_ID,
                HANDOVER_JOB_ID,
                MARAC_JOB_ID,
                EDT_JOB_ID,
                MAIL_UNTAKEN_JOB_ID,
                WEEKLY_FIGURES_JOB_ID,
            ]
        )
        for job_id in scheduler.job_ids():
            assert scheduler.job_options(job_id) == JOB_DEFAULTS
        assert JOB_DEFAULTS == {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
    finally:
        await scheduler.stop()
    assert not scheduler.running


def test_job_ids_must_be_unique() -> None:
    async def nothing() -> None:
        return None

    job = ScheduledJob("same", IntervalTrigger(hours=1), nothing)
    with pytest.raises(ValueError, match="unique"):
        FrontDoorScheduler([job, replace(job)])


async def test_a_catch_up_job_runs_at_start_then_follows_its_trigger() -> None:
    ran: list[str] = []
    done = asyncio.Event()

    async def catch_up() -> None:
        ran.append("catch-up")
        done.set()

    async def later() -> None:
        ran.append("later")

    scheduler = FrontDoorScheduler(
        [
            ScheduledJob("caught-up", IntervalTrigger(hours=1), catch_up, catch_up=True),
            ScheduledJob("waits", IntervalTrigger(hours=1), later),
        ]
    )
    before = datetime.now(UTC)
    await scheduler.start()
    try:
        await asyncio.wait_for(done.wait(), 5)
        await asyncio.sleep(0.05)
        assert ran == ["catch-up"]
        next_run = scheduler.next_run_time("caught-up")
        assert next_run is not None and next_run - before >= timedelta(minutes=59)
    finally:
        await scheduler.stop()


async def test_a_failing_job_is_logged_by_type_and_the_scheduler_carries_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    attempts: list[int] = []

    async def failing() -> None:
        attempts.append(1)
        raise RuntimeError("Testy McTestface at B33 8TH")  # an exception message may quote data

    scheduler = FrontDoorScheduler([ScheduledJob("fails", IntervalTrigger(hours=1), failing, catch_up=True)])
    with caplog.at_level(logging.INFO, logger="scheduler.runner"):
        await scheduler.start()
        for _ in range(100):
            if attempts:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.01)
        assert scheduler.running
        await scheduler.stop()
    [failed] = [r for r in caplog.records if r.getMessage() == "scheduled job failed"]
    assert (failed.__dict__["key"], failed.__dict__["error_code"]) == ("fails", "RuntimeError")


async def test_stop_lets_a_running_job_finish_and_cancels_one_that_overruns() -> None:
    started = asyncio.Event()
    finished: list[str] = []

    async def slow() -> None:
        started.set()
        await asyncio.sleep(0.1)
        finished.append("slow")

    scheduler = FrontDoorScheduler([ScheduledJob("slow", IntervalTrigger(hours=1), slow, catch_up=True)])
    await scheduler.start()
    await asyncio.wait_for(started.wait(), 5)
    await scheduler.stop(grace=5)
    assert finished == ["slow"] and not scheduler.running

    started.clear()
    finished.clear()

    async def stuck() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            finished.append("cancelled")
            raise

    scheduler = FrontDoorScheduler([ScheduledJob("stuck", IntervalTrigger(hours=1), stuck, catch_up=True)])
    await scheduler.start()
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.wait_for(scheduler.stop(grace=0.05), 5)
    assert finished == ["cancelled"] and not scheduler.running
    await scheduler.stop()  # stopping twice is harmless
