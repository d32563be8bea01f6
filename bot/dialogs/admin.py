"""Administration in Teams: ``roles``, ``grant @person role``, ``revoke @person role`` and
``team @person team name`` (the team a person works in, which the figures narrow by).

Only administrators (``Permission.MANAGE_DIRECTORY``) reach these handlers: the activity handler
checks the command's permission first, and each handler checks again, so a routing mistake can
never open the directory to anyone else. Every change is audited by ``frontdoor.directory``.

The person is named by an @mention. Teams puts the mentioned user's Bot Framework id (``29:…``)
and display name in the mention entity, usually without the Azure AD object id the directory is
keyed by, so the id is looked up in the conversation's roster (``TeamsInfo.get_member``); an
administrator may also type the object id itself. When neither gives an object id, the reply says
so and how to proceed — a role is never granted to a name.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsInfo

from bot.cards.admin import directory_card
from bot.routing import Actor, Router
from frontdoor.agencies import Agency, parse_agency
from frontdoor.commands import CommandName, ParsedCommand
from frontdoor.directory import (
    DirectoryError,
    check_person_id,
    grant_role,
    ordered_directory,
    revoke_role,
    set_team,
)
from frontdoor.mash import audit_partner_agency
from frontdoor.ports import Clock
from frontdoor.roles import Permission, Role, parse_role
from frontdoor.unit_of_work import Store

log = logging.getLogger(__name__)

_AT_TAG = re.compile(r"<at[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)
_OBJECT_ID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
_VALID_ROLES = ", ".join(role.value for role in Role)
_AGENCIES = "where agency is one of: " + ", ".join(agency.value for agency in Agency)

NOT_ADMIN = "Sorry, only administrators can change the role directory."


@dataclass(frozen=True, slots=True)
class Person:
    """Someone an administrator named: always with an Azure AD object id."""

    aad_object_id: str
    name: str

    @property
    def label(self) -> str:
        return self.name or self.aad_object_id


@dataclass(frozen=True, slots=True)
class MentionedUser:
    """A user @mentioned in a message, as Teams describes them."""

    id: str
    name: str
    aad_object_id: str


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def mentioned_users(turn_context: TurnContext) -> list[MentionedUser]:
    """The people @mentioned in the message, without the bot itself, each once. Entities are read
    defensively: a malformed one is skipped, never trusted."""
    activity = turn_context.activity
    bot_id = _text(getattr(activity.recipient, "id", None))
    found: dict[str, MentionedUser] = {}
    for entity in activity.entities or []:
        if getattr(entity, "type", None) != "mention":
            continue
        properties = getattr(entity, "additional_properties", None)
        mentioned = properties.get("mentioned") if isinstance(properties, dict) else None
        if not isinstance(mentioned, dict):
            continue
        member_id = _text(mentioned.get("id"))
        if not member_id or member_id == bot_id or member_id in found:
            continue
        found[member_id] = MentionedUser(
            id=member_id, name=_text(mentioned.get("name")), aad_object_id=_text(mentioned.get("aadObjectId"))
        )
    return list(found.values())


async def _object_id_of(turn_context: TurnContext, user: MentionedUser) -> str:
    """The mentioned user's Azure AD object id: from the mention, else from the roster."""
    if user.aad_object_id:
        return user.aad_object_id
    try:
        member = await TeamsInfo.get_member(turn_context, user.id)
    except Exception as error:  # not in this conversation's roster, or Teams refused: say so
        log.info(
            "mentioned user not found in the roster",
            extra={"activity_id": turn_context.activity.id or "", "error_code": type(error).__name__},
        )
        return ""
    return _text(getattr(member, "aad_object_id", None))


