"""``find <reference>``: one command for every kind of record, dispatched by the reference's kind.

A feature plugs its finder in for its kind of reference (``finders.register(ReferenceKind.CONTACT,
handler, Permission.VIEW_CONTACTS)``) in the composition root, without touching this module or the
other features. A kind with no finder registered yet gets a plain "not available yet"; a person
without the finder's permission gets the polite refusal naming who may.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from botbuilder.core import TurnContext

from bot.replies import refusal
from bot.routing import Actor, Router
from frontdoor.commands import CommandName, ParsedCommand
from frontdoor.errors import InvalidReferenceError
from frontdoor.references import Reference, ReferenceKind, parse_reference
from frontdoor.roles import Permission

log = logging.getLogger(__name__)

FindHandler = Callable[[TurnContext, Actor, Reference], Awaitable[None]]

#: What each kind of record is called in "… search is not available yet".
_KIND_NAMES: dict[ReferenceKind, str] = {
    ReferenceKind.CONTACT: "Contact",
    ReferenceKind.CONSULTATION: "Consultation",
    ReferenceKind.MASH_EPISODE: "MASH episode",
    ReferenceKind.BODY_REQUEST: "Information request",
}

USAGE = "Type **find** and a reference, for example **find PC-26-00012** or **find CT-26-000123**."


@dataclass(frozen=True, slots=True)
class _Finder:
    handler: FindHandler
    permission: Permission


@dataclass
class Finders:
    """The finder for each kind of reference."""

    _finders: dict[ReferenceKind, _Finder] = field(default_factory=dict)

    def register(self, kind: ReferenceKind, handler: FindHandler, permission: Permission) -> None:
        if kind in self._finders:
            raise ValueError(f"a finder for {kind.value} references is registered twice")
        self._finders[kind] = _Finder(handler, permission)

    def handles(self, kind: ReferenceKind) -> bool:
        return kind in self._finders

    async def on_find(self, turn_context: TurnContext, actor: Actor, parsed: ParsedCommand) -> None:
        try:
            reference = parse_reference(parsed.argument)
        except InvalidReferenceError:
            await turn_context.send_activity(
                USAGE if not parsed.argument.strip() else f"That is not a reference. {USAGE}"
            )
            return
        finder = self._finders.get(reference.kind)
        if finder is None:
            await turn_context.send_activity(f"{_KIND_NAMES[reference.kind]} search is not available yet.")
            return
        if not actor.may(finder.permission):
            await turn_context.send_activity(refusal(finder.permission))
            return
        log.info("find", extra={"reference": str(reference)})
        await finder.handler(turn_context, actor, reference)


def register_find(router: Router) -> Finders:
    """Register the ``find`` command; features then register their finders on what is returned."""
    finders = Finders()
    router.command(CommandName.FIND, finders.on_find)
    return finders
