"""The handover and MARAC jobs against each store (memory, SQLite, PostgreSQL) with an injected
clock: the handover enqueued once at 16:30 on working days only (never at a weekend or on a bank
holiday), Friday's naming Monday's duty manager, right across both clock changes, caught up late
after downtime, acknowledged by the right people only, and escalated at the next opening when
nobody acknowledged it; MARAC reminders on Tuesdays and Thursdays that are working days."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.interval import IntervalTrigger

from frontdoor.acting import Rules, Who
from frontdoor.alerts import DUTY_CHANNEL, AlertKind, OutboxItem, OutboxState, Recipient
from frontdoor.calendar import WorkingCalendar
from frontdoor.contact import Child, ContactState, Referrer, ReferrerType
from frontdoor.duty import (
    HANDOVER_ACK_REFUSED,
    HANDOVER_ACKNOWLEDGED,
    HandoverAcknowledged,
    HandoverEscalated,
    HandoverEscalation,
    HandoverPost,
    HandoverPosted,
    HandoverPostState,
    acknowledge_handover,
    escalate_due_handover,
    handover_acknowledgement,
    latest_posted_handover,
    post_due_handover,
)
from frontdoor.installation import FIRST_START, INSTALLATION_SUBJECT, SYSTEM_ACTOR, installed_at
from frontdoor.marac import MaracPosted, MaracReminder, post_due_marac_reminder
from frontdoor.policy import calendar_from, default_policy, parse_policy
from frontdoor.records import AuditEvent, ClockKind, Deadline, RotaEntry
from frontdoor.roles import Role
from frontdoor.systemclock import SettableClock
from frontdoor.unit_of_work import Store
from frontdoor.usecase import Refusal, RefusalReason
from scheduler.bank_holidays import england_and_wales_holidays
from scheduler.daily_jobs import (
    EDT_JOB_ID,
    HANDOVER_JOB_ID,
    MARAC_JOB_ID,
    WEEKLY_FIGURES_JOB_ID,
    daily_jobs,
)
from scheduler.jobs import front_door_jobs
from tests.store.samples import full_contact

LONDON = ZoneInfo("Europe/London")
POLICY = default_policy()
#: The calendar the bot builds: the holiday library's bank holidays and the policy's closures.
CALENDAR = calendar_from(POLICY, england_and_wales_holidays(range(2025, 2029)))

DUTY_MON = "aad-duty-monday"
DUTY_FRI = "aad-duty-friday"
DUTY_OTHER = "aad-duty-other"
TEAM_MANAGER = "aad-team-manager"
CONSULTANT = "aad-consultant"
WORKER = "aad-worker"

#: Fictional names that must never reach the outbox.
CHILD_NAME = "Zebedee Testchild"
REFERRER_NAME = "Testy McTestface"


def local(y: int, mo: int, d: int, h: int, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=LONDON)


#: When the service first started on the test database, unless a test says otherwise: well before
#: every day the tests post for, so catch-ups may reach back to them.
INSTALLED = local(2025, 12, 1, 9, 0)


async def installed(store: Store, at: datetime = INSTALLED) -> None:
    assert await installed_at(store.unit_of_work, at) == at


async def deliver(store: Store, at: datetime) -> int:
    """The dispatcher's part: every row due by ``at`` is sent to the duty channel; how many."""
    async with store.unit_of_work() as uow:
        claimed = await uow.alerts.claim(at, timedelta(minutes=1), limit=100)
        for item in claimed:
            await uow.alerts.mark_sent(item.id, f"activity-{item.id}", at, conversation_id="19:duty@thread")
        await uow.commit()
    return len(claimed)


async def staff(store: Store) -> None:
    await installed(store)
    async with store.unit_of_work() as uow:
        for person, role in [
            (DUTY_MON, Role.DUTY_MANAGER),
            (DUTY_FRI, Role.DUTY_MANAGER),
            (DUTY_OTHER, Role.DUTY_MANAGER),
            (TEAM_MANAGER, Role.TEAM_MANAGER),
            (CONSULTANT, Role.CONSULTANT),
            (WORKER, Role.SOCIAL_WORKER),
        ]:
            await uow.roles.grant(person, role)
        await uow.commit()