class _Admin:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def roles(self, turn_context: TurnContext, actor: Actor, parsed: ParsedCommand) -> None:
        if not actor.may(Permission.MANAGE_DIRECTORY):
            await turn_context.send_activity(NOT_ADMIN)
            return
        async with self._store.unit_of_work() as uow:
            entries = ordered_directory(await uow.roles.entries())
        card = directory_card(entries)
        await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(card)))

    async def grant(self, turn_context: TurnContext, actor: Actor, parsed: ParsedCommand) -> None:
        await self._change(turn_context, actor, parsed, grant=True)

    async def revoke(self, turn_context: TurnContext, actor: Actor, parsed: ParsedCommand) -> None:
        await self._change(turn_context, actor, parsed, grant=False)

    async def _change(
        self, turn_context: TurnContext, actor: Actor, parsed: ParsedCommand, *, grant: bool
    ) -> None:
        if not actor.may(Permission.MANAGE_DIRECTORY):
            await turn_context.send_activity(NOT_ADMIN)
            return
        verb = "grant" if grant else "revoke"
        usage = f"Type **{verb} @person role**, mentioning one person, where role is one of: {_VALID_ROLES}."
        person, problem = await self._person(turn_context, parsed.argument, verb)
        if person is None:
            await turn_context.send_activity(problem or usage)
            return
        role_text = _OBJECT_ID.sub(" ", _AT_TAG.sub(" ", parsed.argument)).strip()
        if not role_text:
            await turn_context.send_activity(f"Which role? {usage}")
            return
        # A partner is tied to their agency: "grant @person partner police".
        words = role_text.split(maxsplit=1)
        agency: Agency | None = None
        if grant and words and words[0].lower() == Role.PARTNER.value:
            role_text = words[0]
            try:
                agency = parse_agency(words[1] if len(words) > 1 else "")
            except ValueError:
                await turn_context.send_activity(
                    f"Which agency? Type **grant @person partner agency**, {_AGENCIES}."
                )
                return
        try:
            role = parse_role(role_text)
        except ValueError:
            await turn_context.send_activity(f"I don't know that role. {usage}")
            return
        try:
            async with self._store.unit_of_work() as uow:
                if role is Role.PARTNER:
                    # The agency's row before the role's audit row (see ``audit_partner_agency``).
                    await uow.mash.set_agency(check_person_id(person.aad_object_id), agency)
                change = await (grant_role if grant else revoke_role)(
                    uow,
                    actor_id=actor.aad_object_id,
                    person_id=person.aad_object_id,
                    role=role,
                    at=self._clock.now(),
                )
                if role is Role.PARTNER:
                    await audit_partner_agency(
                        uow, person.aad_object_id, agency, actor_id=actor.aad_object_id, now=self._clock.now()
                    )
                await uow.commit()
        except DirectoryError as refused:
            await turn_context.send_activity(str(refused))
            return
        log.info(
            "role directory changed" if change.changed else "role directory unchanged",
            extra={
                "activity_id": turn_context.activity.id or "",
                "action": f"role.{verb}",
                "aad_object_id": change.person_id,
                "role": role.value,
            },
        )
        if change.changed:
            done = "now has" if grant else "no longer has"
            await turn_context.send_activity(f"Done: {person.label} {done} the role **{role.value}**.")
        else:
            held = "already has" if grant else "does not have"
            await turn_context.send_activity(f"No change: {person.label} {held} the role **{role.value}**.")

    async def team(self, turn_context: TurnContext, actor: Actor, parsed: ParsedCommand) -> None:
        if not actor.may(Permission.MANAGE_DIRECTORY):
            await turn_context.send_activity(NOT_ADMIN)
            return
        usage = "Type **team @person team name**, mentioning one person; **team @person** alone clears it."
        person, problem = await self._person(turn_context, parsed.argument, "team", "record a team")
        if person is None:
            await turn_context.send_activity(problem or usage)
            return
        text = _OBJECT_ID.sub(" ", _AT_TAG.sub(" ", parsed.argument))
        try:
            async with self._store.unit_of_work() as uow:
                team = await set_team(
                    uow,
                    actor_id=actor.aad_object_id,
                    person_id=person.aad_object_id,
                    text=text,
                    at=self._clock.now(),
                )
                await uow.commit()
        except DirectoryError as refused:
            await turn_context.send_activity(str(refused))
            return
        log.info(
            "role directory team recorded",
            extra={"activity_id": turn_context.activity.id or "", "aad_object_id": person.aad_object_id},
        )
        done = f"is in the team **{team}**" if team else "is in no team now"
        await turn_context.send_activity(f"Done: {person.label} {done}.")

    async def _person(
        self, turn_context: TurnContext, argument: str, verb: str, what: str = ""
    ) -> tuple[Person | None, str]:
        """The one person the command names, or None and what to tell the administrator."""
        mentioned = mentioned_users(turn_context)
        typed = {match.lower() for match in _OBJECT_ID.findall(_AT_TAG.sub(" ", argument))}
        if len(mentioned) + len(typed) > 1:
            return None, f"Please {what or verb + ' a role'} for one person at a time."
        if typed:
            return Person(aad_object_id=typed.pop(), name=""), ""
        if not mentioned:
            return None, ""
        user = mentioned[0]
        aad_object_id = await _object_id_of(turn_context, user)
        if not aad_object_id:
            who = user.name or "that person"
            what_follows = "team name" if verb == "team" else "role"
            return None, (
                f"I couldn't find the Azure AD object id of {who}: Teams did not send it and they are "
                "not a member of this conversation. Mention them in a chat or channel they belong to, "
                f"or type their object id instead of the mention ({verb} <object id> {what_follows})."
            )
        return Person(aad_object_id=aad_object_id, name=user.name), ""


def register(router: Router, store: Store, clock: Clock) -> None:
    """Add the administration commands to ``router``."""
    admin = _Admin(store, clock)
    router.command(CommandName.ROLES, admin.roles)
    router.command(CommandName.GRANT, admin.grant)
    router.command(CommandName.REVOKE, admin.revoke)
    router.command(CommandName.TEAM, admin.team)
