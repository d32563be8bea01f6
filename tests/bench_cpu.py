"""CPU per turn of ``help`` and of the contact script, ours and the echo bot, without the rest of
``make bench``: ``python -m tests.bench_cpu [rounds]``. Reuses ``tests.bench_turns`` (the same
processes, users and turns); each round is 200 ``help`` turns and 12 contacts (108 script turns) by
one person. Figures are printed, never asserted."""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path

from tests import bench_turns as turns
from tests.harness.teams import TeamsChannel


async def main(rounds: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-cpu-"))
    echo, ours = await turns._echo(folder), await turns._ours(folder)
    channels = {name: TeamsChannel(request_timeout=120) for name in ("echo", "ours")}
    cpu: dict[tuple[str, str], list[float]] = {}
    try:
        for served in (echo, ours):
            await channels[served.name].start()
            channels[served.name].attach(served.url)
            for turn in turns._help_turns(channels[served.name], turns.ADMIN, 20):
                await turn()
        await turns._walk_contact(channels["ours"], turns.OFFICERS[1], [])
        for _ in range(rounds):
            for served in (echo, ours):
                plan = [turns._help_turns(channels[served.name], turns.OFFICERS[0], turns.HELP_TURNS)]
                row = await turns._run(served, "help", plan)
                cpu.setdefault((served.name, "help"), []).append(row.cpu_ms_per_turn)
            mine = await turns._contacts(ours, channels["ours"], 1, turns.SEQUENTIAL_CONTACTS)
            plan = [turns._echo_contact_turns(channels["echo"], turns.OFFICERS[0], mine.turns)]
            theirs = await turns._run(echo, "contact script", plan)
            cpu.setdefault(("ours", "contact script"), []).append(mine.cpu_ms_per_turn)
            cpu.setdefault(("echo", "contact script"), []).append(theirs.cpu_ms_per_turn)
    finally:
        for channel in channels.values():
            await channel.stop()
        await ours.stop()
        await echo.stop()
    print(f"load average {os.getloadavg()[0]:.1f}; CPU ms per turn, each round:")
    for scenario in ("help", "contact script"):
        for bot in ("echo", "ours"):
            values = cpu[(bot, scenario)]
            figures = ", ".join(f"{value:.2f}" for value in values)
            print(f"{scenario:<15} {bot:<5} {figures}  (median {statistics.median(values):.2f})")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2))
