"""Deadline alerts (SPEC §7): when each clock is due soon and breached, the child-protection repeats
and escalation, acknowledgement, catching up after the bot was down, recipients, and the keys that
make each alert exactly once. Time is injected: every test says what ``now`` is."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontdoor.alert_recipients import Staffing, recipients_for
from frontdoor.alert_schedule import (
    Acknowledgement,
    PlannedAlert,
    acknowledgement_event,
    acknowledgement_from_event,
    alerts_due,
)
from frontdoor.alerts import DUTY_CHANNEL, LATE_GRACE, AlertKey, AlertKind, Recipient, RecipientKind, is_late
from frontdoor.calendar import WorkingCalendar
from frontdoor.clocks import due_at
from frontdoor.policy import Policy, parse_policy
from frontdoor.records import (
    AuditEvent,
    ChannelPurpose,
    ClockKind,
    Deadline,
    DeadlineState,
    DirectoryEntry,
    RotaEntry,
)
from frontdoor.roles import Role
from tests.frontdoor.bank_holiday_dates import WEEKDAY_HOLIDAYS

LONDON = ZoneInfo("Europe/London")
#: These tests time the completion clocks in elapsed hours, day and night (the policy's option), so
#: they run over nights and weekends; working-day completion is timed as the screening clock is
#: (tests/frontdoor/test_clocks.py).
POLICY = parse_policy('[timescales]\ncompletion_clock = "hours"\n')
CAL = WorkingCalendar(non_working_dates=WEEKDAY_HOLIDAYS)
K = ClockKind
A = AlertKind
NOTHING: dict[AlertKey, datetime] = {}


def ldt(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=LONDON)


def with_policy(**changes: object) -> Policy:
    """The default policy with ``section__key=value`` changes."""
    policy = POLICY
    for name, value in changes.items():
        section, key = name.split("__")
        policy = replace(policy, **{section: replace(getattr(policy, section), **{key: value})})
    return policy


def deadline(
    kind: ClockKind,
    start: datetime,
    *,
    subject: str = "CT-26-000001",
    assignee: str | None = "sw-1",
    policy: Policy = POLICY,
) -> Deadline:
    return Deadline(subject, kind, start, due_at(kind, start, CAL, policy), assignee_id=assignee, id=1)


def simulate(
    deadlines: Sequence[Deadline],
    start: datetime,
    end: datetime,
    *,
    policy: Policy = POLICY,
    acks: Iterable[Acknowledgement] = (),
    down: Iterable[tuple[datetime, datetime]] = (),
    step: timedelta = timedelta(seconds=30),
) -> list[tuple[datetime, PlannedAlert]]:
    """Tick every ``step`` from ``start`` to ``end`` (except while ``down``), enqueueing what is due
    as the scheduler would; returns (tick time, alert) for everything enqueued."""
    already: dict[AlertKey, datetime] = {}
    gaps, known = list(down), list(acks)
    found: list[tuple[datetime, PlannedAlert]] = []
    now = start
    while now <= end:
        if not any(gap_start <= now < gap_end for gap_start, gap_end in gaps):
            given_acks = [ack for ack in known if ack.at <= now]
            for alert in alerts_due(deadlines, now, CAL, policy, already, acknowledged=given_acks):
                assert alert.key not in already
                already[alert.key] = now
                found.append((now, alert))
        now += step
    return found


def schedule(found: list[tuple[datetime, PlannedAlert]]) -> list[tuple[str, int, datetime, datetime]]:
    """(kind, sequence, the alert's own time, when it was enqueued), in London time."""
    return [
        (alert.kind.value, alert.key.sequence, alert.at.astimezone(LONDON), now.astimezone(LONDON))
        for now, alert in found
    ]


# -- due soon and breached, per clock -------------------------------------------------------------

MONDAY_10 = ldt(2026, 6, 8, 10)


@pytest.mark.parametrize(
    ("kind", "soon", "due"),
    [
        # 2 h: a quarter left is 30 minutes
        (K.CP_DECISION, ldt(2026, 6, 8, 11, 30), ldt(2026, 6, 8, 12)),
        # 24 h: due soon at 18 h
        (K.COMPLETION_24H, ldt(2026, 6, 9, 4), ldt(2026, 6, 9, 10)),
        (K.COMPLETION_48H, ldt(2026, 6, 9, 22), ldt(2026, 6, 10, 10)),
        (K.REREFERRAL_RECOMMENDATION, ldt(2026, 6, 9, 22), ldt(2026, 6, 10, 10)),
        # 1 working day, measured in office time: 7 h on Monday + 1.5 h on Tuesday = 8.5 h;
        # a quarter (2 h 7.5 min) before Tuesday 10:00 in office time is Monday 16:22:30
        (K.SCREENING, ldt(2026, 6, 8, 16, 22, 30), ldt(2026, 6, 9, 10)),
        # 3 working days = 25.5 office hours; a quarter (6 h 22.5 min) back is Wednesday 12:07:30
        (K.PARENT_LETTER, ldt(2026, 6, 10, 12, 7, 30), ldt(2026, 6, 11, 10)),
        # the end of the working day: 7 h window, due soon 1 h 45 min before 17:00
        (K.CHALLENGE, ldt(2026, 6, 8, 15, 15), ldt(2026, 6, 8, 17)),
    ],
)
def test_each_clock_is_due_soon_and_breached_on_time(kind: ClockKind, soon: datetime, due: datetime) -> None:
    clock = deadline(kind, MONDAY_10)
    assert clock.due_at == due
    tick = timedelta(microseconds=1)

    assert alerts_due([clock], soon - tick, CAL, POLICY, NOTHING) == []
    [due_soon] = alerts_due([clock], soon, CAL, POLICY, NOTHING)
    assert (due_soon.kind, due_soon.at, due_soon.late) == (A.DUE_SOON, soon, False)
    assert due_soon.key == AlertKey("CT-26-000001", kind, A.DUE_SOON, 0, due)

    already = {due_soon.key: soon}
    assert alerts_due([clock], due - tick, CAL, POLICY, already) == []
    [breached] = alerts_due([clock], due, CAL, POLICY, already)
    assert (breached.kind, breached.at, breached.late) == (A.BREACHED, due, False)


def test_due_soon_is_never_later_than_the_minimum_lead() -> None:
    policy = with_policy(alerts__due_soon_fraction=0.05)  # 6 minutes of a 2-hour clock
    clock = deadline(K.CP_DECISION, MONDAY_10, policy=policy)
    [alert] = alerts_due([clock], ldt(2026, 6, 8, 11, 45), CAL, policy, NOTHING)
    assert alert.kind is A.DUE_SOON and alert.at == ldt(2026, 6, 8, 11, 45)
    assert alerts_due([clock], ldt(2026, 6, 8, 11, 44, 59), CAL, policy, NOTHING) == []


def test_a_window_shorter_than_the_lead_is_due_soon_when_it_starts() -> None:
    clock = deadline(K.CHALLENGE, ldt(2026, 6, 8, 16, 55))
    [alert] = alerts_due([clock], ldt(2026, 6, 8, 16, 55), CAL, POLICY, NOTHING)
    assert alert.kind is A.DUE_SOON and alert.at == ldt(2026, 6, 8, 16, 55)


def test_hour_and_working_day_clocks_across_the_spring_clock_change() -> None:
    # Clocks go forward at 01:00 GMT on Sunday 29 March 2026.
    cp = deadline(K.CP_DECISION, ldt(2026, 3, 29, 0, 30), subject="CT-26-000001")
    # Friday 10:00 GMT: due Monday 10:00 BST, due soon Friday 16:22:30 GMT in office time.
    screening = deadline(K.SCREENING, ldt(2026, 3, 27, 10), subject="CT-26-000002")
    found = schedule(simulate([cp, screening], ldt(2026, 3, 27, 9), ldt(2026, 3, 30, 11)))
    assert [(kind, at) for kind, _, at, _ in found] == [
        ("due_soon", ldt(2026, 3, 27, 16, 22, 30)),
        ("due_soon", ldt(2026, 3, 29, 3, 0)),  # 1 h 30 min of real time later: 02:00 UTC
        ("breached", ldt(2026, 3, 29, 3, 30)),  # two elapsed hours: 02:30 UTC
        ("repeat", ldt(2026, 3, 29, 4, 0)),
        ("repeat", ldt(2026, 3, 29, 4, 30)),
        ("escalation", ldt(2026, 3, 29, 5, 0)),
        ("breached", ldt(2026, 3, 30, 10, 0)),
    ]
    assert found[1][2].astimezone(UTC) == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)


