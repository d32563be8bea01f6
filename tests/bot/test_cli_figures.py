"""``frontdoor-bot figures export`` run as a real process, on SQLite and PostgreSQL: the CSV's
columns, the seeded month's figures in it, an owner-only new file, and the audit."""

from __future__ import annotations

import csv
import io
import os
import stat
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from frontdoor.acting import Who
from frontdoor.calendar import WorkingCalendar
from frontdoor.casework import CaseworkRecorded, accept_referral
from frontdoor.decisions import ScreeningDecided
from frontdoor.figures import Narrowing, Period, compute_figures, parse_period, week_start
from frontdoor.policy import default_policy
from frontdoor.records import ClockKind
from frontdoor.script import CONTACT_TYPE_TITLES, NEED_TITLES, SOURCE_TITLES
from store.sql import SqlStore
from tests.figures_seed import NEEDS, SOURCES, TYPES, seed_month
from tests.frontdoor.casework_builders import route_iii
from tests.frontdoor.decision_builders import (
    CONSULTANT,
    CONSULTANT_2,
    NOW,
    ROLES,
    ROUTE_I,
    ROUTE_II,
    screen,
    seat,
    submitted,
)

EXE = str(Path(sys.executable).with_name("frontdoor-bot"))
COLUMNS = [
    "measure",
    "count",
    "on time",
    "late",
    "share on time (%)",
    "median hours",
    "90th percentile hours",
]


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    ours = ("FRONTDOOR_", "Microsoft", "DATABASE_URL")
    return {**{k: v for k, v in os.environ.items() if not k.startswith(ours)}, "DATABASE_URL": database_url}


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXE, "figures", "export", *args], env=env, capture_output=True, text=True, timeout=60
    )


async def _seed(url: str) -> None:
    store = SqlStore(url)
    try:
        await seed_month(
            store, date(2026, 11, 2), date(2026, 11, 25), 120, WorkingCalendar(), default_policy()
        )
    finally:
        await store.close()


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


async def test_export_by_week_worker_and_route(env: dict[str, str], tmp_path: Path) -> None:
    await _seed(env["DATABASE_URL"])
    by_week = _run(env, "--from", "2026-11-01", "--to", "2026-11-30")
    assert by_week.returncode == 0, by_week.stderr
    rows = _rows(by_week.stdout)
    assert rows[0] == ["week beginning", *COLUMNS]
    screening = [row for row in rows[1:] if row[1] == "Screening in 1 working day"]
    assert [row[0] for row in screening] == ["2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23"]
    # The month's 96 on time and 24 late (tests/store/test_figures.py works them out by hand).
    assert sum(int(row[3]) for row in screening) == 96 and sum(int(row[4]) for row in screening) == 24
    received = [row for row in rows[1:] if row[1] == "contacts received"]
    assert sum(int(row[2]) for row in received) == 120
    # Each week also counts consultations and the re-referral measure (the seeded contacts record
    # no earlier closure and no consultation was logged: nought).
    for measure in ("consultations", "re-referrals within 3 months", "re-referrals within 12 months"):
        assert [row[2] for row in rows[1:] if row[1] == measure] == ["0"] * 6, (
            measure
        )  # 6 weeks: 1 and 30 November start partial ones
    # Times: hours with one decimal on every clock row (worked out by hand in
    # tests/store/test_figures_measures.py); a median never above its 90th percentile.
    assert all(float(row[6]) <= float(row[7]) for row in screening)
    assert "CT-26-" not in by_week.stdout  # no references, no names: figures only

    output = tmp_path / "by-worker.csv"
    by_worker = _run(
        env, "--from", "2026-11-01", "--to", "2026-11-30", "--by", "worker", "--output", str(output)
    )
    assert by_worker.returncode == 0, by_worker.stderr
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    rows = _rows(output.read_text(encoding="utf-8"))
    assert rows[0] == ["worker id", *COLUMNS]
    # Screening counts for who decided it: the seed's two deciders in turn, 12 of each one's 60 late.
    assert ["consultant-fig-1", "Screening in 1 working day", "60", "48", "12", "80.0"] in [
        row[:6] for row in rows
    ]
    # Breaches by reason: no reason was recorded on the seeded clocks, so all the worker's late
    # clocks are "no reason recorded", and each reason has a row of its own (count 0).
    late = sum(int(row[4]) for row in rows[1:] if row[0] == "sw-fig-1" and not row[1].startswith("late: "))
    reasons = [row for row in rows[1:] if row[0] == "sw-fig-1" and row[1].startswith("late: ")]
    assert late > 0 and ["sw-fig-1", "late: No reason recorded", str(late), "", ""] in [
        r[:5] for r in reasons
    ]
    assert ["sw-fig-1", "late: Consent being sought", "0", "", ""] in [r[:5] for r in reasons] and len(
        reasons
    ) == 7
    again = _run(env, "--from", "2026-11-01", "--to", "2026-11-30", "--output", str(output))
    assert again.returncode == 2 and "exists" in again.stderr

    by_route = _run(env, "--from", "2026-11-01", "--to", "2026-11-30", "--by", "route")
    assert ["II", "Screening in 1 working day", "36", "28", "8", "77.8"] in [
        r[:6] for r in _rows(by_route.stdout)
    ]
    assert _run(env, "--from", "2026-11-30", "--to", "2026-11-01").returncode == 2
    assert _run(env, "--from", "2026-11-01", "--to", "2026-11-30", "--by", "month").returncode == 2

    store = SqlStore(env["DATABASE_URL"])
    try:
        async with store.unit_of_work() as uow:
            exports = [s.event for s in await uow.audit.for_subject("figures")]
    finally:
        await store.close()
    assert [e.action for e in exports] == ["figures.exported"] * 3
    assert all(e.actor_id.startswith("cli:") for e in exports) and "by=worker" in exports[1].detail


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], env=env, capture_output=True, text=True, timeout=60)


