"""``frontdoor.ports.RoleDirectory`` over SQL: ``role_directory``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, delete, select, update

from frontdoor.records import DirectoryEntry
from frontdoor.roles import Role
from store.repository import SqlRepository as _Repository
from store.repository import table_of
from store.tables import RoleDirectoryRow, WorkerTeamRow

_DIRECTORY = table_of(RoleDirectoryRow)
_ENTRY = select(_DIRECTORY.c.aad_object_id, _DIRECTORY.c.role, _DIRECTORY.c.display_name)
_TEAMS = select(table_of(WorkerTeamRow).c.aad_object_id, table_of(WorkerTeamRow).c.team)
#: a person's roles (``person``), built once
_ROLES_OF = select(_DIRECTORY.c.role).where(_DIRECTORY.c.aad_object_id == bindparam("person"))
#: every turn's update of the sender's name (``person``, ``name``), giving their roles; built once
_NAMED_ROLES = (
    update(_DIRECTORY)
    .where(_DIRECTORY.c.aad_object_id == bindparam("person"))
    .values(display_name=bindparam("name"))
    .returning(_DIRECTORY.c.role)
)


def _entries(rows: Iterable[Any], teams: dict[str, str]) -> list[DirectoryEntry]:
    """From rows of ``_ENTRY``'s columns."""
    roles: dict[str, set[Role]] = defaultdict(set)
    names: dict[str, str] = {}
    for row in rows:
        roles[row.aad_object_id].add(Role(row.role))
        names[row.aad_object_id] = row.display_name
    return [
        DirectoryEntry(person, frozenset(roles[person]), names[person], teams.get(person, ""))
        for person in sorted(roles)
    ]


class SqlRoleDirectory(_Repository):
    async def roles_of(self, aad_object_id: str) -> frozenset[Role]:
        result = await self._session.execute(_ROLES_OF, {"person": aad_object_id})
        return frozenset(Role(value) for value in result.scalars())

    async def grant(self, aad_object_id: str, role: Role) -> bool:
        await self._uow.begin_write()
        known = await self._session.execute(
            select(RoleDirectoryRow.display_name)
            .where(RoleDirectoryRow.aad_object_id == aad_object_id)
            .limit(1)
        )
        name = known.scalar_one_or_none() or ""
        statement = (
            self._uow.insert(RoleDirectoryRow)
            .values(aad_object_id=aad_object_id, role=role.value, display_name=name)
            .on_conflict_do_nothing()
            .returning(RoleDirectoryRow.role)
        )
        return (await self._session.execute(statement)).first() is not None

    async def revoke(self, aad_object_id: str, role: Role) -> bool:
        await self._uow.begin_write()
        statement = (
            delete(RoleDirectoryRow)
            .where(RoleDirectoryRow.aad_object_id == aad_object_id, RoleDirectoryRow.role == role.value)
            .returning(RoleDirectoryRow.role)
            .execution_options(synchronize_session=False)
        )
        return (await self._session.execute(statement)).first() is not None

    async def _teams(self) -> dict[str, str]:
        rows = await self._session.execute(_TEAMS)
        return {person: team for person, team in rows.all()}

    async def entries(self) -> list[DirectoryEntry]:
        return _entries((await self._session.execute(_ENTRY)).all(), await self._teams())

    async def holders(self, role: Role) -> list[DirectoryEntry]:
        people = select(_DIRECTORY.c.aad_object_id).where(_DIRECTORY.c.role == role.value)
        rows = await self._session.execute(_ENTRY.where(_DIRECTORY.c.aad_object_id.in_(people)))
        return _entries(rows.all(), await self._teams())

    async def set_team(self, aad_object_id: str, team: str) -> bool:
        await self._uow.begin_write()
        if not await self.roles_of(aad_object_id):
            return False
        await self._session.execute(delete(WorkerTeamRow).where(WorkerTeamRow.aad_object_id == aad_object_id))
        if team:
            await self._session.execute(
                self._uow.insert(WorkerTeamRow).values(aad_object_id=aad_object_id, team=team)
            )
        return True

    async def set_display_name(self, aad_object_id: str, name: str) -> None:
        await self.named_roles(aad_object_id, name)

    async def named_roles(self, aad_object_id: str, name: str) -> frozenset[Role]:
        await self._uow.begin_write()
        result = await self._session.execute(_NAMED_ROLES, {"person": aad_object_id, "name": name})
        return frozenset(Role(value) for value in result.scalars())
