"""``make bench``: figures for the Teams endpoint, printed, never asserted.

Serves the real app (SQLite in a temporary directory) and drives it through the loopback Teams
channel: message turns (``help``) and ``Action.Execute`` invokes, sequentially, reporting
latency percentiles and CPU per turn, with and without the msrest start-up fix; then the deadline
alerts' planning, dispatch and handover figures (``tests.bench_alerts``).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from aiohttp.test_utils import TestServer
from msrest.universal_http.requests import ClientRetryPolicy

from bot.app import create_app
from bot.settings import DEVELOPMENT, Settings
from store.migrate import upgrade
from tests import bench_alerts
from tests.harness.teams import TeamsChannel, TeamsUser

TURNS = 300
ORIGINAL_SAFE_CODES = [i for i in range(500) if i != 408] + [501, 505]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _measure(label: str, database_url: str, patched: bool) -> None:
    settings = Settings.from_env({**DEVELOPMENT, "DATABASE_URL": database_url})
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    if not patched:
        ClientRetryPolicy.safe_codes = list(ORIGINAL_SAFE_CODES)  # type: ignore[assignment]
    channel = TeamsChannel()
    await channel.start()
    channel.attach(str(server.make_url("/api/messages")))
    user = TeamsUser("aad-bench-0001", "Bench User")
    chat = channel.personal(user)
    try:
        for kind in ("message", "invoke"):
            await channel.say(chat, user, "help")
            latencies: list[float] = []
            cpu_started = time.process_time()
            for _ in range(TURNS):
                started = time.perf_counter()
                if kind == "message":
                    await channel.say(chat, user, "help")
                else:
                    await channel.execute(chat, user, "bench.verb", {"n": 1})
                latencies.append((time.perf_counter() - started) * 1000)
            cpu_ms = (time.process_time() - cpu_started) / TURNS * 1000
            print(
                f"{label:<22} {kind:<8} p50 {statistics.median(latencies):6.2f} ms  "
                f"p99 {_percentile(latencies, 0.99):6.2f} ms  "
                f"CPU/turn (bot+channel) {cpu_ms:5.2f} ms  turns/s {1000 / statistics.mean(latencies):6.0f}"
            )
    finally:
        await channel.stop()
        await server.close()
        ClientRetryPolicy.safe_codes = frozenset(ORIGINAL_SAFE_CODES)  # type: ignore[assignment]


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await asyncio.to_thread(upgrade, url)
        print(f"{TURNS} sequential turns each, SQLite, loopback HTTP, real CloudAdapter")
        await _measure("msrest fix applied", url, patched=True)
        await _measure("msrest fix removed", url, patched=False)
    await bench_alerts.main()


if __name__ == "__main__":
    asyncio.run(main())