def test_a_friday_screening_clock_is_due_soon_on_friday_and_breaches_on_monday() -> None:
    clock = deadline(K.SCREENING, ldt(2026, 6, 5, 15), assignee=None)
    found = schedule(simulate([clock], ldt(2026, 6, 5, 15), ldt(2026, 6, 8, 16)))
    # Window: Friday 15:00-17:00 (2 h) + nothing at the weekend + Monday 08:30-15:00 (6.5 h).
    assert [(kind, at) for kind, _, at, _ in found] == [
        ("due_soon", ldt(2026, 6, 8, 12, 52, 30)),
        ("breached", ldt(2026, 6, 8, 15, 0)),
    ]


def test_a_bank_holiday_moves_the_working_day_clock_and_its_warning() -> None:
    # Friday 1 May 2026 15:00; Monday 4 May is the early May bank holiday.
    clock = deadline(K.SCREENING, ldt(2026, 5, 1, 15))
    assert clock.due_at == ldt(2026, 5, 5, 15)
    found = schedule(simulate([clock], ldt(2026, 5, 1, 15), ldt(2026, 5, 5, 16)))
    assert [(kind, at) for kind, _, at, _ in found] == [
        ("due_soon", ldt(2026, 5, 5, 12, 52, 30)),
        ("breached", ldt(2026, 5, 5, 15, 0)),
    ]


