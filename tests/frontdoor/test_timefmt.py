"""Times shown to people are in Europe/London, whatever they were stored in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from frontdoor.timefmt import format_due, format_duration, format_local, format_time_on, to_local


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 3, 30, 13, 5, tzinfo=UTC), "Mon 30 Mar 2026 14:05"),  # BST
        (datetime(2026, 1, 5, 13, 5, tzinfo=UTC), "Mon 5 Jan 2026 13:05"),  # GMT
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "Sun 25 Oct 2026 01:30"),  # the first 01:30
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "Sun 25 Oct 2026 01:30"),  # and the second
    ],
)
def test_format_local(moment: datetime, expected: str) -> None:
    assert format_local(moment) == expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 12, 7, 13, 34, tzinfo=UTC), "13:34 on Mon 7 Dec"),  # the day as format_local has it
        (datetime(2026, 3, 30, 16, 0, tzinfo=UTC), "17:00 on Mon 30 Mar"),  # BST
    ],
)
def test_format_time_on(moment: datetime, expected: str) -> None:
    assert format_time_on(moment) == expected
    assert format_local(moment).startswith(expected.split(" on ")[1])


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=59), "under a minute"),
        (timedelta(minutes=1), "1 min"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(hours=1), "1 h"),
        (timedelta(hours=2, minutes=5), "2 h 5 min"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=2, hours=3, minutes=59), "2 days 3 h"),
        (timedelta(minutes=-20), "20 min"),
    ],
)
def test_format_duration(delta: timedelta, expected: str) -> None:
    assert format_duration(delta) == expected


def test_format_due() -> None:
    now = datetime(2026, 6, 8, 9, 0, tzinfo=UTC)
    assert format_due(now + timedelta(hours=1, minutes=5), now) == "due in 1 h 5 min"
    assert format_due(now - timedelta(minutes=20), now) == "overdue by 20 min"
    assert format_due(now, now) == "overdue by under a minute"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        to_local(datetime(2026, 6, 8, 9, 0))
