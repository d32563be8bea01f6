"""The weekly figures card's timing (SPEC §11) on the in-memory store, SQLite and PostgreSQL: due at
the opening of the week's first working day, once; late if the bot was down, until that day's
closing; the payload carries the figures the card shows."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from frontdoor.alerts import OutboxState
from frontdoor.figures import WeeklyFigures, weekly_figures
from frontdoor.installation import installed_at
from frontdoor.policy import calendar_from, default_policy
from frontdoor.unit_of_work import Store
from frontdoor.weekly_figures import post_due_weekly_figures, weekly_figures_at
from scheduler.bank_holidays import england_and_wales_holidays

LONDON = ZoneInfo("Europe/London")
POLICY = default_policy()
CALENDAR = calendar_from(POLICY, england_and_wales_holidays(range(2026, 2028)))


def local(day: date, h: int, mi: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, h, mi, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("day", "due"),
    [
        (date(2026, 11, 30), local(date(2026, 11, 30), 8, 30)),  # a Monday
        (date(2026, 12, 1), None),  # Tuesday of that week
        (date(2026, 8, 31), None),  # the summer bank holiday...
        (date(2026, 9, 1), local(date(2026, 9, 1), 8, 30)),  # ...so Tuesday
        (date(2027, 3, 29), None),  # Easter Monday 2027
        (date(2027, 3, 30), local(date(2027, 3, 30), 8, 30)),
        (date(2026, 12, 28), None),  # the Boxing Day substitute holiday: Monday 28 December 2026
        (date(2026, 12, 29), local(date(2026, 12, 29), 8, 30)),
        (date(2026, 12, 5), None),  # a Saturday
    ],
)
def test_the_day_and_time_of_the_weekly_card(day: date, due: datetime | None) -> None:
    assert weekly_figures_at(day, CALENDAR) == due


async def test_once_a_week_late_until_closing(store: Store) -> None:
    monday = date(2026, 11, 30)
    await installed_at(store.unit_of_work, local(monday - timedelta(days=21), 9))
    assert await post_due_weekly_figures(store.unit_of_work, local(monday, 8, 29), CALENDAR) is None
    posted = await post_due_weekly_figures(store.unit_of_work, local(monday, 12, 0), CALENDAR)
    assert posted is not None and (posted.week, posted.late) == (monday, True)
    assert await post_due_weekly_figures(store.unit_of_work, local(monday, 12, 1), CALENDAR) is None
    async with store.unit_of_work() as uow:
        assert (await uow.alerts.counts())[OutboxState.PENDING] == 1
        [item] = await uow.alerts.claim(local(monday, 12, 2), timedelta(minutes=1))
        expected = await weekly_figures(uow.figures, monday, local(monday, 12, 0), CALENDAR)
    assert WeeklyFigures.from_payload(item.payload) == expected
    assert json.loads(item.payload)["recipient"] == "channel:duty"
    # A week whose card was never sent by closing waits for the next week.
    other = date(2026, 12, 7)
    assert await post_due_weekly_figures(store.unit_of_work, local(other, 17, 0), CALENDAR) is None


async def test_a_service_first_started_this_week_posts_no_card_for_the_week_before(store: Store) -> None:
    monday = date(2026, 12, 7)
    await installed_at(store.unit_of_work, local(monday, 8, 20))
    assert await post_due_weekly_figures(store.unit_of_work, local(monday, 8, 35), CALENDAR) is None
    # A week later there is a week to report.
    posted = await post_due_weekly_figures(
        store.unit_of_work, local(monday + timedelta(days=7), 8, 35), CALENDAR
    )
    assert posted is not None and posted.week == monday + timedelta(days=7)


def test_a_payload_that_is_not_weekly_figures_is_refused() -> None:
    with pytest.raises(ValueError):
        WeeklyFigures.from_payload(
            json.dumps({"recipient": "channel:duty", "figures": {"week": "2026-11-30"}})
        )