async def on_rota(store: Store, day: date, role: Role, person: str) -> None:
    async with store.unit_of_work() as uow:
        await uow.rota.set(RotaEntry(day, role, person))
        await uow.commit()


async def rows(store: Store, kind: AlertKind | None = None) -> list[OutboxItem]:
    """Every outbox row, oldest first, read through the port (ids may have gaps: on PostgreSQL an
    insert that found its key taken still uses up a sequence number)."""
    found: list[OutboxItem] = []
    async with store.unit_of_work() as uow:
        wanted = sum((await uow.alerts.counts()).values())
        item_id = 0
        while len(found) < wanted and item_id < 10_000:
            item_id += 1
            item = await uow.alerts.get(item_id)
            if item is not None:
                found.append(item)
    return [item for item in found if kind is None or item.kind is kind]


async def total(store: Store) -> int:
    async with store.unit_of_work() as uow:
        return sum((await uow.alerts.counts()).values())


async def post(store: Store, at: datetime) -> HandoverPosted | None:
    return await post_due_handover(store.unit_of_work, rules=Rules(at, CALENDAR, POLICY))


async def acknowledge(
    store: Store, day: date, person: str, roles: set[Role], at: datetime
) -> HandoverAcknowledged | Refusal:
    return await acknowledge_handover(
        store.unit_of_work(),
        day,
        who=Who(person, frozenset(roles)),
        rules=Rules(at, CALENDAR, POLICY),
    )


async def escalate(store: Store, at: datetime) -> HandoverEscalated | None:
    """The escalation job at ``at``, the dispatcher having sent what was due by then."""
    await deliver(store, at)
    return await escalate_due_handover(store.unit_of_work, rules=Rules(at, CALENDAR, POLICY))


async def a_reassigned_contact(store: Store, received: datetime) -> None:
    """A contact with the social worker, with a clock, whose child and referrer have names."""
    contact = replace(
        full_contact("c-sw", reference="CT-26-000042"),
        state=ContactState.SW_ASSESSMENT,
        assignee_id=WORKER,
        received_at=received,
        children=(Child(name=CHILD_NAME),),
        referrer=Referrer(type=ReferrerType.PROFESSIONAL, name=REFERRER_NAME, agency="Example School"),
    )
    async with store.unit_of_work() as uow:
        await uow.contacts.add(contact)
        await uow.deadlines.add(
            Deadline(
                "CT-26-000042",
                ClockKind.COMPLETION_48H,
                received,
                received + timedelta(hours=48),
                assignee_id=WORKER,
            )
        )
        await uow.commit()


# -- the handover ---------------------------------------------------------------------------------


async def test_the_handover_is_enqueued_once_at_half_past_four_on_a_working_day(store: Store) -> None:
    await staff(store)
    await a_reassigned_contact(store, local(2026, 3, 16, 9, 0))
    assert await post(store, local(2026, 3, 16, 16, 29, 59)) is None
    assert await total(store) == 0

    # several runs at once (on PostgreSQL, on separate connections, as several processes would)
    results = await asyncio.gather(*(post(store, local(2026, 3, 16, 16, 30)) for _ in range(4)))
    assert len([posted for posted in results if posted is not None]) == 1
    # again, later: still one row
    assert await post(store, local(2026, 3, 16, 16, 30, 30)) is None
    assert (
        await post_due_handover(store.unit_of_work, rules=Rules(local(2026, 3, 16, 16, 31), CALENDAR, POLICY))
        is None
    )
    [row] = await rows(store)
    assert row.kind is AlertKind.HANDOVER and row.subject == "handover:2026-03-16"
    assert row.recipient == DUTY_CHANNEL
    assert row.due_at == datetime(2026, 3, 16, 16, 30, tzinfo=UTC)  # GMT
    assert not row.late(datetime(2026, 3, 16, 16, 31, tzinfo=UTC))
    handover = HandoverPost.from_payload(row.payload).handover
    assert [item.reference for item in handover.reassigned] == ["CT-26-000042"]
    assert handover.reassigned[0].worker_id == WORKER
    assert CHILD_NAME not in row.payload and REFERRER_NAME not in row.payload


