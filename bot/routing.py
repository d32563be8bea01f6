"""How a turn reaches a feature: text commands, card submissions and card actions.

Features (``bot/dialogs/*``) register handlers here; the activity handler looks them up. Card
submissions (``Action.Submit``) carry ``{"fd": "<action id>", ...}`` in their data and
``Action.Execute`` actions carry the action id as their verb. The person acting is always the
activity's sender with the roles the directory gives them: an ``Actor`` is built by the handler,
never from card data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botbuilder.core import TurnContext

from bot.access import ACCESS, Place, Rule, Surface, UnlistedError, rule_for, unregistered
from frontdoor.acting import Who
from frontdoor.commands import CommandName, ParsedCommand, Scope
from frontdoor.roles import Permission, Role, may


@dataclass(frozen=True, slots=True)
class Actor:
    aad_object_id: str
    name: str
    roles: frozenset[Role]
    scope: Scope
    conversation_id: str
    #: the kind of conversation the turn came from (the registered channels are told apart)
    place: Place = Place.PERSONAL

    def may(self, permission: Permission) -> bool:
        return may(self.roles, permission)

    @property
    def who(self) -> Who:
        """Who acts, as the use cases take it."""
        return Who(self.aad_object_id, self.roles)


@dataclass(frozen=True, slots=True)
class CardAction:
    """A card submission or ``Action.Execute``: the action id and the rest of its data."""

    action: str
    data: Mapping[str, Any]
    #: the id of the message holding the card, when the channel says
    card_activity_id: str | None = None


@dataclass(frozen=True, slots=True)
class InvokeReply:
    """The answer to an ``Action.Execute``: a card to show in place of the old one, or a message."""

    card: Mapping[str, Any] | None = None
    message: str | None = None

    def body(self) -> dict[str, Any]:
        if self.card is not None:
            return {
                "statusCode": 200,
                "type": "application/vnd.microsoft.card.adaptive",
                "value": dict(self.card),
            }
        return {
            "statusCode": 200,
            "type": "application/vnd.microsoft.activity.message",
            "value": self.message or "Done.",
        }


CommandHandler = Callable[[TurnContext, Actor, ParsedCommand], Awaitable[None]]
SubmitHandler = Callable[[TurnContext, Actor, CardAction], Awaitable[None]]
ExecuteHandler = Callable[[TurnContext, Actor, CardAction], Awaitable[InvokeReply]]


@dataclass
class Router:
    """Every handler is registered with a rule of the authorization table (``bot.access``):
    registering one that has no rule raises ``UnlistedError``, so the app does not start."""

    commands: dict[CommandName, CommandHandler] = field(default_factory=dict)
    submissions: dict[str, SubmitHandler] = field(default_factory=dict)
    executions: dict[str, ExecuteHandler] = field(default_factory=dict)
    #: what to do with plain text (not a command) in a personal chat, e.g. remind about a waiting card
    text_fallbacks: list[Callable[[TurnContext, Actor, str], Awaitable[bool]]] = field(default_factory=list)
    table: Mapping[tuple[Surface, str], Rule] = field(default_factory=lambda: ACCESS)

    def rule(self, surface: Surface, name: str) -> Rule:
        return rule_for(surface, name, self.table)

    def registered(self) -> list[tuple[Surface, str]]:
        """Every command, submission action and verb with a handler, in the table's terms."""
        return [
            (Surface.COMMAND, CommandName.HELP.value),  # answered by the activity handler itself
            *((Surface.COMMAND, name.value) for name in self.commands),
            *((Surface.SUBMISSION, action) for action in self.submissions),
            *((Surface.EXECUTION, verb) for verb in self.executions),
        ]

    def verify(self) -> None:
        """Raise ``UnlistedError`` when the table has rules nothing is registered for."""
        left = unregistered(self.registered(), self.table)
        if left:
            raise UnlistedError(f"the authorization table has entries nothing handles: {', '.join(left)}")

    def command(self, name: CommandName, handler: CommandHandler) -> None:
        self.rule(Surface.COMMAND, name.value)
        if name in self.commands:
            raise ValueError(f"command {name} is registered twice")
        self.commands[name] = handler

    def submission(self, action: str, handler: SubmitHandler) -> None:
        self.rule(Surface.SUBMISSION, action)
        if action in self.submissions:
            raise ValueError(f"card action {action} is registered twice")
        self.submissions[action] = handler

    def execution(self, verb: str, handler: ExecuteHandler) -> None:
        self.rule(Surface.EXECUTION, verb)
        if verb in self.executions:
            raise ValueError(f"card verb {verb} is registered twice")
        self.executions[verb] = handler
