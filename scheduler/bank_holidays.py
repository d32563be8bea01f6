"""Bank holidays of England and Wales, from the maintained ``holidays`` library.

The domain calendar takes non-working days as plain dates; this is the one place that knows where
they come from. England and Wales share their bank holidays, so the England subdivision serves
both; substitute days (a holiday falling at a weekend moves to the next weekday) are included.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import holidays


def england_and_wales_holidays(years: Iterable[int]) -> frozenset[date]:
    """Every bank holiday of England and Wales in ``years``, substitute days included."""
    wanted = sorted(set(years))
    if not wanted:
        return frozenset()
    found = holidays.country_holidays("GB", subdiv="ENG", years=wanted)
    return frozenset(day for day in found if day.year in wanted)


def holiday_years(today: date, ahead: int = 2) -> range:
    """The years a running service needs: last year (for clocks started before New Year) to
    ``ahead`` years on (for due times and handovers near the year's end)."""
    return range(today.year - 1, today.year + ahead + 1)
