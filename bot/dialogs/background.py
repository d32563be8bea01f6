"""Work a feature runs after an invoke is answered (channel card updates, letters, highlights)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any


class Later:
    """Calling it runs ``work`` in a task of its own; a failure is logged as ``failure`` (with the
    error's type only), never raised. The tasks still running are kept so they are not collected."""

    def __init__(self, log: logging.Logger, failure: str) -> None:
        self._log = log
        self._failure = failure
        self._running: set[asyncio.Task[None]] = set()

    def __call__(self, work: Coroutine[Any, Any, None]) -> None:
        async def guarded() -> None:
            try:
                await work
            except Exception as error:
                self._log.error(self._failure, extra={"error_code": type(error).__name__})

        task = asyncio.create_task(guarded())
        self._running.add(task)
        task.add_done_callback(self._running.discard)
