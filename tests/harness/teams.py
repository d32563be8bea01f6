"""A loopback Microsoft Teams channel: the tests' main client of the bot.

It plays both sides of Teams on 127.0.0.1, with no network:

- **the Bot Framework connector** the bot calls back (its ``serviceUrl``): it answers the routes
  botbuilder uses, records every activity the bot sends, updates or deletes, and can be told to
  fail the next calls for a conversation (429, 403, 404 ...) with a Bot Framework error body, or
  to answer slowly (``slow_down``: a fixed or random latency a call, for crash tests). Any
  other route is recorded and fails the test when the channel is verified (at fixture teardown);
- **the Teams client**: typed helpers that build Teams-shaped activities (personal chat, group
  chat, team channel with the bot's @mention; ``Action.Submit``, ``Action.Execute`` invokes,
  installation and conversation updates) and POST them to the bot's ``/api/messages``.

It speaks plain HTTP and JSON only; it never imports botbuilder, so it tests the bot as Teams
sees it. Every Adaptive Card it records can be validated with Microsoft's SDK (``verify``).

The connector runs on its own thread and event loop: parts of botbuilder call it synchronously
(``TeamsInfo.get_team_details`` uses ``requests``), which would block the test's event loop and
deadlock a connector living on that loop. Its state is therefore guarded by a lock.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import json
import random
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import ClientSession, ClientTimeout, web
from yarl import URL

from tests.harness.cards import CardValidator

JsonObject = dict[str, Any]

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
CHANNEL_ID = "msteams"
DEFAULT_TENANT_ID = "00000000-0000-4000-8000-00000000face"
DEFAULT_BOT_ID = "28:bot-app-id"
DEFAULT_BOT_NAME = "Front Door"
THREAD_MARKER = ";messageid="

#: The error codes Teams puts in a Bot Framework error body, by status, when a test names none.
DEFAULT_ERROR_CODES: Mapping[int, str] = {
    400: "BadArgument",
    401: "Unauthorized",
    403: "ConversationBlockedByUser",
    404: "ConversationNotFound",
    412: "PreconditionFailed",
    413: "MessageSizeTooBig",
    429: "Throttled",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


class ConversationType(StrEnum):
    PERSONAL = "personal"
    GROUP_CHAT = "groupChat"
    CHANNEL = "channel"


class Operation(StrEnum):
    """The connector operations the channel answers (named as in the Bot Connector REST API)."""

    CREATE_CONVERSATION = "createConversation"
    SEND = "sendToConversation"
    REPLY = "replyToActivity"
    UPDATE = "updateActivity"
    DELETE = "deleteActivity"
    GET_MEMBERS = "getConversationMembers"
    GET_MEMBER = "getConversationMember"
    GET_PAGED_MEMBERS = "getConversationPagedMembers"
    GET_TEAM = "getTeamDetails"


#: Operations that post a new activity.
POSTS: frozenset[Operation] = frozenset({Operation.CREATE_CONVERSATION, Operation.SEND, Operation.REPLY})
#: Operations that change what a conversation shows: the default target of ``fail_next``.
WRITES: frozenset[Operation] = POSTS | {Operation.UPDATE, Operation.DELETE}
ALL_OPERATIONS: frozenset[Operation] = frozenset(Operation)


def root_conversation_id(conversation_id: str) -> str:
    """A channel thread's id is ``<channel id>;messageid=<root post id>``; this is the channel."""
    return conversation_id.split(THREAD_MARKER, 1)[0]


# -- Teams side: people and conversations ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TeamsUser:
    """A person in Teams. ``id`` is the Bot Framework id (``29:…``); it defaults from the AAD id."""

    aad_object_id: str
    name: str
    id: str = ""
    email: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", f"29:{self.aad_object_id}")

    def account(self) -> JsonObject:
        """The ``from`` of an activity this person sends."""
        return {"id": self.id, "name": self.name, "aadObjectId": self.aad_object_id}

    def member(self, tenant_id: str) -> JsonObject:
        """A ``TeamsChannelAccount`` as the roster routes return it."""
        given, _, surname = self.name.partition(" ")
        email = self.email or f"{self.aad_object_id}@example.invalid"
        return {
            "id": self.id,
            "name": self.name,
            "aadObjectId": self.aad_object_id,
            "givenName": given,
            "surname": surname,
            "email": email,
            "userPrincipalName": email,
            "tenantId": tenant_id,
            "userRole": "user",
        }