async def test_no_handover_at_a_weekend_or_on_a_bank_holiday(store: Store) -> None:
    await staff(store)
    # Thursday 2 April 2026 is a working day; Good Friday and Easter Monday are bank holidays.
    assert await post(store, local(2026, 4, 2, 16, 30)) is not None
    for day in (3, 4, 5, 6):
        assert await post(store, local(2026, 4, day, 16, 30)) is None, day
        assert await post(store, local(2026, 4, day, 23, 59)) is None, day
    assert [row.subject for row in await rows(store)] == ["handover:2026-04-02"]
    assert await post(store, local(2026, 4, 7, 16, 30)) is not None
    assert [row.subject for row in await rows(store)] == ["handover:2026-04-02", "handover:2026-04-07"]


async def test_a_closure_date_has_no_handover(store: Store) -> None:
    closed = parse_policy('[calendar]\nclosure_dates = ["2026-03-17"]\n')
    calendar = calendar_from(closed, ())
    assert await post_due_handover(
        store.unit_of_work, rules=Rules(local(2026, 3, 16, 16, 30), calendar, closed)
    )
    assert (
        await post_due_handover(store.unit_of_work, rules=Rules(local(2026, 3, 17, 16, 30), calendar, closed))
        is None
    )
    assert [row.subject for row in await rows(store)] == ["handover:2026-03-16"]


async def test_fridays_handover_mentions_mondays_duty_manager(store: Store) -> None:
    await staff(store)
    await on_rota(store, date(2026, 3, 13), Role.DUTY_MANAGER, DUTY_FRI)
    await on_rota(store, date(2026, 3, 16), Role.DUTY_MANAGER, DUTY_MON)
    posted = await post(store, local(2026, 3, 13, 16, 30))
    assert posted is not None
    [row] = await rows(store)
    handover = HandoverPost.from_payload(row.payload).handover
    assert (handover.day, handover.next_duty_day) == (date(2026, 3, 13), date(2026, 3, 16))
    assert handover.next_duty_managers == (DUTY_MON,) and handover.next_duty_managers_from_rota
    assert handover.next_opening == datetime(2026, 3, 16, 8, 30, tzinfo=UTC)


async def test_with_nobody_on_the_rota_every_duty_manager_is_named(store: Store) -> None:
    await staff(store)
    await post(store, local(2026, 3, 16, 16, 30))
    [row] = await rows(store)
    handover = HandoverPost.from_payload(row.payload).handover
    assert handover.next_duty_managers == tuple(sorted((DUTY_FRI, DUTY_MON, DUTY_OTHER)))
    assert not handover.next_duty_managers_from_rota


@pytest.mark.parametrize(
    ("friday", "monday", "friday_utc", "monday_utc", "opening_utc"),
    [
        # The clocks go back at 02:00 on Sunday 25 October 2026: Friday is BST, Monday GMT.
        (date(2026, 10, 23), date(2026, 10, 26), (15, 30), (16, 30), (8, 30)),
        # They go forward at 01:00 on Sunday 29 March 2026: Friday is GMT, Monday BST.
        (date(2026, 3, 27), date(2026, 3, 30), (16, 30), (15, 30), (7, 30)),
    ],
)
async def test_handover_times_across_a_clock_change(
    store: Store,
    friday: date,
    monday: date,
    friday_utc: tuple[int, int],
    monday_utc: tuple[int, int],
    opening_utc: tuple[int, int],
) -> None:
    def utc(day: date, hm: tuple[int, int]) -> datetime:
        return datetime(day.year, day.month, day.day, *hm, tzinfo=UTC)

    await staff(store)
    assert await post(store, utc(friday, friday_utc) - timedelta(seconds=1)) is None
    assert await post(store, utc(friday, friday_utc)) is not None
    # Friday's is escalated at Monday's opening, 08:30 London time, not an hour off.
    assert await escalate(store, utc(monday, opening_utc) - timedelta(seconds=1)) is None
    assert await escalate(store, utc(monday, opening_utc)) is not None
    assert await post(store, utc(monday, monday_utc) - timedelta(seconds=1)) is None
    assert await post(store, utc(monday, monday_utc)) is not None
    handovers = await rows(store, AlertKind.HANDOVER)
    assert [row.due_at for row in handovers] == [utc(friday, friday_utc), utc(monday, monday_utc)]
    [escalation] = [
        row for row in await rows(store, AlertKind.HANDOVER_ESCALATION) if row.recipient == DUTY_CHANNEL
    ]
    assert escalation.due_at == utc(monday, opening_utc)


