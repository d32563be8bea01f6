"""``bot.heap``: ``serve`` freezes its heap once it has started, after every start-up step, and
what turns allocate later is still collected."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.heap import freeze_after_start


class _Cycle:
    def __init__(self) -> None:
        self.me = self


async def test_the_heap_is_frozen_after_the_start_up_steps() -> None:
    seen: dict[str, int] = {}

    async def start_up(_: web.Application) -> AsyncIterator[None]:
        seen["frozen during start-up"] = gc.get_freeze_count()
        yield

    app = web.Application()
    app.cleanup_ctx.append(start_up)
    freeze_after_start(app)
    server = TestServer(app)
    gc.unfreeze()
    try:
        await server.start_server()
        frozen = gc.get_freeze_count()
        _Cycle()  # cyclic garbage made after the freeze
        later = gc.collect()
    finally:
        gc.unfreeze()  # the test process's own heap stays as it was
        await server.close()
    assert seen == {"frozen during start-up": 0}
    assert frozen > 1000  # at least the imports' objects
    assert later >= 1  # the cycle made after the freeze was collected
