"""``frontdoor.ports.RoleDirectory`` over SQL: ``role_directory``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import delete, select, update

from frontdoor.records import DirectoryEntry
from frontdoor.roles import Role
from store.repository import SqlRepository as _Repository
from store.tables import RoleDirectoryRow


def _entries(rows: Iterable[RoleDirectoryRow]) -> list[DirectoryEntry]:
    roles: dict[str, set[Role]] = defaultdict(set)
    names: dict[str, str] = {}
    for row in rows:
        roles[row.aad_object_id].add(Role(row.role))
        names[row.aad_object_id] = row.display_name
    return [DirectoryEntry(person, frozenset(roles[person]), names[person]) for person in sorted(roles)]


class SqlRoleDirectory(_Repository):
    async def roles_of(self, aad_object_id: str) -> frozenset[Role]:
        result = await self._session.execute(
            select(RoleDirectoryRow.role).where(RoleDirectoryRow.aad_object_id == aad_object_id)
        )
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

    async def entries(self) -> list[DirectoryEntry]:
        return _entries(await self._uow.rows(select(RoleDirectoryRow)))

    async def holders(self, role: Role) -> list[DirectoryEntry]:
        people = select(RoleDirectoryRow.aad_object_id).where(RoleDirectoryRow.role == role.value)
        return _entries(
            await self._uow.rows(select(RoleDirectoryRow).where(RoleDirectoryRow.aad_object_id.in_(people)))
        )

    async def set_display_name(self, aad_object_id: str, name: str) -> None:
        await self._uow.begin_write()
        await self._session.execute(
            update(RoleDirectoryRow)
            .where(RoleDirectoryRow.aad_object_id == aad_object_id)
            .values(display_name=name)
            .execution_options(synchronize_session=False)
        )
