"""MARAC reminders (SPEC §7): on each MARAC meeting day, the duty channel is reminded that the
information requests First Contact sent to teams are due back before the meeting.

MARAC (multi-agency risk assessment conference) meetings are held on ``marac.days`` at
``marac.at`` (Tuesday and Thursday at 13:00 by default). The reminder carries the meeting's day
and time and the information requests still outstanding when it is planned (the case reference,
the team and the worker asked: never a child's name, as it goes to the duty channel; see
``frontdoor.marac_cases``). It is posted at
``marac.reminder_at`` (09:30 by default) on meeting days that are working days (never on a bank
holiday or a closure date), exactly once per meeting: its outbox key is the meeting's day and time.
A bot that was down at the reminder time posts it when it is back, marked late, as long as the
meeting has not started; after that a reminder would be no use. Nor is a reminder whose time came
before the service first started on its database (``frontdoor.installation``) ever caught up.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from frontdoor.acting import Rules
from frontdoor.alerts import (
    DUTY_CHANNEL,
    AlertKey,
    AlertKind,
    OutboxMessage,
    is_late,
    outbox_key,
    utc_text,
)
from frontdoor.calendar import WorkingCalendar, require_aware
from frontdoor.installation import installed_at
from frontdoor.policy import Policy
from frontdoor.unit_of_work import UnitOfWorkFactory

__all__ = [
    "MaracPosted",
    "MaracReminder",
    "marac_key",
    "marac_meeting_at",
    "marac_reminder_at",
    "plan_marac_reminder",
    "post_due_marac_reminder",
]

_SUBJECT = "marac:"


def marac_meeting_at(day: date, calendar: WorkingCalendar, policy: Policy) -> datetime | None:
    """The MARAC meeting of ``day`` in UTC (local ``marac.at``), or None when ``day`` is not a
    meeting day or not a working day."""
    if day.weekday() not in policy.marac.days or not calendar.is_working_day(day):
        return None
    return datetime.combine(day, policy.marac.at, tzinfo=calendar.tz).astimezone(UTC)


def marac_reminder_at(day: date, calendar: WorkingCalendar, policy: Policy) -> datetime | None:
    """When the reminder of ``day``'s meeting is posted, or None when there is no meeting."""
    if marac_meeting_at(day, calendar, policy) is None:
        return None
    return datetime.combine(day, policy.marac.reminder_at, tzinfo=calendar.tz).astimezone(UTC)


def marac_key(day: date, calendar: WorkingCalendar, policy: Policy) -> AlertKey:
    """The outbox key of the reminder of ``day``'s meeting (one per meeting)."""
    meeting = marac_meeting_at(day, calendar, policy)
    if meeting is None:
        raise ValueError(f"{day.isoformat()} has no MARAC meeting")
    return AlertKey(f"{_SUBJECT}{day.isoformat()}", None, AlertKind.MARAC_REMINDER, 0, meeting)


@dataclass(frozen=True, slots=True)
class MaracReminder:
    """What a MARAC reminder says: the meeting's day and time, and when the reminder was due."""

    day: date
    meeting_at: datetime
    remind_at: datetime
    #: (case reference, team, worker id) of each request not answered yet
    outstanding: tuple[tuple[str, str, str], ...] = ()

    def body(self) -> dict[str, object]:
        key = AlertKey(
            f"{_SUBJECT}{self.day.isoformat()}", None, AlertKind.MARAC_REMINDER, 0, self.meeting_at
        )
        return {
            "alert": key.text,
            "subject": key.subject,
            "kind": key.kind.value,
            "at": utc_text(self.remind_at),
            "marac": {
                "day": self.day.isoformat(),
                "meeting_at": utc_text(self.meeting_at),
                "remind_at": utc_text(self.remind_at),
                "outstanding": [list(item) for item in self.outstanding],
            },
        }

    @classmethod
    def from_payload(cls, payload: str) -> MaracReminder:
        """The reminder an outbox row's payload holds; ``ValueError`` if it holds none."""
        data = json.loads(payload)
        marac = data.get("marac") if isinstance(data, dict) else None
        if not isinstance(marac, Mapping):
            raise ValueError("not a MARAC reminder payload")
        day, meeting, remind = marac.get("day"), marac.get("meeting_at"), marac.get("remind_at")
        if not isinstance(day, str) or not isinstance(meeting, str) or not isinstance(remind, str):
            raise ValueError("not a MARAC reminder payload")
        waiting = marac.get("outstanding", [])
        outstanding = tuple(
            (str(item[0]), str(item[1]), str(item[2]))
            for item in (waiting if isinstance(waiting, list) else [])
            if isinstance(item, list) and len(item) == 3
        )
        return cls(
            day=date.fromisoformat(day),
            meeting_at=require_aware(datetime.fromisoformat(meeting)).astimezone(UTC),
            remind_at=require_aware(datetime.fromisoformat(remind)).astimezone(UTC),
            outstanding=outstanding,
        )


def plan_marac_reminder(
    now: datetime,
    calendar: WorkingCalendar,
    policy: Policy,
    already: Mapping[AlertKey, datetime],
    outstanding: tuple[tuple[str, str, str], ...] = (),
) -> OutboxMessage | None:
    """The reminder to enqueue at ``now``, if its time has come, the meeting has not started and it
    is not in ``already`` (the keys enqueued so far)."""
    now = require_aware(now, "now").astimezone(UTC)
    day = now.astimezone(calendar.tz).date()
    meeting = marac_meeting_at(day, calendar, policy)
    remind = marac_reminder_at(day, calendar, policy)
    if meeting is None or remind is None or not remind <= now < meeting:
        return None
    key = marac_key(day, calendar, policy)
    if key in already:
        return None
    reminder = MaracReminder(day, meeting, remind, outstanding)
    return OutboxMessage.create(outbox_key(key, DUTY_CHANNEL), key, DUTY_CHANNEL, remind, reminder.body())


@dataclass(frozen=True, slots=True)
class MaracPosted:
    day: date
    late: bool


async def post_due_marac_reminder(unit_of_work: UnitOfWorkFactory, *, rules: Rules) -> MaracPosted | None:
    """Enqueue today's MARAC reminder if it is due, not enqueued yet and its time came after the
    service first started on this database (``installed_at``) (the scheduler's job)."""
    day = require_aware(rules.now, "now").astimezone(rules.calendar.tz).date()
    installed = await installed_at(unit_of_work, rules.now)
    if plan_marac_reminder(rules.now, rules.calendar, rules.policy, {}) is None:
        return None  # not a meeting day, or outside the reminder's window: no need to look
    key = marac_key(day, rules.calendar, rules.policy)
    remind = marac_reminder_at(day, rules.calendar, rules.policy)
    if remind is None or remind < installed:
        return None  # due before the service first started on this database: nothing to catch up
    async with unit_of_work() as uow:
        waiting = tuple(
            (case.case_reference, request.team, request.worker_id)
            for case in await uow.marac.cases_on(day)
            for request in case.requests
            if request.answer is None
        )
        message = plan_marac_reminder(
            rules.now, rules.calendar, rules.policy, await uow.alerts.planned([key.subject]), waiting
        )
        if message is None:
            return None
        added = await uow.alerts.enqueue([message], rules.now)
        await uow.commit()
    return MaracPosted(day, is_late(message.send_at, rules.now)) if added else None
