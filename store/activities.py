"""``frontdoor.ports.ProcessedActivities`` over SQL: ``processed_activities``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from store.repository import SqlRepository as _Repository
from store.repository import table_of
from store.tables import ProcessedActivityRow

_PROCESSED = table_of(ProcessedActivityRow)


class SqlProcessedActivities(_Repository):
    async def claim(self, key: str, at: datetime) -> bool:
        await self._uow.begin_write()
        statement = (
            self._uow.insert(_PROCESSED)
            .values(activity_id=key, seen_at=at)
            .on_conflict_do_nothing()
            .returning(_PROCESSED.c.activity_id)
        )
        return (await self._session.execute(statement)).first() is not None

    async def release(self, key: str) -> None:
        await self._uow.begin_write()
        await self._session.execute(
            delete(ProcessedActivityRow)
            .where(ProcessedActivityRow.activity_id == key)
            .execution_options(synchronize_session=False)
        )

    async def prune(self, before: datetime) -> int:
        await self._uow.begin_write()
        statement = (
            delete(ProcessedActivityRow)
            .where(ProcessedActivityRow.seen_at < before)
            .returning(ProcessedActivityRow.activity_id)
            .execution_options(synchronize_session=False)
        )
        return len((await self._session.execute(statement)).all())
