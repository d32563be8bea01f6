"""England and Wales bank holidays from the ``holidays`` library, checked against GOV.UK."""

from __future__ import annotations

from datetime import date

import pytest

from scheduler.bank_holidays import england_and_wales_holidays, holiday_years
from tests.frontdoor.bank_holiday_dates import WEEKDAY_HOLIDAYS, WEEKEND_HOLIDAYS_2026_2028


def test_2026_to_2028_match_gov_uk() -> None:
    found = england_and_wales_holidays(range(2026, 2029))
    assert found == WEEKDAY_HOLIDAYS | WEEKEND_HOLIDAYS_2026_2028


@pytest.mark.parametrize(
    "substitute", [date(2026, 12, 28), date(2027, 12, 27), date(2027, 12, 28), date(2028, 1, 3)], ids=str
)
def test_substitute_days_are_included(substitute: date) -> None:
    assert substitute in england_and_wales_holidays([substitute.year])


@pytest.mark.parametrize(
    "elsewhere",
    [
        date(2026, 1, 2),  # Scotland: 2nd January
        date(2026, 8, 3),  # Scotland: summer bank holiday
        date(2026, 11, 30),  # Scotland: St Andrew's Day
        date(2026, 3, 17),  # Northern Ireland: St Patrick's Day
        date(2026, 7, 13),  # Northern Ireland: Battle of the Boyne (substitute)
    ],
    ids=str,
)
def test_holidays_of_scotland_and_northern_ireland_are_not_included(elsewhere: date) -> None:
    assert elsewhere not in england_and_wales_holidays([2026])


def test_only_the_years_asked_for() -> None:
    found = england_and_wales_holidays([2027])
    assert {day.year for day in found} == {2027}
    assert date(2028, 1, 3) not in found
    assert len(found) == 10


def test_no_years_no_holidays() -> None:
    assert england_and_wales_holidays([]) == frozenset()


def test_holiday_years_cover_last_year_to_two_ahead() -> None:
    assert list(holiday_years(date(2026, 6, 1))) == [2025, 2026, 2027, 2028]
    assert list(holiday_years(date(2026, 6, 1), ahead=0)) == [2025, 2026]
