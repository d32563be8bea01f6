"""Fixtures for the loopback Teams channel and the Adaptive Card validator.

- ``card_validator`` (session): the one Node worker running Microsoft's Adaptive Cards SDK.
- ``card_renderer`` (session): the one Node worker rendering cards with Microsoft's JS renderer and
  Teams' host configs in headless Chromium (one browser per test process).
- ``make_teams_channel`` (function): starts channels with any options; at teardown each is stopped
  and verified: any unexpected connector request, and any card the bot sent, updated or returned
  from an invoke that the SDK rejects or that does not render whole within a Teams card's width,
  fails the test.
- ``teams_channel`` (function): one such channel with the defaults.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from tests.harness.cards import CardValidator, shared_validator
from tests.harness.rendering import CardRenderer, shared_renderer
from tests.harness.teams import TeamsChannel

MakeTeamsChannel = Callable[..., Awaitable[TeamsChannel]]


@pytest.fixture(scope="session")
def card_validator() -> Iterator[CardValidator]:
    """Microsoft's Adaptive Cards SDK in one long-lived Node process (started on first use)."""
    validator = shared_validator()
    yield validator
    validator.close()


@pytest.fixture(scope="session")
def card_renderer() -> Iterator[CardRenderer]:
    """Microsoft's Adaptive Cards renderer in one headless Chromium (started on first use)."""
    renderer = shared_renderer()
    yield renderer
    renderer.close()


@pytest.fixture
async def make_teams_channel(
    card_validator: CardValidator, card_renderer: CardRenderer
) -> AsyncIterator[MakeTeamsChannel]:
    """``await make_teams_channel(tenant_id=..., token_factory=...)`` → a started ``TeamsChannel``."""
    channels: list[TeamsChannel] = []

    async def make(**options: Any) -> TeamsChannel:
        channel = TeamsChannel(**options)
        await channel.start()
        channels.append(channel)
        return channel

    yield make
    for channel in channels:
        await channel.stop()
    problems: list[str] = []
    for channel in channels:
        try:
            channel.verify(card_validator, card_renderer)
        except AssertionError as error:
            problems.append(str(error))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
async def teams_channel(make_teams_channel: MakeTeamsChannel) -> TeamsChannel:
    """A started loopback Teams channel; ``teams_channel.attach(bot_url)`` before talking to a bot."""
    return await make_teams_channel()
