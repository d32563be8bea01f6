"""The baseline of ``make bench``: a bare botbuilder echo bot (``tests.harness_selftest.echo_bot``)
on ``CloudAdapter`` with the same start-up fixes as ours (``bot.patches``, ``bot.heap``), served on its own
process: ``python -m tests.bench_echo <port>``. ``GET /healthz`` answers once it is up."""

from __future__ import annotations

import sys

from aiohttp import web

from bot.heap import freeze_after_start
from bot.patches import apply_patches
from tests.harness_selftest.echo_bot import EchoBot, echo_adapter, echo_app


async def _healthy(_: web.Request) -> web.Response:
    return web.Response(text="ok")


def main(port: int) -> None:
    apply_patches()
    app = echo_app(EchoBot(), echo_adapter())
    app.router.add_get("/healthz", _healthy)
    freeze_after_start(app)  # as ``frontdoor-bot serve`` does
    web.run_app(app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main(int(sys.argv[1]))
