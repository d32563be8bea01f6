"""What only the SQL store has: cascades, SQLite connection settings, the write lock, URLs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, literal, select
from sqlalchemy.exc import StatementError

from frontdoor.contact import Contact, Parent
from frontdoor.ports import StaleVersionError
from frontdoor.roles import Role
from store.engine import create_engine
from store.sql import SqlStore
from store.tables import ContactChildRow, ContactEventRow, ContactParentRow, UtcDateTime
from tests.store.samples import full_contact


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def sql_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "fresh_postgres_url")
    return url


@pytest.fixture
async def sql_store(sql_url: str) -> AsyncIterator[SqlStore]:
    store = SqlStore(sql_url)
    yield store
    await store.close()


async def _part_rows(sql_store: SqlStore) -> int:
    async with sql_store.engine.connect() as connection:
        total = 0
        for part in (ContactChildRow, ContactParentRow, ContactEventRow):
            total += (await connection.execute(select(func.count()).select_from(part))).scalar_one()
        return total


async def test_deleting_a_contact_deletes_its_rows_in_the_part_tables(sql_store: SqlStore) -> None:
    contact: Contact = full_contact()
    async with sql_store.unit_of_work() as uow:
        await uow.contacts.add(contact)
        await uow.commit()
    assert await _part_rows(sql_store) == len(contact.children) + len(contact.parents) + len(contact.events)
    async with sql_store.unit_of_work() as uow:
        await uow.contacts.delete(contact.id)
        await uow.commit()
    assert await _part_rows(sql_store) == 0


async def test_a_save_rewrites_only_the_parts_that_changed_since_it_read_them(sql_store: SqlStore) -> None:
    writes: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.startswith(("DELETE", "INSERT")):
            writes.append(statement.split()[2])  # the table

    event.listen(sql_store.engine.sync_engine, "before_cursor_execute", record)
    contact = full_contact()
    async with sql_store.unit_of_work() as uow:
        await uow.contacts.add(contact)
        await uow.commit()

    async with sql_store.unit_of_work() as uow:  # read, then save with the same parts
        loaded = await uow.contacts.get(contact.id)
        assert loaded is not None
        writes.clear()
        saved = await uow.contacts.save(replace(loaded, worries="Still worried"), loaded.version)
        assert writes == []
        writes.clear()  # a second save in the same unit of work knows the parts it saved
        parents = (*saved.parents, Parent(name="Carer Two", relationship="aunt"))
        saved = await uow.contacts.save(replace(saved, parents=parents), saved.version)
        assert writes == ["contact_parents", "contact_parents"]
        await uow.commit()

    async with sql_store.unit_of_work() as uow:  # read at one version, saved at another
        stale = await uow.contacts.get(contact.id)
        assert stale is not None
        async with sql_store.unit_of_work() as other:
            current = await other.contacts.get(contact.id)
            assert current is not None
            await other.contacts.save(replace(current, children=current.children[:1]), current.version)
            await other.commit()
        with pytest.raises(StaleVersionError):
            await uow.contacts.save(replace(stale, worries="Stale"), stale.version)
        writes.clear()
        await uow.contacts.save(replace(stale, worries="Over it"), stale.version + 1)
        assert sorted(set(writes)) == ["contact_children", "contact_events", "contact_parents"]
        await uow.commit()

    async with sql_store.unit_of_work() as uow:
        final = await uow.contacts.get(contact.id)
    assert final is not None
    assert (final.worries, final.children, final.parents, final.events) == (
        "Over it",
        contact.children,
        parents,
        saved.events,
    )


async def test_the_column_type_refuses_naive_datetimes(sql_store: SqlStore) -> None:
    async with sql_store.engine.connect() as connection:
        aware = await connection.execute(select(literal(datetime(2026, 1, 1, tzinfo=UTC), UtcDateTime())))
        assert aware.scalar_one() == datetime(2026, 1, 1, tzinfo=UTC)
        with pytest.raises(StatementError, match="naive"):
            await connection.execute(select(literal(datetime(2026, 1, 1), UtcDateTime())))


async def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url, busy_timeout=2.5)
    try:
        async with engine.connect() as connection:
            pragmas = {
                name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            }
    finally:
        await engine.dispose()
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 2500}


async def test_a_second_sqlite_writer_in_the_same_task_times_out_instead_of_hanging(sqlite_url: str) -> None:
    store = SqlStore(sqlite_url, busy_timeout=0.2)
    try:
        async with store.unit_of_work() as first, store.unit_of_work() as second:
            await first.references.allocate("CT", 26)
            with pytest.raises(TimeoutError, match="write lock"):
                await second.references.allocate("CT", 27)
            await first.commit()
            assert await second.references.allocate("CT", 27) == 1
            await second.commit()
    finally:
        await store.close()


async def test_many_sqlite_writers_at_once_neither_deadlock_nor_time_out(sqlite_url: str) -> None:
    """More units of work at once than any bounded pool holds, some reading before they write
    (holding a connection while they wait for the writer lock), some writing first (taking the
    lock before a connection), some reading in a second unit of work while writing in the first:
    a turn's shape with 32 people at once. Each must finish, well inside the busy timeout."""
    store = SqlStore(sqlite_url, busy_timeout=3.0)

    async def person(index: int) -> None:
        who = f"aad-{index:03d}"
        async with store.unit_of_work() as uow:
            if index % 3 == 0:
                await uow.roles.roles_of(who)  # a read first: this unit of work holds a connection
            await asyncio.sleep(0)
            await uow.roles.grant(who, Role.OFFICER)
            if index % 3 == 1:
                async with store.unit_of_work() as other:  # a second connection, lock held
                    await other.roles.roles_of(who)
            await asyncio.sleep(0.01)  # hold the lock while the others queue
            await uow.commit()

    try:
        async with asyncio.timeout(30):
            await asyncio.gather(*(person(index) for index in range(48)))
        async with store.unit_of_work() as uow:
            assert len(await uow.roles.holders(Role.OFFICER)) == 48
    finally:
        await store.close()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
        "sqlite:///var/frontdoor.db",
        "postgresql+psycopg2://u@localhost/db",
        "mysql+aiomysql://u@localhost/db",
    ],
)
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        SqlStore(url)


async def test_ping_is_false_when_the_database_is_unreachable() -> None:
    store = SqlStore("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        assert await store.ping() is False
    finally:
        await store.close()
