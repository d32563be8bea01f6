"""``register decisions channel`` / ``register duty channel``: said by an administrator in a team
channel, stored with the channel's conversation reference, moved by saying it elsewhere, audited."""

from __future__ import annotations

import json

import pytest

from frontdoor.records import ChannelPurpose, ChannelRegistration
from frontdoor.roles import Role
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.intake_script import (
    ADMIN,
    CONSULTANT,
    DECISIONS_CHANNEL,
    OFFICER,
    TEAM,
    audit,
    clock,
    decisions_channel,
    duty_channel,
    grant,
    staff,
    submit,
)
from tests.harness.teams import TeamsChannel, TeamsUser


async def _registered(bot: RunningBot, purpose: ChannelPurpose) -> ChannelRegistration | None:
    async with bot.store.unit_of_work() as uow:
        return await uow.channels.get(purpose)


@pytest.mark.parametrize(
    ("words", "purpose", "name"),
    [
        ("register decisions channel", ChannelPurpose.DECISIONS, "decisions channel"),
        ("Register duty channel.", ChannelPurpose.DUTY, "duty channel"),
    ],
)
async def test_an_admin_registers_a_channel_where_they_say_so(
    start_bot: StartBot, teams_channel: TeamsChannel, words: str, purpose: ChannelPurpose, name: str
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    channel = decisions_channel(teams_channel)
    reply = await teams_channel.say(channel, ADMIN, words)
    [text] = reply.texts
    assert text.startswith(f"This channel is now the {name}.")
    registration = await _registered(bot, purpose)
    assert registration is not None
    assert registration.conversation_id == DECISIONS_CHANNEL
    assert registration.registered_by == ADMIN.aad_object_id
    async with bot.store.unit_of_work() as uow:
        record = await uow.conversations.get(DECISIONS_CHANNEL)
    assert record is not None
    assert json.loads(record.reference)["conversation"]["id"] == DECISIONS_CHANNEL  # not a thread
    [event] = [e for e in await audit(bot) if e.action == "channel.registered"]
    assert (event.actor_id, event.subject) == (ADMIN.aad_object_id, f"channel:{purpose.value}")
    assert event.detail == f"conversation={DECISIONS_CHANNEL}; previous=none"


async def test_registering_another_channel_moves_it_and_tells_the_old_one(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    old = decisions_channel(teams_channel)
    new = teams_channel.channel(TEAM, "19:screening@thread.tacv2", "Screening", members=[ADMIN, CONSULTANT])
    await teams_channel.say(old, ADMIN, "register decisions channel")

    reply = await teams_channel.say(new, ADMIN, "register decisions channel")

    assert any("moved here" in (post.text or "") for post in reply.sent_to(new.id))
    assert any("no longer the decisions channel" in (post.text or "") for post in reply.sent_to(old.id))
    registration = await _registered(bot, ChannelPurpose.DECISIONS)
    assert registration is not None and registration.conversation_id == new.id
    details = [e.detail for e in await audit(bot) if e.action == "channel.registered"]
    assert details[-1] == f"conversation={new.id}; previous={old.id}"
    # the next contact's card goes to the new channel only
    before_old = len(teams_channel.sent_to(old))
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    assert len(teams_channel.sent_to(old)) == before_old
    assert any(post.card and "CT-26-000001" in json.dumps(post.card) for post in teams_channel.sent_to(new))


async def test_saying_it_again_in_the_same_channel_keeps_it(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    channel = duty_channel(teams_channel)
    await teams_channel.say(channel, ADMIN, "register duty channel")
    reply = await teams_channel.say(channel, ADMIN, "register duty channel")
    assert reply.texts[0].startswith("This channel is still the duty channel.")
    assert len(teams_channel.sent_to(channel)) == 2  # no "moved away" notice to itself


@pytest.mark.parametrize("roles", [(), (Role.CONSULTANT,), (Role.TEAM_MANAGER, Role.DUTY_MANAGER)])
async def test_anyone_but_an_admin_is_refused_and_nothing_changes(
    start_bot: StartBot, teams_channel: TeamsChannel, roles: tuple[Role, ...]
) -> None:
    bot = await start_bot(clock=clock())
    person = TeamsUser("aad-person-0390", "Rae Rolesperson")
    await grant(bot, person, *roles)
    reply = await teams_channel.say(decisions_channel(teams_channel), person, "register decisions channel")
    told = "Sorry, only administrators can do that. If you think you should be able to, ask an administrator."
    if not roles:  # someone with no role at all is told who they are and what an administrator runs
        told += (
            " You have no role yet. Your Azure AD object id is aad-person-0390; give an administrator this "
            "line: `frontdoor-bot roles grant aad-person-0390 admin`"
        )
    assert reply.texts == [told]
    assert await _registered(bot, ChannelPurpose.DECISIONS) is None
    assert [e for e in await audit(bot) if e.action == "channel.registered"] == []


async def test_a_chat_cannot_be_registered(start_bot: StartBot, teams_channel: TeamsChannel) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    reply = await teams_channel.say(teams_channel.personal(ADMIN), ADMIN, "register decisions channel")
    assert reply.cards and "didn't recognise" in json.dumps(reply.cards[0])  # it is a channel command
    await teams_channel.say(teams_channel.group_chat(ADMIN, CONSULTANT), ADMIN, "register duty channel")
    assert await _registered(bot, ChannelPurpose.DECISIONS) is None
    assert await _registered(bot, ChannelPurpose.DUTY) is None


async def test_help_in_a_channel_offers_registration_to_admins_only(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    channel = decisions_channel(teams_channel)
    admin_help = json.dumps((await teams_channel.say(channel, ADMIN, "help")).cards)
    assert "register decisions channel" in admin_help and "register duty channel" in admin_help
    consultant_help = json.dumps((await teams_channel.say(channel, CONSULTANT, "help")).cards)
    assert "register" not in consultant_help
