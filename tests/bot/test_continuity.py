"""Out of hours and business continuity end to end (SPEC §10): the real app over HTTP with the
scheduler on, SQLite and PostgreSQL, the loopback Teams channel, a real SMTP server on loopback
(aiosmtpd) and an injected clock. The tests drive the deadline tick and the dispatcher directly
(``app[ALERTS]``) with the clock moved on.

- out of office hours a child-protection clock alerts the emergency duty team, not day staff;
- urgent-only mode holds back other alerts and lists them when it ends;
- an alert Teams cannot deliver goes by e-mail to the duty manager, once, without a child's details.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import ALERTS, CALENDAR, SETTINGS
from bot.cards.alerts import ALERT_ID_PREFIX, ALERT_KEY
from bot.cards.edt import TAKE_VERB
from bot.cards.intake import NEXT
from bot.settings import DEVELOPMENT, Settings, SettingsError, SmtpSettings
from frontdoor.alerts import AlertKey, AlertKind, OutboxItem, OutboxState
from frontdoor.clocks import due_at, due_soon_at
from frontdoor.contact import ImmediateRisk
from frontdoor.policy import parse_policy
from frontdoor.records import ClockKind, Deadline, RotaEntry
from frontdoor.roles import Role
from frontdoor.script import Section
from frontdoor.systemclock import SettableClock
from frontdoor.timefmt import format_local
from scheduler.alert_jobs import DeadlineAlerts
from scheduler.daily_jobs import run_edt
from store.sql import SqlStore
from store.tables import AlertOutboxRow
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.intake_script import (
    ADMIN,
    CHILD_NAME,
    CONSULTANT,
    CONSULTANT_2,
    DUTY_MANAGER,
    MONDAY_10AM,
    OFFICER,
    REFERRER_NAME,
    SOCIAL_WORKER,
    TEAM,
    WORRY,
    actions,
    audit,
    decisions_channel,
    duty_channel,
    grant,
    introduce,
    press,
    receipt_reference,
    register_channels,
    script,
    staff,
    start,
    submit,
    texts_of,
    walk,
)
from tests.harness.teams import Conversation, SentActivity, TeamsChannel, TeamsUser
from tests.smtp_server import HOST, LocalSmtp

EDT_WORKER = TeamsUser("aad-edt-0311", "Eddie Edtperson")
EDT_WORKER_2 = TeamsUser("aad-edt-0312", "Edna Edtexample")
TEAM_MANAGER = TeamsUser("aad-teammanager-0313", "Tam Teammanagerperson")
SERVICE_MANAGER = TeamsUser("aad-servicemanager-0314", "Sam Servicemanagerperson")
EDT_CHANNEL_ID = "19:edt@thread.tacv2"
REFERENCE = "CT-26-000201"
OTHER_REFERENCE = "CT-26-000202"
DUTY_MANAGER_ADDRESS = "duty.manager@example.org"
COMMS_ADDRESS = "comms.coordinator@example.org"

#: Saturday 21 March 2026 (GMT: local time is UTC).
SATURDAY_0030 = datetime(2026, 3, 21, 0, 30, tzinfo=UTC)


# -- helpers ----------------------------------------------------------------------------------------


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _walk(item)
    elif isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)


def alert_keys(teams: TeamsChannel, conversation: Conversation | str) -> list[AlertKey]:
    """The alert keys of the alert cards posted to a conversation, in order: each card names its
    alert in its reference line's id (a due-soon alert has no "I've got this" to carry it)."""
    found: list[AlertKey] = []
    for record in teams.sent_to(conversation):
        for card in record.cards:
            for node in _walk(card):
                element_id = node.get("id")
                if isinstance(element_id, str) and element_id.startswith(ALERT_ID_PREFIX):
                    found.append(AlertKey.parse(element_id.removeprefix(ALERT_ID_PREFIX)))
    return found


def seen(teams: TeamsChannel, conversation: Conversation | str) -> list[tuple[str, str]]:
    return [(key.subject, key.kind.value) for key in alert_keys(teams, conversation)]


def edt_channel(teams: TeamsChannel) -> Conversation:
    return teams.channel(
        TEAM, EDT_CHANNEL_ID, "Emergency duty team", members=[ADMIN, EDT_WORKER, EDT_WORKER_2]
    )


def alerts(bot: RunningBot) -> DeadlineAlerts:
    return bot.app[ALERTS]


async def tick_at(bot: RunningBot, clock: SettableClock, moment: datetime) -> None:
    clock.set(moment)
    await alerts(bot).tick()


async def on_rota(bot: RunningBot, user: TeamsUser, role: Role, moment: datetime) -> None:
    async with bot.store.unit_of_work() as uow:
        await uow.rota.set(
            RotaEntry(moment.astimezone(bot.app[CALENDAR].tz).date(), role, user.aad_object_id)
        )
        await uow.commit()


async def start_clock(
    bot: RunningBot, kind: ClockKind, start: datetime, subject: str, assignee: TeamsUser | None = None
) -> Deadline:
    due = due_at(kind, start, bot.app[CALENDAR], bot.app[SETTINGS].policy)
    deadline = Deadline(subject, kind, start, due, assignee_id=assignee.aad_object_id if assignee else None)
    async with bot.store.unit_of_work() as uow:
        stored = await uow.deadlines.add(deadline)
        await uow.commit()
    return stored


