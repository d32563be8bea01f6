"""``find``'s registry on its own, with botbuilder's ``TestAdapter``: a kind of reference without a
finder, a finder's permission, and that a second finder for a kind is refused."""

from __future__ import annotations

import pytest
from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter

from bot.dialogs.find import Finders, register_find
from bot.routing import Actor, Router
from frontdoor.commands import CommandName, Scope, parse_command
from frontdoor.references import Reference, ReferenceKind
from frontdoor.roles import Permission, Role


def _actor(*roles: Role) -> Actor:
    return Actor("aad-0701", "Testy McTestface", frozenset(roles), Scope.PERSONAL, "a:chat")


def _adapter(finders: Finders, actor: Actor) -> TestAdapter:
    async def logic(turn_context: TurnContext) -> None:
        parsed = parse_command(turn_context.activity.text or "")
        assert parsed is not None and parsed.command.name is CommandName.FIND
        await finders.on_find(turn_context, actor, parsed)

    return TestAdapter(logic)


async def _found(turn_context: TurnContext, actor: Actor, reference: Reference) -> None:
    await turn_context.send_activity(f"found {reference} for {actor.aad_object_id}")


async def test_a_kind_without_a_finder_is_not_available_yet() -> None:
    router = Router()
    finders = register_find(router)
    assert router.commands[CommandName.FIND] == finders.on_find
    finders.register(ReferenceKind.CONSULTATION, _found, Permission.LOG_CONSULTATION)
    adapter = _adapter(finders, _actor(Role.OFFICER))
    await adapter.test("find CT-26-000001", "Contact search is not available yet.")
    await adapter.test("find pc 26 00001", "found PC-26-00001 for aad-0701")
    assert not finders.handles(ReferenceKind.CONTACT)


async def test_a_finder_is_only_reached_with_its_permission() -> None:
    finders = Finders()
    finders.register(ReferenceKind.CONTACT, _found, Permission.VIEW_CONTACTS)
    adapter = _adapter(finders, _actor())  # nobody in the directory: a professional
    step = await adapter.send("find CT-26-000001")
    await step.assert_reply(lambda activity, description: activity.text.startswith("Sorry, only "))


def test_a_kind_has_one_finder() -> None:
    finders = Finders()
    finders.register(ReferenceKind.CONTACT, _found, Permission.VIEW_CONTACTS)
    with pytest.raises(ValueError, match="registered twice"):
        finders.register(ReferenceKind.CONTACT, _found, Permission.VIEW_CONTACTS)
