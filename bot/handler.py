"""The Teams activity handler: every turn starts here.

A turn (1) drops activities from tenants that are not served, (2) records the conversation so the
bot can message it later, (3) routes the message, card submission or card action. Roles always
come from the role directory, keyed by the sender's Azure AD object id.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from botbuilder.core import (
    ActivityHandler,
    CardFactory,
    ConversationState,
    InvokeResponse,
    MessageFactory,
    TurnContext,
)
from botbuilder.schema import Activity, ActivityTypes

from bot.cards.help import help_card
from bot.teams import conversation_kind, conversation_record, sender_of, tenant_of
from frontdoor.commands import CommandName, Scope, parse_command
from frontdoor.ports import Clock, Store
from frontdoor.records import ConversationKind
from frontdoor.roles import Role

log = logging.getLogger("frontdoor.bot")

_SCOPES = {
    ConversationKind.PERSONAL: Scope.PERSONAL,
    ConversationKind.GROUP_CHAT: Scope.GROUP_CHAT,
    ConversationKind.CHANNEL: Scope.TEAM,
}


class FrontDoorBot(ActivityHandler):
    def __init__(
        self,
        store: Store,
        conversation_state: ConversationState,
        clock: Clock,
        tenants: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__()
        self._store = store
        self._conversation_state = conversation_state
        self._clock = clock
        self._tenants = tenants

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity: Activity = turn_context.activity
        if self._tenants:
            tenant = tenant_of(activity)
            if tenant not in self._tenants:
                log.warning("activity from a tenant that is not served", extra={"tenant_id": tenant})
                return
        await self._remember(activity)
        await super().on_turn(turn_context)
        await self._conversation_state.save_changes(turn_context)

    async def _remember(self, activity: Activity) -> None:
        record = conversation_record(activity, self._clock.now())
        sender = sender_of(activity)
        if record is None and sender is None:
            return
        async with self._store.unit_of_work() as uow:
            if record is not None:
                await uow.conversations.upsert(record)
            if sender is not None and sender.name:
                await uow.roles.set_display_name(sender.aad_object_id, sender.name)
            await uow.commit()

    async def _roles(self, turn_context: TurnContext) -> frozenset[Role]:
        sender = sender_of(turn_context.activity)
        if sender is None:
            return frozenset()
        async with self._store.unit_of_work() as uow:
            return await uow.roles.roles_of(sender.aad_object_id)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity: Activity = turn_context.activity
        TurnContext.remove_recipient_mention(activity)
        scope = _SCOPES[conversation_kind(activity)]
        roles = await self._roles(turn_context)
        if activity.value is not None and not (activity.text or "").strip():
            # A card submission from a card this version of the bot no longer serves.
            await turn_context.send_activity(
                "That card is no longer active. Type **help** to see what I can do."
            )
            return
        text = activity.text if isinstance(activity.text, str) else ""
        parsed = parse_command(text)
        log.info(
            "message",
            extra={
                "activity_id": activity.id or "",
                "command": parsed.command.name.value if parsed else "unknown",
                "conversation_kind": scope.value,
            },
        )
        if parsed is None or parsed.command.name is CommandName.HELP:
            await self._send_card(turn_context, help_card(roles, scope, unknown=parsed is None))

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        scope = _SCOPES[conversation_kind(turn_context.activity)]
        await self._send_card(turn_context, help_card(await self._roles(turn_context), scope))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity: Activity = turn_context.activity
        log.info(
            "invoke",
            extra={"activity_id": activity.id or "", "action": activity.name or ""},
        )
        if activity.name == "adaptiveCard/action":
            return InvokeResponse(
                status=int(HTTPStatus.OK), body=_message_response("This action is not available.")
            )
        return InvokeResponse(status=int(HTTPStatus.NOT_IMPLEMENTED))

    async def _send_card(self, turn_context: TurnContext, card: dict[str, Any]) -> None:
        await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(card)))


def _message_response(text: str) -> dict[str, Any]:
    """An ``Action.Execute`` answer that shows a message instead of a new card."""
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}


async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
    """Last-resort handler: log the error type and locations (never its message), tell the person."""
    activity: Activity = turn_context.activity
    log.error(
        "turn failed",
        exc_info=(type(error), error, error.__traceback__),
        extra={"activity_id": activity.id or "", "activity_type": activity.type or ""},
    )
    if activity.type == ActivityTypes.message:
        await turn_context.send_activity(
            "Sorry, something went wrong on my side. Anything you had already saved is kept; "
            "please try again."
        )