async def test_a_handover_missed_while_the_bot_was_down_is_sent_late(store: Store) -> None:
    await staff(store)
    await on_rota(store, date(2026, 3, 17), Role.DUTY_MANAGER, DUTY_MON)
    # Down from 16:00 to 19:00 on Monday: caught up at start-up, marked late.
    posted = await post(store, local(2026, 3, 16, 19, 0))
    assert posted is not None and posted.late
    [row] = await rows(store)
    assert row.due_at == datetime(2026, 3, 16, 16, 30, tzinfo=UTC)
    assert row.late(datetime(2026, 3, 16, 19, 0, 5, tzinfo=UTC))
    assert HandoverPost.from_payload(row.payload).handover.made_at == datetime(2026, 3, 16, 19, 0, tzinfo=UTC)


async def test_a_handover_caught_up_after_midnight_hands_over_its_own_day(store: Store) -> None:
    await staff(store)
    await on_rota(store, date(2026, 3, 17), Role.DUTY_MANAGER, DUTY_MON)
    await on_rota(store, date(2026, 3, 18), Role.DUTY_MANAGER, DUTY_OTHER)
    assert await post(store, local(2026, 3, 17, 3, 0)) is not None
    [row] = await rows(store)
    handover = HandoverPost.from_payload(row.payload).handover
    assert row.subject == "handover:2026-03-16"
    assert (handover.day, handover.next_duty_day, handover.next_duty_managers) == (
        date(2026, 3, 16),
        date(2026, 3, 17),
        (DUTY_MON,),
    )


async def test_a_handover_is_not_caught_up_once_the_front_door_has_opened_again(store: Store) -> None:
    await staff(store)
    # Down from Monday afternoon to Tuesday 09:00: Monday's handover is not posted at all.
    assert await post(store, local(2026, 3, 17, 8, 30)) is None
    assert await post(store, local(2026, 3, 17, 9, 0)) is None
    assert await total(store) == 0


# -- acknowledging and escalating -----------------------------------------------------------------


async def test_only_the_incoming_duty_manager_or_a_team_manager_may_acknowledge(store: Store) -> None:
    await staff(store)
    await on_rota(store, date(2026, 3, 16), Role.DUTY_MANAGER, DUTY_FRI)
    await on_rota(store, date(2026, 3, 17), Role.DUTY_MANAGER, DUTY_MON)
    day, at = date(2026, 3, 16), local(2026, 3, 16, 17, 0)

    early = await acknowledge(store, day, DUTY_MON, {Role.DUTY_MANAGER}, at)
    assert isinstance(early, Refusal) and early.reason is RefusalReason.NOT_FOUND  # not posted yet
    await post(store, local(2026, 3, 16, 16, 30))

    for person, roles in [
        (DUTY_FRI, {Role.DUTY_MANAGER}),  # today's duty manager, not the incoming one
        (DUTY_OTHER, {Role.DUTY_MANAGER}),
        (CONSULTANT, {Role.CONSULTANT}),
        (DUTY_MON, {Role.CONSULTANT}),  # on the rota, but no longer holds the role
    ]:
        refused = await acknowledge(store, day, person, roles, at)
        assert isinstance(refused, Refusal) and refused.reason is RefusalReason.NOT_PERMITTED, person
        assert "incoming duty manager" in refused.message
    assert await handover_acknowledgement(store.unit_of_work(), day, CALENDAR, POLICY) is None

    done = await acknowledge(store, day, DUTY_MON, {Role.DUTY_MANAGER}, at)
    assert isinstance(done, HandoverAcknowledged) and done.new
    again = await acknowledge(store, day, TEAM_MANAGER, {Role.TEAM_MANAGER}, at + timedelta(minutes=5))
    assert isinstance(again, HandoverAcknowledged) and not again.new and again.ack.person_id == DUTY_MON
    ack = await handover_acknowledgement(store.unit_of_work(), day, CALENDAR, POLICY)
    assert ack is not None and (ack.person_id, ack.at) == (DUTY_MON, at.astimezone(UTC))

    async with store.unit_of_work() as uow:
        events = [stored.event for stored in await uow.audit.for_subject("handover:2026-03-16")]
    assert [(e.action, e.actor_id) for e in events] == [
        (HANDOVER_ACK_REFUSED, DUTY_FRI),
        (HANDOVER_ACK_REFUSED, DUTY_OTHER),
        (HANDOVER_ACK_REFUSED, CONSULTANT),
        (HANDOVER_ACK_REFUSED, DUTY_MON),
        (HANDOVER_ACKNOWLEDGED, DUTY_MON),
    ]


