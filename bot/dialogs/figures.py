"""``figures`` in Teams (SPEC §11): the management information card, and its buttons that narrow it
by route, team or worker (``Action.Execute``, the card replaced in place).

Shown in a personal chat or in the duty channel, never in another channel: the activity handler
checks the permission, and each handler checks it again with the sender's roles, and checks where
it is. Every showing is audited (``figures.viewed``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext

from bot.cards.figures import (
    FIGURES_ELSEWHERE,
    FIGURES_VERB,
    PERIOD_KEY,
    PICKED,
    ROUTE_KEY,
    TEAM_INPUT,
    TEAM_KEY,
    WORKER_INPUT,
    WORKER_KEY,
    figures_card,
)
from bot.dialogs.context import FeatureContext
from bot.replies import refusal
from bot.routing import Actor, CardAction, InvokeReply, Router
from frontdoor.commands import CommandName, ParsedCommand, Scope
from frontdoor.figures import show_figures
from frontdoor.records import ChannelPurpose
from frontdoor.roles import Permission

log = logging.getLogger(__name__)


def _text(data: Mapping[str, Any], key: str, most: int = 255) -> str:
    value = data.get(key)
    return value.strip()[:most] if isinstance(value, str) else ""


class FiguresFeature:
    def __init__(self, context: FeatureContext) -> None:
        self._context = context

    def register(self, router: Router) -> None:
        router.command(CommandName.FIGURES, self.on_figures)
        router.execution(FIGURES_VERB, self.on_show)

    async def _allowed_here(self, actor: Actor) -> bool:
        if actor.scope is Scope.PERSONAL:
            return True
        if actor.scope is not Scope.TEAM:
            return False
        async with self._context.store.unit_of_work() as uow:
            duty = await uow.channels.get(ChannelPurpose.DUTY)
        return duty is not None and duty.conversation_id == actor.conversation_id

    async def _card(
        self, actor: Actor, period: str, route: str, worker: str, team: str = ""
    ) -> dict[str, Any] | str:
        shown = await show_figures(
            self._context.store.unit_of_work,
            actor.aad_object_id,
            period,
            route,
            worker,
            rules=self._context.rules(),
            team=team,
        )
        if isinstance(shown, str):
            log.info("figures refused", extra={"status": "not_understood"})
            return shown
        log.info("figures shown", extra={"conversation_kind": actor.scope.value})
        return figures_card(shown.figures, period, shown.workers, shown.names, teams=shown.teams)

    async def on_figures(self, turn_context: TurnContext, actor: Actor, parsed: ParsedCommand) -> None:
        if not actor.may(Permission.SEE_FIGURES):
            await turn_context.send_activity(refusal(Permission.SEE_FIGURES))
            return
        if not await self._allowed_here(actor):
            await turn_context.send_activity(FIGURES_ELSEWHERE)
            return
        card = await self._card(actor, parsed.argument[:64], "", "")
        if isinstance(card, str):
            await turn_context.send_activity(card)
            return
        await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(card)))

    async def on_show(self, _: TurnContext, actor: Actor, action: CardAction) -> InvokeReply:
        if not actor.may(Permission.SEE_FIGURES):
            return InvokeReply(message=refusal(Permission.SEE_FIGURES))
        if not await self._allowed_here(actor):
            return InvokeReply(message=FIGURES_ELSEWHERE)
        data = action.data
        route = _text(data, ROUTE_KEY, 8)
        worker = _text(data, WORKER_KEY)
        if worker == PICKED:
            worker = _text(data, WORKER_INPUT)
        team = _text(data, TEAM_KEY, 100)
        if team == PICKED:
            team = _text(data, TEAM_INPUT, 100)
        card = await self._card(actor, _text(data, PERIOD_KEY, 64), route, worker, team)
        if isinstance(card, str):
            return InvokeReply(message=card)
        return InvokeReply(card=card)
