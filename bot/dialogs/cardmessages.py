"""Posting a card, and showing a card in place of the one whose button was pressed.

An ``Action.Submit`` reaches the bot as a message whose ``replyToId`` is the id of the message
holding the card (``CardAction.card_activity_id``); updating that activity (the Bot Connector's
``updateActivity``, ``PUT /v3/conversations/{id}/activities/{activityId}``) redraws the card where
it is, for everyone who sees the chat. A form that moves on step by step (the contact script, the
consultation form) therefore stays one card in the chat.
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext

log = logging.getLogger(__name__)


def card_activity(card: dict[str, Any]) -> Any:
    return MessageFactory.attachment(CardFactory.adaptive_card(card))


async def send_card(turn_context: TurnContext, card: dict[str, Any]) -> None:
    await turn_context.send_activity(card_activity(card))


async def update_card(turn_context: TurnContext, card_activity_id: str | None, card: dict[str, Any]) -> bool:
    """Redraw the card in message ``card_activity_id`` as ``card``; False when the channel did not
    say which message that was, or the update failed (the old card then stays as it was)."""
    if not card_activity_id:
        return False
    activity = card_activity(card)
    activity.id = card_activity_id
    try:
        await turn_context.update_activity(activity)
    except Exception as error:  # the old card may be gone
        log.warning(
            "card update failed",
            extra={"activity_id": card_activity_id, "error_code": type(error).__name__},
        )
        return False
    return True


async def replace_card(turn_context: TurnContext, card_activity_id: str | None, card: dict[str, Any]) -> None:
    """Show ``card`` in place of the card that was pressed; post it as a new message when the
    channel did not say which card that was, or the update fails."""
    if not await update_card(turn_context, card_activity_id, card):
        await send_card(turn_context, card)
