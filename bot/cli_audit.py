"""``frontdoor-bot audit``: verify the audit log's hash chain; export a period as CSV.

- ``audit verify [--anchor SEQ:HASH]`` walks the whole chain and names the first row that does not
  match (exit status 1), else prints the number of events and the head ``SEQ:HASH`` to record
  somewhere outside the database (exit status 0).
- ``audit export --from DATE --to DATE [--output FILE]``: the events of those days (Europe/London,
  both inclusive) as CSV, for an information-governance request: ids, actions and times only. The
  file is a new one readable by its owner only (an existing file or a symbolic link is refused, as
  for ``consultations export``), and the export itself is audited (``audit.exported``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.cli_consultations import write_new
from frontdoor.ports import Clock
from frontdoor.records import AuditEvent
from frontdoor.systemclock import SystemClock
from store.audit import Anchor, export_csv, verify
from store.sql import SqlStore

LONDON = ZoneInfo("Europe/London")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _anchor(text: str) -> Anchor:
    try:
        return Anchor.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_commands(commands: Any) -> None:
    """Add ``audit verify`` and ``audit export`` to the top-level sub-parsers."""
    audit = commands.add_parser("audit", help="the tamper-evident audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    check = audit_commands.add_parser(
        "verify", help="check the hash chain; name the first row that does not match"
    )
    check.add_argument(
        "--anchor", type=_anchor, help="SEQ:HASH printed by an earlier verify and kept outside the database"
    )
    export = audit_commands.add_parser(
        "export", help="events of a period as CSV (ids and actions, no free text)"
    )
    export.add_argument("--from", dest="start", type=_day, required=True, help="first day, YYYY-MM-DD")
    export.add_argument("--to", dest="end", type=_day, required=True, help="last day, YYYY-MM-DD (included)")
    export.add_argument("--output", type=Path, help="write to this file instead of standard output")


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


async def run(
    database_url: str, args: argparse.Namespace, actor_id: str = "cli:unknown", clock: Clock | None = None
) -> int:
    store = SqlStore(database_url)
    try:
        return await _run(store, args, actor_id, clock or SystemClock())
    finally:
        await store.close()


async def _run(store: SqlStore, args: argparse.Namespace, actor_id: str, clock: Clock) -> int:
    if args.audit_command == "verify":
        report = await verify(store, args.anchor)
        if report.problem is not None:
            _out(f"audit log BROKEN at row {report.problem.seq}: {report.problem.reason}")
            _out(f"{report.events} rows before it match the chain")
            return 1
        head = report.head if report.head is not None else "none (the log is empty)"
        _out(f"audit log intact: {report.events} events; head {head}")
        return 0
    start_day, end_day = args.start, args.end
    if end_day < start_day:
        sys.stderr.write("frontdoor-bot: --to is before --from\n")
        return 2
    output: Path | None = args.output
    if output is not None and await asyncio.to_thread(os.path.lexists, output):
        sys.stderr.write(f"frontdoor-bot: {output} exists; choose a new file\n")
        return 2
    start = datetime.combine(start_day, time(0), LONDON)
    end = datetime.combine(end_day + timedelta(days=1), time(0), LONDON)
    text = await export_csv(store, start, end)
    count = text.count("\n") - 1
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            await asyncio.to_thread(write_new, output, text)
        except OSError as error:
            sys.stderr.write(f"frontdoor-bot: cannot write {output}: {error.strerror or 'refused'}\n")
            return 2
        _out(f"wrote {count} events to {output}")
    async with store.unit_of_work() as uow:
        await uow.audit.append(
            AuditEvent(
                at=clock.now(),
                actor_id=actor_id,
                action="audit.exported",
                subject=f"audit:{start_day.isoformat()}..{end_day.isoformat()}",
                detail=f"events={count}; to={'file' if output is not None else 'stdout'}",
            )
        )
        await uow.commit()
    return 0