async def rows(bot: RunningBot, kind: AlertKind | None = None) -> list[OutboxItem]:
    assert isinstance(bot.store, SqlStore)
    async with bot.store.unit_of_work() as uow:
        query = select(AlertOutboxRow.id).order_by(AlertOutboxRow.id)
        if kind is not None:
            query = query.where(AlertOutboxRow.kind == kind.value)
        ids = list((await uow.session.execute(query)).scalars())
        return [item for row_id in ids if (item := await uow.alerts.get(row_id)) is not None]


async def everyone(bot: RunningBot, teams: TeamsChannel, *, edt: bool = True) -> None:
    """The cast with their roles and personal chats, then the channels. Everyone has written to the
    bot (so it knows their names) before any channel exists that the start-up catch-up could post to."""
    await staff(bot)
    await grant(bot, EDT_WORKER, Role.EDT)
    await grant(bot, EDT_WORKER_2, Role.EDT)
    await grant(bot, TEAM_MANAGER, Role.TEAM_MANAGER)
    await grant(bot, SERVICE_MANAGER, Role.SERVICE_MANAGER)
    for person in (
        OFFICER,
        CONSULTANT,
        CONSULTANT_2,
        SOCIAL_WORKER,
        DUTY_MANAGER,
        TEAM_MANAGER,
        SERVICE_MANAGER,
        EDT_WORKER,
        EDT_WORKER_2,
    ):
        await introduce(teams, person)
    await register_channels(teams)
    if edt:
        reply = await teams.say(edt_channel(teams), ADMIN, "register edt channel")
        assert any("now the EDT channel" in text for text in reply.texts), reply.texts


@pytest.fixture
async def smtp() -> AsyncIterator[LocalSmtp]:
    server = LocalSmtp().start()
    yield server
    server.stop()


def smtp_settings(server: LocalSmtp) -> SmtpSettings:
    return SmtpSettings(
        host=HOST,
        port=server.port,
        starttls=False,
        sender="frontdoor-bot@example.org",
        duty_manager=DUTY_MANAGER_ADDRESS,
        timeout_seconds=5,
    )


# -- the emergency duty team ----------------------------------------------------------------------


async def test_a_saturday_night_child_protection_breach_reaches_the_edt_and_no_day_staff(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    clock = SettableClock(SATURDAY_0030)
    bot = await start_bot(clock=clock)
    await everyone(bot, teams_channel)
    # The rota has a consultant and a team manager for Saturday too: day staff, off duty at night.
    await on_rota(bot, CONSULTANT, Role.CONSULTANT, SATURDAY_0030)
    await on_rota(bot, TEAM_MANAGER, Role.TEAM_MANAGER, SATURDAY_0030)
    await on_rota(bot, EDT_WORKER, Role.EDT, SATURDAY_0030)
    # An urgent contact nobody has yet, and one assigned to a (day) social worker: due at 03:00.
    start = datetime(2026, 3, 21, 1, 0, tzinfo=UTC)
    await start_clock(bot, ClockKind.CP_DECISION, start, REFERENCE)
    await start_clock(bot, ClockKind.CP_DECISION, start, OTHER_REFERENCE, assignee=SOCIAL_WORKER)

    moment = datetime(2026, 3, 21, 2, 29, tzinfo=UTC)
    while moment <= datetime(2026, 3, 21, 3, 1, tzinfo=UTC):
        await tick_at(bot, clock, moment)
        moment += timedelta(minutes=1)

    expected = [
        (REFERENCE, "due_soon"),
        (OTHER_REFERENCE, "due_soon"),
        (REFERENCE, "breached"),
        (OTHER_REFERENCE, "breached"),
    ]
    assert sorted(seen(teams_channel, edt_channel(teams_channel))) == sorted(expected)
    assert sorted(seen(teams_channel, teams_channel.personal(EDT_WORKER))) == sorted(expected)
    # Not the EDT worker who is not on tonight's rota, and no day staff, nor the duty channel.
    for off_duty in (EDT_WORKER_2, CONSULTANT, CONSULTANT_2, SOCIAL_WORKER, TEAM_MANAGER, DUTY_MANAGER):
        assert seen(teams_channel, teams_channel.personal(off_duty)) == [], off_duty.name
    assert seen(teams_channel, duty_channel(teams_channel)) == []
    breach = next(
        record
        for record in teams_channel.sent_to(edt_channel(teams_channel))
        if record.text and "Breached" in record.text and REFERENCE in record.text
    )
    assert [mention.name for mention in breach.mentions] == [EDT_WORKER.name]
    night = [row for row in await rows(bot) if row.subject in (REFERENCE, OTHER_REFERENCE)]
    assert len(night) == 8 and all(row.state is OutboxState.SENT for row in night)

    # The same clock on a Monday morning goes to day staff as before.
    monday = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)
    await start_clock(bot, ClockKind.CP_DECISION, monday, "CT-26-000203")
    await on_rota(bot, CONSULTANT, Role.CONSULTANT, monday)
    await tick_at(bot, clock, monday + timedelta(hours=2))
    assert ("CT-26-000203", "breached") in seen(teams_channel, teams_channel.personal(CONSULTANT))
    assert ("CT-26-000203", "breached") in seen(teams_channel, duty_channel(teams_channel))
    assert ("CT-26-000203", "breached") not in seen(teams_channel, edt_channel(teams_channel))