# -- once only, late, superseded ----------------------------------------------------------------


def test_nothing_already_enqueued_is_planned_again() -> None:
    clock = deadline(K.COMPLETION_24H, MONDAY_10)
    now = clock.due_at + timedelta(hours=5)
    [breached] = alerts_due([clock], now, CAL, POLICY, NOTHING)
    assert alerts_due([clock], now, CAL, POLICY, {breached.key: now}) == []


@pytest.mark.parametrize("state", [DeadlineState.MET, DeadlineState.CANCELLED])
def test_a_met_or_cancelled_clock_never_alerts(state: DeadlineState) -> None:
    clock = replace(deadline(K.CP_DECISION, MONDAY_10), state=state)
    assert simulate([clock], MONDAY_10, MONDAY_10 + timedelta(hours=6)) == []


def test_a_due_soon_alert_missed_while_down_gives_way_to_the_breach_marked_late() -> None:
    clock = deadline(K.CP_DECISION, MONDAY_10)
    now = ldt(2026, 6, 8, 12, 10)
    [alert] = alerts_due([clock], now, CAL, POLICY, NOTHING)
    assert (alert.kind, alert.at, alert.late) == (A.BREACHED, ldt(2026, 6, 8, 12), True)


def test_a_due_soon_alert_missed_while_down_is_sent_late_if_still_before_due() -> None:
    clock = deadline(K.COMPLETION_24H, MONDAY_10)
    now = ldt(2026, 6, 9, 7)
    [alert] = alerts_due([clock], now, CAL, POLICY, NOTHING)
    assert (alert.kind, alert.at, alert.late) == (A.DUE_SOON, ldt(2026, 6, 9, 4), True)


