"""The emergency duty team in Teams (SPEC §10): "I'll take it" on the EDT handover, and
``overnight CT-… what was done``.

"I'll take it" (verb ``TAKE_VERB``) carries the clock's alert key and the handover's day; who takes
it is the sender, with the roles the directory gives them (the ``edt`` role). It is an
``alert.acknowledged`` of the child-protection clock (``dispatch.acknowledge_alert``), so the
repeats and escalation of its breach stop as with "I've got this"; the card is answered in place
showing who has each item. The overnight note is saved on the contact (``frontdoor.edt``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

from botbuilder.core import TurnContext

from bot.cards.alerts import ALERT_KEY, TakenBy
from bot.cards.edt import DAY_KEY, TAKE_VERB, edt_handover_card
from bot.dialogs.context import FeatureContext
from bot.replies import refusal
from bot.routing import Actor, CardAction, InvokeReply, Router
from frontdoor.alert_taking import acknowledge_alert
from frontdoor.alerts import AlertKey, AlertKind
from frontdoor.commands import CommandName, ParsedCommand
from frontdoor.edt import EdtHandover, OvernightRecorded, acknowledgements_of, record_overnight_action, takers
from frontdoor.records import ClockKind
from frontdoor.roles import Permission
from frontdoor.usecase import Refusal

log = logging.getLogger(__name__)

_MAX_KEY_CHARS = 400
_UNREADABLE = "This EDT handover card could not be read, so nothing was changed."


def _take(data: Mapping[str, Any]) -> tuple[AlertKey, date] | None:
    text, day = data.get(ALERT_KEY), data.get(DAY_KEY)
    if not isinstance(text, str) or not isinstance(day, str) or len(text) > _MAX_KEY_CHARS:
        return None
    try:
        key, handover_day = AlertKey.parse(text), date.fromisoformat(day)
    except ValueError:
        return None
    if key.clock is not ClockKind.CP_DECISION or key.kind is not AlertKind.BREACHED:
        return None
    return key, handover_day


class EdtFeature:
    def __init__(self, context: FeatureContext) -> None:
        self._context = context

    def register(self, router: Router) -> None:
        router.execution(TAKE_VERB, self.on_take)
        router.command(CommandName.OVERNIGHT, self.on_overnight)

    async def on_take(self, _: TurnContext, actor: Actor, action: CardAction) -> InvokeReply:
        parsed = _take(action.data)
        if parsed is None:
            log.info("unreadable EDT handover card", extra={"verb": action.action})
            return InvokeReply(message=_UNREADABLE)
        key, day = parsed
        if not actor.may(Permission.OVERNIGHT_ACTION):
            log.info("EDT item not taken", extra={"key": key.text, "status": "not_permitted"})
            return InvokeReply(message=refusal(Permission.OVERNIGHT_ACTION))
        now = self._context.clock.now()
        result = await acknowledge_alert(self._context.store.unit_of_work(), key, who=actor.who, now=now)
        if isinstance(result, Refusal):
            log.info("EDT item not taken", extra={"key": key.text, "status": result.reason.value})
            return InvokeReply(message=result.message)
        async with self._context.store.unit_of_work() as uow:
            names = {e.aad_object_id: e.display_name for e in await uow.roles.entries() if e.display_name}
            posts = await uow.alerts.sent_about(f"edt-handover:{day.isoformat()}")
            handover = EdtHandover.from_payload(posts[0].payload) if posts else None
            acks = (
                await acknowledgements_of(uow, [item.subject for item in handover.items]) if handover else []
            )
        log.info(
            "EDT item taken", extra={"key": key.text, "reference": key.subject, "status": str(result.new)}
        )
        if handover is None:
            return InvokeReply(message=f"You have {key.subject}.")
        taken = {
            subject: TakenBy(names.get(ack.person_id, "a member of the EDT"), ack.at)
            for subject, ack in takers(acks, handover.items).items()
        }
        note = ""
        if not result.new:
            ack = result.acknowledgement
            who = "You" if ack.person_id == actor.aad_object_id else names.get(ack.person_id, "Someone")
            note = f"{who} already had {key.subject}: nothing was changed."
        return InvokeReply(card=edt_handover_card(handover, now, names, taken, note=note))

    async def on_overnight(self, turn_context: TurnContext, actor: Actor, command: ParsedCommand) -> None:
        reference, _, text = command.argument.strip().partition(" ")
        if not reference:
            await turn_context.send_activity("Type **overnight** with the reference and what was done.")
            return
        result = await record_overnight_action(
            self._context.store.unit_of_work(),
            reference.upper(),
            text,
            who=actor.who,
            rules=self._context.rules(),
        )
        if not isinstance(result, OvernightRecorded):
            log.info("overnight action not recorded", extra={"status": type(result).__name__})
            message = (
                result.message if isinstance(result, Refusal) else "The contact changed meanwhile: try again."
            )
            await turn_context.send_activity(message)
            return
        saved = result.contact.reference or reference
        log.info("overnight action recorded", extra={"reference": saved})
        await turn_context.send_activity(
            f"Recorded on {saved}: it shows in the contact's record, and the duty channel's overnight "
            "summary says so at opening."
        )
