"""The clocks of SPEC §4: when each one falls due, and when it is "due soon".

Each ``ClockKind`` has a unit (elapsed hours, working days, or the end of the working day); how
many comes from the policy, and the policy may count the completion clocks in elapsed hours. Hour
clocks run day and night in real time, because a child's safety does not wait for office hours;
working-day clocks follow the working calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from frontdoor.calendar import WorkingCalendar, require_aware
from frontdoor.policy import Policy
from frontdoor.records import ClockKind


class ClockUnit(StrEnum):
    HOURS = "hours"
    WORKING_DAYS = "working_days"
    END_OF_WORKING_DAY = "end_of_working_day"


#: Which unit each clock counts in. Fixed by the procedure, except that the policy may count the
#: completion clocks in elapsed hours (``timescales.completion_clock = "hours"``).
CLOCK_UNITS: dict[ClockKind, ClockUnit] = {
    ClockKind.SCREENING: ClockUnit.WORKING_DAYS,
    ClockKind.CP_DECISION: ClockUnit.HOURS,
    ClockKind.COMPLETION_24H: ClockUnit.WORKING_DAYS,
    ClockKind.COMPLETION_48H: ClockUnit.WORKING_DAYS,
    ClockKind.REREFERRAL_RECOMMENDATION: ClockUnit.HOURS,
    ClockKind.PARENT_LETTER: ClockUnit.WORKING_DAYS,
    ClockKind.LETTER_REVIEW: ClockUnit.WORKING_DAYS,
    ClockKind.CHALLENGE: ClockUnit.END_OF_WORKING_DAY,
    ClockKind.MASH_REQUEST_URGENT: ClockUnit.HOURS,
    ClockKind.MASH_REQUEST: ClockUnit.WORKING_DAYS,
    # Its day is the requesting body's due date, not counted from the start: see ``agencies``.
    ClockKind.BODY_REQUEST: ClockUnit.END_OF_WORKING_DAY,
    # Due at the MARAC meeting it is for (set by ``marac_cases``), within the working day.
    ClockKind.MARAC_REQUEST: ClockUnit.END_OF_WORKING_DAY,
}


@dataclass(frozen=True, slots=True)
class ClockRule:
    """How one clock runs: its unit and how many of them (0 for the end of the working day)."""

    kind: ClockKind
    unit: ClockUnit
    amount: int = 0

    def __post_init__(self) -> None:
        if self.unit is ClockUnit.END_OF_WORKING_DAY:
            if self.amount != 0:
                raise ValueError("an end-of-working-day clock has no amount")
        elif self.amount < 1:
            raise ValueError(f"a {self.unit} clock needs a positive amount, got {self.amount}")

    @property
    def office_timed(self) -> bool:
        """Whether the clock follows the working calendar, so its window is best measured in
        office time (a quarter of a working day left means something at 10:00, not at 03:00)."""
        return self.unit is not ClockUnit.HOURS

    def due_at(self, start: datetime, calendar: WorkingCalendar) -> datetime:
        """When the clock started at ``start`` falls due, in UTC."""
        require_aware(start, "clock start")
        match self.unit:
            case ClockUnit.HOURS:
                # Elapsed real hours: UTC arithmetic, so 2 hours across a clock change is 2 hours.
                return start.astimezone(UTC) + timedelta(hours=self.amount)
            case ClockUnit.WORKING_DAYS:
                return calendar.add_working_days(start, self.amount)
            case ClockUnit.END_OF_WORKING_DAY:
                return calendar.end_of_working_day(start)


_COMPLETION_CLOCKS = frozenset({ClockKind.COMPLETION_24H, ClockKind.COMPLETION_48H})


def clock_rule(kind: ClockKind, policy: Policy) -> ClockRule:
    """The rule for ``kind`` under ``policy``."""
    timescales = policy.timescales
    amounts: dict[ClockKind, int] = {
        ClockKind.SCREENING: timescales.screening_working_days,
        ClockKind.CP_DECISION: timescales.cp_decision_hours,
        ClockKind.COMPLETION_24H: timescales.completion_24h_hours,
        ClockKind.COMPLETION_48H: timescales.completion_48h_hours,
        ClockKind.REREFERRAL_RECOMMENDATION: timescales.rereferral_recommendation_hours,
        ClockKind.PARENT_LETTER: timescales.parent_letter_working_days,
        # re-applying the threshold after a lapsed letter: the screening decision's timescale
        ClockKind.LETTER_REVIEW: timescales.screening_working_days,
        ClockKind.CHALLENGE: 0,
        ClockKind.MASH_REQUEST_URGENT: policy.mash.request_hours_urgent,
        ClockKind.MASH_REQUEST: policy.mash.request_working_days,
        ClockKind.BODY_REQUEST: 0,
        ClockKind.MARAC_REQUEST: 0,
    }
    unit, amount = CLOCK_UNITS[kind], amounts[kind]
    if kind in _COMPLETION_CLOCKS:
        if timescales.completion_in_working_days:
            amount //= 24  # the policy refuses hours that are not whole days
        else:
            unit = ClockUnit.HOURS
    return ClockRule(kind, unit, amount)


def clock_rules(policy: Policy) -> dict[ClockKind, ClockRule]:
    """Every clock's rule under ``policy``."""
    return {kind: clock_rule(kind, policy) for kind in ClockKind}


def due_at(kind: ClockKind, start: datetime, calendar: WorkingCalendar, policy: Policy) -> datetime:
    """When a ``kind`` clock started at ``start`` falls due, in UTC."""
    return clock_rule(kind, policy).due_at(start, calendar)


def due_soon_at(
    kind: ClockKind, started_at: datetime, due: datetime, calendar: WorkingCalendar, policy: Policy
) -> datetime:
    """When the clock becomes "due soon": when ``alerts.due_soon_fraction`` of its window is left,
    but at least ``alerts.due_soon_min_lead_minutes`` before it is due; never before it started.

    Hour clocks measure the window in real time. Working-day clocks measure it in office time, so
    the warning lands in office hours when someone can act on it rather than overnight.
    """
    start_utc = require_aware(started_at, "clock start").astimezone(UTC)
    due_utc = require_aware(due, "due time").astimezone(UTC)
    fraction = policy.alerts.due_soon_fraction
    latest = due_utc - policy.alerts.due_soon_min_lead
    if clock_rule(kind, policy).office_timed:
        window = calendar.office_time_between(start_utc, due_utc)
        soon = calendar.rewind_office_time(due_utc, window * fraction)
    else:
        soon = due_utc - (due_utc - start_utc) * fraction
    # A window shorter than the minimum lead is due soon from the moment it starts.
    return max(min(soon, latest), start_utc)
