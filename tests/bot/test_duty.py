"""The end-of-day handover, its acknowledgement and escalation, MARAC reminders and the ``handover``,
``status`` and ``duty`` commands, end to end: the real app over HTTP on SQLite and PostgreSQL, the
scheduler's jobs driven with a settable clock, the real alert dispatcher and Teams sender, and the
loopback Teams channel (every card it sees is validated with Microsoft's SDK at teardown)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.alerting import TeamsAlertSender
from bot.app import CALENDAR, NOTIFIER, SETTINGS
from bot.cards.duty import ROLES_KEY, ROTA_DAY_KEY, ROTA_SAVE_VERB, ROTA_SHOW_VERB
from bot.cards.handover import ACK_VERB
from frontdoor.alerts import AlertKind, OutboxMessage, Recipient, outbox_key
from frontdoor.contact import Child, ContactState, HistoryChecks
from frontdoor.dispatch import Dispatcher
from frontdoor.handover import handover_key
from frontdoor.records import ClockKind, Deadline, RotaEntry
from frontdoor.roles import Role
from frontdoor.systemclock import SettableClock
from scheduler.daily_jobs import run_handover, run_marac
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.intake_script import (
    ADMIN,
    CHILD_NAME,
    CONSULTANT,
    DUTY_MANAGER,
    NEVER_IN_A_CHANNEL,
    OFFICER,
    SOCIAL_WORKER,
    actions,
    audit,
    duty_channel,
    grant,
    introduce,
    register_channels,
    staff,
    submit,
    text_styles,
    texts_of,
)
from tests.harness.teams import Conversation, SentActivity, TeamsChannel, TeamsUser
from tests.store.samples import full_contact

LONDON = ZoneInfo("Europe/London")
TEAM_MANAGER = TeamsUser("aad-team-0309", "Tam Teammanagerperson")
OTHER_DUTY = TeamsUser("aad-duty-0310", "Dev Otherdutyperson")

MONDAY = date(2026, 3, 16)
TUESDAY = date(2026, 3, 17)
REASSIGNED = "CT-26-000777"


def local(day: date, h: int, mi: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, h, mi, tzinfo=LONDON)


async def _ready(
    start_bot: StartBot, teams_channel: TeamsChannel, at: datetime | None = None
) -> tuple[RunningBot, SettableClock]:
    clock = SettableClock(at or local(MONDAY, 10))
    # The jobs are driven by the test, not by real-time triggers.
    bot = await start_bot(clock=clock, scheduler_enabled=False)
    await staff(bot)
    await grant(bot, TEAM_MANAGER, Role.TEAM_MANAGER)
    await grant(bot, OTHER_DUTY, Role.DUTY_MANAGER)
    await register_channels(teams_channel)
    for user in (DUTY_MANAGER, OTHER_DUTY, TEAM_MANAGER, CONSULTANT, SOCIAL_WORKER, OFFICER, ADMIN):
        await introduce(teams_channel, user)
    return bot, clock


async def _rota(bot: RunningBot, day: date, role: Role, user: TeamsUser) -> None:
    async with bot.store.unit_of_work() as uow:
        await uow.rota.set(RotaEntry(day, role, user.aad_object_id))
        await uow.commit()


async def _with_social_worker(bot: RunningBot, received: datetime) -> None:
    """A contact reassigned to the social worker and still open; its child has a name."""
    contact = replace(
        full_contact("c-reassigned", reference=REASSIGNED),
        state=ContactState.SW_ASSESSMENT,
        assignee_id=SOCIAL_WORKER.aad_object_id,
        received_at=received,
        children=(Child(name=CHILD_NAME),),
    )
    async with bot.store.unit_of_work() as uow:
        await uow.contacts.add(contact)
        await uow.deadlines.add(
            Deadline(
                REASSIGNED,
                ClockKind.COMPLETION_48H,
                received,
                received + timedelta(hours=48),
                assignee_id=SOCIAL_WORKER.aad_object_id,
            )
        )
        await uow.commit()


async def _jobs(bot: RunningBot, clock: SettableClock) -> None:
    """One run of the handover and MARAC jobs, then the dispatcher, as the scheduler would."""
    policy, calendar = bot.app[SETTINGS].policy, bot.app[CALENDAR]
    await run_handover(bot.store.unit_of_work, clock, policy, calendar)
    await run_marac(bot.store.unit_of_work, clock, policy, calendar)
    sender = TeamsAlertSender(bot.app[NOTIFIER], bot.store)
    await Dispatcher(bot.store.unit_of_work, sender, clock).dispatch_due()


def _posts(channel: TeamsChannel, conversation: Conversation, heading: str) -> list[SentActivity]:
    return [post for post in channel.sent_to(conversation) if post.card and heading in texts_of(post.card)]


def _ack_data(card: dict[str, Any]) -> dict[str, Any]:
    [button] = [node for node in actions(card) if node.get("verb") == ACK_VERB]
    data: dict[str, Any] = button["data"]
    return data


async def _updated(channel: TeamsChannel, activity_id: str, text: str) -> dict[str, Any]:
    """The message ``activity_id`` once an update shows ``text`` (updates run after the invoke)."""
    for _ in range(200):
        message = channel.message(activity_id)
        if message is not None and text in texts_of(message):
            return message
        await asyncio.sleep(0.025)
    raise AssertionError(f"the message was not updated to say {text!r}")


def _assert_minimised(card: dict[str, Any]) -> None:
    text = texts_of(card)
    for secret in NEVER_IN_A_CHANNEL:
        assert secret not in text, secret


# -- the handover in the duty channel -------------------------------------------------------------


async def test_the_handover_is_posted_at_half_past_four_with_the_next_duty_manager_mentioned(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, clock = await _ready(start_bot, teams_channel)
    await _rota(bot, TUESDAY, Role.DUTY_MANAGER, DUTY_MANAGER)
    await _rota(bot, MONDAY, Role.DUTY_MANAGER, OTHER_DUTY)
    # a contact through the script (awaiting screening) and one with the social worker
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    await _with_social_worker(bot, local(MONDAY, 9))
    duty = duty_channel(teams_channel)

    clock.set(local(MONDAY, 16, 29))
    await _jobs(bot, clock)
    assert _posts(teams_channel, duty, "End-of-day handover") == []
    clock.set(local(MONDAY, 16, 30))
    await _jobs(bot, clock)
    clock.set(local(MONDAY, 16, 31))
    await _jobs(bot, clock)  # once

    [post] = _posts(teams_channel, duty, "End-of-day handover")
    assert post.card is not None
    text = texts_of(post.card)
    assert [(m.id, m.name) for m in post.mentions] == [(DUTY_MANAGER.aad_object_id, DUTY_MANAGER.name)]
    assert post.text is not None and f"<at>{DUTY_MANAGER.name}</at>" in post.text
    # SPEC §7: reassigned and open with worker, age and due time; at-risk clocks; the band; loads
    for part in (
        "Mon 16 Mar 2026",
        f"Over to: {DUTY_MANAGER.name}",
        REASSIGNED,
        SOCIAL_WORKER.name,
        "received 7 h 30 min ago",
        "due Wed 18 Mar 2026 09:00",  # London time
        "Breached or at-risk clocks (1)",
        "CT-26-000001",  # the screening clock of the submitted contact: amber by 16:30
        "Screening decision, due Tue 17 Mar 2026 10:00 (Amber)",
        "Falling due before the next opening (0)",
        "2 open; the target band is 50–85: below the band, which is not a concern in itself.",
        "1 of 10 (Green)",
        "I acknowledge",
    ):
        assert part in text, part
    # Below the band is not a concern: plain words, no warning colour.
    band = "2 open; the target band is 50–85: below the band, which is not a concern in itself."
    assert text_styles(post.card)[band] == ("", "")
    _assert_minimised(post.card)
    assert "Sent late" not in text


async def test_the_incoming_duty_manager_acknowledges_and_the_card_updates_in_place(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, clock = await _ready(start_bot, teams_channel, local(MONDAY, 16, 30))
    await _rota(bot, TUESDAY, Role.DUTY_MANAGER, DUTY_MANAGER)
    await _rota(bot, MONDAY, Role.DUTY_MANAGER, OTHER_DUTY)
    await _jobs(bot, clock)
    duty = duty_channel(teams_channel)
    [post] = _posts(teams_channel, duty, "End-of-day handover")
    assert post.card is not None
    data = _ack_data(post.card)

    clock.set(local(MONDAY, 16, 45))
    # today's duty manager is not the incoming one: told so on the card, which they may see anyway
    refused = await teams_channel.execute(duty, OTHER_DUTY, ACK_VERB, data, card_activity_id=post.activity_id)
    assert refused.card is not None, refused.text
    assert "Only the incoming duty manager for Tue 17 Mar" in texts_of(refused.card)
    assert "Acknowledged by" not in texts_of(refused.card)
    # a consultant or an administrator may not see the handover at all: a refusal and no card
    for user in (CONSULTANT, ADMIN):
        refused = await teams_channel.execute(duty, user, ACK_VERB, data, card_activity_id=post.activity_id)
        assert refused.card is None and refused.json["value"].startswith(
            "Sorry, only duty managers or team managers"
        )
    assert "Acknowledged by" not in texts_of(teams_channel.message(post.activity_id) or {})

    clock.set(local(TUESDAY, 8, 5))
    response = await teams_channel.execute(
        duty, DUTY_MANAGER, ACK_VERB, data, card_activity_id=post.activity_id
    )
    assert response.card is not None
    said = f"Acknowledged by {DUTY_MANAGER.name} at Tue 17 Mar 2026 08:05"
    assert said in texts_of(response.card)
    assert not [node for node in actions(response.card) if node.get("verb") == ACK_VERB]
    # for everyone: the channel message itself is updated
    updated = await _updated(teams_channel, post.activity_id, said)
    assert not [node for node in actions(updated) if node.get("verb") == ACK_VERB]

    acknowledged = [e for e in await audit(bot) if e.action == "handover.acknowledged"]
    assert [(e.actor_id, e.subject) for e in acknowledged] == [
        (DUTY_MANAGER.aad_object_id, "handover:2026-03-16")
    ]
    refused_events = [e for e in await audit(bot) if e.action == "handover.acknowledge_refused"]
    assert {e.actor_id for e in refused_events} == {OTHER_DUTY.aad_object_id}
    gate = [e for e in await audit(bot) if e.action == "access.refused"]
    assert {(e.actor_id, e.subject) for e in gate} == {
        (CONSULTANT.aad_object_id, "verb:handover.ack"),
        (ADMIN.aad_object_id, "verb:handover.ack"),
    }

    # acknowledged: no escalation at the opening
    clock.set(local(TUESDAY, 8, 30))
    await _jobs(bot, clock)
    assert _posts(teams_channel, duty, "Handover not acknowledged") == []


async def test_an_unacknowledged_handover_escalates_to_the_team_manager_at_the_next_opening(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, clock = await _ready(start_bot, teams_channel, local(MONDAY, 16, 30))
    await _rota(bot, TUESDAY, Role.DUTY_MANAGER, DUTY_MANAGER)
    await _rota(bot, TUESDAY, Role.TEAM_MANAGER, TEAM_MANAGER)
    await _jobs(bot, clock)
    duty = duty_channel(teams_channel)
    tm_chat = teams_channel.personal(TEAM_MANAGER)

    clock.set(local(TUESDAY, 8, 29))
    await _jobs(bot, clock)
    assert _posts(teams_channel, duty, "Handover not acknowledged") == []
    clock.set(local(TUESDAY, 8, 30))
    await _jobs(bot, clock)
    clock.set(local(TUESDAY, 9, 0))
    await _jobs(bot, clock)  # once

    [in_channel] = _posts(teams_channel, duty, "Handover not acknowledged")
    [in_person] = _posts(teams_channel, tm_chat, "Handover not acknowledged")
    assert [m.id for m in in_channel.mentions] == [TEAM_MANAGER.aad_object_id]
    assert in_person.mentions == []
    assert in_channel.card is not None
    text = texts_of(in_channel.card)
    for part in (
        "Mon 16 Mar 2026",
        "Tue 17 Mar 2026 08:30",
        DUTY_MANAGER.name,
        TEAM_MANAGER.name,
    ):
        assert part in text, part

    # the team manager takes it on from their chat: every copy, and the handover itself, update
    assert in_person.card is not None
    clock.set(local(TUESDAY, 9, 10))
    response = await teams_channel.execute(
        tm_chat, TEAM_MANAGER, ACK_VERB, _ack_data(in_person.card), card_activity_id=in_person.activity_id
    )
    assert response.card is not None
    said = f"Acknowledged by {TEAM_MANAGER.name}"
    assert said in texts_of(response.card)
    [handover] = _posts(teams_channel, duty, "End-of-day handover")
    for activity_id in (handover.activity_id, in_channel.activity_id, in_person.activity_id):
        await _updated(teams_channel, activity_id, said)


async def test_a_handover_missed_while_the_bot_was_down_is_posted_late(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    # First started that morning, then down from before 16:30 to 19:05.
    bot, clock = await _ready(start_bot, teams_channel, local(MONDAY, 9))
    clock.set(local(MONDAY, 19, 5))
    await _jobs(bot, clock)
    [post] = _posts(teams_channel, duty_channel(teams_channel), "End-of-day handover")
    assert post.card is not None
    text = texts_of(post.card)
    assert "Sent late: due at Mon 16 Mar 2026 16:30, made at Mon 16 Mar 2026 19:05" in text
    # nobody on the rota: every duty manager is named
    assert "Nobody is on the rota as duty manager for Tue 17 Mar 2026" in text
    assert {m.id for m in post.mentions} == {DUTY_MANAGER.aad_object_id, OTHER_DUTY.aad_object_id}


async def test_marac_reminder_on_a_tuesday_morning(start_bot: StartBot, teams_channel: TeamsChannel) -> None:
    bot, clock = await _ready(start_bot, teams_channel, local(MONDAY, 9, 30))
    await _jobs(bot, clock)
    duty = duty_channel(teams_channel)
    assert _posts(teams_channel, duty, "MARAC") == []
    clock.set(local(TUESDAY, 9, 30))
    await _jobs(bot, clock)
    clock.set(local(TUESDAY, 10, 0))
    await _jobs(bot, clock)
    [post] = _posts(teams_channel, duty, "MARAC")
    assert post.card is not None
    assert "MARAC meeting today at 13:00" in texts_of(post.card)
    assert "due back before the meeting" in texts_of(post.card)


# -- handover on demand ---------------------------------------------------------------------------


async def test_handover_on_demand_for_duty_and_team_managers_only(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, clock = await _ready(start_bot, teams_channel, local(MONDAY, 14))
    await _with_social_worker(bot, local(MONDAY, 9))
    for user in (DUTY_MANAGER, TEAM_MANAGER):
        reply = await teams_channel.say(teams_channel.personal(user), user, "handover")
        [card] = reply.cards
        text = texts_of(card)
        assert "Handover as it stands now" in text and REASSIGNED in text
        assert "The next end-of-day handover is posted to the duty channel at Mon 16 Mar 2026 16:30" in text
        assert "I acknowledge" not in text
        _assert_minimised(card)
    reply = await teams_channel.say(duty_channel(teams_channel), DUTY_MANAGER, "handover")
    assert reply.cards and "Handover as it stands now" in texts_of(reply.cards[0])

    for user in (CONSULTANT, OFFICER, SOCIAL_WORKER, ADMIN):
        refused = await teams_channel.say(teams_channel.personal(user), user, "handover")
        assert refused.cards == []
        assert refused.texts == [
            "Sorry, only duty managers or team managers can do that. "
            "If you think you should be able to, ask an administrator."
        ], user

    # after 16:30: where the posted one is
    clock.set(local(MONDAY, 16, 30))
    await _jobs(bot, clock)
    reply = await teams_channel.say(teams_channel.personal(DUTY_MANAGER), DUTY_MANAGER, "handover")
    assert (
        "The handover of Mon 16 Mar 2026 was posted to the duty channel; nobody has acknowledged it yet."
        in (texts_of(reply.cards[0]))
    )


async def test_the_handover_lists_an_urgent_contact_whose_history_checks_are_outstanding(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    """The handover agrees with the contact's receipt and channel card (SPEC §3): an urgent
    contact created before its history checks has them outstanding until someone records them."""
    bot, _ = await _ready(start_bot, teams_channel, local(MONDAY, 14))
    urgent = full_contact("c-urgent", reference="CT-26-000077")  # urgent
    async with bot.store.unit_of_work() as uow:
        await uow.contacts.add(
            replace(
                urgent,
                state=ContactState.AWAITING_SCREENING,
                received_at=local(MONDAY, 11),
                history=HistoryChecks(),
            )
        )
        await uow.contacts.add(
            replace(urgent, id="c-checked", reference="CT-26-000078", received_at=local(MONDAY, 12))
        )
        await uow.commit()
    reply = await teams_channel.say(teams_channel.personal(DUTY_MANAGER), DUTY_MANAGER, "handover")
    text = texts_of(reply.cards[0])
    assert "Urgent contacts with history checks outstanding (1)" in text
    assert "CT-26-000077" in text and text.count("history checks not yet recorded") == 1


async def test_a_throttled_handover_is_said_to_be_retried_with_teams_answer(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    """A 429 gives its attempt back, so the handover's state says a try failed by its error."""
    bot, clock = await _ready(start_bot, teams_channel)
    duty = duty_channel(teams_channel)
    teams_channel.fail_next(duty.id, 429, headers={"Retry-After": "60"})
    clock.set(local(MONDAY, 16, 30))
    await _jobs(bot, clock)
    assert _posts(teams_channel, duty, "End-of-day handover") == []

    reply = await teams_channel.say(teams_channel.personal(DUTY_MANAGER), DUTY_MANAGER, "handover")
    shown = texts_of(reply.cards[0])
    assert (
        "The handover of Mon 16 Mar 2026 has not been delivered to the duty channel yet "
        "(HTTP 429 Throttled: retried until Teams takes it); the bot is trying again." in shown
    ), shown


