"""Clocks: the real one, and a settable one for tests and simulations."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class RunningClock:
    """A clock that reads ``start`` when it is made and then runs forward at real speed (by the
    monotonic clock, so a change of the system time does not move it). For tests and rehearsals
    that need a process to live at a chosen instant (``FRONTDOOR_CLOCK_START``); never in
    production."""

    def __init__(self, start: datetime, *, elapsed: Callable[[], float] = time.monotonic) -> None:
        if start.tzinfo is None:
            raise ValueError("a clock needs a timezone-aware start time")
        self._start = start.astimezone(UTC)
        self._elapsed = elapsed
        self._origin = elapsed()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed() - self._origin)


class SettableClock:
    """A clock that stands still until moved; for tests and replaying a day."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a clock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("a clock needs a timezone-aware time")
        self._now = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._now += delta
