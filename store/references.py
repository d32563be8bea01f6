"""``frontdoor.ports.ReferenceSequence`` over SQL: ``reference_sequences``."""

from __future__ import annotations

from store.repository import SqlRepository as _Repository
from store.tables import ReferenceSequenceRow


class SqlReferenceSequence(_Repository):
    async def allocate(self, prefix: str, year: int) -> int:
        if not prefix or len(prefix) > 8 or year < 0:
            raise ValueError(f"bad reference sequence {prefix!r} {year}")
        await self._uow.begin_write()
        statement = self._uow.insert(ReferenceSequenceRow).values(prefix=prefix, year=year, last_value=1)
        statement = statement.on_conflict_do_update(
            index_elements=[ReferenceSequenceRow.prefix, ReferenceSequenceRow.year],
            set_={"last_value": ReferenceSequenceRow.last_value + 1},
        )
        result = await self._session.execute(statement.returning(ReferenceSequenceRow.last_value))
        value: int = result.scalar_one()
        return value
