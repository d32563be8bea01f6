"""``store.contacts.PartsCache``: a contact's children, parents and events are read once per
version, and what a unit of work wrote and rolled back is never served, on SQLite and PostgreSQL;
another process (another store on the same database) always sees the parts of the version it reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import event

from frontdoor.contact import Child, ContactEvent, ContactState, Parent
from store.contacts import PartsCache, _Parts
from store.sql import SqlStore
from tests.store.samples import T0, full_contact, in_utc


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "fresh_postgres_url")
    return url


@pytest.fixture
async def stores(database_url: str) -> AsyncIterator[tuple[SqlStore, SqlStore]]:
    """Two stores on one database, as two processes would have."""
    first, second = SqlStore(database_url), SqlStore(database_url)
    yield first, second
    await first.close()
    await second.close()


@contextmanager
def parts_read(store: SqlStore) -> Iterator[list[str]]:
    """The tables of contacts' parts that ``store`` reads while the block runs."""
    tables: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        for table in ("contact_children", "contact_parents", "contact_events"):
            if statement.lstrip().upper().startswith("SELECT") and f"FROM {table}" in statement:
                tables.append(table)

    event.listen(store.engine.sync_engine, "before_cursor_execute", seen)
    try:
        yield tables
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", seen)


def _noted(minutes: int) -> ContactEvent:
    return ContactEvent(
        T0 + timedelta(minutes=minutes), "consultant-1", "note", ContactState.AWAITING_SCREENING, None
    )


async def test_a_version_s_parts_are_read_once_and_a_new_version_s_again(
    stores: tuple[SqlStore, SqlStore],
) -> None:
    first, second = stores
    contact = full_contact()
    async with first.unit_of_work() as uow:
        await uow.contacts.add(contact)
        await uow.commit()
    async with first.unit_of_work() as uow:
        loaded = await uow.contacts.get(contact.id)
    assert loaded == in_utc(contact)
    with parts_read(first) as tables:
        async with first.unit_of_work() as uow:
            again = await uow.contacts.get(contact.id)
    assert again == loaded
    assert tables == []  # the same version: its parts were kept

    # another process saves a new version with other parts
    changed = replace(
        contact, children=(Child("Other Example"),), parents=(Parent("P"),), events=(_noted(5),)
    )
    async with second.unit_of_work() as uow:
        await uow.contacts.get(contact.id)
        await uow.contacts.save(changed, expected_version=0)
        await uow.commit()
    with parts_read(first) as tables:
        async with first.unit_of_work() as uow:
            seen = await uow.contacts.get(contact.id)
    assert seen == in_utc(replace(changed, version=1))
    assert tables == ["contact_children", "contact_parents", "contact_events"]


async def test_parts_written_and_rolled_back_are_never_served(stores: tuple[SqlStore, SqlStore]) -> None:
    first, second = stores
    contact = full_contact()
    async with first.unit_of_work() as uow:
        await uow.contacts.add(contact)
        await uow.commit()
    # first saves version 1 with some parts, reads it back, and rolls back
    abandoned = replace(contact, children=(Child("Abandoned Example"),), events=(_noted(1),))
    async with first.unit_of_work() as uow:
        await uow.contacts.get(contact.id)
        await uow.contacts.save(abandoned, expected_version=0)
        assert (await uow.contacts.get(contact.id)) == in_utc(replace(abandoned, version=1))
        await uow.rollback()
    # then another process commits its own version 1, with other parts
    kept = replace(contact, children=(Child("Kept Example"),), events=(_noted(2), _noted(3)))
    async with second.unit_of_work() as uow:
        await uow.contacts.get(contact.id)
        await uow.contacts.save(kept, expected_version=0)
        await uow.commit()
    async with first.unit_of_work() as uow:
        assert await uow.contacts.get(contact.id) == in_utc(replace(kept, version=1))
    async with first.unit_of_work() as uow:  # and again, from what was kept
        assert await uow.contacts.get(contact.id) == in_utc(replace(kept, version=1))


def test_the_cache_keeps_the_most_recently_used_up_to_its_size() -> None:
    cache = PartsCache(size=2)

    def parts(version: int) -> _Parts:
        return _Parts(version, (Child(f"Child {version}"),), (), ())

    cache.keep({"a": parts(1), "b": parts(1)})
    assert cache.get("a", 1) == parts(1)  # "a" is now the most recently used
    cache.keep({"c": parts(1)})
    assert len(cache) == 2
    assert cache.get("b", 1) is None  # the least recently used went
    assert cache.get("a", 1) == parts(1) and cache.get("c", 1) == parts(1)
    assert cache.get("a", 2) is None  # another version is another entry
