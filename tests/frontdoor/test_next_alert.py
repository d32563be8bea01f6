"""``next_alert_at``: the tick reads a deadline only once its next alert time has come. Ticking
every deadline (as before) and ticking only those whose stored time has come plan exactly the
same alerts at the same ticks, for every clock, with and without acknowledgement, and after the
bot was down."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from frontdoor.alert_schedule import Acknowledgement, alerts_due, next_alert_at
from frontdoor.alerts import AlertKey
from frontdoor.calendar import WorkingCalendar
from frontdoor.clocks import due_at
from frontdoor.policy import default_policy
from frontdoor.records import ClockKind, Deadline, DeadlineState
from tests.frontdoor.bank_holiday_dates import WEEKDAY_HOLIDAYS

LONDON = ZoneInfo("Europe/London")
POLICY = default_policy()
CAL = WorkingCalendar(non_working_dates=WEEKDAY_HOLIDAYS)
MONDAY_10 = datetime(2026, 6, 8, 10, tzinfo=LONDON)
STEP = timedelta(minutes=5)


def _run(
    deadline: Deadline,
    end: datetime,
    acks: list[Acknowledgement],
    down: tuple[datetime, datetime],
    *,
    indexed: bool,
) -> list[tuple[datetime, str]]:
    already: dict[AlertKey, datetime] = {}
    next_at: datetime | None = deadline.started_at  # what the store records when a deadline is added
    found: list[tuple[datetime, str]] = []
    now = deadline.started_at
    while now <= end:
        given_acks = [ack for ack in acks if ack.at <= now]
        if not down[0] <= now < down[1] and (not indexed or (next_at is not None and next_at <= now)):
            for alert in alerts_due([deadline], now, CAL, POLICY, already, acknowledged=given_acks):
                already[alert.key] = now
                found.append((now, alert.key.text))
            acked = any(ack.covers(deadline) for ack in given_acks)
            next_at = next_alert_at(deadline, now, CAL, POLICY, acked)
        now += STEP
    return found


def _deadline(kind: ClockKind, start: datetime) -> Deadline:
    return Deadline("CT-26-000001", kind, start, due_at(kind, start, CAL, POLICY), assignee_id="sw-1", id=1)


def _acks(deadline: Deadline, after: Iterable[timedelta]) -> list[Acknowledgement]:
    return [Acknowledgement(deadline.subject, deadline.clock, "tm-1", deadline.due_at + d) for d in after]


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(list(ClockKind)),
    start_minutes=st.integers(min_value=0, max_value=7 * 24 * 12).map(lambda n: n * 5),
    ack_after=st.one_of(st.none(), st.integers(min_value=0, max_value=200)),
    down_from=st.integers(min_value=0, max_value=3 * 24 * 60),
    down_for=st.integers(min_value=0, max_value=600),
)
# A 4-hour clock whose every alert falls while the bot is down (12:01 to 22:01).
@example(kind=ClockKind.MASH_REQUEST_URGENT, start_minutes=0, ack_after=None, down_from=121, down_for=600)
def test_reading_only_what_is_due_plans_the_same_alerts_at_the_same_ticks(
    kind: ClockKind, start_minutes: int, ack_after: int | None, down_from: int, down_for: int
) -> None:
    deadline = _deadline(kind, MONDAY_10 + timedelta(minutes=start_minutes))
    acks = [] if ack_after is None else _acks(deadline, [timedelta(minutes=ack_after)])
    down_start = deadline.started_at + timedelta(minutes=down_from)
    down = (down_start, down_start + timedelta(minutes=down_for))
    # Run on past the downtime: a bot down through every alert's time sends them when it is back.
    end = max(deadline.due_at + timedelta(hours=8), down[1] + timedelta(hours=1))
    everything = _run(deadline, end, acks, down, indexed=False)
    assert everything  # every clock alerts at least once
    assert _run(deadline, end, acks, down, indexed=True) == everything


@pytest.mark.parametrize(
    ("state", "acknowledged", "now_after_due", "expected"),
    [
        (DeadlineState.MET, False, timedelta(hours=-1), None),
        (DeadlineState.OPEN, True, timedelta(minutes=1), None),
        # a breached CP clock: the next repeat interval, then nothing after the escalation
        (DeadlineState.OPEN, False, timedelta(minutes=1), POLICY.alerts.cp_breach_repeat),
        (DeadlineState.OPEN, False, timedelta(days=1), None),
    ],
)
def test_next_alert_after_the_breach(
    state: DeadlineState, acknowledged: bool, now_after_due: timedelta, expected: timedelta | None
) -> None:
    deadline = _deadline(ClockKind.CP_DECISION, MONDAY_10)
    deadline = Deadline(
        deadline.subject, deadline.clock, deadline.started_at, deadline.due_at, state, "sw-1", 1
    )
    moment = next_alert_at(deadline, deadline.due_at + now_after_due, CAL, POLICY, acknowledged)
    assert moment == (None if expected is None else deadline.due_at + expected)
