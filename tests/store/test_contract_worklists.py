"""The store contract for the work lists and the caseload lock: ``assigned_to``, ``lock_worker``,
``open_for_subjects`` and ``open_for_assignee``, against the in-memory fake,
SQLite and PostgreSQL alike (the ``store`` fixture is parametrized over the three)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from frontdoor.contact import ContactState
from frontdoor.records import ClockKind, Deadline, DeadlineState
from frontdoor.unit_of_work import Store
from store.sql import SqlStore
from tests.store.samples import T0, full_contact, in_utc

#: How long a waiting unit of work is given to show it is (still) waiting.
SETTLE = 0.3


async def _add(store: Store, *contacts: object) -> None:
    async with store.unit_of_work() as uow:
        for contact in contacts:
            await uow.contacts.add(contact)  # type: ignore[arg-type]
        await uow.commit()


async def test_assigned_to_lists_a_persons_contacts_in_the_states_asked_in_creation_order(
    store: Store,
) -> None:
    mine_later = replace(
        full_contact("c-mine-2", reference="CT-26-000002"),
        created_at=T0 + timedelta(hours=1),
        assignee_id="sw-1",
        state=ContactState.SW_ASSESSMENT,
    )
    mine_first = replace(full_contact("c-mine-1", reference="CT-26-000001"), assignee_id="sw-1")
    mine_closed = replace(
        full_contact("c-mine-3", reference="CT-26-000003"), assignee_id="sw-1", state=ContactState.CLOSED
    )
    someone_elses = replace(full_contact("c-other", reference="CT-26-000004"), assignee_id="sw-2")
    await _add(store, mine_later, mine_first, mine_closed, someone_elses)

    open_states = [ContactState.AWAITING_SCREENING, ContactState.SW_ASSESSMENT]
    async with store.unit_of_work() as uow:
        found = await uow.contacts.assigned_to("sw-1", open_states)
        assert found == [in_utc(mine_first), in_utc(mine_later)]
        assert [c.id for c in await uow.contacts.assigned_to("sw-1", [ContactState.CLOSED])] == ["c-mine-3"]
        assert await uow.contacts.assigned_to("sw-1", []) == []
        assert await uow.contacts.assigned_to("nobody", open_states) == []


def _deadline(subject: str, clock: ClockKind, due_minutes: int, assignee: str | None) -> Deadline:
    return Deadline(
        subject, clock, started_at=T0, due_at=T0 + timedelta(minutes=due_minutes), assignee_id=assignee
    )


async def test_open_deadlines_by_subjects_and_by_assignee_soonest_first(store: Store) -> None:
    async with store.unit_of_work() as uow:
        a_screening = await uow.deadlines.add(_deadline("CT-A", ClockKind.SCREENING, 60, None))
        a_completion = await uow.deadlines.add(_deadline("CT-A", ClockKind.COMPLETION_48H, 30, "sw-1"))
        b_letter = await uow.deadlines.add(_deadline("CT-B", ClockKind.PARENT_LETTER, 45, "sw-1"))
        c_other = await uow.deadlines.add(_deadline("CT-C", ClockKind.SCREENING, 10, "sw-2"))
        await uow.deadlines.add(_deadline("CT-B", ClockKind.CP_DECISION, 5, "sw-1"))
        await uow.commit()
    async with store.unit_of_work() as uow:
        await uow.deadlines.close("CT-B", ClockKind.CP_DECISION, DeadlineState.MET, T0, closed_by="sw-1")
        await uow.commit()

    async with store.unit_of_work() as uow:
        assert await uow.deadlines.open_for_subjects(["CT-A", "CT-B"]) == [
            a_completion,
            b_letter,
            a_screening,
        ]
        assert await uow.deadlines.open_for_subjects(["CT-C", "CT-C"]) == [c_other]
        assert await uow.deadlines.open_for_subjects([]) == []
        assert await uow.deadlines.open_for_subjects(["CT-NONE"]) == []
        assert await uow.deadlines.open_for_assignee("sw-1") == [a_completion, b_letter]
        assert await uow.deadlines.open_for_assignee("sw-9") == []


async def test_a_workers_lock_holds_another_unit_of_work_until_the_first_ends(store: Store) -> None:
    async with store.unit_of_work() as first:
        await first.contacts.lock_worker("sw-1")

        async def second_locks() -> None:
            async with store.unit_of_work() as second:
                await second.contacts.lock_worker("sw-1")
                await second.commit()

        waiting = asyncio.create_task(second_locks())
        await asyncio.sleep(SETTLE)
        assert not waiting.done()
        await first.commit()
        await asyncio.wait_for(waiting, 10)


async def test_a_workers_lock_ends_with_a_rollback_too(store: Store) -> None:
    async with store.unit_of_work() as first:
        await first.contacts.lock_worker("sw-1")
        await first.rollback()
    async with asyncio.timeout(10), store.unit_of_work() as second:
        await second.contacts.lock_worker("sw-1")
        await second.contacts.lock_worker("sw-1")  # again in the same unit of work: no wait on itself
        await second.commit()


@pytest.mark.postgres
async def test_on_postgresql_different_workers_do_not_wait_for_each_other(fresh_postgres_url: str) -> None:
    # SQLite and the fake serialise every writer; PostgreSQL locks one worker's caseload alone.
    store = SqlStore(fresh_postgres_url)
    try:
        async with store.unit_of_work() as first:
            await first.contacts.lock_worker("sw-1")
            async with asyncio.timeout(5), store.unit_of_work() as second:
                await second.contacts.lock_worker("sw-2")
                await second.commit()
            await first.commit()
    finally:
        await store.close()
