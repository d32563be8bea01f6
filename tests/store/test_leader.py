"""Scheduler leadership: the PostgreSQL advisory lock (one leader among processes on a database; the
lock goes with a lost connection) and the SQLite lock file (a second holder is refused, in this
process or another)."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from scheduler.leadership import SoleLeadership, scheduler_allowed
from store.leader import (
    SCHEDULER_LOCK_KEY,
    PostgresLeadership,
    SqliteLeadership,
    leadership_for,
    sqlite_lock_path,
)

# -- PostgreSQL -------------------------------------------------------------------------------------


async def _terminate(database_url: str, pid: int) -> None:
    """Kill a server process from outside, as a network failure or a server restart would."""
    url = make_url(database_url)
    connection = await asyncpg.connect(host=url.host, port=url.port, user=url.username, database=url.database)
    try:
        assert await connection.fetchval("SELECT pg_terminate_backend($1)", pid)
        # pg_terminate_backend only signals: wait until the backend (and the locks it held) is gone.
        for _ in range(1000):
            if not await connection.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"backend {pid} still running 10 s after pg_terminate_backend")
    finally:
        await connection.close()


async def _lock_holders(database_url: str) -> list[int]:
    url = make_url(database_url)
    connection = await asyncpg.connect(host=url.host, port=url.port, user=url.username, database=url.database)
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND ((classid::bigint << 32) | objid::bigint) = $1",
            SCHEDULER_LOCK_KEY,
        )
    finally:
        await connection.close()
    return [row["pid"] for row in rows]


@pytest.mark.postgres
async def test_postgres_two_leaderships_one_wins_and_the_other_takes_over_after_release(
    fresh_postgres_url: str,
) -> None:
    first, second = PostgresLeadership(fresh_postgres_url), PostgresLeadership(fresh_postgres_url)
    try:
        assert not first.exclusive and await scheduler_allowed(second)  # both may run the scheduler
        assert await first.try_acquire()
        assert not await second.try_acquire()
        assert await first.try_acquire()  # still the leader, tick after tick
        assert not await second.try_acquire()
        assert await _lock_holders(fresh_postgres_url) == [first.backend_pid]

        await first.release()
        assert not first.held
        assert await second.try_acquire()
        assert not await first.try_acquire()
        assert await _lock_holders(fresh_postgres_url) == [second.backend_pid]
    finally:
        await first.release()
        await second.release()
    assert await _lock_holders(fresh_postgres_url) == []


@pytest.mark.postgres
async def test_postgres_a_lost_connection_loses_leadership_and_another_process_takes_over(
    fresh_postgres_url: str,
) -> None:
    first, second = PostgresLeadership(fresh_postgres_url), PostgresLeadership(fresh_postgres_url)
    try:
        assert await first.try_acquire()
        assert first.backend_pid is not None
        await _terminate(fresh_postgres_url, first.backend_pid)

        # The session is gone, and the lock with it: the next tick elsewhere finds it free.
        assert await second.try_acquire()
        # The old leader notices at its next tick, drops the dead connection and does not lead.
        assert not await first.try_acquire()
        assert not first.held

        # And when the new leader's connection fails, the old one takes over again.
        assert second.backend_pid is not None
        await _terminate(fresh_postgres_url, second.backend_pid)
        assert await first.try_acquire()
        assert await _lock_holders(fresh_postgres_url) == [first.backend_pid]
    finally:
        await first.release()
        await second.release()


@pytest.mark.postgres
async def test_postgres_leadership_is_per_database(postgres_url: str, fresh_postgres_url: str) -> None:
    here, there = PostgresLeadership(postgres_url), PostgresLeadership(fresh_postgres_url)
    try:
        assert await here.try_acquire()
        assert await there.try_acquire()
    finally:
        await here.release()
        await there.release()


async def test_postgres_leadership_without_a_server_is_refused_not_raised() -> None:
    # Port 9 (discard) on loopback: nothing listens there.
    leadership = PostgresLeadership("postgresql+asyncpg://nobody@127.0.0.1:9/none", timeout=2)
    try:
        assert not await leadership.try_acquire()
    finally:
        await leadership.release()


# -- SQLite -----------------------------------------------------------------------------------------


def test_the_lock_file_is_beside_the_database(tmp_path: Path) -> None:
    database = tmp_path / "frontdoor.db"
    assert sqlite_lock_path(database) == tmp_path / "frontdoor.db.scheduler.lock"
    found = leadership_for(f"sqlite+aiosqlite:///{database}")
    assert isinstance(found, SqliteLeadership) and found.exclusive
    assert found.lock_path == tmp_path / "frontdoor.db.scheduler.lock"
    assert isinstance(leadership_for("postgresql+asyncpg://u@localhost/db"), PostgresLeadership)
    with pytest.raises(ValueError, match="file"):
        leadership_for("sqlite+aiosqlite:///:memory:")


async def test_sqlite_a_second_holder_is_refused_until_the_first_releases(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lock = sqlite_lock_path(tmp_path / "frontdoor.db")
    first, second = SqliteLeadership(lock), SqliteLeadership(lock)
    assert await scheduler_allowed(first)
    assert await first.try_acquire()  # held: asking again is cheap and true
    with caplog.at_level("WARNING", logger="scheduler.leadership"):
        assert not await scheduler_allowed(second)
    [line] = [record for record in caplog.records if record.name == "scheduler.leadership"]
    assert line.getMessage().startswith("scheduler not started: another process runs the scheduler")
    assert str(tmp_path) not in line.getMessage()

    await first.release()
    assert await second.try_acquire()
    assert not await first.try_acquire()
    await second.release()
    await second.release()  # twice is harmless
    assert lock.exists()  # the file stays, so every process always locks the same one


async def test_sqlite_a_lock_held_by_another_process_refuses_this_one_until_it_exits(tmp_path: Path) -> None:
    lock = sqlite_lock_path(tmp_path / "frontdoor.db")
    holder = textwrap.dedent(
        f"""
        import fcntl, os, sys
        fd = os.open({str(lock)!r}, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        print("held", flush=True)
        sys.stdin.read()
        """
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", holder, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        assert (await asyncio.wait_for(process.stdout.readline(), 10)).strip() == b"held"
        mine = SqliteLeadership(lock)
        assert not await mine.try_acquire()
    finally:
        process.kill()  # however it ends, the operating system releases its lock
        await asyncio.wait_for(process.wait(), 10)
    assert await mine.try_acquire()
    await mine.release()


async def test_a_sole_leadership_always_leads() -> None:
    sole = SoleLeadership()
    assert await scheduler_allowed(sole) and await sole.try_acquire() and sole.held
    await sole.release()
    assert not sole.held
