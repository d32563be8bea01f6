"""CAFCASS and Ofsted information requests in Teams: ``information request`` logs one from its short
card, ``find IR-…`` shows it, and the response is recorded on it. Personal chat only: the card names
the subject. Logs carry references only."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext

from bot.cards.body_requests import (
    ADDRESS_INPUT,
    BODY_INPUT,
    BODY_REFERENCE_INPUT,
    DOB_INPUT,
    DUE_INPUT,
    LOG,
    NAME_INPUT,
    RESPOND,
    RESPONSE_INPUT,
    log_form_card,
    request_card,
)
from bot.cards.keys import REFERENCE_KEY
from bot.dialogs.carddata import choices, form_id_of, new_form_id, reference_of, text_input
from bot.dialogs.context import FeatureContext
from bot.dialogs.find import Finders
from bot.routing import Actor, CardAction, Router
from frontdoor.agencies import BodyRequest, RequestingBody
from frontdoor.body_requests import BodyRequestForm, log_request, read_request, respond
from frontdoor.commands import CommandName, ParsedCommand
from frontdoor.references import Reference, ReferenceKind
from frontdoor.roles import Permission
from frontdoor.usecase import Refusal, RefusalReason

log = logging.getLogger(__name__)

UNREADABLE = "That card is no longer active. Type **help** to see what I can do."


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


class BodyRequestsFeature:
    def __init__(self, context: FeatureContext) -> None:
        self._context = context

    def register(self, router: Router, finders: Finders) -> None:
        router.command(CommandName.INFORMATION_REQUEST, self.on_command)
        router.submission(LOG, self.on_log)
        router.submission(RESPOND, self.on_respond)
        finders.register(ReferenceKind.BODY_REQUEST, self.on_find, Permission.VIEW_CONTACTS)

    async def _card(self, turn_context: TurnContext, card: dict[str, Any]) -> None:
        await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(card)))

    async def _request_card(self, request: BodyRequest, notice: str = "", error: str = "") -> dict[str, Any]:
        async with self._context.store.unit_of_work() as uow:
            names = {e.aad_object_id: e.display_name for e in await uow.roles.entries()}
        return request_card(request, names, self._context.clock.now(), notice=notice, error=error)

    async def on_command(self, turn_context: TurnContext, actor: Actor, parsed: ParsedCommand) -> None:
        await self._card(turn_context, log_form_card(new_form_id()))

    async def on_log(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        body = choices(action.data, BODY_INPUT, RequestingBody)
        form_id = form_id_of(action.data)
        if not body or len(body) > 1 or form_id is None:
            await turn_context.send_activity(UNREADABLE)
            return
        form = BodyRequestForm(
            body[0],
            text_input(action.data, BODY_REFERENCE_INPUT),
            text_input(action.data, NAME_INPUT),
            _date(text_input(action.data, DOB_INPUT)),
            text_input(action.data, ADDRESS_INPUT),
            _date(text_input(action.data, DUE_INPUT)),
            form_id,
        )
        async with self._context.store.unit_of_work() as uow:
            result = await log_request(
                uow,
                form,
                calendar=self._context.calendar,
                who=actor.who,
                now=self._context.clock.now(),
            )
        if isinstance(result, Refusal):
            if result.reason is RefusalReason.INVALID:
                await self._card(turn_context, log_form_card(form_id, error=result.message))
            else:
                await turn_context.send_activity(result.message)
            return
        await self._card(
            turn_context, await self._request_card(result, notice=f"Logged as {result.reference}.")
        )

    async def on_respond(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        reference = reference_of(action.data, REFERENCE_KEY, ReferenceKind.BODY_REQUEST)
        if reference is None:
            await turn_context.send_activity(UNREADABLE)
            return
        async with self._context.store.unit_of_work() as uow:
            result = await respond(
                uow,
                reference,
                text_input(action.data, RESPONSE_INPUT),
                who=actor.who,
                rules=self._context.rules(),
            )
        if isinstance(result, Refusal):
            async with self._context.store.unit_of_work() as uow:
                request = await uow.body_requests.get(reference)
            if request is not None and result.reason is not RefusalReason.NOT_PERMITTED:
                await self._card(turn_context, await self._request_card(request, error=result.message))
            else:
                await turn_context.send_activity(result.message)
            return
        await self._card(
            turn_context, await self._request_card(result, notice="Response recorded: the request is closed.")
        )

    async def on_find(self, turn_context: TurnContext, actor: Actor, reference: Reference) -> None:
        async with self._context.store.unit_of_work() as uow:
            result = await read_request(uow, str(reference), who=actor.who, now=self._context.clock.now())
        if isinstance(result, Refusal):
            await turn_context.send_activity(result.message)
            return
        await self._card(turn_context, await self._request_card(result))
