"""Our bot with no database at all, for the floor of ``python -m tests.bench_cpu --floor``:
``frontdoor-bot serve``'s app on the tests' in-memory store (``tests.fakes.InMemoryStore``), the
bench's people given their roles, served on its own process: ``python -m tests.bench_memory_bot
<port>``. Everything else about a turn (botbuilder, the handler, the dialogs, the cards, the
domain) is the served bot's own, so its CPU per turn is what a turn would cost if the database cost
nothing. Never a way to run the bot: nothing it keeps survives the process."""

from __future__ import annotations

import sys

from aiohttp import web

from bot.app import create_app
from bot.heap import freeze_after_start
from bot.logs import configure_logging
from bot.settings import Settings
from tests.bench_turns import grant_roles
from tests.fakes import InMemoryStore


def main(port: int) -> None:
    settings = Settings.from_env(
        {"FRONTDOOR_PORT": str(port), "FRONTDOOR_SCHEDULER": "off", "FRONTDOOR_AUTH": "off"}
    )
    configure_logging("WARNING")  # as the bench serves ours
    store = InMemoryStore()
    app = create_app(settings, store=store)

    async def grant(_: web.Application) -> None:
        await grant_roles(store)

    app.on_startup.append(grant)
    freeze_after_start(app)  # as ``frontdoor-bot serve`` does
    web.run_app(app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main(int(sys.argv[1]))