async def test_a_handover_never_delivered_is_one_story_undelivered_never_unacknowledged(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    """No duty channel is registered when Monday's handover is due: it cannot be delivered. At
    Tuesday's opening nobody is told it was not acknowledged; ``handover`` and ``status`` both say
    it was not delivered, and why."""
    clock = SettableClock(local(MONDAY, 9))
    bot = await start_bot(clock=clock, scheduler_enabled=False)
    await staff(bot)
    await grant(bot, TEAM_MANAGER, Role.TEAM_MANAGER)
    for user in (DUTY_MANAGER, TEAM_MANAGER):
        await introduce(teams_channel, user)
    clock.set(local(MONDAY, 16, 30))
    await _jobs(bot, clock)
    clock.set(local(TUESDAY, 8, 30))
    await _jobs(bot, clock)
    clock.set(local(TUESDAY, 9, 0))
    await _jobs(bot, clock)
    escalations = [
        post
        for post in teams_channel.sent_to()
        if post.card is not None and "Nobody acknowledged" in texts_of(post.card)
    ]
    assert escalations == []
    async with bot.store.unit_of_work() as uow:
        [failed] = await uow.alerts.failed()
    assert failed.kind is AlertKind.HANDOVER and failed.subject == "handover:2026-03-16"

    reply = await teams_channel.say(teams_channel.personal(DUTY_MANAGER), DUTY_MANAGER, "handover")
    shown = texts_of(reply.cards[0])
    assert (
        f"The handover of Mon 16 Mar 2026 was not delivered to the duty channel ({failed.last_error}); "
        "**status** lists it under undelivered alerts." in shown
    ), shown
    assert "acknowledged" not in shown
    reply = await teams_channel.say(teams_channel.personal(DUTY_MANAGER), DUTY_MANAGER, "status")
    status = texts_of(reply.cards[0])
    for part in ("Undelivered alerts (1)", "End-of-day handover: handover:2026-03-16", failed.last_error):
        assert part in status, part


# -- status ---------------------------------------------------------------------------------------


async def test_status_shows_the_band_loads_breaches_dead_chats_and_undelivered_alerts(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, clock = await _ready(start_bot, teams_channel, local(TUESDAY, 12))
    await _with_social_worker(bot, local(MONDAY, 9) - timedelta(days=3))  # its 48 hours are up
    async with bot.store.unit_of_work() as uow:
        chat = await uow.conversations.personal_chat_of(OFFICER.aad_object_id)
        assert chat is not None
        await uow.conversations.mark_dead(chat.conversation_id, "ConversationBlockedByUser")
        key = handover_key(MONDAY, bot.app[CALENDAR], bot.app[SETTINGS].policy)
        message = OutboxMessage.create(
            outbox_key(key, Recipient.person(OFFICER.aad_object_id)),
            key,
            Recipient.person(OFFICER.aad_object_id),
            local(MONDAY, 16, 30),
            {"kind": AlertKind.HANDOVER.value},
        )
        await uow.alerts.enqueue([message], clock.now())
        [item] = await uow.alerts.claim(clock.now(), timedelta(minutes=1))
        await uow.alerts.mark_failed(item.id, "403 ConversationBlockedByUser")
        await uow.commit()

    for user in (CONSULTANT, DUTY_MANAGER, TEAM_MANAGER):
        reply = await teams_channel.say(teams_channel.personal(user), user, "status")
        [card] = reply.cards
        text = texts_of(card)
        for part in (
            "As at Tue 17 Mar 2026 12:00",
            "1 open; the target band is 50–85: below the band, which is not a concern in itself.",
            f"{SOCIAL_WORKER.name}",
            "1 of 10 (Green)",
            "Breached clocks (1)",
            REASSIGNED,
            "Completion (48 hours), was due",
            "Decisions channel",
            "Undelivered alerts (1)",
            "End-of-day handover: handover:2026-03-16",
            f"to {OFFICER.name} (personal chat)",
            "403 ConversationBlockedByUser",
            "I can no longer post to (1)",
            f"Personal chat of {OFFICER.name}",
            "1 failed",
        ):
            assert part in text, part
        _assert_minimised(card)

    for user in (OFFICER, SOCIAL_WORKER, ADMIN):
        refused = await teams_channel.say(teams_channel.personal(user), user, "status")
        assert refused.cards == [] and refused.texts and refused.texts[0].startswith("Sorry, only"), user


# -- the rota -------------------------------------------------------------------------------------


async def test_duty_shows_and_sets_the_rota_with_every_change_audited(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, _ = await _ready(start_bot, teams_channel)
    await _rota(bot, MONDAY, Role.CONSULTANT, CONSULTANT)
    chat = teams_channel.personal(DUTY_MANAGER)

    today = await teams_channel.say(chat, DUTY_MANAGER, "duty")
    [card] = today.cards
    assert "Mon 16 Mar 2026" in texts_of(card) and CONSULTANT.name in texts_of(card)

    reply = await teams_channel.say(chat, DUTY_MANAGER, "duty 2026-03-17")
    [card] = reply.cards
    assert "Tue 17 Mar 2026" in texts_of(card)
    [save] = [node for node in actions(card) if node.get("verb") == ROTA_SAVE_VERB]
    assert save["data"][ROTA_DAY_KEY] == "2026-03-17"
    inputs = {node["id"]: node for node in _inputs(card)}
    duty_choices = {choice["value"] for choice in inputs["rota_duty_manager"]["choices"]}
    assert duty_choices == {DUTY_MANAGER.aad_object_id, OTHER_DUTY.aad_object_id}

    saved = await teams_channel.execute(
        chat,
        DUTY_MANAGER,
        ROTA_SAVE_VERB,
        {
            **save["data"],
            "rota_consultant": CONSULTANT.aad_object_id,
            "rota_duty_manager": OTHER_DUTY.aad_object_id,
            "rota_team_manager": TEAM_MANAGER.aad_object_id,
        },
    )
    assert saved.card is not None
    assert "Saved: 3 changes to the rota of Tue 17 Mar 2026." in texts_of(saved.card)
    async with bot.store.unit_of_work() as uow:
        entries = await uow.rota.on(TUESDAY)
    assert {(e.role, e.person_id) for e in entries} == {
        (Role.CONSULTANT, CONSULTANT.aad_object_id),
        (Role.DUTY_MANAGER, OTHER_DUTY.aad_object_id),
        (Role.TEAM_MANAGER, TEAM_MANAGER.aad_object_id),
    }

    # an administrator moves the duty manager and takes the team manager off
    admin_chat = teams_channel.personal(ADMIN)
    moved = await teams_channel.execute(
        admin_chat,
        ADMIN,
        ROTA_SAVE_VERB,
        {
            ROTA_DAY_KEY: "2026-03-17",
            ROLES_KEY: "duty_manager,team_manager",
            "rota_duty_manager": DUTY_MANAGER.aad_object_id,
            "rota_team_manager": "",
        },
    )
    assert moved.card is not None and "Saved: 3 changes" in texts_of(moved.card)
    rota_events = [
        (e.actor_id, e.action, e.subject, e.detail) for e in await audit(bot) if e.subject.startswith("rota:")
    ]
    assert rota_events[-6:] == [
        (DUTY_MANAGER.aad_object_id, "rota.set", "rota:2026-03-17", f"consultant:{CONSULTANT.aad_object_id}"),
        (
            DUTY_MANAGER.aad_object_id,
            "rota.set",
            "rota:2026-03-17",
            f"duty_manager:{OTHER_DUTY.aad_object_id}",
        ),
        (
            DUTY_MANAGER.aad_object_id,
            "rota.set",
            "rota:2026-03-17",
            f"team_manager:{TEAM_MANAGER.aad_object_id}",
        ),
        (ADMIN.aad_object_id, "rota.remove", "rota:2026-03-17", f"duty_manager:{OTHER_DUTY.aad_object_id}"),
        (ADMIN.aad_object_id, "rota.set", "rota:2026-03-17", f"duty_manager:{DUTY_MANAGER.aad_object_id}"),
        (ADMIN.aad_object_id, "rota.remove", "rota:2026-03-17", f"team_manager:{TEAM_MANAGER.aad_object_id}"),
    ]

    # the next day's rota from the card
    following = await teams_channel.execute(chat, DUTY_MANAGER, ROTA_SHOW_VERB, {ROTA_DAY_KEY: "2026-03-18"})
    assert following.card is not None and "Wed 18 Mar 2026" in texts_of(following.card)


async def test_duty_refuses_bad_dates_people_without_the_role_and_other_roles(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, _ = await _ready(start_bot, teams_channel)
    chat = teams_channel.personal(DUTY_MANAGER)
    for typed, expected in [
        ("duty 2026-02-30", "is not a date I can read"),
        ("duty next week", "is not a date I can read"),
        ("duty 2031-01-01", "from a year back to two years ahead"),
    ]:
        reply = await teams_channel.say(chat, DUTY_MANAGER, typed)
        assert reply.cards == [] and expected in reply.texts[0], typed

    # a consultant chosen as duty manager: refused, nothing changed
    refused = await teams_channel.execute(
        chat,
        DUTY_MANAGER,
        ROTA_SAVE_VERB,
        {
            ROTA_DAY_KEY: "2026-03-17",
            ROLES_KEY: "duty_manager",
            "rota_duty_manager": CONSULTANT.aad_object_id,
        },
    )
    assert refused.card is not None and "is not listed as one of the duty managers" in texts_of(refused.card)
    async with bot.store.unit_of_work() as uow:
        assert await uow.rota.on(TUESDAY) == []

    for user in (CONSULTANT, TEAM_MANAGER, OFFICER):
        reply = await teams_channel.say(teams_channel.personal(user), user, "duty")
        assert reply.cards == [] and reply.texts[0].startswith(
            "Sorry, only duty managers or administrators"
        ), user
        # a forged or forwarded card is refused on the server too
        forged = await teams_channel.execute(
            teams_channel.personal(user),
            user,
            ROTA_SAVE_VERB,
            {ROTA_DAY_KEY: "2026-03-17", ROLES_KEY: "duty_manager", "rota_duty_manager": user.aad_object_id},
        )
        assert "Sorry, only duty managers or administrators" in forged.text
    async with bot.store.unit_of_work() as uow:
        assert await uow.rota.on(TUESDAY) == []
    # unreadable card data
    broken = await teams_channel.execute(chat, DUTY_MANAGER, ROTA_SAVE_VERB, {ROTA_DAY_KEY: "tomorrow"})
    assert "could not be read" in broken.text


def _inputs(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [node for node in card["body"] if str(node.get("type", "")).startswith("Input.")]


async def test_ack_with_unreadable_data_changes_nothing(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, _ = await _ready(start_bot, teams_channel, local(MONDAY, 17))
    duty = duty_channel(teams_channel)
    for data in ({}, {"day": "yesterday"}, {"day": "2026-03-14"}, {"day": "2026-03-16", "item": "x"}):
        reply = await teams_channel.execute(duty, DUTY_MANAGER, ACK_VERB, data)
        assert reply.status == 200
        assert reply.card is None
    assert [e for e in await audit(bot) if e.action == "handover.acknowledged"] == []


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (local(MONDAY, 8, 29), "The front door next opens at Mon 16 Mar 2026 08:30."),
        (local(MONDAY, 8, 30), "The front door is open now, until 17:00."),
        (local(MONDAY, 16, 59), "The front door is open now, until 17:00."),
        (local(MONDAY, 17, 0), "The front door next opens at Tue 17 Mar 2026 08:30."),
        (local(date(2026, 3, 20), 17, 0), "The front door next opens at Mon 23 Mar 2026 08:30."),  # Friday
        (local(date(2026, 3, 21), 10, 0), "The front door next opens at Mon 23 Mar 2026 08:30."),  # Saturday
        # Thursday 2 April 2026, before Good Friday and Easter Monday
        (local(date(2026, 4, 2), 12, 0), "The front door is open now, until 17:00."),
        (local(date(2026, 4, 2), 17, 0), "The front door next opens at Tue 7 Apr 2026 08:30."),
    ],
    ids=[
        "mon-0829",
        "mon-0830",
        "mon-1659",
        "mon-1700",
        "fri-1700",
        "sat-1000",
        "thu-1200-easter",
        "thu-1700-easter",
    ],
)
async def test_the_handover_says_whether_the_front_door_is_open_now(
    start_bot: StartBot, teams_channel: TeamsChannel, at: datetime, expected: str
) -> None:
    bot = await start_bot(clock=SettableClock(at), scheduler_enabled=False)
    await grant(bot, DUTY_MANAGER, Role.DUTY_MANAGER)
    chat = await introduce(teams_channel, DUTY_MANAGER)
    [card] = (await teams_channel.say(chat, DUTY_MANAGER, "handover")).cards
    text = texts_of(card)
    assert expected in text
    assert ("open now" in text) != ("next opens" in text)
