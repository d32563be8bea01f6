"""Showing times to people: stored in UTC, shown in Europe/London (SPEC §4)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from frontdoor.calendar import LONDON, require_aware


def to_local(moment: datetime, tz: ZoneInfo = LONDON) -> datetime:
    return require_aware(moment).astimezone(tz)


def format_local(moment: datetime, tz: ZoneInfo = LONDON) -> str:
    """E.g. ``Mon 30 Mar 2026 14:05``; the day name helps across weekends and bank holidays."""
    local = to_local(moment, tz)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}"


def format_time_on(moment: datetime, tz: ZoneInfo = LONDON) -> str:
    """E.g. ``17:00 on Mon 7 Dec``, for a time in a sentence ("until 17:00 on Mon 7 Dec"): the
    day written as ``format_local`` writes it."""
    local = to_local(moment, tz)
    return f"{local:%H:%M} on {local:%a} {local.day} {local:%b}"


def format_duration(delta: timedelta) -> str:
    """A span as people say it, to the minute: ``2 days 3 h``, ``1 h 5 min``, ``under a minute``.

    The sign is dropped; say "overdue by" or "due in" around it.
    """
    minutes = int(abs(delta).total_seconds() // 60)
    if minutes == 0:
        return "under a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        day_text = f"{days} day" if days == 1 else f"{days} days"
        return f"{day_text} {hours} h" if hours else day_text
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


def format_due(due: datetime, now: datetime) -> str:
    """``due in 1 h 5 min`` or ``overdue by 20 min``."""
    left = require_aware(due, "due time") - require_aware(now, "now")
    if left > timedelta(0):
        return f"due in {format_duration(left)}"
    return f"overdue by {format_duration(left)}"
