"""Messages the bot sends on its own initiative: to a registered channel or to a person's chat.

A turn can only answer the conversation it came from; anything else (the decision card in the
decisions channel, the summary in an allocated worker's personal chat) is a *proactive* message,
sent with the conversation reference stored when the bot last heard from that chat or channel
(``ConversationRecord.reference``) through ``adapter.continue_conversation``.

``Notifier`` sends at once and reports what happened as a ``Delivery``; it never raises for a
refusal from Teams. A 403 or 404 for the conversation (the bot was removed, the chat blocked) marks
the conversation dead, so nobody keeps posting into the void; the next activity from it revives it.
Retries and throttling belong to the durable outbox that the scheduler uses; a ``Delivery`` carries
the status, the Teams error code and ``Retry-After`` for it to act on.

Logs name conversations, statuses and codes only, never what was sent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botbuilder.core import BotAdapter, CardFactory, MessageFactory, TurnContext
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
    Mention,
)

from frontdoor.unit_of_work import Store

log = logging.getLogger(__name__)

#: Error codes Teams returns with a 404 that concern one message, not the whole conversation.
_MESSAGE_NOT_FOUND = frozenset({"ActivityNotFoundInConversation", "ActivityNotFound"})


@dataclass(frozen=True, slots=True)
class Mentioned:
    """A person to @mention: ``id`` is their Azure AD object id (Teams also takes a ``29:`` id)."""

    id: str
    name: str

    @property
    def tag(self) -> str:
        return f"<at>{self.name}</at>"


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of one send."""

    conversation_id: str | None
    #: the id Teams gave the posted message; "" when posted but the channel gave no id; None when
    #: it was not posted
    activity_id: str | None = None
    #: the HTTP status of a failed send (None: no answer, or not attempted)
    status: int | None = None
    #: Teams' error code, or ours: ``NoConversation``, ``ConversationDead``, ``NoPersonalChat``
    error_code: str | None = None
    retry_after: str | None = None

    @property
    def ok(self) -> bool:
        return self.activity_id is not None


@dataclass(frozen=True, slots=True)
class PersonAddress:
    """How to open a new personal chat with someone who has none with the bot yet: taken from an
    activity they sent (their ``29:`` id, the tenant, the service URL and the bot's own account)."""

    user_id: str
    tenant_id: str
    service_url: str
    bot_id: str
    bot_name: str = ""


def card_activity(
    card: Mapping[str, Any], mentions: Sequence[Mentioned] = (), text: str | None = None
) -> Activity:
    """A message holding ``card``. @mentions go in the message text (``<at>Name</at>`` per person)
    with a mention entity each, which is how Teams notifies the people named."""
    activity = MessageFactory.attachment(CardFactory.adaptive_card(dict(card)))
    words = [mention.tag for mention in mentions]
    if text:
        words.append(text)
    if words:
        activity.text = " ".join(words)
    if mentions:
        activity.entities = mention_entities(mentions)
    return activity


def mention_entities(mentions: Sequence[Mentioned]) -> list[Mention]:
    """The activity entities that make each ``<at>Name</at>`` in a message's text an @mention."""
    return [
        # Serialised and read back, as botbuilder's own samples do, so the entity serialises as a
        # mention rather than as a bare ``Entity``.
        Mention().deserialize(
            Mention(
                mentioned=ChannelAccount(id=mention.id, name=mention.name),
                text=mention.tag,
                type="mention",
            ).serialize()
        )
        for mention in mentions
    ]


