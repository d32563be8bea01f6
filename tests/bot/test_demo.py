"""Demo mode (FRONTDOOR_DEMO=1) seeds the committed Playground configuration, end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.demo import DemoConfigError, playground_config_as
from bot.settings import Settings, SettingsError
from frontdoor.calendar import LONDON
from frontdoor.records import ChannelPurpose, RotaEntry
from frontdoor.roles import Role
from tests.bot.conftest import BOT_START, RunningBot, StartBot
from tests.bot.intake_script import audit
from tests.bot.settings_values import PRODUCTION
from tests.harness.teams import TeamsChannel, TeamsUser

CONFIG = Path(__file__).resolve().parents[2] / ".m365agentsplayground.yml"

#: what the committed configuration defines (written out here, not read from it)
PEOPLE = {
    "0de30000-0000-4000-8000-000000000001": (Role.OFFICER, "Olive Officer (Demo officer)"),
    "0de30000-0000-4000-8000-000000000002": (Role.SOCIAL_WORKER, "Sasha Socialworker (Demo social worker)"),
    "0de30000-0000-4000-8000-000000000003": (Role.CONSULTANT, "Connie Consultant (Demo consultant)"),
    "0de30000-0000-4000-8000-000000000004": (Role.DUTY_MANAGER, "Dev Dutymanager (Demo duty manager)"),
    "0de30000-0000-4000-8000-000000000005": (Role.TEAM_MANAGER, "Tam Teammanager (Demo team manager)"),
    "0de30000-0000-4000-8000-000000000006": (Role.EDT, "Eddie Edt (Demo edt)"),
}
CHANNELS = {
    ChannelPurpose.DECISIONS: "demo-decisions-channel",
    ChannelPurpose.DUTY: "demo-team",  # General: the Playground allows one channel besides it
}
TODAY = BOT_START.astimezone(LONDON).date()
ROTA = {
    RotaEntry(TODAY, Role.CONSULTANT, "0de30000-0000-4000-8000-000000000003"),
    RotaEntry(TODAY, Role.DUTY_MANAGER, "0de30000-0000-4000-8000-000000000004"),
    RotaEntry(TODAY, Role.TEAM_MANAGER, "0de30000-0000-4000-8000-000000000005"),
    RotaEntry(TODAY, Role.EDT, "0de30000-0000-4000-8000-000000000006"),
}


async def _seeded(
    bot: RunningBot,
) -> tuple[dict[str, tuple[Role, str]], dict[ChannelPurpose, str], set[RotaEntry]]:
    async with bot.store.unit_of_work() as uow:
        entries = await uow.roles.entries()
        channels = {purpose: await uow.channels.get(purpose) for purpose in ChannelPurpose}
        rota = set(await uow.rota.on(TODAY))
        records = [await uow.conversations.get(cid) for cid in CHANNELS.values()]
    assert all(
        record is not None and record.service_url == "http://127.0.0.1:56150/_connector" for record in records
    )
    people = {e.aad_object_id: (next(iter(e.roles)), e.display_name) for e in entries if len(e.roles) == 1}
    assert len(people) == len(entries)
    return people, {p: c.conversation_id for p, c in channels.items() if c is not None}, rota


async def test_demo_mode_seeds_every_role_the_channels_and_todays_rota_once(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(demo=True, demo_config=CONFIG)
    assert await _seeded(bot) == (PEOPLE, CHANNELS, ROTA)
    events = await audit(bot)
    assert [e.detail for e in events if e.action == "demo.seeded"] == ["changes=12"]
    assert sum(e.action == "role.grant" for e in events) == 6
    assert sum(e.action == "channel.registered" for e in events) == 2

    bot = await start_bot(demo=True, demo_config=CONFIG)  # a restart changes nothing
    assert await _seeded(bot) == (PEOPLE, CHANNELS, ROTA)
    assert await audit(bot) == events

    consultant = TeamsUser("0de30000-0000-4000-8000-000000000003", "Connie Consultant (Demo consultant)")
    [card] = (await teams_channel.say(teams_channel.personal(consultant), consultant, "help")).cards
    assert any("Demo mode is on" in item.get("text", "") for item in card["body"])


async def test_help_does_not_mention_demo_mode_outside_it(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot()
    user = TeamsUser("aad-plain-0001", "Plain Testperson")
    [card] = (await teams_channel.say(teams_channel.personal(user), user, "help")).cards
    assert not any("Demo mode" in item.get("text", "") for item in card["body"])
    async with bot.store.unit_of_work() as uow:
        assert await uow.roles.entries() == []


def test_demo_mode_is_refused_in_production() -> None:
    Settings.from_env(PRODUCTION)  # the deployment itself starts
    with pytest.raises(
        SettingsError, match=r"FRONTDOOR_DEMO=1 .* never allowed with FRONTDOOR_ENV=production"
    ):
        Settings.from_env({**PRODUCTION, "FRONTDOOR_DEMO": "1"})
    # what make playground sets: demo mode is named before authentication
    with pytest.raises(SettingsError, match=r"^FRONTDOOR_DEMO=1 .* FRONTDOOR_ENV=production"):
        Settings.from_env({"FRONTDOOR_ENV": "production", "FRONTDOOR_DEMO": "1", "FRONTDOOR_AUTH": "off"})


def test_demo_mode_setting_is_zero_or_one() -> None:
    with pytest.raises(SettingsError, match="FRONTDOOR_DEMO must be"):
        Settings.from_env({"FRONTDOOR_AUTH": "off", "FRONTDOOR_DEMO": "yes"})
    assert Settings.from_env({"FRONTDOOR_AUTH": "off", "FRONTDOOR_DEMO": "1"}).demo


def test_the_playground_is_started_as_any_demo_person_or_a_professional() -> None:
    text = CONFIG.read_text(encoding="utf-8")
    as_consultant = yaml.safe_load(playground_config_as(text, "consultant"))
    assert as_consultant["currentUser"]["aadObjectId"] == "0de30000-0000-4000-8000-000000000003"
    assert as_consultant["personalChat"]["id"] == "demo-personal-chat-consultant"
    others = {user["aadObjectId"] for user in as_consultant["users"]}
    assert others == set(PEOPLE) - {"0de30000-0000-4000-8000-000000000003"}  # the Playground's five
    assert as_consultant["team"] == yaml.safe_load(text)["team"]

    as_manager = yaml.safe_load(playground_config_as(text, "team_manager"))
    assert as_manager["currentUser"]["name"] == "Tam Teammanager (Demo team manager)"

    as_professional = yaml.safe_load(playground_config_as(text, "professional"))
    assert as_professional["currentUser"]["aadObjectId"] not in PEOPLE  # nobody gives them a role
    assert len(as_professional["users"]) == 5

    with pytest.raises(DemoConfigError, match="no Playground user 'demo-wizard'"):
        playground_config_as(text, "wizard")
    with pytest.raises(DemoConfigError, match="not a usable Playground configuration"):
        playground_config_as("users: 3", "officer")


async def test_a_restart_for_a_playground_on_another_port_moves_the_channels_there(
    start_bot: StartBot,
) -> None:
    await start_bot(demo=True, demo_config=CONFIG)
    moved = "http://127.0.0.1:56199/_connector"
    bot = await start_bot(demo=True, demo_config=CONFIG, demo_service_url=moved)
    async with bot.store.unit_of_work() as uow:
        records = [await uow.conversations.get(cid) for cid in CHANNELS.values()]
    assert [record.service_url if record else None for record in records] == [moved, moved]
