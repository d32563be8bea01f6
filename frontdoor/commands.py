"""The text commands people type to the bot, as data.

The help card, the command router and the Teams app manifest's command lists all read this
table, so a command is listed if and only if the bot answers it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from frontdoor.roles import Permission


class Scope(StrEnum):
    PERSONAL = "personal"
    TEAM = "team"
    GROUP_CHAT = "groupChat"


class CommandName(StrEnum):
    HELP = "help"


@dataclass(frozen=True, slots=True)
class Command:
    name: CommandName
    #: how it is typed; the first word(s) of a message
    words: str
    description: str
    scopes: frozenset[Scope]
    #: None: anyone may use it
    permission: Permission | None = None
    #: shown as ``usage`` in help when the command takes an argument
    usage: str = ""


ALL_SCOPES = frozenset(Scope)

COMMANDS: tuple[Command, ...] = (Command(CommandName.HELP, "help", "What I can do for you", ALL_SCOPES),)


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    command: Command
    argument: str


_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower-case, collapse white space and drop a trailing full stop or question mark."""
    return _SPACE.sub(" ", text).strip().rstrip(".?!").strip().lower()


def parse_command(text: str) -> ParsedCommand | None:
    """Match a message to a command by its leading words; None when nothing matches."""
    cleaned = normalise(text)
    # Longest first, so "register duty channel" is not taken for a shorter command.
    for command in sorted(COMMANDS, key=lambda c: len(c.words), reverse=True):
        if cleaned == command.words or cleaned.startswith(command.words + " "):
            argument = _SPACE.sub(" ", text).strip()[len(command.words) :].strip()
            return ParsedCommand(command, argument)
    return None
