"""SPEC §8 beyond the walk (``test_authz_walk``): a verb without a rule stops start-up, production
and wide binds fail closed, a forged ``serviceUrl`` never moves a known conversation, and the
smaller points: the audit export's file, the allocated worker checked against the directory, free
text limits on card verbs, ``FRONTDOOR_ADMINS`` only bootstrapping, and the SQLite file's mode."""

from __future__ import annotations

import argparse
import dataclasses
import os
import stat
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

import bot.routing as routing
from bot import cli, cli_audit
from bot.access import ACCESS, Place, Rule, Surface, UnlistedError, markdown_table
from bot.app import NOTIFIER, create_app
from bot.cards.decisions import DECIDE_VERB
from bot.cards.intake import SUBMIT
from bot.dialogs.alerts import AlertsFeature
from bot.routing import InvokeReply, Router
from bot.settings import DEVELOPMENT, Settings, SettingsError
from frontdoor.contact import ContactState
from frontdoor.policy import load_policy
from frontdoor.records import AuditEvent
from frontdoor.roles import Permission, Role
from frontdoor.script import Section
from frontdoor.systemclock import SettableClock
from store.engine import create_engine
from store.sql import SqlStore
from tests.bot.conftest import StartBot
from tests.bot.decision_helpers import _posted, _route_data, _view
from tests.bot.intake_script import (
    CONSULTANT,
    OFFICER,
    SOCIAL_WORKER,
    audit,
    clock,
    decisions_channel,
    introduce,
    only_contact,
    press,
    register_channels,
    script,
    section_of_card,
    staff,
    start,
    submit,
    texts_of,
    walk,
)
from tests.harness.teams import TeamsChannel, TeamsUser

PRODUCTION = {
    "FRONTDOOR_ENV": "production",
    "MicrosoftAppId": "00000000-0000-0000-0000-000000000001",
    "MicrosoftAppPassword": "not-a-real-secret",
    "MicrosoftAppTenantId": "00000000-0000-0000-0000-0000000000aa",
    "FRONTDOOR_TENANTS": "tenant-a",
}


# -- one table, no verb without a rule --------------------------------------------------------------


async def _nothing(*_: Any) -> InvokeReply:
    return InvokeReply(message="nothing")


def test_registering_a_verb_without_a_rule_fails() -> None:
    router = Router()
    with pytest.raises(UnlistedError, match=r"contact\.new_thing"):
        router.execution("contact.new_thing", _nothing)
    with pytest.raises(UnlistedError, match=r"intake\.new_thing"):
        router.submission("intake.new_thing", _nothing)  # type: ignore[arg-type]
    assert router.executions == {} and router.submissions == {}


def test_the_app_does_not_start_with_a_verb_outside_the_table(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    settings = Settings.from_env({**DEVELOPMENT, "DATABASE_URL": sqlite_url, "FRONTDOOR_SCHEDULER": "off"})
    register = AlertsFeature.register

    def register_more(self: AlertsFeature, router: Router) -> None:
        register(self, router)
        router.execution("alert.snooze", _nothing)

    monkeypatch.setattr(AlertsFeature, "register", register_more)
    with pytest.raises(UnlistedError, match=r"alert\.snooze"):
        create_app(settings, store=SqlStore(sqlite_url))


def test_the_app_does_not_start_with_a_rule_nothing_handles(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    settings = Settings.from_env({**DEVELOPMENT, "DATABASE_URL": sqlite_url, "FRONTDOOR_SCHEDULER": "off"})
    stale = {**ACCESS, (Surface.EXECUTION, "contact.renamed"): Rule(frozenset(Place), ())}
    monkeypatch.setattr(routing, "ACCESS", stale)
    with pytest.raises(UnlistedError, match=r"contact\.renamed"):
        create_app(settings, store=SqlStore(sqlite_url))


# -- production fails closed ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tenants": frozenset()}, "FRONTDOOR_TENANTS"),
        ({"app_id": ""}, "MicrosoftAppId"),
        ({"app_password": ""}, "MicrosoftAppPassword"),
        ({"app_id": "", "auth_off": True}, "MicrosoftAppId"),
    ],
)
def test_production_refuses_to_start_without_credentials_or_tenants(
    changes: dict[str, Any], message: str, sqlite_url: str
) -> None:
    settings = dataclasses.replace(Settings.from_env({**PRODUCTION, "DATABASE_URL": sqlite_url}), **changes)
    with pytest.raises(SettingsError, match=message):
        create_app(settings, store=SqlStore(sqlite_url))


