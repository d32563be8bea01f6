"""``make bench``: how long the figures take on PostgreSQL with 1,000,000 contacts (SPEC §11).

A bulk generator (``INSERT … SELECT`` over ``generate_series``, in the server) fills a migrated
database with a million contacts over two years (one every 63 seconds), each with its events
(submitted, screened to a route by one of ten consultants, signed off) and clocks (screening and
the 2-hour clock for one in ten with no assignee, as intake starts them, closed by a consultant;
completion with a worker, closed at sign-off),
a fifth of screening clocks late, then ``VACUUM ANALYZE``. It then times
what people ask for: the ``figures`` card for a month (all contacts, one route, one worker), the
weekly card's figures, and the CSV export by worker. Printed, never asserted.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Final

import asyncpg
import pytest

from frontdoor.calendar import WorkingCalendar
from frontdoor.contact import ContactType, PresentingNeed, Source
from frontdoor.figures import (
    GroupBy,
    Narrowing,
    Period,
    compute_figures,
    export_figures,
    parse_period,
    rereferral_windows,
    weekly_figures,
)
from store.migrate import upgrade
from store.sql import SqlStore
from tests.postgres import _SUPERUSER, PostgresServer, running_postgres_server

CONTACTS: Final = 1_000_000
#: The last contacts are still waiting for screening (open).
OPEN: Final = 300
NOW: Final = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
RUNS: Final = 3
CALENDAR: Final = WorkingCalendar()
SOURCES: Final = tuple(source.value for source in Source)
TYPES: Final = tuple(kind.value for kind in ContactType)
NEEDS: Final = tuple(need.value for need in PresentingNeed)
WORKERS: Final = 40
#: The consultants who screen (screening and CP clocks are started with no assignee, as intake does).
DECIDERS: Final = 10

_GENERATE: Final = """
CREATE TEMP TABLE seed AS
SELECT i,
       timestamptz '2025-01-06 00:00+00' + i * interval '63 seconds' AS t,
       'b-' || i AS id,
       'CT-B-' || lpad(i::text, 7, '0') AS reference,
       CASE WHEN i % 10 = 0 THEN 'i' ELSE (ARRAY['ii', 'iii', 'iv'])[1 + i % 3] END AS route,
       i >= {n} - {open} AS open,
       'sw-bench-' || (i % {workers}) AS worker
FROM generate_series(0, {n} - 1) AS i;

INSERT INTO contacts (id, reference, state, version, created_by, created_at, received_at, source,
    contact_type, assignee_id, route, draft_section, worries, working_well, needs_to_happen, consent,
    consent_reason, presenting_needs, immediate_risks, history_open_case,
    history_allocated_worker_id, history_last_worker_id,
    history_systems_checked, history_chronology, referrer_type, referrer_name, referrer_agency,
    referrer_role, referrer_phone, referrer_email, referrer_anonymity_requested, history_closed_on,
    history_open_to_early_help, emergency_child, emergency_whereabouts, emergency_phone)
SELECT id, reference, CASE WHEN open THEN 'awaiting_screening' ELSE 'closed' END, 2, 'officer-bench',
       t, t, (ARRAY[{sources}])[1 + i % {n_sources}], (ARRAY[{types}])[1 + i % {n_types}],
       CASE WHEN open THEN NULL ELSE worker END, CASE WHEN open THEN NULL ELSE route END,
       'done', '', '', '', 'given', '',
       ('["' || (ARRAY[{needs}])[1 + i % {n_needs}] || '", "'
           || (ARRAY[{needs}])[1 + (i / 7) % {n_needs}] || '"]')::json,
       (CASE WHEN route = 'i' THEN '["injury"]' ELSE '[]' END)::json,
       false, NULL, NULL, '[]'::json, '', 'professional', '', '', '', '', '', false,
       CASE WHEN i % 7 = 0 THEN (t - (i % 500) * interval '1 day')::date END, false, '', '', ''
FROM seed;

INSERT INTO contact_events (contact_id, position, at, actor_id, action, from_state, to_state, rationale, data)
SELECT id, 0, t, 'officer-bench', 'submit', 'draft', 'awaiting_screening', '', '' FROM seed
UNION ALL
SELECT id, 1, t + CASE WHEN i % 5 = 4 THEN interval '30 hours' ELSE interval '2 hours' END,
       'consultant-bench-' || (i % {deciders}),
       'route_' || route, 'awaiting_screening', 'awaiting_signoff', 'bench', '' FROM seed WHERE NOT open
UNION ALL
SELECT id, 2, t + CASE WHEN i % 4 = 3 THEN interval '60 hours' ELSE interval '20 hours' END,
       'consultant-bench',
       'sign_off', 'awaiting_signoff', 'closed', '', '' FROM seed WHERE NOT open;

INSERT INTO deadlines (subject, clock, started_at, due_at, state, assignee_id, closed_at, closed_by)
SELECT reference, 'screening', t, t + interval '1 day',
       CASE WHEN open THEN 'open' WHEN i % 5 = 4 THEN 'late' ELSE 'met' END, NULL,
       CASE WHEN open THEN NULL
            ELSE t + CASE WHEN i % 5 = 4 THEN interval '30 hours' ELSE interval '2 hours' END END,
       CASE WHEN open THEN NULL ELSE 'consultant-bench-' || (i % {deciders}) END
