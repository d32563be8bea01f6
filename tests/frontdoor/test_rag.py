"""Red / amber / green status of a clock at its boundaries."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontdoor.calendar import WorkingCalendar
from frontdoor.policy import default_policy, parse_policy
from frontdoor.rag import Rag, clock_rag, rag_status
from frontdoor.records import ClockKind

LONDON = ZoneInfo("Europe/London")
POLICY = default_policy()
ELAPSED = parse_policy('[timescales]\ncompletion_clock = "hours"\n')
CAL = WorkingCalendar()

START = datetime(2026, 6, 8, 10, 0, tzinfo=LONDON)
DUE = START + timedelta(minutes=100)  # so one minute is 1% of the window


def minutes_in(n: float) -> datetime:
    return START + timedelta(minutes=n)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(START - timedelta(hours=1), Rag.GREEN, id="not-started"),
        pytest.param(START, Rag.GREEN, id="start"),
        pytest.param(minutes_in(75), Rag.GREEN, id="exactly-25%-left"),
        pytest.param(minutes_in(75) + timedelta(microseconds=1), Rag.AMBER, id="just-under-25%"),
        pytest.param(minutes_in(80), Rag.AMBER, id="20%-left"),
        pytest.param(minutes_in(90), Rag.AMBER, id="exactly-10%-left"),
        pytest.param(minutes_in(90) + timedelta(microseconds=1), Rag.RED, id="just-under-10%"),
        pytest.param(DUE - timedelta(microseconds=1), Rag.RED, id="last-moment"),
        pytest.param(DUE, Rag.RED, id="breached-at-due"),
        pytest.param(DUE + timedelta(days=3), Rag.RED, id="long-breached"),
    ],
)
def test_rag_boundaries(now: datetime, expected: Rag) -> None:
    assert rag_status(START, DUE, now, POLICY) is expected


def test_rag_works_across_time_zones() -> None:
    assert rag_status(START.astimezone(UTC), DUE, minutes_in(80).astimezone(UTC), POLICY) is Rag.AMBER


def test_rag_thresholds_come_from_the_policy() -> None:
    policy = replace(POLICY, rag=replace(POLICY.rag, red_fraction=0.3, amber_fraction=0.5))
    assert rag_status(START, DUE, minutes_in(45), policy) is Rag.GREEN
    assert rag_status(START, DUE, minutes_in(60), policy) is Rag.AMBER
    assert rag_status(START, DUE, minutes_in(75), policy) is Rag.RED


def test_a_zero_window_is_red() -> None:
    assert rag_status(START, START, START - timedelta(minutes=5), POLICY) is Rag.RED


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        rag_status(START, DUE, datetime(2026, 6, 8, 10, 30), POLICY)


# A screening clock received on Friday afternoon is due on Monday afternoon.
FRIDAY = datetime(2026, 6, 5, 16, 0, tzinfo=LONDON)
MONDAY = datetime(2026, 6, 8, 16, 0, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("now", "real", "office"),
    [
        pytest.param(datetime(2026, 6, 8, 9, 0, tzinfo=LONDON), Rag.RED, Rag.GREEN, id="monday-morning"),
        pytest.param(datetime(2026, 6, 8, 14, 30, tzinfo=LONDON), Rag.RED, Rag.AMBER, id="monday-14:30"),
        pytest.param(datetime(2026, 6, 8, 15, 30, tzinfo=LONDON), Rag.RED, Rag.RED, id="monday-15:30"),
        pytest.param(datetime(2026, 6, 6, 12, 0, tzinfo=LONDON), Rag.GREEN, Rag.GREEN, id="saturday"),
    ],
)
def test_office_time_rag_for_working_day_clocks(now: datetime, real: Rag, office: Rag) -> None:
    assert rag_status(FRIDAY, MONDAY, now, POLICY) is real
    assert rag_status(FRIDAY, MONDAY, now, POLICY, calendar=CAL) is office
    assert clock_rag(ClockKind.SCREENING, FRIDAY, MONDAY, now, CAL, POLICY) is office
    assert clock_rag(ClockKind.CP_DECISION, FRIDAY, MONDAY, now, CAL, POLICY) is real
    # The completion clocks count working days by default, or elapsed hours if the policy says so.
    assert clock_rag(ClockKind.COMPLETION_48H, FRIDAY, MONDAY, now, CAL, POLICY) is office
    assert clock_rag(ClockKind.COMPLETION_48H, FRIDAY, MONDAY, now, CAL, ELAPSED) is real


_RANK = {Rag.GREEN: 0, Rag.AMBER: 1, Rag.RED: 2}


@given(
    earlier=st.timedeltas(min_value=timedelta(hours=-2), max_value=timedelta(hours=4)),
    later_by=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=4)),
)
def test_rag_never_improves_as_time_passes(earlier: timedelta, later_by: timedelta) -> None:
    first = rag_status(START, DUE, START + earlier, POLICY)
    second = rag_status(START, DUE, START + earlier + later_by, POLICY)
    assert _RANK[second] >= _RANK[first]