@pytest.mark.parametrize(
    ("after", "late"),
    [
        (timedelta(0), False),
        (LATE_GRACE, False),
        (LATE_GRACE + timedelta(microseconds=1), True),
        (timedelta(hours=3), True),
    ],
)
def test_an_alert_is_late_only_beyond_the_grace(after: timedelta, late: bool) -> None:
    clock = deadline(K.COMPLETION_24H, MONDAY_10)
    [alert] = alerts_due([clock], clock.due_at + after, CAL, POLICY, NOTHING)
    assert alert.late is late
    assert is_late(alert.at, clock.due_at + after) is late


def test_alerts_come_out_in_time_order() -> None:
    clocks = [
        deadline(K.COMPLETION_48H, MONDAY_10, subject="CT-26-000003"),
        deadline(K.CP_DECISION, MONDAY_10, subject="CT-26-000002"),
        deadline(K.COMPLETION_24H, MONDAY_10, subject="CT-26-000001"),
    ]
    planned = alerts_due(clocks, ldt(2026, 6, 12, 9), CAL, POLICY, NOTHING)
    assert [alert.at for alert in planned] == sorted(alert.at for alert in planned)
    assert [alert.subject for alert in planned][:2] == ["CT-26-000002", "CT-26-000002"]


# -- repeats and escalation ----------------------------------------------------------------------


def test_an_unacknowledged_cp_breach_repeats_twice_then_escalates_once() -> None:
    clock = deadline(K.CP_DECISION, MONDAY_10)
    found = schedule(simulate([clock], MONDAY_10, MONDAY_10 + timedelta(hours=8)))
    on_time = [(kind, seq, at) for kind, seq, at, enqueued in found if at == enqueued]
    assert on_time == [
        ("due_soon", 0, ldt(2026, 6, 8, 11, 30)),
        ("breached", 0, ldt(2026, 6, 8, 12, 0)),
        ("repeat", 1, ldt(2026, 6, 8, 12, 30)),
        ("repeat", 2, ldt(2026, 6, 8, 13, 0)),
        ("escalation", 0, ldt(2026, 6, 8, 13, 30)),
    ]
    assert len(found) == len(on_time)


@pytest.mark.parametrize("clock", [K.COMPLETION_24H, K.SCREENING, K.CHALLENGE, K.PARENT_LETTER])
def test_other_clocks_alert_once_soon_and_once_breached(clock: ClockKind) -> None:
    found = schedule(
        simulate([deadline(clock, MONDAY_10)], MONDAY_10, ldt(2026, 6, 12, 12), step=timedelta(minutes=5))
    )
    assert [kind for kind, *_ in found] == ["due_soon", "breached"]


