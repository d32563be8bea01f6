"""The process's heap after start-up: frozen out of the cyclic garbage collector's reach.

What the imports and the start-up build (botbuilder, SQLAlchemy, pydantic, the cards' models, the
policy and calendar) lives as long as the process, yet every full collection walked all of it:
``make bench`` measured a full collection of about 110 ms every few hundred turns, the slowest
turns of the run. ``gc.freeze`` moves everything alive at that moment to a generation the
collector never scans; what turns allocate later is collected as before. Reference counting still
frees frozen objects that are no longer used; only cyclic garbage among them would stay, and right
after a full collection there is none.
"""

from __future__ import annotations

import gc

from aiohttp import web


async def _freeze(_: web.Application) -> None:
    gc.collect()
    gc.freeze()


def freeze_after_start(app: web.Application) -> None:
    """Freeze the heap once ``app`` has started (after every start-up step registered so far)."""
    app.on_startup.append(_freeze)