async def test_teams_recorded_in_the_directory_and_the_export_by_team(env: dict[str, str]) -> None:
    await _seed(env["DATABASE_URL"])
    assert _cli(env, "roles", "team", "sw-fig-1", "North").returncode == 2  # not in the directory
    for person in ("sw-fig-1", "sw-fig-2", "sw-fig-3"):
        assert _cli(env, "roles", "grant", person, "social_worker").returncode == 0
    assert _cli(env, "roles", "grant", "consultant-fig-1", "consultant").returncode == 0
    assert _cli(env, "roles", "team", "consultant-fig-1", "First Contact").returncode == 0
    first = _cli(env, "roles", "team", "sw-fig-1", "  Assessment   North ")
    assert first.returncode == 0 and "sw-fig-1 is in team Assessment North" in first.stdout, first.stderr
    assert _cli(env, "roles", "team", "sw-fig-2", "Assessment North").returncode == 0
    assert _cli(env, "roles", "team", "sw-fig-3", "First Contact").returncode == 0
    cleared = _cli(env, "roles", "team", "sw-fig-3")
    assert cleared.returncode == 0 and "sw-fig-3 is in no team" in cleared.stdout
    assert _cli(env, "roles", "team", "sw-fig-3", "x" * 81).returncode == 2
    assert "sw-fig-1\tsocial_worker\tteam: Assessment North" in _cli(env, "roles", "list").stdout

    by_team = _run(env, "--from", "2026-11-01", "--to", "2026-11-30", "--by", "team")
    assert by_team.returncode == 0, by_team.stderr
    rows = _rows(by_team.stdout)
    assert rows[0] == ["team", *COLUMNS]
    # Screening counts for the team of who decided it: the seed's two deciders in turn, 60 each, 12
    # of each one's late; the second decider is in no team.
    screening = [row[:6] for row in rows[1:] if row[1] == "Screening in 1 working day"]
    assert screening == [
        ["(no team)", "Screening in 1 working day", "60", "48", "12", "80.0"],
        ["First Contact", "Screening in 1 working day", "60", "48", "12", "80.0"],
    ]
    # Completion counts for the workers it was assigned to, in turn (n % 3): 40 contacts each.
    completed = [row for row in rows[1:] if row[1].startswith("Completed in")]
    assert sum(int(row[2]) for row in completed if row[0] == "Assessment North") == 80
    assert sum(int(row[2]) for row in completed if row[0] == "(no team)") == 40

    store = SqlStore(env["DATABASE_URL"])
    try:
        async with store.unit_of_work() as uow:
            events = [s.event for s in await uow.audit.for_subject("person:sw-fig-3")]
    finally:
        await store.close()
    assert [(e.action, e.detail) for e in events if e.action == "role.team"] == [
        ("role.team", "First Contact"),
        ("role.team", "-"),
    ]