@dataclass(frozen=True, slots=True)
class Conversation:
    """A chat or channel. For a channel ``id`` is the channel id; posts in it get threads."""

    id: str
    type: ConversationType
    tenant_id: str
    name: str | None = None
    team_id: str | None = None
    team_name: str | None = None

    @property
    def is_group(self) -> bool:
        return self.type is not ConversationType.PERSONAL

    def thread(self, root_activity_id: str) -> str:
        """The conversation id of a channel thread whose root post is ``root_activity_id``."""
        return f"{self.id}{THREAD_MARKER}{root_activity_id}"


@dataclass(frozen=True, slots=True)
class Mention:
    id: str
    name: str
    text: str


# -- Connector side: what the bot did -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SentActivity:
    """One activity the bot posted, updated or deleted, as the channel accepted it."""

    seq: int
    operation: Operation
    method: str
    conversation_id: str
    activity_id: str
    reply_to_id: str | None
    body: JsonObject | None
    at: datetime

    @property
    def root_conversation_id(self) -> str:
        return root_conversation_id(self.conversation_id)

    @property
    def type(self) -> str | None:
        value = (self.body or {}).get("type")
        return value if isinstance(value, str) else None

    @property
    def text(self) -> str | None:
        value = (self.body or {}).get("text")
        return value if isinstance(value, str) else None

    @property
    def cards(self) -> list[JsonObject]:
        return cards_in(self)

    @property
    def card(self) -> JsonObject | None:
        found = cards_in(self)
        return found[0] if found else None

    @property
    def mentions(self) -> list[Mention]:
        return mentions(self)


@dataclass(frozen=True, slots=True)
class ConnectorCall:
    """Every request the connector side answered, including the ones it failed on purpose."""

    seq: int
    method: str
    path: str
    operation: Operation
    conversation_id: str | None
    status: int
    error_code: str | None
    authorization: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class UnexpectedRequest:
    """A request botbuilder should never make: a route Teams does not have, or a malformed body."""

    method: str
    path: str
    reason: str
    body: str
    at: datetime


@dataclass(slots=True)
class _FailureRule:
    conversation_id: str | None
    status: int
    headers: Mapping[str, str]
    code: str
    message: str
    remaining: int | None
    operations: frozenset[Operation]

    def matches(self, operation: Operation, conversation_id: str | None) -> bool:
        if operation not in self.operations:
            return False
        if self.conversation_id is None:
            return True
        return conversation_id is not None and self.conversation_id in (
            conversation_id,
            root_conversation_id(conversation_id),
        )


@dataclass(slots=True)
class _Message:
    conversation_id: str
    body: JsonObject
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class TurnResponse:
    """The bot's HTTP answer to one inbound activity, and what it sent while handling it.

    ``sent`` holds every activity recorded between the request and the response (in any
    conversation), so turns must not overlap for it to be exact.
    """

    status: int
    body: bytes
    inbound: JsonObject | None
    sent: tuple[SentActivity, ...]

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    @property
    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def card(self) -> JsonObject | None:
        """The Adaptive Card of an invoke response (``Action.Execute``), if it returned one."""
        found = _cards_in_invoke_body(self.json)
        return found[0] if found else None

    @property
    def invoke_status(self) -> int | None:
        """``statusCode`` of a Universal Action response body (distinct from the HTTP status)."""
        body = self.json
        value = body.get("statusCode") if isinstance(body, dict) else None
        return value if isinstance(value, int) else None

    @property
    def texts(self) -> list[str]:
        return texts(self.sent)

    @property
    def cards(self) -> list[JsonObject]:
        return [card for activity in self.sent for card in cards_in(activity)]

    def sent_to(self, conversation_id: str) -> list[SentActivity]:
        root = root_conversation_id(conversation_id)
        return [activity for activity in self.sent if activity.root_conversation_id == root]


# -- Queries on recorded activities ---------------------------------------------------------------


