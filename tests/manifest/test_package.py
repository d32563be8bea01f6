"""The Teams app package: ``make package``'s builder, Microsoft's manifest validator, the icons, and
the bot answering every command the manifest offers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from bot.manifest import MANIFEST_DIR, MAX_COMMANDS, PackageError, build_manifest, command_lists
from frontdoor.commands import COMMANDS, Command, CommandName, Scope
from frontdoor.roles import Permission, Role
from tests.bot.conftest import StartBot
from tests.harness.cards import PROJECT_ROOT
from tests.harness.teams import Conversation, TeamsChannel, TeamsUser
from tests.manifest.png import read_png

APP_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
BOT_ID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
VALIDATOR = Path(__file__).with_name("validate_manifest.js")


def _build(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.manifest", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if k not in ("TEAMS_APP_ID", "MicrosoftAppId")},
    )


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package as ``make package`` builds it."""
    output = tmp_path_factory.mktemp("dist") / "frontdoor-bot.zip"
    built = _build(
        output.parent,
        "--app-id",
        APP_ID,
        "--bot-id",
        BOT_ID,
        "--domain",
        "bot.example.gov.uk",
        "--output",
        str(output),
    )
    assert built.returncode == 0, built.stderr
    return output


def _manifest(package: Path) -> dict[str, Any]:
    with zipfile.ZipFile(package) as archive:
        manifest: dict[str, Any] = json.loads(archive.read("manifest.json"))
    return manifest


def _validate(manifest: dict[str, Any], tmp_path: Path) -> list[str]:
    node = shutil.which("node")
    assert node is not None, "Node.js is needed to run Microsoft's manifest validator"
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    done = subprocess.run(
        [node, str(VALIDATOR), str(path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert f"v{manifest['manifestVersion']}/MicrosoftTeams.schema.json" in result["schema"]
    errors: list[str] = result["errors"]
    return errors


def test_the_package_holds_the_manifest_and_both_icons_at_its_root(package: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        assert archive.read("color.png") == (MANIFEST_DIR / "color.png").read_bytes()


def test_the_manifest_is_valid_under_microsofts_schema_for_its_version(package: Path, tmp_path: Path) -> None:
    manifest = _manifest(package)
    major, minor = (int(part) for part in manifest["manifestVersion"].split("."))
    assert (major, minor) >= (1, 19)
    assert manifest["$schema"].endswith(f"/v{manifest['manifestVersion']}/MicrosoftTeams.schema.json")
    assert _validate(manifest, tmp_path) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda m: m.pop("accentColor"), "accentColor"),
        (lambda m: m["name"].update(short="A name far too long for the Teams app bar"), "/name/short"),
        (lambda m: m["bots"][0].update(scopes=["personal", "everywhere"]), "/bots/0/scopes"),
        (lambda m: m["bots"][0].update(botId="not-a-guid"), "/bots/0/botId"),
    ],
)
def test_the_validator_rejects_a_broken_manifest(
    package: Path, tmp_path: Path, change: Any, expected: str
) -> None:
    manifest = _manifest(package)
    change(manifest)
    errors = _validate(manifest, tmp_path)
    assert any(expected in error for error in errors), errors


def test_ids_and_domains_come_from_the_arguments(package: Path) -> None:
    manifest = _manifest(package)
    assert manifest["id"] == APP_ID
    assert [bot["botId"] for bot in manifest["bots"]] == [BOT_ID]
    assert manifest["bots"][0]["scopes"] == ["personal", "team", "groupChat"]
    assert manifest["validDomains"] == ["token.botframework.com", "bot.example.gov.uk"]
    assert "{{" not in json.dumps(manifest)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bot-id", BOT_ID], "TEAMS_APP_ID is not set"),
        (["--app-id", APP_ID], "MicrosoftAppId is not set"),
        (["--app-id", APP_ID, "--bot-id", ""], "MicrosoftAppId is not set"),
        (["--app-id", "front-door", "--bot-id", BOT_ID], "TEAMS_APP_ID='front-door' is not a GUID"),
        (["--app-id", APP_ID, "--bot-id", BOT_ID, "--domain", "not a domain"], "FRONTDOOR_BOT_DOMAIN"),
    ],
)
def test_a_missing_or_malformed_id_stops_the_build_with_a_message(
    tmp_path: Path, args: list[str], message: str
) -> None:
    output = tmp_path / "out.zip"
    built = _build(tmp_path, *args, "--output", str(output))
    assert built.returncode == 2
    assert message in built.stderr
    assert not output.exists()


def test_the_command_lists_are_the_commands_that_exist(package: Path) -> None:
    lists = {
        tuple(entry["scopes"]): entry["commands"] for entry in _manifest(package)["bots"][0]["commandLists"]
    }
    assert set(lists) == {("personal",), ("team",), ("groupChat",)}
    words = {command.words: command for command in COMMANDS}
    for (scope_name,), commands in lists.items():
        scope = Scope(scope_name)
        titles = [command["title"] for command in commands]
        assert len(titles) <= MAX_COMMANDS
        assert all(title in words and scope in words[title].scopes for title in titles)
        available = [command.words for command in COMMANDS if scope in command.scopes]
        if len(available) <= MAX_COMMANDS:
            assert sorted(titles) == sorted(available)
    # The personal menu is the list of SPEC §6; administration is typed (and in the help card).
    assert sorted(c["title"] for c in lists[("personal",)]) == sorted(
        [
            "help",
            "new contact",
            "resume",
            "consultation",
            "my work",
            "queue",
            "find",
            "handover",
            "status",
            "cancel",
        ]
    )
    assert "roles" not in [c["title"] for c in lists[("team",)]]