@pytest.mark.parametrize(
    ("minutes", "repeats", "expected"),
    [
        (30, 0, [("escalation", 0, 30)]),
        (10, 3, [("repeat", 1, 10), ("repeat", 2, 20), ("repeat", 3, 30), ("escalation", 0, 40)]),
        (45, 1, [("repeat", 1, 45), ("escalation", 0, 90)]),
    ],
)
def test_the_repeat_interval_and_count_are_policy(
    minutes: int, repeats: int, expected: list[tuple[str, int, int]]
) -> None:
    policy = with_policy(
        alerts__cp_breach_repeat_minutes=minutes, alerts__cp_breach_repeats_before_escalation=repeats
    )
    clock = deadline(K.CP_DECISION, MONDAY_10, policy=policy)
    due = clock.due_at
    found = simulate([clock], due, due + timedelta(hours=4), policy=policy)
    after_breach = [
        (alert.kind.value, alert.key.sequence, int((alert.at - due).total_seconds() // 60))
        for _, alert in found
        if alert.kind is not A.BREACHED
    ]
    assert after_breach == expected


def test_an_acknowledgement_stops_the_repeats_and_the_escalation() -> None:
    clock = deadline(K.CP_DECISION, MONDAY_10)
    ack = Acknowledgement(clock.subject, K.CP_DECISION, "sw-1", ldt(2026, 6, 8, 12, 40))
    found = schedule(simulate([clock], MONDAY_10, MONDAY_10 + timedelta(hours=6), acks=[ack]))
    assert [(kind, seq) for kind, seq, *_ in found] == [("due_soon", 0), ("breached", 0), ("repeat", 1)]


def test_an_acknowledgement_before_the_breach_still_lets_the_breach_alert_go() -> None:
    clock = deadline(K.CP_DECISION, MONDAY_10)
    ack = Acknowledgement(clock.subject, K.CP_DECISION, "sw-1", ldt(2026, 6, 8, 11, 35))
    found = schedule(simulate([clock], MONDAY_10, MONDAY_10 + timedelta(hours=6), acks=[ack]))
    assert [kind for kind, *_ in found] == ["due_soon", "breached"]


@pytest.mark.parametrize(
    "ack",
    [
        # made before this clock started: it was about an earlier clock of the same kind
        Acknowledgement("CT-26-000001", K.CP_DECISION, "sw-1", ldt(2026, 6, 8, 9, 59)),
        Acknowledgement("CT-26-000001", K.SCREENING, "sw-1", ldt(2026, 6, 8, 12, 5)),
        Acknowledgement("CT-26-000002", K.CP_DECISION, "sw-1", ldt(2026, 6, 8, 12, 5)),
    ],
)
def test_an_acknowledgement_of_something_else_does_not_stop_the_repeats(ack: Acknowledgement) -> None:
    clock = deadline(K.CP_DECISION, MONDAY_10)
    found = schedule(simulate([clock], MONDAY_10, MONDAY_10 + timedelta(hours=6), acks=[ack]))
    assert [kind for kind, *_ in found] == ["due_soon", "breached", "repeat", "repeat", "escalation"]


def test_acknowledgements_round_trip_through_the_audit_log() -> None:
    ack = Acknowledgement("CT-26-000001", K.CP_DECISION, "sw-1", ldt(2026, 6, 8, 12, 5))
    event = acknowledgement_event(ack)
    assert (event.action, event.subject, event.actor_id, event.detail) == (
        "alert.acknowledged",
        "CT-26-000001",
        "sw-1",
        "clock=cp_decision",
    )
    assert acknowledgement_from_event(event) == ack
    other = AuditEvent(ack.at, "sw-1", "contact.submitted", "CT-26-000001", "clock=cp_decision")
    assert acknowledgement_from_event(other) is None
    assert acknowledgement_from_event(replace(event, detail="clock=nonsense")) is None


# -- catching up after the bot was down -----------------------------------------------------------


def test_down_across_the_breach_sends_it_late_then_keeps_the_schedule() -> None:
    clock = deadline(K.CP_DECISION, MONDAY_10)
    down = (ldt(2026, 6, 8, 11, 55), ldt(2026, 6, 8, 12, 45))
    found = schedule(simulate([clock], MONDAY_10, MONDAY_10 + timedelta(hours=6), down=[down]))
    assert found == [
        ("due_soon", 0, ldt(2026, 6, 8, 11, 30), ldt(2026, 6, 8, 11, 30)),
        # the breach late; repeat 1 (12:30) is covered by it and never sent
        ("breached", 0, ldt(2026, 6, 8, 12, 0), ldt(2026, 6, 8, 12, 45)),
        ("repeat", 2, ldt(2026, 6, 8, 13, 0), ldt(2026, 6, 8, 13, 0)),
        ("escalation", 0, ldt(2026, 6, 8, 13, 30), ldt(2026, 6, 8, 13, 30)),
    ]


def test_down_past_the_escalation_sends_the_breach_and_the_escalation_at_once() -> None:
    clock = deadline(K.CP_DECISION, MONDAY_10)
    down = (ldt(2026, 6, 8, 11, 0), ldt(2026, 6, 8, 13, 40))
    found = schedule(simulate([clock], MONDAY_10, MONDAY_10 + timedelta(hours=6), down=[down]))
    assert found == [
        ("breached", 0, ldt(2026, 6, 8, 12, 0), ldt(2026, 6, 8, 13, 40)),
        ("escalation", 0, ldt(2026, 6, 8, 13, 30), ldt(2026, 6, 8, 13, 40)),
    ]


def test_down_across_a_repeat_sends_the_latest_repeat_late_and_only_it() -> None:
    clock = deadline(K.CP_DECISION, MONDAY_10)
    down = (ldt(2026, 6, 8, 12, 20), ldt(2026, 6, 8, 13, 10))
    found = schedule(simulate([clock], MONDAY_10, MONDAY_10 + timedelta(hours=6), down=[down]))
    assert [(kind, seq, enqueued) for kind, seq, _, enqueued in found][2:] == [
        ("repeat", 2, ldt(2026, 6, 8, 13, 10)),
        ("escalation", 0, ldt(2026, 6, 8, 13, 30)),
    ]


# -- recipients -----------------------------------------------------------------------------------

DAY = date(2026, 6, 8)
DIRECTORY = (
    DirectoryEntry("c-1", frozenset({Role.CONSULTANT})),
    DirectoryEntry("c-2", frozenset({Role.CONSULTANT})),
    DirectoryEntry("tm-1", frozenset({Role.TEAM_MANAGER})),
    DirectoryEntry("tm-2", frozenset({Role.TEAM_MANAGER, Role.CONSULTANT})),
    DirectoryEntry("sw-1", frozenset({Role.SOCIAL_WORKER})),
)
ROTA = (
    RotaEntry(DAY, Role.CONSULTANT, "c-2"),
    RotaEntry(DAY, Role.TEAM_MANAGER, "tm-1"),
    RotaEntry(date(2026, 6, 9), Role.CONSULTANT, "c-1"),
)
WITH_ROTA = Staffing.of(ROTA, DIRECTORY)
NO_ROTA = Staffing.of((), DIRECTORY)
NOBODY = Staffing()


def person(person_id: str) -> Recipient:
    return Recipient.person(person_id)


@pytest.mark.parametrize(
    ("kind", "assignee", "staffing", "expected"),
    [
        (A.DUE_SOON, "sw-1", WITH_ROTA, (person("sw-1"),)),
        (A.DUE_SOON, None, WITH_ROTA, (person("c-2"),)),
        (A.DUE_SOON, None, NO_ROTA, (person("c-1"), person("c-2"), person("tm-2"))),
        (A.DUE_SOON, None, NOBODY, (DUTY_CHANNEL,)),
        (A.BREACHED, "sw-1", WITH_ROTA, (person("sw-1"), DUTY_CHANNEL)),
        (A.BREACHED, None, WITH_ROTA, (person("c-2"), DUTY_CHANNEL)),
        (A.REPEAT, "sw-1", NO_ROTA, (person("sw-1"), DUTY_CHANNEL)),
        (A.ESCALATION, "sw-1", WITH_ROTA, (person("tm-1"), DUTY_CHANNEL)),
        (A.ESCALATION, "sw-1", NO_ROTA, (person("tm-1"), person("tm-2"), DUTY_CHANNEL)),
        (A.ESCALATION, None, NOBODY, (DUTY_CHANNEL,)),
        (A.HANDOVER_ESCALATION, None, WITH_ROTA, (person("tm-1"), DUTY_CHANNEL)),
        (A.HANDOVER, None, WITH_ROTA, (DUTY_CHANNEL,)),
    ],
)
def test_recipients(
    kind: AlertKind, assignee: str | None, staffing: Staffing, expected: tuple[Recipient, ...]
) -> None:
    assert recipients_for(kind, assignee, DAY, staffing) == expected


def test_recipients_follow_the_rota_of_the_local_day() -> None:
    # 23:30 UTC on Monday 8 June is 00:30 on Tuesday in London: Tuesday's consultant is on duty.
    clock = deadline(K.COMPLETION_24H, ldt(2026, 6, 8, 6), assignee=None)  # due soon at midnight
    now = datetime(2026, 6, 8, 23, 30, tzinfo=UTC)
    [alert] = alerts_due([clock], now, CAL, POLICY, NOTHING, staffing=WITH_ROTA)
    assert alert.kind is A.DUE_SOON
    assert alert.recipients == (person("c-1"),)


# -- keys and messages ----------------------------------------------------------------------------


def test_the_key_text_is_stable() -> None:
    key = AlertKey("CT-26-000123", K.CP_DECISION, A.REPEAT, 2, ldt(2026, 6, 8, 12))
    assert key.text == "a1|CT-26-000123|cp_decision|repeat|2|2026-06-08T11:00:00Z"
    handover = AlertKey("handover:2026-06-08", None, A.HANDOVER, 0, ldt(2026, 6, 8, 16, 30))
    assert handover.text == "a1|handover:2026-06-08|-|handover|0|2026-06-08T15:30:00Z"
    assert AlertKey.parse(handover.text) == handover


@given(
    subject=st.text(min_size=1, max_size=40),
    clock=st.none() | st.sampled_from(ClockKind),
    kind=st.sampled_from(AlertKind),
    sequence=st.integers(min_value=0, max_value=1000),
    due=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(LONDON)
    ),
)
def test_every_key_text_parses_back_to_its_key(
    subject: str, clock: ClockKind | None, kind: AlertKind, sequence: int, due: datetime
) -> None:
    key = AlertKey(subject, clock, kind, sequence, due)
    assert AlertKey.parse(key.text) == key
    assert AlertKey.parse(f"{key.text}#{DUTY_CHANNEL.text}") == key
    assert "#" not in key.text and key.text.count("|") == 5
    assert key.but(kind, sequence + 1).text != key.text


@given(address=st.text(min_size=1, max_size=60))
def test_every_person_recipient_text_parses_back(address: str) -> None:
    recipient = Recipient.person(address)
    assert Recipient.parse(recipient.text) == recipient
    assert "#" not in recipient.text


def test_a_channel_recipient_names_a_known_purpose() -> None:
    assert Recipient.parse("channel:duty") == DUTY_CHANNEL
    assert DUTY_CHANNEL.is_duty_channel and DUTY_CHANNEL.purpose is ChannelPurpose.DUTY
    assert Recipient.channel(ChannelPurpose.DECISIONS).kind is RecipientKind.CHANNEL
    with pytest.raises(ValueError):
        Recipient(RecipientKind.CHANNEL, "nowhere")
    with pytest.raises(ValueError):
        Recipient.parse("no-kind")


def test_an_alert_makes_one_message_per_recipient_with_ids_and_times_only() -> None:
    clock = deadline(K.CP_DECISION, MONDAY_10)
    [alert] = alerts_due([clock], clock.due_at, CAL, POLICY, NOTHING, staffing=WITH_ROTA)
    messages = alert.messages()
    assert [message.recipient for message in messages] == [person("sw-1"), DUTY_CHANNEL]
    assert len({message.key for message in messages}) == 2
    assert all(message.key.startswith(alert.key.text + "#") for message in messages)
    assert all(message.send_at == alert.at for message in messages)
    payload = json.loads(messages[0].payload)
    assert payload == {
        "alert": alert.key.text,
        "assignee_id": "sw-1",
        "at": "2026-06-08T11:00:00Z",
        "clock": "cp_decision",
        "deadline_id": 1,
        "due_at": "2026-06-08T11:00:00Z",
        "kind": "breached",
        "partners": [],
        "people": ["sw-1"],
        "recipient": "person:sw-1",
        "sequence": 0,
        "started_at": "2026-06-08T09:00:00Z",
        "subject": "CT-26-000001",
    }
