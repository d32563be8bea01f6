"""The manifest's commands are sent to the real bot: reuse the bot fixtures, on SQLite only."""

from __future__ import annotations

import pytest

from tests.bot.conftest import start_bot

__all__ = ["database_url", "start_bot"]


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url
