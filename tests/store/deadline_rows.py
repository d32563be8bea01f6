"""Bulk deadline rows for the tick's scale figures and its index test: closed contacts' deadlines
generated inside the database (``generate_series`` / a recursive CTE), and open deadlines inserted
in one statement, never through the use cases. Closed contacts are represented by their closed
deadlines (two each), the only rows the tick could touch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, text

from frontdoor.records import Deadline, DeadlineState
from store.sql import SqlStore
from store.tables import DeadlineRow, UtcDateTime

#: Deadlines a closed contact leaves behind: its screening clock and one decision clock, both met.
PER_CLOSED_CONTACT = 2

_SERIES = {
    "postgresql": "SELECT n FROM generate_series(1, :rows) AS n",
    "sqlite": "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :rows) "
    "SELECT n FROM s",
}
#: Two rows (n) per contact reference.
_SUBJECT = {"postgresql": "'CX-' || lpad((n / 2)::text, 8, '0')", "sqlite": "printf('CX-%08d', n / 2)"}


async def add_closed_contacts(store: SqlStore, contacts: int, at: datetime) -> None:
    """``contacts`` closed contacts' deadlines (``PER_CLOSED_CONTACT`` each), met before ``at``."""
    dialect = store.engine.dialect.name
    series = _SERIES[dialect].replace(":rows", str(contacts * PER_CLOSED_CONTACT))
    subject = _SUBJECT[dialect]
    statement = text(
        f"INSERT INTO deadlines (subject, clock, started_at, due_at, state, assignee_id, next_alert_at) "
        f"SELECT {subject}, CASE WHEN n % 2 = 0 THEN 'screening' ELSE 'cp_decision' END, "
        f":started, :due, '{DeadlineState.MET.value}', 'aad-closed-worker', NULL FROM ({series}) AS series"
    ).bindparams(
        bindparam("started", at - timedelta(days=30), type_=UtcDateTime()),
        bindparam("due", at - timedelta(days=29), type_=UtcDateTime()),
    )
    async with store.engine.begin() as connection:
        await connection.execute(statement)
        await connection.execute(text("ANALYZE deadlines" if dialect == "postgresql" else "ANALYZE"))


async def add_open_deadlines(store: SqlStore, deadlines: Sequence[Deadline]) -> None:
    """Open deadlines in one statement, each read by the next tick (next alert at its start), as
    ``DeadlineRepository.add`` records them."""
    rows = [
        {
            "subject": d.subject,
            "clock": d.clock.value,
            "started_at": d.started_at,
            "due_at": d.due_at,
            "state": DeadlineState.OPEN.value,
            "assignee_id": d.assignee_id,
            "next_alert_at": d.started_at,
        }
        for d in deadlines
    ]
    async with store.engine.begin() as connection:
        await connection.execute(insert(DeadlineRow), rows)
        # as autovacuum would soon after: the planner's figures include these rows
        await connection.execute(
            text("ANALYZE deadlines" if store.engine.dialect.name == "postgresql" else "ANALYZE")
        )
