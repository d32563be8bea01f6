"""A tiny Teams bot on the real botbuilder stack (``CloudAdapter``, authentication off), for
proving the loopback Teams channel against what the real bot will use."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    ChannelAccount,
    ConversationReference,
    ErrorResponseException,
)
from botbuilder.schema.teams import TeamInfo, TeamsChannelAccount

from tests.harness.teams import ADAPTIVE_CARD, TeamsChannel


def decision_card(status: str = "Awaiting a decision") -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": [
            {"type": "TextBlock", "text": "CT-000001", "weight": "Bolder", "wrap": True},
            {"type": "TextBlock", "text": status, "wrap": True},
            {"type": "Input.Text", "id": "note", "label": "Note"},
        ],
        "actions": [
            {"type": "Action.Execute", "title": "Accept", "verb": "accept", "data": {"contact": "CT-000001"}},
            {"type": "Action.Submit", "title": "Save", "data": {"action": "save"}},
        ],
    }


#: Invalid in three ways the SDK finds: an unknown element, a duplicate input id, a 1.6 property.
BAD_CARD: dict[str, Any] = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [
        {"type": "Sparkline", "values": [1, 2]},
        {"type": "Input.Text", "id": "a", "label": "A"},
        {"type": "Input.Text", "id": "a", "label": "A again", "labelPosition": "inline"},
    ],
}

#: Valid for the SDK, but six 100 px columns do not fit the width of a Teams card.
WIDE_CARD: dict[str, Any] = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [
        {
            "type": "ColumnSet",
            "columns": [
                {"type": "Column", "width": "100px", "items": [{"type": "TextBlock", "text": f"day {day}"}]}
                for day in range(1, 7)
            ],
        }
    ],
}


@dataclass(frozen=True, slots=True)
class _Configuration:
    """What ``ConfigurationBotFrameworkAuthentication`` reads; an empty app id turns auth off."""

    APP_ID: str = ""
    APP_PASSWORD: str = ""
    APP_TYPE: str = "MultiTenant"
    APP_TENANTID: str = ""


class EchoBot(TeamsActivityHandler):  # type: ignore[misc]
    def __init__(self) -> None:
        self.inbound: list[Activity] = []
        self.references: dict[str, ConversationReference] = {}
        self.errors: list[ErrorResponseException] = []
        self.invokes: list[AdaptiveCardInvokeValue] = []

    async def on_turn(self, turn_context: TurnContext) -> None:
        self.inbound.append(turn_context.activity)
        await super().on_turn(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        self.references[activity.conversation.id] = TurnContext.get_conversation_reference(activity)
        if activity.value is not None:
            await turn_context.send_activity(f"submitted {json.dumps(activity.value, sort_keys=True)}")
            return
        text = (TurnContext.remove_recipient_mention(activity) or "").strip()
        if text == "card":
            await turn_context.send_activity(
                MessageFactory.attachment(CardFactory.adaptive_card(decision_card()))
            )
        elif text == "bad card":
            await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(BAD_CARD)))
        elif text == "wide card":
            await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(WIDE_CARD)))
        elif text == "update and delete":
            sent = await turn_context.send_activity(
                MessageFactory.attachment(CardFactory.adaptive_card(decision_card()))
            )
            update = MessageFactory.attachment(CardFactory.adaptive_card(decision_card("Updated")))
            update.id = sent.id
            await turn_context.update_activity(update)
            note = await turn_context.send_activity("to be deleted")
            await turn_context.delete_activity(note.id)
        elif text == "members":
            member: TeamsChannelAccount = await TeamsInfo.get_member(turn_context, activity.from_property.id)
            paged = await TeamsInfo.get_paged_members(turn_context, page_size=1)
            await turn_context.send_activity(
                f"member {member.name} {member.aad_object_id}; first page {len(paged.members)}, "
                f"more {paged.continuation_token is not None}"
            )
        elif text == "team":
            # TeamsInfo.get_team_details is synchronous (``requests``): it blocks this event loop.
            details = await TeamsInfo.get_team_details(turn_context)
            await turn_context.send_activity(f"team {details.name} {details.id}")
        elif text == "stray":
            connector = turn_context.turn_state[turn_context.adapter.BOT_CONNECTOR_CLIENT_KEY]
            try:
                await connector.conversations.get_conversations()
            except ErrorResponseException as error:
                self.errors.append(error)
            await turn_context.send_activity("stray done")
        else:
            await turn_context.send_activity(f"echo: {text}")

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        self.invokes.append(invoke_value)
        # botbuilder deserialises ``action`` as a plain dict ("{object}"), not AdaptiveCardInvokeAction.
        decided = f"{invoke_value.action['verb']} by {turn_context.activity.from_property.name}"
        return AdaptiveCardInvokeResponse(status_code=200, type=ADAPTIVE_CARD, value=decision_card(decided))

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity("installed")

    async def on_teams_members_added(
        self, teams_members_added: list[TeamsChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id
        if any(member.id == bot_id for member in teams_members_added):
            team = f" to team {team_info.name}" if team_info is not None else ""
            await turn_context.send_activity(f"hello{team}")


@dataclass(slots=True)
class EchoStack:
    bot: EchoBot
    adapter: CloudAdapter
    server: TestServer
    channel: TeamsChannel
    turn_errors: list[BaseException] = field(default_factory=list)

    async def proactive(self, reference: ConversationReference, text: str) -> None:
        async def send(turn_context: TurnContext) -> None:
            await turn_context.send_activity(text)

        await self.adapter.continue_conversation(reference, send, bot_app_id="")


def echo_app(bot: EchoBot, adapter: CloudAdapter) -> web.Application:
    async def messages(request: web.Request) -> web.StreamResponse:
        response = await adapter.process(request, bot)
        return response if response is not None else web.Response(status=201)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    return app


def echo_adapter() -> CloudAdapter:
    return CloudAdapter(ConfigurationBotFrameworkAuthentication(_Configuration()))


def bot_account(channel: TeamsChannel) -> ChannelAccount:
    return ChannelAccount(id=channel.bot_id, name=channel.bot_name)
