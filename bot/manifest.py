"""The Teams app package: ``manifest.json`` from ``manifest/manifest.template.json`` plus the icons.

``make package`` runs ``python -m bot.manifest``; the Makefile passes the ids from the environment
(``TEAMS_APP_ID``, ``MicrosoftAppId``) as arguments, and a missing or malformed id stops it with a
message naming the variable. The bot's command lists are generated here from
``frontdoor.commands.COMMANDS``, the table the bot itself routes by, so the manifest offers exactly
the commands that exist. Teams shows at most ``MAX_COMMANDS`` per scope: commands anyone may use
come first, so the ones only some roles may use are the ones left out (with a warning).
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import zipfile
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Final

from frontdoor.commands import COMMANDS, Command, Scope

#: The template and icons (a folder beside the packages, not installed with them).
MANIFEST_DIR: Final = Path(__file__).resolve().parents[1] / "manifest"
TEMPLATE: Final = "manifest.template.json"
ICONS: Final = ("color.png", "outline.png")
DEFAULT_OUTPUT: Final = Path("dist/frontdoor-bot.zip")
#: Teams shows up to ten commands per scope in its command menu.
MAX_COMMANDS: Final = 10
#: The order command lists appear in.
SCOPES: Final = (Scope.PERSONAL, Scope.TEAM, Scope.GROUP_CHAT)

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DOMAIN = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
#: A fixed time for every file in the zip, so the same inputs give the same package.
_ZIP_TIME: Final = (1980, 1, 1, 0, 0, 0)


class PackageError(Exception):
    """The package cannot be built; the message says what to set."""


def check_id(value: str, variable: str, meaning: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise PackageError(f"{variable} is not set: it must be {meaning}")
    if not _GUID.match(cleaned):
        raise PackageError(f"{variable}={cleaned!r} is not a GUID: it must be {meaning}")
    return cleaned.lower()


def _ranked(commands: Sequence[Command]) -> list[Command]:
    """Commands anyone may use first, then the rest; table order within each group."""
    return sorted(commands, key=lambda command: command.permission is not None)


def command_lists(commands: Sequence[Command] = COMMANDS) -> tuple[list[dict[str, Any]], list[str]]:
    """The bot's ``commandLists``, one per scope, and warnings for commands that did not fit."""
    lists: list[dict[str, Any]] = []
    warnings: list[str] = []
    for scope in SCOPES:
        available = _ranked([command for command in commands if scope in command.scopes])
        listed, left_out = available[:MAX_COMMANDS], available[MAX_COMMANDS:]
        if left_out:
            names = ", ".join(command.words for command in left_out)
            warnings.append(f"{scope.value}: only {MAX_COMMANDS} commands fit the menu; left out: {names}")
        if listed:
            lists.append(
                {
                    "scopes": [scope.value],
                    "commands": [
                        {
                            "title": command.words,
                            "description": command.description
                            + (f" ({command.words} {command.usage})" if command.usage else ""),
                        }
                        for command in listed
                    ],
                }
            )
    return lists, warnings


def _app_version() -> str:
    try:
        return version("frontdoor-bot")
    except PackageNotFoundError:
        return "0.0.0"


def build_manifest(
    template: dict[str, Any],
    *,
    app_id: str,
    bot_id: str,
    domains: Sequence[str] = (),
    app_version: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The manifest for these ids, and any warnings. Placeholders are replaced structurally."""
    app_id = check_id(app_id, "TEAMS_APP_ID", "the Teams app's id, a GUID (often the same as MicrosoftAppId)")
    bot_id = check_id(bot_id, "MicrosoftAppId", "the bot's Azure app registration id, a GUID")
    manifest = copy.deepcopy(template)
    manifest["id"] = app_id
    manifest["version"] = app_version or _app_version()
    lists, warnings = command_lists()
    for bot in manifest["bots"]:
        bot["botId"] = bot_id
        bot["commandLists"] = lists
    valid_domains: list[str] = list(manifest.get("validDomains", []))
    for domain in domains:
        cleaned = domain.strip().lower()
        if not cleaned:
            continue
        if not _DOMAIN.match(cleaned):
            raise PackageError(
                f"FRONTDOOR_BOT_DOMAIN={domain!r} is not a domain name (e.g. bot.example.gov.uk)"
            )
        if cleaned not in valid_domains:
            valid_domains.append(cleaned)
    manifest["validDomains"] = valid_domains
    leftover = [m.group(0) for m in re.finditer(r"\{\{[A-Z_]+\}\}", json.dumps(manifest))]
    if leftover:
        raise PackageError(f"the template still has placeholders: {', '.join(sorted(set(leftover)))}")
    return manifest, warnings


def write_package(
    output: Path,
    *,
    app_id: str,
    bot_id: str,
    domains: Sequence[str] = (),
    manifest_dir: Path = MANIFEST_DIR,
) -> list[str]:
    """Write the app package (``manifest.json`` and the icons at the zip's root); the warnings."""
    template = json.loads((manifest_dir / TEMPLATE).read_text(encoding="utf-8"))
    manifest, warnings = build_manifest(template, app_id=app_id, bot_id=bot_id, domains=domains)
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as package:
        entries = [("manifest.json", (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode())]
        entries += [(name, (manifest_dir / name).read_bytes()) for name in ICONS]
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            package.writestr(info, data)
    return warnings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.manifest", description="Build the Teams app package")
    parser.add_argument("--app-id", default="", help="the Teams app id (TEAMS_APP_ID)")
    parser.add_argument("--bot-id", default="", help="the bot's Azure app id (MicrosoftAppId)")
    parser.add_argument("--domain", action="append", default=[], help="a valid domain (FRONTDOOR_BOT_DOMAIN)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    try:
        warnings = write_package(args.output, app_id=args.app_id, bot_id=args.bot_id, domains=args.domain)
    except PackageError as error:
        sys.stderr.write(f"make package: {error}\n")
        return 2
    for warning in warnings:
        sys.stderr.write(f"make package: warning: {warning}\n")
    sys.stdout.write(f"wrote {args.output}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
