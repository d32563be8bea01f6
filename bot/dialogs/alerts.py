""" "I've got this" on a deadline alert card (SPEC §7).

The ``Action.Execute`` (verb ``ACK_VERB``) carries only the alert's key; who is taking it is the
activity's sender with the roles the directory gives them. Only a breach alert can be taken, and
only by the people it was sent to or whose role can act on the clock
(``frontdoor.alert_taking.may_take``); anyone else is refused, audited, and nothing changes.
``frontdoor.alert_taking.acknowledge_alert`` records it (an ``alert.acknowledged`` audit event, which
stops the repeats and the escalation of the breach). The invoke is answered straight away with the
card saying "Taken by <name> at <time>"; then, in a task of its own, every other sent copy of the
alerts about that clock (personal chats, the duty channel, reroutes) is updated in place, using the
conversation and message ids the outbox recorded when it sent them, never ids from the invoke.

A second press (or the loser of two at once) changes nothing and is told who already has it.

"Record the reason" (verb ``REASON_VERB``) on a breach card records why the clock ran late
(``frontdoor.late_reasons.record_late_reason``: a code from the card's choice, never free text); the
card, and every other sent copy, then shows the reason, the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from botbuilder.core import TurnContext

from bot.cards.alerts import ACK_VERB, ALERT_KEY, REASON_INPUT, REASON_VERB, TakenBy, alert_card
from bot.dialogs.background import Later
from bot.dialogs.context import FeatureContext
from bot.replies import refusal
from bot.routing import Actor, CardAction, InvokeReply, Router
from frontdoor.alert_taking import (
    ACK_REFUSED_ACTION,
    acknowledge_alert,
    alert_clock,
    alert_copies,
    refused_on_clock,
)
from frontdoor.alerts import DUTY_CHANNEL, AlertKey, OutboxItem
from frontdoor.dispatch import ACKNOWLEDGEABLE, AlertNotice
from frontdoor.late_reasons import record_late_reason
from frontdoor.records import LateReason
from frontdoor.roles import Permission
from frontdoor.usecase import Refusal

log = logging.getLogger(__name__)

#: An alert key's text is short; anything much longer is not one.
_MAX_KEY_CHARS = 400
_UNREADABLE = "This alert card could not be read, so nothing was changed."


def _key(data: Mapping[str, Any]) -> AlertKey | None:
    text = data.get(ALERT_KEY)
    if not isinstance(text, str) or not text or len(text) > _MAX_KEY_CHARS:
        return None
    try:
        key = AlertKey.parse(text)
    except ValueError:
        return None
    return key if key.kind in ACKNOWLEDGEABLE and key.clock is not None else None


class AlertsFeature:
    def __init__(self, context: FeatureContext) -> None:
        self._context = context
        #: card updates, after an invoke was answered
        self._later = Later(log, "alert card updates failed")

    def register(self, router: Router) -> None:
        router.execution(ACK_VERB, self.on_ack)
        router.execution(REASON_VERB, self.on_reason)

    async def on_ack(self, _: TurnContext, actor: Actor, action: CardAction) -> InvokeReply:
        key = _key(action.data)
        if key is None:
            log.info("unreadable alert card", extra={"verb": action.action})
            return InvokeReply(message=_UNREADABLE)
        now = self._context.clock.now()
        if not actor.may(Permission.VIEW_CONTACTS):
            await self._audit(actor, key, now)
            log.info("alert not taken", extra={"key": key.text, "status": "not_permitted"})
            return InvokeReply(message=refusal(Permission.VIEW_CONTACTS))
        result = await acknowledge_alert(self._context.store.unit_of_work(), key, who=actor.who, now=now)
        if isinstance(result, Refusal):
            log.info("alert not taken", extra={"key": key.text, "status": result.reason.value})
            return InvokeReply(message=result.message)
        async with self._context.store.unit_of_work() as uow:
            names = {e.aad_object_id: e.display_name for e in await uow.roles.entries() if e.display_name}
            copies = await alert_copies(uow, key)
            deadline, _ = await alert_clock(uow, key)
        ack = result.acknowledgement
        taker = names.get(ack.person_id) or (actor.name if ack.person_id == actor.aad_object_id else "")
        taken = TakenBy(taker or "a member of staff", ack.at)
        note = ""
        if not result.new:
            who = "You" if ack.person_id == actor.aad_object_id else taken.name
            note = f"{who} already had this: nothing was changed."
        reason = deadline.late_reason if deadline is not None else None
        card = self._card(copies, key, action, names, taken, reason, note)
        if result.new:
            self._later(self._update_copies(copies, names, taken, reason))
        return InvokeReply(card=card)

    async def on_reason(self, _: TurnContext, actor: Actor, action: CardAction) -> InvokeReply:
        key = _key(action.data)
        code = action.data.get(REASON_INPUT)
        if key is None or not isinstance(code, str) or code not in {r.value for r in LateReason}:
            log.info("unreadable alert card", extra={"verb": action.action})
            return InvokeReply(message=_UNREADABLE if key is None else "Please choose why it ran late.")
        result = await record_late_reason(
            self._context.store.unit_of_work(),
            key,
            LateReason(code),
            who=actor.who,
            now=self._context.clock.now(),
        )
        if isinstance(result, Refusal):
            log.info("late reason not recorded", extra={"key": key.text, "status": result.reason.value})
            return InvokeReply(message=result.message)
        async with self._context.store.unit_of_work() as uow:
            names = {e.aad_object_id: e.display_name for e in await uow.roles.entries() if e.display_name}
            copies = await alert_copies(uow, key)
            _, ack = await alert_clock(uow, key)
        taken = TakenBy(names.get(ack.person_id) or "a member of staff", ack.at) if ack is not None else None
        card = self._card(copies, key, action, names, taken, result.reason, "")
        self._later(self._update_copies(copies, names, taken, result.reason))
        return InvokeReply(card=card)

    def _card(
        self,
        copies: Sequence[OutboxItem],
        key: AlertKey,
        action: CardAction,
        names: Mapping[str, str],
        taken: TakenBy | None,
        reason: LateReason | None,
        note: str,
    ) -> dict[str, Any]:
        """The card of the copy whose button was pressed, as it stands now."""
        pressed = self._pressed(copies, key, action.card_activity_id)
        notice = AlertNotice.of(pressed) if pressed is not None else AlertNotice.of_key(key, DUTY_CHANNEL)
        sent_at = pressed.sent_at if pressed is not None else None
        return alert_card(
            notice, self._context.clock.now(), names, sent_at=sent_at, taken=taken, note=note, reason=reason
        )

    @staticmethod
    def _pressed(copies: Sequence[OutboxItem], key: AlertKey, activity_id: str | None) -> OutboxItem | None:
        """The copy whose button was pressed: by the message id Teams names, else one of the alert."""
        if activity_id:
            for item in copies:
                if item.activity_id == activity_id:
                    return item
        return next((item for item in copies if item.alert_key == key), None)

    async def _update_copies(
        self,
        copies: Sequence[OutboxItem],
        names: Mapping[str, str],
        taken: TakenBy | None,
        reason: LateReason | None,
    ) -> None:
        await asyncio.sleep(0)  # let the invoke's answer go first
        updated = 0
        for item in copies:
            if item.conversation_id is None or item.activity_id is None:
                continue
            try:
                notice = AlertNotice.of(item)
            except ValueError:
                continue
            card = alert_card(
                notice, self._context.clock.now(), names, sent_at=item.sent_at, taken=taken, reason=reason
            )
            delivery = await self._context.notifier.update_card(item.conversation_id, item.activity_id, card)
            if delivery.ok:
                updated += 1
            else:
                log.warning(
                    "alert card not updated",
                    extra={
                        "key": item.key,
                        "conversation_id": item.conversation_id,
                        "error_code": delivery.error_code or "",
                    },
                )
        reference = copies[0].subject if copies else ""
        log.info("alert cards updated", extra={"count": updated, "reference": reference})

    async def _audit(self, actor: Actor, key: AlertKey, now: datetime) -> None:
        async with self._context.store.unit_of_work() as uow:
            await uow.audit.append(
                refused_on_clock(ACK_REFUSED_ACTION, actor.aad_object_id, key.subject, key.clock, now)
            )
            await uow.commit()
