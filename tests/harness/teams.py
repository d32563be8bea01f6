"""A loopback Microsoft Teams channel: the tests' main client of the bot.

This module gathers the names tests use; the channel lives in ``tests.harness.client`` (the Teams
client), ``tests.harness.connector`` (the Bot Framework connector the bot calls back),
``tests.harness.recordings`` (what the bot sent, and the queries on it) and
``tests.harness.conversations`` (people and conversations).

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

from tests.harness.client import (
    CHANNEL_ID,
    DEFAULT_BOT_ID,
    DEFAULT_BOT_NAME,
    DEFAULT_TENANT_ID,
    TeamsChannel,
)
from tests.harness.connector import DEFAULT_ERROR_CODES, LoopbackConnector
from tests.harness.conversations import (
    THREAD_MARKER,
    Conversation,
    ConversationType,
    JsonObject,
    TeamsUser,
    root_conversation_id,
)
from tests.harness.recordings import (
    ADAPTIVE_CARD,
    ALL_OPERATIONS,
    POSTS,
    WRITES,
    ConnectorCall,
    Mention,
    Operation,
    Recordings,
    SentActivity,
    TurnResponse,
    UnexpectedRequest,
    cards_in,
    mentions,
    texts,
)

__all__ = [
    "ADAPTIVE_CARD",
    "ALL_OPERATIONS",
    "CHANNEL_ID",
    "DEFAULT_BOT_ID",
    "DEFAULT_BOT_NAME",
    "DEFAULT_ERROR_CODES",
    "DEFAULT_TENANT_ID",
    "POSTS",
    "THREAD_MARKER",
    "WRITES",
    "ConnectorCall",
    "Conversation",
    "ConversationType",
    "JsonObject",
    "LoopbackConnector",
    "Mention",
    "Operation",
    "Recordings",
    "SentActivity",
    "TeamsChannel",
    "TeamsUser",
    "TurnResponse",
    "UnexpectedRequest",
    "cards_in",
    "mentions",
    "root_conversation_id",
    "texts",
]
