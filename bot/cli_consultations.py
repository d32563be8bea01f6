"""``frontdoor-bot consultations export``: consultations as CSV for managers.

``--from`` and ``--to`` are dates in Europe/London, both included. The CSV has no free text (nor
the professionals' names and numbers) unless ``--with-text`` is given. It is written to standard
output, or to ``--output FILE`` (created readable by its owner only; an existing file is not
overwritten). Each export is audited with the actor ``cli:<login name>``.

Whoever runs the command line holds the database's credentials, so it is not role-checked like
Teams: it acts for the managers it exports for.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path

from frontdoor.acting import Who
from frontdoor.calendar import LONDON
from frontdoor.consultation_export import MANAGER_ROLES, ExportOutcome, export_consultations
from frontdoor.ports import Clock
from frontdoor.unit_of_work import Store


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    consultations = commands.add_parser("consultations", help="anonymous consultations")
    sub = consultations.add_subparsers(dest="consultations_command", required=True)
    export = sub.add_parser("export", help="consultations logged between two dates, as CSV")
    export.add_argument("--from", dest="start", type=_day, required=True, help="first day, YYYY-MM-DD")
    export.add_argument("--to", dest="end", type=_day, required=True, help="last day (included), YYYY-MM-DD")
    export.add_argument(
        "--with-text",
        action="store_true",
        help="include the worry, the advice, the override reason and the professional's name and number",
    )
    export.add_argument("--output", type=Path, help="write to this new file instead of standard output")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=LONDON)


def write_new(path: Path, text: str) -> None:
    """Write ``text`` to a new file readable by its owner only. O_EXCL: never overwrite (an earlier
    export may be someone's only copy) and never follow a symbolic link planted at ``path`` (the
    call fails with ``FileExistsError``); 0o600: an export holds personal data."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as file:
        file.write(text)


async def export(
    store: Store, args: argparse.Namespace, clock: Clock, actor_id: str, out: Callable[[str], None]
) -> int:
    start_day: date = args.start
    end_day: date = args.end
    if end_day < start_day:
        sys.stderr.write("frontdoor-bot: --to is before --from\n")
        return 2
    output: Path | None = args.output
    if output is not None and await asyncio.to_thread(output.exists):
        sys.stderr.write(f"frontdoor-bot: {output} exists; choose a new file\n")
        return 2
    async with store.unit_of_work() as uow:
        names = {e.aad_object_id: e.display_name for e in await uow.roles.entries() if e.display_name}
        result = await export_consultations(
            uow,
            _midnight(start_day),
            _midnight(end_day + timedelta(days=1)),
            with_text=bool(args.with_text),
            names=names,
            who=Who(actor_id, MANAGER_ROLES),
            now=clock.now(),
        )
    if result.outcome is not ExportOutcome.EXPORTED:
        sys.stderr.write(f"frontdoor-bot: {result.message}\n")
        return 1
    if output is None:
        sys.stdout.write(result.csv_text)
    else:
        await asyncio.to_thread(write_new, output, result.csv_text)
        out(f"{result.count} consultations written to {output}")
    return 0
