"""``frontdoor-bot figures export``: the figures of SPEC §11 as CSV, with no personal data.

``--from`` and ``--to`` are dates in Europe/London, both included; ``--by`` groups the timeliness
and times by week (the default, with each week's volumes and its open contacts each day), worker
(their directory id), team (the worker's, in the role directory) or route. The CSV goes to standard
output, or to ``--output FILE``, a new file readable by its owner only (as the
consultations export writes it). Each export is audited with the actor ``cli:<login name>``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from bot.cli_consultations import _day, _midnight, write_new
from frontdoor.calendar import WorkingCalendar
from frontdoor.figures import GroupBy, export_figures
from frontdoor.ports import Clock
from frontdoor.unit_of_work import Store


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    figures = commands.add_parser("figures", help="management information")
    sub = figures.add_subparsers(dest="figures_command", required=True)
    export = sub.add_parser("export", help="timeliness and volumes between two dates, as CSV")
    export.add_argument("--from", dest="start", type=_day, required=True, help="first day, YYYY-MM-DD")
    export.add_argument("--to", dest="end", type=_day, required=True, help="last day (included), YYYY-MM-DD")
    export.add_argument(
        "--by",
        choices=[g.value for g in GroupBy],
        default=GroupBy.WEEK.value,
        help="how to group (default: week)",
    )
    export.add_argument("--output", type=Path, help="write to this new file instead of standard output")


async def export(
    store: Store,
    args: argparse.Namespace,
    clock: Clock,
    calendar: WorkingCalendar,
    actor_id: str,
    out: Callable[[str], None],
    band: tuple[int, int],
) -> int:
    if args.end < args.start:
        sys.stderr.write("frontdoor-bot: --to is before --from\n")
        return 2
    output: Path | None = args.output
    if output is not None and await asyncio.to_thread(output.exists):
        sys.stderr.write(f"frontdoor-bot: {output} exists; choose a new file\n")
        return 2
    result = await export_figures(
        store.unit_of_work,
        actor_id,
        _midnight(args.start),
        _midnight(args.end + timedelta(days=1)),
        GroupBy(args.by),
        clock.now(),
        calendar,
        band,
    )
    if output is None:
        sys.stdout.write(result.csv_text)
    else:
        await asyncio.to_thread(write_new, output, result.csv_text)
        out(f"{result.rows} rows written to {output}")
    return 0
