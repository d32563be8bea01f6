"""``make bench``: figures, printed, written to ``bench/results.json`` and drawn in
``bench/latency.png``; never asserted (targets are for the reader, and the CPU may be shared).

1. Turns (``tests.bench_turns``): our bot and a bare botbuilder echo bot, each in its own process,
   driven through the loopback Teams channel: text, contact-script and decision turns, one person
   and 8 and 32 at once, with the ratio to the echo bot on every row; resident memory.
2. The deadline alerts (``tests.bench_alerts``): the tick with 10,000 open deadlines beside
   100,000 and 1,000,000 closed contacts on SQLite and PostgreSQL (with PostgreSQL's plan for the
   tick's query), dispatch, and the handover with 4,000 open contacts.
3. Management information (``tests.bench_figures``): the figures' queries over 1,000,000 contacts
   on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from tests import bench_alerts, bench_figures, bench_turns

RESULTS = Path("bench/results.json")
CHART = Path("bench/latency.png")


def write(results: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    bench_turns.chart(results["turns"], CHART)


async def main() -> None:
    started = time.perf_counter()
    results: dict[str, Any] = {}
    parts: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        print("Turns: each bot in its own process, SQLite, loopback HTTP, real CloudAdapter")
        await bench_turns.main(results, Path(folder))
    parts["turns"] = time.perf_counter() - started
    await bench_alerts.main(results)
    parts["alerts"] = time.perf_counter() - started - sum(parts.values())
    await bench_figures.main()
    parts["figures"] = time.perf_counter() - started - sum(parts.values())
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["seconds_by_part"] = {name: round(seconds, 1) for name, seconds in parts.items()}
    write(results)
    by_part = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in results["seconds_by_part"].items())
    print(f"\nwritten {RESULTS} and {CHART} in {results['seconds']:.0f} s ({by_part})")


if __name__ == "__main__":
    asyncio.run(main())
