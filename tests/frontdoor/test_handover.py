"""The end-of-day handover (SPEC §7): when it is due (working days only, local time across clock
changes), what it holds on a Friday, before a bank holiday and across a clock change, its
escalation, and that it carries references and ids only."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from frontdoor.alert_recipients import Staffing
from frontdoor.alerts import DUTY_CHANNEL, AlertKey, AlertKind, Recipient
from frontdoor.calendar import WorkingCalendar
from frontdoor.clocks import due_at
from frontdoor.contact import ContactState, HistoryChecks
from frontdoor.duty import handover_from_json
from frontdoor.handover import (
    BandPosition,
    HandoverContact,
    OpenContactCount,
    WorkerLoad,
    build_handover,
    handover_at,
    handover_escalation_at,
    handover_key,
    handover_message,
    next_handover_at,
    plan_handover_escalation,
    previous_handover_at,
)
from frontdoor.policy import parse_policy
from frontdoor.rag import Rag
from frontdoor.records import ClockKind, Deadline, DeadlineState, DirectoryEntry, RotaEntry
from frontdoor.roles import Role
from tests.frontdoor.bank_holiday_dates import WEEKDAY_HOLIDAYS
from tests.outbox_fake import InMemoryAlertOutbox
from tests.store.samples import full_contact

LONDON = ZoneInfo("Europe/London")
#: These tests time the completion clocks in elapsed hours, day and night (the policy's option), so
#: they run over nights and weekends; working-day completion is timed as the screening clock is
#: (tests/frontdoor/test_clocks.py).
POLICY = parse_policy('[timescales]\ncompletion_clock = "hours"\n')
CAL = WorkingCalendar(non_working_dates=WEEKDAY_HOLIDAYS)
K = ClockKind
S = ContactState


def ldt(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=LONDON)


def udt(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


# -- when -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 6, 8), udt(2026, 6, 8, 15, 30)),  # Monday, summer time
        (date(2026, 1, 12), udt(2026, 1, 12, 16, 30)),  # Monday, winter
        (date(2026, 6, 6), None),  # Saturday
        (date(2026, 6, 7), None),  # Sunday
        (date(2026, 5, 4), None),  # early May bank holiday
        (date(2026, 12, 28), None),  # Boxing Day (substitute day)
    ],
)
def test_there_is_a_handover_on_working_days_only(day: date, expected: datetime | None) -> None:
    assert handover_at(day, CAL, POLICY) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (ldt(2026, 6, 8, 10), ldt(2026, 6, 8, 16, 30)),
        (ldt(2026, 6, 8, 16, 30), ldt(2026, 6, 8, 16, 30)),
        (ldt(2026, 6, 8, 16, 31), ldt(2026, 6, 9, 16, 30)),
        # Friday after the handover, and the weekend: Monday
        (ldt(2026, 6, 5, 17), ldt(2026, 6, 8, 16, 30)),
        (ldt(2026, 6, 6, 12), ldt(2026, 6, 8, 16, 30)),
        # the early May bank holiday: none on Monday 4 May
        (ldt(2026, 5, 1, 17), ldt(2026, 5, 5, 16, 30)),
        (ldt(2026, 5, 4, 16, 30), ldt(2026, 5, 5, 16, 30)),
        # Christmas 2026: Friday 25 and Monday 28 December are bank holidays
        (ldt(2026, 12, 24, 17), ldt(2026, 12, 29, 16, 30)),
        # across the spring clock change: still 16:30 local, an hour earlier in UTC
        (ldt(2026, 3, 27, 17), udt(2026, 3, 30, 15, 30)),
        (ldt(2026, 3, 27, 12), udt(2026, 3, 27, 16, 30)),
        # and the autumn one (25 October 2026)
        (ldt(2026, 10, 23, 17), udt(2026, 10, 26, 16, 30)),
    ],
)
def test_next_handover(now: datetime, expected: datetime) -> None:
    assert next_handover_at(now, CAL, POLICY) == expected


def test_the_handover_time_is_policy() -> None:
    policy = replace(POLICY, handover=replace(POLICY.handover, at=datetime(2026, 1, 1, 15, 45).time()))
    assert next_handover_at(ldt(2026, 6, 8, 16), CAL, policy) == ldt(2026, 6, 9, 15, 45)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (ldt(2026, 6, 8, 16, 30), ldt(2026, 6, 8, 16, 30)),
        (ldt(2026, 6, 8, 16, 29), ldt(2026, 6, 5, 16, 30)),
        (ldt(2026, 6, 7, 12), ldt(2026, 6, 5, 16, 30)),
        (ldt(2026, 5, 5, 9), ldt(2026, 5, 1, 16, 30)),
    ],
)
def test_previous_handover(now: datetime, expected: datetime) -> None:
    assert previous_handover_at(now, CAL, POLICY) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 6, 8), ldt(2026, 6, 9, 8, 30)),
        (date(2026, 6, 5), ldt(2026, 6, 8, 8, 30)),  # Friday: Monday morning
        (date(2026, 5, 1), ldt(2026, 5, 5, 8, 30)),  # before a bank holiday Monday: Tuesday
        (date(2026, 4, 2), ldt(2026, 4, 7, 8, 30)),  # before Easter: Tuesday
        (date(2026, 3, 27), udt(2026, 3, 30, 7, 30)),  # across the clock change
    ],
)
def test_an_unacknowledged_handover_escalates_at_the_next_opening(day: date, expected: datetime) -> None:
    assert handover_escalation_at(day, CAL) == expected


# -- escalation -----------------------------------------------------------------------------------

FRIDAY = date(2026, 6, 5)
MONDAY = date(2026, 6, 8)
DIRECTORY = (
    DirectoryEntry("sw-1", frozenset({Role.SOCIAL_WORKER})),
    DirectoryEntry("sw-2", frozenset({Role.SOCIAL_WORKER})),
    DirectoryEntry("sw-3", frozenset({Role.SOCIAL_WORKER})),
    DirectoryEntry("c-1", frozenset({Role.CONSULTANT})),
    DirectoryEntry("dm-1", frozenset({Role.DUTY_MANAGER})),
    DirectoryEntry("dm-2", frozenset({Role.DUTY_MANAGER})),
    DirectoryEntry("tm-1", frozenset({Role.TEAM_MANAGER})),
    DirectoryEntry("tm-2", frozenset({Role.TEAM_MANAGER})),
    DirectoryEntry("officer-1", frozenset({Role.OFFICER})),
)
ROTA = (
    RotaEntry(FRIDAY, Role.DUTY_MANAGER, "dm-1"),
    RotaEntry(date(2026, 6, 6), Role.DUTY_MANAGER, "dm-1"),  # a Saturday entry is not "next"
    RotaEntry(MONDAY, Role.DUTY_MANAGER, "dm-2"),
    RotaEntry(MONDAY, Role.TEAM_MANAGER, "tm-2"),
)
STAFFING = Staffing.of(ROTA, DIRECTORY)


def test_the_handover_escalates_at_the_next_opening_if_posted_and_unacknowledged() -> None:
    posted = {handover_key(FRIDAY, CAL, POLICY): ldt(2026, 6, 5, 16, 30)}
    opening = ldt(2026, 6, 8, 8, 30)

    def plan(now: datetime, already: dict[AlertKey, datetime], acknowledged: bool = False) -> object:
        return plan_handover_escalation(
            FRIDAY, now, CAL, POLICY, already, acknowledged=acknowledged, staffing=STAFFING
        )

    assert plan(opening - timedelta(seconds=1), posted) is None
    assert plan(opening, {}) is None  # never posted: nothing to escalate
    assert plan(opening, posted, acknowledged=True) is None
    escalation = plan_handover_escalation(
        FRIDAY, opening, CAL, POLICY, posted, acknowledged=False, staffing=STAFFING
    )
    assert escalation is not None
    assert escalation.key == AlertKey(
        "handover:2026-06-05", None, AlertKind.HANDOVER_ESCALATION, 0, ldt(2026, 6, 5, 16, 30)
    )
    assert (escalation.at, escalation.late) == (opening, False)
    assert escalation.recipients == (Recipient.person("tm-2"), DUTY_CHANNEL)
    assert plan(opening, {**posted, escalation.key: opening}) is None
    late = plan_handover_escalation(
        FRIDAY, opening + timedelta(hours=1), CAL, POLICY, posted, acknowledged=False
    )
    assert late is not None and late.late
    assert late.recipients == (DUTY_CHANNEL,)  # nobody known: the duty channel


def test_a_non_working_day_has_no_handover_key() -> None:
    with pytest.raises(ValueError, match="not a working day"):
        handover_key(date(2026, 5, 4), CAL, POLICY)


# -- content --------------------------------------------------------------------------------------


def contact(reference: str, state: ContactState, received: datetime, assignee: str | None) -> HandoverContact:
    return HandoverContact(reference, state, received, assignee)


def clock(subject: str, kind: ClockKind, start: datetime, assignee: str | None = None) -> Deadline:
    return Deadline(subject, kind, start, due_at(kind, start, CAL, POLICY), assignee_id=assignee)


def test_a_friday_handover() -> None:
    now = ldt(2026, 6, 5, 16, 30)
    contacts = [
        contact("CT-26-000001", S.SW_ASSESSMENT, ldt(2026, 6, 3, 10), "sw-1"),
        contact("CT-26-000002", S.SW_ASSESSMENT, ldt(2026, 6, 5, 9), "sw-2"),
        contact("CT-26-000003", S.AWAITING_SCREENING, ldt(2026, 6, 5, 15), None),
        contact("CT-26-000004", S.CP_DECISION, ldt(2026, 6, 5, 14, 50), "c-1"),
        contact("CT-26-000005", S.CLOSED, ldt(2026, 6, 1, 9), "sw-1"),
        contact("CT-26-000006", S.OFFICER_WORK, ldt(2026, 6, 4, 9), "officer-1"),
        # reassigned to a social worker on re-referral, still with the duty manager's state
        contact("CT-26-000007", S.DUTY_MANAGER_REVIEW, ldt(2026, 6, 5, 11), "sw-1"),
    ]
    deadlines = [
        clock("CT-26-000001", K.COMPLETION_48H, ldt(2026, 6, 3, 10), "sw-1"),  # due Fri 10:00: breached
        clock("CT-26-000002", K.COMPLETION_48H, ldt(2026, 6, 5, 9), "sw-2"),  # due Sunday 09:00
        clock("CT-26-000003", K.SCREENING, ldt(2026, 6, 5, 15)),  # due Monday 15:00, green
        clock("CT-26-000004", K.CP_DECISION, ldt(2026, 6, 5, 14, 50), "c-1"),  # 20 min of 2 h left: amber
        replace(clock("CT-26-000005", K.COMPLETION_24H, ldt(2026, 6, 1, 9)), state=DeadlineState.MET),
        clock("CT-26-000007", K.REREFERRAL_RECOMMENDATION, ldt(2026, 6, 5, 11), "sw-1"),  # due Sunday 11:00
    ]

    handover = build_handover(contacts, deadlines, now, CAL, POLICY, STAFFING)

    assert handover.day == FRIDAY
    assert handover.next_opening == ldt(2026, 6, 8, 8, 30)
    assert [(r.reference, r.worker_id, r.due_at, r.rag) for r in handover.reassigned] == [
        ("CT-26-000001", "sw-1", ldt(2026, 6, 5, 10), Rag.RED),
        ("CT-26-000007", "sw-1", ldt(2026, 6, 7, 11), Rag.GREEN),
        ("CT-26-000002", "sw-2", ldt(2026, 6, 7, 9), Rag.GREEN),
    ]
    assert handover.reassigned[0].age == timedelta(days=2, hours=6, minutes=30)
    assert [(line.subject, line.rag, line.breached) for line in handover.at_risk] == [
        ("CT-26-000001", Rag.RED, True),
        ("CT-26-000004", Rag.AMBER, False),
    ]
    assert [line.subject for line in handover.breached()] == ["CT-26-000001"]
    assert [(line.subject, line.due_at) for line in handover.due_before_opening] == [
        ("CT-26-000004", ldt(2026, 6, 5, 16, 50)),
        ("CT-26-000002", ldt(2026, 6, 7, 9)),
        ("CT-26-000007", ldt(2026, 6, 7, 11)),
    ]
    assert handover.open_contacts == OpenContactCount(6, 50, 85)
    assert handover.open_contacts.position is BandPosition.BELOW
    assert [(load.worker_id, load.open_contacts, load.cap) for load in handover.loads] == [
        ("sw-1", 2, 10),
        ("sw-2", 1, 10),
        ("sw-3", 0, 10),
    ]
    assert handover.next_duty_day == MONDAY
    assert handover.next_duty_managers == ("dm-2",)
    assert handover.next_duty_managers_from_rota


def test_before_a_bank_holiday_weekend_what_falls_due_runs_to_tuesdays_opening() -> None:
    # Thursday 2 April 2026: Good Friday and Easter Monday follow.
    now = ldt(2026, 4, 2, 16, 30)
    deadlines = [
        clock("CT-26-000001", K.COMPLETION_48H, ldt(2026, 4, 2, 9)),  # Saturday 09:00
        clock("CT-26-000002", K.COMPLETION_48H, ldt(2026, 4, 5, 8)),  # Tuesday 08:00: before opening
        clock("CT-26-000003", K.COMPLETION_48H, ldt(2026, 4, 5, 9)),  # Tuesday 09:00: after it
        clock("CT-26-000004", K.SCREENING, ldt(2026, 4, 2, 10)),  # Tuesday 10:00
    ]
    handover = build_handover([], deadlines, now, CAL, POLICY, Staffing.of((), DIRECTORY))
    assert handover.next_opening == ldt(2026, 4, 7, 8, 30)
    assert [line.subject for line in handover.due_before_opening] == ["CT-26-000001", "CT-26-000002"]
    assert handover.next_duty_day == date(2026, 4, 7)
    # nobody on the rota for Tuesday: every duty manager is named, and the card can say so
    assert handover.next_duty_managers == ("dm-1", "dm-2")
    assert not handover.next_duty_managers_from_rota


def test_across_the_clock_change_the_next_opening_is_local() -> None:
    # Friday 27 March 2026, GMT; Monday 30 March opens at 08:30 BST = 07:30 UTC.
    now = ldt(2026, 3, 27, 16, 30)
    deadlines = [
        Deadline("CT-26-000001", K.COMPLETION_48H, udt(2026, 3, 28, 7, 15), udt(2026, 3, 30, 7, 15)),
        Deadline("CT-26-000002", K.COMPLETION_48H, udt(2026, 3, 28, 8), udt(2026, 3, 30, 8)),
    ]
    handover = build_handover([], deadlines, now, CAL, POLICY, STAFFING)
    assert handover.next_opening == udt(2026, 3, 30, 7, 30)
    assert [line.subject for line in handover.due_before_opening] == ["CT-26-000001"]


@pytest.mark.parametrize(
    ("count", "position", "rag"),
    [
        (0, BandPosition.BELOW, None),
        (49, BandPosition.BELOW, None),
        (50, BandPosition.WITHIN, Rag.GREEN),
        (85, BandPosition.WITHIN, Rag.GREEN),
        (86, BandPosition.ABOVE, Rag.RED),
    ],
)
def test_open_contacts_against_the_band(count: int, position: BandPosition, rag: Rag | None) -> None:
    band = OpenContactCount(count, 50, 85)
    assert (band.position, band.rag) == (position, rag)


@pytest.mark.parametrize(("load", "rag"), [(0, Rag.GREEN), (9, Rag.GREEN), (10, Rag.AMBER), (11, Rag.RED)])
def test_a_workers_load_against_the_cap(load: int, rag: Rag) -> None:
    assert WorkerLoad("sw-1", load, 10).rag is rag


def test_the_band_counts_open_contacts_only() -> None:
    states = [*S]
    contacts = [contact(f"CT-26-{i:06d}", state, ldt(2026, 6, 1, 9), None) for i, state in enumerate(states)]
    handover = build_handover(contacts, [], ldt(2026, 6, 5, 16, 30), CAL, POLICY, STAFFING)
    closed = {S.DRAFT, S.PASSED_ON, S.CLOSED, S.CANCELLED}
    assert handover.open_contacts.count == len(states) - len(closed)


def test_the_handover_holds_references_and_ids_only() -> None:
    source = full_contact(reference="CT-26-000042")
    view = HandoverContact.of(replace(source, assignee_id="sw-1", state=S.SW_ASSESSMENT))
    assert view is not None
    deadlines = [clock("CT-26-000042", K.COMPLETION_48H, ldt(2026, 6, 4, 10), "sw-1")]
    handover = build_handover([view], deadlines, ldt(2026, 6, 5, 16, 30), CAL, POLICY, STAFFING)
    text = handover.to_json()
    data = json.loads(text)
    assert data["reassigned"][0]["reference"] == "CT-26-000042"
    for personal in (
        "Child One",
        "Parent One",
        "A Neighbour",
        "Bruise",
        "1 Road",
        "01632",
        "Primary",
        "2018",
    ):
        assert personal not in text
    assert HandoverContact.of(replace(source, reference=None)) is None


async def test_the_handover_message_goes_to_the_duty_channel_once_a_day() -> None:
    now = ldt(2026, 6, 5, 16, 30)
    handover = build_handover([], [], now, CAL, POLICY, STAFFING)
    message = handover_message(handover, CAL, POLICY)
    assert message.recipient == DUTY_CHANNEL
    assert message.kind is AlertKind.HANDOVER and message.clock is None
    assert message.send_at == now
    assert json.loads(message.payload)["handover"]["next_duty_managers"] == ["dm-2"]
    outbox = InMemoryAlertOutbox()
    assert await outbox.enqueue([message], now) == 1
    again = handover_message(
        build_handover([], [], now + timedelta(minutes=5), CAL, POLICY, STAFFING), CAL, POLICY
    )
    assert await outbox.enqueue([again], now + timedelta(minutes=5)) == 0
    assert await outbox.planned(["handover:2026-06-05"]) == {handover_key(FRIDAY, CAL, POLICY): now}


def test_urgent_contacts_with_outstanding_history_checks_are_handed_over() -> None:
    source = full_contact(reference="CT-26-000042")  # urgent, with its history checks recorded
    outstanding = replace(
        source, reference="CT-26-000043", state=S.AWAITING_SCREENING, history=HistoryChecks()
    )
    closed = replace(outstanding, reference="CT-26-000044", state=S.CLOSED)
    routine = replace(outstanding, reference="CT-26-000045", immediate_risks=frozenset())
    views = [
        view
        for view in (
            HandoverContact.of(replace(source, state=S.AWAITING_SCREENING)),
            *map(HandoverContact.of, (outstanding, closed, routine)),
        )
        if view is not None
    ]
    handover = build_handover(views, [], ldt(2026, 6, 5, 16, 30), CAL, POLICY, STAFFING)
    assert handover.history_outstanding == ("CT-26-000043",)
    # kept through the outbox's JSON, which the duty channel's card is drawn from
    assert handover_from_json(json.loads(handover.to_json())).history_outstanding == ("CT-26-000043",)


@pytest.mark.parametrize(
    ("now", "open_until", "next_opening"),
    [
        (ldt(2026, 6, 8, 8, 29), None, ldt(2026, 6, 8, 8, 30)),  # Monday, before opening
        (ldt(2026, 6, 8, 8, 30), ldt(2026, 6, 8, 17), ldt(2026, 6, 8, 8, 30)),  # the opening minute
        (ldt(2026, 6, 8, 16, 59), ldt(2026, 6, 8, 17), ldt(2026, 6, 9, 8, 30)),
        (ldt(2026, 6, 8, 17), None, ldt(2026, 6, 9, 8, 30)),  # the closing minute is not office hours
        (ldt(2026, 6, 12, 17), None, ldt(2026, 6, 15, 8, 30)),  # Friday
        (ldt(2026, 4, 2, 17), None, ldt(2026, 4, 7, 8, 30)),  # before Good Friday and Easter Monday
    ],
)
def test_a_handover_made_in_office_hours_knows_the_front_door_is_open(
    now: datetime, open_until: datetime | None, next_opening: datetime
) -> None:
    handover = build_handover([], [], now, CAL, POLICY, STAFFING)
    assert (handover.open_until, handover.next_opening) == (open_until, next_opening)
    assert handover_from_json(json.loads(handover.to_json())).open_until == open_until
    # a handover queued before it was kept reads as made out of hours
    older = json.loads(handover.to_json())
    del older["open_until"]
    assert handover_from_json(older).open_until is None
