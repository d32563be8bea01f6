"""Malformed, oversized and incomplete bodies get a 4xx with a short reason, never a 500, and
nothing saved is lost."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from tests.bot.conftest import StartBot
from tests.harness.teams import TeamsChannel, TeamsUser

USER = TeamsUser("aad-user-0100", "Testy McTestface")

JSON = {"Content-Type": "application/json"}


def _valid(channel: TeamsChannel) -> dict[str, Any]:
    return channel.activity(channel.personal(USER), USER, "message", text="help")


def _drop(body: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    copy = json.loads(json.dumps(body))
    node = copy
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return copy


def _set(body: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(body))
    node = copy
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return copy


def bad_bodies(channel: TeamsChannel) -> Iterator[tuple[bytes, dict[str, str], set[int]]]:
    """(body, headers, acceptable statuses) for several hundred bad requests."""
    valid = _valid(channel)
    four_hundred = {400}
    # Not JSON at all.
    for raw in [b"", b"{", b"}", b"nul", b"{'type': 'message'}", b"\xff\xfe\x00", b"[1, 2", b'{"a": }']:
        yield raw, JSON, four_hundred
    rng = random.Random(20261123)
    for _ in range(200):
        yield bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))), JSON, four_hundred
    # JSON, but not an activity.
    for value in [None, 1, 2.5, "message", [], [valid], True, {}, {"type": ""}, {"type": 7}]:
        yield json.dumps(value).encode(), JSON, four_hundred
    # Deeply nested JSON.
    yield b"[" * 100_000 + b"]" * 100_000, JSON, {400, 413}
    # A required field missing, or of the wrong type.
    required = [
        ("type",),
        ("channelId",),
        ("serviceUrl",),
        ("conversation", "id"),
        ("from", "id"),
        ("conversation",),
    ]
    for path in required:
        yield json.dumps(_drop(valid, path)).encode(), JSON, four_hundred
        for wrong in [None, 0, 1.5, True, [], {}, "", "   "]:
            yield json.dumps(_set(valid, path, wrong)).encode(), JSON, four_hundred
    for name in ["text", "id", "name", "replyToId", "locale"]:
        for wrong in [0, 1.5, True, [], {"a": 1}]:
            yield json.dumps(_set(valid, (name,), wrong)).encode(), JSON, four_hundred
    for name in ["channelData", "recipient"]:
        for wrong in [0, "x", [], True]:
            yield json.dumps(_set(valid, (name,), wrong)).encode(), JSON, four_hundred
    for name in ["entities", "attachments", "membersAdded", "membersRemoved"]:
        for wrong in [0, "x", {"a": 1}, True]:
            yield json.dumps(_set(valid, (name,), wrong)).encode(), JSON, four_hundred
    for url in ["ftp://x", "javascript:alert(1)", "not a url", "//x"]:
        yield json.dumps(_set(valid, ("serviceUrl",), url)).encode(), JSON, four_hundred
    # Oversized.
    huge = _set(valid, ("text",), "x" * (300 * 1024))
    yield json.dumps(huge).encode(), JSON, {413}
    yield b" " * (257 * 1024), JSON, {413}
    # Wrong content type.
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""]:
        yield json.dumps(valid).encode(), {"Content-Type": content_type}, {415}


async def test_several_hundred_bad_bodies_get_4xx_never_500(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot()
    chat = teams_channel.personal(USER)
    await teams_channel.say(chat, USER, "help")
    async with bot.store.unit_of_work() as uow:
        before = await uow.conversations.get(chat.id)
    sent_before = len(teams_channel.activities)

    cases = list(bad_bodies(teams_channel))
    assert len(cases) >= 300
    failures: list[str] = []
    async with aiohttp.ClientSession() as session:
        for number, (body, headers, acceptable) in enumerate(cases):
            async with session.post(bot.messages_url, data=body, headers=headers) as response:
                text = await response.text()
                if response.status not in acceptable:
                    failures.append(f"case {number}: {response.status} {text[:80]!r}")
                elif len(text) > 200 or "Traceback" in text:
                    failures.append(f"case {number}: the reason is not short: {text[:80]!r}")
    assert not failures, "\n".join(failures[:20])
    assert len(teams_channel.activities) == sent_before, "a bad request made the bot send something"

    # What was saved before is still there, and the bot still answers.
    async with bot.store.unit_of_work() as uow:
        assert await uow.conversations.get(chat.id) == before
    reply = await teams_channel.say(chat, USER, "help")
    assert len(reply.cards) == 1


async def test_bad_requests_say_what_is_wrong(start_bot: StartBot, teams_channel: TeamsChannel) -> None:
    bot = await start_bot()
    valid = _valid(teams_channel)
    async with aiohttp.ClientSession() as session:
        async with session.post(bot.messages_url, data=b"{", headers=JSON) as response:
            assert response.status == 400
            assert (await response.json())["error"] == "the body is not JSON"
        body = json.dumps(_drop(valid, ("conversation", "id"))).encode()
        async with session.post(bot.messages_url, data=body, headers=JSON) as response:
            assert response.status == 400
            assert (await response.json())["error"] == "the activity has no conversation.id"
        async with session.get(bot.messages_url) as response:
            assert response.status == 405


@pytest.mark.parametrize("activity_id", ["${jndi:ldap://x}", "../../x", "a/b", "{id}", "100% sure", "é", ""])
async def test_an_activity_id_that_is_not_an_id_is_refused(
    start_bot: StartBot, teams_channel: TeamsChannel, activity_id: str
) -> None:
    bot = await start_bot()
    body = _set(_valid(teams_channel), ("id",), activity_id)
    async with aiohttp.ClientSession() as session, session.post(bot.messages_url, json=body) as response:
        assert response.status == 400
    assert len(teams_channel.activities) == 0
