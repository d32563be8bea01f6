"""Out of hours and business continuity in the domain (SPEC §10): who an alert goes to out of
office hours, when the EDT handover is due, urgent-only mode's switches and what it holds."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.cards.continuity import continuity_card
from bot.dialogs.continuity import reply_text
from frontdoor.acting import Rules, Who
from frontdoor.alert_recipients import Staffing, recipients_for
from frontdoor.alert_schedule import PlannedAlert, alerts_due
from frontdoor.alerts import (
    DUTY_CHANNEL,
    EDT_CHANNEL,
    AlertKey,
    AlertKind,
    OutboxItem,
    OutboxState,
    Recipient,
)
from frontdoor.calendar import WorkingCalendar
from frontdoor.continuity import (
    CONTINUITY_SUBJECT,
    HELD_REASON,
    MAX_LISTED,
    SWITCHED_OFF,
    SWITCHED_ON,
    ContinuityNotice,
    holds,
    switch_urgent_only,
    urgent_only,
)
from frontdoor.dispatch import Dispatcher, SendReport
from frontdoor.edt import edt_handover_day, post_due_edt_handover, post_due_overnight_summary
from frontdoor.policy import PolicyError, default_policy, parse_policy
from frontdoor.records import (
    AuditEvent,
    ChannelPurpose,
    ChannelRegistration,
    ClockKind,
    ConversationKind,
    ConversationRecord,
    Deadline,
    DirectoryEntry,
    RotaEntry,
)
from frontdoor.roles import Role
from frontdoor.systemclock import SettableClock
from frontdoor.unit_of_work import Store
from frontdoor.usecase import Refusal, RefusalReason
from tests.fakes import InMemoryStore

#: Good Friday 2026 is a bank holiday.
CAL = WorkingCalendar(non_working_dates=frozenset({date(2026, 4, 3)}))
POLICY = default_policy()
SATURDAY = date(2026, 3, 21)
STAFFING = Staffing.of(
    rota=[
        RotaEntry(SATURDAY, Role.CONSULTANT, "consultant-on-rota"),
        RotaEntry(SATURDAY, Role.EDT, "edt-on-rota"),
    ],
    directory=[
        DirectoryEntry("edt-on-rota", frozenset({Role.EDT})),
        DirectoryEntry("edt-other", frozenset({Role.EDT})),
        DirectoryEntry("manager", frozenset({Role.TEAM_MANAGER})),
    ],
    edt_channel=True,
)
EDT = (Recipient.person("edt-on-rota"), EDT_CHANNEL)


@pytest.mark.parametrize(
    ("kind", "clock", "out_of_hours", "expected"),
    [
        (AlertKind.BREACHED, ClockKind.CP_DECISION, True, EDT),
        (AlertKind.DUE_SOON, ClockKind.CP_DECISION, True, EDT),
        (AlertKind.REPEAT, ClockKind.CP_DECISION, True, EDT),
        (AlertKind.ESCALATION, ClockKind.CP_DECISION, True, EDT),
        # Office hours: day staff as ever.
        (AlertKind.BREACHED, ClockKind.CP_DECISION, False, (Recipient.person("worker"), DUTY_CHANNEL)),
        # Not a child-protection clock: it waits for day staff.
        (AlertKind.BREACHED, ClockKind.SCREENING, True, (Recipient.person("worker"), DUTY_CHANNEL)),
        (AlertKind.DUE_SOON, ClockKind.COMPLETION_24H, True, (Recipient.person("worker"),)),
        # The end-of-day handover is the duty manager's, whatever the hour.
        (AlertKind.HANDOVER, None, True, (DUTY_CHANNEL,)),
    ],
)
def test_out_of_hours_child_protection_alerts_go_to_the_emergency_duty_team(
    kind: AlertKind, clock: ClockKind | None, out_of_hours: bool, expected: tuple[Recipient, ...]
) -> None:
    found = recipients_for(kind, "worker", SATURDAY, STAFFING, clock=clock, out_of_hours=out_of_hours)
    assert found == expected


def test_with_nobody_from_the_edt_on_the_rota_every_edt_holder_is_told() -> None:
    staffing = Staffing.of(directory=STAFFING.directory, edt_channel=True)
    found = recipients_for(
        AlertKind.BREACHED, None, SATURDAY, staffing, clock=ClockKind.CP_DECISION, out_of_hours=True
    )
    assert found == (Recipient.person("edt-on-rota"), Recipient.person("edt-other"), EDT_CHANNEL)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (AlertKind.BREACHED, (Recipient.person("worker"), DUTY_CHANNEL)),
        (AlertKind.DUE_SOON, (Recipient.person("worker"),)),
        (AlertKind.ESCALATION, (Recipient.person("manager"), DUTY_CHANNEL)),
    ],
)
def test_without_an_edt_channel_out_of_hours_cp_alerts_go_to_day_staff_not_to_nobody(
    kind: AlertKind, expected: tuple[Recipient, ...]
) -> None:
    """No EDT channel registered: the service does not use the bot out of hours (no EDT handover
    either), so a child-protection alert is routed as in office hours, whoever holds the EDT role."""
    staffing = replace(STAFFING, edt_channel=False)
    found = recipients_for(kind, "worker", SATURDAY, staffing, clock=ClockKind.CP_DECISION, out_of_hours=True)
    assert found == expected


def test_alerts_due_judges_office_hours_by_the_calendar() -> None:
    start = datetime(2026, 3, 21, 1, 0, tzinfo=UTC)
    deadline = Deadline("CT-26-000001", ClockKind.CP_DECISION, start, start + timedelta(hours=2), id=1)
    [alert] = alerts_due([deadline], start + timedelta(hours=2), CAL, POLICY, {}, staffing=STAFFING)
    assert alert.kind is AlertKind.BREACHED and alert.recipients == EDT
    weekday = datetime(2026, 3, 23, 10, 0, tzinfo=UTC)
    monday = Deadline("CT-26-000002", ClockKind.CP_DECISION, weekday, weekday + timedelta(hours=2), id=2)
    [alert] = alerts_due([monday], weekday + timedelta(hours=2), CAL, POLICY, {}, staffing=STAFFING)
    assert EDT_CHANNEL not in alert.recipients and DUTY_CHANNEL in alert.recipients


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 3, 20, 16, 59, tzinfo=UTC), None),  # Friday, still open
        (datetime(2026, 3, 20, 17, 0, tzinfo=UTC), date(2026, 3, 20)),
        (datetime(2026, 3, 21, 3, 0, tzinfo=UTC), date(2026, 3, 20)),  # Saturday: Friday's, late
        (datetime(2026, 3, 23, 8, 29, tzinfo=UTC), date(2026, 3, 20)),
        (datetime(2026, 3, 23, 8, 30, tzinfo=UTC), None),  # Monday opening: too late for it
        (datetime(2026, 3, 24, 6, 0, tzinfo=UTC), date(2026, 3, 23)),
        # Maundy Thursday's covers Good Friday and the weekend (British Summer Time: 17:00 is 16:00 UTC).
        (datetime(2026, 4, 2, 16, 0, tzinfo=UTC), date(2026, 4, 2)),
        (datetime(2026, 4, 3, 12, 0, tzinfo=UTC), date(2026, 4, 2)),
    ],
)
def test_the_edt_handover_is_due_from_closing_until_the_next_opening(
    now: datetime, expected: date | None
) -> None:
    assert edt_handover_day(now, CAL) == expected


@pytest.mark.parametrize(
    ("kind", "clock", "held"),
    [
        (AlertKind.DUE_SOON, ClockKind.SCREENING, True),
        (AlertKind.BREACHED, ClockKind.COMPLETION_48H, True),
        (AlertKind.LETTER_LAPSED, ClockKind.PARENT_LETTER, True),
        (AlertKind.MARAC_REMINDER, None, True),
        # "everything else queues" (SPEC §10): an untaken e-mail and the handover's escalation too
        (AlertKind.MAIL_UNTAKEN, None, True),
        (AlertKind.HANDOVER_ESCALATION, None, True),
        (AlertKind.URGENT_OUT_OF_HOURS, ClockKind.CP_DECISION, False),
        (AlertKind.DUE_SOON, ClockKind.CP_DECISION, False),
        (AlertKind.ESCALATION, ClockKind.CP_DECISION, False),
        (AlertKind.HANDOVER, None, False),
        (AlertKind.EDT_HANDOVER, None, False),
        (AlertKind.CONTINUITY, None, False),
        (AlertKind.EMAIL, ClockKind.SCREENING, False),
    ],
)
def test_urgent_only_mode_holds_everything_but_child_protection_clocks_and_its_own_posts(
    kind: AlertKind, clock: ClockKind | None, held: bool
) -> None:
    at = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
    key = AlertKey("CT-26-000001", clock, kind, 0, at)
    item = OutboxItem(1, key.text, key.subject, clock, kind, None, "{}", at, at, OutboxState.PENDING, 0, at)
    assert holds(item) is held


MONDAY = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
MANAGER_ROLES = frozenset({Role.TEAM_MANAGER})


@pytest.mark.parametrize(
    ("argument", "roles", "reason", "says"),
    [
        (
            "on staff shortage",
            frozenset({Role.CONSULTANT}),
            RefusalReason.NOT_PERMITTED,
            "only team managers",
        ),
        ("on", MANAGER_ROLES, RefusalReason.INVALID, "give the reason"),
        ("on " + "x" * 201, MANAGER_ROLES, RefusalReason.INVALID, "200 characters"),
        ("maybe", MANAGER_ROLES, RefusalReason.INVALID, "continuity on"),
        ("off", MANAGER_ROLES, RefusalReason.WRONG_STATE, "not in urgent-only mode"),
    ],
)
async def test_a_switch_that_cannot_be_made_changes_nothing(
    argument: str, roles: frozenset[Role], reason: RefusalReason, says: str
) -> None:
    store = InMemoryStore()
    result = await switch_urgent_only(
        store.unit_of_work(),
        argument,
        who=Who("tm-1", roles),
        rules=Rules(MONDAY, WorkingCalendar(), POLICY),
    )
    assert isinstance(result, Refusal) and result.reason is reason and says in result.message
    async with store.unit_of_work() as uow:
        assert await urgent_only(uow) is None
        assert await uow.alerts.listed() == []


async def test_switching_on_tells_the_channels_service_managers_and_the_policy_addresses_once() -> None:
    store = InMemoryStore()
    async with store.unit_of_work() as uow:
        await uow.roles.grant("sm-1", Role.SERVICE_MANAGER)
        await uow.commit()
    policy = parse_policy('[continuity]\nnotify = ["comms@example.org", "ccu@example.org"]\n')
    on = await switch_urgent_only(
        store.unit_of_work(),
        "on  Severe   weather",
        who=Who("tm-1", MANAGER_ROLES),
        rules=Rules(MONDAY, WorkingCalendar(), policy),
    )
    assert not isinstance(on, Refusal) and on.on and on.mode.reason == "Severe weather" and on.notices == 5
    async with store.unit_of_work() as uow:
        mode = await urgent_only(uow)
        recipients = sorted(item.recipient.text for item in await uow.alerts.listed())
    assert mode is not None and (mode.since, mode.by, mode.reason) == (MONDAY, "tm-1", "Severe weather")
    assert recipients == [
        "channel:decisions",
        "channel:duty",
        "email:ccu@example.org",
        "email:comms@example.org",
        "person:sm-1",
    ]
    again = await switch_urgent_only(
        store.unit_of_work(),
        "on again",
        who=Who("tm-2", MANAGER_ROLES),
        rules=Rules(MONDAY, WorkingCalendar(), policy),
    )
    assert isinstance(again, Refusal) and again.reason is RefusalReason.WRONG_STATE

    # Switching off lists (and withdraws) what was held, once per alert.
    due = MONDAY + timedelta(hours=4)
    alert = PlannedAlert(
        AlertKey("CT-26-000009", ClockKind.SCREENING, AlertKind.DUE_SOON, 0, due),
        due - timedelta(hours=1),
        MONDAY,
        None,
        (Recipient.person("c-1"), Recipient.person("c-2")),
        late=False,
    )
    async with store.unit_of_work() as uow:
        await uow.alerts.enqueue(alert.messages(), MONDAY)
        for item in await uow.alerts.claim(due, timedelta(minutes=1)):
            if item.kind is AlertKind.DUE_SOON:
                await uow.alerts.mark_held(item.id, HELD_REASON)
        await uow.commit()
    later = MONDAY + timedelta(hours=5, minutes=30)
    off = await switch_urgent_only(
        store.unit_of_work(),
        "OFF",
        who=Who("tm-2", MANAGER_ROLES),
        rules=Rules(later, WorkingCalendar(), policy),
    )
    assert not isinstance(off, Refusal) and not off.on and off.duration == timedelta(hours=5, minutes=30)
    assert [(held.subject, held.kind, held.due_at) for held in off.held] == [
        ("CT-26-000009", AlertKind.DUE_SOON, due)
    ]
    async with store.unit_of_work() as uow:
        assert await urgent_only(uow) is None
        assert await uow.alerts.listed(states=[OutboxState.HELD]) == []
        events = [stored.event for stored in await uow.audit.for_subject("continuity")]
    assert [(e.action, e.actor_id, e.detail) for e in events] == [
        ("continuity.on", "tm-1", "reason=Severe weather"),
        ("continuity.off", "tm-2", "duration_minutes=330; held=1"),
    ]


@pytest.mark.parametrize(
    "addresses", ['["not an address"]', '["a@b"]', '"comms@example.org"', '["x@example.org, y@example.org"]']
)
def test_the_policy_refuses_what_is_not_a_list_of_addresses(addresses: str) -> None:
    with pytest.raises(PolicyError, match=r"continuity\.notify"):
        parse_policy(f"[continuity]\nnotify = {addresses}\n")


async def test_without_an_edt_channel_there_is_no_edt_handover_nor_overnight_summary() -> None:
    store = InMemoryStore()
    friday_close = datetime(2026, 3, 20, 17, 0, tzinfo=UTC)
    monday_open = datetime(2026, 3, 23, 8, 30, tzinfo=UTC)
    assert await post_due_edt_handover(store.unit_of_work, rules=Rules(friday_close, CAL, POLICY)) is None
    assert await post_due_overnight_summary(store.unit_of_work, rules=Rules(monday_open, CAL, POLICY)) is None
    async with store.unit_of_work() as uow:
        registration = ChannelRegistration(ChannelPurpose.EDT, "19:edt", "admin", friday_close)
        await uow.channels.register(registration)
        await uow.commit()
    posted = await post_due_edt_handover(store.unit_of_work, rules=Rules(friday_close, CAL, POLICY))
    assert posted is not None and posted.day == date(2026, 3, 20) and not posted.late
    assert (
        await post_due_edt_handover(store.unit_of_work, rules=Rules(friday_close, CAL, POLICY)) is None
    )  # once
    summary = await post_due_overnight_summary(
        store.unit_of_work, rules=Rules(monday_open + timedelta(hours=2), CAL, POLICY)
    )
    assert summary is not None and summary.late
    async with store.unit_of_work() as uow:
        kinds = sorted(item.kind.value for item in await uow.alerts.listed())
    assert kinds == ["edt_handover", "overnight_summary"]


# -- urgent-only mode ending: nothing left held, on SQLite and PostgreSQL too ----------------------


async def _hold_screening_alerts(store: Store, count: int) -> list[datetime]:
    """Urgent-only mode on, and ``count`` screening due-soon alerts held by it (due one minute
    apart); returns their due times."""
    on = await switch_urgent_only(
        store.unit_of_work(),
        "on loss of IT",
        who=Who("tm-1", MANAGER_ROLES),
        rules=Rules(MONDAY, CAL, POLICY),
    )
    assert not isinstance(on, Refusal)
    dues = [MONDAY + timedelta(hours=4, minutes=n) for n in range(count)]
    messages = [
        message
        for n, due in enumerate(dues)
        for message in PlannedAlert(
            AlertKey(f"CT-26-{n + 1:06d}", ClockKind.SCREENING, AlertKind.DUE_SOON, 0, due),
            MONDAY + timedelta(minutes=1),
            MONDAY,
            None,
            (Recipient.person("c-1"),),
            late=False,
        ).messages()
    ]
    async with store.unit_of_work() as uow:
        await uow.alerts.enqueue(messages, MONDAY)
        for item in await uow.alerts.claim(MONDAY + timedelta(minutes=1), timedelta(minutes=1), count + 10):
            if item.kind is AlertKind.DUE_SOON:
                await uow.alerts.mark_held(item.id, HELD_REASON)
            else:  # the mode's own notices
                await uow.alerts.mark_sent(item.id, "activity", MONDAY)
        await uow.commit()
    return dues


async def test_switching_off_withdraws_every_held_row_and_counts_those_beyond_the_listed_ones(
    store: Store,
) -> None:
    """More held rows than one read returns: all are withdrawn (none stays held for ever); the 200
    due first are listed one by one and the rest counted by kind and clock, on the reply and card."""
    dues = await _hold_screening_alerts(store, 2_050)
    later = MONDAY + timedelta(hours=6)
    off = await switch_urgent_only(
        store.unit_of_work(), "off", who=Who("tm-1", MANAGER_ROLES), rules=Rules(later, CAL, POLICY)
    )
    assert not isinstance(off, Refusal) and len(off.held) == 2_050
    async with store.unit_of_work() as uow:
        assert await uow.alerts.listed(states=[OutboxState.HELD]) == []
        [notice_row, *_] = await uow.alerts.listed(kinds=[AlertKind.CONTINUITY], limit=1)
        audit = [stored.event.detail for stored in await uow.audit.for_subject("continuity")]
    assert audit[-1] == "duration_minutes=360; held=2050"
    notice = ContinuityNotice.from_payload(notice_row.payload)
    assert notice.held_count == 2_050 and [held.due_at for held in notice.held] == dues[:MAX_LISTED]
    assert notice.rest == ((AlertKind.DUE_SOON, ClockKind.SCREENING, 1_850),)
    card = continuity_card(notice, {})
    line = "…and 1,850 more, not listed one by one: 1,850 × Screening decision · Due soon."
    assert line in json.dumps(card, ensure_ascii=False)
    reply = reply_text(off)
    assert line in reply and reply.count("\n\n- CT-26-") == MAX_LISTED


@pytest.mark.parametrize("on", [True, False], ids=["on", "off"])
async def test_a_switch_made_while_another_is_in_flight_is_refused_and_keeps_nothing(
    store: Store, on: bool
) -> None:
    """Both read the mode as it was; the second to append finds the first's switch before its own
    and is refused: one switch audited, not two."""
    rules = Rules(MONDAY, WorkingCalendar(), default_policy())
    if not on:
        first_on = await switch_urgent_only(
            store.unit_of_work(), "on loss of IT", who=Who("tm-1", MANAGER_ROLES), rules=rules
        )
        assert not isinstance(first_on, Refusal), first_on
    action = SWITCHED_ON if on else SWITCHED_OFF
    detail = "reason=Staff shortage" if on else "duration_minutes=0; held=0"
    async with store.unit_of_work() as first:  # another manager's switch, in flight
        await first.audit.append(AuditEvent(MONDAY, "tm-2", action, CONTINUITY_SUBJECT, detail))
        pressed = asyncio.create_task(
            switch_urgent_only(
                store.unit_of_work(),
                "on staff shortage" if on else "off",
                who=Who("tm-3", MANAGER_ROLES),
                rules=rules,
            )
        )
        await asyncio.sleep(1)  # the press reads the mode, then waits to append
        await first.commit()
    refused = await asyncio.wait_for(pressed, 30)
    assert isinstance(refused, Refusal) and refused.reason is RefusalReason.WRONG_STATE, refused
    async with store.unit_of_work() as uow:
        events = [(e.event.action, e.event.actor_id) for e in await uow.audit.for_subject(CONTINUITY_SUBJECT)]
    assert events.count((action, "tm-2")) == 1 and (action, "tm-3") not in events


async def test_a_row_held_just_after_the_mode_ended_is_sent_not_held_for_ever(store: Store) -> None:
    """The race: a dispatcher reads the mode (on) for its batch, the team manager switches it off
    (which lists the rows held so far), then the dispatcher holds its row. The next dispatch finds
    the mode off and a row still held: it is sent, marked as released, not kept held."""
    await _hold_screening_alerts(store, 1)
    async with store.unit_of_work() as uow:
        [row] = await uow.alerts.listed(states=[OutboxState.HELD])
        await uow.alerts.mark_retry(row.id, MONDAY, "back to pending: claimed by the racing batch below")
        await uow.commit()
    async with store.unit_of_work() as uow:
        [claimed] = await uow.alerts.claim(MONDAY + timedelta(minutes=1), timedelta(minutes=1))
        await uow.commit()
    later = MONDAY + timedelta(hours=6)
    off = await switch_urgent_only(
        store.unit_of_work(), "off", who=Who("tm-1", MANAGER_ROLES), rules=Rules(later, CAL, POLICY)
    )
    assert not isinstance(off, Refusal) and off.held == ()  # the racing row was leased, not held
    async with store.unit_of_work() as uow:  # ...and the racing batch now holds it
        await uow.alerts.mark_held(claimed.id, HELD_REASON)
        await uow.deadlines.add(
            Deadline("CT-26-000001", ClockKind.SCREENING, MONDAY, MONDAY + timedelta(hours=4))
        )
        await uow.conversations.upsert(
            ConversationRecord(
                "a:chat-c-1", ConversationKind.PERSONAL, "t", "https://x/", "{}", MONDAY, user_id="c-1"
            )
        )
        await uow.commit()

    sent: list[str] = []

    class Sender:
        async def send(self, item: OutboxItem, conversation_id: str, now: datetime) -> SendReport:
            sent.append(item.key)
            return SendReport(activity_id="activity-1", conversation_id=conversation_id)

    clock = SettableClock(later + timedelta(seconds=30))
    await Dispatcher(store.unit_of_work, Sender(), clock, rate_clock=clock).dispatch_due()
    async with store.unit_of_work() as uow:
        item = await uow.alerts.get(claimed.id)
    assert item is not None and item.state is OutboxState.SENT and sent == [claimed.key]