async def test_a_team_manager_may_acknowledge_and_with_nobody_on_the_rota_any_duty_manager(
    store: Store,
) -> None:
    await staff(store)
    await post(store, local(2026, 3, 16, 16, 30))
    await post(store, local(2026, 3, 17, 16, 30))
    by_tm = await acknowledge(
        store, date(2026, 3, 16), TEAM_MANAGER, {Role.TEAM_MANAGER}, local(2026, 3, 17, 8, 0)
    )
    assert isinstance(by_tm, HandoverAcknowledged) and by_tm.new
    by_dm = await acknowledge(
        store, date(2026, 3, 17), DUTY_OTHER, {Role.DUTY_MANAGER}, local(2026, 3, 18, 8, 0)
    )
    assert isinstance(by_dm, HandoverAcknowledged) and by_dm.new


async def test_an_acknowledgement_made_while_another_is_in_flight_is_told_it_was_second(
    store: Store,
) -> None:
    """Both read "nobody yet"; the second to append finds the first's row before its own, says
    so and records nothing (as "I've got this" does)."""
    await staff(store)
    await on_rota(store, date(2026, 3, 17), Role.DUTY_MANAGER, DUTY_MON)
    await post(store, local(2026, 3, 16, 16, 30))
    day, at, subject = date(2026, 3, 16), local(2026, 3, 16, 17, 0), "handover:2026-03-16"
    async with store.unit_of_work() as first:  # the team manager's acknowledgement, in flight
        ack = AuditEvent(at, TEAM_MANAGER, HANDOVER_ACKNOWLEDGED, subject, "as=team_manager")
        await first.audit.append(ack)
        pressed = asyncio.create_task(acknowledge(store, day, DUTY_MON, {Role.DUTY_MANAGER}, at))
        await asyncio.sleep(1)  # the press reads, then waits to append
        await first.commit()
    second = await asyncio.wait_for(pressed, 30)
    assert isinstance(second, HandoverAcknowledged), second
    assert not second.new and second.ack.person_id == TEAM_MANAGER
    async with store.unit_of_work() as uow:
        events = [e.event.action for e in await uow.audit.for_subject(subject)]
    assert events.count(HANDOVER_ACKNOWLEDGED) == 1


async def test_an_unacknowledged_handover_escalates_once_at_the_next_opening(store: Store) -> None:
    await staff(store)
    await on_rota(store, date(2026, 3, 17), Role.DUTY_MANAGER, DUTY_MON)
    await on_rota(store, date(2026, 3, 17), Role.TEAM_MANAGER, TEAM_MANAGER)
    await post(store, local(2026, 3, 16, 16, 30))
    assert await escalate(store, local(2026, 3, 16, 23, 0)) is None
    assert await escalate(store, local(2026, 3, 17, 8, 29, 59)) is None
    escalated = await escalate(store, local(2026, 3, 17, 8, 30))
    assert escalated is not None
    assert await escalate(store, local(2026, 3, 17, 8, 31)) is None
    assert await escalate(store, local(2026, 3, 17, 12, 0)) is None
    found = await rows(store, AlertKind.HANDOVER_ESCALATION)
    assert {row.recipient for row in found} == {Recipient.person(TEAM_MANAGER), DUTY_CHANNEL}
    for row in found:
        assert row.due_at == datetime(2026, 3, 17, 8, 30, tzinfo=UTC)
        escalation = HandoverEscalation.from_payload(row.payload)
        assert escalation.day == date(2026, 3, 16)
        assert escalation.next_duty_managers == (DUTY_MON,)
        assert escalation.team_managers == (TEAM_MANAGER,)