FROM seed
UNION ALL
SELECT reference, CASE WHEN route IN ('i', 'ii') THEN 'completion_24h' ELSE 'completion_48h' END, t,
       t + CASE WHEN route IN ('i', 'ii') THEN interval '1 day' ELSE interval '2 days' END,
       CASE WHEN i % 4 = 3 THEN 'late' ELSE 'met' END, worker,
       t + CASE WHEN i % 4 = 3 THEN interval '60 hours' ELSE interval '20 hours' END, 'consultant-bench'
FROM seed WHERE NOT open
UNION ALL
SELECT reference, 'cp_decision', t, t + interval '2 hours', CASE WHEN i % 30 = 0 THEN 'late' ELSE 'met' END,
       NULL, t + CASE WHEN i % 30 = 0 THEN interval '3 hours' ELSE interval '1 hour' END,
       'consultant-bench-' || ((i + 1) % {deciders})
FROM seed WHERE route = 'i' AND NOT open;
"""


def _array(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


async def _generate(
    server: PostgresServer, database: str, contacts: int = CONTACTS
) -> tuple[float, dict[str, int]]:
    """``contacts`` contacts (the last ``OPEN`` awaiting screening) with their events and clocks,
    generated inside the database in one statement batch (``tests/store/test_bench_rows.py``)."""
    sql = _GENERATE.format(
        n=contacts,
        open=OPEN,
        workers=WORKERS,
        deciders=DECIDERS,
        sources=_array(SOURCES),
        n_sources=len(SOURCES),
        types=_array(TYPES),
        n_types=len(TYPES),
        needs=_array(NEEDS),
        n_needs=len(NEEDS),
    )
    connection = await asyncpg.connect(host=server.host, port=server.port, user=_SUPERUSER, database=database)
    try:
        started = time.perf_counter()
        async with connection.transaction():
            await connection.execute(sql)
        await connection.execute("VACUUM ANALYZE")
        took = time.perf_counter() - started
        counts = {
            table: int(await connection.fetchval(f"SELECT count(*) FROM {table}"))
            for table in ("contacts", "contact_events", "deadlines")
        }
    finally:
        await connection.close()
    return took, counts


async def _timed(label: str, work: Callable[[], Awaitable[object]]) -> None:
    await work()  # warm the caches and the statement cache once
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await work()
        samples.append(time.perf_counter() - started)
    median = statistics.median(samples) * 1000
    print(f"  {label:<46} median {median:7.1f} ms  max {max(samples) * 1000:7.1f} ms")


async def _measure(url: str) -> None:
    store = SqlStore(url)
    month = parse_period("2026-11", NOW, CALENDAR)
    assert isinstance(month, Period)
    band = (50, 85)
    days, opens = rereferral_windows(month.start, month.end, CALENDAR.tz)

    def card(narrowing: Narrowing) -> Callable[[], Awaitable[object]]:
        async def run() -> object:
            async with store.unit_of_work() as uow:
                return await compute_figures(uow.figures, month, narrowing, NOW, CALENDAR, band)

        return run

    async def times() -> object:
        async with store.unit_of_work() as uow:
            return await uow.figures.times([month.start, month.end], Narrowing(), GroupBy.WEEK)

    async def returning() -> object:
        async with store.unit_of_work() as uow:
            return await uow.figures.returning(days, opens, Narrowing())

    async def weekly() -> object:
        async with store.unit_of_work() as uow:
            return await weekly_figures(uow.figures, date(2026, 12, 7), NOW, CALENDAR)

    def export(by: GroupBy) -> Callable[[], Awaitable[object]]:
        async def run() -> object:
            return await export_figures(
                store.unit_of_work, "bench", month.start, month.end, by, NOW, CALENDAR, (50, 85)
            )

        return run

    try:
        await _timed("figures card, a month, all contacts", card(Narrowing()))
        await _timed("figures card, a month, route II", card(Narrowing(route="ii")))
        await _timed("figures card, a month, one worker", card(Narrowing(worker_id="sw-bench-7")))
        await _timed("  of which times (median, 90th percentile)", times)
        await _timed("  of which re-referrals in 3 and 12 months", returning)
        await _timed("weekly card figures (two weeks)", weekly)
        await _timed("figures card, a month, one consultant", card(Narrowing(worker_id="consultant-bench-3")))
        await _timed("CSV export, a month, by worker", export(GroupBy.WORKER))
        await _timed("CSV export, a month, by week", export(GroupBy.WEEK))
    finally:
        await store.close()


async def main() -> None:
    print()
    print(
        f"Figures on PostgreSQL: {CONTACTS:,} contacts "
        f"(SQL aggregates; median of {RUNS} runs after one warm-up)"
    )
    try:
        context = running_postgres_server()
        server = await asyncio.to_thread(context.__enter__)
    except (pytest.fail.Exception, RuntimeError, OSError, subprocess.SubprocessError) as error:
        print(f"PostgreSQL skipped: {str(error).splitlines()[0]}")
        return
    try:
        name = "bench_figures"
        await asyncio.to_thread(server.drop_database, name)
        url = await asyncio.to_thread(server.create_database, name)
        await asyncio.to_thread(upgrade, url)
        took, counts = await _generate(server, name)
        rows = ", ".join(f"{table} {count:,}" for table, count in counts.items())
        print(f"  generated in {took:.0f} s (with VACUUM ANALYZE): {rows}")
        await _measure(url)
    finally:
        await asyncio.to_thread(context.__exit__, None, None, None)


if __name__ == "__main__":
    asyncio.run(main())
