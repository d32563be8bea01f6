"""The rows ``make bench`` generates inside PostgreSQL fit the current schema and read back as
contacts and figures: a migration that changes a table must change the generator with it, or
``make bench`` fails after minutes of work."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import make_url

from frontdoor.contact import ContactState
from frontdoor.figures import Narrowing, Period, compute_figures, parse_period
from store.sql import SqlStore
from tests.bench_figures import CALENDAR, NOW, OPEN, _generate
from tests.postgres import PostgresServer

CONTACTS = 400


@pytest.mark.postgres
async def test_the_figures_generator_fills_the_current_schema(
    postgres_server: PostgresServer, fresh_postgres_url: str
) -> None:
    database = make_url(fresh_postgres_url).database
    assert database is not None
    _, counts = await _generate(postgres_server, database, contacts=CONTACTS)
    closed = CONTACTS - OPEN
    assert counts["contacts"] == CONTACTS
    assert counts["contact_events"] == CONTACTS + 2 * closed
    store = SqlStore(fresh_postgres_url)
    try:
        async with store.unit_of_work() as uow:
            first = await uow.contacts.get_by_reference("CT-B-0000000")
            last = await uow.contacts.get_by_reference(f"CT-B-{CONTACTS - 1:07d}")
            month = parse_period("2025-01", datetime(2025, 2, 1, tzinfo=UTC), CALENDAR)
            assert isinstance(month, Period)
            figures = await compute_figures(uow.figures, month, Narrowing(), NOW, CALENDAR, (50, 85))
    finally:
        await store.close()
    assert first is not None and first.state is ContactState.CLOSED and len(first.events) == 3
    assert last is not None and last.state is ContactState.AWAITING_SCREENING
    assert figures.volumes.received == CONTACTS
