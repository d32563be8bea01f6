"""What the loopback Teams channel saw: every activity the bot posted, updated or deleted, every
connector call it answered (with its status), every request Teams would not have accepted, and
the bodies of the bot's invoke responses; and the queries tests ask of them.

``Recordings`` is written by the connector (on its own thread, under ``lock``) and read by the
test; ``tests.harness.client.TeamsChannel`` is a ``Recordings``, so a test asks the channel itself
(``teams_channel.sent_to(chat)``, ``teams_channel.last_card()``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from aiohttp import web

from tests.harness.cards import CardValidator
from tests.harness.conversations import Conversation, JsonObject, root_conversation_id
from tests.harness.rendering import CardRenderer

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


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


@dataclass(frozen=True, slots=True)
class Mention:
    id: str
    name: str
    text: str


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
        mentioned = json_object(entity.get("mentioned"))
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


def json_object(value: Any) -> JsonObject:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


class Recordings:
    """The channel's records, guarded by ``lock`` (the connector writes them from its own thread)."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._seq = itertools.count(1)
        self._last_seq = 0
        self._records: list[SentActivity] = []
        self._messages: dict[str, _Message] = {}
        self._calls: list[ConnectorCall] = []
        self._unexpected: list[UnexpectedRequest] = []
        self._invoke_bodies: list[tuple[str, Any]] = []
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    @property
    def lock(self) -> threading.RLock:
        return self._lock

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

    def card_problems(self, validator: CardValidator, renderer: CardRenderer | None = None) -> list[str]:
        """What Microsoft's SDK finds wrong with the recorded cards, and, given a ``renderer``, what
        rendering them as Teams does shows wrong (all the cards in one batch)."""
        recorded = self.recorded_cards()
        problems: list[str] = []
        for label, card in recorded:
            problems.extend(f"{label}: {problem}" for problem in validator.validate(card))
        if renderer is not None and recorded:
            rendered = renderer.render_problems([card for _, card in recorded])
            for (label, _), found in zip(recorded, rendered, strict=True):
                problems.extend(f"{label}: {problem}" for problem in found)
        return problems

    def verify(self, validator: CardValidator, renderer: CardRenderer | None = None) -> None:
        """Fail on unexpected requests, on any recorded card Microsoft's SDK rejects and, given a
        ``renderer``, on any that does not render whole within a Teams card's width."""
        problems = [
            f"unexpected request {item.method} {item.path}: {item.reason}" for item in self.unexpected
        ]
        problems.extend(self.card_problems(validator, renderer))
        if problems:
            raise AssertionError("the loopback Teams channel found problems:\n  " + "\n  ".join(problems))

    # -- recording (the connector calls these holding ``lock``) -------------------------------

    def next_seq(self) -> int:
        self._last_seq = next(self._seq)
        return self._last_seq

    def log_call(
        self,
        request: web.Request,
        operation: Operation,
        conversation_id: str | None,
        status: int,
        error_code: str | None = None,
    ) -> None:
        self._calls.append(
            ConnectorCall(
                seq=self.next_seq(),
                method=request.method,
                path=request.path,
                operation=operation,
                conversation_id=conversation_id,
                status=status,
                error_code=error_code,
                authorization=request.headers.get("Authorization"),
                at=self._clock(),
            )
        )

    def record_unexpected(self, request: web.Request, reason: str, raw: bytes) -> None:
        self._unexpected.append(
            UnexpectedRequest(
                method=request.method,
                path=request.path_qs,
                reason=reason,
                body=raw[:2000].decode(errors="replace"),
                at=self._clock(),
            )
        )

    def record(
        self,
        operation: Operation,
        method: str,
        conversation_id: str,
        activity_id: str,
        reply_to_id: str | None,
        body: JsonObject | None,
    ) -> SentActivity:
        record = SentActivity(
            seq=self.next_seq(),
            operation=operation,
            method=method,
            conversation_id=conversation_id,
            activity_id=activity_id,
            reply_to_id=reply_to_id,
            body=body,
            at=self._clock(),
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

    def known_activity(self, conversation_id: str, activity_id: str) -> bool:
        message = self._messages.get(activity_id)
        return (
            message is not None
            and not message.deleted
            and root_conversation_id(message.conversation_id) == root_conversation_id(conversation_id)
        )
