"""The help card: the commands this person may use here.

It depends on nothing but its arguments, and ``help`` is the commonest turn: each card is built
once (per roles, place, and, for someone with no role, their id) and kept as its JSON text, from
which every call returns a fresh copy.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from microsoft_teams.cards import AdaptiveCard, Container, TextBlock

from bot.cards.common import to_dict
from bot.replies import DEMO_NOTICE, grant_line
from frontdoor.commands import COMMANDS, Command, Scope
from frontdoor.roles import Role, may


def examples(command: Command) -> list[str]:
    """How ``command`` is typed, one example a line: ``find PC-26-00012``, ``find CT-26-000123``."""
    usages = [command.usage, *command.more_usage] if command.usage else [""]
    return [f"{command.words} {usage}".strip() for usage in usages]


def _command(command: Command) -> Container:
    """A command as it is typed, each example on a line of its own across the card's width (a
    narrow column would break a reference mid-way), then what it does."""
    typed = [
        TextBlock(text=example, font_type="Monospace", weight="Bolder", wrap=True, spacing="None")
        for example in examples(command)
    ]
    return Container(
        spacing="Small",
        items=[*typed, TextBlock(text=command.description, is_subtle=True, wrap=True, spacing="None")],
    )


def help_card(
    roles: Iterable[Role],
    scope: Scope,
    unknown: bool = False,
    aad_object_id: str | None = None,
    demo: bool = False,
) -> dict[str, Any]:
    """``aad_object_id``: the person's id, shown with the grant line when they hold no role;
    ``demo``: the bot runs in demo mode (``bot.demo``)."""
    held = frozenset(roles)
    card: dict[str, Any] = json.loads(_help_json(held, scope, unknown, None if held else aad_object_id, demo))
    return card


@lru_cache(maxsize=512)
def _help_json(
    held: frozenset[Role], scope: Scope, unknown: bool, aad_object_id: str | None, demo: bool
) -> str:
    commands = [
        _command(command)
        for command in COMMANDS
        if scope in command.scopes and (command.permission is None or may(held, command.permission))
    ]
    body: list[Any] = []
    if unknown:
        body.append(TextBlock(text="Sorry, I didn't recognise that. Here is what I can do.", wrap=True))
    body += [
        TextBlock(text="Front door bot", size="Large", weight="Bolder", wrap=True),
        TextBlock(
            text="Children's services front door: contacts, threshold decisions and their deadlines.",
            is_subtle=True,
            wrap=True,
        ),
        *commands,
    ]
    if aad_object_id is not None and not held:
        # the id and the line to copy in code format, each on a line of its own: in a sentence, the
        # id was cut at one of its hyphens ("3f0c2a9e-" / "5b1d-…") on a Teams card 400 px wide
        body += [
            TextBlock(text="You have no role yet. Your Azure AD object id:", wrap=True),
            TextBlock(text=aad_object_id, font_type="Monospace", wrap=True, spacing="None"),
            TextBlock(text="Give an administrator this line:", wrap=True, spacing="Small"),
            TextBlock(text=grant_line(aad_object_id), font_type="Monospace", wrap=True, spacing="None"),
        ]
    if demo:
        body.append(TextBlock(text=DEMO_NOTICE, wrap=True, color="Attention"))
    return json.dumps(
        to_dict(AdaptiveCard(body=body, fallback_text="Front door bot: type 'help' to see the commands."))
    )