async def _decided_the_real_way(url: str) -> None:
    """Two contacts submitted and decided through the use cases, as the front door does it: an
    urgent one screened to route I by one consultant and its child-protection decision made by
    another, in time; and one screened to route II a day late by the second. Intake and screening
    start the decision clocks with no one assigned."""
    store = SqlStore(url)
    try:
        await seat(store)
        async with store.unit_of_work() as uow:
            await uow.roles.set_team(CONSULTANT, "First Contact")
            await uow.roles.set_team(CONSULTANT_2, "MASH North")
            await uow.commit()
        urgent = await submitted(store, urgent=True)
        screened_i = await screen(store, urgent, ROUTE_I, CONSULTANT, now=NOW + timedelta(minutes=30))
        assert isinstance(screened_i, ScreeningDecided), screened_i
        accepted = await accept_referral(
            store.unit_of_work(),
            urgent.id,
            "Progress to referral",
            screened_i.contact.version,
            who=Who(CONSULTANT_2, ROLES[CONSULTANT_2]),
            now=NOW + timedelta(hours=1),
        )
        assert isinstance(accepted, CaseworkRecorded), accepted
        other = await submitted(store)
        late = await screen(store, other, ROUTE_II, CONSULTANT_2, now=NOW + timedelta(days=2))
        assert isinstance(late, ScreeningDecided), late
        async with store.unit_of_work() as uow:
            clocks = await uow.deadlines.for_subject(urgent.reference or "")
        assert {d.assignee_id for d in clocks if d.clock in (ClockKind.SCREENING, ClockKind.CP_DECISION)} == {
            None
        }
    finally:
        await store.close()


async def test_decision_clocks_count_for_who_decided_by_worker_and_team(env: dict[str, str]) -> None:
    """SPEC §11: timeliness by worker and team. Screening and child-protection clocks are started
    with no one assigned, so each counts for the person whose decision closed it, and their team."""
    await _decided_the_real_way(env["DATABASE_URL"])
    week = ("--from", "2026-03-16", "--to", "2026-03-22")
    decisions = ("Screening in 1 working day", "CP decision in 2 hours")

    by_worker = _run(env, *week, "--by", "worker")
    assert by_worker.returncode == 0, by_worker.stderr
    rows = [row[:6] for row in _rows(by_worker.stdout)[1:] if row[1] in decisions]
    assert rows == [
        [CONSULTANT, "Screening in 1 working day", "1", "1", "0", "100.0"],
        [CONSULTANT_2, "Screening in 1 working day", "1", "0", "1", "0.0"],
        [CONSULTANT_2, "CP decision in 2 hours", "1", "1", "0", "100.0"],
    ]

    by_team = _run(env, *week, "--by", "team")
    assert by_team.returncode == 0, by_team.stderr
    rows = [row[:6] for row in _rows(by_team.stdout)[1:] if row[1] in decisions]
    assert rows == [
        ["First Contact", "Screening in 1 working day", "1", "1", "0", "100.0"],
        ["MASH North", "Screening in 1 working day", "1", "0", "1", "0.0"],
        ["MASH North", "CP decision in 2 hours", "1", "1", "0", "100.0"],
    ]


