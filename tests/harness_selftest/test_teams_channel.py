"""The loopback Teams channel against the real botbuilder stack (CloudAdapter, auth off)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import ChannelAccount, ConversationParameters, ErrorResponseException

from tests.harness.cards import CardValidator
from tests.harness.fixtures import MakeTeamsChannel
from tests.harness.teams import (
    ADAPTIVE_CARD,
    Operation,
    TeamsUser,
    cards_in,
    mentions,
)
from tests.harness_selftest.echo_bot import EchoStack

ALICE = TeamsUser(aad_object_id="0a1ce000-0000-4000-8000-000000000001", name="Alice Officer")
BOB = TeamsUser(aad_object_id="0b0b0000-0000-4000-8000-000000000002", name="Bob Consultant")
TEAM_ID = "19:team-general@thread.tacv2"
DECISIONS_ID = "19:decisions@thread.tacv2"


async def test_personal_message_gets_a_reply_recorded_by_the_channel(echo: EchoStack) -> None:
    channel = echo.channel
    chat = channel.personal(ALICE)

    response = await channel.say(chat, ALICE, "hello")

    assert response.status == 201
    assert response.texts == ["echo: hello"]
    [reply] = channel.sent_to(chat)
    assert reply.operation is Operation.REPLY
    assert response.inbound is not None
    assert reply.reply_to_id == response.inbound["id"]
    assert reply.body is not None and reply.body["conversation"]["id"] == chat.id
    assert reply.body["recipient"]["id"] == ALICE.id
    inbound = echo.bot.inbound[-1]
    assert inbound.channel_id == "msteams"
    assert inbound.service_url == channel.service_url
    assert inbound.from_property.aad_object_id == ALICE.aad_object_id
    assert inbound.conversation.conversation_type == "personal"
    assert response.inbound["conversation"]["tenantId"] == channel.tenant_id
    # botbuilder 4.17.1 maps ConversationAccount.tenant_id to "tenantID", so the "tenantId" Teams
    # sends is lost: the tenant must be read from channelData.tenant.id.
    assert inbound.conversation.tenant_id is None
    assert inbound.channel_data["tenant"]["id"] == channel.tenant_id
    assert inbound.recipient.id == "28:bot-app-id"


async def test_channel_message_mentions_the_bot_and_threads_the_reply(echo: EchoStack) -> None:
    channel = echo.channel
    decisions = channel.channel(TEAM_ID, DECISIONS_ID, "Decisions", team_name="MASH")

    response = await channel.say(decisions, BOB, "hello")

    inbound = echo.bot.inbound[-1]
    assert response.inbound is not None and response.inbound["text"] == "<at>Front Door</at> hello"
    assert [(m.id, m.text) for m in mentions(response.inbound or {})] == [
        ("28:bot-app-id", "<at>Front Door</at>")
    ]
    assert inbound.conversation.conversation_type == "channel"
    assert inbound.conversation.id == f"{DECISIONS_ID};messageid={inbound.id}"
    assert inbound.channel_data["team"] == {"id": TEAM_ID, "name": "MASH"}
    assert inbound.channel_data["channel"] == {"id": DECISIONS_ID, "name": "Decisions"}
    assert inbound.channel_data["teamsTeamId"] == TEAM_ID
    assert inbound.channel_data["teamsChannelId"] == DECISIONS_ID
    # The bot stripped the mention (botbuilder's remove_recipient_mention edits activity.text in place).
    assert inbound.text.strip() == "hello"
    assert channel.texts(decisions) == ["echo: hello"]
    assert channel.sent_to(decisions)[0].conversation_id == inbound.conversation.id

    group = channel.group_chat(ALICE, BOB, name="Strategy")
    await channel.say(group, ALICE, "hi all")
    assert echo.bot.inbound[-1].conversation.conversation_type == "groupChat"
    assert channel.texts(group) == ["echo: hi all"]


async def test_proactive_continue_conversation_uses_the_random_uuid_route(echo: EchoStack) -> None:
    channel = echo.channel
    chat = channel.personal(ALICE)
    await channel.say(chat, ALICE, "remember me")
    inbound_ids = {activity.id for activity in echo.bot.inbound}

    await echo.proactive(echo.bot.references[chat.id], "a deadline is near")

    proactive = channel.sent_to(chat)[-1]
    assert proactive.text == "a deadline is near"
    assert proactive.operation is Operation.REPLY
    assert proactive.reply_to_id not in inbound_ids
    assert uuid.UUID(str(proactive.reply_to_id))
    assert channel.calls[-1].path == f"/v3/conversations/{chat.id}/activities/{proactive.reply_to_id}"


async def test_action_execute_returns_the_updated_card_with_200(echo: EchoStack) -> None:
    channel = echo.channel
    decisions = channel.channel(TEAM_ID, DECISIONS_ID, "Decisions")
    await channel.say(decisions, ALICE, "card")
    card_post = channel.sent_to(decisions)[-1]

    response = await channel.execute(decisions, BOB, "accept", {"contact": "CT-000001"})

    assert response.status == 200
    assert response.json["type"] == ADAPTIVE_CARD
    assert response.invoke_status == 200
    assert response.card is not None
    assert response.card["body"][1]["text"] == "accept by Bob Consultant"
    assert response.inbound is not None and response.inbound["replyToId"] == card_post.activity_id
    assert response.inbound["conversation"]["id"] == card_post.conversation_id
    # botbuilder 4.17.1 leaves AdaptiveCardInvokeValue.action a plain dict and drops "trigger".
    [invoke] = echo.bot.invokes
    assert invoke.action == {"type": "Action.Execute", "verb": "accept", "data": {"contact": "CT-000001"}}
    assert response.inbound["value"]["trigger"] == "manual"
    assert [label for label, _ in channel.recorded_cards()][-1].startswith(
        "invoke response to adaptiveCard/action"
    )


async def test_canary_botbuilder_still_answers_500_to_invokes_without_the_fix(
    unpatched_echo: EchoStack,
) -> None:
    """Fails once botbuilder stops serialising invoke bodies twice: then drop the fix."""
    channel = unpatched_echo.channel
    chat = channel.personal(ALICE)
    await channel.say(chat, ALICE, "card")

    response = await channel.execute(chat, ALICE, "accept", {"contact": "CT-000001"})

    assert response.status == 500


async def test_action_submit_is_a_message_with_value_and_no_text(echo: EchoStack) -> None:
    channel = echo.channel
    chat = channel.personal(ALICE)
    await channel.say(chat, ALICE, "card")
    card_post = channel.sent_to(chat)[-1]

    response = await channel.submit(chat, ALICE, {"action": "save", "note": "called back"})

    assert response.texts == ['submitted {"action": "save", "note": "called back"}']
    inbound = echo.bot.inbound[-1]
    assert inbound.type == "message" and inbound.text is None
    assert inbound.reply_to_id == card_post.activity_id


async def test_updates_and_deletes_are_recorded_and_tracked(echo: EchoStack) -> None:
    channel = echo.channel
    chat = channel.personal(ALICE)

    await channel.say(chat, ALICE, "update and delete")

    card_post, note = channel.sent_to(chat)
    [update] = channel.updates_to(chat)
    [delete] = channel.deletes_in(chat)
    assert (update.method, update.activity_id) == ("PUT", card_post.activity_id)
    assert (delete.method, delete.activity_id) == ("DELETE", note.activity_id)
    current = channel.message(card_post.activity_id)
    assert current is not None and cards_in(current)[0]["body"][1]["text"] == "Updated"
    assert channel.last_card(chat)["body"][1]["text"] == "Updated"
    assert channel.message(note.activity_id) is None


async def test_roster_and_team_routes_answer_like_teams(echo: EchoStack) -> None:
    channel = echo.channel
    decisions = channel.channel(TEAM_ID, DECISIONS_ID, "Decisions", team_name="MASH", members=[ALICE, BOB])

    await channel.say(decisions, BOB, "members")
    await channel.say(decisions, BOB, "team")

    assert channel.texts(decisions) == [
        f"member Bob Consultant {BOB.aad_object_id}; first page 1, more True",
        f"team MASH {TEAM_ID}",
    ]
    assert [call.operation for call in channel.calls if call.operation not in (Operation.REPLY,)] == [
        Operation.GET_MEMBER,
        Operation.GET_PAGED_MEMBERS,
        Operation.GET_TEAM,
    ]


async def test_installation_and_conversation_updates(echo: EchoStack) -> None:
    channel = echo.channel
    chat = channel.personal(ALICE)
    decisions = channel.channel(TEAM_ID, TEAM_ID, "General", team_name="MASH")

    installed, joined = await channel.install(chat, ALICE)
    await channel.install(decisions, BOB)

    assert (installed.status, joined.status) == (201, 201)
    assert installed.texts == ["installed"] and joined.texts == ["hello"]
    assert echo.bot.inbound[1].members_added[0].id == channel.bot_id
    assert channel.texts(decisions) == ["installed", "hello to team MASH"]


async def test_create_conversation_for_a_channel_post_and_a_personal_chat(echo: EchoStack) -> None:
    channel = echo.channel
    decisions = channel.channel(TEAM_ID, DECISIONS_ID, "Decisions")
    chat = channel.personal(ALICE)
    created: list[str] = []

    async def remember(turn_context: TurnContext) -> None:
        created.append(turn_context.activity.conversation.id)

    post = ConversationParameters(
        is_group=True,
        channel_data={"channel": {"id": DECISIONS_ID}},
        activity=MessageFactory.text("new contact"),
    )
    await echo.adapter.create_conversation("", remember, post, "msteams", channel.service_url)
    one_to_one = ConversationParameters(
        is_group=False, members=[ChannelAccount(id=ALICE.id)], tenant_id=channel.tenant_id
    )
    await echo.adapter.create_conversation("", remember, one_to_one, "msteams", channel.service_url)

    [thread_post] = channel.sent_to(decisions)
    assert thread_post.operation is Operation.CREATE_CONVERSATION
    assert created == [thread_post.conversation_id, chat.id]
    assert thread_post.conversation_id == f"{DECISIONS_ID};messageid={thread_post.activity_id}"


async def test_an_unknown_route_fails_the_test(echo: EchoStack, card_validator: CardValidator) -> None:
    channel = echo.channel
    chat = channel.personal(ALICE)

    await channel.say(chat, ALICE, "stray")
    async with (
        ClientSession() as session,
        session.patch(f"{channel.service_url}v3/conversations/x/activities/1", json={}) as response,
    ):
        assert response.status == 404

    assert [error.response.status_code for error in echo.bot.errors] == [404]
    with pytest.raises(AssertionError, match="GET /v3/conversations: no such Bot Framework connector route"):
        channel.verify(card_validator)
    with pytest.raises(AssertionError, match="PATCH /v3/conversations/x/activities/1"):
        channel.assert_no_unexpected_requests()
    assert len(channel.acknowledge_unexpected()) == 2
    channel.verify(card_validator)


@pytest.mark.parametrize(
    ("status", "headers", "code"),
    [
        (429, {"Retry-After": "1"}, "Throttled"),
        (403, {}, "ConversationBlockedByUser"),
        (404, {}, "ConversationNotFound"),
    ],
)
async def test_fail_next_reaches_the_bot_as_error_response_exception(
    echo: EchoStack, status: int, headers: dict[str, str], code: str
) -> None:
    channel = echo.channel
    chat = channel.personal(ALICE)
    await channel.say(chat, ALICE, "remember me")
    reference = echo.bot.references[chat.id]
    channel.fail_next(chat.id, status, headers=headers, code=code)

    with pytest.raises(ErrorResponseException) as raised:
        await echo.proactive(reference, "first try")
    await echo.proactive(reference, "second try")

    error = raised.value
    assert error.response.status_code == status
    assert error.error.error.code == code
    for name, value in headers.items():
        assert error.response.headers[name] == value
    [failed] = channel.failed_calls
    assert (failed.status, failed.error_code, failed.operation) == (status, code, Operation.REPLY)
    assert channel.texts(chat) == ["echo: remember me", "second try"]


async def test_fail_next_can_repeat_and_target_any_conversation(echo: EchoStack) -> None:
    channel = echo.channel
    chat = channel.personal(ALICE)
    channel.fail_next(None, 503, times=2)

    first = await channel.say(chat, ALICE, "one")
    second = await channel.say(chat, ALICE, "two")
    third = await channel.say(chat, ALICE, "three")

    assert (first.status, second.status, third.status) == (500, 500, 201)
    assert [type(error) for error in echo.turn_errors] == [ErrorResponseException, ErrorResponseException]
    assert channel.texts(chat) == ["echo: three"]


async def test_malformed_input(echo: EchoStack) -> None:
    channel = echo.channel

    wrong_type = await channel.post_raw(b"hello", {"Content-Type": "text/plain"})
    not_json = await channel.post_raw(b"{not json", {"Content-Type": "application/json"})

    assert wrong_type.status == 415
    assert not_json.status >= 400
    assert channel.activities == ()


async def test_the_token_factory_sets_the_authorization_header(make_teams_channel: MakeTeamsChannel) -> None:
    seen: list[str | None] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.Response(status=201)

    async def token() -> str:
        return "token-123"

    app = web.Application()
    app.router.add_post("/api/messages", record)
    async with TestServer(app) as server:
        plain = await make_teams_channel()
        signed = await make_teams_channel(token_factory=token)
        for channel in (plain, signed):
            channel.attach(server.make_url("/api/messages"))
            await channel.say(channel.personal(ALICE), ALICE, "hi")

    assert seen == [None, "Bearer token-123"]


async def test_wait_for_activities_sees_sends_made_outside_a_turn(echo: EchoStack) -> None:
    channel = echo.channel
    chat = channel.personal(ALICE)
    await channel.say(chat, ALICE, "remember me")

    task = asyncio.create_task(echo.proactive(echo.bot.references[chat.id], "later"))
    found = await channel.wait_for_activities(2, chat, within=5)
    await task

    assert [activity.text for activity in found] == ["echo: remember me", "later"]
    with pytest.raises(AssertionError, match="expected 3 activities"):
        await channel.wait_for_activities(3, chat, within=0.05)


async def test_slow_down_delays_posts_and_a_hung_up_post_still_lands(echo: EchoStack) -> None:
    channel = echo.channel
    chat = channel.personal(ALICE)
    await channel.say(chat, ALICE, "remember me")
    channel.slow_down(0.3)

    started = asyncio.get_running_loop().time()
    task = asyncio.create_task(echo.proactive(echo.bot.references[chat.id], "slowly"))
    await asyncio.sleep(0.1)
    assert channel.in_flight == 1
    await task
    assert asyncio.get_running_loop().time() - started >= 0.3
    assert channel.in_flight == 0

    # The caller gives up before the answer: the post is still handled, as Teams would.
    url = f"{channel.service_url}v3/conversations/{chat.id}/activities"
    async with ClientSession() as session:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await session.post(url, json={"type": "message", "text": "hung up"})
    await channel.wait_for_activities(3, chat, within=2)
    assert channel.texts(chat) == ["echo: remember me", "slowly", "hung up"]

    channel.slow_down(None)
    began = asyncio.get_running_loop().time()
    await echo.proactive(echo.bot.references[chat.id], "at once")
    assert asyncio.get_running_loop().time() - began < 0.3
    with pytest.raises(ValueError):
        channel.slow_down((0.2, 0.1))
    with pytest.raises(ValueError):
        channel.slow_down(0.1, operations=[Operation.GET_MEMBERS])
