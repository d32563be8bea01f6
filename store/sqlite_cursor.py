"""One trip to the SQLite thread per statement.

aiosqlite runs each ``sqlite3`` call on the connection's own thread: the caller queues the call,
the thread runs it and wakes the event loop with the result. SQLAlchemy's aiosqlite cursor makes
three or four such trips for every statement (open a cursor, execute, fetch the rows, close the
cursor), and each trip costs a queue hand-off, a thread wake-up and an event-loop wake-up: most
of a statement's CPU on a short query. ``OneTripCursor`` runs the four steps as one call on the
connection's thread and keeps the rows, description, row count and last row id it returns, so a
statement is one trip. Results, errors and transactions are those of the same ``sqlite3`` calls.

``install`` makes it the cursor of every aiosqlite connection SQLAlchemy opens (server-side
cursors, which the store does not use, keep SQLAlchemy's own). ``store.engine`` installs it.

A unit of work that only read ends with a rollback, and SQLAlchemy's pool rolls a connection back
again when it is returned: two more trips per unit of work. ``sqlite3`` itself does nothing on
``commit`` or ``rollback`` when the connection has no transaction open (``in_transaction`` is
false, which it reads from SQLite's own autocommit flag), so ``install`` also skips the trip then.
No statement is running on the connection at that moment: SQLAlchemy's adapter awaits each call.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_cursor
from sqlalchemy.util import EMPTY_DICT

#: What one statement gives back: description, rows, row count, last row id.
_Outcome = tuple[Any, Sequence[Any], int, int | None]


def _run(connection: Any, operation: str, parameters: Any, many: bool) -> _Outcome:
    """On the connection's thread: the whole statement, as ``sqlite3`` runs it."""
    cursor: sqlite3.Cursor = connection._conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else ()
        # after the rows: with RETURNING, sqlite3 counts the rows as they are fetched
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's aiosqlite cursor, with each statement run in one call on the SQLite thread."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:  # no cursor is opened until a statement
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    async def _statement(self, operation: Any, parameters: Any, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            outcome: _Outcome = await self._connection._execute(
                _run, self._connection, operation, parameters, many
            )
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._statement(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        await self._statement(operation, seq_of_parameters, many=True)

    async def _async_soft_close(self) -> None:
        """Nothing to close: the ``sqlite3`` cursor was closed on its thread."""

    def close(self) -> None:
        self._rows.clear()


_ADAPTER_ROLLBACK = AsyncAdapt_aiosqlite_connection.rollback
_ADAPTER_COMMIT = AsyncAdapt_aiosqlite_connection.commit


def _rollback(self: AsyncAdapt_aiosqlite_connection) -> None:
    """``rollback``, without the trip to the SQLite thread when no transaction is open."""
    raw = self._connection._connection
    if raw is not None and not raw.in_transaction:
        return
    _ADAPTER_ROLLBACK(self)


def _commit(self: AsyncAdapt_aiosqlite_connection) -> None:
    """``commit``, without the trip to the SQLite thread when no transaction is open."""
    raw = self._connection._connection
    if raw is not None and not raw.in_transaction:
        return
    _ADAPTER_COMMIT(self)


def install() -> None:
    """Make ``OneTripCursor`` the cursor of SQLAlchemy's aiosqlite connections, and skip the
    commit or rollback trip when the connection has no transaction open (idempotent)."""
    AsyncAdapt_aiosqlite_connection._cursor_cls = OneTripCursor
    AsyncAdapt_aiosqlite_connection.rollback = _rollback  # type: ignore[method-assign]
    AsyncAdapt_aiosqlite_connection.commit = _commit  # type: ignore[method-assign]