@pytest.mark.parametrize(
    "changes",
    [
        {"host": "0.0.0.0"},  # a wide bind without credentials, FRONTDOOR_ENV unset
        {"host": "10.20.30.40", "auth_off": True},  # even when development asked for no authentication
        {"auth_off": False},  # no app id and no explicit FRONTDOOR_AUTH=off
    ],
)
def test_without_credentials_only_an_explicit_loopback_development_starts(
    changes: dict[str, Any], sqlite_url: str
) -> None:
    settings = dataclasses.replace(Settings.from_env({**DEVELOPMENT, "DATABASE_URL": sqlite_url}), **changes)
    with pytest.raises(SettingsError, match="refusing to start"):
        create_app(settings, store=SqlStore(sqlite_url))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FRONTDOOR_HOST": "0.0.0.0"}, "not a loopback address"),
        ({"FRONTDOOR_HOST": "0.0.0.0", "FRONTDOOR_AUTH": "off"}, "not a loopback address"),
        ({}, "FRONTDOOR_AUTH=off"),
        ({**PRODUCTION, "FRONTDOOR_TENANTS": ""}, "FRONTDOOR_TENANTS"),
    ],
)
def test_serve_exits_naming_what_is_missing(
    env: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in list(os.environ):
        if name.startswith(("FRONTDOOR_", "Microsoft", "DATABASE_URL")):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["serve"]) == 2
    assert message in capsys.readouterr().err


# -- a forged serviceUrl --------------------------------------------------------------------------


async def test_without_authentication_a_forged_service_url_never_moves_a_known_conversation(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    assert not bot.app[NOTIFIER]._app_id  # authentication is off: FRONTDOOR_AUTH=off, loopback
    chat = await introduce(teams_channel, CONSULTANT)
    async with bot.store.unit_of_work() as uow:
        stored = await uow.conversations.get(chat.id)
    assert stored is not None and stored.service_url == teams_channel.service_url

    forged = "http://127.0.0.1:9/attacker/"
    activity = teams_channel.activity(
        chat,
        CONSULTANT,
        "invoke",
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": "no.such.verb", "data": {}}},
    )
    activity["serviceUrl"] = forged
    response = await teams_channel.send_activity(activity)
    assert response.status == 200
    async with bot.store.unit_of_work() as uow:
        after = await uow.conversations.get(chat.id)
    assert after == stored  # the reference, its service URL and all
    # a later proactive post still goes to the real channel
    delivery = await bot.app[NOTIFIER].send_text(chat.id, "A test message.")
    assert delivery.ok
    assert teams_channel.sent_to(chat)[-1].text == "A test message."


# -- point 6: the audit export's file -------------------------------------------------------------


async def _export(database_url: str, output: Path | None) -> int:
    args = argparse.Namespace(
        audit_command="export", start=date(2026, 3, 16), end=date(2026, 3, 16), output=output
    )
    return await cli_audit.run(
        database_url, args, "cli:tester", SettableClock(datetime(2026, 3, 17, 9, 0, tzinfo=UTC))
    )


async def test_the_audit_export_writes_a_new_owner_only_file_and_is_audited(
    database_url: str, tmp_path: Path
) -> None:
    store = SqlStore(database_url)
    async with store.unit_of_work() as uow:
        await uow.audit.append(
            AuditEvent(
                datetime(2026, 3, 16, 11, 0, tzinfo=UTC), "aad-x", "role.grant", "person:aad-y", "officer"
            )
        )
        await uow.commit()
    previous = os.umask(0o022)
    try:
        output = tmp_path / "export.csv"
        assert await _export(database_url, output) == 0
    finally:
        os.umask(previous)
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert "role.grant" in output.read_text()
    # an existing file is never overwritten
    assert await _export(database_url, output) == 2
    assert "role.grant" in output.read_text()
    # nor is a symbolic link followed
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep me")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert await _export(database_url, link) == 2
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "not-there.csv")
    assert await _export(database_url, dangling) == 2
    assert target.read_text() == "keep me" and not (tmp_path / "not-there.csv").exists()
    async with store.unit_of_work() as uow:
        rows = await uow.audit.for_subject("audit:2026-03-16..2026-03-16")
    await store.close()
    assert [(r.event.actor_id, r.event.action, r.event.detail) for r in rows] == [
        ("cli:tester", "audit.exported", "events=1; to=file")
    ]


