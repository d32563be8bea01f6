"""Concurrent units of work on one store: numbers are never duplicated or skipped, the audit chain
never forks, and of two writers from the same version or eTag exactly one wins."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from frontdoor.ports import StaleVersionError
from frontdoor.records import AuditEvent
from frontdoor.unit_of_work import Store
from store import chain
from tests.store.samples import T0, full_contact

CONCURRENT = 50


async def test_concurrent_allocations_are_distinct_and_consecutive(store: Store) -> None:
    async def allocate() -> int:
        async with store.unit_of_work() as uow:
            number = await uow.references.allocate("CT", 26)
            await asyncio.sleep(0)  # let the others run while this one holds its number
            await uow.commit()
            return number

    numbers = await asyncio.gather(*(allocate() for _ in range(CONCURRENT)))

    assert sorted(numbers) == list(range(1, CONCURRENT + 1))
    async with store.unit_of_work() as uow:
        assert await uow.references.allocate("CT", 26) == CONCURRENT + 1


async def test_concurrent_allocations_with_rollbacks_leave_no_gaps(store: Store) -> None:
    async def allocate(keep: bool) -> int | None:
        async with store.unit_of_work() as uow:
            number = await uow.references.allocate("CT", 26)
            if not keep:
                return None  # rolled back on leaving
            await uow.commit()
            return number

    results = await asyncio.gather(*(allocate(keep=index % 3 != 0) for index in range(30)))
    kept = sorted(number for number in results if number is not None)
    assert kept == list(range(1, len(kept) + 1))


async def test_concurrent_audit_appends_keep_one_chain(store: Store) -> None:
    async def append(index: int) -> None:
        async with store.unit_of_work() as uow:
            event = AuditEvent(T0 + timedelta(seconds=index), f"actor-{index}", "viewed", f"CT-{index}")
            await uow.audit.append(event)
            await asyncio.sleep(0)
            await uow.commit()

    await asyncio.gather(*(append(index) for index in range(20)))

    async with store.unit_of_work() as uow:
        log = await uow.audit.between(T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert len(log) == 20
    assert chain.verify_chain(log)


async def test_of_two_saves_from_the_same_version_one_wins(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await uow.contacts.add(full_contact())
        await uow.commit()

    # Both read before either writes, however the threads behind the drivers are scheduled.
    both_read = asyncio.Barrier(2)

    async def save(worries: str) -> str:
        async with store.unit_of_work() as uow:
            contact = await uow.contacts.get("c-1")
            assert contact is not None
            await both_read.wait()
            try:
                await uow.contacts.save(replace(contact, worries=worries), expected_version=contact.version)
                await asyncio.sleep(0)
                await uow.commit()
            except StaleVersionError:
                return "stale"
            return "saved"

    outcomes = await asyncio.gather(save("one"), save("two"))
    assert sorted(outcomes) == ["saved", "stale"]
    async with store.unit_of_work() as uow:
        loaded = await uow.contacts.get("c-1")
    assert loaded is not None and loaded.version == 1


@pytest.mark.parametrize("prefixes", [("CT", "PC")])
async def test_concurrent_allocations_on_different_sequences_do_not_interfere(
    store: Store, prefixes: tuple[str, str]
) -> None:
    async def allocate(prefix: str) -> tuple[str, int]:
        async with store.unit_of_work() as uow:
            number = await uow.references.allocate(prefix, 26)
            await uow.commit()
            return prefix, number

    results = await asyncio.gather(*(allocate(prefixes[index % 2]) for index in range(20)))
    for prefix in prefixes:
        assert sorted(number for p, number in results if p == prefix) == list(range(1, 11))
