"""CPU per turn of ``help`` and of the contact script, ours and the echo bot, without the rest of
``make bench``: ``python -m tests.bench_cpu [rounds] [--floor]``. Reuses ``tests.bench_turns`` (the
same processes, users and turns); each round is 200 ``help`` turns and 12 contacts (108 script
turns) by one person. Figures are printed, never asserted.

``--floor`` adds what a turn would cost with no database (our bot on the tests' in-memory store,
``tests.bench_memory_bot``, driven through the same turns) and what the database layer costs at
the least here: a one-row ``SELECT 1`` through SQLAlchemy's async engine on aiosqlite (the store's
engine, one trip to SQLite's thread), a unit of work that only takes SQLite's write lock and
commits, and the same ``SELECT 1`` on ``sqlite3`` directly."""

from __future__ import annotations

import asyncio
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import literal, select

from store.engine import create_engine
from store.migrate import upgrade
from store.sql import SqlStore
from tests import bench_turns as turns
from tests.harness.teams import TeamsChannel

NO_DATABASE = "no database"


async def _no_database(folder: Path) -> turns.Served:
    port = turns.free_port()
    argv = [sys.executable, "-m", "tests.bench_memory_bot", str(port)]
    return await turns._spawn(NO_DATABASE, argv, dict(os.environ), port, folder / "memory.log")


async def main(rounds: int, floor: bool) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-cpu-"))
    bots = [await turns._echo(folder), await turns._ours(folder)]
    if floor:
        bots.append(await _no_database(folder))
    echo = bots[0]
    channels = {served.name: TeamsChannel(request_timeout=120) for served in bots}
    cpu: dict[tuple[str, str], list[float]] = {}
    try:
        for served in bots:
            await channels[served.name].start()
            channels[served.name].attach(served.url)
            for turn in turns._help_turns(channels[served.name], turns.ADMIN, 20):
                await turn()
        for served in bots[1:]:
            await turns._walk_contact(channels[served.name], turns.OFFICERS[1], [])
        for _ in range(rounds):
            for served in bots:
                plan = [turns._help_turns(channels[served.name], turns.OFFICERS[0], turns.HELP_TURNS)]
                row = await turns._run(served, "help", plan)
                cpu.setdefault((served.name, "help"), []).append(row.cpu_ms_per_turn)
            walked = [
                await turns._contacts(served, channels[served.name], 1, turns.SEQUENTIAL_CONTACTS)
                for served in bots[1:]
            ]
            for served, row in zip(bots[1:], walked, strict=True):
                cpu.setdefault((served.name, "contact script"), []).append(row.cpu_ms_per_turn)
            plan = [turns._echo_contact_turns(channels["echo"], turns.OFFICERS[0], walked[0].turns)]
            theirs = await turns._run(echo, "contact script", plan)
            cpu.setdefault(("echo", "contact script"), []).append(theirs.cpu_ms_per_turn)
    finally:
        for channel in channels.values():
            await channel.stop()
        for served in bots:
            await served.stop()
    print(f"load average {os.getloadavg()[0]:.1f}; CPU ms per turn, each round:")
    for scenario in ("help", "contact script"):
        echoed = statistics.median(cpu[("echo", scenario)])
        for served in bots:
            values = cpu[(served.name, scenario)]
            figures = ", ".join(f"{value:.2f}" for value in values)
            median = statistics.median(values)
            ratio = f"{median / echoed:.2f}× echo"
            print(f"{scenario:<15} {served.name:<11} {figures}  (median {median:.2f}, {ratio})")
    if floor:
        await _statements(folder)


def _cpu_seconds() -> float:
    """This process's CPU, aiosqlite's thread included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _each(label: str, step: Callable[[], Awaitable[object]], times: int = 3000) -> None:
    for _ in range(times // 10):
        await step()
    began = _cpu_seconds()
    for _ in range(times):
        await step()
    print(f"{label:<58} {(_cpu_seconds() - began) / times * 1e6:6.0f} µs CPU")


async def _statements(folder: Path) -> None:
    """The least the database layer costs a statement and a transaction here."""
    url = f"sqlite+aiosqlite:///{folder / 'floor.db'}"
    await asyncio.to_thread(upgrade, url)
    one = select(literal(1))
    engine = create_engine(url)
    async with engine.connect() as connection:
        await _each("SELECT 1, SQLAlchemy async on aiosqlite (one trip)", lambda: connection.execute(one))
    await engine.dispose()
    store = SqlStore(url)

    async def write_lock_and_commit() -> None:
        async with store.unit_of_work() as uow:
            await uow.begin_write()
            await uow.commit()

    await _each("a unit of work: BEGIN IMMEDIATE, then COMMIT", write_lock_and_commit)
    await store.close()
    direct = sqlite3.connect(folder / "floor.db")

    async def select_one() -> None:
        direct.execute("SELECT 1").fetchall()

    await _each("SELECT 1, sqlite3 on this thread", select_one)
    direct.close()


if __name__ == "__main__":
    arguments = [argument for argument in sys.argv[1:] if argument != "--floor"]
    asyncio.run(main(int(arguments[0]) if arguments else 2, "--floor" in sys.argv[1:]))
