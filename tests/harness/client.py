"""The Teams client side of the loopback Teams channel: the tests' main client of the bot.

``TeamsChannel`` builds Teams-shaped activities (personal chat, group chat, team channel with the
bot's @mention; ``Action.Submit``, ``Action.Execute`` invokes, installation and conversation
updates) and POSTs them to the bot's ``/api/messages``, over plain HTTP and JSON: it never imports
botbuilder, so it tests the bot as Teams sees it. It starts its own connector
(``tests.harness.connector``) for the bot to call back, and is the ``Recordings`` of what the bot
did (``tests.harness.recordings``), so a test asks it what was sent and whether every card passes
Microsoft's SDK (``verify``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import ClientSession, ClientTimeout
from yarl import URL

from tests.harness.connector import LoopbackConnector
from tests.harness.conversations import THREAD_MARKER, Conversation, ConversationType, JsonObject, TeamsUser
from tests.harness.recordings import POSTS, WRITES, Operation, Recordings, TurnResponse

CHANNEL_ID = "msteams"
DEFAULT_TENANT_ID = "00000000-0000-4000-8000-00000000face"
DEFAULT_BOT_ID = "28:bot-app-id"
DEFAULT_BOT_NAME = "Front Door"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class TeamsChannel(Recordings):
    """The loopback Teams channel. ``await start()``, ``attach(bot_url)``, then talk to the bot."""

    def __init__(
        self,
        *,
        tenant_id: str = DEFAULT_TENANT_ID,
        bot_id: str = DEFAULT_BOT_ID,
        bot_name: str = DEFAULT_BOT_NAME,
        token_factory: Callable[[], Awaitable[str]] | None = None,
        clock: Callable[[], datetime] = _utc_now,
        locale: str = "en-GB",
        timezone: str = "Europe/London",
        host: str = "127.0.0.1",
        request_timeout: float = 30.0,
    ) -> None:
        super().__init__(clock)
        self.tenant_id = tenant_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.locale = locale
        self.timezone = timezone
        self._zone = ZoneInfo(timezone)
        self._token_factory = token_factory
        self._timeout = ClientTimeout(total=request_timeout)
        self._session: ClientSession | None = None
        self._bot_url: str | None = None
        self.connector = LoopbackConnector(self, tenant_id=tenant_id, host=host)

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        await self.connector.start()
        if self._session is None:
            self._session = ClientSession(timeout=self._timeout)

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self.connector.stop()

    async def __aenter__(self) -> TeamsChannel:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def service_url(self) -> str:
        """The ``serviceUrl`` of every inbound activity: this channel's connector, with a slash."""
        return self.connector.service_url

    @property
    def bot_url(self) -> str:
        if self._bot_url is None:
            raise RuntimeError("no bot attached: call channel.attach(<the bot's /api/messages URL>)")
        return self._bot_url

    def attach(self, bot_url: str | URL) -> None:
        """Send inbound activities to the bot's messaging endpoint (``…/api/messages``)."""
        self._bot_url = str(bot_url)

    @property
    def bot(self) -> JsonObject:
        return {"id": self.bot_id, "name": self.bot_name}

    # -- conversations and rosters (held by the connector, as Teams holds them) ---------------

    def personal(self, user: TeamsUser) -> Conversation:
        """The 1:1 chat between ``user`` and the bot (the same one each time)."""
        return self.connector.personal(user)

    def group_chat(self, *members: TeamsUser, name: str | None = None) -> Conversation:
        return self.connector.group_chat(*members, name=name)

    def channel(
        self,
        team_id: str,
        channel_id: str,
        name: str,
        *,
        team_name: str = "Front Door team",
        members: Sequence[TeamsUser] = (),
    ) -> Conversation:
        """A channel of a team. The roster is the team's; ``members`` join the team."""
        return self.connector.channel(team_id, channel_id, name, team_name=team_name, members=members)

    def add_members(self, conversation: Conversation | str, *users: TeamsUser) -> None:
        """Add people to a chat's roster, or to a team's when given a channel or team id."""
        self.connector.add_members(conversation, *users)

    def members_of(self, conversation: Conversation | str) -> list[TeamsUser]:
        return self.connector.members_of(conversation)

    # -- programmed failures (answered by the connector) ---------------------------------------

    def fail_next(
        self,
        conversation_id: str | None,
        status: int = 429,
        *,
        headers: Mapping[str, str] | None = None,
        code: str | None = None,
        message: str | None = None,
        times: int | None = 1,
        operations: Collection[Operation] = WRITES,
    ) -> None:
        """See ``LoopbackConnector.fail_next``."""
        self.connector.fail_next(
            conversation_id,
            status,
            headers=headers,
            code=code,
            message=message,
            times=times,
            operations=operations,
        )

    def clear_failures(self) -> None:
        self.connector.clear_failures()

    def slow_down(
        self,
        seconds: float | tuple[float, float] | None,
        *,
        operations: Collection[Operation] = POSTS,
        seed: int | None = None,
    ) -> None:
        """See ``LoopbackConnector.slow_down``."""
        self.connector.slow_down(seconds, operations=operations, seed=seed)

    def split_text_and_cards(self, split: bool = True) -> None:
        """See ``LoopbackConnector.split_text_and_cards``."""
        self.connector.split_text_and_cards(split)

    @property
    def in_flight(self) -> int:
        """Connector calls received and not yet answered (waiting out ``slow_down`` or handled)."""
        return self.connector.in_flight

    # -- inbound activities --------------------------------------------------------------------

    def new_activity_id(self) -> str:
        return self.connector.new_activity_id()

    def activity(
        self,
        conversation: Conversation,
        user: TeamsUser,
        activity_type: str,
        *,
        conversation_id: str | None = None,
        activity_id: str | None = None,
        **fields: Any,
    ) -> JsonObject:
        """A Teams-shaped activity from ``user`` in ``conversation``; ``fields`` are added as given
        (JSON names, e.g. ``replyToId``)."""
        self.add_members(conversation, user)
        now = self._clock().astimezone(UTC)
        account: JsonObject = {
            "conversationType": conversation.type.value,
            "tenantId": conversation.tenant_id,
            "id": conversation_id or conversation.id,
        }
        if conversation.is_group:
            account["isGroup"] = True
        if conversation.name and conversation.type is ConversationType.GROUP_CHAT:
            account["name"] = conversation.name
        channel_data: JsonObject = {"tenant": {"id": conversation.tenant_id}}
        if conversation.type is ConversationType.CHANNEL:
            assert conversation.team_id is not None
            channel_data.update(
                {
                    "teamsChannelId": conversation.id,
                    "teamsTeamId": conversation.team_id,
                    "channel": {"id": conversation.id, "name": conversation.name},
                    "team": {"id": conversation.team_id, "name": conversation.team_name},
                }
            )
        body: JsonObject = {
            "type": activity_type,
            "id": activity_id or self.new_activity_id(),
            "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "localTimestamp": now.astimezone(self._zone).isoformat(timespec="milliseconds"),
            "localTimezone": self.timezone,
            "serviceUrl": self.service_url,
            "channelId": CHANNEL_ID,
            "from": user.account(),
            "conversation": account,
            "recipient": self.bot,
            "locale": self.locale,
            "channelData": channel_data,
        }
        body.update(fields)
        return body

    def _message_conversation_id(
        self, conversation: Conversation, thread: str | None, activity_id: str
    ) -> str:
        if conversation.type is not ConversationType.CHANNEL:
            return conversation.id
        return conversation.thread(thread or activity_id)

    async def say(
        self,
        conversation: Conversation,
        user: TeamsUser,
        text: str,
        *,
        mention_bot: bool | None = None,
        mentioning: Sequence[TeamsUser] = (),
        thread: str | None = None,
    ) -> TurnResponse:
        """``user`` types ``text``. In a channel or group chat the bot is @mentioned first (Teams only
        delivers those); a channel message starts a new thread unless ``thread`` names its root."""
        if mention_bot is None:
            mention_bot = conversation.is_group
        activity_id = self.new_activity_id()
        entities: list[JsonObject] = [
            {
                "type": "clientInfo",
                "locale": self.locale,
                "country": self.locale.rpartition("-")[2],
                "platform": "Web",
                "timezone": self.timezone,
            }
        ]
        if mention_bot:
            tag = f"<at>{self.bot_name}</at>"
            text = f"{tag} {text}"
            entities.insert(0, {"type": "mention", "mentioned": self.bot, "text": tag})
        for person in mentioning:
            entities.insert(
                0,
                {
                    "type": "mention",
                    "mentioned": {"id": person.id, "name": person.name},
                    "text": f"<at>{person.name}</at>",
                },
            )
        body = self.activity(
            conversation,
            user,
            "message",
            conversation_id=self._message_conversation_id(conversation, thread, activity_id),
            activity_id=activity_id,
            text=text,
            textFormat="plain",
            entities=entities,
        )
        return await self.send_activity(body)

    def _card_target(
        self, conversation: Conversation, card_activity_id: str | None
    ) -> tuple[str | None, str | None]:
        """The card's activity id (default: the last card posted in the conversation) and the
        conversation id an action on it arrives in (for a channel: the card's thread)."""
        with self._lock:
            if card_activity_id is None:
                card_activity_id = next(
                    (
                        record.activity_id
                        for record in reversed(self._records)
                        if record.root_conversation_id == conversation.id
                        and record.operation in POSTS
                        and record.cards
                    ),
                    None,
                )
            message = self._messages.get(card_activity_id) if card_activity_id is not None else None
        if card_activity_id is None:
            return None, None
        if conversation.type is not ConversationType.CHANNEL:
            return card_activity_id, conversation.id
        if message is not None and THREAD_MARKER in message.conversation_id:
            return card_activity_id, message.conversation_id
        return card_activity_id, conversation.thread(card_activity_id)

    async def submit(
        self,
        conversation: Conversation,
        user: TeamsUser,
        value: Mapping[str, Any],
        *,
        card_activity_id: str | None = None,
    ) -> TurnResponse:
        """``user`` presses an ``Action.Submit``: a message with ``value`` (inputs and data), no text."""
        reply_to, conversation_id = self._card_target(conversation, card_activity_id)
        fields: JsonObject = {"value": dict(value)}
        if reply_to is not None:
            fields["replyToId"] = reply_to
        body = self.activity(conversation, user, "message", conversation_id=conversation_id, **fields)
        body["channelData"]["source"] = {"name": "message"}
        if reply_to is not None:
            body["channelData"]["legacy"] = {"replyToId": reply_to}
        return await self.send_activity(body)

    async def execute(
        self,
        conversation: Conversation,
        user: TeamsUser,
        verb: str,
        data: Mapping[str, Any] | None = None,
        *,
        card_activity_id: str | None = None,
        title: str | None = None,
    ) -> TurnResponse:
        """``user`` presses an ``Action.Execute``: an ``adaptiveCard/action`` invoke. The response's
        ``card`` is the updated card the bot returned."""
        reply_to, conversation_id = self._card_target(conversation, card_activity_id)
        action: JsonObject = {"type": "Action.Execute", "verb": verb, "data": dict(data or {})}
        if title is not None:
            action["title"] = title
        fields: JsonObject = {"name": "adaptiveCard/action", "value": {"action": action, "trigger": "manual"}}
        if reply_to is not None:
            fields["replyToId"] = reply_to
        body = self.activity(
            conversation,
            user,
            "invoke",
            conversation_id=conversation_id,
            activity_id=f"f:{uuid.uuid4().int % 10**19}",
            **fields,
        )
        body["channelData"]["source"] = {"name": "message"}
        if reply_to is not None:
            body["channelData"]["legacy"] = {"replyToId": reply_to}
        return await self.send_activity(body)

    async def installation_update(
        self, conversation: Conversation, user: TeamsUser, action: str = "add"
    ) -> TurnResponse:
        body = self.activity(
            conversation,
            user,
            "installationUpdate",
            activity_id=f"f:{uuid.uuid4().int % 10**19}",
            action=action,
        )
        body["channelData"]["source"] = {"name": "message"}
        return await self.send_activity(body)

    async def conversation_update(
        self,
        conversation: Conversation,
        user: TeamsUser,
        *,
        bot_added: bool = False,
        bot_removed: bool = False,
        members_added: Sequence[TeamsUser] = (),
        members_removed: Sequence[TeamsUser] = (),
    ) -> TurnResponse:
        """A roster change in ``conversation`` made by ``user`` (Teams sends the bot as ``{id}``)."""
        fields: JsonObject = {}
        added = [{"id": self.bot_id}] if bot_added else []
        added += [{"id": member.id, "aadObjectId": member.aad_object_id} for member in members_added]
        removed = [{"id": self.bot_id}] if bot_removed else []
        removed += [{"id": member.id, "aadObjectId": member.aad_object_id} for member in members_removed]
        if added:
            fields["membersAdded"] = added
        if removed:
            fields["membersRemoved"] = removed
        self.add_members(conversation, *members_added)
        body = self.activity(
            conversation, user, "conversationUpdate", activity_id=f"f:{uuid.uuid4().int % 10**19}", **fields
        )
        if conversation.type is ConversationType.CHANNEL:
            body["channelData"]["eventType"] = "teamMemberAdded" if added else "teamMemberRemoved"
        return await self.send_activity(body)

    async def install(self, conversation: Conversation, user: TeamsUser) -> tuple[TurnResponse, TurnResponse]:
        """``user`` adds the app: Teams sends an ``installationUpdate`` (add), then a
        ``conversationUpdate`` with the bot in ``membersAdded``."""
        installed = await self.installation_update(conversation, user, "add")
        joined = await self.conversation_update(conversation, user, bot_added=True)
        return installed, joined

    async def uninstall(
        self, conversation: Conversation, user: TeamsUser
    ) -> tuple[TurnResponse, TurnResponse]:
        removed = await self.installation_update(conversation, user, "remove")
        left = await self.conversation_update(conversation, user, bot_removed=True)
        return removed, left

    async def send_activity(self, activity: Mapping[str, Any]) -> TurnResponse:
        """POST a prepared activity (see ``activity``) to the bot."""
        raw = json.dumps(activity).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        return await self._post(raw, headers, dict(activity))

    async def post_raw(self, body: bytes, headers: Mapping[str, str] | None = None) -> TurnResponse:
        """POST anything to the bot (malformed input). The token, if any, is added unless given."""
        return await self._post(body, dict(headers or {}), None)

    async def _post(self, raw: bytes, headers: dict[str, str], inbound: JsonObject | None) -> TurnResponse:
        if self._session is None:
            raise RuntimeError("the Teams channel is not started: await channel.start()")
        if self._token_factory is not None and not any(name.lower() == "authorization" for name in headers):
            headers["Authorization"] = f"Bearer {await self._token_factory()}"
        with self._lock:
            before = self._last_seq
        async with self._session.post(self.bot_url, data=raw, headers=headers) as response:
            status = response.status
            payload = await response.read()
        with self._lock:
            sent = tuple(record for record in self._records if record.seq > before)
        if inbound is not None and inbound.get("type") == "invoke" and payload:
            try:
                parsed = json.loads(payload)
            except ValueError:
                parsed = None
            with self._lock:
                self._invoke_bodies.append(
                    (f"invoke response to {inbound.get('name')} ({inbound.get('id')})", parsed)
                )
        return TurnResponse(status=status, body=payload, inbound=inbound, sent=sent)
