"""MARAC reminders as data: the meeting days and times from the policy, the reminder's window, and
the policy key for the reminder time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from frontdoor.alerts import DUTY_CHANNEL, AlertKind
from frontdoor.calendar import WorkingCalendar
from frontdoor.errors import PolicyError
from frontdoor.marac import MaracReminder, marac_key, marac_meeting_at, marac_reminder_at, plan_marac_reminder
from frontdoor.policy import default_policy, parse_policy
from tests.frontdoor.bank_holiday_dates import WEEKDAY_HOLIDAYS

LONDON = ZoneInfo("Europe/London")
POLICY = default_policy()
CAL = WorkingCalendar(non_working_dates=WEEKDAY_HOLIDAYS)


@pytest.mark.parametrize(
    ("day", "meeting"),
    [
        (date(2026, 3, 16), None),  # Monday
        (date(2026, 3, 17), datetime(2026, 3, 17, 13, 0, tzinfo=UTC)),  # Tuesday, GMT
        (date(2026, 3, 18), None),
        (date(2026, 3, 19), datetime(2026, 3, 19, 13, 0, tzinfo=UTC)),
        (date(2026, 3, 21), None),  # Saturday
        (date(2026, 6, 2), datetime(2026, 6, 2, 12, 0, tzinfo=UTC)),  # Tuesday, BST
        (date(2026, 1, 1), None),  # New Year's Day, a Thursday
        (date(2027, 12, 28), None),  # Boxing Day (substitute day), a Tuesday
    ],
)
def test_meetings_are_on_tuesdays_and_thursdays_that_are_working_days(
    day: date, meeting: datetime | None
) -> None:
    assert marac_meeting_at(day, CAL, POLICY) == meeting
    reminder = marac_reminder_at(day, CAL, POLICY)
    if meeting is None:
        assert reminder is None
        with pytest.raises(ValueError):
            marac_key(day, CAL, POLICY)
    else:
        assert reminder is not None and reminder.astimezone(LONDON).time() == time(9, 30)


@pytest.mark.parametrize(
    ("at", "due"),
    [
        (datetime(2026, 3, 17, 9, 29, tzinfo=LONDON), False),
        (datetime(2026, 3, 17, 9, 30, tzinfo=LONDON), True),
        (datetime(2026, 3, 17, 12, 59, tzinfo=LONDON), True),
        (datetime(2026, 3, 17, 13, 0, tzinfo=LONDON), False),
        (datetime(2026, 3, 18, 9, 30, tzinfo=LONDON), False),
    ],
)
def test_the_reminder_is_planned_from_its_time_until_the_meeting(at: datetime, due: bool) -> None:
    message = plan_marac_reminder(at, CAL, POLICY, {})
    assert (message is not None) is due
    if message is not None:
        assert message.kind is AlertKind.MARAC_REMINDER and message.recipient == DUTY_CHANNEL
        assert message.send_at == datetime(2026, 3, 17, 9, 30, tzinfo=UTC)
        reminder = MaracReminder.from_payload(message.payload)
        assert reminder.day == date(2026, 3, 17)
        # already enqueued: nothing more
        key = marac_key(date(2026, 3, 17), CAL, POLICY)
        assert plan_marac_reminder(at, CAL, POLICY, {key: at}) is None


def test_the_reminder_time_is_policy_and_must_come_before_the_meeting() -> None:
    assert POLICY.marac.reminder_at == time(9, 30)
    assert parse_policy('[marac]\nreminder_at = "08:15"\n').marac.reminder_at == time(8, 15)
    for bad in ('reminder_at = "13:00"', 'reminder_at = "14:00"', 'at = "09:00"'):
        with pytest.raises(PolicyError) as raised:
            parse_policy(f"[marac]\n{bad}\n")
        assert raised.value.key == "marac.reminder_at"
    with pytest.raises(PolicyError) as raised:
        parse_policy('[marac]\nreminder_at = "half nine"\n')
    assert raised.value.key == "marac.reminder_at"
