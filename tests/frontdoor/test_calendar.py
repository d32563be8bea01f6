"""The working-day calendar of SPEC §4: working days, office hours and the arithmetic on them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontdoor.calendar import WorkingCalendar
from tests.frontdoor.bank_holiday_dates import BANK_HOLIDAYS_2026_2028, WEEKDAY_HOLIDAYS

LONDON = ZoneInfo("Europe/London")
CAL = WorkingCalendar(non_working_dates=WEEKDAY_HOLIDAYS)


def ldt(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=LONDON)


def udt(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def _is_weekday_not_holiday(day: date) -> bool:
    return day.weekday() < 5 and day not in WEEKDAY_HOLIDAYS


# -- working days ----------------------------------------------------------------------------------


@pytest.mark.parametrize("day", sorted(BANK_HOLIDAYS_2026_2028), ids=str)
def test_every_bank_holiday_is_not_a_working_day(day: date) -> None:
    assert day.weekday() < 5, "the table lists only holidays that fall on weekdays"
    assert not CAL.is_working_day(day)
    assert WorkingCalendar().is_working_day(day), "without the holiday it would be a working day"


@pytest.mark.parametrize("day", sorted(BANK_HOLIDAYS_2026_2028), ids=str)
def test_a_working_day_clock_skips_every_bank_holiday(day: date) -> None:
    before = day - timedelta(days=1)
    while not _is_weekday_not_holiday(before):
        before -= timedelta(days=1)
    after = day + timedelta(days=1)
    while not _is_weekday_not_holiday(after):
        after += timedelta(days=1)

    due = CAL.add_working_days(ldt(before.year, before.month, before.day, 10, 0), 1)

    assert due.astimezone(LONDON) == ldt(after.year, after.month, after.day, 10, 0)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 6, 8), True),  # Monday
        (date(2026, 6, 12), True),  # Friday
        (date(2026, 6, 13), False),  # Saturday
        (date(2026, 6, 14), False),  # Sunday
        (date(2026, 12, 26), False),  # Boxing Day on a Saturday
        (date(2026, 12, 29), True),  # the Tuesday after the substitute day
    ],
)
def test_is_working_day(day: date, working: bool) -> None:
    assert CAL.is_working_day(day) is working


def test_is_working_day_judges_a_datetime_by_its_local_date() -> None:
    # 23:30 UTC on Friday 5 June is 00:30 on Saturday in London.
    assert not CAL.is_working_day(udt(2026, 6, 5, 23, 30))
    assert CAL.is_working_day(udt(2026, 6, 5, 22, 30))


def test_closure_dates_are_not_working_days() -> None:
    closed = CAL.with_non_working_dates({date(2026, 12, 24)})
    assert not closed.is_working_day(date(2026, 12, 24))
    assert CAL.is_working_day(date(2026, 12, 24))
    # Wednesday 23 Dec + 1: Christmas Eve closure, Christmas, weekend, Boxing Day substitute.
    assert closed.add_working_days(ldt(2026, 12, 23, 10), 1) == ldt(2026, 12, 29, 10)
    assert CAL.add_working_days(ldt(2026, 12, 23, 10), 1) == ldt(2026, 12, 24, 10)


# -- office hours ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (ldt(2026, 6, 8, 8, 29, 59), False),
        (ldt(2026, 6, 8, 8, 30), True),  # the opening minute is in
        (ldt(2026, 6, 8, 12, 0), True),
        (ldt(2026, 6, 8, 16, 59, 59, 999_999), True),
        (ldt(2026, 6, 8, 17, 0), False),  # the closing minute is out
        (ldt(2026, 6, 13, 10, 0), False),  # Saturday
        (ldt(2026, 12, 28, 10, 0), False),  # substitute bank holiday
        (udt(2026, 6, 8, 7, 30), True),  # 08:30 BST
        (udt(2026, 6, 8, 16, 0), False),  # 17:00 BST
        (udt(2026, 1, 12, 8, 0), False),  # 08:00 GMT
        (udt(2026, 1, 12, 16, 59), True),  # 16:59 GMT
    ],
)
def test_in_office_hours(moment: datetime, inside: bool) -> None:
    assert CAL.in_office_hours(moment) is inside


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (ldt(2026, 6, 8, 7, 0), ldt(2026, 6, 8, 8, 30)),  # before opening: same day
        (ldt(2026, 6, 8, 8, 30), ldt(2026, 6, 8, 8, 30)),  # opening now
        (ldt(2026, 6, 8, 10, 0), ldt(2026, 6, 9, 8, 30)),
        (ldt(2026, 6, 8, 17, 0), ldt(2026, 6, 9, 8, 30)),
        (ldt(2026, 6, 12, 18, 0), ldt(2026, 6, 15, 8, 30)),  # Friday evening
        (ldt(2026, 6, 13, 9, 0), ldt(2026, 6, 15, 8, 30)),  # Saturday
        (ldt(2026, 4, 2, 17, 30), ldt(2026, 4, 7, 8, 30)),  # Easter
        (udt(2026, 6, 8, 7, 0), ldt(2026, 6, 8, 8, 30)),  # 08:00 BST
    ],
)
def test_next_opening(moment: datetime, expected: datetime) -> None:
    result = CAL.next_opening(moment)
    assert result == expected
    assert result.tzinfo is UTC


# -- adding working days -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        pytest.param(ldt(2026, 6, 5, 16, 59), 1, ldt(2026, 6, 8, 16, 59), id="friday-16:59"),
        pytest.param(ldt(2026, 6, 5, 16, 59, 59), 1, ldt(2026, 6, 8, 16, 59, 59), id="friday-16:59:59"),
        pytest.param(ldt(2026, 6, 5, 17, 0), 1, ldt(2026, 6, 9, 8, 30), id="friday-17:00"),
        pytest.param(ldt(2026, 6, 6, 12, 0), 1, ldt(2026, 6, 9, 8, 30), id="saturday"),
        pytest.param(ldt(2026, 6, 7, 23, 59), 1, ldt(2026, 6, 9, 8, 30), id="sunday-night"),
        pytest.param(ldt(2026, 6, 8, 0, 0), 1, ldt(2026, 6, 9, 8, 30), id="monday-midnight"),
        pytest.param(ldt(2026, 6, 8, 7, 0), 1, ldt(2026, 6, 9, 8, 30), id="before-opening"),
        pytest.param(ldt(2026, 6, 8, 8, 29, 59), 1, ldt(2026, 6, 9, 8, 30), id="08:29:59"),
        pytest.param(ldt(2026, 6, 8, 8, 30), 1, ldt(2026, 6, 9, 8, 30), id="exactly-08:30"),
        pytest.param(ldt(2026, 6, 8, 17, 0), 1, ldt(2026, 6, 10, 8, 30), id="exactly-17:00"),
        pytest.param(ldt(2026, 6, 8, 23, 59), 1, ldt(2026, 6, 10, 8, 30), id="after-closing"),
        pytest.param(ldt(2026, 6, 10, 10, 15), 3, ldt(2026, 6, 15, 10, 15), id="wednesday+3"),
        pytest.param(ldt(2026, 6, 10, 10, 15), 0, ldt(2026, 6, 10, 10, 15), id="zero-in-hours"),
        pytest.param(ldt(2026, 6, 6, 10, 15), 0, ldt(2026, 6, 8, 8, 30), id="zero-at-weekend"),
        pytest.param(udt(2026, 6, 8, 7, 30), 1, udt(2026, 6, 9, 7, 30), id="utc-08:30-bst"),
        pytest.param(udt(2026, 6, 8, 16, 0), 1, udt(2026, 6, 10, 7, 30), id="utc-17:00-bst"),
        pytest.param(udt(2026, 1, 12, 16, 59), 1, udt(2026, 1, 13, 16, 59), id="utc-16:59-gmt"),
        pytest.param(ldt(2026, 4, 2, 10), 1, ldt(2026, 4, 7, 10), id="easter-2026"),
        pytest.param(ldt(2026, 12, 24, 10), 1, ldt(2026, 12, 29, 10), id="christmas-2026"),
        pytest.param(ldt(2027, 12, 24, 10), 1, ldt(2027, 12, 29, 10), id="christmas-2027"),
        pytest.param(ldt(2027, 12, 31, 10), 1, ldt(2028, 1, 4, 10), id="new-year-2028"),
    ],
)
def test_add_working_days(start: datetime, n: int, expected: datetime) -> None:
    result = CAL.add_working_days(start, n)
    assert result == expected
    assert result.tzinfo is UTC


def test_add_working_days_refuses_a_negative_count() -> None:
    with pytest.raises(ValueError, match="negative"):
        CAL.add_working_days(ldt(2026, 6, 8, 10), -1)


# -- end of the working day ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        pytest.param(ldt(2026, 6, 8, 10, 0), ldt(2026, 6, 8, 17, 0), id="in-hours"),
        pytest.param(ldt(2026, 6, 8, 7, 0), ldt(2026, 6, 8, 17, 0), id="before-opening"),
        pytest.param(ldt(2026, 6, 8, 8, 30), ldt(2026, 6, 8, 17, 0), id="exactly-08:30"),
        pytest.param(ldt(2026, 6, 8, 16, 59, 59), ldt(2026, 6, 8, 17, 0), id="16:59:59"),
        pytest.param(ldt(2026, 6, 8, 17, 0), ldt(2026, 6, 9, 17, 0), id="exactly-17:00"),
        pytest.param(ldt(2026, 6, 8, 22, 0), ldt(2026, 6, 9, 17, 0), id="after-closing"),
        pytest.param(ldt(2026, 6, 12, 17, 30), ldt(2026, 6, 15, 17, 0), id="friday-evening"),
        pytest.param(ldt(2026, 6, 13, 10, 0), ldt(2026, 6, 15, 17, 0), id="saturday"),
        pytest.param(ldt(2026, 8, 31, 10, 0), ldt(2026, 9, 1, 17, 0), id="bank-holiday"),
        pytest.param(ldt(2026, 12, 24, 17, 30), ldt(2026, 12, 29, 17, 0), id="christmas-eve-evening"),
        pytest.param(ldt(2026, 10, 24, 12, 0), udt(2026, 10, 26, 17, 0), id="across-october-change"),
        pytest.param(ldt(2026, 3, 28, 12, 0), udt(2026, 3, 30, 16, 0), id="across-march-change"),
    ],
)
def test_end_of_working_day(moment: datetime, expected: datetime) -> None:
    assert CAL.end_of_working_day(moment) == expected


# -- clock changes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected", "real_hours"),
    [
        pytest.param(ldt(2026, 3, 27, 10), ldt(2026, 3, 30, 10), 71, id="march-2026"),
        pytest.param(ldt(2026, 10, 23, 10), ldt(2026, 10, 26, 10), 73, id="october-2026"),
        # Thursday before Good Friday 2027, which is also the clock-change weekend.
        pytest.param(ldt(2027, 3, 25, 10), ldt(2027, 3, 30, 10), 5 * 24 - 1, id="march-2027-easter"),
        pytest.param(ldt(2027, 10, 29, 10), ldt(2027, 11, 1, 10), 73, id="october-2027"),
    ],
)
def test_a_working_day_keeps_its_wall_clock_time_across_a_clock_change(
    start: datetime, expected: datetime, real_hours: int
) -> None:
    due = CAL.add_working_days(start, 1)
    assert due.astimezone(LONDON).time() == time(10, 0)
    assert due == expected
    assert due - start == timedelta(hours=real_hours)


def test_a_start_on_the_clock_change_night_moves_to_the_next_opening() -> None:
    # 01:30 UTC on 29 March 2026 is 02:30 BST, a Sunday.
    assert CAL.add_working_days(udt(2026, 3, 29, 1, 30), 1) == ldt(2026, 3, 31, 8, 30)
    assert CAL.next_opening(udt(2026, 10, 25, 1, 30)) == udt(2026, 10, 26, 8, 30)


# -- office time -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (ldt(2026, 6, 8, 10), ldt(2026, 6, 8, 12), timedelta(hours=2)),
        (ldt(2026, 6, 8, 10), ldt(2026, 6, 9, 10), timedelta(hours=8, minutes=30)),
        (ldt(2026, 6, 5, 16), ldt(2026, 6, 8, 9), timedelta(hours=1, minutes=30)),  # over a weekend
        (ldt(2026, 6, 6, 10), ldt(2026, 6, 7, 10), timedelta(0)),  # all weekend
        (ldt(2026, 6, 8, 12), ldt(2026, 6, 8, 10), timedelta(0)),  # backwards
        (ldt(2026, 3, 27, 10), ldt(2026, 3, 30, 10), timedelta(hours=8, minutes=30)),  # clock change
    ],
)
def test_office_time_between(start: datetime, end: datetime, expected: timedelta) -> None:
    assert CAL.office_time_between(start, end) == expected


@pytest.mark.parametrize(
    ("end", "amount", "expected"),
    [
        (ldt(2026, 6, 8, 12), timedelta(hours=1), ldt(2026, 6, 8, 11)),
        (ldt(2026, 6, 9, 10), timedelta(hours=2), ldt(2026, 6, 8, 16, 30)),
        (ldt(2026, 6, 8, 9), timedelta(hours=1), ldt(2026, 6, 5, 16, 30)),  # back over a weekend
        (ldt(2026, 6, 8, 20), timedelta(hours=1), ldt(2026, 6, 8, 16)),  # from after closing
        (ldt(2026, 6, 8, 20), timedelta(0), ldt(2026, 6, 8, 20)),
    ],
)
def test_rewind_office_time(end: datetime, amount: timedelta, expected: datetime) -> None:
    assert CAL.rewind_office_time(end, amount) == expected


# -- refusals ------------------------------------------------------------------------------------------

NAIVE = datetime(2026, 6, 8, 10, 0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: CAL.in_office_hours(NAIVE),
        lambda: CAL.next_opening(NAIVE),
        lambda: CAL.add_working_days(NAIVE, 1),
        lambda: CAL.end_of_working_day(NAIVE),
        lambda: CAL.is_working_day(NAIVE),
        lambda: CAL.office_time_between(NAIVE, ldt(2026, 6, 9)),
        lambda: CAL.rewind_office_time(NAIVE, timedelta(hours=1)),
    ],
    ids=["in_office_hours", "next_opening", "add", "end_of_day", "is_working_day", "office_time", "rewind"],
)
def test_naive_datetimes_are_refused(call: object) -> None:
    assert callable(call)
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


def test_office_hours_must_open_before_they_close() -> None:
    with pytest.raises(ValueError, match="open before"):
        WorkingCalendar(opening=time(17, 0), closing=time(8, 30))
    with pytest.raises(ValueError, match="open before"):
        WorkingCalendar(opening=time(9, 0), closing=time(9, 0))


def test_non_working_dates_must_be_dates() -> None:
    with pytest.raises(TypeError, match="date values"):
        WorkingCalendar(non_working_dates=frozenset({datetime(2026, 12, 24, tzinfo=UTC)}))


def test_other_office_hours() -> None:
    cal = WorkingCalendar(opening=time(9, 0), closing=time(17, 30))
    assert not cal.in_office_hours(ldt(2026, 6, 8, 8, 45))
    assert cal.in_office_hours(ldt(2026, 6, 8, 17, 15))
    assert cal.add_working_days(ldt(2026, 6, 8, 17, 30), 1) == ldt(2026, 6, 10, 9, 0)
    assert cal.end_of_working_day(ldt(2026, 6, 8, 8)) == ldt(2026, 6, 8, 17, 30)


# -- properties ----------------------------------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 1), timezones=st.sampled_from([UTC, LONDON])
)


@given(start=moments, n=st.integers(min_value=0, max_value=15))
def test_add_working_days_lands_on_a_working_day_in_office_hours(start: datetime, n: int) -> None:
    due = CAL.add_working_days(start, n)
    assert due >= start
    assert CAL.in_office_hours(due)
    if CAL.in_office_hours(start):
        assert due.astimezone(LONDON).time() == start.astimezone(LONDON).time()
    else:
        assert due.astimezone(LONDON).time() == time(8, 30)


@given(start=moments, n=st.integers(min_value=1, max_value=15))
def test_n_working_days_are_n_days_of_office_time(start: datetime, n: int) -> None:
    due = CAL.add_working_days(start, n)
    assert CAL.office_time_between(start, due) == n * timedelta(hours=8, minutes=30)


@given(moment=moments)
def test_end_of_working_day_is_a_closing_time_after_the_moment(moment: datetime) -> None:
    end = CAL.end_of_working_day(moment)
    local = end.astimezone(LONDON)
    assert end > moment
    assert local.time() == time(17, 0)
    assert CAL.is_working_day(local.date())
    # It is the first working-day closing after the moment: the one before has already passed.
    assert CAL.closing_on(CAL.previous_working_day(local.date())) <= moment


@given(moment=moments)
def test_next_opening_is_the_first_opening_at_or_after(moment: datetime) -> None:
    opening = CAL.next_opening(moment)
    assert opening >= moment
    assert CAL.in_office_hours(opening)
    local = opening.astimezone(LONDON)
    assert local.time() == time(8, 30)
    assert CAL.opening_on(CAL.previous_working_day(local.date())) < moment
    assert CAL.office_time_between(moment, opening) <= timedelta(hours=8, minutes=30)


@given(
    start=moments,
    end_offset=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10)),
    share=st.floats(min_value=0, max_value=1),
)
def test_rewind_undoes_office_time(start: datetime, end_offset: timedelta, share: float) -> None:
    end = start + end_offset
    window = CAL.office_time_between(start, end)
    amount = window * share
    back = CAL.rewind_office_time(end, amount)
    assert back <= end
    assert CAL.office_time_between(back, end) == amount
