"""Red / amber / green status of a clock, for queues, "my work" and the handover.

Red: breached (the due time has come) or less than ``rag.red_fraction`` of the window left;
amber: less than ``rag.amber_fraction`` left; green otherwise. "Less than" is strict, so exactly a
tenth left is amber and exactly a quarter left is green.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from frontdoor.calendar import WorkingCalendar, require_aware
from frontdoor.clocks import clock_rule
from frontdoor.policy import Policy
from frontdoor.records import ClockKind


class Rag(StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"


def rag_status(
    started_at: datetime,
    due_at: datetime,
    now: datetime,
    policy: Policy,
    *,
    calendar: WorkingCalendar | None = None,
) -> Rag:
    """The status at ``now`` of a clock that started at ``started_at`` and falls due at ``due_at``.

    The window is measured in real time, or in office time when a ``calendar`` is given (right for
    working-day clocks, whose time left should not drain away overnight and at weekends).
    """
    for name, moment in (("started_at", started_at), ("due_at", due_at), ("now", now)):
        require_aware(moment, name)
    if now >= due_at:
        return Rag.RED
    if calendar is None:
        window, left = due_at - started_at, due_at - now
    else:
        window = calendar.office_time_between(started_at, due_at)
        left = calendar.office_time_between(now, due_at)
    if window <= timedelta(0):
        return Rag.RED
    share_left = left / window
    if share_left < policy.rag.red_fraction:
        return Rag.RED
    if share_left < policy.rag.amber_fraction:
        return Rag.AMBER
    return Rag.GREEN


def clock_rag(
    kind: ClockKind,
    started_at: datetime,
    due_at: datetime,
    now: datetime,
    calendar: WorkingCalendar,
    policy: Policy,
) -> Rag:
    """``rag_status`` measured the way the clock runs: real time for hour clocks, office time for
    working-day clocks."""
    office = clock_rule(kind, policy).office_timed
    return rag_status(started_at, due_at, now, policy, calendar=calendar if office else None)
