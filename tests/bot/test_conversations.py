"""Every chat and channel the bot hears from or is installed in is remembered for later messages."""

from __future__ import annotations

import json

from botbuilder.core import TurnContext
from botbuilder.schema import Activity
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from msrest.exceptions import DeserializationError

from bot.teams import reference_json
from frontdoor.records import ConversationKind
from tests.bot.conftest import StartBot
from tests.harness.teams import TeamsChannel, TeamsUser

ALICE = TeamsUser("aad-user-0001", "Testy McTestface")
BOB = TeamsUser("aad-user-0002", "Zebedee Example")


async def _record(bot, conversation_id: str):
    async with bot.store.unit_of_work() as uow:
        return await uow.conversations.get(conversation_id)


async def test_installation_in_a_personal_chat_is_stored(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot()
    chat = teams_channel.personal(ALICE)
    await teams_channel.installation_update(chat, ALICE)
    record = await _record(bot, chat.id)
    assert record is not None
    assert record.kind is ConversationKind.PERSONAL
    assert record.user_id == ALICE.aad_object_id
    assert record.tenant_id == teams_channel.tenant_id
    assert record.service_url == teams_channel.service_url
    reference = json.loads(record.reference)
    assert reference["conversation"]["id"] == chat.id
    assert reference["serviceUrl"] == teams_channel.service_url
    async with bot.store.unit_of_work() as uow:
        assert (await uow.conversations.personal_chat_of(ALICE.aad_object_id)) == record


async def test_a_channel_is_stored_at_its_root_not_the_thread(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot()
    channel = teams_channel.channel("team-9", "channel-9", "Duty", members=[ALICE])
    await teams_channel.conversation_update(channel, ALICE, bot_added=True)
    await teams_channel.say(channel, ALICE, "help")
    record = await _record(bot, channel.id)
    assert record is not None
    assert record.kind is ConversationKind.CHANNEL
    assert record.team_id == "team-9"
    assert record.channel_id == "channel-9"
    assert ";messageid=" not in json.loads(record.reference)["conversation"]["id"]


async def test_a_group_chat_is_stored_from_any_message(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot()
    group = teams_channel.group_chat(ALICE, BOB)
    await teams_channel.say(group, BOB, "help")
    record = await _record(bot, group.id)
    assert record is not None
    assert record.kind is ConversationKind.GROUP_CHAT
    assert record.user_id is None


async def test_a_later_activity_updates_the_stored_reference(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot()
    chat = teams_channel.personal(ALICE)
    await teams_channel.say(chat, ALICE, "help")
    first = await _record(bot, chat.id)
    async with bot.store.unit_of_work() as uow:
        await uow.conversations.mark_dead(chat.id, "ConversationBlockedByUser")
        await uow.commit()
    await teams_channel.say(chat, ALICE, "help")
    second = await _record(bot, chat.id)
    assert first is not None and second is not None
    assert not second.dead
    assert second.updated_at >= first.updated_at


async def test_activities_from_another_tenant_get_no_reply_and_change_nothing(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(tenants=frozenset({"some-other-tenant"}))
    chat = teams_channel.personal(ALICE)
    reply = await teams_channel.say(chat, ALICE, "help")
    assert reply.status in (200, 201)
    assert reply.sent == ()
    assert await _record(bot, chat.id) is None


async def test_the_served_tenant_is_answered(start_bot: StartBot, teams_channel: TeamsChannel) -> None:
    await start_bot(tenants=frozenset({teams_channel.tenant_id}))
    reply = await teams_channel.say(teams_channel.personal(ALICE), ALICE, "help")
    assert len(reply.cards) == 1


_FIELD = st.one_of(st.none(), st.text(max_size=12), st.booleans(), st.integers(), st.just({"k": [1, "v"]}))


@settings(max_examples=300, deadline=None)
@given(
    user=st.fixed_dictionaries(
        {"id": _FIELD, "name": _FIELD, "aadObjectId": _FIELD, "role": _FIELD, "properties": _FIELD}
    ),
    conversation=st.fixed_dictionaries(
        {
            "id": _FIELD,
            "conversationType": _FIELD,
            "isGroup": _FIELD,
            "tenantId": _FIELD,
            "name": _FIELD,
            "properties": _FIELD,
        }
    ),
    bot_name=_FIELD,
    locale=_FIELD,
    channel_id=_FIELD,
)
def test_the_stored_reference_is_what_msrest_serializes(
    user: dict[str, object],
    conversation: dict[str, object],
    bot_name: object,
    locale: object,
    channel_id: object,
) -> None:
    """``reference_json`` skips msrest on a plain reference; whatever the activity holds, it gives
    what msrest's own ``serialize`` gives."""
    body = {
        "type": "message",
        "id": "activity-1",
        "serviceUrl": "https://smba.example.invalid/uk/",
        "channelId": channel_id,
        "locale": locale,
        "from": user,
        "recipient": {"id": "28:bot", "name": bot_name},
        "conversation": conversation,
    }
    try:
        activity = Activity().deserialize(body)
    except DeserializationError:  # the endpoint answers 400 to such a body: no turn, no record
        assume(False)
    reference = TurnContext.get_conversation_reference(activity)
    assert reference_json(reference) == reference.serialize()
