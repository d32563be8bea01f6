"""The processed-activities port (dedup of inbound activities) on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from frontdoor.unit_of_work import Store

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


async def _claim(store: Store, key: str, at: datetime = NOW) -> bool:
    async with store.unit_of_work() as uow:
        claimed = await uow.activities.claim(key, at)
        await uow.commit()
    return claimed


async def test_a_key_is_claimed_once(store: Store) -> None:
    assert await _claim(store, "k1") is True
    assert await _claim(store, "k1") is False
    assert await _claim(store, "k2") is True


async def test_an_uncommitted_claim_is_not_kept(store: Store) -> None:
    async with store.unit_of_work() as uow:
        assert await uow.activities.claim("k1", NOW) is True
    assert await _claim(store, "k1") is True


async def test_a_released_key_can_be_claimed_again(store: Store) -> None:
    assert await _claim(store, "k1") is True
    async with store.unit_of_work() as uow:
        await uow.activities.release("k1")
        await uow.activities.release("never-claimed")
        await uow.commit()
    assert await _claim(store, "k1") is True


async def test_prune_forgets_only_keys_older_than_the_cut_off(store: Store) -> None:
    assert await _claim(store, "old", NOW - timedelta(hours=25))
    assert await _claim(store, "recent", NOW - timedelta(hours=1))
    async with store.unit_of_work() as uow:
        assert await uow.activities.prune(NOW - timedelta(hours=24)) == 1
        await uow.commit()
    assert await _claim(store, "old") is True
    assert await _claim(store, "recent") is False


async def test_concurrent_claims_of_one_key_have_one_winner(store: Store) -> None:
    results = await asyncio.gather(*(_claim(store, "same") for _ in range(8)))
    assert sorted(results) == [False] * 7 + [True]
