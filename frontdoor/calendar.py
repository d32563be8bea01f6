"""The working-day calendar of SPEC §4: office hours, working days and the arithmetic on them.

Working days are Monday to Friday except the non-working dates the calendar is given (bank
holidays of England and Wales and the service's closure dates, injected as ``date`` values so the
domain core needs no holiday library). Office hours include the opening minute and exclude the
closing one.

Every method takes and returns timezone-aware datetimes; results are in UTC. Working-day
arithmetic is done on local wall-clock time and converted back, so a working-day clock keeps its
wall-clock time across a clock change; elapsed-hour clocks are plain UTC arithmetic elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
DEFAULT_OPENING = time(8, 30)
DEFAULT_CLOSING = time(17, 0)

_ONE_DAY = timedelta(days=1)


def months_before(moment: datetime, months: int) -> datetime:
    """The same local wall-clock time ``months`` calendar months earlier (the day clamped to the
    month's length), in UTC."""
    local = moment.astimezone(LONDON)
    index = local.year * 12 + local.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    days_in_month = (date(year + month // 12, month % 12 + 1, 1) - date(year, month, 1)).days
    earlier = local.replace(year=year, month=month, day=min(local.day, days_in_month))
    return earlier.astimezone(UTC)


def require_aware(moment: datetime, name: str = "datetime") -> datetime:
    """Return ``moment`` if it is timezone-aware; a naive datetime would be read in whatever zone
    the server happens to run in, so it is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")
    return moment


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """Office hours and non-working dates of one service, in its local time zone."""

    opening: time = DEFAULT_OPENING
    closing: time = DEFAULT_CLOSING
    non_working_dates: frozenset[date] = field(default_factory=frozenset)
    tz: ZoneInfo = LONDON

    def __post_init__(self) -> None:
        if self.opening.tzinfo is not None or self.closing.tzinfo is not None:
            raise ValueError("office hours are local wall-clock times and must not carry a time zone")
        if self.opening >= self.closing:
            raise ValueError(
                f"office hours must open before they close, got {self.opening:%H:%M}-{self.closing:%H:%M}"
            )
        dates = frozenset(self.non_working_dates)
        # A datetime is a date subclass but never equal to one, so it would silently never match.
        if any(isinstance(day, datetime) or not isinstance(day, date) for day in dates):
            raise TypeError("non_working_dates must hold date values, not datetimes")
        object.__setattr__(self, "non_working_dates", dates)

    def with_non_working_dates(self, extra: Iterable[date]) -> WorkingCalendar:
        """A copy that also treats ``extra`` as non-working days."""
        return WorkingCalendar(self.opening, self.closing, self.non_working_dates | frozenset(extra), self.tz)

    # -- days -----------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """Monday to Friday and not a non-working date. A datetime is judged by its local date."""
        if isinstance(day, datetime):
            day = self._local(day).date()
        return day.weekday() < 5 and day not in self.non_working_dates

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day += _ONE_DAY
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before ``day``."""
        day -= _ONE_DAY
        while not self.is_working_day(day):
            day -= _ONE_DAY
        return day

    def opening_on(self, day: date) -> datetime:
        """The opening instant of ``day`` (whether or not it is a working day), in UTC."""
        return datetime.combine(day, self.opening, tzinfo=self.tz).astimezone(UTC)

    def closing_on(self, day: date) -> datetime:
        """The closing instant of ``day`` (whether or not it is a working day), in UTC."""
        return datetime.combine(day, self.closing, tzinfo=self.tz).astimezone(UTC)

    # -- instants -------------------------------------------------------------------------------

    def in_office_hours(self, moment: datetime) -> bool:
        local = self._local(moment)
        return self.is_working_day(local.date()) and self.opening <= local.time() < self.closing

    def next_opening(self, moment: datetime) -> datetime:
        """The first opening at or after ``moment``: the same day's opening if ``moment`` is not
        after it on a working day, else the opening of the next working day."""
        local = self._local(moment)
        day = local.date()
        if self.is_working_day(day) and local.time() <= self.opening:
            return self.opening_on(day)
        return self.opening_on(self.next_working_day(day))

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """``n`` working days after ``start`` (SPEC §4).

        Inside office hours the result is the same local wall-clock time ``n`` working days later;
        otherwise ``start`` first moves to the next opening and the days are counted from there.
        """
        if n < 0:
            raise ValueError(f"working days must not be negative, got {n}")
        local = self._local(start)
        if self.in_office_hours(start):
            day, wall_clock = local.date(), local.time()
        else:
            opening = self.next_opening(start).astimezone(self.tz)
            day, wall_clock = opening.date(), self.opening
        for _ in range(n):
            day = self.next_working_day(day)
        return datetime.combine(day, wall_clock, tzinfo=self.tz).astimezone(UTC)

    def end_of_working_day(self, moment: datetime) -> datetime:
        """That day's closing if ``moment`` is on a working day before closing (opening or not);
        after closing, or on a non-working day, the closing of the next working day."""
        local = self._local(moment)
        day = local.date()
        if self.is_working_day(day) and local.time() < self.closing:
            return self.closing_on(day)
        return self.closing_on(self.next_working_day(day))

    def office_time_between(self, start: datetime, end: datetime) -> timedelta:
        """How much office time (real elapsed time within office hours of working days) lies
        between two instants; zero if ``end`` is not after ``start``."""
        start_utc = self._utc(start)
        end_utc = self._utc(end)
        if end_utc <= start_utc:
            return timedelta(0)
        total = timedelta(0)
        day = start_utc.astimezone(self.tz).date()
        last = end_utc.astimezone(self.tz).date()
        while day <= last:
            if self.is_working_day(day):
                lo = max(start_utc, self.opening_on(day))
                hi = min(end_utc, self.closing_on(day))
                if hi > lo:
                    total += hi - lo
            day += _ONE_DAY
        return total

    def rewind_office_time(self, end: datetime, amount: timedelta) -> datetime:
        """The latest instant from which ``amount`` of office time runs until ``end``: the inverse
        of ``office_time_between`` going backwards. Used to place "due soon" on a working-day clock
        within office hours rather than overnight."""
        if amount < timedelta(0):
            raise ValueError("office time to rewind must not be negative")
        cursor = self._utc(end)
        if amount == timedelta(0):
            return cursor
        remaining = amount
        day = cursor.astimezone(self.tz).date()
        while True:
            if self.is_working_day(day):
                opening = self.opening_on(day)
                hi = min(cursor, self.closing_on(day))
                available = hi - opening
                if available > timedelta(0):
                    if available >= remaining:
                        return hi - remaining
                    remaining -= available
            day -= _ONE_DAY

    # -- helpers --------------------------------------------------------------------------------

    def _local(self, moment: datetime) -> datetime:
        return require_aware(moment).astimezone(self.tz)

    @staticmethod
    def _utc(moment: datetime) -> datetime:
        return require_aware(moment).astimezone(UTC)
