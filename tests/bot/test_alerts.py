"""Deadline alerts end to end (SPEC §7): the real app over HTTP with the scheduler on, SQLite and
PostgreSQL, the loopback Teams channel and an injected clock. The tests drive the deadline tick and
the dispatcher directly (``app[ALERTS]``) with the clock moved on, instead of waiting real time; the
scheduler's own start-up catch-up runs too, and is what the downtime test relies on.

Deliveries are counted by the alert key every alert card carries in its "I've got this" data.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestServer

from bot.app import ALERTS, CALENDAR, SCHEDULER, SETTINGS, create_app
from bot.cards.alerts import ACK_VERB, ALERT_KEY
from bot.settings import DEVELOPMENT, Settings
from frontdoor.acting import Rules, Who
from frontdoor.alerts import AlertKind, OutboxItem, OutboxState
from frontdoor.casework import ParentLetterSent, record_parents_unreachable
from frontdoor.records import ClockKind, Deadline, DeadlineState, RotaEntry
from frontdoor.roles import Role
from frontdoor.systemclock import SettableClock
from store.sql import SqlStore
from tests.bot.alert_helpers import (
    OTHER_TEAM_MANAGER,
    REFERENCE,
    TEAM_MANAGER,
    alert_key_of,
    alerts,
    deliveries,
    outbox_rows,
    personal,
    ready,
    start_clock,
    tick_at,
    wait_for,
    with_cp_clock,
)
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.intake_script import (
    ADMIN,
    CONSULTANT,
    CONSULTANT_2,
    DUTY_MANAGER,
    MONDAY_10AM,
    OFFICER,
    PROFESSIONAL,
    SOCIAL_WORKER,
    audit,
    duty_channel,
    grant,
    introduce,
    register_channels,
    texts_of,
)
from tests.frontdoor.decision_builders import ROUTE_IV, route, screened, seat, submitted
from tests.harness.teams import Conversation, TeamsChannel, TeamsUser

# -- helpers ----------------------------------------------------------------------------------------


def kinds(teams: TeamsChannel, conversation: Conversation | str) -> list[tuple[str, int]]:
    return [(key.kind.value, key.sequence) for key, _ in deliveries(teams, conversation)]


async def on_rota(bot: RunningBot, user: TeamsUser, role: Role, day: datetime) -> None:
    async with bot.store.unit_of_work() as uow:
        await uow.rota.set(RotaEntry(day.astimezone(bot.app[CALENDAR].tz).date(), role, user.aad_object_id))
        await uow.commit()


# -- who gets what, when ------------------------------------------------------------------------------


async def test_due_soon_goes_to_the_assignee_and_the_breach_to_the_assignee_and_the_duty_channel(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    clock = SettableClock(MONDAY_10AM)
    bot = await ready(start_bot, teams_channel, clock)
    deadline = await start_clock(bot, ClockKind.COMPLETION_24H, MONDAY_10AM, assignee=SOCIAL_WORKER)
    assert deadline.due_at == MONDAY_10AM + timedelta(hours=24)
    worker, duty = personal(teams_channel, SOCIAL_WORKER), duty_channel(teams_channel)

    # Counted as one working day (8h30 of office time), a quarter of it is left at 16:22:30 on
    # Monday, in office hours when someone can act, not at 04:00 on Tuesday.
    await tick_at(bot, clock, datetime(2026, 3, 16, 16, 22, 29, tzinfo=UTC))
    assert kinds(teams_channel, worker) == []
    await tick_at(bot, clock, datetime(2026, 3, 16, 16, 22, 30, tzinfo=UTC))
    assert kinds(teams_channel, worker) == [("due_soon", 0)]
    assert kinds(teams_channel, duty) == []
    [(_, soon)] = deliveries(teams_channel, worker)
    assert soon.card is not None
    text = texts_of(soon.card)
    assert "Due soon: Completion (24 hours)" in text and REFERENCE in text
    assert "Tue 17 Mar 2026 10:00" in text and "Wren Workerperson" in text and "Late" not in text

    await tick_at(bot, clock, datetime(2026, 3, 17, 10, 0, tzinfo=UTC))
    assert kinds(teams_channel, worker) == [("due_soon", 0), ("breached", 0)]
    assert kinds(teams_channel, duty) == [("breached", 0)]
    [(_, post)] = deliveries(teams_channel, duty)
    assert [mention.name for mention in post.mentions] == ["Wren Workerperson"]
    assert "Breached: Completion (24 hours)" in (post.text or "")

    # Nothing twice, however often the tick runs; a completion clock is not repeated.
    for minutes in (1, 30, 90, 600):
        await tick_at(bot, clock, datetime(2026, 3, 17, 10, 0, tzinfo=UTC) + timedelta(minutes=minutes))
    assert kinds(teams_channel, worker) == [("due_soon", 0), ("breached", 0)]
    assert kinds(teams_channel, duty) == [("breached", 0)]
    rows = await outbox_rows(bot)
    assert sorted(row.state for row in rows) == [OutboxState.SENT] * 3
    counted = (len(deliveries(teams_channel, worker)), len(deliveries(teams_channel, duty)))
    print(f"\ndeliveries: worker={counted[0]} duty={counted[1]}")


async def test_an_unassigned_clock_warns_the_consultant_on_the_rota(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    clock = SettableClock(MONDAY_10AM)
    bot = await ready(start_bot, teams_channel, clock)
    await on_rota(bot, CONSULTANT_2, Role.CONSULTANT, MONDAY_10AM)
    # An urgent contact's 2-hour child-protection clock, nobody assigned yet: due soon at 11:30.
    await start_clock(bot, ClockKind.CP_DECISION, MONDAY_10AM)
    await tick_at(bot, clock, MONDAY_10AM + timedelta(minutes=90))
    assert kinds(teams_channel, personal(teams_channel, CONSULTANT_2)) == [("due_soon", 0)]
    assert kinds(teams_channel, personal(teams_channel, CONSULTANT)) == []
    assert kinds(teams_channel, duty_channel(teams_channel)) == []
    [(_, soon)] = deliveries(teams_channel, personal(teams_channel, CONSULTANT_2))
    assert soon.card is not None and "nobody (unassigned)" in texts_of(soon.card)


async def test_a_breached_cp_clock_repeats_every_half_hour_then_escalates_to_the_team_manager_on_the_rota(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    clock = SettableClock(MONDAY_10AM)
    bot = await ready(start_bot, teams_channel, clock)
    await on_rota(bot, CONSULTANT, Role.CONSULTANT, MONDAY_10AM)
    await on_rota(bot, TEAM_MANAGER, Role.TEAM_MANAGER, MONDAY_10AM)
    await start_clock(bot, ClockKind.CP_DECISION, MONDAY_10AM)
    due = MONDAY_10AM + timedelta(hours=2)
    consultant, duty = personal(teams_channel, CONSULTANT), duty_channel(teams_channel)
    manager, other_manager = (
        personal(teams_channel, TEAM_MANAGER),
        personal(teams_channel, OTHER_TEAM_MANAGER),
    )

    # Every 30 seconds from 11:29 to 14:00, as the scheduler would.
    moment = due - timedelta(minutes=31)
    while moment <= due + timedelta(hours=2):
        await tick_at(bot, clock, moment)
        moment += timedelta(seconds=30)

    assert kinds(teams_channel, consultant) == [
        ("due_soon", 0),
        ("breached", 0),
        ("repeat", 1),
        ("repeat", 2),
    ]
    assert kinds(teams_channel, duty) == [("breached", 0), ("repeat", 1), ("repeat", 2), ("escalation", 0)]
    assert kinds(teams_channel, manager) == [("escalation", 0)]
    assert kinds(teams_channel, other_manager) == []  # not on the rota today
    rows = {(row.alert_key.kind, row.alert_key.sequence): row for row in await outbox_rows(bot)}
    assert rows[(AlertKind.REPEAT, 1)].due_at == due + timedelta(minutes=30)
    assert rows[(AlertKind.REPEAT, 2)].due_at == due + timedelta(minutes=60)
    assert rows[(AlertKind.ESCALATION, 0)].due_at == due + timedelta(minutes=90)
    assert all(
        row.sent_at is not None and row.sent_at - row.due_at < timedelta(minutes=1) for row in rows.values()
    )
    [(_, escalation)] = [
        pair for pair in deliveries(teams_channel, duty) if pair[0].kind is AlertKind.ESCALATION
    ]
    assert [mention.name for mention in escalation.mentions] == ["Tam Teammanagerperson"]
    assert escalation.card is not None and "Escalated to the team manager" in texts_of(escalation.card)
    counted = [len(deliveries(teams_channel, place)) for place in (consultant, duty, manager)]
    print(f"\nconsultant={counted[0]} duty={counted[1]} team manager={counted[2]}")


# -- "I've got this" ------------------------------------------------------------------------------


async def test_taking_a_breach_stops_the_repeats_and_updates_every_copy(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, clock, due = await with_cp_clock(start_bot, teams_channel)
    await tick_at(bot, clock, due - timedelta(minutes=30))
    await tick_at(bot, clock, due)
    worker, duty = personal(teams_channel, SOCIAL_WORKER), duty_channel(teams_channel)
    assert kinds(teams_channel, worker) == [("due_soon", 0), ("breached", 0)]
    [(key, post)] = deliveries(teams_channel, duty)

    clock.set(due + timedelta(minutes=10))
    reply = await teams_channel.execute(
        duty, DUTY_MANAGER, ACK_VERB, {ALERT_KEY: key.text}, card_activity_id=post.activity_id
    )
    assert reply.status == 200 and reply.card is not None
    assert "Taken by Dara Dutyperson at Mon 16 Mar 2026 12:10" in texts_of(reply.card)
    assert alert_key_of(reply.card) is None  # the button has gone

    # Every sent copy is updated in place: the duty channel's and both in the worker's chat.
    copies = {item.activity_id for item in await outbox_rows(bot) if item.activity_id}
    assert len(copies) == 3
    await wait_for(lambda: {u.activity_id for u in teams_channel.updates_to(None)} >= copies)
    for activity_id in copies:
        shown = teams_channel.message(activity_id)
        assert shown is not None and "Taken by Dara Dutyperson" in json.dumps(shown)

    [event] = [e for e in await audit(bot) if e.action == "alert.acknowledged"]
    assert (event.actor_id, event.subject, event.detail) == (
        DUTY_MANAGER.aad_object_id,
        REFERENCE,
        "clock=cp_decision",
    )

    # No repeat and no escalation for a breach someone has.
    moment = due
    while moment <= due + timedelta(hours=3):
        await tick_at(bot, clock, moment)
        moment += timedelta(minutes=5)
    assert kinds(teams_channel, worker) == [("due_soon", 0), ("breached", 0)]
    assert kinds(teams_channel, duty) == [("breached", 0)]

    # A second press, by someone else, says who has it and changes nothing.
    again = await teams_channel.execute(
        worker,
        SOCIAL_WORKER,
        ACK_VERB,
        {ALERT_KEY: key.text},
        card_activity_id=deliveries(teams_channel, worker)[1][1].activity_id,
    )
    assert again.card is not None
    assert "Dara Dutyperson already had this" in texts_of(again.card)
    assert "Taken by Dara Dutyperson at Mon 16 Mar 2026 12:10" in texts_of(again.card)
    assert len([e for e in await audit(bot) if e.action == "alert.acknowledged"]) == 1


async def test_only_staff_who_may_view_contacts_can_take_an_alert(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, clock, due = await with_cp_clock(start_bot, teams_channel)
    await tick_at(bot, clock, due)
    duty = duty_channel(teams_channel)
    [(key, post)] = deliveries(teams_channel, duty)

    # A partner professional (not in the directory) and an administrator (no case access).
    for outsider in (PROFESSIONAL, ADMIN):
        reply = await teams_channel.execute(
            duty, outsider, ACK_VERB, {ALERT_KEY: key.text}, card_activity_id=post.activity_id
        )
        assert reply.status == 200 and reply.card is None
        assert "Sorry, only" in reply.text
    # A forged or garbled key changes nothing either.
    for data in ({ALERT_KEY: "a1|CT-26-000101|cp_decision|nonsense|0|x"}, {ALERT_KEY: 7}, {}):
        reply = await teams_channel.execute(
            duty, DUTY_MANAGER, ACK_VERB, data, card_activity_id=post.activity_id
        )
        assert reply.status == 200 and "could not be read" in reply.text

    assert [e.action for e in await audit(bot) if e.action.startswith("alert.")] == []
    refused = [e for e in await audit(bot) if e.action == "access.refused"]
    assert [(e.actor_id, e.subject) for e in refused] == [
        (PROFESSIONAL.aad_object_id, "verb:alert.ack"),
        (ADMIN.aad_object_id, "verb:alert.ack"),
    ]
    assert teams_channel.updates_to(duty) == []
    # Still nobody has it: the breach repeats.
    await tick_at(bot, clock, due + timedelta(minutes=30))
    assert kinds(teams_channel, duty) == [("breached", 0), ("repeat", 1)]


async def test_an_officer_may_not_take_a_cp_breach_the_consultant_on_duty_may_and_due_soon_only_informs(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    clock = SettableClock(MONDAY_10AM)
    bot = await ready(start_bot, teams_channel, clock)
    await on_rota(bot, CONSULTANT_2, Role.CONSULTANT, MONDAY_10AM)
    for person in (OFFICER, CONSULTANT):
        await introduce(teams_channel, person)
    # An urgent contact's child-protection clock, nobody assigned: due soon 11:30, breached 12:00.
    await start_clock(bot, ClockKind.CP_DECISION, MONDAY_10AM)
    due = MONDAY_10AM + timedelta(hours=2)
    duty, on_duty = duty_channel(teams_channel), personal(teams_channel, CONSULTANT_2)

    await tick_at(bot, clock, due - timedelta(minutes=30))
    [(soon_key, soon)] = deliveries(teams_channel, on_duty)
    assert soon_key.kind is AlertKind.DUE_SOON and soon.card is not None
    assert alert_key_of(soon.card) is None  # no "I've got this" on a due-soon alert
    assert "For information: a due-soon alert is not taken" in texts_of(soon.card)
    # Even a forged press on it is refused: a due-soon alert stops nothing.
    forged = await teams_channel.execute(
        on_duty, CONSULTANT_2, ACK_VERB, {ALERT_KEY: soon_key.text}, card_activity_id=soon.activity_id
    )
    assert "A due-soon alert is for information" in forged.text

    await tick_at(bot, clock, due)
    [(key, post)] = deliveries(teams_channel, duty)
    assert key.kind is AlertKind.BREACHED
    before = len(await audit(bot))

    # The officer sees the duty channel's copy but can act on no threshold decision: refused.
    refused = await teams_channel.execute(
        duty, OFFICER, ACK_VERB, {ALERT_KEY: key.text}, card_activity_id=post.activity_id
    )
    assert refused.status == 200 and refused.card is None
    assert (
        "only the people this alert was sent to, consultants and managers (and, for a child-protection "
        "clock, the emergency duty team) can take it" in refused.text
    )
    rows = (await audit(bot))[before:]
    assert [(e.action, e.actor_id, e.detail) for e in rows] == [
        ("alert.ack_refused", OFFICER.aad_object_id, "clock=cp_decision; reason=not_permitted")
    ]
    assert teams_channel.updates_to(duty) == []
    await tick_at(bot, clock, due + timedelta(minutes=30))
    assert kinds(teams_channel, duty) == [("breached", 0), ("repeat", 1)]  # nothing stopped

    # A consultant who was not sent it may take it: their role acts on the clock.
    [(repeat_key, repeat)] = deliveries(teams_channel, duty)[1:]
    taken = await teams_channel.execute(
        duty, CONSULTANT, ACK_VERB, {ALERT_KEY: repeat_key.text}, card_activity_id=repeat.activity_id
    )
    assert taken.card is not None and "Taken by Cora Consultantperson" in texts_of(taken.card)
    assert [e.actor_id for e in await audit(bot) if e.action == "alert.acknowledged"] == [
        CONSULTANT.aad_object_id
    ]
    moment = due + timedelta(minutes=30)
    while moment <= due + timedelta(hours=2):
        await tick_at(bot, clock, moment)
        moment += timedelta(minutes=10)
    assert kinds(teams_channel, duty) == [("breached", 0), ("repeat", 1)]  # no more repeats, no escalation


# -- downtime -------------------------------------------------------------------------------------


async def test_an_alert_due_while_the_bot_was_down_is_sent_on_restart_marked_late(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, clock, _ = await with_cp_clock(start_bot, teams_channel)
    await tick_at(bot, clock, MONDAY_10AM + timedelta(minutes=20))
    worker, duty = personal(teams_channel, SOCIAL_WORKER), duty_channel(teams_channel)
    assert kinds(teams_channel, worker) == []

    # Down from 10:20 to 12:45: due soon (11:30), the breach (12:00) and repeat 1 (12:30) all fell due.
    await bot.server.close()
    restarted = SettableClock(MONDAY_10AM + timedelta(hours=2, minutes=45))
    await start_bot(clock=restarted)  # the scheduler's catch-up at start-up does the rest
    await wait_for(
        lambda: len(deliveries(teams_channel, worker)) + len(deliveries(teams_channel, duty)) >= 2, 10
    )

    # The due-soon warning is superseded by the breach, and the repeat is folded into it.
    assert kinds(teams_channel, worker) == [("breached", 0)]
    assert kinds(teams_channel, duty) == [("breached", 0)]
    for _, post in deliveries(teams_channel, worker) + deliveries(teams_channel, duty):
        assert post.card is not None
        assert "Late: this alert was due at Mon 16 Mar 2026 12:00." in texts_of(post.card)
        assert "(late)" in (post.text or "")


# -- failures ---------------------------------------------------------------------------------------


async def test_throttled_then_unavailable_then_blocked_waits_retries_and_reroutes_to_the_duty_channel(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, clock, due = await with_cp_clock(start_bot, teams_channel)
    worker, duty = personal(teams_channel, SOCIAL_WORKER), duty_channel(teams_channel)
    worker_row = next(
        row
        for row in await _after_tick_rows(bot, clock, due - timedelta(minutes=30))
        if row.alert_key.kind is AlertKind.DUE_SOON
    )
    assert worker_row.state is OutboxState.SENT

    # 1. Teams throttles the worker's chat: wait as long as Retry-After says.
    teams_channel.fail_next(worker.id, 429, headers={"Retry-After": "2"})
    await tick_at(bot, clock, due)
    breach = await _row(bot, AlertKind.BREACHED, f"person:{SOCIAL_WORKER.aad_object_id}")
    # (a throttled try gives its attempt back: throttling uses up none of them)
    assert (breach.state, breach.attempts) == (OutboxState.PENDING, 0)
    assert breach.next_attempt_at == due + timedelta(seconds=2)
    assert breach.last_error.startswith("HTTP 429 Throttled: retried until Teams takes it")
    assert kinds(teams_channel, duty) == [("breached", 0)]  # the channel's copy is not held up

    # Not before its time.
    clock.set(due + timedelta(seconds=1))
    assert (await alerts(bot).dispatch()).claimed == 0

    # 2. Then unavailable: exponential backoff with jitter, at most 2 s before the first retry.
    teams_channel.fail_next(worker.id, 503)
    clock.set(due + timedelta(seconds=2))
    report = await alerts(bot).dispatch()
    assert (report.claimed, report.retried) == (1, 1)
    breach = await _row(bot, AlertKind.BREACHED, f"person:{SOCIAL_WORKER.aad_object_id}")
    assert breach.state is OutboxState.PENDING and breach.attempts == 1
    assert clock.now() <= breach.next_attempt_at <= clock.now() + timedelta(seconds=2)
    assert breach.last_error.startswith("HTTP 503 ServiceUnavailable: retry 1")

    # 3. Then the worker has blocked the bot: permanent. The reference is marked dead and the alert
    #    goes to the duty channel instead, saying why.
    teams_channel.fail_next(worker.id, 403, code="ConversationBlockedByUser")
    clock.set(breach.next_attempt_at)
    report = await alerts(bot).dispatch()
    assert (report.failed, report.rerouted, report.sent) == (1, 1, 1)
    breach = await _row(bot, AlertKind.BREACHED, f"person:{SOCIAL_WORKER.aad_object_id}")
    assert breach.state is OutboxState.FAILED and breach.attempts == 2
    assert breach.last_error.startswith("HTTP 403 ConversationBlockedByUser")
    async with bot.store.unit_of_work() as uow:
        dead = await uow.conversations.dead()
        failed = await uow.alerts.failed()
    assert [record.conversation_id for record in dead] == [worker.id]
    # (The start-up catch-up enqueued Monday's figures card before the duty channel was registered:
    # it failed for want of a channel. Only the deadline alerts matter here.)
    assert [item.id for item in failed if item.clock is not None] == [breach.id]

    statuses = [
        call.status
        for call in teams_channel.calls
        if call.conversation_id == worker.id and call.method == "POST"
    ]
    assert statuses[-3:] == [429, 503, 403]
    assert kinds(teams_channel, duty) == [("breached", 0), ("breached", 0)]
    _, rerouted = deliveries(teams_channel, duty)[1]
    assert rerouted.card is not None
    assert "could not be delivered to Wren Workerperson (HTTP 403 ConversationBlockedByUser" in texts_of(
        rerouted.card
    )

    # Later alerts for the worker skip the dead chat and go straight to the duty channel.
    await tick_at(bot, clock, due + timedelta(minutes=30))
    assert kinds(teams_channel, duty)[-2:] == [("repeat", 1), ("repeat", 1)]
    print(f"\nworker chat calls: {statuses}; duty channel deliveries: {len(deliveries(teams_channel, duty))}")


async def _after_tick_rows(bot: RunningBot, clock: SettableClock, moment: datetime) -> list[OutboxItem]:
    await tick_at(bot, clock, moment)
    return await outbox_rows(bot)


async def _row(bot: RunningBot, kind: AlertKind, recipient: str) -> OutboxItem:
    found = [
        row
        for row in await outbox_rows(bot)
        if row.alert_key.kind is kind and row.key.endswith(f"#{recipient}")
    ]
    assert len(found) == 1, found
    return found[0]


async def test_many_alerts_to_one_channel_stay_under_teams_rate_limits(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    clock = SettableClock(MONDAY_10AM)
    bot = await start_bot(clock=clock)
    await grant(bot, ADMIN, Role.ADMIN)
    await register_channels(teams_channel, decisions=False)
    # Nobody in the directory to tell in person: every breach goes to the duty channel alone.
    count = 14
    for index in range(count):
        await start_clock(bot, ClockKind.CP_DECISION, MONDAY_10AM, subject=f"CT-26-{index + 200:06d}")
    clock.set(MONDAY_10AM + timedelta(hours=2))
    await alerts(bot).tick()
    await wait_for(lambda: len(deliveries(teams_channel, duty_channel(teams_channel))) >= count, within=10)

    arrivals = sorted(post.at for _, post in deliveries(teams_channel, duty_channel(teams_channel)))
    assert len(arrivals) == count
    # Teams: at most 7 in any second and 8 in any 2 seconds to one conversation.
    assert all(arrivals[i + 7] - arrivals[i] >= timedelta(seconds=1) for i in range(len(arrivals) - 7))
    assert all(arrivals[i + 8] - arrivals[i] >= timedelta(seconds=2) for i in range(len(arrivals) - 8))
    spread = (arrivals[-1] - arrivals[0]).total_seconds()
    assert spread >= 2
    print(f"\n{count} alerts to one channel in {spread:.2f} s")


# -- the working calendar -------------------------------------------------------------------------

CALENDAR_CASES = [
    # A screening decision (1 working day) received on a Friday afternoon: due Monday at the same time.
    pytest.param(
        datetime(2026, 3, 20, 15, 0, tzinfo=UTC),
        datetime(2026, 3, 23, 15, 0, tzinfo=UTC),
        # a quarter of 8.5 office hours (2 h 7 min 30 s) before, in office time
        datetime(2026, 3, 23, 12, 52, 30, tzinfo=UTC),
        "Mon 23 Mar 2026 15:00",
        id="friday",
    ),
    # Received on the Thursday before Easter: Good Friday and Easter Monday are bank holidays.
    pytest.param(
        datetime(2026, 4, 2, 10, 0, tzinfo=UTC),  # 11:00 BST
        datetime(2026, 4, 7, 10, 0, tzinfo=UTC),
        datetime(2026, 4, 7, 7, 52, 30, tzinfo=UTC),  # 08:52:30 BST
        "Tue 7 Apr 2026 11:00",
        id="bank-holiday",
    ),
    # Received on the Friday before the clocks go back: due at the same wall-clock time on Monday
    # (10:00 BST on Friday, 10:00 GMT on Monday, 25 hours later than the same UTC time); the warning
    # falls on Friday afternoon, in office time.
    pytest.param(
        datetime(2026, 10, 23, 9, 0, tzinfo=UTC),
        datetime(2026, 10, 26, 10, 0, tzinfo=UTC),
        datetime(2026, 10, 23, 15, 22, 30, tzinfo=UTC),  # 16:22:30 BST
        "Mon 26 Oct 2026 10:00",
        id="clock-change",
    ),
]


@pytest.mark.parametrize(("start", "due", "soon", "shown"), CALENDAR_CASES)
async def test_alert_times_follow_the_working_calendar(
    start_bot: StartBot,
    teams_channel: TeamsChannel,
    start: datetime,
    due: datetime,
    soon: datetime,
    shown: str,
) -> None:
    clock = SettableClock(start)
    bot = await ready(start_bot, teams_channel, clock)
    deadline = await start_clock(bot, ClockKind.SCREENING, start, assignee=CONSULTANT)
    assert deadline.due_at == due
    consultant, duty = personal(teams_channel, CONSULTANT), duty_channel(teams_channel)

    await tick_at(bot, clock, soon - timedelta(seconds=1))
    assert kinds(teams_channel, consultant) == []
    await tick_at(bot, clock, soon)
    assert kinds(teams_channel, consultant) == [("due_soon", 0)]
    await tick_at(bot, clock, due - timedelta(seconds=1))
    assert kinds(teams_channel, duty) == []
    await tick_at(bot, clock, due)
    assert kinds(teams_channel, consultant) == [("due_soon", 0), ("breached", 0)]
    assert kinds(teams_channel, duty) == [("breached", 0)]
    for _, post in deliveries(teams_channel, consultant):
        assert post.card is not None and shown in texts_of(post.card) and "Late" not in texts_of(post.card)


# -- the parent letter ------------------------------------------------------------------------------


async def test_a_lapsed_parent_letter_tells_the_worker_the_contact_is_back_with_them(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    clock = SettableClock(MONDAY_10AM)
    bot = await ready(start_bot, teams_channel, clock)
    await seat(bot.store)
    decision = route(ROUTE_IV.route, SOCIAL_WORKER.aad_object_id)
    contact = await screened(bot.store, await submitted(bot.store, now=MONDAY_10AM), decision)
    sent = await record_parents_unreachable(
        bot.store.unit_of_work(),
        contact.id,
        contact.version,
        who=Who(SOCIAL_WORKER.aad_object_id, frozenset({Role.SOCIAL_WORKER})),
        rules=Rules(MONDAY_10AM, bot.app[CALENDAR], bot.app[SETTINGS].policy),
    )
    reference = contact.reference or ""
    assert isinstance(sent, ParentLetterSent) and sent.lapses_at is not None
    lapses = sent.lapses_at
    assert lapses == datetime(2026, 3, 19, 10, 0, tzinfo=UTC)  # Thursday: 3 working days

    await tick_at(bot, clock, lapses)
    worker = personal(teams_channel, SOCIAL_WORKER)
    await wait_for(
        lambda: any("Parent letter lapsed" in (p.text or "") for p in teams_channel.sent_to(worker))
    )
    [post] = [p for p in teams_channel.sent_to(worker) if "Parent letter lapsed" in (p.text or "")]
    assert post.card is not None
    assert f"{reference} is back with you to review and re-apply the threshold" in texts_of(post.card)
    assert "Review due" in texts_of(post.card) and "Fri 20 Mar 2026 10:00" in texts_of(post.card)
    async with bot.store.unit_of_work() as uow:
        deadlines = await uow.deadlines.for_subject(reference)
        planned = await uow.alerts.planned([reference])
    # The lapse ran first: the letter lapsed (closed late: its window ran out without the parents
    # making contact) and no breach alert went out on it; the review is the worker's own clock.
    assert not any(key.clock is ClockKind.PARENT_LETTER and key.kind is AlertKind.BREACHED for key in planned)
    assert [d.state for d in deadlines if d.clock is ClockKind.PARENT_LETTER] == [DeadlineState.LATE]
    assert any(
        d.clock is ClockKind.LETTER_REVIEW and d.assignee_id == SOCIAL_WORKER.aad_object_id for d in deadlines
    )
    await tick_at(bot, clock, lapses + timedelta(minutes=5))
    assert len([p for p in teams_channel.sent_to(worker) if "Parent letter lapsed" in (p.text or "")]) == 1
    assert Counter(key.kind for key in planned)[AlertKind.LETTER_LAPSED] == 1


# -- one scheduler per SQLite database; one planner per PostgreSQL database ------------------------


async def _serve(database_url: str, clock: SettableClock) -> TestServer:
    settings = Settings.from_env({**DEVELOPMENT, "DATABASE_URL": database_url})
    server = TestServer(create_app(settings, store=SqlStore(database_url), clock=clock), host="127.0.0.1")
    await server.start_server()
    return server


async def test_a_second_process_on_the_same_sqlite_database_refuses_to_run_the_scheduler(
    sqlite_url: str, captured_logs: io.StringIO
) -> None:
    clock = SettableClock(MONDAY_10AM)
    first = await _serve(sqlite_url, clock)
    second = await _serve(sqlite_url, clock)
    third: TestServer | None = None
    try:
        assert first.app[SCHEDULER].running
        assert not second.app[SCHEDULER].running
        lines = [json.loads(line) for line in captured_logs.getvalue().splitlines()]
        refusals = [line for line in lines if line["event"].startswith("scheduler not started")]
        assert len(refusals) == 1
        assert refusals[0]["level"] == "WARNING"
        assert "another process runs the scheduler on this SQLite database" in refusals[0]["event"]
        assert sqlite_url.rsplit("/", 1)[-1] not in json.dumps(refusals[0])  # no paths, no names

        # When the first stops, a process started afterwards runs it.
        await first.close()
        third = await _serve(sqlite_url, clock)
        assert third.app[SCHEDULER].running
    finally:
        for server in (first, second, third):
            if server is not None:
                await server.close()


@pytest.mark.postgres
async def test_two_processes_on_one_postgres_database_run_the_scheduler_and_one_plans(
    fresh_postgres_url: str, teams_channel: TeamsChannel
) -> None:
    clock = SettableClock(MONDAY_10AM)
    servers = [await _serve(fresh_postgres_url, clock), await _serve(fresh_postgres_url, clock)]
    try:
        assert all(server.app[SCHEDULER].running for server in servers)
        teams_channel.attach(servers[1].make_url("/api/messages"))
        store = SqlStore(fresh_postgres_url)
        async with store.unit_of_work() as uow:
            await uow.roles.grant(ADMIN.aad_object_id, Role.ADMIN)
            for index in range(5):
                due = MONDAY_10AM + timedelta(hours=2)
                await uow.deadlines.add(
                    Deadline(f"CT-26-{index + 300:06d}", ClockKind.CP_DECISION, MONDAY_10AM, due)
                )
            await uow.commit()
        await store.close()
        await register_channels(teams_channel, decisions=False)

        clock.set(MONDAY_10AM + timedelta(hours=2))
        reports = [await server.app[ALERTS].tick() for server in servers]
        planners = [report for report in reports if report is not None]
        assert len(planners) == 1  # the other process does not lead, so does not plan
        await asyncio.gather(*(server.app[ALERTS].dispatch() for server in servers))
        found = Counter(key.text for key, _ in deliveries(teams_channel, duty_channel(teams_channel)))
        assert len(found) == 5 and set(found.values()) == {1}
        print(f"\n2 processes, 1 planner: {len(found)} alerts delivered {sum(found.values())} times")
    finally:
        for server in servers:
            await server.close()