def _failure_of(error: BaseException) -> tuple[int | None, str, str | None]:
    """(status, Teams error code, Retry-After) of a failed connector call, read defensively."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    headers = getattr(response, "headers", None)
    retry_after = None
    if headers is not None:
        try:
            retry_after = headers.get("Retry-After")
        except AttributeError:
            retry_after = None
    code = getattr(getattr(getattr(error, "error", None), "error", None), "code", None)
    return (
        status if isinstance(status, int) else None,
        code if isinstance(code, str) and code else type(error).__name__,
        retry_after if isinstance(retry_after, str) else None,
    )


class Notifier:
    def __init__(self, adapter: BotAdapter, store: Store, app_id: str) -> None:
        self._adapter = adapter
        self._store = store
        self._app_id = app_id

    async def send_card(
        self,
        conversation_id: str,
        card: Mapping[str, Any],
        mentions: Sequence[Mentioned] = (),
        text: str | None = None,
    ) -> Delivery:
        """Post ``card`` (with any @mentions and a line of ``text`` above it) to a conversation the
        bot has a stored reference for."""
        return await self.send(conversation_id, card_activity(card, mentions, text))

    async def send_text(
        self, conversation_id: str, text: str, mentions: Sequence[Mentioned] = ()
    ) -> Delivery:
        activity = MessageFactory.text(" ".join([*(mention.tag for mention in mentions), text]))
        if mentions:
            activity.entities = mention_entities(mentions)
        return await self.send(conversation_id, activity)

    async def personal_chat_of(self, user_id: str) -> str | None:
        """The personal chat ``user_id`` (Azure AD object id) has with the bot, if it is usable."""
        async with self._store.unit_of_work() as uow:
            record = await uow.conversations.personal_chat_of(user_id)
        return record.conversation_id if record is not None and not record.dead else None

    async def send_card_to_person(
        self, user_id: str, card: Mapping[str, Any], address: PersonAddress | None = None
    ) -> Delivery:
        """Send ``card`` to ``user_id``'s personal chat. Without one, and given an ``address``, open
        one (Teams allows that when the app is installed for the person); else ``NoPersonalChat``."""
        chat = await self.personal_chat_of(user_id)
        if chat is not None:
            delivery = await self.send_card(chat, card)
            if delivery.ok or address is None:
                return delivery
        if address is None:
            return Delivery(None, error_code="NoPersonalChat")
        return await self._create_personal_chat(address, card_activity(card))

    async def update_card(self, conversation_id: str, activity_id: str, card: Mapping[str, Any]) -> Delivery:
        """Replace the card of the message ``activity_id`` the bot posted in a conversation."""
        activity = card_activity(card)
        activity.id = activity_id
        return await self.send(conversation_id, activity, update=True)

    async def send(self, conversation_id: str, activity: Activity, *, update: bool = False) -> Delivery:
        if update and not activity.id:
            # a post the channel answered with no id: there is no message to name
            return Delivery(conversation_id, error_code="NoActivityId")
        async with self._store.unit_of_work() as uow:
            record = await uow.conversations.get(conversation_id)
        if record is None:
            return Delivery(conversation_id, error_code="NoConversation")
        if record.dead:
            return Delivery(conversation_id, error_code="ConversationDead")
        try:
            reference = ConversationReference().deserialize(json.loads(record.reference))
        except ValueError:
            log.error("stored conversation reference unreadable", extra={"conversation_id": conversation_id})
            return Delivery(conversation_id, error_code="BadReference")

        sent: list[str] = []
        failed: list[BaseException] = []

        async def post(turn_context: TurnContext) -> None:
            # Errors are caught here: the adapter would hand them to on_turn_error, which cannot
            # tell the caller.
            try:
                if update:
                    await turn_context.update_activity(activity)
                    sent.append(activity.id or "")
                else:
                    response = await turn_context.send_activity(activity)
                    sent.append(getattr(response, "id", None) or "")
            except Exception as error:
                failed.append(error)

        try:
            await self._adapter.continue_conversation(reference, post, self._app_id)
        except Exception as error:
            failed.append(error)
        if sent and not failed:
            if not sent[0]:
                # Delivered, but the channel did not say which message it became (Microsoft 365
                # Agents Playground answers 202 with no id when it splits text from a card).
                log.info("proactive message sent, no message id", extra={"conversation_id": conversation_id})
            else:
                log.info("proactive message sent", extra={"conversation_id": conversation_id, "status": 201})
            return Delivery(conversation_id, activity_id=sent[0])
        return await self._failed(conversation_id, failed[0] if failed else None)

    async def _failed(self, conversation_id: str, error: BaseException | None) -> Delivery:
        status, code, retry_after = _failure_of(error) if error is not None else (None, "NotSent", None)
        log.warning(
            "proactive message failed",
            extra={"conversation_id": conversation_id, "status": status or 0, "error_code": code},
        )
        if status in (403, 404) and code not in _MESSAGE_NOT_FOUND:
            async with self._store.unit_of_work() as uow:
                await uow.conversations.mark_dead(conversation_id, code)
                await uow.commit()
        return Delivery(conversation_id, status=status, error_code=code, retry_after=retry_after)

    async def _create_personal_chat(self, address: PersonAddress, activity: Activity) -> Delivery:
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=address.bot_id, name=address.bot_name),
            members=[ChannelAccount(id=address.user_id)],
            tenant_id=address.tenant_id,
            channel_data={"tenant": {"id": address.tenant_id}},
        )
        sent: list[str] = []
        conversation: list[str] = []
        failed: list[BaseException] = []

        async def post(turn_context: TurnContext) -> None:
            try:
                conversation.append(str(getattr(turn_context.activity.conversation, "id", "") or ""))
                response = await turn_context.send_activity(activity)
                sent.append(getattr(response, "id", None) or "")
            except Exception as error:
                failed.append(error)

        create = getattr(self._adapter, "create_conversation", None)
        if create is None:
            return Delivery(None, error_code="NoPersonalChat")
        try:
            await create(self._app_id, post, parameters, "msteams", address.service_url)
        except Exception as error:
            failed.append(error)
        target = conversation[0] if conversation else None
        if sent and not failed:
            log.info("personal chat opened", extra={"conversation_id": target or "", "status": 201})
            return Delivery(target, activity_id=sent[0])
        status, code, retry_after = _failure_of(failed[0]) if failed else (None, "NotSent", None)
        log.warning("personal chat could not be opened", extra={"status": status or 0, "error_code": code})
        return Delivery(target, status=status, error_code=code, retry_after=retry_after)
