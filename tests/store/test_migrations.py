"""The migrations build exactly the schema of ``store.tables`` on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from store.engine import create_engine
from store.migrate import head_revision, upgrade
from store.tables import metadata
from tests.postgres import PostgresServer


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def _check(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
            assert await connection.run_sync(_revision) == head_revision()
            assert await connection.run_sync(_tables) == set(metadata.tables) | {"alembic_version"}
    finally:
        await engine.dispose()


async def test_sqlite_migrations_match_the_tables(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/new/dir/frontdoor.db"
    upgrade(url)  # runs in a worker thread, so it may be called from a running event loop
    assert (tmp_path / "new" / "dir" / "frontdoor.db").exists()
    upgrade(url)  # a second run has nothing to do
    await _check(url)


@pytest.mark.postgres
async def test_postgres_migrations_match_the_tables(postgres_server: PostgresServer) -> None:
    name = "migration_check"
    url = postgres_server.create_database(name)
    try:
        upgrade(url)
        upgrade(url)
        await _check(url)
    finally:
        postgres_server.drop_database(name)


def test_there_is_one_head() -> None:
    assert head_revision() == "0010_closed_by"
