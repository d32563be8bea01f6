"""The Bot Framework connector side of the loopback Teams channel, and the Teams it serves.

It answers, on 127.0.0.1, the routes botbuilder calls back at the activity's ``serviceUrl``:
creating a conversation, sending, replying, updating and deleting activities, reading rosters and
team details. It records what the bot did in a ``Recordings`` and can be told to fail the next
calls for a conversation (429, 403, 404 …) with a Bot Framework error body, or to answer slowly
(``slow_down``: a fixed or random latency a call, for crash tests). Any other route is recorded as
unexpected and fails the test when the channel is verified.

It also holds what Teams knows: the people, chats, channels, teams and their rosters
(``TeamsUser``, ``Conversation``), which the client's activities come from.

The connector runs on its own thread and event loop: parts of botbuilder call it synchronously
(``TeamsInfo.get_team_details`` uses ``requests``), which would block the test's event loop and
deadlock a connector living on that loop. Its state is therefore guarded by the recordings' lock.
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
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.harness.conversations import (
    THREAD_MARKER,
    Conversation,
    ConversationType,
    JsonObject,
    TeamsUser,
    root_conversation_id,
)
from tests.harness.recordings import POSTS, WRITES, Operation, Recordings, json_object

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


def _error_body(code: str, message: str) -> JsonObject:
    return {"error": {"code": code, "message": message}}


class LoopbackConnector:
    """The connector of one loopback channel: ``await start()``, then give botbuilder ``service_url``."""

    def __init__(self, recordings: Recordings, *, tenant_id: str, host: str = "127.0.0.1") -> None:
        self.tenant_id = tenant_id
        self._recordings = recordings
        self._lock = recordings.lock
        self._host = host
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._service_url: str | None = None
        self._ids = itertools.count(1_732_000_000_001)
        self._failures: list[_FailureRule] = []
        self._conversations: dict[str, Conversation] = {}
        self._personal_by_user: dict[str, str] = {}
        self._rosters: dict[str, dict[str, TeamsUser]] = {}
        self._teams: dict[str, str] = {}
        self._team_channels: dict[str, set[str]] = {}
        self._users: dict[str, TeamsUser] = {}
        self._latency: tuple[float, float] | None = None
        self._latency_operations: frozenset[Operation] = POSTS
        self._latency_random = random.Random()
        self._in_flight = 0
        self._split_text_and_cards = False

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

    async def stop(self) -> None:
        thread, loop = self._thread, self._loop
        self._thread = self._loop = None
        if thread is not None and loop is not None:
            loop.call_soon_threadsafe(loop.stop)
            await asyncio.to_thread(thread.join, 10)

    @property
    def service_url(self) -> str:
        """The ``serviceUrl`` of every inbound activity: this channel's connector, with a slash."""
        if self._service_url is None:
            raise RuntimeError("the Teams channel is not started: await channel.start()")
        return self._service_url

    def new_activity_id(self) -> str:
        return str(next(self._ids))

    # -- people, conversations and rosters -----------------------------------------------------

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

    # -- programmed failures and latency -------------------------------------------------------

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

    def split_text_and_cards(self, split: bool = True) -> None:
        """From now on, answer a post holding both text and cards as Microsoft 365 Agents
        Playground (0.2.28) does: it shows the text and each card as messages of their own and
        answers 202 with no body, so the sender never learns a message id."""
        with self._lock:
            self._split_text_and_cards = split

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

    # -- the routes (they run on the connector's thread) -----------------------------------------
    #
    # Each route reads its body, then does all its work synchronously under the lock, so the
    # records the test thread reads are always consistent.

    def _fail(
        self, request: web.Request, operation: Operation, conversation_id: str | None
    ) -> web.Response | None:
        rule = self._programmed_failure(operation, conversation_id)
        if rule is None:
            return None
        self._recordings.log_call(request, operation, conversation_id, rule.status, rule.code)
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
        self._recordings.log_call(request, operation, conversation_id, status, code)
        return web.json_response(_error_body(code, text), status=status)

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
            self._recordings.record_unexpected(request, reason or "the body is not an activity", raw)
            return self._error(
                request, operation, conversation_id, 400, "BadSyntax", "the body is not an activity"
            )
        return body

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
            self._recordings.record_unexpected(request, "the body is not ConversationParameters", raw)
            return self._error(
                request, operation, None, 400, "BadSyntax", "the body is not ConversationParameters"
            )
        activity = parameters.get("activity")
        channel = json_object(json_object(parameters.get("channelData")).get("channel"))
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
            self._recordings.record(operation, request.method, target, activity_id, None, activity)
            answer["activityId"] = activity_id
        self._recordings.log_call(request, operation, target, 201)
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
        if self._split_text_and_cards and body.get("text") and body.get("attachments"):
            attachments = body["attachments"]
            parts = [{**body, "attachments": []}]
            if isinstance(attachments, list):
                card_part = {key: value for key, value in body.items() if key != "text"}
                parts += [{**card_part, "attachments": [one]} for one in attachments]
            for part in parts:
                self._recordings.record(
                    operation, request.method, conversation_id, self.new_activity_id(), reply_to_id, part
                )
            self._recordings.log_call(request, operation, conversation_id, 202)
            return web.Response(status=202)
        activity_id = self.new_activity_id()
        self._recordings.record(operation, request.method, conversation_id, activity_id, reply_to_id, body)
        self._recordings.log_call(request, operation, conversation_id, 201)
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
        if not self._recordings.known_activity(conversation_id, activity_id):
            return self._error(
                request,
                operation,
                conversation_id,
                404,
                "ActivityNotFound",
                "no such activity in the conversation",
            )
        self._recordings.record(operation, request.method, conversation_id, activity_id, None, body)
        self._recordings.log_call(request, operation, conversation_id, 200)
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
        if not self._recordings.known_activity(conversation_id, activity_id):
            return self._error(
                request,
                operation,
                conversation_id,
                404,
                "ActivityNotFound",
                "no such activity in the conversation",
            )
        self._recordings.record(operation, request.method, conversation_id, activity_id, None, None)
        self._recordings.log_call(request, operation, conversation_id, 200)
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
            self._recordings.log_call(request, operation, conversation_id, 200)
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
                    self._recordings.log_call(request, operation, conversation_id, 200)
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
            self._recordings.log_call(request, operation, conversation_id, 200)
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
            self._recordings.log_call(request, operation, team_id, 200)
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
            self._recordings.record_unexpected(request, "no such Bot Framework connector route", raw)
        return web.json_response(
            _error_body(
                "UnexpectedRoute", f"the loopback Teams channel has no route {request.method} {request.path}"
            ),
            status=404,
        )