def _body_of(activity: SentActivity | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(activity, SentActivity):
        return activity.body or {}
    return activity


def cards_in(activity: SentActivity | Mapping[str, Any]) -> list[JsonObject]:
    """The Adaptive Card contents among an activity's attachments."""
    attachments = _body_of(activity).get("attachments")
    if not isinstance(attachments, list):
        return []
    return [
        attachment["content"]
        for attachment in attachments
        if isinstance(attachment, dict)
        and attachment.get("contentType") == ADAPTIVE_CARD
        and isinstance(attachment.get("content"), dict)
    ]


def _cards_in_invoke_body(body: Any) -> list[JsonObject]:
    """Cards in an invoke response: a Universal Action body or a task module's card attachment."""
    found: list[JsonObject] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if node.get("type") == ADAPTIVE_CARD and isinstance(node.get("value"), dict):
                found.append(node["value"])
            elif node.get("contentType") == ADAPTIVE_CARD and isinstance(node.get("content"), dict):
                found.append(node["content"])
            else:
                for value in node.values():
                    walk(value)

    walk(body)
    return found


def mentions(activity: SentActivity | Mapping[str, Any]) -> list[Mention]:
    """@mentions in an activity's entities and in the ``msteams.entities`` of its cards."""
    entities: list[Any] = []
    body = _body_of(activity)
    if isinstance(body.get("entities"), list):
        entities.extend(body["entities"])
    for card in cards_in(activity):
        msteams = card.get("msteams")
        if isinstance(msteams, dict) and isinstance(msteams.get("entities"), list):
            entities.extend(msteams["entities"])
    found: list[Mention] = []
    for entity in entities:
        if not isinstance(entity, dict) or entity.get("type") != "mention":
            continue
        mentioned = _object(entity.get("mentioned"))
        found.append(
            Mention(
                id=str(mentioned.get("id", "")),
                name=str(mentioned.get("name", "")),
                text=str(entity.get("text", "")),
            )
        )
    return found


def texts(activities: Iterable[SentActivity]) -> list[str]:
    """The ``text`` of each posted message that has one, in order."""
    return [
        activity.text for activity in activities if activity.operation in POSTS and activity.text is not None
    ]


def _object(value: Any) -> JsonObject:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _error_body(code: str, message: str) -> JsonObject:
    return {"error": {"code": code, "message": message}}


def _utc_now() -> datetime:
    return datetime.now(UTC)


# -- The channel ----------------------------------------------------------------------------------


class TeamsChannel:
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
        self.tenant_id = tenant_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.locale = locale
        self.timezone = timezone
        self._zone = ZoneInfo(timezone)
        self._token_factory = token_factory
        self._clock = clock
        self._host = host
        self._timeout = ClientTimeout(total=request_timeout)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.RLock()
        self._session: ClientSession | None = None
        self._service_url: str | None = None
        self._bot_url: str | None = None
        self._seq = itertools.count(1)
        self._last_seq = 0
        self._ids = itertools.count(1_732_000_000_001)
        self._records: list[SentActivity] = []
        self._messages: dict[str, _Message] = {}
        self._calls: list[ConnectorCall] = []
        self._unexpected: list[UnexpectedRequest] = []
        self._failures: list[_FailureRule] = []
        self._invoke_bodies: list[tuple[str, Any]] = []
        self._conversations: dict[str, Conversation] = {}
        self._personal_by_user: dict[str, str] = {}
        self._rosters: dict[str, dict[str, TeamsUser]] = {}
        self._teams: dict[str, str] = {}
        self._team_channels: dict[str, set[str]] = {}
        self._users: dict[str, TeamsUser] = {}
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self._latency: tuple[float, float] | None = None
        self._latency_operations: frozenset[Operation] = POSTS
        self._latency_random = random.Random()
        self._in_flight = 0

    # -- lifecycle -----------------------------------------------------------------------------

    def _connector_app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/v3/conversations", self._create_conversation)
        app.router.add_post("/v3/conversations/{cid}/activities", self._send)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._reply)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._update)
        app.router.add_delete("/v3/conversations/{cid}/activities/{aid}", self._delete)
        app.router.add_get("/v3/conversations/{cid}/members", self._get_members)
        app.router.add_get("/v3/conversations/{cid}/members/{mid}", self._get_member)
        app.router.add_get("/v3/conversations/{cid}/pagedmembers", self._get_paged_members)
        app.router.add_get("/v3/teams/{tid}", self._get_team)
        # Registered last, so it only sees what no route above accepts (including wrong methods).
        app.router.add_route("*", "/{tail:.*}", self._unexpected_route)
        return app

    def _serve(self, ready: concurrent.futures.Future[str]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        # A request whose caller hangs up is still handled to the end (``handler_cancellation``
        # off, aiohttp's default made explicit): Teams does not undo a post when the bot goes away.
        runner = web.AppRunner(self._connector_app(), access_log=None, handler_cancellation=False)
        try:
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, self._host, 0)
            loop.run_until_complete(site.start())
            host, port = runner.addresses[0][:2]
        except BaseException as error:
            loop.run_until_complete(runner.cleanup())
            loop.close()
            ready.set_exception(error)
            return
        self._loop = loop
        ready.set_result(f"http://{host}:{port}/")
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()

    async def start(self) -> None:
        if self._thread is not None:
            return
        ready: concurrent.futures.Future[str] = concurrent.futures.Future()
        thread = threading.Thread(
            target=self._serve, args=(ready,), name="loopback-teams-connector", daemon=True
        )
        thread.start()
        self._service_url = await asyncio.wrap_future(ready)
        self._thread = thread
        self._session = ClientSession(timeout=self._timeout)

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        thread, loop = self._thread, self._loop
        self._thread = self._loop = None
        if thread is not None and loop is not None:
            loop.call_soon_threadsafe(loop.stop)
            await asyncio.to_thread(thread.join, 10)

    async def __aenter__(self) -> TeamsChannel:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def service_url(self) -> str:
        """The ``serviceUrl`` of every inbound activity: this channel's connector, with a slash."""
        if self._service_url is None:
            raise RuntimeError("the Teams channel is not started: await channel.start()")
        return self._service_url

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

    # -- conversations and rosters -------------------------------------------------------------

    def personal(self, user: TeamsUser) -> Conversation:
        """The 1:1 chat between ``user`` and the bot (the same one each time)."""
        with self._lock:
            self._users[user.id] = user
            existing = self._personal_by_user.get(user.aad_object_id)
            if existing is not None:
                return self._conversations[existing]
            key = f"{self.tenant_id}/{user.aad_object_id}"
            conversation_id = f"a:1{uuid.uuid5(uuid.NAMESPACE_URL, key).hex}"
            conversation = Conversation(
                id=conversation_id, type=ConversationType.PERSONAL, tenant_id=self.tenant_id
            )
            self._conversations[conversation_id] = conversation
            self._personal_by_user[user.aad_object_id] = conversation_id
            self._rosters[conversation_id] = {user.id: user}
            return conversation

    def group_chat(self, *members: TeamsUser, name: str | None = None) -> Conversation:
        conversation_id = f"19:{uuid.uuid4().hex}@thread.v2"
        conversation = Conversation(
            id=conversation_id, type=ConversationType.GROUP_CHAT, tenant_id=self.tenant_id, name=name
        )
        with self._lock:
            self._conversations[conversation_id] = conversation
            self._rosters[conversation_id] = {}
            self.add_members(conversation, *members)
        return conversation

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
        conversation = Conversation(
            id=channel_id,
            type=ConversationType.CHANNEL,
            tenant_id=self.tenant_id,
            name=name,
            team_id=team_id,
            team_name=team_name,
        )
        with self._lock:
            self._conversations[channel_id] = conversation
            self._teams[team_id] = team_name
            self._team_channels.setdefault(team_id, set()).add(channel_id)
            self._rosters.setdefault(team_id, {})
            self.add_members(conversation, *members)
        return conversation

    def add_members(self, conversation: Conversation | str, *users: TeamsUser) -> None:
        """Add people to a chat's roster, or to a team's when given a channel or team id."""
        with self._lock:
            roster = self._rosters.setdefault(self._roster_key(conversation), {})
            for user in users:
                self._users[user.id] = user
                roster[user.id] = user

    def members_of(self, conversation: Conversation | str) -> list[TeamsUser]:
        with self._lock:
            return list(self._rosters.get(self._roster_key(conversation), {}).values())

    def _roster_key(self, conversation: Conversation | str) -> str:
        conversation_id = conversation.id if isinstance(conversation, Conversation) else conversation
        root = root_conversation_id(conversation_id)
        known = self._conversations.get(root)
        if known is not None and known.team_id is not None:
            return known.team_id
        return root

    # -- Teams side: inbound activities --------------------------------------------------------

    def new_activity_id(self) -> str:
        return str(next(self._ids))

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

    # -- queries -------------------------------------------------------------------------------

    @property
    def activities(self) -> tuple[SentActivity, ...]:
        """Everything the bot posted, updated or deleted, in order."""
        with self._lock:
            return tuple(self._records)

    @property
    def calls(self) -> tuple[ConnectorCall, ...]:
        """Every connector request answered, in order, with its status."""
        with self._lock:
            return tuple(self._calls)

    @property
    def failed_calls(self) -> tuple[ConnectorCall, ...]:
        return tuple(call for call in self.calls if call.status >= 400)

    @property
    def unexpected(self) -> tuple[UnexpectedRequest, ...]:
        with self._lock:
            return tuple(self._unexpected)

    def _in(self, conversation: Conversation | str | None) -> Callable[[SentActivity], bool]:
        if conversation is None:
            return lambda record: True
        root = root_conversation_id(
            conversation.id if isinstance(conversation, Conversation) else conversation
        )
        return lambda record: record.root_conversation_id == root

    def sent_to(self, conversation: Conversation | str | None = None) -> list[SentActivity]:
        """Activities the bot posted to a conversation (a channel includes all its threads)."""
        wanted = self._in(conversation)
        return [record for record in self.activities if record.operation in POSTS and wanted(record)]

    def updates_to(self, conversation: Conversation | str | None = None) -> list[SentActivity]:
        wanted = self._in(conversation)
        return [
            record for record in self.activities if record.operation is Operation.UPDATE and wanted(record)
        ]

    def deletes_in(self, conversation: Conversation | str | None = None) -> list[SentActivity]:
        wanted = self._in(conversation)
        return [
            record for record in self.activities if record.operation is Operation.DELETE and wanted(record)
        ]

    def texts(self, conversation: Conversation | str | None = None) -> list[str]:
        return texts(self.sent_to(conversation))

    def cards(self, conversation: Conversation | str | None = None) -> list[JsonObject]:
        """Cards posted or updated in a conversation, in order."""
        wanted = self._in(conversation)
        return [
            card
            for record in self.activities
            if record.operation is not Operation.DELETE and wanted(record)
            for card in record.cards
        ]

    def last_card(self, conversation: Conversation | str | None = None) -> JsonObject:
        """The last card posted or updated in a conversation; fails the test if there is none."""
        found = self.cards(conversation)
        if not found:
            where = conversation.id if isinstance(conversation, Conversation) else conversation
            raise AssertionError(f"the bot sent no Adaptive Card to {where or 'any conversation'}")
        return found[-1]

    def message(self, activity_id: str) -> JsonObject | None:
        """An activity as the conversation shows it now (after updates); None if deleted or unknown."""
        with self._lock:
            message = self._messages.get(activity_id)
            return None if message is None or message.deleted else dict(message.body)

    async def wait_for_activities(
        self, count: int, conversation: Conversation | str | None = None, *, within: float = 5.0
    ) -> list[SentActivity]:
        """Wait until ``count`` activities were posted (to ``conversation``), for sends made outside
        a turn (scheduler jobs, background tasks). Fails after ``within`` seconds."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(within):
                while True:
                    event = asyncio.Event()
                    waiter = (loop, event)
                    with self._lock:
                        found = self.sent_to(conversation)
                        if len(found) >= count:
                            return found
                        self._waiters.append(waiter)
                    try:
                        await event.wait()
                    finally:
                        with self._lock:
                            self._waiters.remove(waiter)
        except TimeoutError:
            posted = len(self.sent_to(conversation))
            raise AssertionError(
                f"expected {count} activities within {within}s, the bot posted {posted}"
            ) from None

    # -- programmed failures -------------------------------------------------------------------

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
        """Answer the next ``times`` calls (None: every call) for a conversation (None: any) with
        ``status`` and a Bot Framework error body ``{"error": {"code", "message"}}``. A channel id
        also matches its threads; ``operations`` defaults to posts, updates and deletes."""
        rule = _FailureRule(
            conversation_id=conversation_id,
            status=status,
            headers=dict(headers or {}),
            code=code or DEFAULT_ERROR_CODES.get(status, "Error"),
            message=message or f"the loopback channel was told to answer {status}",
            remaining=times,
            operations=frozenset(operations),
        )
        with self._lock:
            self._failures.append(rule)

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()

    def slow_down(
        self,
        seconds: float | tuple[float, float] | None,
        *,
        operations: Collection[Operation] = POSTS,
        seed: int | None = None,
    ) -> None:
        """Answer each later call of ``operations`` (posts, updates, deletes) only after ``seconds``,
        or a uniform random time between the two bounds of a pair (``seed`` makes it repeatable),
        as a busy Teams does; None answers at once again. The wait comes before the call is
        handled, and a call whose caller hangs up meanwhile is still handled and recorded."""
        wanted = frozenset(operations)
        if not wanted <= WRITES:
            raise ValueError("only posts, updates and deletes can be slowed down")
        bounds = None if seconds is None else seconds if isinstance(seconds, tuple) else (seconds, seconds)
        if bounds is not None and not 0 <= bounds[0] <= bounds[1]:
            raise ValueError(f"a latency is 0 or more seconds, low before high; got {seconds}")
        with self._lock:
            self._latency, self._latency_operations = bounds, wanted
            if seed is not None:
                self._latency_random.seed(seed)

    @property
    def in_flight(self) -> int:
        """Connector calls received and not yet answered (waiting out ``slow_down`` or handled)."""
        with self._lock:
            return self._in_flight

    @contextlib.asynccontextmanager
    async def _answering(self, operation: Operation) -> AsyncIterator[None]:
        with self._lock:
            self._in_flight += 1
            bounds = self._latency if operation in self._latency_operations else None
            delay = 0.0 if bounds is None else self._latency_random.uniform(*bounds)
        try:
            if delay > 0:
                await asyncio.sleep(delay)
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def _programmed_failure(self, operation: Operation, conversation_id: str | None) -> _FailureRule | None:
        for rule in self._failures:
            if rule.matches(operation, conversation_id):
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._failures.remove(rule)
                return rule
        return None

    # -- verification --------------------------------------------------------------------------

    def acknowledge_unexpected(self) -> list[UnexpectedRequest]:
        """Take the unexpected requests recorded so far (for a test that provokes one on purpose)."""
        with self._lock:
            taken, self._unexpected = self._unexpected, []
        return taken

    def assert_no_unexpected_requests(self) -> None:
        unexpected = self.unexpected
        if unexpected:
            lines = [f"{item.method} {item.path}: {item.reason}" for item in unexpected]
            raise AssertionError("the bot made requests Teams does not support:\n  " + "\n  ".join(lines))

    def recorded_cards(self) -> list[tuple[str, JsonObject]]:
        """Every card the bot sent or updated, and every card in an invoke response, labelled."""
        with self._lock:
            records, invoke_bodies = list(self._records), list(self._invoke_bodies)
        found: list[tuple[str, JsonObject]] = []
        for record in records:
            for index, card in enumerate(record.cards):
                label = (
                    f"{record.operation.value} {record.activity_id} in {record.conversation_id} card {index}"
                )
                found.append((label, card))
        for label, body in invoke_bodies:
            found.extend((label, card) for card in _cards_in_invoke_body(body))
        return found

    def card_problems(self, validator: CardValidator) -> list[str]:
        problems: list[str] = []
        for label, card in self.recorded_cards():
            problems.extend(f"{label}: {problem}" for problem in validator.validate(card))
        return problems

    def verify(self, validator: CardValidator) -> None:
        """Fail on unexpected requests and on any recorded card Microsoft's SDK rejects."""
        problems = [
            f"unexpected request {item.method} {item.path}: {item.reason}" for item in self.unexpected
        ]
        problems.extend(self.card_problems(validator))
        if problems:
            raise AssertionError("the loopback Teams channel found problems:\n  " + "\n  ".join(problems))

    # -- connector side: the routes (they run on the connector's thread) ---------------------------
    #
    # Each route reads its body, then does all its work synchronously under the lock, so the
    # records the test thread reads are always consistent.

    def _now(self) -> datetime:
        return self._clock()

    def _next_seq(self) -> int:
        self._last_seq = next(self._seq)
        return self._last_seq

    def _log_call(
        self,
        request: web.Request,
        operation: Operation,
        conversation_id: str | None,
        status: int,
        error_code: str | None = None,
    ) -> None:
        self._calls.append(
            ConnectorCall(
                seq=self._next_seq(),
                method=request.method,
                path=request.path,
                operation=operation,
                conversation_id=conversation_id,
                status=status,
                error_code=error_code,
                authorization=request.headers.get("Authorization"),
                at=self._now(),
            )
        )

    def _fail(
        self, request: web.Request, operation: Operation, conversation_id: str | None
    ) -> web.Response | None:
        rule = self._programmed_failure(operation, conversation_id)
        if rule is None:
            return None
        self._log_call(request, operation, conversation_id, rule.status, rule.code)
        return web.json_response(
            _error_body(rule.code, rule.message), status=rule.status, headers=rule.headers
        )

    def _error(
        self,
        request: web.Request,
        operation: Operation,
        conversation_id: str | None,
        status: int,
        code: str,
        text: str,
    ) -> web.Response:
        self._log_call(request, operation, conversation_id, status, code)
        return web.json_response(_error_body(code, text), status=status)

    def _record_unexpected(self, request: web.Request, reason: str, raw: bytes) -> None:
        self._unexpected.append(
            UnexpectedRequest(
                method=request.method,
                path=request.path_qs,
                reason=reason,
                body=raw[:2000].decode(errors="replace"),
                at=self._now(),
            )
        )

    def _parse_activity(
        self, request: web.Request, raw: bytes, operation: Operation, conversation_id: str
    ) -> JsonObject | web.Response:
        """The activity in a request body, or the 400 answer (and an unexpected-request record)."""
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        reason = None
        if not isinstance(body, dict):
            reason = "the body is not a JSON object"
        elif not isinstance(body.get("type"), str):
            reason = "the activity has no type"
        if reason is not None or not isinstance(body, dict):
            self._record_unexpected(request, reason or "the body is not an activity", raw)
            return self._error(
                request, operation, conversation_id, 400, "BadSyntax", "the body is not an activity"
            )
        return body

    def _record(
        self,
        operation: Operation,
        method: str,
        conversation_id: str,
        activity_id: str,
        reply_to_id: str | None,
        body: JsonObject | None,
    ) -> SentActivity:
        record = SentActivity(
            seq=self._next_seq(),
            operation=operation,
            method=method,
            conversation_id=conversation_id,
            activity_id=activity_id,
            reply_to_id=reply_to_id,
            body=body,
            at=self._now(),
        )
        self._records.append(record)
        for loop, event in self._waiters:
            loop.call_soon_threadsafe(event.set)
        if operation is Operation.DELETE:
            self._messages[activity_id].deleted = True
        elif body is not None:
            stored = dict(body)
            stored["id"] = activity_id
            self._messages[activity_id] = _Message(conversation_id=conversation_id, body=stored)
        return record

    def _known_activity(self, conversation_id: str, activity_id: str) -> bool:
        message = self._messages.get(activity_id)
        return (
            message is not None
            and not message.deleted
            and root_conversation_id(message.conversation_id) == root_conversation_id(conversation_id)
        )

    def _personal_target(self, member: JsonObject) -> str:
        user = self._users.get(str(member.get("id"))) or next(
            (known for known in self._users.values() if known.aad_object_id == member.get("aadObjectId")),
            None,
        )
        if user is None:
            user = TeamsUser(
                aad_object_id=str(member.get("aadObjectId") or member.get("id")),
                name=str(member.get("name") or ""),
                id=str(member.get("id") or ""),
            )
        return self.personal(user).id

    async def _create_conversation(self, request: web.Request) -> web.Response:
        raw = await request.read()
        async with self._answering(Operation.CREATE_CONVERSATION):
            with self._lock:
                return self._handle_create_conversation(request, raw)

    def _handle_create_conversation(self, request: web.Request, raw: bytes) -> web.Response:
        operation = Operation.CREATE_CONVERSATION
        try:
            parameters = json.loads(raw)
        except ValueError:
            parameters = None
        if not isinstance(parameters, dict):
            self._record_unexpected(request, "the body is not ConversationParameters", raw)
            return self._error(
                request, operation, None, 400, "BadSyntax", "the body is not ConversationParameters"
            )
        activity = parameters.get("activity")
        channel = _object(_object(parameters.get("channelData")).get("channel"))
        raw_members = parameters.get("members")
        members: list[Any] = raw_members if isinstance(raw_members, list) else []
        activity_id = self.new_activity_id()
        if isinstance(channel.get("id"), str):
            # A new post in a channel: Teams answers with the new thread's conversation id.
            target = f"{root_conversation_id(channel['id'])}{THREAD_MARKER}{activity_id}"
        elif len(members) == 1 and isinstance(members[0], dict) and not parameters.get("isGroup"):
            target = self._personal_target(members[0])
        else:
            return self._error(
                request,
                operation,
                None,
                400,
                "BadArgument",
                "bots can only create 1:1 chats and channel posts",
            )
        failure = self._fail(request, operation, target)
        if failure is not None:
            return failure
        answer: JsonObject = {"id": target, "serviceUrl": self.service_url}
        if isinstance(activity, dict):
            self._record(operation, request.method, target, activity_id, None, activity)
            answer["activityId"] = activity_id
        self._log_call(request, operation, target, 201)
        return web.json_response(answer, status=201)

    async def _send(self, request: web.Request) -> web.Response:
        raw = await request.read()
        async with self._answering(Operation.SEND):
            with self._lock:
                return self._handle_post(request, raw, Operation.SEND, None)

    async def _reply(self, request: web.Request) -> web.Response:
        # Also the proactive route: botbuilder's continuation activity has a random id that
        # becomes the replyToId of what the bot sends.
        raw = await request.read()
        async with self._answering(Operation.REPLY):
            with self._lock:
                return self._handle_post(request, raw, Operation.REPLY, request.match_info["aid"])

    def _handle_post(
        self, request: web.Request, raw: bytes, operation: Operation, reply_to_id: str | None
    ) -> web.Response:
        conversation_id = request.match_info["cid"]
        body = self._parse_activity(request, raw, operation, conversation_id)
        if isinstance(body, web.Response):
            return body
        failure = self._fail(request, operation, conversation_id)
        if failure is not None:
            return failure
        activity_id = self.new_activity_id()
        self._record(operation, request.method, conversation_id, activity_id, reply_to_id, body)
        self._log_call(request, operation, conversation_id, 201)
        return web.json_response({"id": activity_id}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        raw = await request.read()
        async with self._answering(Operation.UPDATE):
            with self._lock:
                return self._handle_update(request, raw)

    def _handle_update(self, request: web.Request, raw: bytes) -> web.Response:
        operation = Operation.UPDATE
        conversation_id, activity_id = request.match_info["cid"], request.match_info["aid"]
        body = self._parse_activity(request, raw, operation, conversation_id)
        if isinstance(body, web.Response):
            return body
        failure = self._fail(request, operation, conversation_id)
        if failure is not None:
            return failure
        if not self._known_activity(conversation_id, activity_id):
            return self._error(
                request,
                operation,
                conversation_id,
                404,
                "ActivityNotFound",
                "no such activity in the conversation",
            )
        self._record(operation, request.method, conversation_id, activity_id, None, body)
        self._log_call(request, operation, conversation_id, 200)
        return web.json_response({"id": activity_id}, status=200)

    async def _delete(self, request: web.Request) -> web.Response:
        await request.read()
        async with self._answering(Operation.DELETE):
            with self._lock:
                return self._handle_delete(request)

    def _handle_delete(self, request: web.Request) -> web.Response:
        operation = Operation.DELETE
        conversation_id, activity_id = request.match_info["cid"], request.match_info["aid"]
        failure = self._fail(request, operation, conversation_id)
        if failure is not None:
            return failure
        if not self._known_activity(conversation_id, activity_id):
            return self._error(
                request,
                operation,
                conversation_id,
                404,
                "ActivityNotFound",
                "no such activity in the conversation",
            )
        self._record(operation, request.method, conversation_id, activity_id, None, None)
        self._log_call(request, operation, conversation_id, 200)
        return web.Response(status=200)

    def _roster_or_error(
        self, request: web.Request, operation: Operation, conversation_id: str
    ) -> list[TeamsUser] | web.Response:
        failure = self._fail(request, operation, conversation_id)
        if failure is not None:
            return failure
        key = self._roster_key(conversation_id)
        if key not in self._rosters:
            return self._error(
                request, operation, conversation_id, 404, "ConversationNotFound", "unknown conversation"
            )
        return list(self._rosters[key].values())

    async def _get_members(self, request: web.Request) -> web.Response:
        operation, conversation_id = Operation.GET_MEMBERS, request.match_info["cid"]
        with self._lock:
            roster = self._roster_or_error(request, operation, conversation_id)
            if isinstance(roster, web.Response):
                return roster
            self._log_call(request, operation, conversation_id, 200)
            return web.json_response([user.member(self.tenant_id) for user in roster])

    async def _get_member(self, request: web.Request) -> web.Response:
        operation, conversation_id = Operation.GET_MEMBER, request.match_info["cid"]
        member_id = request.match_info["mid"]
        with self._lock:
            roster = self._roster_or_error(request, operation, conversation_id)
            if isinstance(roster, web.Response):
                return roster
            for user in roster:
                if member_id in (user.id, user.aad_object_id):
                    self._log_call(request, operation, conversation_id, 200)
                    return web.json_response(user.member(self.tenant_id))
            return self._error(
                request, operation, conversation_id, 404, "MemberNotFoundInConversation", "not in the roster"
            )

    async def _get_paged_members(self, request: web.Request) -> web.Response:
        operation, conversation_id = Operation.GET_PAGED_MEMBERS, request.match_info["cid"]
        with self._lock:
            roster = self._roster_or_error(request, operation, conversation_id)
            if isinstance(roster, web.Response):
                return roster
            try:
                size = max(1, min(500, int(request.query.get("pageSize", "200"))))
                start = int(request.query.get("continuationToken", "0"))
            except ValueError:
                return self._error(
                    request, operation, conversation_id, 400, "BadArgument", "bad paging parameters"
                )
            following = start + size
            self._log_call(request, operation, conversation_id, 200)
            return web.json_response(
                {
                    "continuationToken": str(following) if following < len(roster) else None,
                    "members": [user.member(self.tenant_id) for user in roster[start:following]],
                }
            )

    async def _get_team(self, request: web.Request) -> web.Response:
        operation, team_id = Operation.GET_TEAM, request.match_info["tid"]
        with self._lock:
            failure = self._fail(request, operation, team_id)
            if failure is not None:
                return failure
            if team_id not in self._teams:
                return self._error(request, operation, team_id, 404, "NotFound", "unknown team")
            self._log_call(request, operation, team_id, 200)
            return web.json_response(
                {
                    "id": team_id,
                    "name": self._teams[team_id],
                    "aadGroupId": str(uuid.uuid5(uuid.NAMESPACE_URL, team_id)),
                    "channelCount": len(self._team_channels.get(team_id, ())),
                    "memberCount": len(self._rosters.get(team_id, {})),
                    "type": "standard",
                }
            )

    async def _unexpected_route(self, request: web.Request) -> web.Response:
        raw = await request.read()
        with self._lock:
            self._record_unexpected(request, "no such Bot Framework connector route", raw)
        return web.json_response(
            _error_body(
                "UnexpectedRoute", f"the loopback Teams channel has no route {request.method} {request.path}"
            ),
            status=404,
        )
