"""``store.sqlite_cursor``: a statement is one trip to SQLite's thread, with the same results."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiosqlite.core
import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from frontdoor.roles import Role
from store.engine import create_engine
from store.sql import SqlStore
from store.sqlite_cursor import OneTripCursor
from store.tables import RoleDirectoryRow


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Every call queued to an aiosqlite connection's thread, by the function's name."""
    counted: Counter[str] = Counter()
    queue = aiosqlite.core.Connection._execute

    async def counting(self: aiosqlite.core.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        counted[getattr(fn, "__name__", "?")] += 1
        return await queue(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counting)
    yield counted


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[SqlStore]:
    sql = SqlStore(sqlite_url)
    yield sql
    await sql.close()


async def test_a_query_is_one_trip_to_the_sqlite_thread(store: SqlStore, trips: Counter[str]) -> None:
    async with store.unit_of_work() as uow:
        await uow.roles.grant("aad-cursor-1", Role.OFFICER)
        await uow.commit()
    async with store.unit_of_work() as uow:
        await uow.roles.roles_of("aad-cursor-1")  # the connection is checked out and warm
        trips.clear()
        assert await uow.roles.roles_of("aad-cursor-1") == {Role.OFFICER}
        assert await uow.roles.roles_of("aad-nobody") == frozenset()
    # SQLAlchemy's own cursor: cursor, execute, fetchall and close for each (eight trips)
    assert trips["_run"] == 2
    assert trips["cursor"] == trips["execute"] == trips["fetchall"] == 0


async def test_rows_counts_ids_and_errors_are_sqlite3s(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        async with engine.begin() as connection:
            raw = await connection.get_raw_connection()
            assert isinstance(raw.driver_connection, aiosqlite.Connection)
            assert isinstance(raw.dbapi_connection.cursor(), OneTripCursor)  # type: ignore[union-attr]
            await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
            added = await connection.execute(text("INSERT INTO t (name) VALUES ('a')"))
            assert added.lastrowid == 1
            assert added.rowcount == 1
            many = await connection.execute(
                text("INSERT INTO t (name) VALUES (:name)"), [{"name": "b"}, {"name": "c"}]
            )
            assert many.rowcount == 2
            returned = await connection.execute(text("UPDATE t SET name = name || '!' RETURNING id"))
            assert sorted(returned.scalars()) == [1, 2, 3]
            assert returned.rowcount == 3
            changed = await connection.execute(text("UPDATE t SET name = 'z' WHERE id > 99"))
            assert changed.rowcount == 0
            rows = await connection.execute(text("SELECT id, name FROM t ORDER BY id"))
            assert list(rows.keys()) == ["id", "name"]
            assert [tuple(row) for row in rows] == [(1, "a!"), (2, "b!"), (3, "c!")]
            with pytest.raises(IntegrityError):
                await connection.execute(text("INSERT INTO t (name) VALUES ('a!')"))
            with pytest.raises(OperationalError):
                await connection.execute(text("SELECT * FROM no_such_table"))
    finally:
        await engine.dispose()


async def test_no_trip_for_a_commit_or_rollback_with_no_transaction_open(
    store: SqlStore, trips: Counter[str]
) -> None:
    async with store.unit_of_work() as uow:  # a connection opened and warm in the pool
        await uow.roles.grant("aad-cursor-3", Role.OFFICER)
        await uow.commit()
    trips.clear()
    async with store.unit_of_work() as uow:
        assert await uow.roles.roles_of("aad-cursor-3") == {Role.OFFICER}
    # the statement only: not the unit of work's rollback, nor the pool's on check-in
    assert sum(trips.values()) == 1
    trips.clear()
    async with store.unit_of_work() as uow:
        await uow.roles.revoke("aad-cursor-3", Role.OFFICER)
        await uow.commit()
    # a write: BEGIN IMMEDIATE and the statement, then the commit does go to the thread
    assert trips["_run"] == 2 and trips["commit"] == 1
    async with store.unit_of_work() as uow:
        assert await uow.roles.roles_of("aad-cursor-3") == frozenset()


async def test_orm_statements_and_rollback(store: SqlStore) -> None:
    async with store.unit_of_work() as uow:
        await uow.session.execute(
            insert(RoleDirectoryRow).values(aad_object_id="aad-cursor-2", role="officer", display_name="")
        )
        await uow.rollback()
    async with store.unit_of_work() as uow:
        assert await uow.roles.roles_of("aad-cursor-2") == frozenset()
        await uow.roles.grant("aad-cursor-2", Role.OFFICER)
        result = await uow.session.execute(
            update(RoleDirectoryRow)
            .where(RoleDirectoryRow.aad_object_id == "aad-cursor-2")
            .values(display_name="Named")
            .execution_options(synchronize_session=False)
        )
        assert result.rowcount == 1  # type: ignore[attr-defined]
        await uow.commit()
    async with store.unit_of_work() as uow:
        names = await uow.session.execute(
            select(RoleDirectoryRow.display_name).where(RoleDirectoryRow.aad_object_id == "aad-cursor-2")
        )
        assert names.scalar_one() == "Named"