async def test_a_completion_signed_off_counts_for_who_signed_it_off_by_worker(env: dict[str, str]) -> None:
    """SPEC §11: a route III contact screened by one consultant, its outcome recorded by the officer
    it was with (which hands the 48-hour completion clock to the consultants on duty) and signed off
    by another consultant, through the use cases: exported ``--by worker``, the completion counts
    for the consultant who signed it off, the screening for the one who screened it, and nothing
    for the officer or for no one."""
    store = SqlStore(env["DATABASE_URL"])
    try:
        await seat(store)
        async with store.unit_of_work() as uow:
            await uow.roles.set_team(CONSULTANT_2, "MASH North")
            await uow.commit()
        closed = await route_iii(store)
        async with store.unit_of_work() as uow:
            clocks = await uow.deadlines.for_subject(closed.reference or "")
    finally:
        await store.close()
    [completion] = [d for d in clocks if d.clock is ClockKind.COMPLETION_48H]
    assert (completion.assignee_id, completion.closed_by) == (None, CONSULTANT_2)
    week = ("--from", "2026-03-16", "--to", "2026-03-22")
    clock_titles = {
        "Screening in 1 working day",
        "CP decision in 2 hours",
        "Completed in 24h (routes I-II)",
        "Completed in 48h (routes III-IV)",
    }

    by_worker = _run(env, *week, "--by", "worker")
    assert by_worker.returncode == 0, by_worker.stderr
    rows = [row[:6] for row in _rows(by_worker.stdout)[1:] if row[1] in clock_titles]
    assert rows == [
        [CONSULTANT, "Screening in 1 working day", "1", "1", "0", "100.0"],
        [CONSULTANT_2, "Completed in 48h (routes III-IV)", "1", "1", "0", "100.0"],
    ]
    by_team = _run(env, *week, "--by", "team")
    assert by_team.returncode == 0, by_team.stderr
    rows = [row[:6] for row in _rows(by_team.stdout)[1:] if row[1] == "Completed in 48h (routes III-IV)"]
    assert rows == [["MASH North", "Completed in 48h (routes III-IV)", "1", "1", "0", "100.0"]]


async def test_export_by_week_carries_volumes_by_source_type_need_and_open_contacts_each_day(
    env: dict[str, str],
) -> None:
    """SPEC §11 volumes in the CSV: contacts received by source, type and presenting need, and the
    open contacts each day against the band, under each week."""
    url = env["DATABASE_URL"]
    store = SqlStore(url)
    calendar, policy = WorkingCalendar(), default_policy()
    try:
        seeded = await seed_month(store, date(2026, 11, 2), date(2026, 11, 25), 120, calendar, policy)
        period = parse_period("2026-11", datetime(2026, 12, 7, tzinfo=UTC), calendar)
        assert isinstance(period, Period)
        async with store.unit_of_work() as uow:
            card = await compute_figures(uow.figures, period, Narrowing(), period.end, calendar, (50, 85))
    finally:
        await store.close()
    result = _run(env, "--from", "2026-11-01", "--to", "2026-11-30")
    assert result.returncode == 0, result.stderr
    rows = [
        row for row in _rows(result.stdout)[1:] if row[1].startswith(("contacts received ", "open contacts"))
    ]
    assert all(row[3:] == [""] * 5 for row in rows)  # counts only, in the same eight columns

    # By the generator's rules (tests/figures_seed.py): contact n's source, type and needs.
    expected: Counter[tuple[str, str]] = Counter()
    for item in seeded:
        week = week_start(item.received_at.astimezone(calendar.tz).date()).isoformat()
        n = item.number
        expected[(week, f"contacts received by source: {SOURCE_TITLES[SOURCES[n % len(SOURCES)]]}")] += 1
        expected[(week, f"contacts received by type: {CONTACT_TYPE_TITLES[TYPES[n % len(TYPES)]]}")] += 1
        for need in {NEEDS[n % len(NEEDS)], NEEDS[(n // 2) % len(NEEDS)]}:
            expected[(week, f"contacts received by presenting need: {NEED_TITLES[need]}")] += 1
    breakdown = {(row[0], row[1]): int(row[2]) for row in rows if row[1].startswith("contacts received by ")}
    assert {key: n for key, n in breakdown.items() if n} == dict(expected)
    # Every source, type and need has its row in every week, zeros included.
    assert len(breakdown) == 6 * (len(SOURCES) + len(TYPES) + len(NEEDS))

    # Each day of the period under its week, as the figures card's line draws it; the band by week.
    days = [
        (row[0], row[1].removeprefix("open contacts end of "), int(row[2]))
        for row in rows
        if "end of" in row[1]
    ]
    assert [(day, n) for _, day, n in days] == [(day.isoformat(), n) for day, n in card.open_by_day]
    assert all(week == week_start(date.fromisoformat(day)).isoformat() for week, day, _ in days)
    assert days[0][2] == 0 and days[-1][2] == 4 and max(n for _, _, n in days) > 0
    band = policy.open_contacts
    weeks = ["2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"]
    assert [row[:3] for row in rows if row[1].startswith("open contacts band")] == [
        cell
        for week in weeks
        for cell in (
            [week, "open contacts band low", str(band.band_low)],
            [week, "open contacts band high", str(band.band_high)],
        )
    ]
