"""FRONTDOOR_TENANTS: activities from a tenant that is not served get no reply, change nothing and
are logged by tenant id only."""

from __future__ import annotations

import io
import json

from sqlalchemy import func, select

from frontdoor.roles import Role
from store.sql import SqlStore
from store.tables import ProcessedActivityRow
from tests.bot.conftest import StartBot
from tests.harness.teams import TeamsChannel, TeamsUser

ADMIN = TeamsUser("aad-admin-0721", "Tamsin Tenantadmin")
ALEX = TeamsUser("aad-staff-0722", "Alex Othertenant")


async def test_another_tenant_changes_nothing_whatever_it_sends(
    start_bot: StartBot, teams_channel: TeamsChannel, captured_logs: io.StringIO
) -> None:
    bot = await start_bot(tenants=frozenset({"served-tenant"}), admins=frozenset({ADMIN.aad_object_id}))
    async with bot.store.unit_of_work() as uow:
        await uow.roles.grant(ALEX.aad_object_id, Role.OFFICER)
        await uow.commit()
    group = teams_channel.group_chat(ADMIN, ALEX, name="Tamsin Tenantadmin and Alex Othertenant")
    chat = teams_channel.personal(ADMIN)
    replies = [
        await teams_channel.say(group, ADMIN, "grant <at>Alex Othertenant</at> admin", mentioning=[ALEX]),
        await teams_channel.say(chat, ADMIN, "roles"),
        await teams_channel.execute(chat, ADMIN, "some.verb", {"contact": "x"}),
        await teams_channel.submit(chat, ADMIN, {"fd": "some.action"}),
        (await teams_channel.install(chat, ADMIN))[0],
    ]
    assert all(reply.status < 500 for reply in replies)
    assert all(reply.sent == () for reply in replies)
    assert teams_channel.activities == ()
    async with bot.store.unit_of_work() as uow:
        assert await uow.roles.roles_of(ALEX.aad_object_id) == {Role.OFFICER}
        assert await uow.conversations.get(chat.id) is None
        assert await uow.conversations.get(group.id) is None
        assert [entry.display_name for entry in await uow.roles.entries()] == ["", ""]
        assert await uow.audit.for_subject(f"person:{ALEX.aad_object_id}") == []
    assert isinstance(bot.store, SqlStore)
    async with bot.store.engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(ProcessedActivityRow)) == 0

    refused = [
        json.loads(line)
        for line in captured_logs.getvalue().splitlines()
        if "tenant that is not served" in line
    ]
    assert len(refused) == len(replies) + 1  # install sends an installation and a conversation update
    for line in refused:
        assert line["tenant_id"] == teams_channel.tenant_id
        assert set(line) == {"at", "level", "logger", "event", "tenant_id"}
    for secret in (ADMIN.name, ALEX.name, "Tenantadmin", "Othertenant"):
        assert secret not in captured_logs.getvalue()
