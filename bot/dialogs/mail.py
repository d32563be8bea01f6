"""The e-mail queue in Teams (SPEC §5a): ``mail``, "I'll take it", "Start contact" and "Not a
referral", all in a personal chat.

The command table has checked the sender's role and the conversation kind for ``mail``; the card
buttons are checked here (personal chat only: the cards show senders and previews) and again by the
use cases in ``frontdoor.mail``. "Start contact" creates the draft there and hands it to the contact
script's own cards (``IntakeFeature.show_draft``). Logs carry item and contact ids only.
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext

from bot.cards.mail import DETAIL_INPUT, MAIL_KEY, NOT_REFERRAL, REASON_INPUT, START, TAKE, mail_queue_card
from bot.cards.mail import taken_card as taken_mail_card
from bot.dialogs.context import FeatureContext
from bot.dialogs.intake import IntakeFeature
from bot.routing import Actor, CardAction, Router
from frontdoor.commands import CommandName, ParsedCommand
from frontdoor.mail import (
    MailRefusal,
    TakenBySomeoneElse,
    check_reason,
    mail_queue,
    mark_not_referral,
    start_from_mail,
    take,
)
from frontdoor.mail_records import MailItem
from frontdoor.script import Section

log = logging.getLogger(__name__)

NOTHING_WAITING = "No e-mails are waiting in the queue."
_UNREADABLE = "That card could not be read. Say **mail** to see the queue again."


class MailFeature:
    def __init__(self, context: FeatureContext, intake: IntakeFeature) -> None:
        self._context = context
        self._intake = intake

    def register(self, router: Router) -> None:
        router.command(CommandName.MAIL, self.on_mail)
        router.submission(TAKE, self.on_take)
        router.submission(START, self.on_start)
        router.submission(NOT_REFERRAL, self.on_not_referral)

    async def on_mail(self, turn_context: TurnContext, actor: Actor, _: ParsedCommand) -> None:
        result = await mail_queue(
            self._context.store.unit_of_work(), actor.aad_object_id, actor.roles, self._context.clock.now()
        )
        if isinstance(result, MailRefusal):
            await turn_context.send_activity(result.message)
            return
        log.info("mail queue", extra={"command": CommandName.MAIL.value, "count": len(result.waiting)})
        if not result.waiting and not result.mine:
            await turn_context.send_activity(NOTHING_WAITING)
            return
        await _send_card(turn_context, mail_queue_card(result.waiting, result.mine))

    async def _item_id(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> str | None:
        item_id = action.data.get(MAIL_KEY)
        if not isinstance(item_id, str) or not 0 < len(item_id) <= 64:
            log.info("unreadable mail card", extra={"action": action.action})
            await turn_context.send_activity(_UNREADABLE)
            return None
        return item_id

    async def on_take(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        item_id = await self._item_id(turn_context, actor, action)
        if item_id is None:
            return
        result = await take(
            self._context.store.unit_of_work(),
            item_id,
            who=actor.who,
            now=self._context.clock.now(),
        )
        if isinstance(result, MailRefusal):
            await turn_context.send_activity(result.message)
            return
        if isinstance(result, TakenBySomeoneElse):
            log.info("mail already taken", extra={"mail_id": item_id})
            await turn_context.send_activity(await self._taken_by_message(result))
            return
        log.info("mail taken", extra={"mail_id": item_id})
        await _send_card(turn_context, taken_mail_card(result, "You took this e-mail."))

    async def _taken_by_message(self, taken: TakenBySomeoneElse) -> str:
        async with self._context.store.unit_of_work() as uow:
            names = {entry.aad_object_id: entry.display_name for entry in await uow.roles.entries()}
        who = names.get(taken.taken_by) or "someone else"
        return f"{who} took that e-mail first, so it is theirs to deal with."

    async def on_start(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        item_id = await self._item_id(turn_context, actor, action)
        if item_id is None:
            return
        result = await start_from_mail(
            self._context.store.unit_of_work(),
            item_id,
            Section.SOURCE.value,
            who=actor.who,
            now=self._context.clock.now(),
        )
        if isinstance(result, MailRefusal):
            await turn_context.send_activity(result.message)
            return
        item, contact = result
        log.info("contact started from mail", extra={"mail_id": item.id, "contact_id": contact.id})
        if contact.referrer is None:
            notice = (
                "Started from the e-mail: source and received time are filled in. The sender is "
                "front-door staff (a forward), so the referrer is left for you to fill in from the e-mail."
            )
        else:
            notice = (
                "Started from the e-mail: source, received time and the sender as referrer are filled in. "
                "Check them against the e-mail in the mailbox as you go."
            )
        await self._intake.show_draft(turn_context, contact, notice)

    async def on_not_referral(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        item_id = await self._item_id(turn_context, actor, action)
        if item_id is None:
            return
        reason_text = action.data.get(f"{REASON_INPUT}_{item_id}")
        detail_text = action.data.get(f"{DETAIL_INPUT}_{item_id}")
        checked = check_reason(
            reason_text if isinstance(reason_text, str) else "",
            detail_text if isinstance(detail_text, str) else "",
        )
        if isinstance(checked, MailRefusal):
            await turn_context.send_activity(checked.message)
            return
        reason, detail = checked
        result = await mark_not_referral(
            self._context.store.unit_of_work(),
            item_id,
            reason,
            detail,
            who=actor.who,
            now=self._context.clock.now(),
        )
        if isinstance(result, MailRefusal):
            await turn_context.send_activity(result.message)
            return
        log.info("mail not a referral", extra={"mail_id": item_id, "status": reason.value})
        await turn_context.send_activity(_closed_message(result))


def _closed_message(item: MailItem) -> str:
    duplicate = f" ({item.reason_detail})" if item.reason_detail and item.reason == "duplicate" else ""
    title = item.reason.value.replace("_", " ") if item.reason else ""
    return f"Recorded: not a referral, {title}{duplicate}. The e-mail has left the queue."


async def _send_card(turn_context: TurnContext, card: dict[str, Any]) -> None:
    await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(card)))
