"""``my work`` and ``queue`` (SPEC §6): the contacts assigned to the person asking, and the contacts
awaiting screening, each as one card.

The command table has already checked the sender's role (viewing contacts) and the scope (``my work``
in a personal chat, ``queue`` there or in a team channel) before a handler runs; the use cases check
the roles again. The cards' "View" buttons are the channel cards' ``contact.view``, answered by the
intake feature, which checks the viewer's role once more. Logs carry counts, never references of a
whole list.
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext

from bot.cards.worklists import my_work_card, queue_card
from bot.dialogs.context import FeatureContext
from bot.routing import Actor, Router
from frontdoor.commands import CommandName, ParsedCommand
from frontdoor.mail import waiting_count
from frontdoor.roles import Permission
from frontdoor.usecase import Refusal
from frontdoor.worklists import my_work, screening_queue

log = logging.getLogger(__name__)

NOTHING_ASSIGNED = (
    "Nothing is assigned to you at the moment. Type **queue** to see the contacts awaiting screening."
)
NOTHING_WAITING = "No contacts are awaiting screening at the moment."


def mail_waiting(count: int) -> str:
    """The line under ``queue`` when e-mails wait untaken (SPEC §5a)."""
    emails = "1 e-mail waits" if count == 1 else f"{count} e-mails wait"
    return f"{emails} in the e-mail queue, untaken: say **mail** to see them."


class WorklistsFeature:
    def __init__(self, context: FeatureContext) -> None:
        self._context = context

    def register(self, router: Router) -> None:
        router.command(CommandName.MY_WORK, self.on_my_work)
        router.command(CommandName.QUEUE, self.on_queue)

    async def on_my_work(self, turn_context: TurnContext, actor: Actor, _: ParsedCommand) -> None:
        now = self._context.clock.now()
        result = await my_work(
            self._context.store.unit_of_work(),
            who=actor.who,
            rules=self._context.rules(now),
        )
        if isinstance(result, Refusal):
            await turn_context.send_activity(result.message)
            return
        log.info("my work", extra={"command": CommandName.MY_WORK.value, "count": result.total})
        if result.empty:
            await turn_context.send_activity(NOTHING_ASSIGNED)
            return
        await _send_card(turn_context, my_work_card(result, now))

    async def on_queue(self, turn_context: TurnContext, actor: Actor, _: ParsedCommand) -> None:
        now = self._context.clock.now()
        result = await screening_queue(
            self._context.store.unit_of_work(),
            actor.roles,
            rules=self._context.rules(now),
        )
        if isinstance(result, Refusal):
            await turn_context.send_activity(result.message)
            return
        log.info(
            "queue",
            extra={
                "command": CommandName.QUEUE.value,
                "count": result.total,
                "conversation_kind": actor.scope.value,
            },
        )
        if result.empty:
            await turn_context.send_activity(NOTHING_WAITING)
        else:
            await _send_card(turn_context, queue_card(result, now))
        if actor.may(Permission.MAIL_QUEUE):
            emails = await waiting_count(self._context.store.unit_of_work())
            if emails:
                await turn_context.send_activity(mail_waiting(emails))


async def _send_card(turn_context: TurnContext, card: dict[str, Any]) -> None:
    await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(card)))
