"""Breaches with reasons (SPEC §11) on the in-memory store, SQLite and PostgreSQL: the late clocks
counted by the reason recorded on them, over a handful of clocks worked out by hand below; the
figures card's numbers and the CSV's rows.

November 2026 is in GMT, so London time is UTC and the hours below read the same in both."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from frontdoor.calendar import WorkingCalendar
from frontdoor.figures import GroupBy, Narrowing, Period, compute_figures, export_figures, parse_period
from frontdoor.records import ClockKind, Deadline, DeadlineState, LateReason
from frontdoor.roles import Role
from frontdoor.unit_of_work import Store
from frontdoor.usecase import reassign_clocks
from tests.store.figures_builders import measured_contact

CALENDAR = WorkingCalendar()
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
K = ClockKind
R = LateReason
HOUR = timedelta(hours=1)
#: who closes the clocks below (each has an assignee, so it counts for them)
CLOSER = "consultant-fig"


def _at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


async def _clock(
    store: Store,
    subject: str,
    kind: ClockKind,
    start: datetime,
    due: timedelta,
    took: timedelta | None,
    worker: str,
    *reasons: LateReason,
) -> None:
    """A clock due ``due`` after ``start``, closed ``took`` later (open when None), with
    ``reasons`` recorded on it one after another (the last one wins)."""
    async with store.unit_of_work() as uow:
        stored = await uow.deadlines.add(Deadline(subject, kind, start, start + due, assignee_id=worker))
        assert stored.id is not None
        for reason in reasons:
            await uow.deadlines.set_late_reason(stored.id, reason)
        if took is not None:
            await uow.deadlines.close(subject, kind.value, "met", start + took, closed_by=CLOSER)
        await uow.commit()


async def _seed(store: Store) -> None:
    a = await measured_contact(store, 10, _at(2, 9))
    b = await measured_contact(store, 11, _at(3, 9))
    c = await measured_contact(store, 12, _at(4, 9), route="iv")
    d = await measured_contact(store, 13, _at(5, 9), route="iv")
    e = await measured_contact(store, 14, _at(6, 9))
    # November's late clocks:
    #   a: screening, sw-a, due in 5 hours, closed after 10: late, waiting for an agency;
    #   b: screening, sw-a, closed after 8: late, first "agency" then changed to consent;
    #   c: child protection, route IV, sw-b, due in 2 hours, closed after 3: late, no reason;
    #   d: completion 24h, route IV, sw-b, due 20 November, still open on 7 December: late, volume.
    await _clock(store, a, K.SCREENING, _at(2, 9), 5 * HOUR, 10 * HOUR, "sw-a", R.AGENCY_INFORMATION)
    await _clock(
        store, b, K.SCREENING, _at(3, 9), 5 * HOUR, 8 * HOUR, "sw-a", R.AGENCY_INFORMATION, R.CONSENT
    )
    await _clock(store, c, K.CP_DECISION, _at(4, 9), 2 * HOUR, 3 * HOUR, "sw-b")
    await _clock(store, d, K.COMPLETION_24H, _at(19, 9), 24 * HOUR, None, "sw-b", R.VOLUME)
    # Not counted: a met clock (even with a code on its row), a late one closed in October, and
    # a cancelled one.
    await _clock(store, e, K.SCREENING, _at(6, 9), 5 * HOUR, HOUR, "sw-a", R.OTHER)
    await _clock(store, e, K.COMPLETION_24H, _at(28, 9, month=10), HOUR, 3 * HOUR, "sw-a", R.SYSTEM)
    async with store.unit_of_work() as uow:
        stored = await uow.deadlines.add(
            Deadline(e, K.COMPLETION_48H, _at(7, 9), _at(8, 9), assignee_id="sw-b")
        )
        assert stored.id is not None
        await uow.deadlines.set_late_reason(stored.id, R.OTHER)
        # cancelled before its due time (the contact went another way): never counted
        await uow.deadlines.close(
            e, K.COMPLETION_48H.value, DeadlineState.CANCELLED.value, _at(7, 10), closed_by=CLOSER
        )
        await uow.commit()


def _reasons(rows: list[tuple[str, int]]) -> dict[str, int]:
    return {title: n for title, n in rows if n}


async def test_late_clocks_by_reason_worked_out_by_hand(store: Store) -> None:
    await _seed(store)
    period = parse_period("2026-11", NOW, CALENDAR)
    assert isinstance(period, Period)
    async with store.unit_of_work() as uow:
        everyone = await compute_figures(uow.figures, period, Narrowing(), NOW, CALENDAR, (50, 85))
        route_iv = await compute_figures(uow.figures, period, Narrowing(route="iv"), NOW, CALENDAR, (50, 85))
        sw_a = await compute_figures(
            uow.figures, period, Narrowing(worker_id="sw-a"), NOW, CALENDAR, (50, 85)
        )
        by_worker = await uow.figures.breach_reasons(
            [period.start, period.end], NOW, Narrowing(), GroupBy.WORKER
        )
    # Every reason is listed, in order, then those with none; they add up to the late clocks.
    assert everyone.reasons == (
        ("Waiting for information from an agency", 1),
        ("Consent being sought", 1),
        ("Volume of work or staffing", 1),
        ("Arrived out of hours", 0),
        ("System or technical problem", 0),
        ("Other", 0),
        ("No reason recorded", 1),
    )
    assert sum(n for _, n in everyone.reasons) == sum(t.late for t in everyone.totals) == 4
    assert _reasons(list(route_iv.reasons)) == {"Volume of work or staffing": 1, "No reason recorded": 1}
    assert _reasons(list(sw_a.reasons)) == {
        "Waiting for information from an agency": 1,
        "Consent being sought": 1,
    }
    assert sorted((r.group, r.reason or "-", r.count) for r in by_worker) == [
        ("sw-a", R.AGENCY_INFORMATION, 1),
        ("sw-a", R.CONSENT, 1),
        ("sw-b", "-", 1),
        ("sw-b", R.VOLUME, 1),
    ]


async def test_the_csv_has_a_row_per_reason_for_each_group(store: Store) -> None:
    await _seed(store)
    async with store.unit_of_work() as uow:
        await uow.roles.grant("sw-a", Role.SOCIAL_WORKER)
        assert await uow.roles.set_team("sw-a", "Assessment North")
        await uow.commit()
    exported = await export_figures(
        store.unit_of_work,
        "cli:tester",
        _at(1, 0),
        _at(1, 0, month=12),
        GroupBy.TEAM,
        NOW,
        CALENDAR,
        (50, 85),
    )
    rows = list(csv.reader(io.StringIO(exported.csv_text)))
    assert rows[0] == [
        "team",
        "measure",
        "count",
        "on time",
        "late",
        "share on time (%)",
        "median hours",
        "90th percentile hours",
    ]
    late = [row for row in rows[1:] if row[1].startswith("late: ")]
    assert [(row[0], row[1], row[2]) for row in late if row[2] != "0"] == [
        ("(no team)", "late: Volume of work or staffing", "1"),
        ("(no team)", "late: No reason recorded", "1"),
        ("Assessment North", "late: Waiting for information from an agency", "1"),
        ("Assessment North", "late: Consent being sought", "1"),
    ]
    # Seven rows (six reasons and none recorded) for each of the two teams, other columns empty.
    assert len(late) == 14 and all(row[3:] == ["", "", "", "", ""] for row in late)
    assert exported.rows == len(rows) - 1


async def _breaches(store: Store) -> dict[str, int]:
    period = parse_period("2026-11", NOW, CALENDAR)
    assert isinstance(period, Period)
    async with store.unit_of_work() as uow:
        figures = await compute_figures(uow.figures, period, Narrowing(), NOW, CALENDAR, (50, 85))
    assert sum(n for _, n in figures.reasons) == sum(t.late for t in figures.totals)
    return _reasons(list(figures.reasons))


async def test_a_reason_recorded_before_the_clock_is_handed_on_is_counted(store: Store) -> None:
    """A route IV worker's 48-hour clock breaches, the worker says why, then recommends: the clock
    goes to the consultants for sign-off and is closed late there, still with the worker's reason."""
    subject = await measured_contact(store, 20, _at(9, 9), route="iv")
    async with store.unit_of_work() as uow:
        stored = await uow.deadlines.add(
            Deadline(subject, K.COMPLETION_48H, _at(9, 9), _at(11, 9), assignee_id="sw-a")
        )
        assert stored.id is not None
        await uow.deadlines.set_late_reason(stored.id, R.CONSENT)
        await uow.commit()
    async with store.unit_of_work() as uow:
        await reassign_clocks(uow, subject, [K.COMPLETION_48H], None)  # the recommendation
        await uow.commit()
    async with store.unit_of_work() as uow:
        await uow.deadlines.close(
            subject, K.COMPLETION_48H.value, DeadlineState.MET.value, _at(12, 9), closed_by=CLOSER
        )
        await uow.commit()
    assert await _breaches(store) == {"Consent being sought": 1}


async def test_a_breached_completion_clock_replaced_by_another_route_counts_late(store: Store) -> None:
    """Route II at 10:00 on Monday 9 November (due 10:00 Tuesday), sent back at 13:00 on Tuesday and
    screened route IV: the 24-hour clock was breached, so it counts late, not cancelled."""
    subject = await measured_contact(store, 21, _at(9, 10), route="iv")
    async with store.unit_of_work() as uow:
        await uow.deadlines.add(Deadline(subject, K.COMPLETION_24H, _at(9, 10), _at(10, 10)))
        await uow.commit()
    async with store.unit_of_work() as uow:
        cancelled = DeadlineState.CANCELLED.value
        await uow.deadlines.close(subject, K.COMPLETION_24H.value, cancelled, _at(10, 13), closed_by=CLOSER)
        await uow.deadlines.add(Deadline(subject, K.COMPLETION_48H, _at(9, 10), _at(11, 10)))
        await uow.deadlines.close(
            subject, K.COMPLETION_48H.value, DeadlineState.MET.value, _at(10, 15), closed_by=CLOSER
        )
        await uow.commit()
    assert await _breaches(store) == {"No reason recorded": 1}
