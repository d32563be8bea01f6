"""The migrations build exactly the schema of ``store.tables`` on SQLite and PostgreSQL, and move
the data they change."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from frontdoor.outcomes import note
from frontdoor.records import ClockKind, Deadline
from store.engine import create_engine
from store.migrate import alembic_config, head_revision, upgrade
from store.sql import SqlStore
from store.tables import metadata
from tests.postgres import PostgresServer
from tests.store.samples import full_contact


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
    assert head_revision() == "0011_closed_by"


async def _reviews_renamed(url: str) -> None:
    """Rows as the store wrote them before the review had its own kind: the lapse's review was a
    ``screening`` row started at the lapse; the contact's own screening clock started at receipt."""
    upgrade(url)
    lapsed_at = datetime(2026, 6, 4, 9, 0, tzinfo=UTC)
    contact = note(full_contact(), "system:scheduler", lapsed_at, "parent_letter_lapsed")
    assert contact.received_at is not None
    store = SqlStore(url)
    try:
        async with store.unit_of_work() as uow:
            await uow.contacts.add(contact)
            for start in (contact.received_at, lapsed_at):
                await uow.deadlines.add(
                    Deadline("CT-26-000001", ClockKind.SCREENING, start, start + timedelta(days=1))
                )
            await uow.commit()
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0009_agencies")
        upgrade(url)
        async with store.unit_of_work() as uow:
            clocks = {d.started_at: d.clock for d in await uow.deadlines.for_subject("CT-26-000001")}
    finally:
        await store.close()
    assert clocks == {contact.received_at: ClockKind.SCREENING, lapsed_at: ClockKind.LETTER_REVIEW}


async def test_a_review_stored_as_a_screening_clock_becomes_a_letter_review_on_sqlite(tmp_path: Path) -> None:
    await _reviews_renamed(f"sqlite+aiosqlite:///{tmp_path}/frontdoor.db")


@pytest.mark.postgres
async def test_a_review_stored_as_a_screening_clock_becomes_a_letter_review_on_postgres(
    postgres_server: PostgresServer,
) -> None:
    name = "migration_reviews"
    url = postgres_server.create_database(name)
    try:
        await _reviews_renamed(url)
    finally:
        postgres_server.drop_database(name)
