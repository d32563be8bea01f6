"""``frontdoor.ports.ProcessedActivities`` over SQL: ``processed_activities``."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, delete
from sqlalchemy.sql.dml import ReturningInsert

from store.repository import SqlRepository as _Repository
from store.repository import dialect_insert, table_of
from store.tables import ProcessedActivityRow

_PROCESSED = table_of(ProcessedActivityRow)


@cache
def _claim(dialect: str) -> ReturningInsert[tuple[str]]:
    """Every turn's claim, built once per database (``key``, ``at``)."""
    return (
        dialect_insert(dialect, _PROCESSED)
        .values(activity_id=bindparam("key"), seen_at=bindparam("at"))
        .on_conflict_do_nothing()
        .returning(_PROCESSED.c.activity_id)
    )


class SqlProcessedActivities(_Repository):
    async def claim(self, key: str, at: datetime) -> bool:
        await self._uow.begin_write()
        result = await self._session.execute(_claim(self._uow.dialect), {"key": key, "at": at})
        return result.first() is not None

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
