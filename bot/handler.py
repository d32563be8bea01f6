"""The Teams activity handler: every turn starts here.

A turn (1) drops activities from tenants that are not served, (2) records the conversation so the
bot can message it later, (3) routes the message, card submission or card action. Roles always
come from the role directory, keyed by the sender's Azure AD object id.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from botbuilder.core import (
    ActivityHandler,
    CardFactory,
    InvokeResponse,
    MessageFactory,
    TurnContext,
)
from botbuilder.schema import Activity, ActivityTypes

from bot.access import Place, Refused, Rule, Surface, wrong_place_text
from bot.cards.help import help_card
from bot.cards.keys import ACTION_KEY
from bot.cardtext import overlong
from bot.dedup import Deduplicator, activity_key, answer_duplicate, log_duplicate
from bot.replies import refusal
from bot.routing import Actor, CardAction, InvokeReply, Router
from bot.teams import (
    conversation_kind,
    conversation_record,
    root_conversation_id,
    sender_of,
    strip_bot_mention,
    tenant_of,
)
from frontdoor.commands import CommandName, Scope, parse_command
from frontdoor.errors import InvalidReferenceError
from frontdoor.ports import Clock
from frontdoor.records import AuditEvent, ChannelPurpose, ConversationKind, ConversationRecord
from frontdoor.references import parse_reference
from frontdoor.unit_of_work import Store, UnitOfWork

log = logging.getLogger(__name__)

#: Where a turn keeps the sender's roles, read once with the turn's first transaction.
_ROLES_KEY = "frontdoor.sender_roles"
#: Where a turn keeps the kind of conversation it came from (``bot.access.Place``).
_PLACE_KEY = "frontdoor.place"

_PURPOSE_PLACES = {
    ChannelPurpose.DECISIONS: Place.DECISIONS_CHANNEL,
    ChannelPurpose.DUTY: Place.DUTY_CHANNEL,
    ChannelPurpose.EDT: Place.EDT_CHANNEL,
}

_SCOPES = {
    ConversationKind.PERSONAL: Scope.PERSONAL,
    ConversationKind.GROUP_CHAT: Scope.GROUP_CHAT,
    ConversationKind.CHANNEL: Scope.TEAM,
}


class FrontDoorBot(ActivityHandler):
    def __init__(
        self,
        store: Store,
        clock: Clock,
        router: Router,
        tenants: frozenset[str] = frozenset(),
        dedup: Deduplicator | None = None,
        authenticated: bool = True,
        max_text_chars: int = 4000,
        demo: bool = False,
    ) -> None:
        super().__init__()
        #: demo mode (``bot.demo``): ``help`` says so
        self._demo = demo
        #: False only in local development without credentials: then an activity's ``serviceUrl``
        #: is whatever the caller claimed, and it never replaces the one stored for a conversation
        self._authenticated = authenticated
        #: the longest free text a card may send back (``bot.cardtext``)
        self._max_text_chars = max_text_chars
        self._router = router
        self._dedup = dedup
        self._store = store
        self._clock = clock
        self._tenants = tenants

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity: Activity = turn_context.activity
        if self._tenants:
            tenant = tenant_of(activity)
            if tenant not in self._tenants:
                # The tenant id only (bounded: it is whatever the activity claimed).
                log.warning("activity from a tenant that is not served", extra={"tenant_id": tenant[:64]})
                if activity.type == ActivityTypes.invoke:
                    # An invoke waits for an answer: a refusal, not a 5xx for "no response".
                    await turn_context.send_activity(
                        Activity(
                            type=ActivityTypes.invoke_response,
                            value=InvokeResponse(status=int(HTTPStatus.FORBIDDEN)),
                        )
                    )
                return
        key = activity_key(activity) if self._dedup is not None else None
        if not await self._remember(turn_context, key):
            await answer_duplicate(turn_context)
            return
        try:
            await super().on_turn(turn_context)
        except BaseException:
            if self._dedup is not None:
                await self._dedup.release(key)  # a retry of a failed turn must be handled
            raise

    async def _remember(self, turn_context: TurnContext, claim: str | None) -> bool:
        """Claim the activity (``bot.dedup``), record its conversation and the sender's display
        name, and read the sender's roles for the turn, in one transaction. False when a copy of the
        activity was handled already."""
        activity: Activity = turn_context.activity
        record = conversation_record(activity, self._clock.now())
        sender = sender_of(activity)
        if record is None and sender is None and claim is None:
            return True
        async with self._store.unit_of_work() as uow:
            if claim is not None and not await uow.activities.claim(claim, self._clock.now()):
                log_duplicate(activity)
                return False
            if record is not None:
                await self._record(uow, record)
                turn_context.turn_state[_PLACE_KEY] = await _place_of(uow, record)
            if sender is not None:
                turn_context.turn_state[_ROLES_KEY] = (
                    await uow.roles.named_roles(sender.aad_object_id, sender.name)
                    if sender.name
                    else await uow.roles.roles_of(sender.aad_object_id)
                )
            await uow.commit()
        return True

    async def _record(self, uow: UnitOfWork, record: ConversationRecord) -> None:
        """Store the conversation's reference; unauthenticated, never move a known conversation to
        another service URL (a forged ``serviceUrl`` would redirect every later proactive post)."""
        if not await uow.conversations.upsert(record, keep_service_url=not self._authenticated):
            log.warning(
                "unauthenticated activity claimed another serviceUrl; the stored one is kept",
                extra={"conversation_id": record.conversation_id[:128]},
            )

    async def _actor(self, turn_context: TurnContext) -> Actor | None:
        activity: Activity = turn_context.activity
        sender = sender_of(activity)
        if sender is None:
            return None
        roles = turn_context.turn_state.get(_ROLES_KEY)
        place = turn_context.turn_state.get(_PLACE_KEY)
        if not isinstance(roles, frozenset) or not isinstance(place, Place):
            async with self._store.unit_of_work() as uow:
                roles = await uow.roles.roles_of(sender.aad_object_id)
                record = conversation_record(activity, self._clock.now())
                place = await _place_of(uow, record) if record is not None else Place.GROUP_CHAT
        return Actor(
            aad_object_id=sender.aad_object_id,
            name=sender.name,
            roles=roles,
            scope=_SCOPES[conversation_kind(activity)],
            conversation_id=root_conversation_id(str(getattr(activity.conversation, "id", "") or "")),
            place=place,
        )

    async def _refused(
        self, actor: Actor, surface: Surface, name: str, rule: Rule, data: Any = None
    ) -> str | None:
        """The central check of the authorization table (``bot.access``): None when ``actor`` may
        use ``name`` here, else what to tell them. A refusal changes nothing; it is audited (who,
        what, where, the reference the card named) and logged with ids only."""
        refused = rule.check(actor.roles, actor.place)
        if refused is None:
            return None
        log.info(
            "refused by the authorization table",
            extra={
                "action": f"{surface.value}:{name}",
                "status": refused.value,
                "conversation_kind": actor.place.value,
            },
        )
        detail = f"{surface.value}={name}; place={actor.place.name.lower()}; reason={refused.value}"
        async with self._store.unit_of_work() as uow:
            await uow.audit.append(
                AuditEvent(
                    at=self._clock.now(),
                    actor_id=actor.aad_object_id,
                    action="access.refused",
                    subject=_named_reference(data) or f"{surface.value}:{name}",
                    detail=detail,
                )
            )
            await uow.commit()
        if refused is Refused.WRONG_PLACE:
            return wrong_place_text(rule)
        return refusal(rule.permissions[0], None if actor.roles else actor.aad_object_id)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity: Activity = turn_context.activity
        strip_bot_mention(activity)
        scope = _SCOPES[conversation_kind(activity)]
        actor = await self._actor(turn_context)
        text = activity.text if isinstance(activity.text, str) else ""
        if activity.value is not None and not text.strip():
            await self._on_submission(turn_context, actor, activity.value)
            return
        parsed = parse_command(text)
        log.info(
            "message",
            extra={
                "activity_id": activity.id or "",
                "command": parsed.command.name.value if parsed else "unknown",
                "conversation_kind": scope.value,
            },
        )
        if parsed is not None and parsed.command.name is CommandName.HELP:
            await self._send_card(turn_context, self._help(actor, scope))
            return
        handler = self._router.commands.get(parsed.command.name) if parsed else None
        if parsed is not None and handler is not None and scope in parsed.command.scopes:
            if actor is None:
                await turn_context.send_activity(_NO_IDENTITY)
                return
            name = parsed.command.name.value
            refused = await self._refused(
                actor, Surface.COMMAND, name, self._router.rule(Surface.COMMAND, name)
            )
            if refused is not None:
                await turn_context.send_activity(refused)
                return
            await handler(turn_context, actor, parsed)
            return
        if actor is not None and parsed is None and text.strip():
            for fallback in self._router.text_fallbacks:
                if await fallback(turn_context, actor, text):
                    return
        await self._send_card(turn_context, self._help(actor, scope, unknown=True))

    def _help(self, actor: Actor | None, scope: Scope, unknown: bool = False) -> dict[str, Any]:
        """The help card for this person here; one without a role is told their id."""
        if actor is None:
            return help_card(frozenset(), scope, unknown, demo=self._demo)
        return help_card(actor.roles, scope, unknown, actor.aad_object_id, self._demo)

    async def _on_submission(self, turn_context: TurnContext, actor: Actor | None, value: Any) -> None:
        action = value.get(ACTION_KEY) if isinstance(value, dict) else None
        handler = self._router.submissions.get(action) if isinstance(action, str) else None
        log.info(
            "card submission",
            extra={"activity_id": turn_context.activity.id or "", "action": action if handler else "unknown"},
        )
        if handler is None or actor is None or action is None:
            # A card this version of the bot no longer serves, or one from nobody we can identify.
            await turn_context.send_activity(_STALE_CARD)
            return
        rule = self._router.rule(Surface.SUBMISSION, action)
        refused = await self._refused(actor, Surface.SUBMISSION, action, rule, value)
        if refused is not None:
            await turn_context.send_activity(refused)
            return
        await handler(turn_context, actor, CardAction(action, value, turn_context.activity.reply_to_id))

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        actor = await self._actor(turn_context)
        scope = _SCOPES[conversation_kind(turn_context.activity)]
        await self._send_card(turn_context, self._help(actor, scope))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity: Activity = turn_context.activity
        if activity.name != "adaptiveCard/action":
            log.info(
                "invoke not handled",
                extra={"activity_id": activity.id or "", "action": (activity.name or "")[:64]},
            )
            # An invoke this app never declared is bad input: a 4xx, never a 5xx (SPEC §8).
            return InvokeResponse(status=int(HTTPStatus.BAD_REQUEST))
        action = _field(activity.value, "action")
        verb = _field(action, "verb")
        data = _field(action, "data")
        handler = self._router.executions.get(verb) if isinstance(verb, str) else None
        log.info(
            "card action",
            extra={"activity_id": activity.id or "", "verb": verb if handler else "unknown"},
        )
        actor = await self._actor(turn_context)
        if handler is None or actor is None or not isinstance(data, dict | None) or not isinstance(verb, str):
            reply = InvokeReply(message="This action is not available.")
        else:
            rule = self._router.rule(Surface.EXECUTION, verb)
            refused = await self._refused(actor, Surface.EXECUTION, verb, rule, data)
            refused = refused or overlong(data or {}, self._max_text_chars)
            if refused is not None:
                reply = InvokeReply(message=refused)
            else:
                reply = await handler(turn_context, actor, CardAction(verb, data or {}, activity.reply_to_id))
        return InvokeResponse(status=int(HTTPStatus.OK), body=reply.body())

    async def _send_card(self, turn_context: TurnContext, card: dict[str, Any]) -> None:
        await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(card)))


async def _place_of(uow: UnitOfWork, record: ConversationRecord) -> Place:
    """The kind of conversation: a personal chat, a group chat, the registered decisions, duty or
    EDT channel, or another channel."""
    if record.kind is ConversationKind.PERSONAL:
        return Place.PERSONAL
    if record.kind is ConversationKind.GROUP_CHAT:
        return Place.GROUP_CHAT
    for purpose, place in _PURPOSE_PLACES.items():
        registration = await uow.channels.get(purpose)
        if registration is not None and registration.conversation_id == record.conversation_id:
            return place
    return Place.OTHER_CHANNEL


def _named_reference(data: Any) -> str | None:
    """The CT- or PC- reference a card's data names, in its canonical form (for the audit)."""
    text = data.get("reference") if isinstance(data, dict) else None
    try:
        return str(parse_reference(text)) if isinstance(text, str) else None
    except InvalidReferenceError:
        return None


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


_STALE_CARD = "That card is no longer active. Type **help** to see what I can do."
_NO_IDENTITY = "I can only work with people signed in to Teams in your organisation."


async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
    """Last-resort handler: log the error type and locations (never its message), tell the person."""
    activity: Activity = turn_context.activity
    log.error(
        "turn failed",
        exc_info=(type(error), error, error.__traceback__),
        extra={"activity_id": activity.id or "", "activity_type": activity.type or ""},
    )
    if activity.type == ActivityTypes.message:
        try:
            await turn_context.send_activity(
                "Sorry, something went wrong on my side. Anything you had already saved is kept; "
                "please try again."
            )
        except Exception as failure:  # the channel may be what failed: never turn this into a 500
            log.error(
                "apology not delivered",
                extra={"activity_id": activity.id or "", "error_code": type(failure).__name__},
            )
