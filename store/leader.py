"""Scheduler leadership over the database (the ``Leadership`` port of ``scheduler.leadership``,
which ``store`` does not import: the classes below fit it by shape).

- ``PostgresLeadership``: ``pg_try_advisory_lock(SCHEDULER_LOCK_KEY)`` on a connection of its own,
  held for the life of the process. The lock belongs to that database session, so it is released
  when the process stops (``release``), dies, or loses the connection; each ``try_acquire`` checks
  the connection is still alive and, if it is not, drops it and tries to take the lock afresh.
  Advisory locks are per database, so bots on different databases never contend.
- ``SqliteLeadership``: an exclusive, non-blocking ``flock`` on a lock file beside the database
  file (``frontdoor.db`` → ``frontdoor.db.scheduler.lock``). The operating system releases it when
  the process ends, however it ends. ``flock`` locks belong to an open file, so two leaderships in
  one process exclude each other just as two processes do.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from pathlib import Path
from typing import Final

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from store.engine import is_sqlite, sqlite_path

log = logging.getLogger(__name__)

#: The advisory lock key of the scheduler's leader ("fdsched"); distinct from the audit chain's.
SCHEDULER_LOCK_KEY: Final = 0x66_64_73_63_68_65_64
#: What the SQLite lock file's name adds to the database file's.
LOCK_SUFFIX: Final = ".scheduler.lock"
#: How long a check or an attempt on the leader's connection may take.
CHECK_TIMEOUT: Final = 5.0


class PostgresLeadership:
    """Leadership of the processes on one PostgreSQL database."""

    exclusive = False

    def __init__(
        self, database_url: str, *, key: int = SCHEDULER_LOCK_KEY, timeout: float = CHECK_TIMEOUT
    ) -> None:
        url = make_url(database_url)
        if url.get_backend_name() != "postgresql":
            raise ValueError("PostgresLeadership needs a postgresql+asyncpg:// URL")
        # No pool: the connection that holds the lock is never handed to anyone else, and closing
        # it ends the session (and with it the lock).
        self._engine = create_async_engine(url, poolclass=NullPool)
        self._key = key
        self._timeout = timeout
        self._connection: AsyncConnection | None = None
        #: the server process of the session holding the lock (for tests and diagnostics)
        self.backend_pid: int | None = None
        self._lock = asyncio.Lock()

    @property
    def held(self) -> bool:
        return self._connection is not None

    async def try_acquire(self) -> bool:
        async with self._lock:
            if self._connection is not None:
                if await self._alive(self._connection):
                    return True
                await self._drop()
                log.warning("scheduler leadership lost: the database connection holding it failed")
            return await self._acquire()

    async def _alive(self, connection: AsyncConnection) -> bool:
        try:
            async with asyncio.timeout(self._timeout):
                await connection.execute(text("SELECT 1"))
                await connection.commit()
        except (SQLAlchemyError, OSError, TimeoutError):
            return False
        return True

    async def _acquire(self) -> bool:
        connection: AsyncConnection | None = None
        try:
            async with asyncio.timeout(self._timeout):
                connection = await self._engine.connect()
                result = await connection.execute(
                    text("SELECT pg_try_advisory_lock(:key), pg_backend_pid()"), {"key": self._key}
                )
                acquired, pid = result.one()
                # The lock is the session's, not the transaction's: end the transaction so the
                # connection does not sit idle in one for the life of the process.
                await connection.commit()
        except (SQLAlchemyError, OSError, TimeoutError) as error:
            log.warning(
                "scheduler leadership not acquired: database unreachable",
                extra={"error_code": type(error).__name__},
            )
            if connection is not None:
                with contextlib.suppress(Exception):
                    await connection.close()
            return False
        if not acquired:
            await connection.close()
            return False
        self._connection, self.backend_pid = connection, int(pid)
        log.info("scheduler leadership acquired", extra={"status": "leader"})
        return True

    async def _drop(self) -> None:
        connection, self._connection, self.backend_pid = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.invalidate()
            with contextlib.suppress(Exception):
                await connection.close()

    async def release(self) -> None:
        async with self._lock:
            connection = self._connection
            if connection is not None:
                with contextlib.suppress(SQLAlchemyError, OSError, TimeoutError):
                    async with asyncio.timeout(self._timeout):
                        await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
                        await connection.commit()
                self._connection, self.backend_pid = None, None
                with contextlib.suppress(Exception):
                    await connection.close()
                log.info("scheduler leadership released", extra={"status": "released"})
            await self._engine.dispose()


class SqliteLeadership:
    """Leadership of the processes on one SQLite database file: the first one keeps it."""

    exclusive = True

    def __init__(self, lock_path: Path) -> None:
        self.lock_path = lock_path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    async def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except OSError:
            os.close(fd)
            raise
        self._fd = fd
        return True

    async def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            # The file stays: removing it while another process waits to lock it would let two
            # processes hold locks on two different files of the same name.
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def sqlite_lock_path(database: Path) -> Path:
    """The lock file beside a SQLite database file."""
    return database.with_name(database.name + LOCK_SUFFIX)


def leadership_for(database_url: str) -> PostgresLeadership | SqliteLeadership:
    """The leadership that fits the database at ``database_url``."""
    url = make_url(database_url)
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is None:
            raise ValueError("the scheduler's leadership needs a SQLite database file, not an in-memory one")
        return SqliteLeadership(sqlite_lock_path(path.resolve()))
    return PostgresLeadership(database_url)