def test_when_a_scope_has_too_many_commands_those_for_fewer_people_are_left_out() -> None:
    many = tuple(
        Command(CommandName.HELP, f"everyone {index}", "d", frozenset({Scope.PERSONAL})) for index in range(9)
    ) + tuple(
        Command(
            CommandName.ROLES,
            f"admins {index}",
            "d",
            frozenset({Scope.PERSONAL}),
            Permission.MANAGE_DIRECTORY,
        )
        for index in range(3)
    )
    lists, warnings = command_lists(many)
    titles = [command["title"] for command in lists[0]["commands"]]
    assert titles == [f"everyone {index}" for index in range(9)] + ["admins 0"]
    assert warnings == ["personal: only 10 commands fit the menu; left out: admins 1, admins 2"]


def test_an_unfilled_placeholder_stops_the_build() -> None:
    template = json.loads((MANIFEST_DIR / "manifest.template.json").read_text())
    template["developer"]["name"] = "{{DEVELOPER}}"
    with pytest.raises(PackageError, match="placeholders"):
        build_manifest(template, app_id=APP_ID, bot_id=BOT_ID)


# -- icons ----------------------------------------------------------------------------------------


def test_the_colour_icon_is_192_square_full_colour_and_opaque() -> None:
    icon = read_png((MANIFEST_DIR / "color.png").read_bytes())
    assert (icon.width, icon.height) == (192, 192)
    pixels = [pixel for row in icon.pixels for pixel in row]
    assert all(alpha == 255 for *_, alpha in pixels)
    colours = {pixel[:3] for pixel in pixels}
    # The accent background, the white house and the amber shield (plus their smoothed edges).
    assert {(0x1F, 0x4E, 0x8C), (255, 255, 255), (0xF2, 0xA9, 0x00)} <= colours
    share_white = sum(pixel[:3] == (255, 255, 255) for pixel in pixels) / len(pixels)
    assert 0.15 < share_white < 0.6


def test_the_outline_icon_is_32_square_white_on_transparent() -> None:
    icon = read_png((MANIFEST_DIR / "outline.png").read_bytes())
    assert (icon.width, icon.height) == (32, 32)
    assert icon.has_alpha
    pixels = [pixel for row in icon.pixels for pixel in row]
    visible = [pixel for pixel in pixels if pixel[3] > 0]
    assert all(pixel[:3] == (255, 255, 255) for pixel in visible), "the outline icon must be white only"
    transparent = sum(pixel[3] == 0 for pixel in pixels) / len(pixels)
    assert 0.4 < transparent < 0.9
    assert sum(pixel[3] == 255 for pixel in pixels) > 100  # a solid shape, not a faint smudge
    assert all(icon.pixels[y][x][3] == 0 for y, x in ((0, 0), (0, 31), (31, 0), (31, 31)))


def test_the_committed_outline_icon_is_what_the_drawing_script_draws() -> None:
    sys.path.insert(0, str(MANIFEST_DIR))
    try:
        import draw_icons  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(MANIFEST_DIR))
    assert draw_icons.draw("outline.png") == (MANIFEST_DIR / "outline.png").read_bytes()


# -- every command in the manifest is answered ----------------------------------------------------


def _is_unknown(card: dict[str, Any]) -> bool:
    return any("didn't recognise" in str(item.get("text", "")) for item in card.get("body", []))


async def test_every_command_in_the_manifest_is_answered_by_the_bot(
    package: Path, start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot()
    lists = _manifest(package)["bots"][0]["commandLists"]
    sent = 0
    for index, entry in enumerate(lists):
        for number, command in enumerate(entry["commands"]):
            # A new person each time, holding every role, so no command is refused or mid-dialog.
            user = TeamsUser(f"aad-manifest-{index}-{number:02d}", "Manifest Tester")
            async with bot.store.unit_of_work() as uow:
                for role in Role:
                    await uow.roles.grant(user.aad_object_id, role)
                await uow.commit()
            conversation: Conversation
            scope = entry["scopes"][0]
            if scope == "personal":
                conversation = teams_channel.personal(user)
            elif scope == "team":
                conversation = teams_channel.channel(
                    f"team-{index}-{number}",
                    f"19:ch{index}{number}@thread.tacv2",
                    "Front door",
                    members=[user],
                )
            else:
                conversation = teams_channel.group_chat(user)
            reply = await teams_channel.say(conversation, user, command["title"])
            where = f"{command['title']!r} in {scope}"
            assert reply.status < 500, where
            assert reply.sent, f"{where} got no answer"
            assert not any(_is_unknown(card) for card in reply.cards), f"{where} got the unknown-command card"
            sent += 1
    assert sent >= len(lists)
