"""The figures of SPEC §11 over a seeded month, on the in-memory store, SQLite and PostgreSQL: the
on-time shares equal the shares worked out by hand from the generator's rules
(tests/figures_seed.py), and the SQL counts equal the fake's record-by-record counts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from frontdoor.calendar import WorkingCalendar
from frontdoor.figures import ClockTally, GroupBy, Narrowing, Period, compute_figures, parse_period
from frontdoor.policy import default_policy
from frontdoor.records import ClockKind
from frontdoor.unit_of_work import Store
from tests.figures_seed import seed_month

POLICY = default_policy()
CALENDAR = WorkingCalendar()  # November 2026 has no bank holiday
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # Monday 7 December 2026
K = ClockKind
DECISIONS = (K.SCREENING, K.CP_DECISION)


async def _november(store: Store) -> Period:
    await seed_month(store, date(2026, 11, 2), date(2026, 11, 25), 120, CALENDAR, POLICY)
    period = parse_period("2026-11", NOW, CALENDAR)
    assert isinstance(period, Period)
    return period


async def test_a_seeded_month_gives_the_shares_worked_out_by_hand(store: Store) -> None:
    period = await _november(store)
    async with store.unit_of_work() as uow:
        figures = await compute_figures(uow.figures, period, Narrowing(), NOW, CALENDAR, (50, 85))

    # By hand, from the generator's rules for contacts 0-119:
    # - screening: late when n % 5 == 4, so 24 of 120 late: 96 of 120 (80%) on time;
    # - child protection: the urgent ones are n % 10 == 0 (12), late when n % 30 == 0 (0, 30, 60,
    #   90): 8 of 12;
    # - 24 hours (route I: the 12 urgent; route II: n % 3 == 0 and not urgent, 36): 48 clocks;
    #   late when n % 4 == 3 (10 of them), and contact 24 was never completed, so its clock is
    #   still open long after it fell due: late too (99 is the other never completed, already
    #   late by n % 4): 11 late, 37 of 48 on time;
    # - 48 hours (routes III and IV, the other 72): 20 late by n % 4, and 49 and 74 never
    #   completed: 22 late, 50 of 72 on time.
    assert figures.totals == (
        ClockTally(K.SCREENING, 96, 24),
        ClockTally(K.CP_DECISION, 8, 4),
        ClockTally(K.COMPLETION_24H, 37, 11),
        ClockTally(K.COMPLETION_48H, 50, 22),
    )
    assert figures.total(K.SCREENING).percent_text() == "80%"
    assert figures.total(K.COMPLETION_48H).share == pytest.approx(50 / 72)
    # The weeks add up to the month (1 November is a Sunday: its week starts on 26 October).
    assert [week for week, _ in figures.weeks][:2] == [date(2026, 10, 26), date(2026, 11, 2)]
    for clock_index, total in enumerate(figures.totals):
        assert sum(tallies[clock_index].total for _, tallies in figures.weeks) == total.total

    # 120 received, 12 urgent; open at the end of the month: the 4 never completed.
    assert (figures.volumes.received, figures.volumes.urgent) == (120, 12)
    assert sum(figures.volumes.by_source.values()) == sum(figures.volumes.by_type.values()) == 120
    assert figures.open_by_day[0] == (date(2026, 11, 1), 0)
    assert figures.open_by_day[-1] == (date(2026, 11, 30), 4)
    assert len(figures.open_by_day) == 30
    assert figures.screening_this_week == ClockTally(K.SCREENING, 0, 0)  # nothing this week


async def test_narrowing_to_a_route_and_grouping_by_worker(store: Store) -> None:
    period = await _november(store)
    async with store.unit_of_work() as uow:
        route_ii = await compute_figures(uow.figures, period, Narrowing(route="ii"), NOW, CALENDAR, (50, 85))
        bounds = [period.start, period.end]
        by_worker = await uow.figures.timeliness(bounds, NOW, Narrowing(), GroupBy.WORKER)
        decider = await compute_figures(
            uow.figures, period, Narrowing(worker_id="consultant-fig-2"), NOW, CALENDAR, (50, 85)
        )
        by_route = await uow.figures.timeliness(bounds, NOW, Narrowing(), GroupBy.ROUTE, [K.SCREENING])
    # Route II: the 36 contacts n % 3 == 0 and not n % 10 == 0; 8 of them have n % 5 == 4.
    assert route_ii.total(K.SCREENING) == ClockTally(K.SCREENING, 28, 8)
    assert route_ii.total(K.CP_DECISION) == ClockTally(K.CP_DECISION, 0, 0)
    assert route_ii.volumes.received == 36
    # The decision clocks are started with no one assigned and count for whoever decided: the two
    # deciders screen in turn (n % 2), 60 each, late n % 5 == 4 (n % 10 == 4 or 9): 12 each; every
    # urgent contact (n % 10 == 0, so even) had its child-protection decision made by the other,
    # the second decider: 8 on time, 4 late. The completion clocks count for the workers they
    # were assigned to in turn (n % 3).
    assert sorted((r.group, r.clock, r.met, r.late) for r in by_worker if r.clock in DECISIONS) == [
        ("consultant-fig-1", K.SCREENING, 48, 12),
        ("consultant-fig-2", K.CP_DECISION, 8, 4),
        ("consultant-fig-2", K.SCREENING, 48, 12),
    ]
    assert {r.group for r in by_worker if r.clock not in DECISIONS} == {"sw-fig-1", "sw-fig-2", "sw-fig-3"}
    assert decider.total(K.SCREENING) == ClockTally(K.SCREENING, 48, 12)
    assert decider.total(K.CP_DECISION) == ClockTally(K.CP_DECISION, 8, 4)
    assert decider.total(K.COMPLETION_24H) == ClockTally(K.COMPLETION_24H, 0, 0)
    assert sorted((r.group, r.met + r.late) for r in by_route) == [
        ("i", 12),
        ("ii", 36),
        ("iii", 36),
        ("iv", 36),
    ]


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-11", datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),
        ("last week", datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC)),
        ("this week", datetime(2026, 12, 7, tzinfo=UTC), datetime(2026, 12, 8, tzinfo=UTC)),
        ("", datetime(2026, 11, 9, tzinfo=UTC), datetime(2026, 12, 8, tzinfo=UTC)),
        ("last month", datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),
        ("2026-06", datetime(2026, 5, 31, 23, tzinfo=UTC), datetime(2026, 6, 30, 23, tzinfo=UTC)),  # BST
    ],
)
def test_periods(text: str, start: datetime, end: datetime) -> None:
    period = parse_period(text, NOW, CALENDAR)
    assert isinstance(period, Period)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize("text", ["2027-01", "2026-13", "yesterday", "2026-11-01"])
def test_periods_not_understood_say_what_is(text: str) -> None:
    answer = parse_period(text, NOW, CALENDAR)
    assert isinstance(answer, str) and "figures 2026-11" in answer
