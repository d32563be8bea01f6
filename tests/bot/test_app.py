"""The app's start-up fixes, health check and authentication behaviour."""

from __future__ import annotations

import time

import aiohttp
from msrest.universal_http.requests import ClientRetryPolicy

from bot.patches import apply_patches, patches_applied
from frontdoor.roles import Role
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


async def test_frontdoor_admins_are_seeded_at_start_and_audited_once(start_bot: StartBot) -> None:
    bot = await start_bot(admins=frozenset({"aad-admin-0001", "aad-admin-0002"}))
    bot = await start_bot(admins=frozenset({"aad-admin-0001", "aad-admin-0002"}))  # a restart
    async with bot.store.unit_of_work() as uow:
        assert Role.ADMIN in await uow.roles.roles_of("aad-admin-0001")
        assert Role.ADMIN in await uow.roles.roles_of("aad-admin-0002")
        grants = await uow.audit.for_subject("person:aad-admin-0001")
    assert [stored.event.action for stored in grants] == ["role.grant"]
    assert grants[0].event.actor_id == "config:FRONTDOOR_ADMINS"


def test_the_working_calendar_has_bank_holidays_and_closures() -> None:
    import dataclasses
    from datetime import UTC, date, datetime

    from bot.app import working_calendar
    from bot.settings import DEVELOPMENT, Settings
    from frontdoor.policy import parse_policy
    from frontdoor.systemclock import SettableClock

    settings = dataclasses.replace(
        Settings.from_env(DEVELOPMENT), policy=parse_policy('[calendar]\nclosure_dates = ["2026-12-24"]\n')
    )
    calendar = working_calendar(settings, SettableClock(datetime(2026, 11, 23, 9, tzinfo=UTC)))
    assert not calendar.is_working_day(date(2026, 12, 28))  # Boxing Day (substitute)
    assert not calendar.is_working_day(date(2027, 12, 27))  # Christmas Day (substitute)
    assert not calendar.is_working_day(date(2026, 12, 24))  # the service's closure
    assert calendar.is_working_day(date(2026, 12, 23))
