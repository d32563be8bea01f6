"""Changing the role directory (SPEC §1): grant and revoke a role, each with its audit event.

The administrator's Teams commands call these; the caller commits the unit of work, so the change
and its audit event are saved together or not at all. A person is named by their Azure AD object
id only, never by a name someone typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from frontdoor.records import TEAM_NAME_MOST, AuditEvent, DirectoryEntry, team_name
from frontdoor.roles import Role
from frontdoor.unit_of_work import UnitOfWork

#: The longest Azure AD object id the directory accepts (they are 36-character GUIDs).
MAX_PERSON_ID = 128

GRANT_ACTION = "role.grant"
REVOKE_ACTION = "role.revoke"
TEAM_ACTION = "role.team"


class DirectoryError(Exception):
    """A directory change that is refused; the message is fit to show to the administrator."""


class LastAdministratorError(DirectoryError):
    """Revoking this would leave nobody able to manage the directory from Teams."""


@dataclass(frozen=True, slots=True)
class RoleChange:
    person_id: str
    role: Role
    #: False when the person already held (grant) or did not hold (revoke) the role
    changed: bool


def person_subject(person_id: str) -> str:
    """The audit subject of a person: the same form the command line writes."""
    return f"person:{person_id}"


def check_person_id(person_id: str) -> str:
    cleaned = person_id.strip()
    if not cleaned or len(cleaned) > MAX_PERSON_ID or any(ch.isspace() for ch in cleaned):
        raise DirectoryError("That is not an Azure AD object id.")
    return cleaned


async def grant_role(
    uow: UnitOfWork, *, actor_id: str, person_id: str, role: Role, at: datetime
) -> RoleChange:
    person_id = check_person_id(person_id)
    changed = await uow.roles.grant(person_id, role)
    if changed:
        await uow.audit.append(
            AuditEvent(
                at=at,
                actor_id=actor_id,
                action=GRANT_ACTION,
                subject=person_subject(person_id),
                detail=role.value,
            )
        )
    return RoleChange(person_id, role, changed)


async def revoke_role(
    uow: UnitOfWork, *, actor_id: str, person_id: str, role: Role, at: datetime
) -> RoleChange:
    """Revoke a role. The last administrator cannot lose the admin role: nobody could then grant
    it back from Teams (the command line still can)."""
    person_id = check_person_id(person_id)
    if role is Role.ADMIN:
        admins = {entry.aad_object_id for entry in await uow.roles.holders(Role.ADMIN)}
        if admins == {person_id}:
            raise LastAdministratorError(
                "That is the only administrator. Make someone else an administrator first."
            )
    changed = await uow.roles.revoke(person_id, role)
    if changed:
        await uow.audit.append(
            AuditEvent(
                at=at,
                actor_id=actor_id,
                action=REVOKE_ACTION,
                subject=person_subject(person_id),
                detail=role.value,
            )
        )
    return RoleChange(person_id, role, changed)


async def set_team(uow: UnitOfWork, *, actor_id: str, person_id: str, text: str, at: datetime) -> str:
    """Record the team a person of the directory works in (``text`` tidied; "" clears it), audited
    as ``role.team``; returns the team. The figures narrow and group by it (SPEC §11)."""
    person_id = check_person_id(person_id)
    team = team_name(text)
    if team is None:
        raise DirectoryError(f"A team's name is at most {TEAM_NAME_MOST} characters, on one line.")
    if not await uow.roles.set_team(person_id, team):
        raise DirectoryError("That person is not in the role directory: grant them a role first.")
    await uow.audit.append(
        AuditEvent(
            at=at,
            actor_id=actor_id,
            action=TEAM_ACTION,
            subject=person_subject(person_id),
            detail=team or "-",
        )
    )
    return team


def ordered_directory(entries: list[DirectoryEntry]) -> list[DirectoryEntry]:
    """Named people first, by name, then the ones the bot has not seen yet, by id."""
    return sorted(entries, key=lambda e: (not e.display_name, e.display_name.casefold(), e.aad_object_id))
