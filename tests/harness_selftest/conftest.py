"""The echo bot on the real botbuilder stack, served by pytest-aiohttp, wired to the loopback channel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from botbuilder.core import serializer_helper
from botbuilder.integration.aiohttp import cloud_adapter

from tests.harness.teams import TeamsChannel
from tests.harness_selftest.echo_bot import EchoBot, EchoStack, echo_adapter, echo_app

AiohttpServer = Callable[[web.Application], Awaitable[TestServer]]


def _serialize_once(value: Any) -> Any:
    """botbuilder 4.17.1 serialises invoke bodies twice; plain JSON data must pass through."""
    if value is None or isinstance(value, dict | list | str | int | float | bool):
        return value
    return serializer_helper(value)


@pytest.fixture
def invoke_serializer_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cloud_adapter, "serializer_helper", _serialize_once)


async def _stack(channel: TeamsChannel, aiohttp_server: AiohttpServer) -> EchoStack:
    bot, adapter = EchoBot(), echo_adapter()
    stack = EchoStack(
        bot=bot, adapter=adapter, server=await aiohttp_server(echo_app(bot, adapter)), channel=channel
    )

    async def on_turn_error(turn_context: Any, error: BaseException) -> None:
        stack.turn_errors.append(error)
        raise error

    adapter.on_turn_error = on_turn_error
    channel.attach(stack.server.make_url("/api/messages"))
    return stack


@pytest.fixture
async def echo(
    teams_channel: TeamsChannel, aiohttp_server: AiohttpServer, invoke_serializer_fix: None
) -> EchoStack:
    return await _stack(teams_channel, aiohttp_server)


@pytest.fixture
async def unpatched_echo(teams_channel: TeamsChannel, aiohttp_server: AiohttpServer) -> EchoStack:
    return await _stack(teams_channel, aiohttp_server)
