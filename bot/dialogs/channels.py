"""``register decisions channel``, ``register duty channel`` and ``register edt channel``: an
administrator, in a team channel, makes it the channel for decision cards, for the duty manager
(SPEC §6) or for the emergency duty team (SPEC §10).

The handler has already checked the permission (``Command.permission``); the use case checks it
again with the place it was said. When the purpose moves from another channel, that channel is told.
"""

from __future__ import annotations

import logging

from botbuilder.core import TurnContext

from bot.dialogs.context import FeatureContext
from bot.routing import Actor, Router
from frontdoor.channels import PURPOSE_TITLES, ChannelRefusal, register_channel
from frontdoor.commands import CommandName, ParsedCommand, Scope
from frontdoor.records import ChannelPurpose, ConversationKind

log = logging.getLogger(__name__)

_KINDS = {
    Scope.PERSONAL: ConversationKind.PERSONAL,
    Scope.GROUP_CHAT: ConversationKind.GROUP_CHAT,
    Scope.TEAM: ConversationKind.CHANNEL,
}

_WHAT_COMES: dict[ChannelPurpose, str] = {
    ChannelPurpose.DECISIONS: "Contacts awaiting screening will be posted here as decision cards, with the "
    "consultants on duty @mentioned for urgent ones.",
    ChannelPurpose.DUTY: "Re-referrals for the duty manager will be posted here, and later the deadline "
    "alerts and the end-of-day handover.",
    ChannelPurpose.EDT: "Out of office hours, urgent contacts and child-protection breaches will be posted "
    "here, and the EDT handover at closing.",
}


class ChannelsFeature:
    def __init__(self, context: FeatureContext) -> None:
        self._context = context

    def register(self, router: Router) -> None:
        router.command(CommandName.REGISTER_DECISIONS_CHANNEL, self.on_register_decisions)
        router.command(CommandName.REGISTER_DUTY_CHANNEL, self.on_register_duty)
        router.command(CommandName.REGISTER_EDT_CHANNEL, self.on_register_edt)

    async def on_register_decisions(self, turn_context: TurnContext, actor: Actor, _: ParsedCommand) -> None:
        await self._register(turn_context, actor, ChannelPurpose.DECISIONS)

    async def on_register_duty(self, turn_context: TurnContext, actor: Actor, _: ParsedCommand) -> None:
        await self._register(turn_context, actor, ChannelPurpose.DUTY)

    async def on_register_edt(self, turn_context: TurnContext, actor: Actor, _: ParsedCommand) -> None:
        await self._register(turn_context, actor, ChannelPurpose.EDT)

    async def _register(self, turn_context: TurnContext, actor: Actor, purpose: ChannelPurpose) -> None:
        result = await register_channel(
            self._context.store.unit_of_work(),
            purpose,
            actor.conversation_id,
            _KINDS[actor.scope],
            who=actor.who,
            now=self._context.clock.now(),
        )
        if isinstance(result, ChannelRefusal):
            log.info("channel not registered", extra={"purpose": purpose.value})
            await turn_context.send_activity(result.message)
            return
        title = PURPOSE_TITLES[purpose]
        log.info(
            "channel registered", extra={"purpose": purpose.value, "conversation_id": actor.conversation_id}
        )
        moved_from = result.moved_from
        if moved_from is not None:
            await self._context.notifier.send_text(
                moved_from,
                f"This channel is no longer the {title}: an administrator has moved it to another channel.",
            )
        again = result.previous is not None and moved_from is None
        first = f"This channel is {'still' if again else 'now'} the {title}."
        moved = " It has moved here from the channel used before." if moved_from else ""
        await turn_context.send_activity(f"{first}{moved} {_WHAT_COMES[purpose]}")
