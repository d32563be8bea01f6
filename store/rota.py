"""``frontdoor.ports.DutyRota`` over SQL: ``duty_rota``."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select

from frontdoor.records import RotaEntry
from frontdoor.roles import Role
from store.repository import SqlRepository as _Repository
from store.tables import DutyRotaRow


class SqlDutyRota(_Repository):
    async def set(self, entry: RotaEntry) -> None:
        await self._uow.begin_write()
        await self._session.execute(
            self._uow.insert(DutyRotaRow)
            .values(day=entry.day, role=entry.role.value, person_id=entry.person_id)
            .on_conflict_do_nothing()
        )

    async def remove(self, entry: RotaEntry) -> bool:
        await self._uow.begin_write()
        statement = (
            delete(DutyRotaRow)
            .where(
                DutyRotaRow.day == entry.day,
                DutyRotaRow.role == entry.role.value,
                DutyRotaRow.person_id == entry.person_id,
            )
            .returning(DutyRotaRow.person_id)
            .execution_options(synchronize_session=False)
        )
        return (await self._session.execute(statement)).first() is not None

    async def on(self, day: date) -> list[RotaEntry]:
        rows = await self._uow.rows(
            select(DutyRotaRow)
            .where(DutyRotaRow.day == day)
            .order_by(DutyRotaRow.role, DutyRotaRow.person_id)
        )
        return [RotaEntry(day=row.day, role=Role(row.role), person_id=row.person_id) for row in rows]
