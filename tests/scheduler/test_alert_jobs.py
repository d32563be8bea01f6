"""The deadline tick and dispatcher jobs: their ids, intervals and catch-up in the scheduler, the tick
planning only in the leader, and both running on their own when the scheduler runs (a 0.2 s tick)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from frontdoor.acting import Rules
from frontdoor.alert_tick import plan_alerts
from frontdoor.alerts import AlertKind, OutboxItem
from frontdoor.calendar import WorkingCalendar
from frontdoor.dispatch import SendReport
from frontdoor.policy import default_policy
from frontdoor.records import (
    ChannelPurpose,
    ChannelRegistration,
    ClockKind,
    ConversationKind,
    ConversationRecord,
    Deadline,
)
from frontdoor.systemclock import SettableClock
from scheduler.alert_jobs import DEADLINE_TICK_JOB_ID, DISPATCH_JOB_ID, DeadlineAlerts
from scheduler.jobs import RETENTION_JOB_ID, create_scheduler
from scheduler.leadership import SoleLeadership
from scheduler.runner import JOB_DEFAULTS
from store.leader import SqliteLeadership
from tests.fakes import InMemoryStore

POLICY = default_policy()
CALENDAR = WorkingCalendar()
T0 = datetime(2026, 6, 8, 9, 0, tzinfo=UTC)
DUTY = "19:duty@thread.tacv2"


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[OutboxItem] = []
        self.arrived = asyncio.Event()

    async def send(self, item: OutboxItem, conversation_id: str, now: datetime) -> SendReport:
        self.sent.append(item)
        self.arrived.set()
        return SendReport(activity_id=f"activity-{len(self.sent)}", conversation_id=conversation_id)


async def with_a_breach(store: InMemoryStore) -> None:
    async with store.unit_of_work() as uow:
        await uow.conversations.upsert(
            ConversationRecord(DUTY, ConversationKind.CHANNEL, "t", "https://x/", "{}", T0)
        )
        await uow.channels.register(ChannelRegistration(ChannelPurpose.DUTY, DUTY, "admin", T0))
        await uow.deadlines.add(Deadline("CT-26-000001", ClockKind.CP_DECISION, T0, T0 + timedelta(hours=2)))
        await uow.commit()


def alerts_for(
    store: InMemoryStore, clock: SettableClock, sender: RecordingSender, leadership: object, tick: float = 30
) -> DeadlineAlerts:
    return DeadlineAlerts(
        store.unit_of_work,
        clock,
        POLICY,
        CALENDAR,
        sender=sender,
        leadership=leadership,  # type: ignore[arg-type]
        tick_seconds=tick,
    )


async def test_the_scheduler_runs_the_tick_and_the_dispatcher_every_tick_with_catch_up() -> None:
    store = InMemoryStore()
    alerts = alerts_for(store, SettableClock(T0), RecordingSender(), SoleLeadership(), tick=12.5)
    scheduler = create_scheduler(store.unit_of_work, SettableClock(T0), POLICY, CALENDAR, alerts=alerts)
    assert [job.catch_up for job in alerts.jobs()] == [True, True]
    before = datetime.now(UTC)
    await scheduler.start()
    try:
        assert {DEADLINE_TICK_JOB_ID, DISPATCH_JOB_ID, RETENTION_JOB_ID} <= set(scheduler.job_ids())
        for job_id in (DEADLINE_TICK_JOB_ID, DISPATCH_JOB_ID):
            assert scheduler.job_options(job_id) == JOB_DEFAULTS
        await asyncio.sleep(0.1)  # the catch-up runs; the next run is one interval on
        for job_id in (DEADLINE_TICK_JOB_ID, DISPATCH_JOB_ID):
            next_run = scheduler.next_run_time(job_id)
            assert next_run is not None
            assert timedelta(seconds=12) <= next_run - before <= timedelta(seconds=13.5)
    finally:
        await scheduler.stop()


def test_the_tick_needs_a_positive_interval() -> None:
    with pytest.raises(ValueError, match="positive"):
        alerts_for(InMemoryStore(), SettableClock(T0), RecordingSender(), SoleLeadership(), tick=0)


async def test_with_a_short_tick_alerts_go_out_on_their_own() -> None:
    store = InMemoryStore()
    await with_a_breach(store)
    clock, sender = SettableClock(T0), RecordingSender()
    alerts = alerts_for(store, clock, sender, SoleLeadership(), tick=0.2)
    scheduler = create_scheduler(store.unit_of_work, clock, POLICY, CALENDAR, alerts=alerts)
    await scheduler.start()
    try:
        await asyncio.sleep(0.5)
        # Not due yet.
        assert sender.sent == []
        clock.set(T0 + timedelta(hours=2))  # the scheduler's next tick sees the breach
        await asyncio.wait_for(sender.arrived.wait(), 5)
        await asyncio.sleep(0.5)
    finally:
        await scheduler.stop()
    assert [(item.kind, item.recipient.text) for item in sender.sent] == [
        (AlertKind.BREACHED, "channel:duty")
    ]


async def test_only_the_leader_plans_and_dispatches(tmp_path: Path) -> None:
    store = InMemoryStore()
    await with_a_breach(store)
    clock = SettableClock(T0 + timedelta(hours=2))
    lock = tmp_path / "frontdoor.db.scheduler.lock"
    leader, follower = SqliteLeadership(lock), SqliteLeadership(lock)
    assert await leader.try_acquire()
    try:
        follower_sender, leader_sender = RecordingSender(), RecordingSender()
        following = alerts_for(store, clock, follower_sender, follower)
        assert await following.tick() is None
        assert store.outbox.rows == {}

        # Planned (as by the leader, in another process): the follower does not send it either,
        # since one dispatcher is what keeps Teams' per-conversation limits.
        planned = await plan_alerts(store.unit_of_work, rules=Rules(clock.now(), CALENDAR, POLICY))
        assert planned.enqueued == 1
        assert (await following.dispatch()).claimed == 0
        assert follower_sender.sent == []

        # The leader's tick sends it, then plans and sends the repeat when it is due.
        leading = alerts_for(store, clock, leader_sender, leader)
        assert (await leading.dispatch()).sent == 1
        clock.advance(timedelta(minutes=30))
        report = await leading.tick()
        assert report is not None and report.plan.enqueued == 1
        assert [item.kind for item in leader_sender.sent] == [AlertKind.BREACHED, AlertKind.REPEAT]
    finally:
        await leader.release()


async def test_a_new_leader_sends_at_once_what_a_dead_leader_had_claimed(tmp_path: Path) -> None:
    """The rows a killed leader had leased go out as soon as a successor leads, not after the lease,
    and are marked as interrupted (their cards say they may repeat one that reached Teams)."""
    store = InMemoryStore()
    await with_a_breach(store)
    clock = SettableClock(T0 + timedelta(hours=2))
    await plan_alerts(store.unit_of_work, rules=Rules(clock.now(), CALENDAR, POLICY))
    async with store.unit_of_work() as uow:  # the dead leader's claim, its lease still running
        [claimed] = await uow.alerts.claim(clock.now(), timedelta(minutes=5))
    sender = RecordingSender()
    successor = alerts_for(store, clock, sender, SqliteLeadership(tmp_path / "db.scheduler.lock"))
    try:
        assert (await successor.dispatch()).sent == 1
    finally:
        await successor.leadership.release()
    [sent] = sender.sent
    assert sent.id == claimed.id and sent.interrupted
