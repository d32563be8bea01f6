"""The weekly figures card (SPEC §11): at opening on Monday, the duty channel gets last week's
timeliness and volumes against the week before's.

On a week whose Monday is a bank holiday or a closure date, the card goes at the opening of the
week's first working day instead; a week with no working day gets none. It is enqueued exactly once
per week: its outbox key is the week's Monday (and its due time), so however many scheduler runs
and processes see it due, one row is added and the alert dispatcher sends it. A bot that was down
at the opening sends it, marked late, until that day's closing; after that it waits for the next
week. The figures are counted when the card is enqueued and travel in the row's payload, so the
card shows what was true at the opening.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from frontdoor.alerts import DUTY_CHANNEL, AlertKey, AlertKind, OutboxMessage, is_late, outbox_key, utc_text
from frontdoor.calendar import WorkingCalendar, require_aware
from frontdoor.figures import week_start, weekly_figures
from frontdoor.installation import installed_at
from frontdoor.unit_of_work import UnitOfWorkFactory

__all__ = ["WeeklyPosted", "post_due_weekly_figures", "weekly_figures_at", "weekly_figures_key"]

_SUBJECT = "figures:"


def _first_working_day(week: date, calendar: WorkingCalendar) -> date | None:
    days = (week + timedelta(days=offset) for offset in range(7))
    return next((day for day in days if calendar.is_working_day(day)), None)


def weekly_figures_at(day: date, calendar: WorkingCalendar) -> datetime | None:
    """When the weekly card goes out if ``day`` is its day (the opening of the first working day
    of ``day``'s week); None on any other day."""
    if _first_working_day(week_start(day), calendar) != day:
        return None
    return calendar.opening_on(day)


def weekly_figures_key(week: date, due: datetime) -> AlertKey:
    """The outbox key of the week starting on Monday ``week`` (one card a week)."""
    return AlertKey(f"{_SUBJECT}{week.isoformat()}", None, AlertKind.WEEKLY_FIGURES, 0, due)


@dataclass(frozen=True, slots=True)
class WeeklyPosted:
    week: date
    late: bool


async def post_due_weekly_figures(
    unit_of_work: UnitOfWorkFactory, now: datetime, calendar: WorkingCalendar
) -> WeeklyPosted | None:
    """Enqueue this week's figures card if it is due and not enqueued yet (the scheduler's job)."""
    day = require_aware(now, "now").astimezone(calendar.tz).date()
    due = weekly_figures_at(day, calendar)
    if due is None or not due <= now < calendar.closing_on(day):
        return None
    week = week_start(day)
    # The card reports the week before this one: a service that first started this week has none.
    if await installed_at(unit_of_work, now) >= datetime.combine(week, time(), calendar.tz):
        return None
    key = weekly_figures_key(week, due)
    async with unit_of_work() as uow:
        if key in await uow.alerts.planned([key.subject]):
            return None
        figures = await weekly_figures(uow.figures, week, now, calendar)
        body = {
            "alert": key.text,
            "subject": key.subject,
            "kind": key.kind.value,
            "at": utc_text(due),
            "figures": figures.body(),
        }
        message = OutboxMessage.create(outbox_key(key, DUTY_CHANNEL), key, DUTY_CHANNEL, due, body)
        added = await uow.alerts.enqueue([message], now)
        await uow.commit()
    return WeeklyPosted(week, is_late(due, now)) if added else None