async def test_an_acknowledged_handover_does_not_escalate(store: Store) -> None:
    await staff(store)
    await post(store, local(2026, 3, 16, 16, 30))
    await acknowledge(store, date(2026, 3, 16), DUTY_MON, {Role.DUTY_MANAGER}, local(2026, 3, 17, 8, 5))
    assert await escalate(store, local(2026, 3, 17, 8, 30)) is None
    assert await escalate(store, local(2026, 3, 17, 15, 0)) is None
    assert await rows(store, AlertKind.HANDOVER_ESCALATION) == []


async def test_a_handover_never_posted_is_not_escalated(store: Store) -> None:
    await staff(store)
    assert await escalate(store, local(2026, 3, 17, 8, 30)) is None
    assert await total(store) == 0


async def test_fridays_handover_escalates_on_monday_and_after_a_bank_holiday_on_tuesday(store: Store) -> None:
    await staff(store)
    await post(store, local(2026, 3, 13, 16, 30))
    for moment in (local(2026, 3, 14, 8, 30), local(2026, 3, 15, 9, 0)):
        assert await escalate(store, moment) is None
    assert await escalate(store, local(2026, 3, 16, 8, 30)) is not None
    # Thursday 2 April 2026, before Good Friday and Easter Monday: escalated on Tuesday 7 April.
    await post(store, local(2026, 4, 2, 16, 30))
    for moment in (local(2026, 4, 3, 8, 30), local(2026, 4, 6, 8, 30)):
        assert await escalate(store, moment) is None
    assert await escalate(store, local(2026, 4, 7, 8, 30)) is not None
    subjects = {row.subject for row in await rows(store, AlertKind.HANDOVER_ESCALATION)}
    assert subjects == {"handover:2026-03-13", "handover:2026-04-02"}


# -- MARAC ----------------------------------------------------------------------------------------


async def marac(store: Store, at: datetime, calendar: WorkingCalendar = CALENDAR) -> MaracPosted | None:
    return await post_due_marac_reminder(store.unit_of_work, rules=Rules(at, calendar, POLICY))


async def test_marac_reminders_on_tuesdays_and_thursdays_once(store: Store) -> None:
    await installed(store)
    # Monday 16 to Sunday 22 March 2026
    for day in (16, 18, 20, 21, 22):
        assert await marac(store, local(2026, 3, day, 9, 30)) is None, day
    assert await marac(store, local(2026, 3, 17, 9, 29, 59)) is None
    tuesday = await marac(store, local(2026, 3, 17, 9, 30))
    assert tuesday is not None and not tuesday.late
    assert await marac(store, local(2026, 3, 17, 9, 31)) is None  # once
    assert await marac(store, local(2026, 3, 19, 9, 30)) is not None
    found = await rows(store)
    assert [row.subject for row in found] == ["marac:2026-03-17", "marac:2026-03-19"]
    for row in found:
        assert row.kind is AlertKind.MARAC_REMINDER and row.recipient == DUTY_CHANNEL
    reminder = MaracReminder.from_payload(found[0].payload)
    assert reminder.meeting_at == datetime(2026, 3, 17, 13, 0, tzinfo=UTC)
    assert found[0].due_at == datetime(2026, 3, 17, 9, 30, tzinfo=UTC)


async def test_no_marac_reminder_on_a_bank_holiday(store: Store) -> None:
    await installed(store)
    # New Year's Day 2026 is a Thursday; Boxing Day's substitute day in 2027 is Tuesday 28 December.
    assert await marac(store, local(2026, 1, 1, 9, 30)) is None
    assert await marac(store, local(2027, 12, 28, 9, 30)) is None
    assert await marac(store, local(2027, 12, 30, 9, 30)) is not None  # the Thursday after
    assert [row.subject for row in await rows(store)] == ["marac:2027-12-30"]


async def test_a_missed_marac_reminder_is_sent_late_until_the_meeting_starts(store: Store) -> None:
    await installed(store)
    late = await marac(store, local(2026, 3, 17, 12, 0))
    assert late is not None and late.late
    assert await marac(store, local(2026, 3, 19, 13, 0)) is None  # the meeting has started
    assert [row.subject for row in await rows(store)] == ["marac:2026-03-17"]


