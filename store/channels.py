"""``frontdoor.ports.ChannelRegistry`` over SQL: ``channel_registrations``."""

from __future__ import annotations

from sqlalchemy import select

from frontdoor.records import ChannelPurpose, ChannelRegistration
from store.repository import SqlRepository as _Repository
from store.repository import Values as _Values
from store.tables import ChannelRegistrationRow


def _registration(row: ChannelRegistrationRow) -> ChannelRegistration:
    return ChannelRegistration(
        purpose=ChannelPurpose(row.purpose),
        conversation_id=row.conversation_id,
        registered_by=row.registered_by,
        registered_at=row.registered_at,
    )


class SqlChannelRegistry(_Repository):
    async def register(self, registration: ChannelRegistration) -> ChannelRegistration | None:
        await self._uow.begin_write()
        previous = await self.get(registration.purpose)
        values: _Values = {
            "purpose": registration.purpose.value,
            "conversation_id": registration.conversation_id,
            "registered_by": registration.registered_by,
            "registered_at": registration.registered_at,
        }
        statement = self._uow.insert(ChannelRegistrationRow).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[ChannelRegistrationRow.purpose],
            set_={key: statement.excluded[key] for key in values if key != "purpose"},
        )
        await self._session.execute(statement)
        return previous

    async def get(self, purpose: ChannelPurpose) -> ChannelRegistration | None:
        rows = await self._uow.rows(
            select(ChannelRegistrationRow).where(ChannelRegistrationRow.purpose == purpose.value)
        )
        return _registration(rows[0]) if rows else None
