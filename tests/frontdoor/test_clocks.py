"""The clocks of SPEC §4: due times per clock, clock changes, and the "due soon" time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontdoor.calendar import WorkingCalendar
from frontdoor.clocks import CLOCK_UNITS, ClockRule, ClockUnit, clock_rule, clock_rules, due_at, due_soon_at
from frontdoor.policy import Policy, PolicyError, default_policy, parse_policy
from frontdoor.records import ClockKind
from tests.frontdoor.bank_holiday_dates import WEEKDAY_HOLIDAYS

LONDON = ZoneInfo("Europe/London")
POLICY = default_policy()
CAL = WorkingCalendar(non_working_dates=WEEKDAY_HOLIDAYS)
K = ClockKind


def ldt(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=LONDON)


def udt(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def with_policy(**changes: object) -> Policy:
    """The default policy with ``section__key=value`` changes."""
    policy = POLICY
    for name, value in changes.items():
        section, key = name.split("__")
        policy = replace(policy, **{section: replace(getattr(policy, section), **{key: value})})
    return policy


@pytest.mark.parametrize(
    ("kind", "unit", "amount"),
    [
        (K.SCREENING, ClockUnit.WORKING_DAYS, 1),
        (K.CP_DECISION, ClockUnit.HOURS, 2),
        (K.COMPLETION_24H, ClockUnit.WORKING_DAYS, 1),
        (K.COMPLETION_48H, ClockUnit.WORKING_DAYS, 2),
        (K.REREFERRAL_RECOMMENDATION, ClockUnit.HOURS, 48),
        (K.PARENT_LETTER, ClockUnit.WORKING_DAYS, 3),
        (K.CHALLENGE, ClockUnit.END_OF_WORKING_DAY, 0),
    ],
)
def test_default_rules_follow_the_spec_table(kind: ClockKind, unit: ClockUnit, amount: int) -> None:
    assert clock_rule(kind, POLICY) == ClockRule(kind, unit, amount)


def test_every_clock_kind_has_a_rule() -> None:
    assert set(CLOCK_UNITS) == set(ClockKind)
    assert set(clock_rules(POLICY)) == set(ClockKind)


MONDAY_10 = ldt(2026, 6, 8, 10)
FRIDAY_15 = ldt(2026, 6, 5, 15)


@pytest.mark.parametrize(
    ("kind", "start", "expected"),
    [
        (K.SCREENING, MONDAY_10, ldt(2026, 6, 9, 10)),
        (K.CP_DECISION, MONDAY_10, ldt(2026, 6, 8, 12)),
        (K.COMPLETION_24H, MONDAY_10, ldt(2026, 6, 9, 10)),
        (K.COMPLETION_48H, MONDAY_10, ldt(2026, 6, 10, 10)),
        (K.REREFERRAL_RECOMMENDATION, MONDAY_10, ldt(2026, 6, 10, 10)),
        (K.PARENT_LETTER, MONDAY_10, ldt(2026, 6, 11, 10)),
        (K.CHALLENGE, MONDAY_10, ldt(2026, 6, 8, 17)),
        (K.SCREENING, FRIDAY_15, ldt(2026, 6, 8, 15)),
        (K.CP_DECISION, ldt(2026, 6, 5, 23, 30), ldt(2026, 6, 6, 1, 30)),  # hour clocks run all night
        (K.COMPLETION_24H, FRIDAY_15, ldt(2026, 6, 8, 15)),  # completion: working days by default
        (K.COMPLETION_48H, FRIDAY_15, ldt(2026, 6, 9, 15)),
        (K.COMPLETION_24H, ldt(2026, 6, 5, 16, 55), ldt(2026, 6, 8, 16, 55)),  # SPEC §4's example
        (K.COMPLETION_48H, ldt(2026, 8, 28, 11), ldt(2026, 9, 2, 11)),  # over the August bank holiday
        (K.PARENT_LETTER, FRIDAY_15, ldt(2026, 6, 10, 15)),
        (K.CHALLENGE, FRIDAY_15, ldt(2026, 6, 5, 17)),
        (K.CHALLENGE, ldt(2026, 6, 5, 17, 30), ldt(2026, 6, 8, 17)),
        (K.SCREENING, ldt(2026, 6, 6, 11), ldt(2026, 6, 9, 8, 30)),  # received on a Saturday
        (K.PARENT_LETTER, ldt(2026, 8, 27, 11), ldt(2026, 9, 2, 11)),  # over the August bank holiday
        (K.SCREENING, udt(2026, 6, 8, 9), ldt(2026, 6, 9, 10)),  # UTC input
    ],
)
def test_due_at(kind: ClockKind, start: datetime, expected: datetime) -> None:
    due = due_at(kind, start, CAL, POLICY)
    assert due == expected
    assert due.tzinfo is UTC


@pytest.mark.parametrize(
    ("kind", "start", "real", "wall_clock"),
    [
        # 29 March 2026: clocks go forward at 01:00 GMT.
        (K.CP_DECISION, ldt(2026, 3, 29, 0, 30), timedelta(hours=2), timedelta(hours=3)),
        # 25 October 2026: clocks go back at 02:00 BST.
        (K.CP_DECISION, ldt(2026, 10, 25, 0, 30), timedelta(hours=2), timedelta(hours=1)),
        (K.CP_DECISION, ldt(2027, 3, 28, 0, 30), timedelta(hours=2), timedelta(hours=3)),
        (K.CP_DECISION, ldt(2027, 10, 31, 0, 30), timedelta(hours=2), timedelta(hours=1)),
        (K.COMPLETION_24H, ldt(2026, 3, 28, 12), timedelta(hours=24), timedelta(hours=25)),
        (K.COMPLETION_24H, ldt(2026, 10, 24, 12), timedelta(hours=24), timedelta(hours=23)),
        (K.COMPLETION_48H, ldt(2027, 10, 30, 9), timedelta(hours=48), timedelta(hours=47)),
    ],
)
def test_an_hour_clock_across_a_clock_change_is_real_hours(
    kind: ClockKind, start: datetime, real: timedelta, wall_clock: timedelta
) -> None:
    due = due_at(kind, start, CAL, HOURS)
    assert due - start == real
    local_due = due.astimezone(LONDON).replace(tzinfo=None)
    assert local_due - start.replace(tzinfo=None) == wall_clock


@pytest.mark.parametrize(
    ("kind", "start", "expected"),
    [
        (K.SCREENING, ldt(2026, 3, 27, 10), ldt(2026, 3, 30, 10)),
        (K.SCREENING, ldt(2026, 10, 23, 16, 45), ldt(2026, 10, 26, 16, 45)),
        (K.PARENT_LETTER, ldt(2027, 3, 25, 9), ldt(2027, 4, 1, 9)),  # Easter and the change
        (K.PARENT_LETTER, ldt(2027, 10, 28, 14), ldt(2027, 11, 2, 14)),
        (K.CHALLENGE, ldt(2026, 10, 24, 9), udt(2026, 10, 26, 17)),
    ],
)
def test_a_working_day_clock_across_a_clock_change_keeps_wall_clock_time(
    kind: ClockKind, start: datetime, expected: datetime
) -> None:
    assert due_at(kind, start, CAL, POLICY) == expected


HOURS = with_policy(timescales__completion_clock="hours")


@pytest.mark.parametrize(
    ("kind", "start", "expected"),
    [
        (K.COMPLETION_24H, FRIDAY_15, ldt(2026, 6, 6, 15)),  # elapsed hours run at weekends
        (K.COMPLETION_48H, FRIDAY_15, ldt(2026, 6, 7, 15)),
        (K.COMPLETION_24H, ldt(2026, 6, 5, 16, 55), ldt(2026, 6, 6, 16, 55)),
        (K.CP_DECISION, ldt(2026, 6, 5, 23, 30), ldt(2026, 6, 6, 1, 30)),
        (K.SCREENING, FRIDAY_15, ldt(2026, 6, 8, 15)),  # only the completion clocks change
    ],
)
def test_the_policy_may_count_completion_in_elapsed_hours(
    kind: ClockKind, start: datetime, expected: datetime
) -> None:
    assert due_at(kind, start, CAL, HOURS) == expected


def test_completion_hours_come_from_the_policy_in_either_count() -> None:
    days = with_policy(timescales__completion_48h_hours=72)
    assert clock_rule(K.COMPLETION_48H, days) == ClockRule(K.COMPLETION_48H, ClockUnit.WORKING_DAYS, 3)
    hours = replace(HOURS, timescales=replace(HOURS.timescales, completion_24h_hours=12))
    assert due_at(K.COMPLETION_24H, FRIDAY_15, CAL, hours) == ldt(2026, 6, 6, 3)


def test_completion_working_days_need_whole_days_of_hours() -> None:
    with pytest.raises(PolicyError, match="multiple of 24"):
        parse_policy("[timescales]\ncompletion_24h_hours = 30\n")
    with pytest.raises(PolicyError, match="working_days"):
        parse_policy('[timescales]\ncompletion_clock = "weekdays"\n')
    assert parse_policy('[timescales]\ncompletion_clock = "hours"\ncompletion_24h_hours = 30\n')


def test_timescales_come_from_the_policy() -> None:
    policy = with_policy(timescales__screening_working_days=2, timescales__cp_decision_hours=1)
    assert due_at(K.SCREENING, MONDAY_10, CAL, policy) == ldt(2026, 6, 10, 10)
    assert due_at(K.CP_DECISION, MONDAY_10, CAL, policy) == ldt(2026, 6, 8, 11)


@pytest.mark.parametrize(
    ("unit", "amount"),
    [
        (ClockUnit.HOURS, 0),
        (ClockUnit.WORKING_DAYS, -1),
        (ClockUnit.END_OF_WORKING_DAY, 1),
    ],
)
def test_clock_rules_refuse_nonsense_amounts(unit: ClockUnit, amount: int) -> None:
    with pytest.raises(ValueError):
        ClockRule(K.SCREENING, unit, amount)


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due_at(K.CP_DECISION, datetime(2026, 6, 8, 10), CAL, POLICY)


# -- due soon ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "start", "policy", "expected"),
    [
        pytest.param(K.CP_DECISION, MONDAY_10, POLICY, ldt(2026, 6, 8, 11, 30), id="cp-quarter"),
        pytest.param(
            K.CP_DECISION,
            MONDAY_10,
            with_policy(alerts__due_soon_min_lead_minutes=45),
            ldt(2026, 6, 8, 11, 15),
            id="cp-minimum-lead-wins",
        ),
        # Hour clocks count real time: a quarter of 24 hours before is 04:00.
        pytest.param(K.COMPLETION_24H, MONDAY_10, HOURS, ldt(2026, 6, 9, 4), id="24h-real-time"),
        # Counted as a working day, a quarter of the office day before (as for screening).
        pytest.param(K.COMPLETION_24H, MONDAY_10, POLICY, ldt(2026, 6, 8, 16, 22, 30), id="24h-office-time"),
        # 1 working day is 8h30 of office time; a quarter of it (2h07m30s) before Tuesday 10:00
        # reaches back past Tuesday's opening into Monday afternoon.
        pytest.param(K.SCREENING, MONDAY_10, POLICY, ldt(2026, 6, 8, 16, 22, 30), id="screening-office-time"),
        pytest.param(
            K.SCREENING, ldt(2026, 6, 6, 11), POLICY, ldt(2026, 6, 8, 14, 52, 30), id="screening-weekend"
        ),
        pytest.param(K.PARENT_LETTER, MONDAY_10, POLICY, ldt(2026, 6, 10, 12, 7, 30), id="letter"),
        pytest.param(K.CHALLENGE, ldt(2026, 6, 8, 9), POLICY, ldt(2026, 6, 8, 15), id="challenge"),
        # Ten minutes to the end of the day: due soon at once, not before the clock started.
        pytest.param(K.CHALLENGE, ldt(2026, 6, 8, 16, 50), POLICY, ldt(2026, 6, 8, 16, 50), id="short"),
        pytest.param(K.CHALLENGE, ldt(2026, 6, 8, 16, 30), POLICY, ldt(2026, 6, 8, 16, 45), id="min-lead"),
    ],
)
def test_due_soon_at(kind: ClockKind, start: datetime, policy: Policy, expected: datetime) -> None:
    due = due_at(kind, start, CAL, policy)
    assert due_soon_at(kind, start, due, CAL, policy) == expected


# -- properties ----------------------------------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 1), timezones=st.sampled_from([UTC, LONDON])
)
kinds = st.sampled_from(list(ClockKind))
working_day_kinds = st.sampled_from([k for k, unit in CLOCK_UNITS.items() if unit is ClockUnit.WORKING_DAYS])


@given(kind=kinds, start=moments)
def test_due_is_never_before_start(kind: ClockKind, start: datetime) -> None:
    assert due_at(kind, start, CAL, POLICY) > start


@given(kind=working_day_kinds, start=moments)
def test_a_working_day_due_time_is_on_a_working_day_in_office_hours(kind: ClockKind, start: datetime) -> None:
    due = due_at(kind, start, CAL, POLICY)
    assert CAL.is_working_day(due.astimezone(LONDON).date())
    assert CAL.in_office_hours(due)


@given(kind=kinds, start=moments)
def test_due_soon_lies_between_start_and_due(kind: ClockKind, start: datetime) -> None:
    due = due_at(kind, start, CAL, POLICY)
    soon = due_soon_at(kind, start, due, CAL, POLICY)
    assert start <= soon < due
    if due - start >= POLICY.alerts.due_soon_min_lead:
        assert soon <= due - POLICY.alerts.due_soon_min_lead