async def test_marac_follows_the_policy(store: Store) -> None:
    await installed(store)
    policy = parse_policy('[marac]\ndays = ["monday"]\nat = "11:00"\nreminder_at = "08:00"\n')
    calendar = calendar_from(policy, ())
    assert (
        await post_due_marac_reminder(
            store.unit_of_work, rules=Rules(local(2026, 3, 17, 9, 30), calendar, policy)
        )
        is None
    )
    assert await post_due_marac_reminder(
        store.unit_of_work, rules=Rules(local(2026, 3, 16, 8, 0), calendar, policy)
    )
    [row] = await rows(store)
    assert MaracReminder.from_payload(row.payload).meeting_at == datetime(2026, 3, 16, 11, 0, tzinfo=UTC)


# -- the jobs -------------------------------------------------------------------------------------


async def test_the_jobs_run_often_catch_up_at_start_and_decide_from_the_clock(store: Store) -> None:
    await staff(store)
    clock = SettableClock(local(2026, 3, 17, 9, 0))
    jobs = {job.id: job for job in daily_jobs(store.unit_of_work, clock, POLICY, CALENDAR)}
    assert set(jobs) == {HANDOVER_JOB_ID, MARAC_JOB_ID, EDT_JOB_ID, WEEKLY_FIGURES_JOB_ID}
    for job in jobs.values():
        assert job.catch_up
        assert isinstance(job.trigger, IntervalTrigger)
        assert job.trigger.interval == timedelta(seconds=POLICY.alerts.tick_seconds)
    assert {job.id for job in front_door_jobs(store.unit_of_work, clock, POLICY, CALENDAR)} >= set(jobs)

    assert await jobs[MARAC_JOB_ID].run() is None
    assert await jobs[WEEKLY_FIGURES_JOB_ID].run() is None  # a Tuesday: not the week's first working day
    clock.set(local(2026, 3, 17, 9, 30))
    assert await jobs[MARAC_JOB_ID].run() is not None
    clock.set(local(2026, 3, 17, 16, 30))
    ran = await jobs[HANDOVER_JOB_ID].run()
    assert isinstance(ran, tuple) and ran[0] is not None and ran[1] is None
    assert await deliver(store, clock.now()) == 2  # the MARAC reminder and the handover
    clock.set(local(2026, 3, 18, 8, 30))
    ran = await jobs[HANDOVER_JOB_ID].run()
    assert isinstance(ran, tuple) and ran[0] is None and ran[1] is not None
    counts = {state: n for state, n in (await _counts(store)).items() if n}
    assert counts == {OutboxState.SENT: 2, OutboxState.PENDING: 2}  # the escalation to the TM and channel


async def _counts(store: Store) -> dict[OutboxState, int]:
    async with store.unit_of_work() as uow:
        return await uow.alerts.counts()


def test_payloads_are_json_with_a_recipient() -> None:
    # the escalation and MARAC payload readers refuse what is not theirs
    with pytest.raises(ValueError):
        HandoverEscalation.from_payload(json.dumps({"recipient": "channel:duty"}))
    with pytest.raises(ValueError):
        MaracReminder.from_payload(json.dumps({"marac": {"day": "2026-03-17"}}))
    with pytest.raises(ValueError):
        HandoverPost.from_payload(
            json.dumps({"handover": {"day": "2026-03-17"}, "at": "2026-03-17T16:30:00Z"})
        )


# -- a new installation ---------------------------------------------------------------------------


async def test_a_fresh_database_started_on_a_monday_morning_posts_nothing_for_the_friday_before(
    store: Store,
) -> None:
    """The first start, at 08:20 on Monday 7 December 2026 (before the 08:30 opening, when a
    missed Friday handover is still caught up), is recorded; the start-up catch-up of the real
    jobs, and their runs at the opening and at 08:35, neither post nor escalate Friday 4
    December's handover, from before the service existed, nor a weekly figures card for the week
    before it existed. That Monday's own handover goes out at 16:30, on time."""
    first = local(2026, 12, 7, 8, 20)
    clock = SettableClock(first)
    jobs = {job.id: job for job in daily_jobs(store.unit_of_work, clock, POLICY, CALENDAR)}
    for moment in (first, local(2026, 12, 7, 8, 30), local(2026, 12, 7, 8, 35)):
        clock.set(moment)
        for job in jobs.values():
            assert job.catch_up
            assert await job.run() in (None, (None, None))
    assert await total(store) == 0
    assert await installed_at(store.unit_of_work, local(2026, 12, 8, 9, 0)) == first

    clock.set(local(2026, 12, 7, 16, 30))
    ran = await jobs[HANDOVER_JOB_ID].run()
    assert isinstance(ran, tuple) and ran[0] == HandoverPosted(date(2026, 12, 7), False, ())
    assert [row.subject for row in await rows(store, AlertKind.HANDOVER)] == ["handover:2026-12-07"]


