"""Back to screening, in Teams (SPEC §3): "Send back" on the decisions channel card's sign-off view
(``REFUSE_SIGN_OFF_VERB``, ``frontdoor.quality.refuse_sign_off``) and "Return for a threshold
decision" on the allocated social worker's personal card (``RETURN_VERB``,
``frontdoor.quality.return_for_screening``).

The person acting is the activity's sender with the roles the directory gives them; the card's data
names only the contact and its version, plus the reason typed on the card. A stale or replayed card
changes nothing and is answered with the card as it is now and a line saying who acted.

- Sending back answers with the channel card as the sender should now see it (the screening routes,
  for a consultant or team manager), redraws the channel card for everyone, and tells whoever
  recorded the outcome in their personal chat, with the reason on their card (the channel card never
  shows it); if they cannot be reached, the sender is told to tell them.
- Returning answers with the worker's personal card (no casework any more: the contact is no longer
  theirs) and redraws the decisions channel card as awaiting screening.

The invoke is answered straight after the database work; the channel update and the message to the
recorder go out afterwards (``DecisionsFeature.run_later``). Logs carry ids only.
"""

from __future__ import annotations

import asyncio
import logging

from botbuilder.core import TurnContext

from bot.cards.quality import REFUSE_SIGN_OFF_VERB, RETURN_INPUT, RETURN_VERB, SEND_BACK_INPUT
from bot.dialogs.carddata import card_reference, card_version, text_input
from bot.dialogs.contacts import ContactRecords
from bot.dialogs.context import FeatureContext
from bot.dialogs.decisions import DecisionsFeature
from bot.replies import refusal
from bot.routing import Actor, CardAction, InvokeReply, Router
from frontdoor.commands import Scope
from frontdoor.contact import Contact
from frontdoor.quality import SentBack, refuse_sign_off, return_for_screening
from frontdoor.roles import Permission, may
from frontdoor.timefmt import format_time_on
from frontdoor.usecase import AlreadyDecided, Refusal

__all__ = ["QualityFeature"]

log = logging.getLogger(__name__)

_UNREADABLE = "This card could not be read, so nothing was changed."
_PERSONAL_ONLY = "This card works only in your personal chat with me, so nothing was changed."


