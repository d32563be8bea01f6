"""Fixtures for end-to-end tests of the real app: aiohttp over HTTP, botbuilder's CloudAdapter,
a real database (SQLite and PostgreSQL), and the loopback Teams channel."""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app import create_app
from bot.logs import configure_logging
from bot.settings import DEVELOPMENT, Settings
from frontdoor.ports import Clock
from frontdoor.systemclock import RunningClock
from frontdoor.unit_of_work import Store
from store.sql import SqlStore
from tests.harness.teams import TeamsChannel


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database of each kind."""
    fixture = "sqlite_url" if request.param == "sqlite" else "fresh_postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


@dataclass
class RunningBot:
    app: web.Application
    server: TestServer
    store: Store

    @property
    def messages_url(self) -> str:
        return str(self.server.make_url("/api/messages"))

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))


StartBot = Callable[..., Awaitable[RunningBot]]

#: Where a bot started without a clock lives: Wednesday 11 March 2026, 11:00 in London (GMT), a
#: working day in office hours, hours from the handover, not a MARAC day.
BOT_START = datetime(2026, 3, 11, 11, 0, tzinfo=UTC)


@pytest.fixture
async def start_bot(database_url: str, teams_channel: TeamsChannel) -> AsyncIterator[StartBot]:
    """``await start_bot(**settings_overrides)``: serve a new app on the test database over real
    HTTP and attach the loopback channel to it. Starting another stops the one before, which is
    how the tests restart the bot. Without a ``clock`` the bot's clock starts at ``BOT_START``
    and runs at real speed, so no test depends on the real date or time."""
    running: list[RunningBot] = []

    async def start(clock: Clock | None = None, **overrides: Any) -> RunningBot:
        for previous in running:
            await previous.server.close()
        running.clear()
        settings = dataclasses.replace(
            Settings.from_env({**DEVELOPMENT, "DATABASE_URL": database_url}), **overrides
        )
        store = SqlStore(database_url)
        clock = clock if clock is not None else RunningClock(BOT_START)
        server = TestServer(create_app(settings, store=store, clock=clock), host="127.0.0.1")
        await server.start_server()
        bot = RunningBot(app=server.app, server=server, store=store)  # type: ignore[arg-type]
        running.append(bot)
        teams_channel.attach(bot.messages_url)
        return bot

    yield start
    for bot in running:
        await bot.server.close()


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Every log line, formatted as in production, for tests that check what the logs carry."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    configure_logging("DEBUG", stream)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved_handlers:
        root.addHandler(handler)
    root.setLevel(saved_level)
