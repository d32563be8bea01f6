"""Which process runs the scheduler's planning when several serve one database.

What is due lives in the tables, and every write the scheduler makes is idempotent (alerts are
enqueued by key, a lapsed letter is lapsed once), so two planners would not double anything; but
only one should plan, to keep the work and the logs single. So:

- **PostgreSQL** (``exclusive`` False): every process runs the scheduler. The deadline tick
  (planning, parent-letter lapse) asks ``try_acquire`` each time and runs only in the leader; the
  dispatcher runs everywhere, because claims with ``FOR UPDATE SKIP LOCKED`` and a lease keep
  dispatchers apart. Leadership is a session advisory lock: if the leader dies or loses its
  connection the lock goes with it, and another process takes over at its next tick.
- **SQLite** (``exclusive`` True): one process only. SQLite has no row locks to keep dispatchers
  apart, so a second process on the same database file refuses to run the scheduler at all
  (``scheduler_allowed``) and says why.

The implementations are in ``store.leader``; the composition root picks one.
"""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger(__name__)


class Leadership(Protocol):
    #: True: a process that is not the leader must not run the scheduler at all (SQLite).
    #: False: every process runs it, and only the leader plans (PostgreSQL).
    exclusive: bool

    async def try_acquire(self) -> bool:
        """Become (or stay) the leader without waiting: True if this process leads now. Cheap
        when already held; after a lost connection it tries afresh."""
        ...

    async def release(self) -> None:
        """Stop leading (at shutdown); harmless when not leading."""
        ...


class SoleLeadership:
    """For a process that is alone by construction (tests, a single in-memory store)."""

    exclusive = False

    def __init__(self) -> None:
        self.held = False

    async def try_acquire(self) -> bool:
        self.held = True
        return True

    async def release(self) -> None:
        self.held = False


async def scheduler_allowed(leadership: Leadership) -> bool:
    """Whether this process may run the scheduler. An exclusive leadership that another process
    holds says no, and the refusal is logged once (no names, no paths)."""
    if not leadership.exclusive:
        return True
    if await leadership.try_acquire():
        return True
    log.warning(
        "scheduler not started: another process runs the scheduler on this SQLite database; "
        "only one process may (use PostgreSQL to run several)",
        extra={"status": "refused"},
    )
    return False
