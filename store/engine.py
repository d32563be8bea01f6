"""Async engines for SQLite (aiosqlite) and PostgreSQL (asyncpg), set up the way the store needs.

SQLite: WAL (readers never wait for the writer), a busy timeout, foreign keys on, and each
statement run in one trip to the connection's thread (``store.sqlite_cursor``). The store
serialises its writers itself (``store.sql``), so transactions keep the driver's default of
beginning at the first write. Migrations instead want transactional DDL, so their engine turns
the driver's transaction handling off and emits ``BEGIN`` itself, as SQLAlchemy documents.

PostgreSQL: asyncpg with ``pool_pre_ping``, so a connection dropped by a restart or a failover is
replaced rather than handed to a unit of work.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from store import sqlite_cursor

#: How long a writer waits for another writer before giving up, in seconds.
DEFAULT_BUSY_TIMEOUT = 30.0
#: SQLite connections kept open between units of work (more are opened when needed).
SQLITE_POOL_SIZE = 16

_SQLITE_MEMORY = {"", ":memory:"}


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def sqlite_path(url: URL) -> Path | None:
    """The database file of a SQLite URL (``None`` when it is not a plain file path)."""
    database = url.database or ""
    if database in _SQLITE_MEMORY or database.startswith("file:"):
        return None
    return Path(database)


def create_engine(
    database_url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, for_migrations: bool = False
) -> AsyncEngine:
    """An async engine for ``database_url``; creates a SQLite file's parent directory."""
    url = make_url(database_url)
    if is_sqlite(url):
        return _sqlite_engine(url, busy_timeout=busy_timeout, transactional_ddl=for_migrations)
    if url.get_backend_name() == "postgresql":
        if url.get_driver_name() != "asyncpg":
            raise ValueError("use the asyncpg driver: postgresql+asyncpg://user:password@host/database")
        return create_async_engine(url, pool_pre_ping=True)
    raise ValueError(f"unsupported database {url.get_backend_name()!r}: use SQLite or PostgreSQL")


def create_owner_only(path: Path) -> None:
    """Create the database file readable and writable by its owner only (0600), whatever the
    umask, if it does not exist yet: it holds children's records. SQLite gives its write-ahead log
    and shared-memory files the database file's permissions."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_engine(url: URL, *, busy_timeout: float, transactional_ddl: bool) -> AsyncEngine:
    if url.get_driver_name() != "aiosqlite":
        raise ValueError("use the aiosqlite driver: sqlite+aiosqlite:///path/to/file.db")
    path = sqlite_path(url)
    if path is None:
        # Every pooled connection to an in-memory database would see its own empty database.
        raise ValueError("an in-memory SQLite database cannot be shared by units of work: give a file path")
    path.parent.mkdir(parents=True, exist_ok=True)
    create_owner_only(path)
    sqlite_cursor.install()  # one trip to SQLite's thread per statement
    # No limit on connections (``max_overflow=-1``): a SQLite connection is a file handle and a
    # thread, and a bounded pool deadlocks when every connection is held by a unit of work waiting
    # for the writer lock (``store.sql``) or for a second connection. ``SQLITE_POOL_SIZE`` stay
    # open, so a few people at once reuse them rather than opening one a turn.
    engine = create_async_engine(
        url, connect_args={"timeout": busy_timeout}, pool_size=SQLITE_POOL_SIZE, max_overflow=-1
    )
    milliseconds = int(busy_timeout * 1000)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        if transactional_ddl:
            dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={milliseconds}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    if transactional_ddl:

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN")

    return engine
