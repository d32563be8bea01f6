"""The audit log is append-only and tamper-evident, on SQLite and PostgreSQL.

The database refuses UPDATE and DELETE of audit rows. Someone who bypasses that (the database
owner disabling the triggers) and edits, deletes or reorders rows is caught by ``audit verify``,
which names the first row that does not match; rows re-hashed after a change, or removed from the
end, are caught against an anchor kept outside the database. ``audit export`` writes ids and
actions only.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from frontdoor.records import AuditEvent, StoredAuditEvent
from store import chain
from store.audit import Anchor, export_csv, verify
from store.sql import SqlStore

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
EXE = str(Path(sys.executable).with_name("frontdoor-bot"))
ROWS = 6


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "fresh_postgres_url")
    return url


@pytest.fixture
async def audited(database_url: str) -> AsyncIterator[SqlStore]:
    """A store whose log holds ``ROWS`` events, appended the way the app appends them."""
    store = SqlStore(database_url)
    async with store.unit_of_work() as uow:
        for index in range(ROWS):
            await uow.audit.append(
                AuditEvent(
                    at=START + timedelta(hours=index * 6),
                    actor_id=f"aad-actor-{index % 2}",
                    action="role.grant" if index % 2 else "consultation.save",
                    subject=f"person:aad-subject-{index}",
                    detail=f"detail {index}",
                )
            )
        await uow.commit()
    yield store
    await store.close()


async def _log(store: SqlStore) -> list[StoredAuditEvent]:
    async with store.unit_of_work() as uow:
        return await uow.audit.between(START - timedelta(days=1), START + timedelta(days=30))


async def _tamper(store: SqlStore, *statements: str) -> None:
    """Run statements with the append-only triggers bypassed, as a database owner could."""
    async with store.engine.begin() as connection:
        if store.engine.dialect.name == "postgresql":
            await connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            await connection.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
            await connection.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
        for statement in statements:
            await connection.execute(text(statement))


async def test_an_untouched_log_verifies_and_reports_its_head(audited: SqlStore) -> None:
    log = await _log(audited)
    assert len(log) == ROWS
    report = await verify(audited, batch=4)  # more than one batch
    assert report.intact
    assert report.events == ROWS
    assert report.head == Anchor(log[-1].seq, log[-1].row_hash)
    assert (await verify(audited, anchor=Anchor(log[2].seq, log[2].row_hash))).intact


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET detail = 'rewritten' WHERE seq = 2",
        "UPDATE audit_events SET actor_id = 'aad-someone-else'",
        "DELETE FROM audit_events WHERE seq = 3",
        "DELETE FROM audit_events",
    ],
)
async def test_the_database_refuses_to_change_or_remove_audit_rows(audited: SqlStore, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        async with audited.engine.begin() as connection:
            await connection.execute(text(statement))
    assert (await verify(audited)).intact
    assert len(await _log(audited)) == ROWS


@pytest.mark.postgres
async def test_postgres_also_refuses_truncate(fresh_postgres_url: str) -> None:
    store = SqlStore(fresh_postgres_url)
    try:
        with pytest.raises(DBAPIError, match="append-only"):
            async with store.engine.begin() as connection:
                await connection.execute(text("TRUNCATE audit_events"))
    finally:
        await store.close()


TAMPERING: dict[str, tuple[tuple[str, ...], int, str]] = {
    # name: (statements, the row verify must name, words of its reason)
    "an edited row": (("UPDATE audit_events SET detail = 'nothing happened' WHERE seq = 3",), 3, "content"),
    "an edited actor": (("UPDATE audit_events SET actor_id = 'aad-actor-9' WHERE seq = 5",), 5, "content"),
    "a deleted row": (("DELETE FROM audit_events WHERE seq = 2",), 3, "removed"),
    "the first row deleted": (("DELETE FROM audit_events WHERE seq = 1",), 2, "removed"),
    "two rows swapped": (
        (
            "UPDATE audit_events SET seq = 1000 WHERE seq = 4",
            "UPDATE audit_events SET seq = 4 WHERE seq = 3",
            "UPDATE audit_events SET seq = 3 WHERE seq = 1000",
        ),
        3,
        "moved",
    ),
    "a forged row inserted": (
        (
            "INSERT INTO audit_events (seq, at, actor_id, action, subject, detail, prev_hash, row_hash) "
            "SELECT 1000, at, actor_id, action, subject, detail, prev_hash, row_hash "
            "FROM audit_events WHERE seq = 2",
            "UPDATE audit_events SET seq = 1001 WHERE seq = 6",
        ),
        1000,
        "removed",
    ),
}


@pytest.mark.parametrize("case", list(TAMPERING))
async def test_tampering_is_caught_at_the_first_row_that_does_not_match(audited: SqlStore, case: str) -> None:
    statements, seq, reason = TAMPERING[case]
    await _tamper(audited, *statements)
    report = await verify(audited, batch=4)
    assert report.problem is not None, f"{case} went unnoticed"
    assert report.problem.seq == seq
    assert reason in report.problem.reason


async def test_rehashing_after_an_edit_is_caught_by_an_anchor(audited: SqlStore) -> None:
    log = await _log(audited)
    anchor = Anchor(log[-1].seq, log[-1].row_hash)
    # Rewrite row 2 and recompute every hash after it: the chain alone now links up.
    edited = [*log]
    prev = log[0].row_hash
    statements: list[str] = []
    for index in range(1, len(log)):
        event = log[index].event
        if index == 1:
            event = AuditEvent(event.at, event.actor_id, event.action, event.subject, "nothing happened")
        digest = chain.row_hash(prev, event)
        statements.append(
            f"UPDATE audit_events SET detail = '{event.detail}', prev_hash = '{prev}', row_hash = '{digest}' "
            f"WHERE seq = {log[index].seq}"
        )
        edited[index] = StoredAuditEvent(log[index].seq, event, prev, digest)
        prev = digest
    await _tamper(audited, *statements)
    assert (await verify(audited)).intact  # the limit of a hash chain on its own
    caught = await verify(audited, anchor=anchor)
    assert caught.problem is not None
    assert caught.problem.seq == log[-1].seq
    assert "anchor" in caught.problem.reason


async def test_rows_removed_from_the_end_are_caught_by_an_anchor(audited: SqlStore) -> None:
    log = await _log(audited)
    await _tamper(audited, f"DELETE FROM audit_events WHERE seq >= {log[-2].seq}")
    assert (await verify(audited)).intact
    caught = await verify(audited, anchor=Anchor(log[-1].seq, log[-1].row_hash))
    assert caught.problem is not None
    assert "missing" in caught.problem.reason


async def test_the_export_holds_ids_and_actions_of_the_period_only(audited: SqlStore) -> None:
    exported = await export_csv(audited, START + timedelta(hours=6), START + timedelta(hours=18))
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [row["subject"] for row in rows] == ["person:aad-subject-1", "person:aad-subject-2"]
    assert list(rows[0]) == ["seq", "at", "actor_id", "action", "subject", "row_hash"]
    assert "detail" not in exported


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    ours = ("FRONTDOOR_", "Microsoft", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env["DATABASE_URL"] = database_url
    return subprocess.run([EXE, *args], env=env, capture_output=True, text=True, timeout=60, check=False)


async def test_the_command_line_verifies_names_the_broken_row_and_exports(
    audited: SqlStore, database_url: str, tmp_path: Path
) -> None:
    intact = _cli(database_url, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    log = await _log(audited)
    assert f"audit log intact: {ROWS} events; head {log[-1].seq}:{log[-1].row_hash}" in intact.stdout
    anchored = _cli(database_url, "audit", "verify", "--anchor", f"{log[1].seq}:{log[1].row_hash}")
    assert anchored.returncode == 0, anchored.stdout

    exported = _cli(database_url, "audit", "export", "--from", "2026-11-23", "--to", "2026-11-23")
    assert exported.returncode == 0, exported.stderr
    # London days (GMT in November): 09:00, 15:00 and 21:00 on the 23rd; 03:00 is the 24th.
    assert len(list(csv.DictReader(io.StringIO(exported.stdout)))) == 3
    to_file = _cli(
        database_url,
        "audit",
        "export",
        "--from",
        "2026-11-24",
        "--to",
        "2026-11-30",
        "--output",
        str(tmp_path / "a.csv"),
    )
    assert to_file.returncode == 0
    assert len((tmp_path / "a.csv").read_text().splitlines()) == 1 + 3
    assert _cli(database_url, "audit", "export", "--from", "2026-11-24", "--to", "2026-11-23").returncode == 2
    assert _cli(database_url, "audit", "verify", "--anchor", "nonsense").returncode == 2

    await _tamper(audited, "UPDATE audit_events SET detail = 'nothing happened' WHERE seq = 4")
    broken = _cli(database_url, "audit", "verify")
    assert broken.returncode == 1
    assert "audit log BROKEN at row 4: its content does not match its hash" in broken.stdout