# -- point 6: the allocated worker is someone in the directory ------------------------------------


async def test_the_allocated_worker_must_be_staff_in_the_directory(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    await register_channels(teams_channel)
    stranger = TeamsUser("aad-stranger-0999", "Sam Strangerperson")
    stranger_chat = await introduce(teams_channel, stranger)
    worker_chat = await introduce(teams_channel, SOCIAL_WORKER)
    worker_had, stranger_had = (
        len(teams_channel.sent_to(worker_chat)),
        len(teams_channel.sent_to(stranger_chat)),
    )
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    forged = script(
        source={"contact_type": "open_case_information"},
        history={"open_case": "true", "allocated_worker": stranger.aad_object_id},
    )
    await walk(teams_channel, chat, OFFICER, forged, until=Section.HISTORY)
    version = (await _draft(bot)).version
    reply = await press(teams_channel, chat, OFFICER, "intake.next", forged[Section.HISTORY])
    card = reply.cards[-1]
    assert section_of_card(card) is Section.HISTORY
    assert "Allocated worker: choose a member of staff from the list" in texts_of(card)
    assert (await _draft(bot)).version == version  # nothing saved

    # Chosen from the list, then the worker loses their role before submission: nobody is messaged.
    honest = script(
        source={"contact_type": "open_case_information"},
        history={"open_case": "true", "allocated_worker": SOCIAL_WORKER.aad_object_id},
    )
    await walk(teams_channel, chat, OFFICER, honest)
    async with bot.store.unit_of_work() as uow:
        await uow.roles.revoke(SOCIAL_WORKER.aad_object_id, Role.SOCIAL_WORKER)
        await uow.commit()
    receipt = await press(teams_channel, chat, OFFICER, SUBMIT)
    assert "not a member of staff in the role directory" in texts_of(receipt.cards[-1])
    assert len(teams_channel.sent_to(worker_chat)) == worker_had  # only the help card of the install
    assert len(teams_channel.sent_to(stranger_chat)) == stranger_had
    assert (await only_contact(bot)).state is ContactState.PASSED_ON
    [event] = [e for e in await audit(bot) if e.action == "contact.passed_to_worker"]
    assert event.detail == f"worker={SOCIAL_WORKER.aad_object_id}; via=none; reason=not_staff"


async def _draft(bot: Any) -> Any:
    async with bot.store.unit_of_work() as uow:
        [draft] = await uow.contacts.drafts_of(OFFICER.aad_object_id)
    return draft


# -- point 6: free text on card verbs has a limit --------------------------------------------------


@pytest.mark.parametrize("limit", [None, 120])
async def test_an_over_long_rationale_is_refused_with_a_message_and_nothing_changes(
    start_bot: StartBot, teams_channel: TeamsChannel, limit: int | None
) -> None:
    policy = load_policy(None)
    if limit is not None:  # the policy's limits.max_free_text_chars sets it
        policy = dataclasses.replace(
            policy, limits=dataclasses.replace(policy.limits, max_free_text_chars=limit)
        )
    most = limit or 4000
    bot = await start_bot(clock=clock(), policy=policy)
    await staff(bot)
    await register_channels(teams_channel)
    await introduce(teams_channel, CONSULTANT)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    before = await only_contact(bot)
    activity_id, card = _posted(teams_channel)
    view = await _view(teams_channel, CONSULTANT, card, activity_id)
    data = {
        **_route_data(view, "ii"),
        "outcome": "advice_and_guidance",
        "service_consent": "given",
        "rationale": "x" * (most + 1),
    }
    refused = await teams_channel.execute(
        decisions_channel(teams_channel), CONSULTANT, DECIDE_VERB, data, card_activity_id=activity_id
    )
    assert refused.card is None
    assert refused.json["value"] == (
        f"The rationale is {most + 1} characters long; at most {most} fit. Please shorten it and press the "
        "button again. Nothing was changed."
    )
    assert await only_contact(bot) == before
    accepted = await teams_channel.execute(
        decisions_channel(teams_channel),
        CONSULTANT,
        DECIDE_VERB,
        {**data, "rationale": "y" * most},
        card_activity_id=activity_id,
    )
    assert accepted.card is not None
    assert (await only_contact(bot)).state is ContactState.AWAITING_SIGNOFF


# -- point 6: FRONTDOOR_ADMINS only bootstraps ----------------------------------------------------


async def test_frontdoor_admins_grants_only_while_the_directory_has_no_administrator(
    start_bot: StartBot,
) -> None:
    first, second = "aad-admin-0701", "aad-admin-0702"
    bot = await start_bot(admins=frozenset({first, second}))
    async with bot.store.unit_of_work() as uow:
        assert {e.aad_object_id for e in await uow.roles.holders(Role.ADMIN)} == {first, second}
        await uow.roles.revoke(second, Role.ADMIN)  # an administrator revokes the other
        await uow.commit()
    bot = await start_bot(admins=frozenset({first, second}))  # a restart with the same setting
    async with bot.store.unit_of_work() as uow:
        assert {e.aad_object_id for e in await uow.roles.holders(Role.ADMIN)} == {first}
        await uow.roles.revoke(first, Role.ADMIN)  # nobody left: the setting bootstraps again
        await uow.commit()
    bot = await start_bot(admins=frozenset({second}))
    async with bot.store.unit_of_work() as uow:
        assert {e.aad_object_id for e in await uow.roles.holders(Role.ADMIN)} == {second}
    grants = [e for e in await audit(bot) if e.actor_id == "config:FRONTDOOR_ADMINS"]
    assert [e.subject for e in grants] == [f"person:{first}", f"person:{second}", f"person:{second}"]


# -- point 6: the SQLite file is its owner's only ---------------------------------------------------


async def test_a_new_sqlite_file_is_created_owner_only(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        path = tmp_path / "var" / "frontdoor.db"
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        async with engine.begin() as connection:
            await connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            await connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        await engine.dispose()
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for extra in path.parent.glob("frontdoor.db-*"):  # the write-ahead log, if still there
        assert stat.S_IMODE(extra.stat().st_mode) == 0o600, extra.name


def test_the_gate_checks_the_table_for_each_place() -> None:
    rule = ACCESS[(Surface.EXECUTION, "refresh")]
    assert rule.check({Role.CONSULTANT}, Place.DECISIONS_CHANNEL) is None
    assert rule.check({Role.CONSULTANT}, Place.OTHER_CHANNEL) is not None
    assert rule.check(set(), Place.DECISIONS_CHANNEL) is not None
    assert rule.check({Role.ADMIN}, Place.DUTY_CHANNEL) is not None
    assert Permission.VIEW_CONTACTS in rule.permissions


def test_the_documented_table_is_the_one_the_bot_enforces() -> None:
    documented = (Path(__file__).parents[2] / "docs" / "authz.md").read_text(encoding="utf-8")
    assert markdown_table() in documented
