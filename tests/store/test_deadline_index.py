"""The deadline tick's query on PostgreSQL uses ``ix_deadlines_next_alert_at`` once the table is
big, so a tick with nothing due costs one index lookup however many deadlines are closed; and the
tick reads the same rows on SQLite and PostgreSQL with many closed deadlines beside them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from frontdoor.records import ClockKind, Deadline
from store.deadlines import alerts_due_statement
from store.sql import SqlStore
from tests.store.deadline_rows import add_closed_contacts, add_open_deadlines

NOW = datetime(2026, 3, 16, 10, tzinfo=UTC)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
async def big_store(request: pytest.FixtureRequest) -> AsyncIterator[SqlStore]:
    url: str = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "fresh_postgres_url")
    store = SqlStore(url)
    await add_closed_contacts(store, 20_000, NOW)
    yield store
    await store.close()


def _open(n: int, next_alert_minutes: int) -> Deadline:
    start = NOW + timedelta(minutes=next_alert_minutes)
    return Deadline(
        f"CT-26-{n:06d}", ClockKind.SCREENING, start, start + timedelta(hours=24), assignee_id="sw-1"
    )


async def test_the_tick_reads_only_the_due_among_many_closed(big_store: SqlStore) -> None:
    await add_open_deadlines(big_store, [_open(n, n) for n in range(1, 201)])
    async with big_store.unit_of_work() as uow:
        assert await uow.deadlines.alerts_due_by(NOW) == []
        due = await uow.deadlines.alerts_due_by(NOW + timedelta(minutes=3))
    assert [d.subject for d in due] == ["CT-26-000001", "CT-26-000002", "CT-26-000003"]


@pytest.mark.postgres
async def test_the_tick_query_uses_the_next_alert_index_on_postgresql(fresh_postgres_url: str) -> None:
    store = SqlStore(fresh_postgres_url)
    try:
        await add_closed_contacts(store, 20_000, NOW)
        await add_open_deadlines(store, [_open(n, 30 + n % 600) for n in range(1, 2001)])
        async with store.engine.connect() as connection:
            await connection.execute(text("ANALYZE deadlines"))
            compiled = alerts_due_statement(NOW).compile(
                dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
            )
            plan = "\n".join((await connection.execute(text(f"EXPLAIN {compiled}"))).scalars())
    finally:
        await store.close()
    assert "ix_deadlines_next_alert_at" in plan, plan
    assert "Seq Scan" not in plan, plan
