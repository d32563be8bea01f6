"""The bank holidays of England and Wales 2026-2028, written out by hand from GOV.UK so the domain
tests do not depend on the holiday library (the scheduler tests check the library against this)."""

from __future__ import annotations

from datetime import date

BANK_HOLIDAYS_2026_2028: dict[date, str] = {
    date(2026, 1, 1): "New Year's Day",
    date(2026, 4, 3): "Good Friday",
    date(2026, 4, 6): "Easter Monday",
    date(2026, 5, 4): "Early May bank holiday",
    date(2026, 5, 25): "Spring bank holiday",
    date(2026, 8, 31): "Summer bank holiday",
    date(2026, 12, 25): "Christmas Day",
    date(2026, 12, 28): "Boxing Day (substitute day)",
    date(2027, 1, 1): "New Year's Day",
    date(2027, 3, 26): "Good Friday",
    date(2027, 3, 29): "Easter Monday",
    date(2027, 5, 3): "Early May bank holiday",
    date(2027, 5, 31): "Spring bank holiday",
    date(2027, 8, 30): "Summer bank holiday",
    date(2027, 12, 27): "Christmas Day (substitute day)",
    date(2027, 12, 28): "Boxing Day (substitute day)",
    date(2028, 1, 3): "New Year's Day (substitute day)",
    date(2028, 4, 14): "Good Friday",
    date(2028, 4, 17): "Easter Monday",
    date(2028, 5, 1): "Early May bank holiday",
    date(2028, 5, 29): "Spring bank holiday",
    date(2028, 8, 28): "Summer bank holiday",
    date(2028, 12, 25): "Christmas Day",
    date(2028, 12, 26): "Boxing Day",
}

#: Holidays that fall at a weekend: the library lists them, but they are weekend days anyway.
WEEKEND_HOLIDAYS_2026_2028: frozenset[date] = frozenset(
    {date(2026, 12, 26), date(2027, 12, 25), date(2027, 12, 26), date(2028, 1, 1)}
)

WEEKDAY_HOLIDAYS: frozenset[date] = frozenset(BANK_HOLIDAYS_2026_2028)