class QualityFeature:
    def __init__(self, context: FeatureContext, decisions: DecisionsFeature) -> None:
        self._context = context
        self._decisions = decisions
        self._records = ContactRecords(context.store, context.clock)
        self._personal = decisions.personal

    def register(self, router: Router) -> None:
        router.execution(REFUSE_SIGN_OFF_VERB, self.on_refuse_sign_off)
        router.execution(RETURN_VERB, self.on_return)

    # -- "Send back" on the sign-off view --------------------------------------------------------

    async def on_refuse_sign_off(self, _: TurnContext, actor: Actor, action: CardAction) -> InvokeReply:
        reference, version = card_reference(action.data), card_version(action.data)
        contact = await self._records.contact(reference)
        if contact is None or version is None:
            log.info("unreadable send-back card", extra={"verb": action.action})
            return InvokeReply(message=_UNREADABLE)
        if not actor.may(Permission.SIGN_OFF):
            await self._records.refused(actor, contact, action.action)
            return InvokeReply(message=refusal(Permission.SIGN_OFF))
        result = await refuse_sign_off(
            self._context.store.unit_of_work(),
            contact.id,
            version,
            text_input(action.data, SEND_BACK_INPUT),
            who=actor.who,
            rules=self._context.rules(),
        )
        if not isinstance(result, SentBack):
            current = await self._unchanged(result, contact)
            return InvokeReply(card=await self._decisions.card_for(current, actor, notice=result.message))
        log.info("sent back from sign-off", extra={"reference": contact.reference or ""})
        self._decisions.channel.redraw(result.contact)
        self._decisions.run_later(self._tell_recorder(result, actor))
        notice = (
            f"Sent back: {contact.reference} is awaiting screening again, due by "
            f"{format_time_on(result.screening_due)}."
        )
        if result.recorder_id and result.recorder_id != actor.aad_object_id:
            notice += " Whoever recorded the outcome is told why in their personal chat."
        return InvokeReply(card=await self._decisions.card_for(result.contact, actor, notice=notice))

    async def _tell_recorder(self, result: SentBack, actor: Actor) -> None:
        """The person who recorded the refused outcome gets the contact on their personal card, with
        the reason in its history; if they cannot be reached, the sender is asked to tell them."""
        await asyncio.sleep(0)  # let the invoke's answer go first
        recorder = result.recorder_id
        if recorder is None or recorder == actor.aad_object_id:
            return
        contact, reference = result.contact, result.contact.reference or ""
        roles = await self._personal.roles_of(recorder)
        delivered = False
        if may(roles, Permission.VIEW_CONTACTS):
            async with self._context.store.unit_of_work() as uow:
                names = {e.aad_object_id: e.display_name for e in await uow.roles.entries()}
            by = names.get(actor.aad_object_id) or actor.name or "a consultant"
            card = await self._personal.card_for(
                contact,
                recorder,
                roles,
                heading=f"{reference}: the outcome you recorded was not signed off by {by}. It is back for "
                "screening, to be decided again; the reason is under What has happened.",
            )
            delivery = await self._context.notifier.send_card_to_person(recorder, card)
            delivered = delivery.ok
            if not delivery.ok:
                log.info(
                    "recorder not reached",
                    extra={"reference": reference, "error_code": delivery.error_code or ""},
                )
        await self._records.audit(
            actor.aad_object_id,
            "contact.recorder_told" if delivered else "contact.recorder_not_told",
            reference,
            f"recorder={recorder}; via={'personal_chat' if delivered else 'none'}",
        )
        if not delivered:
            chat = await self._context.notifier.personal_chat_of(actor.aad_object_id)
            if chat is not None:
                await self._context.notifier.send_text(
                    chat,
                    f"I could not message the person who recorded the outcome of {reference}: please tell "
                    "them it was sent back, and why.",
                )

    # -- "Return for a threshold decision" on the worker's card ----------------------------------

    async def on_return(self, _: TurnContext, actor: Actor, action: CardAction) -> InvokeReply:
        reference, version = card_reference(action.data), card_version(action.data)
        contact = await self._records.contact(reference)
        if contact is None or version is None:
            log.info("unreadable return card", extra={"verb": action.action})
            return InvokeReply(message=_UNREADABLE)
        if actor.scope is not Scope.PERSONAL:
            return InvokeReply(message=_PERSONAL_ONLY)
        if not actor.may(Permission.WORK_ALLOCATED):
            await self._records.refused(actor, contact, action.action)
            return InvokeReply(message=refusal(Permission.WORK_ALLOCATED))
        result = await return_for_screening(
            self._context.store.unit_of_work(),
            contact.id,
            version,
            text_input(action.data, RETURN_INPUT),
            who=actor.who,
            rules=self._context.rules(),
        )
        if not isinstance(result, SentBack):
            current = await self._unchanged(result, contact)
            card = await self._personal.shown_to(current, actor, notice=result.message)
            return InvokeReply(card=card)
        log.info("returned for screening", extra={"reference": contact.reference or ""})
        self._decisions.channel.place_for_screening(result.contact, actor.aad_object_id)
        notice = (
            f"Returned: {contact.reference} is back with the consultants for a threshold decision, and no "
            "longer counts against your caseload."
        )
        card = await self._personal.shown_to(result.contact, actor, notice=notice, notice_ok=True)
        return InvokeReply(card=card)

    # -- helpers ---------------------------------------------------------------------------------

    async def _unchanged(self, result: Refusal | AlreadyDecided, contact: Contact) -> Contact:
        reference = contact.reference or ""
        if isinstance(result, AlreadyDecided):
            log.info(
                "send-back card out of date",
                extra={"reference": reference, "status": "replay" if result.replay else "stale"},
            )
            return result.contact
        log.info("send-back refused", extra={"reference": reference, "status": result.reason.value})
        return await self._records.contact(reference) or contact
