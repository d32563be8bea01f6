"""The app's start-up fixes, health check and authentication behaviour."""

from __future__ import annotations

import time

import aiohttp
from msrest.universal_http.requests import ClientRetryPolicy

from bot.patches import apply_patches, patches_applied
from store.sql import SqlStore
from tests.bot.conftest import StartBot
from tests.harness.teams import TeamsChannel, TeamsUser

USER = TeamsUser("aad-user-0200", "Testy McTestface")

#: msrest's own definition, which the patch must keep answering identically.
_ORIGINAL_SAFE_CODES = [i for i in range(500) if i != 408] + [501, 505]


async def test_the_msrest_retry_policy_fix_is_in_effect(start_bot: StartBot) -> None:
    await start_bot()
    assert patches_applied()
    assert isinstance(ClientRetryPolicy.safe_codes, frozenset)
    # Same retry behaviour as before the fix...
    expected = [i for i in range(999) if i not in _ORIGINAL_SAFE_CODES]
    assert sorted(ClientRetryPolicy().policy.status_forcelist) == expected
    # ...at a fraction of the cost: building the policy no longer scans a 501-element list.
    started = time.process_time()
    for _ in range(200):
        ClientRetryPolicy()
    per_call_ms = (time.process_time() - started) / 200 * 1000
    assert per_call_ms < 2.0, f"ClientRetryPolicy() took {per_call_ms:.2f} ms: the fix is not in effect"
    apply_patches()  # idempotent
    assert isinstance(ClientRetryPolicy.safe_codes, frozenset)


async def test_healthz_reports_the_database(start_bot: StartBot) -> None:
    bot = await start_bot()
    async with aiohttp.ClientSession() as session, session.get(bot.url("/healthz")) as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok", "database": "ok"}


async def test_healthz_is_503_when_the_database_does_not_answer() -> None:
    unreachable = SqlStore("postgresql+asyncpg://nobody:nothing@127.0.0.1:9/none")
    try:
        assert await unreachable.ping() is False
    finally:
        await unreachable.close()


async def test_with_an_app_id_requests_without_a_token_are_401_not_500(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    await start_bot(
        app_id="00000000-0000-0000-0000-00000000b07", app_password="not-a-secret", app_tenant_id="tenant-x"
    )
    chat = teams_channel.personal(USER)
    reply = await teams_channel.say(chat, USER, "help")
    assert reply.status == 401
    assert reply.sent == ()
    bogus = teams_channel.activity(chat, USER, "message", text="help")
    async with aiohttp.ClientSession() as session:
        for header in ["Bearer not.a.token", "Bearer ", "Basic abc", "Bearer " + "A" * 4000]:
            async with session.post(
                teams_channel.bot_url, json=bogus, headers={"Authorization": header}
            ) as response:
                assert response.status == 401