async def test_a_catch_up_never_reaches_back_past_the_first_start(store: Store) -> None:
    # First started on Tuesday 17 March 2026 at 09:45, after the 09:30 MARAC reminder time and
    # after the Monday's handover: neither is caught up.
    await installed(store, local(2026, 3, 17, 9, 45))
    assert await marac(store, local(2026, 3, 17, 9, 46)) is None
    assert await post(store, local(2026, 3, 17, 9, 46)) is None
    # Down from 16:00 to 19:00 that day: its handover, due while the service existed, is caught up.
    posted = await post(store, local(2026, 3, 17, 19, 0))
    assert posted is not None and posted.late and posted.day == date(2026, 3, 17)
    # Down over Thursday's reminder: caught up late before the meeting.
    reminder = await marac(store, local(2026, 3, 19, 11, 0))
    assert reminder is not None and reminder.late
    assert [row.subject for row in await rows(store)] == ["handover:2026-03-17", "marac:2026-03-19"]


async def test_the_first_start_is_recorded_once_and_the_earliest_counts(store: Store) -> None:
    first = local(2026, 3, 16, 8, 0)
    assert await installed_at(store.unit_of_work, first) == first
    assert await installed_at(store.unit_of_work, first + timedelta(days=3)) == first
    async with store.unit_of_work() as uow:
        events = await uow.audit.for_subject(INSTALLATION_SUBJECT)
    assert [(item.event.action, item.event.actor_id, item.event.at) for item in events] == [
        (FIRST_START, SYSTEM_ACTOR, first.astimezone(UTC))
    ]


# -- an undelivered handover ----------------------------------------------------------------------


async def test_a_handover_never_delivered_is_not_escalated_as_unacknowledged(store: Store) -> None:
    """Monday's handover could not be posted (no duty channel): the row is given up on. At
    Tuesday's opening nothing says "nobody acknowledged it": it is shown as undelivered, and why."""
    await staff(store)
    await post(store, local(2026, 3, 16, 16, 30))
    async with store.unit_of_work() as uow:
        [item] = await uow.alerts.claim(local(2026, 3, 16, 16, 30), timedelta(minutes=1))
        await uow.alerts.mark_failed(item.id, "NoChannel: no duty channel is registered")
        await uow.commit()
    assert (
        await escalate_due_handover(
            store.unit_of_work, rules=Rules(local(2026, 3, 17, 8, 30), CALENDAR, POLICY)
        )
        is None
    )
    assert await escalate(store, local(2026, 3, 17, 12, 0)) is None
    assert [row.kind for row in await rows(store)] == [AlertKind.HANDOVER]
    state = await latest_posted_handover(
        store.unit_of_work(), rules=Rules(local(2026, 3, 17, 12, 0), CALENDAR, POLICY)
    )
    assert state == HandoverPostState(
        date(2026, 3, 16), OutboxState.FAILED, 1, "NoChannel: no duty channel is registered"
    )
    assert not state.delivered


async def test_a_handover_still_waiting_to_be_sent_escalates_only_once_delivered(store: Store) -> None:
    await staff(store)
    await post(store, local(2026, 3, 16, 16, 30))
    # Still pending at the opening (Teams kept answering 503): no escalation yet.
    assert (
        await escalate_due_handover(
            store.unit_of_work, rules=Rules(local(2026, 3, 17, 8, 30), CALENDAR, POLICY)
        )
        is None
    )
    state = await latest_posted_handover(
        store.unit_of_work(), rules=Rules(local(2026, 3, 17, 8, 30), CALENDAR, POLICY)
    )
    assert state is not None and state.state is OutboxState.PENDING and not state.delivered
    # Delivered at 08:40 and still unacknowledged: now it escalates.
    escalated = await escalate(store, local(2026, 3, 17, 8, 40))
    assert escalated is not None and escalated.day == date(2026, 3, 16)
