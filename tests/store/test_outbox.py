"""The alert outbox contract, against the in-memory fake, SQLite and PostgreSQL alike: one row per
key however often it is enqueued, leases that keep claimers apart and expire, and sent rows that
are never claimed again. PostgreSQL also gets real concurrent claimers in two stores."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest

from frontdoor.alert_schedule import PlannedAlert, alerts_due
from frontdoor.alerts import (
    DUTY_CHANNEL,
    DUTY_MANAGER_EMAIL,
    AlertKey,
    AlertKind,
    AlertOutbox,
    OutboxState,
    Recipient,
    email_message,
    reroute_message,
)
from frontdoor.calendar import WorkingCalendar
from frontdoor.policy import default_policy
from frontdoor.records import ClockKind, Deadline
from frontdoor.unit_of_work import Store
from store.outbox import SqlAlertOutbox
from store.sql import SqlStore
from tests.fakes import InMemoryStore
from tests.outbox_fake import InMemoryAlertOutbox
from tests.postgres import StoreBackend
from tests.store.samples import T0

LEASE = timedelta(minutes=2)
OutboxOpener = Callable[[], AbstractAsyncContextManager[AlertOutbox]]


@pytest.fixture
def open_outbox(store: Store) -> OutboxOpener:
    """Opens the outbox for one unit of work, committed on leaving without an error."""
    fake = InMemoryAlertOutbox()

    @asynccontextmanager
    async def opener() -> AsyncIterator[AlertOutbox]:
        if isinstance(store, InMemoryStore):
            yield fake
            return
        assert isinstance(store, SqlStore)
        async with store.unit_of_work() as uow:
            yield SqlAlertOutbox(uow)
            await uow.commit()

    return opener


def planned(
    subject: str = "CT-26-000001", *, at: datetime = T0, people: tuple[str, ...] = ("sw-1",)
) -> PlannedAlert:
    key = AlertKey(subject, ClockKind.CP_DECISION, AlertKind.BREACHED, 0, at)
    recipients = (*(Recipient.person(person) for person in people), DUTY_CHANNEL)
    return PlannedAlert(key, at, at - timedelta(hours=2), "sw-1", recipients, late=False, deadline_id=7)


async def seed(open_outbox: OutboxOpener, count: int, at: datetime = T0) -> None:
    async with open_outbox() as outbox:
        for index in range(count):
            alert = planned(f"CT-26-{index:06d}", at=at + timedelta(seconds=index), people=())
            assert await outbox.enqueue(alert.messages(), at) == 1


# -- enqueue --------------------------------------------------------------------------------------


async def test_enqueue_twice_gives_one_row_per_recipient(open_outbox: OutboxOpener) -> None:
    alert = planned()
    async with open_outbox() as outbox:
        assert await outbox.enqueue(alert.messages(), T0) == 2
    async with open_outbox() as outbox:
        assert await outbox.enqueue(alert.messages(), T0 + timedelta(minutes=1)) == 0
        assert await outbox.enqueue(alert.messages() + alert.messages(), T0) == 0
        counts = await outbox.counts()
    assert counts == {
        OutboxState.PENDING: 2,
        OutboxState.LEASED: 0,
        OutboxState.SENT: 0,
        OutboxState.FAILED: 0,
        OutboxState.WITHDRAWN: 0,
        OutboxState.HELD: 0,
    }


async def test_an_enqueued_row_round_trips(open_outbox: OutboxOpener) -> None:
    alert = planned()
    message = alert.messages()[0]
    async with open_outbox() as outbox:
        await outbox.enqueue([message], T0 + timedelta(seconds=30))
    async with open_outbox() as outbox:
        [item] = await outbox.claim(T0 + timedelta(minutes=1), LEASE)
        loaded = await outbox.get(item.id)

    assert loaded == item
    assert item.key == message.key
    assert item.alert_key == alert.key
    assert item.recipient == Recipient.person("sw-1")
    assert (item.subject, item.clock, item.kind) == (
        "CT-26-000001",
        ClockKind.CP_DECISION,
        AlertKind.BREACHED,
    )
    assert item.payload == message.payload
    assert item.due_at == T0 and item.due_at.tzinfo is UTC
    assert item.created_at == T0 + timedelta(seconds=30)
    assert (item.state, item.attempts, item.lease_until) == (OutboxState.LEASED, 1, T0 + timedelta(minutes=3))
    assert (item.sent_at, item.activity_id, item.last_error, item.conversation_id) == (None, None, "", None)
    assert not item.rerouted


async def test_planned_gives_the_alert_keys_of_the_subjects_with_when_first_enqueued(
    open_outbox: OutboxOpener,
) -> None:
    first, other = planned("CT-26-000001"), planned("CT-26-000002")
    async with open_outbox() as outbox:
        await outbox.enqueue(first.messages(), T0)
        await outbox.enqueue(other.messages(), T0 + timedelta(minutes=5))
    async with open_outbox() as outbox:
        assert await outbox.planned(["CT-26-000001"]) == {first.key: T0}
        assert await outbox.planned(["CT-26-000001", "CT-26-000002"]) == {
            first.key: T0,
            other.key: T0 + timedelta(minutes=5),
        }
        assert await outbox.planned([]) == {}
        assert await outbox.planned(["CT-26-999999"]) == {}


async def test_the_tick_reading_planned_enqueues_each_alert_exactly_once(open_outbox: OutboxOpener) -> None:
    calendar, policy = WorkingCalendar(), default_policy()
    started = datetime(2026, 6, 8, 9, 0, tzinfo=UTC)
    deadline = Deadline("CT-26-000009", ClockKind.CP_DECISION, started, started + timedelta(hours=2), id=1)
    now = started
    while now < started + timedelta(hours=4):
        async with open_outbox() as outbox:
            already = await outbox.planned([deadline.subject])
            for alert in alerts_due([deadline], now, calendar, policy, already):
                await outbox.enqueue(alert.messages(), now)
        now += timedelta(seconds=30)
    async with open_outbox() as outbox:
        keys = sorted(await outbox.planned([deadline.subject]), key=lambda key: key.due_at)
    kinds = sorted((key.kind.value, key.sequence) for key in keys)
    assert kinds == [("breached", 0), ("due_soon", 0), ("escalation", 0), ("repeat", 1), ("repeat", 2)]


async def test_enqueue_is_undone_by_a_rollback(store: Store, store_backend: StoreBackend) -> None:
    if not isinstance(store, SqlStore):
        pytest.skip("the in-memory outbox is not transactional")
    async with store.unit_of_work() as uow:
        await SqlAlertOutbox(uow).enqueue(planned().messages(), T0)
    async with store.unit_of_work() as uow:
        assert sum((await SqlAlertOutbox(uow).counts()).values()) == 0


# -- claim, lease, sent ---------------------------------------------------------------------------


async def test_claim_takes_due_rows_oldest_first_up_to_the_limit(open_outbox: OutboxOpener) -> None:
    await seed(open_outbox, 5)
    async with open_outbox() as outbox:
        assert await outbox.claim(T0 - timedelta(seconds=1), LEASE) == []
        first = await outbox.claim(T0 + timedelta(seconds=3), LEASE, limit=2)
    assert [item.subject for item in first] == ["CT-26-000000", "CT-26-000001"]
    async with open_outbox() as outbox:
        second = await outbox.claim(T0 + timedelta(seconds=3), LEASE, limit=10)
    # rows 2 and 3 are due; 0 and 1 are leased; 4 is not due yet
    assert [item.subject for item in second] == ["CT-26-000002", "CT-26-000003"]


async def test_a_leased_row_is_not_claimed_until_its_lease_expires(open_outbox: OutboxOpener) -> None:
    await seed(open_outbox, 1)
    async with open_outbox() as outbox:
        [item] = await outbox.claim(T0, LEASE)
    async with open_outbox() as outbox:
        assert await outbox.claim(T0 + LEASE - timedelta(microseconds=1), LEASE) == []
        [again] = await outbox.claim(T0 + LEASE, LEASE)
    assert again.id == item.id
    assert again.attempts == 2
    assert again.lease_until == T0 + 2 * LEASE


async def test_expire_leases_returns_expired_rows_to_pending(open_outbox: OutboxOpener) -> None:
    await seed(open_outbox, 3)
    async with open_outbox() as outbox:
        claimed = await outbox.claim(T0 + timedelta(seconds=5), LEASE, limit=2)
    async with open_outbox() as outbox:
        assert await outbox.expire_leases(T0 + timedelta(seconds=5)) == 0
        assert await outbox.expire_leases(T0 + timedelta(seconds=5) + LEASE) == 2
        items = [await outbox.get(item.id) for item in claimed]
    assert all(item is not None and item.state is OutboxState.PENDING for item in items)
    assert all(item is not None and item.lease_until is None and item.attempts == 1 for item in items)


async def test_release_leases_frees_every_leased_row_at_once_and_notes_the_interruption(
    open_outbox: OutboxOpener,
) -> None:
    await seed(open_outbox, 3)
    async with open_outbox() as outbox:
        claimed = await outbox.claim(T0 + timedelta(seconds=5), LEASE, limit=2)
    async with open_outbox() as outbox:
        [sent] = await outbox.claim(T0 + timedelta(seconds=5), LEASE, limit=1)
        assert await outbox.mark_sent(sent.id, "activity-1", T0)
    async with open_outbox() as outbox:
        # Long before the leases run out: a new sole dispatcher does not wait for them.
        assert await outbox.release_leases() == 2
        assert await outbox.release_leases() == 0
        items = [await outbox.get(item.id) for item in claimed]
        stored = await outbox.get(sent.id)
    assert all(item is not None and item.state is OutboxState.PENDING and item.interrupted for item in items)
    assert all(item is not None and item.lease_until is None and item.attempts == 1 for item in items)
    assert stored is not None and stored.state is OutboxState.SENT and not stored.interrupted
    async with open_outbox() as outbox:
        again = await outbox.claim(T0 + timedelta(seconds=5), LEASE)
    assert sorted(item.id for item in again) == sorted(item.id for item in claimed)
    assert all(item.interrupted for item in again)


async def test_a_withdrawn_row_is_never_claimed_and_a_sent_one_cannot_be_withdrawn(
    open_outbox: OutboxOpener,
) -> None:
    await seed(open_outbox, 2)
    async with open_outbox() as outbox:
        first, second = await outbox.claim(T0 + timedelta(seconds=5), LEASE)
        assert await outbox.mark_sent(second.id, "activity-1", T0)
    async with open_outbox() as outbox:
        assert await outbox.mark_withdrawn(first.id, "withdrawn: the clock stopped")
        assert not await outbox.mark_withdrawn(second.id, "withdrawn: the clock stopped")
        assert await outbox.claim(T0 + timedelta(days=1), LEASE) == []
        withdrawn, sent = await outbox.get(first.id), await outbox.get(second.id)
        counts = await outbox.counts()
    assert withdrawn is not None and withdrawn.state is OutboxState.WITHDRAWN
    assert withdrawn.lease_until is None and withdrawn.last_error == "withdrawn: the clock stopped"
    assert sent is not None and sent.state is OutboxState.SENT
    assert (counts[OutboxState.WITHDRAWN], counts[OutboxState.SENT]) == (1, 1)


async def test_a_sent_row_is_never_claimed_or_changed_again(open_outbox: OutboxOpener) -> None:
    await seed(open_outbox, 1)
    sent_at = T0 + timedelta(seconds=2)
    async with open_outbox() as outbox:
        [item] = await outbox.claim(T0, LEASE)
    async with open_outbox() as outbox:
        assert await outbox.mark_sent(item.id, "activity-1", sent_at, conversation_id="conv-1")
    async with open_outbox() as outbox:
        assert not await outbox.mark_sent(item.id, "activity-2", sent_at)
        assert not await outbox.mark_retry(item.id, T0, "HTTP 503")
        assert not await outbox.mark_failed(item.id, "HTTP 403")
        assert await outbox.expire_leases(T0 + timedelta(days=1)) == 0
        assert await outbox.claim(T0 + timedelta(days=1), LEASE) == []
        stored = await outbox.get(item.id)
    assert stored is not None
    assert (stored.state, stored.activity_id, stored.sent_at) == (OutboxState.SENT, "activity-1", sent_at)
    assert (stored.conversation_id, stored.lease_until) == ("conv-1", None)


async def test_a_retry_waits_for_its_time_and_keeps_the_error(open_outbox: OutboxOpener) -> None:
    await seed(open_outbox, 1)
    retry_at = T0 + timedelta(seconds=10)
    async with open_outbox() as outbox:
        [item] = await outbox.claim(T0, LEASE)
        assert await outbox.mark_retry(item.id, retry_at, "HTTP 503 ServiceUnavailable" + "x" * 600)
    async with open_outbox() as outbox:
        assert await outbox.claim(retry_at - timedelta(microseconds=1), LEASE) == []
        [again] = await outbox.claim(retry_at, LEASE)
    assert again.id == item.id and again.attempts == 2
    assert again.last_error.startswith("HTTP 503 ServiceUnavailable") and len(again.last_error) == 500


async def test_a_throttled_try_gives_its_attempt_back_and_a_missing_row_is_refused(
    open_outbox: OutboxOpener,
) -> None:
    await seed(open_outbox, 1)
    retry_at = T0 + timedelta(seconds=10)
    async with open_outbox() as outbox:
        [item] = await outbox.claim(T0, LEASE)
        assert item.attempts == 1
        assert await outbox.mark_retry(item.id, retry_at, "HTTP 429 Throttled", attempted=False)
        assert not await outbox.mark_retry(item.id + 1000, retry_at, "HTTP 429", attempted=False)
        assert not await outbox.mark_retry(item.id + 1000, retry_at, "HTTP 503")
    async with open_outbox() as outbox:
        stored = await outbox.get(item.id)
        assert stored is not None and (stored.state, stored.attempts) == (OutboxState.PENDING, 0)
        [again] = await outbox.claim(retry_at, LEASE)
    assert again.attempts == 1 and again.last_error == "HTTP 429 Throttled"


async def test_failed_rows_are_listed_newest_first_and_never_claimed(open_outbox: OutboxOpener) -> None:
    await seed(open_outbox, 3)
    async with open_outbox() as outbox:
        items = await outbox.claim(T0 + timedelta(seconds=5), LEASE)
        for item in items[:2]:
            assert await outbox.mark_failed(item.id, "HTTP 403 BotNotInConversationRoster")
        assert not await outbox.mark_failed(9999, "nothing")
    async with open_outbox() as outbox:
        failed = await outbox.failed()
        assert await outbox.claim(T0 + timedelta(days=1), LEASE, limit=10) == [await outbox.get(items[2].id)]
        counts = await outbox.counts()
    assert [item.id for item in failed] == [items[1].id, items[0].id]
    assert all(item.last_error == "HTTP 403 BotNotInConversationRoster" for item in failed)
    assert counts[OutboxState.FAILED] == 2 and counts[OutboxState.LEASED] == 1


async def test_a_failed_row_is_rerouted_to_the_duty_channel_once(open_outbox: OutboxOpener) -> None:
    alert = planned(people=("sw-1",))
    async with open_outbox() as outbox:
        await outbox.enqueue(alert.messages()[:1], T0)
        [item] = await outbox.claim(T0, LEASE)
        await outbox.mark_failed(item.id, "HTTP 403 ConversationBlockedByUser")
        assert await outbox.enqueue([reroute_message(item, "HTTP 403 ConversationBlockedByUser")], T0) == 1
        assert await outbox.enqueue([reroute_message(item, "HTTP 403 ConversationBlockedByUser")], T0) == 0
    async with open_outbox() as outbox:
        [rerouted] = await outbox.claim(T0 + timedelta(seconds=1), LEASE)
        assert await outbox.planned([alert.subject]) == {alert.key: T0}
    assert rerouted.rerouted and rerouted.recipient == DUTY_CHANNEL
    assert rerouted.alert_key == alert.key


async def test_a_deferred_row_waits_without_the_claim_counting_as_an_attempt(
    open_outbox: OutboxOpener,
) -> None:
    await seed(open_outbox, 1)
    until = T0 + timedelta(seconds=20)
    async with open_outbox() as outbox:
        [item] = await outbox.claim(T0, LEASE)
        assert item.attempts == 1
        assert await outbox.defer(item.id, until)
        assert not await outbox.defer(item.id, until)  # pending now, not leased: nothing to defer
        assert not await outbox.defer(9999, until)
    async with open_outbox() as outbox:
        stored = await outbox.get(item.id)
        assert await outbox.claim(until - timedelta(microseconds=1), LEASE) == []
        [again] = await outbox.claim(until, LEASE)
    assert stored is not None
    assert (stored.state, stored.attempts, stored.lease_until, stored.next_attempt_at) == (
        OutboxState.PENDING,
        0,
        None,
        until,
    )
    assert again.attempts == 1
    async with open_outbox() as outbox:
        assert await outbox.mark_sent(again.id, "activity-1", until)
        assert not await outbox.defer(again.id, until)


async def test_sent_about_lists_the_sent_copies_that_can_be_updated(open_outbox: OutboxOpener) -> None:
    alert = planned("CT-26-000001", people=("sw-1", "sw-2"))
    other = planned("CT-26-000002", people=("sw-1",))
    async with open_outbox() as outbox:
        await outbox.enqueue(alert.messages() + other.messages(), T0)
        items = await outbox.claim(T0, LEASE, limit=10)
    by_key = {item.key: item for item in items}
    mine = [by_key[message.key] for message in alert.messages()]  # sw-1, sw-2, the duty channel
    theirs = by_key[other.messages()[0].key]
    async with open_outbox() as outbox:
        await outbox.mark_sent(mine[2].id, "activity-3", T0 + timedelta(seconds=1), conversation_id="channel")
        await outbox.mark_sent(mine[0].id, "activity-1", T0 + timedelta(seconds=2), conversation_id="chat-1")
        await outbox.mark_sent(mine[1].id, None, T0 + timedelta(seconds=3), conversation_id="chat-2")
        await outbox.mark_sent(theirs.id, "activity-9", T0, conversation_id="chat-1")
    async with open_outbox() as outbox:
        copies = await outbox.sent_about("CT-26-000001")
        assert await outbox.sent_about("CT-26-999999") == []
    # sw-2's copy has no activity id to update; the other subject is not listed
    assert [(item.id, item.conversation_id, item.activity_id) for item in copies] == [
        (mine[2].id, "channel", "activity-3"),
        (mine[0].id, "chat-1", "activity-1"),
    ]
    assert all(item.alert_key == alert.key and item.state is OutboxState.SENT for item in copies)


async def test_about_lists_every_row_of_a_subject_in_any_state(open_outbox: OutboxOpener) -> None:
    alert = planned("CT-26-000001", people=("sw-1", "sw-2"))
    other = planned("CT-26-000002", people=())
    async with open_outbox() as outbox:
        await outbox.enqueue(alert.messages() + other.messages(), T0)
        [sent, failed, _] = await outbox.claim(T0, LEASE, limit=3)
        await outbox.mark_sent(sent.id, "activity-1", T0, conversation_id="chat-1")
        await outbox.mark_failed(failed.id, "HTTP 403 ConversationBlockedByUser")
    async with open_outbox() as outbox:
        rows = await outbox.about("CT-26-000001")
        assert await outbox.about("CT-26-999999") == []
    assert [item.key for item in rows] == [message.key for message in alert.messages()]
    assert [item.state for item in rows] == [OutboxState.SENT, OutboxState.FAILED, OutboxState.LEASED]
    assert rows[1].last_error == "HTTP 403 ConversationBlockedByUser"


# -- concurrency ----------------------------------------------------------------------------------


async def test_concurrent_claimers_never_share_a_row(store: Store, open_outbox: OutboxOpener) -> None:
    await seed(open_outbox, 30)

    async def claim() -> list[int]:
        async with open_outbox() as outbox:
            items = await outbox.claim(T0 + timedelta(minutes=1), LEASE, limit=4)
            await asyncio.sleep(0)  # let the others run while this one holds its rows
            return [item.id for item in items]

    claimed = await asyncio.gather(*(claim() for _ in range(12)))
    ids = [row_id for batch in claimed for row_id in batch]
    assert len(ids) == len(set(ids)) == 30


@pytest.mark.postgres
async def test_postgres_claimers_skip_rows_another_holds_without_waiting(fresh_postgres_url: str) -> None:
    first, second = SqlStore(fresh_postgres_url), SqlStore(fresh_postgres_url)
    try:
        async with first.unit_of_work() as uow:
            outbox = SqlAlertOutbox(uow)
            for index in range(10):
                await outbox.enqueue(planned(f"CT-26-{index:06d}", people=()).messages(), T0)
            await uow.commit()

        async with first.unit_of_work() as holder:
            held = await SqlAlertOutbox(holder).claim(T0, LEASE, limit=4)
            # Not committed: the rows are locked, and their lease is not visible to others yet.
            async with second.unit_of_work() as other:
                others = await asyncio.wait_for(SqlAlertOutbox(other).claim(T0, LEASE, limit=10), timeout=5)
                await other.commit()
            await holder.commit()

        assert len(held) == 4 and len(others) == 6
        assert not {item.id for item in held} & {item.id for item in others}
    finally:
        await first.close()
        await second.close()


@pytest.mark.postgres
async def test_postgres_claimers_in_two_stores_never_get_the_same_row(fresh_postgres_url: str) -> None:
    stores = [SqlStore(fresh_postgres_url), SqlStore(fresh_postgres_url)]
    try:
        async with stores[0].unit_of_work() as uow:
            outbox = SqlAlertOutbox(uow)
            for index in range(200):
                await outbox.enqueue(planned(f"CT-26-{index:06d}", people=()).messages(), T0)
            await uow.commit()

        async def claimer(store: SqlStore) -> list[int]:
            taken: list[int] = []
            while True:
                async with store.unit_of_work() as uow:
                    items = await SqlAlertOutbox(uow).claim(T0 + timedelta(minutes=1), LEASE, limit=7)
                    await asyncio.sleep(0.001)
                    await uow.commit()
                if not items:
                    return taken
                taken.extend(item.id for item in items)

        batches = await asyncio.gather(*(claimer(stores[index % 2]) for index in range(8)))
        ids = [row_id for batch in batches for row_id in batch]
        assert len(ids) == len(set(ids)) == 200
        assert sum(1 for batch in batches if batch) > 1  # they really did share the work
    finally:
        for store in stores:
            await store.close()


@pytest.mark.postgres
async def test_postgres_concurrent_enqueues_of_one_key_make_one_row(fresh_postgres_url: str) -> None:
    stores = [SqlStore(fresh_postgres_url), SqlStore(fresh_postgres_url)]
    alert = planned()
    try:

        async def enqueue(store: SqlStore) -> int:
            async with store.unit_of_work() as uow:
                added = await SqlAlertOutbox(uow).enqueue(alert.messages(), T0)
                await asyncio.sleep(0.01)
                await uow.commit()
                return added

        added = await asyncio.gather(*(enqueue(stores[index % 2]) for index in range(6)))
        async with stores[0].unit_of_work() as uow:
            counts = await SqlAlertOutbox(uow).counts()
        assert sorted(added) == [0, 0, 0, 0, 0, 2]
        assert counts[OutboxState.PENDING] == 2
    finally:
        for store in stores:
            await store.close()


# -- urgent-only mode and the e-mail route -----------------------------------------------------------


async def test_held_rows_and_email_copies_are_listed_by_state_and_kind(open_outbox: OutboxOpener) -> None:
    alert = planned()
    async with open_outbox() as outbox:
        await outbox.enqueue(alert.messages(), T0)
        person, channel = await outbox.claim(T0, LEASE)
        assert await outbox.mark_held(person.id, "held: urgent-only mode")
        assert await outbox.mark_failed(channel.id, "HTTP 404 ConversationNotFound")
        failed = await outbox.get(channel.id)
        assert failed is not None
        copy = email_message(failed, "HTTP 404 ConversationNotFound")
        # The copy's key is the alert's, so a second failed row of the same alert adds nothing.
        assert await outbox.enqueue([copy], T0) == 1
        assert await outbox.enqueue([email_message(person, "HTTP 403 Forbidden")], T0) == 0
    async with open_outbox() as outbox:
        [held] = await outbox.listed(states=[OutboxState.HELD])
        assert (held.id, held.state, held.last_error) == (
            person.id,
            OutboxState.HELD,
            "held: urgent-only mode",
        )
        assert held.attempts == 0  # held back, not tried: the claim's attempt is given back
        [emailed] = await outbox.listed(kinds=[AlertKind.EMAIL])
        assert emailed.alert_key == alert.key and emailed.recipient == DUTY_MANAGER_EMAIL
        assert emailed.state is OutboxState.PENDING
        assert await outbox.listed(states=[OutboxState.SENT]) == []
        assert len(await outbox.listed()) == 3
        # Held rows are never claimed.
        assert [item.id for item in await outbox.claim(T0 + timedelta(hours=1), LEASE)] == [emailed.id]
        assert (await outbox.counts())[OutboxState.HELD] == 1