async def test_without_an_edt_channel_a_night_breach_goes_to_the_consultant_and_duty_channel_not_the_edt(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    """A service that has registered no EDT channel does not use the bot out of hours (it gets no
    EDT handover): its child-protection alerts at night are routed as in office hours, so they reach
    a person, even though someone holds the EDT role and is on the rota."""
    clock = SettableClock(SATURDAY_0030)
    bot = await start_bot(clock=clock)
    await everyone(bot, teams_channel, edt=False)
    await on_rota(bot, CONSULTANT, Role.CONSULTANT, SATURDAY_0030)
    await on_rota(bot, EDT_WORKER, Role.EDT, SATURDAY_0030)
    start = datetime(2026, 3, 21, 1, 0, tzinfo=UTC)
    await start_clock(bot, ClockKind.CP_DECISION, start, REFERENCE)
    await tick_at(bot, clock, start + timedelta(hours=2))
    assert seen(teams_channel, teams_channel.personal(CONSULTANT)) == [(REFERENCE, "breached")]
    assert seen(teams_channel, duty_channel(teams_channel)) == [(REFERENCE, "breached")]
    assert seen(teams_channel, teams_channel.personal(EDT_WORKER)) == []
    breach = [row for row in await rows(bot) if row.subject == REFERENCE]
    assert breach and all(row.state is OutboxState.SENT and not row.rerouted for row in breach)


#: Monday 16 March 2026 (GMT), two minutes after the office closed at 17:00.
MONDAY_1702 = datetime(2026, 3, 16, 17, 2, tzinfo=UTC)


async def _urgent_call(teams: TeamsChannel) -> tuple[str, str]:
    """An officer logs an urgent contact (its emergency card creates it): its reference, and what
    the officer is told on creating it."""
    answers = script(risk={f"risk_{ImmediateRisk.INJURY.value}": "yes"})
    chat = teams.personal(OFFICER)
    await start(teams, chat, OFFICER)
    await walk(teams, chat, OFFICER, answers, until=Section.EMERGENCY)
    reply = await press(teams, chat, OFFICER, NEXT, answers[Section.EMERGENCY])
    return receipt_reference(reply), " ".join(texts_of(card) for card in reply.cards)


def _edt_notices(teams: TeamsChannel, reference: str) -> list[SentActivity]:
    return [
        post
        for post in teams.sent_to(edt_channel(teams))
        if post.card and f"Urgent contact out of hours: {reference}" in texts_of(post.card)
    ]


@pytest.mark.parametrize(
    "moment",
    [MONDAY_1702, SATURDAY_0030, datetime(2026, 4, 6, 11, 0, tzinfo=UTC)],
    ids=["monday-17:02", "saturday-00:30", "easter-monday-12:00"],
)
async def test_an_urgent_contact_logged_out_of_hours_reaches_the_edt_at_once_and_the_consultants_too(
    start_bot: StartBot, teams_channel: TeamsChannel, moment: datetime
) -> None:
    """SPEC §10: out of hours the EDT channel gets what cannot wait. A call logged at 17:02 is in no
    EDT handover (built at 17:00) and its clock's first alert is 90 minutes away: the EDT is told
    at once, @mentioning the EDT on the rota; the decisions card for the consultants still goes."""
    clock = SettableClock(moment)
    bot = await start_bot(clock=clock)
    await everyone(bot, teams_channel)
    await on_rota(bot, CONSULTANT, Role.CONSULTANT, moment)
    await on_rota(bot, EDT_WORKER, Role.EDT, moment)
    reference, receipt = await _urgent_call(teams_channel)
    assert "the emergency duty team has been told in the EDT channel" in receipt
    assert _edt_notices(teams_channel, reference) == []  # through the outbox: the next dispatch sends it

    await alerts(bot).dispatch()
    [notice] = _edt_notices(teams_channel, reference)
    assert notice.card is not None
    shown = texts_of(notice.card)
    due = moment + timedelta(hours=2)
    assert f"Child-protection decision due {format_local(due)}" in shown
    assert f"EDT on the rota: {EDT_WORKER.name}." in shown
    assert [mention.name for mention in notice.mentions] == [EDT_WORKER.name]
    assert CHILD_NAME not in shown and REFERRER_NAME not in shown  # references and times only
    [row] = await rows(bot, AlertKind.URGENT_OUT_OF_HOURS)
    assert (row.state, row.subject) == (OutboxState.SENT, reference)
    # The decisions channel has its card, @mentioning the consultant on duty, as in the day.
    [decision] = [
        p for p in teams_channel.sent_to(decisions_channel(teams_channel)) if p.text and reference in p.text
    ]
    assert [mention.name for mention in decision.mentions] == [CONSULTANT.name]
    await alerts(bot).dispatch()
    assert len(_edt_notices(teams_channel, reference)) == 1  # once


async def test_an_urgent_contact_out_of_hours_the_edt_channel_refuses_goes_to_the_duty_manager_by_email(
    start_bot: StartBot, teams_channel: TeamsChannel, smtp: LocalSmtp
) -> None:
    """The second route (SPEC §10) covers the EDT's notice too: the EDT channel gone (403), the duty
    manager is e-mailed the reference at once (no child's details), once."""
    clock = SettableClock(MONDAY_1702)
    bot = await start_bot(clock=clock, smtp=smtp_settings(smtp))
    await everyone(bot, teams_channel)
    teams_channel.fail_next(EDT_CHANNEL_ID, 403, code="BotNotInConversationRoster", times=None)
    reference, _ = await _urgent_call(teams_channel)
    await alerts(bot).dispatch()
    [mail] = smtp.received
    assert mail.recipients == (DUTY_MANAGER_ADDRESS,)
    assert f"Reference: {reference}" in mail.text and "Alert: Urgent contact out of hours" in mail.text
    assert "HTTP 403 BotNotInConversationRoster" in mail.text and CHILD_NAME not in mail.text
    notice, rerouted = await rows(bot, AlertKind.URGENT_OUT_OF_HOURS)
    assert notice.state is OutboxState.FAILED and rerouted.rerouted  # the duty channel has it too
    await alerts(bot).dispatch()
    assert len(smtp.received) == 1


async def test_an_urgent_contact_logged_in_office_hours_is_not_sent_to_the_edt(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    clock = SettableClock(MONDAY_1702 - timedelta(minutes=4))  # 16:58
    bot = await start_bot(clock=clock)
    await everyone(bot, teams_channel)
    reference, receipt = await _urgent_call(teams_channel)
    await alerts(bot).dispatch()
    assert "emergency duty team" not in receipt and _edt_notices(teams_channel, reference) == []
    assert await rows(bot, AlertKind.URGENT_OUT_OF_HOURS) == []


async def test_without_an_edt_channel_an_urgent_contact_out_of_hours_tells_the_officer_to_phone_the_edt(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    clock = SettableClock(MONDAY_1702)
    bot = await start_bot(clock=clock)
    await everyone(bot, teams_channel, edt=False)
    reference, receipt = await _urgent_call(teams_channel)
    assert "no EDT channel is registered: phone the emergency duty team now" in receipt
    await alerts(bot).dispatch()
    assert await rows(bot, AlertKind.URGENT_OUT_OF_HOURS) == []
    assert any(
        p.text and reference in p.text for p in teams_channel.sent_to(decisions_channel(teams_channel))
    )


async def test_only_an_administrator_registers_the_edt_channel_and_the_rota_has_edt_shifts(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=SettableClock(MONDAY_10AM))
    await everyone(bot, teams_channel, edt=False)
    refused = await teams_channel.say(edt_channel(teams_channel), EDT_WORKER, "register edt channel")
    assert not any("now the EDT channel" in text for text in refused.texts)
    reply = await teams_channel.say(edt_channel(teams_channel), ADMIN, "register edt channel")
    assert any("now the EDT channel" in text for text in reply.texts), reply.texts
    [event] = [e for e in await audit(bot) if e.action == "channel.registered" and e.subject == "channel:edt"]
    assert event.actor_id == ADMIN.aad_object_id

    card = (
        await teams_channel.say(teams_channel.personal(DUTY_MANAGER), DUTY_MANAGER, "duty 2026-03-21")
    ).cards[-1]
    assert "EDT (out of hours)" in texts_of(card) and EDT_WORKER.name in texts_of(card)


# -- urgent-only mode -------------------------------------------------------------------------------


async def test_urgent_only_mode_holds_a_due_soon_screening_alert_and_lists_it_when_switched_off(
    start_bot: StartBot, teams_channel: TeamsChannel, smtp: LocalSmtp
) -> None:
    clock = SettableClock(MONDAY_10AM)
    policy = parse_policy(f'[continuity]\nnotify = ["{COMMS_ADDRESS}"]\n')
    bot = await start_bot(clock=clock, policy=policy, smtp=smtp_settings(smtp))
    await everyone(bot, teams_channel)
    manager_chat = teams_channel.personal(TEAM_MANAGER)
    worker = teams_channel.personal(SOCIAL_WORKER)
    calendar = bot.app[CALENDAR]

    # Only team managers may switch it.
    refused = await teams_channel.say(
        teams_channel.personal(CONSULTANT), CONSULTANT, "continuity on no staff"
    )
    assert any("only" in text.lower() for text in refused.texts), refused.texts
    missing = await teams_channel.say(manager_chat, TEAM_MANAGER, "continuity on")
    assert any("reason" in text for text in missing.texts), missing.texts

    reply = await teams_channel.say(manager_chat, TEAM_MANAGER, "continuity on Loss of IT at the office")
    assert any("urgent-only mode" in text for text in reply.texts), reply.texts
    await alerts(bot).dispatch()
    for channel in (decisions_channel(teams_channel), duty_channel(teams_channel)):
        [card] = [c for c in teams_channel.cards(channel) if "Urgent-only mode is ON" in texts_of(c)]
        assert "Loss of IT at the office" in texts_of(card) and TEAM_MANAGER.name in texts_of(card)
    assert any(
        "Urgent-only mode is ON" in texts_of(card)
        for card in teams_channel.cards(teams_channel.personal(SERVICE_MANAGER))
    )
    [notice] = smtp.received
    assert notice.recipients == (COMMS_ADDRESS,) and "Loss of IT at the office" in notice.text
    status = await teams_channel.say(manager_chat, TEAM_MANAGER, "status")
    assert "Urgent-only mode" in texts_of(status.cards[-1]) and "Loss of IT" in texts_of(status.cards[-1])
    # A contact submitted now: its decision card says so.
    routine = receipt_reference(await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER))
    posted = teams_channel.last_card(decisions_channel(teams_channel))
    assert routine in texts_of(posted) and "Urgent-only mode" in texts_of(posted)

    # A screening clock of the social worker's, and an urgent contact's child-protection clock.
    screening = await start_clock(bot, ClockKind.SCREENING, MONDAY_10AM, REFERENCE, assignee=SOCIAL_WORKER)
    urgent = await start_clock(
        bot, ClockKind.CP_DECISION, MONDAY_10AM, OTHER_REFERENCE, assignee=SOCIAL_WORKER
    )
    policy_now = bot.app[SETTINGS].policy
    soon = due_soon_at(ClockKind.SCREENING, screening.started_at, screening.due_at, calendar, policy_now)
    urgent_soon = due_soon_at(ClockKind.CP_DECISION, urgent.started_at, urgent.due_at, calendar, policy_now)
    await tick_at(bot, clock, urgent_soon)
    await tick_at(bot, clock, urgent.due_at)
    await tick_at(bot, clock, soon)
    # The urgent contact still alerts; the screening alert is held, not sent and not lost.
    assert seen(teams_channel, worker) == [(OTHER_REFERENCE, "due_soon"), (OTHER_REFERENCE, "breached")]
    [held] = [row for row in await rows(bot, AlertKind.DUE_SOON) if row.subject == REFERENCE]
    assert held.state is OutboxState.HELD

    clock.set(soon + timedelta(minutes=20))
    off = await teams_channel.say(manager_chat, TEAM_MANAGER, "continuity off")
    text = "\n".join(off.texts)
    assert "Urgent-only mode has ended" in text and "Screening decision" in text
    assert REFERENCE in text and routine in text and OTHER_REFERENCE not in text
    await alerts(bot).dispatch()
    [ended] = [c for c in teams_channel.cards(duty_channel(teams_channel)) if "has ended" in texts_of(c)]
    assert REFERENCE in texts_of(ended) and "Due soon" in texts_of(ended)
    [held] = [row for row in await rows(bot, AlertKind.DUE_SOON) if row.subject == REFERENCE]
    assert held.state is OutboxState.WITHDRAWN  # listed once, never sent late in a burst
    assert seen(teams_channel, worker) == [(OTHER_REFERENCE, "due_soon"), (OTHER_REFERENCE, "breached")]

    switches = [e for e in await audit(bot) if e.subject == "continuity"]
    assert [(e.action, e.actor_id) for e in switches] == [
        ("continuity.on", TEAM_MANAGER.aad_object_id),
        ("continuity.off", TEAM_MANAGER.aad_object_id),
    ]
    assert switches[0].detail == "reason=Loss of IT at the office"
    minutes = int((soon + timedelta(minutes=20) - MONDAY_10AM).total_seconds() // 60)
    assert switches[1].detail == f"duration_minutes={minutes}; held=2"
    status = await teams_channel.say(manager_chat, TEAM_MANAGER, "status")
    assert "Urgent-only mode" not in texts_of(status.cards[-1])
    again = await teams_channel.say(manager_chat, TEAM_MANAGER, "continuity off")
    assert any("not in urgent-only mode" in text for text in again.texts), again.texts


# -- e-mail as the second route ---------------------------------------------------------------------


async def _urgent_contact(bot: RunningBot, teams: TeamsChannel) -> str:
    """An officer submits an urgent contact (a child's name, a referrer, worries) at 10:00 on Monday."""
    answers = script(risk={f"risk_{ImmediateRisk.INJURY.value}": "yes"})
    reply = await submit(teams, teams.personal(OFFICER), OFFICER, answers)
    return receipt_reference(reply)


async def test_an_alert_whose_chat_is_gone_arrives_by_email_once_without_the_childs_details(
    start_bot: StartBot, teams_channel: TeamsChannel, smtp: LocalSmtp
) -> None:
    clock = SettableClock(MONDAY_10AM)
    bot = await start_bot(clock=clock, smtp=smtp_settings(smtp))
    await everyone(bot, teams_channel)
    await on_rota(bot, CONSULTANT, Role.CONSULTANT, MONDAY_10AM)
    reference = await _urgent_contact(bot, teams_channel)
    consultant = teams_channel.personal(CONSULTANT)

    # The consultant has removed the bot: Teams answers 404 for the chat, from now on.
    teams_channel.fail_next(consultant.id, 404, code="ConversationNotFound", times=None)
    for minutes in (90, 91, 95, 100):
        await tick_at(bot, clock, MONDAY_10AM + timedelta(minutes=minutes))

    [mail] = smtp.received
    assert mail.recipients == (DUTY_MANAGER_ADDRESS,)
    assert reference in mail.text and "Child-protection decision" in mail.text and "Due soon" in mail.text
    assert "Mon 16 Mar 2026 12:00" in mail.text and "HTTP 404 ConversationNotFound" in mail.text
    for private in (CHILD_NAME, *CHILD_NAME.split(), REFERRER_NAME, WORRY, "Example Street", CONSULTANT.name):
        assert private not in mail.message.as_string(), private
    # Not lost in Teams either: the duty channel has it, rerouted.
    assert (reference, "due_soon") in seen(teams_channel, duty_channel(teams_channel))
    [copy] = await rows(bot, AlertKind.EMAIL)
    assert copy.state is OutboxState.SENT and copy.activity_id == str(mail.message["Message-ID"])

    # The breach: the chat is known dead, so it goes by e-mail at once; still one e-mail per alert.
    for minutes in (120, 121, 150):
        await tick_at(bot, clock, MONDAY_10AM + timedelta(minutes=minutes))
    subjects = sorted(received.subject for received in smtp.received)
    assert len(subjects) == len(set(subjects))
    assert any("Breached" in subject for subject in subjects)
    status = await teams_channel.say(teams_channel.personal(DUTY_MANAGER), DUTY_MANAGER, "status")
    shown = texts_of(status.cards[-1])
    assert f"Alerts sent by e-mail ({len(smtp.received)})" in shown and reference in shown


async def test_an_smtp_server_that_is_down_or_refusing_loses_no_alert(
    start_bot: StartBot, teams_channel: TeamsChannel, smtp: LocalSmtp
) -> None:
    clock = SettableClock(MONDAY_10AM)
    bot = await start_bot(clock=clock, smtp=smtp_settings(smtp))
    await everyone(bot, teams_channel)
    await on_rota(bot, CONSULTANT, Role.CONSULTANT, MONDAY_10AM)
    reference = await _urgent_contact(bot, teams_channel)
    teams_channel.fail_next(
        teams_channel.personal(CONSULTANT).id, 403, code="ConversationBlockedByUser", times=None
    )

    # 1. The server is down: the e-mail waits for a retry.
    smtp.stop()
    await tick_at(bot, clock, MONDAY_10AM + timedelta(minutes=90))
    [copy] = await rows(bot, AlertKind.EMAIL)
    assert copy.state is OutboxState.PENDING and copy.last_error.startswith("no response SMTP")
    # 2. It is back but refuses for now (451): retried again.
    smtp.start()
    smtp.answer = "451 4.3.0 Try again later"
    clock.set(copy.next_attempt_at)
    await alerts(bot).dispatch()
    [copy] = await rows(bot, AlertKind.EMAIL)
    assert copy.state is OutboxState.PENDING and "SMTP 451" in copy.last_error and smtp.refused == 1
    # 3. It takes it: delivered, once.
    smtp.answer = "250 OK"
    clock.set(copy.next_attempt_at)
    await alerts(bot).dispatch()
    await alerts(bot).dispatch()
    [mail] = smtp.received
    assert reference in mail.text
    [copy] = await rows(bot, AlertKind.EMAIL)
    assert copy.state is OutboxState.SENT and copy.attempts == 3

    # 4. A permanent refusal (550) is given up on and shown in status, not retried for ever.
    smtp.answer = "550 5.7.1 Relaying denied"
    await tick_at(bot, clock, MONDAY_10AM + timedelta(minutes=120))
    breached = [row for row in await rows(bot, AlertKind.EMAIL) if row.alert_key.kind is AlertKind.BREACHED]
    assert [row.state for row in breached] == [OutboxState.FAILED]
    assert "SMTP 550" in breached[0].last_error
    status = await teams_channel.say(teams_channel.personal(DUTY_MANAGER), DUTY_MANAGER, "status")
    assert "failed: HTTP 400 SMTP 550" in texts_of(status.cards[-1])
    assert len(smtp.received) == 1


async def test_a_relay_down_for_eight_minutes_loses_no_email_of_an_alert_teams_could_not_deliver(
    start_bot: StartBot, teams_channel: TeamsChannel, smtp: LocalSmtp
) -> None:
    """The e-mail copy is the last one of an alert Teams refused: its retries (``MAIL_RETRY``) outlast
    a relay restart of minutes, on the injected clock, with the dispatcher running every 10 s."""
    clock = SettableClock(MONDAY_10AM)
    bot = await start_bot(clock=clock, smtp=smtp_settings(smtp))
    await everyone(bot, teams_channel)
    await on_rota(bot, CONSULTANT, Role.CONSULTANT, MONDAY_10AM)
    reference = await _urgent_contact(bot, teams_channel)
    teams_channel.fail_next(
        teams_channel.personal(CONSULTANT).id, 403, code="ConversationBlockedByUser", times=None
    )
    smtp.stop()
    down = MONDAY_10AM + timedelta(minutes=90)
    await tick_at(bot, clock, down)
    moment = down
    while moment < down + timedelta(minutes=8):
        moment += timedelta(seconds=10)
        clock.set(moment)
        await alerts(bot).dispatch()
    [copy] = await rows(bot, AlertKind.EMAIL)
    # Tried at 0 s, 30 s, 1 min 30, 3 min 30 and 7 min 30: still waiting, not given up.
    assert (copy.state, copy.attempts) == (OutboxState.PENDING, 5)
    assert copy.last_error.startswith("no response SMTP") and "retry 5 of 11" in copy.last_error
    assert copy.next_attempt_at == down + timedelta(minutes=15, seconds=30)

    smtp.start()
    clock.set(copy.next_attempt_at)
    await alerts(bot).dispatch()
    [mail] = smtp.received
    assert reference in mail.text
    [copy] = await rows(bot, AlertKind.EMAIL)
    assert (copy.state, copy.attempts) == (OutboxState.SENT, 6)


def test_smtp_settings_come_from_the_environment() -> None:
    env = {
        **DEVELOPMENT,
        "FRONTDOOR_SMTP_HOST": "smtp.example.org",
        "FRONTDOOR_SMTP_PORT": "2525",
        "FRONTDOOR_SMTP_USERNAME": "frontdoor",
        "FRONTDOOR_SMTP_PASSWORD": "not-a-real-secret",
        "FRONTDOOR_SMTP_SENDER": "frontdoor-bot@example.org",
        "FRONTDOOR_DUTY_MANAGER_EMAIL": DUTY_MANAGER_ADDRESS,
    }
    smtp = Settings.from_env(env).smtp
    assert smtp == SmtpSettings(
        "smtp.example.org",
        2525,
        True,
        "frontdoor",
        "not-a-real-secret",
        "frontdoor-bot@example.org",
        DUTY_MANAGER_ADDRESS,
    )
    assert "not-a-real-secret" not in repr(smtp)
    assert Settings.from_env(DEVELOPMENT).smtp is None
    for name, value, message in (
        ("FRONTDOOR_SMTP_PORT", "smtp", "FRONTDOOR_SMTP_PORT"),
        ("FRONTDOOR_SMTP_STARTTLS", "maybe", "FRONTDOOR_SMTP_STARTTLS"),
        ("FRONTDOOR_DUTY_MANAGER_EMAIL", "", "FRONTDOOR_DUTY_MANAGER_EMAIL"),
        ("FRONTDOOR_SMTP_PASSWORD", "", "FRONTDOOR_SMTP_USERNAME"),
    ):
        with pytest.raises(SettingsError, match=message):
            Settings.from_env({**env, name: value})


# -- the EDT handover and the overnight summary ----------------------------------------------------

FRIDAY_1600 = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)
NOTE = "Visited with police at 22:00; the family friend is looking after the child"


async def _edt_jobs(bot: RunningBot, clock: SettableClock, moment: datetime) -> None:
    clock.set(moment)
    await run_edt(bot.store.unit_of_work, clock, bot.app[SETTINGS].policy, bot.app[CALENDAR])
    await alerts(bot).dispatch()


def _posts(teams: TeamsChannel, conversation: Conversation, heading: str) -> list[SentActivity]:
    return [post for post in teams.sent_to(conversation) if post.card and heading in texts_of(post.card)]


def _take_data(card: Mapping[str, Any], reference: str) -> dict[str, Any]:
    for node in actions(card):
        data = node.get("data")
        if node.get("verb") == TAKE_VERB and isinstance(data, dict) and reference in str(data.get(ALERT_KEY)):
            return data
    raise AssertionError(f"no I'll take it for {reference}")


async def test_the_friday_edt_handover_is_taken_overnight_and_summarised_on_monday_morning(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    clock = SettableClock(FRIDAY_1600)
    bot = await start_bot(clock=clock)
    await everyone(bot, teams_channel)
    await on_rota(bot, EDT_WORKER, Role.EDT, FRIDAY_1600)
    urgent = await _urgent_contact(bot, teams_channel)  # its child-protection clock: due 18:00
    await start_clock(bot, ClockKind.CP_DECISION, FRIDAY_1600 + timedelta(minutes=30), OTHER_REFERENCE)
    edt = edt_channel(teams_channel)

    await _edt_jobs(bot, clock, datetime(2026, 3, 20, 16, 59, tzinfo=UTC))
    assert _posts(teams_channel, edt, "EDT handover") == []
    for minutes in (0, 1, 30):
        await _edt_jobs(bot, clock, datetime(2026, 3, 20, 17, minutes, tzinfo=UTC))
    [post] = _posts(teams_channel, edt, "EDT handover")
    assert post.card is not None
    shown = texts_of(post.card)
    assert urgent in shown and OTHER_REFERENCE in shown and "Fri 20 Mar 2026 18:00" in shown
    assert "Mon 23 Mar 2026 08:30" in shown and shown.index(urgent) < shown.index(OTHER_REFERENCE)
    assert [mention.name for mention in post.mentions] == [EDT_WORKER.name]
    for private in (CHILD_NAME, REFERRER_NAME, WORRY):
        assert private not in shown

    # A consultant may not take an EDT item; the EDT worker on duty takes the urgent contact.
    clock.set(datetime(2026, 3, 20, 17, 40, tzinfo=UTC))
    refused = await teams_channel.execute(
        edt, CONSULTANT, TAKE_VERB, _take_data(post.card, urgent), card_activity_id=post.activity_id
    )
    assert refused.card is None
    for bad in (
        {ALERT_KEY: "not a key", "edt_day": "2026-03-20"},
        {ALERT_KEY: urgent, "edt_day": "someday"},
        {},
    ):
        unreadable = await teams_channel.execute(
            edt, EDT_WORKER, TAKE_VERB, bad, card_activity_id=post.activity_id
        )
        assert unreadable.status == 200 and unreadable.card is None
    taken = await teams_channel.execute(
        edt, EDT_WORKER, TAKE_VERB, _take_data(post.card, urgent), card_activity_id=post.activity_id
    )
    assert taken.card is not None and "Taken by Eddie Edtperson at Fri 20 Mar 2026 17:40" in texts_of(
        taken.card
    )
    _take_data(taken.card, OTHER_REFERENCE)  # the other item can still be taken
    again = await teams_channel.execute(
        edt, EDT_WORKER_2, TAKE_VERB, _take_data(post.card, urgent), card_activity_id=post.activity_id
    )
    assert again.card is not None and "Eddie Edtperson already had" in texts_of(again.card)
    [ack] = [e for e in await audit(bot) if e.action == "alert.acknowledged"]
    assert (ack.actor_id, ack.subject) == (EDT_WORKER.aad_object_id, urgent)

    # Overnight, the EDT worker records what was done: on the contact, in the record.
    clock.set(datetime(2026, 3, 21, 2, 0, tzinfo=UTC))
    chat = teams_channel.personal(EDT_WORKER)
    not_edt = await teams_channel.say(
        teams_channel.personal(CONSULTANT), CONSULTANT, f"overnight {urgent} {NOTE}"
    )
    assert not any("Recorded on" in text for text in not_edt.texts)
    empty = await teams_channel.say(chat, EDT_WORKER, f"overnight {urgent}")
    assert any("Say what was done" in text for text in empty.texts), empty.texts
    unknown = await teams_channel.say(chat, EDT_WORKER, f"overnight CT-26-999999 {NOTE}")
    assert any("No contact CT-26-999999" in text for text in unknown.texts), unknown.texts
    recorded = await teams_channel.say(chat, EDT_WORKER, f"overnight {urgent.lower()} {NOTE}")
    assert any(f"Recorded on {urgent}" in text for text in recorded.texts), recorded.texts
    [event] = [e for e in await audit(bot) if e.action == "contact.edt_overnight_action"]
    assert (event.actor_id, event.subject, event.detail) == (EDT_WORKER.aad_object_id, urgent, "")
    record = await teams_channel.say(teams_channel.personal(CONSULTANT), CONSULTANT, f"find {urgent}")
    shown = "\n".join(texts_of(card) for card in record.cards)
    assert (
        "Overnight action" in shown
        and "Emergency duty team, Sat 21 Mar 2026 02:00" in shown
        and NOTE in shown
    )

    # Monday at opening, the duty channel hears what happened overnight; once.
    duty = duty_channel(teams_channel)
    await _edt_jobs(bot, clock, datetime(2026, 3, 23, 8, 29, tzinfo=UTC))
    monday = "Overnight summary: Mon 23 Mar 2026 08:30"
    assert _posts(teams_channel, duty, monday) == []
    for minutes in (30, 31, 45):
        await _edt_jobs(bot, clock, datetime(2026, 3, 23, 8, minutes, tzinfo=UTC))
    [summary] = _posts(teams_channel, duty, monday)
    assert summary.card is not None
    shown = texts_of(summary.card)
    assert f"**{urgent}** · Eddie Edtperson took the child-protection clock at Fri 20 Mar 2026 17:40" in shown
    assert (
        f"**{urgent}** · Eddie Edtperson recorded overnight action (see the record) at Sat 21 Mar 2026 02:00"
        in shown
    )
    assert "Child-protection clocks still open" in shown and OTHER_REFERENCE in shown
    for private in (NOTE, CHILD_NAME, REFERRER_NAME, WORRY):
        assert private not in shown
    # No second EDT handover on a weekend: Friday's covered it.
    assert len(_posts(teams_channel, edt, "EDT handover")) == 1


async def test_an_alert_teams_leaves_unanswered_longer_than_the_policy_allows_also_goes_by_email(
    start_bot: StartBot, teams_channel: TeamsChannel, smtp: LocalSmtp
) -> None:
    clock = SettableClock(MONDAY_10AM)
    policy = parse_policy("[continuity]\nemail_after_minutes = 5\n")
    bot = await start_bot(clock=clock, policy=policy, smtp=smtp_settings(smtp))
    await everyone(bot, teams_channel)
    worker = teams_channel.personal(SOCIAL_WORKER)
    deadline = await start_clock(bot, ClockKind.CP_DECISION, MONDAY_10AM, REFERENCE, assignee=SOCIAL_WORKER)
    soon = deadline.due_at - timedelta(minutes=30)
    teams_channel.fail_next(worker.id, 503, times=None)  # Teams does not take it, again and again

    async def retry_at(moment: datetime) -> OutboxItem:
        [row] = [r for r in await rows(bot, AlertKind.DUE_SOON) if r.state is OutboxState.PENDING]
        clock.set(max(row.next_attempt_at, moment))
        await alerts(bot).dispatch()
        [row] = await rows(bot, AlertKind.DUE_SOON)
        return row

    await tick_at(bot, clock, soon)
    row = await retry_at(soon + timedelta(minutes=4))
    assert row.state is OutboxState.PENDING and row.attempts == 2
    assert smtp.received == [] and await rows(bot, AlertKind.EMAIL) == []
    row = await retry_at(soon + timedelta(minutes=5))
    assert row.state is OutboxState.PENDING and row.attempts == 3  # Teams is still tried
    [mail] = smtp.received
    assert REFERENCE in mail.text and "Due soon" in mail.text and "HTTP 503" in mail.text
    await retry_at(soon + timedelta(minutes=7))
    assert len(smtp.received) == 1  # once, however many retries follow
