"""``frontdoor-bot audit``: verify the audit log's hash chain; export a period as CSV.

- ``audit verify [--anchor SEQ:HASH]`` walks the whole chain and names the first row that does not
  match (exit status 1), else prints the number of events and the head ``SEQ:HASH`` to record
  somewhere outside the database (exit status 0).
- ``audit export --from DATE --to DATE [--output FILE]``: the events of those days (Europe/London,
  both inclusive) as CSV, for an information-governance request: ids, actions and times only.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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


async def run(database_url: str, args: argparse.Namespace) -> int:
    store = SqlStore(database_url)
    try:
        return await _run(store, args)
    finally:
        await store.close()


async def _run(store: SqlStore, args: argparse.Namespace) -> int:
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
    start = datetime.combine(start_day, time(0), LONDON)
    end = datetime.combine(end_day + timedelta(days=1), time(0), LONDON)
    text = await export_csv(store, start, end)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        _out(f"wrote {text.count(chr(10)) - 1} events to {args.output}")
    return 0
