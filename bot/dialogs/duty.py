"""The duty manager's surfaces in Teams (SPEC §6, §7): ``handover``, ``status``, ``duty``, and
"I acknowledge" on the handover and escalation cards the scheduler posts.

The activity handler checks each command's permission before calling these handlers; each handler
and every card action checks again with the sender's roles from the directory (a routing mistake
or a forged card never opens anything). The card data says which day (and which outbox row the card
came from); the server decides everything else.

After "I acknowledge" the invoke is answered with the acknowledged card straight after the database
work; then the channel message is updated for everyone, in a task of its own, at the conversation
and message the outbox row recorded when it was sent (never ids the invoke claims).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext

from bot.cards.duty import (
    ROLES_KEY,
    ROTA_DAY_KEY,
    ROTA_INPUTS,
    ROTA_SAVE_VERB,
    ROTA_SHOW_VERB,
    rota_card,
    status_card,
)
from bot.cards.handover import ACK_VERB, DAY_KEY, ITEM_KEY, escalation_card, handover_card
from bot.dialogs.background import Later
from bot.dialogs.carddata import whole_number
from bot.dialogs.context import FeatureContext
from bot.notify import Mentioned, card_activity
from bot.replies import refusal
from bot.routing import Actor, CardAction, InvokeReply, Router
from frontdoor.alerts import AlertKind, OutboxItem, OutboxState
from frontdoor.commands import CommandName, ParsedCommand
from frontdoor.duty import (
    HandoverAck,
    HandoverEscalation,
    HandoverPost,
    acknowledge_handover,
    current_handover,
    handover_acknowledgement,
    latest_posted_handover,
)
from frontdoor.handover import handover_at, handover_key
from frontdoor.roles import Permission, Role
from frontdoor.rota import ROTA_ROLES, RotaSaved, parse_rota_day, rota_day, set_rota
from frontdoor.status import system_status
from frontdoor.timefmt import format_local
from frontdoor.usecase import Refusal

log = logging.getLogger(__name__)

_UNREADABLE = "This card could not be read, so nothing was changed."
_HANDOVER_KINDS = frozenset({AlertKind.HANDOVER, AlertKind.HANDOVER_ESCALATION})


def _card_message(card: Mapping[str, Any]) -> Any:
    return MessageFactory.attachment(CardFactory.adaptive_card(dict(card)))


def _day_of(data: Mapping[str, Any], key: str) -> date | None:
    value = data.get(key)
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _item_id(data: Mapping[str, Any]) -> int | None:
    return whole_number(data, ITEM_KEY, least=1, max_digits=11)


def _day_text(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


class DutyFeature:
    """``handover``, ``status``, ``duty`` and the handover's acknowledgement."""

    def __init__(self, context: FeatureContext) -> None:
        self._context = context
        #: message updates, after an invoke was answered
        self._later = Later(log, "work after an acknowledgement failed")

    def register(self, router: Router) -> None:
        router.command(CommandName.HANDOVER, self.on_handover)
        router.command(CommandName.STATUS, self.on_status)
        router.command(CommandName.DUTY, self.on_duty)
        router.execution(ACK_VERB, self.on_acknowledge)
        router.execution(ROTA_SAVE_VERB, self.on_rota_save)
        router.execution(ROTA_SHOW_VERB, self.on_rota_show)

    async def _names(self) -> dict[str, str]:
        async with self._context.store.unit_of_work() as uow:
            return {entry.aad_object_id: entry.display_name for entry in await uow.roles.entries()}

    # -- handover --------------------------------------------------------------------------------

    async def on_handover(self, turn_context: TurnContext, actor: Actor, _: ParsedCommand) -> None:
        if not actor.may(Permission.HANDOVER):
            await turn_context.send_activity(refusal(Permission.HANDOVER))
            return
        now = self._context.clock.now()
        handover = await current_handover(self._context.store.unit_of_work(), rules=self._context.rules(now))
        lines = [await self._last_posted_line(now)]
        card = handover_card(handover, await self._names(), on_demand=True, lines=lines)
        log.info("handover shown", extra={"conversation_kind": actor.scope.value})
        await turn_context.send_activity(_card_message(card))

    async def _last_posted_line(self, now: datetime) -> str:
        post = await latest_posted_handover(
            self._context.store.unit_of_work(), rules=self._context.rules(now)
        )
        if post is None:
            upcoming = handover_at(
                now.astimezone(self._context.calendar.tz).date(), self._context.calendar, self._context.policy
            )
            when = f" at {format_local(upcoming)}" if upcoming is not None and upcoming > now else ""
            return f"The next end-of-day handover is posted to the duty channel{when}."
        handover = f"The handover of {_day_text(post.day)}"
        why = post.error or "no error recorded"
        match post.state:
            case OutboxState.FAILED:
                return (
                    f"{handover} was not delivered to the duty channel ({why}); "
                    "**status** lists it under undelivered alerts."
                )
            case OutboxState.WITHDRAWN:
                return f"{handover} was not sent to the duty channel ({why})."
            # a try that failed left its error (a throttled one gives its attempt back, so the
            # count alone does not say)
            case OutboxState.PENDING | OutboxState.LEASED if post.error:
                return (
                    f"{handover} has not been delivered to the duty channel yet ({why}); "
                    "the bot is trying again."
                )
            case OutboxState.PENDING | OutboxState.LEASED:
                return f"{handover} is waiting to be sent to the duty channel."
        ack = await handover_acknowledgement(
            self._context.store.unit_of_work(), post.day, self._context.calendar, self._context.policy
        )
        posted = f"{handover} was posted to the duty channel"
        if ack is None:
            return f"{posted}; nobody has acknowledged it yet."
        names = await self._names()
        who = names.get(ack.person_id) or "a member of staff"
        return f"{posted} and acknowledged by {who} at {format_local(ack.at)}."

    async def on_acknowledge(self, _: TurnContext, actor: Actor, action: CardAction) -> InvokeReply:
        day = _day_of(action.data, DAY_KEY)
        if day is None:
            log.info("unreadable handover card", extra={"verb": action.action})
            return InvokeReply(message=_UNREADABLE)
        item = await self._item(_item_id(action.data), day)
        result = await acknowledge_handover(
            self._context.store.unit_of_work(),
            day,
            who=actor.who,
            rules=self._context.rules(),
        )
        subject = f"handover:{day.isoformat()}"
        if isinstance(result, Refusal):
            log.info(
                "handover acknowledgement refused", extra={"subject": subject, "status": result.reason.value}
            )
            if item is None:
                return InvokeReply(message=result.message)
            card, _, _ = self._rendered(item, await self._names(), None, result.message)
            return InvokeReply(card=card)
        # The first acknowledgement counts, even if two arrived together.
        ack = await handover_acknowledgement(
            self._context.store.unit_of_work(), day, self._context.calendar, self._context.policy
        )
        ack = ack or result.ack
        log.info(
            "handover acknowledged", extra={"subject": subject, "status": "new" if result.new else "again"}
        )
        # Also when it was acknowledged already: a message may still show the button.
        self._later(self._update_messages(day, ack))
        names = await self._names()
        if item is None:
            who = names.get(ack.person_id) or "a member of staff"
            return InvokeReply(message=f"The handover of {_day_text(day)} is acknowledged by {who}.")
        notice = ""
        if not result.new or ack.person_id != actor.aad_object_id:
            notice = "It had already been acknowledged."
        card, _, _ = self._rendered(item, names, ack, notice)
        return InvokeReply(card=card)

    async def _item(self, item_id: int | None, day: date) -> OutboxItem | None:
        """The outbox row a handover card came from, if it really is a post of ``day``'s handover
        or its escalation."""
        if item_id is None or not self._context.calendar.is_working_day(day):
            return None
        async with self._context.store.unit_of_work() as uow:
            item = await uow.alerts.get(item_id)
        subject = handover_key(day, self._context.calendar, self._context.policy).subject
        if item is None or item.kind not in _HANDOVER_KINDS or item.subject != subject:
            return None
        return item

    def _rendered(
        self, item: OutboxItem, names: Mapping[str, str], ack: HandoverAck | None, notice: str
    ) -> tuple[dict[str, Any], tuple[str, ...], str]:
        """The card of ``item`` as it stands, with the @mentions and text of its message."""
        late = item.sent_at is not None and item.late(item.sent_at)
        if item.kind is AlertKind.HANDOVER:
            post = HandoverPost.from_payload(item.payload)
            card = handover_card(
                post.handover, names, due_at=post.due_at, late=late, ack=ack, item_id=item.id, notice=notice
            )
            text = f"End-of-day handover for {_day_text(post.handover.day)}."
            return card, post.handover.next_duty_managers, text
        escalation = HandoverEscalation.from_payload(item.payload)
        card = escalation_card(escalation, names, late=late, ack=ack, item_id=item.id, notice=notice)
        mentions = escalation.team_managers if item.recipient.is_duty_channel else ()
        return card, mentions, f"The handover of {_day_text(escalation.day)} was escalated."

    async def _update_messages(self, day: date, ack: HandoverAck) -> None:
        """Show the acknowledgement on every message of ``day``'s handover and its escalation."""
        await asyncio.sleep(0)  # let the invoke's answer go first
        subject = handover_key(day, self._context.calendar, self._context.policy).subject
        async with self._context.store.unit_of_work() as uow:
            items = [item for item in await uow.alerts.sent_about(subject) if item.kind in _HANDOVER_KINDS]
        names = await self._names()
        for item in items:
            if item.conversation_id is None or item.activity_id is None:
                continue
            card, mention_ids, text = self._rendered(item, names, ack, "")
            # as the dispatcher's sender does: only people with a display name are @mentioned
            mentions = [Mentioned(person, names[person]) for person in mention_ids if names.get(person)]
            activity = card_activity(card, mentions, text)
            activity.id = item.activity_id
            delivery = await self._context.notifier.send(item.conversation_id, activity, update=True)
            if not delivery.ok:
                log.warning(
                    "handover card update failed",
                    extra={"subject": subject, "error_code": delivery.error_code or ""},
                )

    # -- status ----------------------------------------------------------------------------------

    async def on_status(self, turn_context: TurnContext, actor: Actor, _: ParsedCommand) -> None:
        if not actor.may(Permission.SEE_STATUS):
            await turn_context.send_activity(refusal(Permission.SEE_STATUS))
            return
        status = await system_status(self._context.store.unit_of_work(), rules=self._context.rules())
        log.info("status shown", extra={"conversation_kind": actor.scope.value})
        await turn_context.send_activity(_card_message(status_card(status, await self._names())))

    # -- the rota --------------------------------------------------------------------------------

    async def on_duty(self, turn_context: TurnContext, actor: Actor, parsed: ParsedCommand) -> None:
        if not actor.may(Permission.MANAGE_ROTA):
            await turn_context.send_activity(refusal(Permission.MANAGE_ROTA))
            return
        day = parse_rota_day(parsed.argument, self._today())
        if isinstance(day, str):
            await turn_context.send_activity(day)
            return
        rota = await rota_day(self._context.store.unit_of_work(), day, self._context.calendar)
        await turn_context.send_activity(_card_message(rota_card(rota, editable=True)))

    def _today(self) -> date:
        return self._context.clock.now().astimezone(self._context.calendar.tz).date()

    async def on_rota_show(self, _: TurnContext, actor: Actor, action: CardAction) -> InvokeReply:
        if not actor.may(Permission.MANAGE_ROTA):
            return InvokeReply(message=refusal(Permission.MANAGE_ROTA))
        day = _day_of(action.data, ROTA_DAY_KEY)
        if day is None:
            return InvokeReply(message=_UNREADABLE)
        checked = parse_rota_day(day.isoformat(), self._today())
        if isinstance(checked, str):
            return InvokeReply(message=checked)
        rota = await rota_day(self._context.store.unit_of_work(), checked, self._context.calendar)
        return InvokeReply(card=rota_card(rota, editable=True))

    async def on_rota_save(self, _: TurnContext, actor: Actor, action: CardAction) -> InvokeReply:
        if not actor.may(Permission.MANAGE_ROTA):
            return InvokeReply(message=refusal(Permission.MANAGE_ROTA))
        day = _day_of(action.data, ROTA_DAY_KEY)
        wanted = _wanted(action.data)
        if day is None or wanted is None:
            log.info("unreadable rota card", extra={"verb": action.action})
            return InvokeReply(message=_UNREADABLE)
        checked = parse_rota_day(day.isoformat(), self._today())
        if isinstance(checked, str):
            return InvokeReply(message=checked)
        result = await set_rota(
            self._context.store.unit_of_work(),
            checked,
            wanted,
            who=actor.who,
            now=self._context.clock.now(),
        )
        rota = await rota_day(self._context.store.unit_of_work(), checked, self._context.calendar)
        if isinstance(result, Refusal):
            log.info("rota change refused", extra={"status": result.reason.value})
            return InvokeReply(card=rota_card(rota, editable=True, notice=result.message))
        log.info("rota saved", extra={"subject": f"rota:{checked.isoformat()}", "count": len(result.changes)})
        return InvokeReply(card=rota_card(rota, editable=True, saved=_saved_text(result)))


def _wanted(data: Mapping[str, Any]) -> dict[Role, set[str]] | None:
    """The people chosen for each role the card showed; None if the card cannot be read."""
    listed = data.get(ROLES_KEY)
    if not isinstance(listed, str):
        return None
    wanted: dict[Role, set[str]] = {}
    for name in filter(None, (part.strip() for part in listed.split(","))):
        try:
            role = Role(name)
        except ValueError:
            return None
        if role not in ROTA_ROLES:
            return None
        value = data.get(ROTA_INPUTS[role], "")
        if not isinstance(value, str) or len(value) > 20_000:
            return None
        wanted[role] = {person.strip() for person in value.split(",") if person.strip()}
    return wanted


def _saved_text(saved: RotaSaved) -> str:
    if not saved.changes:
        return "Saved: no changes."
    count = len(saved.changes)
    return f"Saved: {count} change{'s' if count != 1 else ''} to the rota of {_day_text(saved.day)}."
