"""``frontdoor.ports.ConversationStore`` over SQL: ``conversation_refs``."""

from __future__ import annotations

from collections.abc import Collection
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.sql.dml import ReturningInsert

from frontdoor.records import ConversationKind, ConversationRecord
from store.repository import SqlRepository as _Repository
from store.repository import Values as _Values
from store.repository import dialect_insert, table_of
from store.tables import ConversationRefRow

_CONVERSATIONS = table_of(ConversationRefRow)
#: every turn's read of its conversation (without authentication), built once
_BY_ID = select(_CONVERSATIONS).where(_CONVERSATIONS.c.conversation_id == bindparam("conversation_id"))


@cache
def _upsert(dialect: str, columns: tuple[str, ...], keep_service_url: bool) -> ReturningInsert[Any]:
    """Every turn's upsert of its conversation, built once per database, set of columns and
    ``keep_service_url``: it gives back the conversation's id when it inserted or updated."""
    statement = dialect_insert(dialect, _CONVERSATIONS).values({name: bindparam(name) for name in columns})
    keep = _CONVERSATIONS.c.service_url == statement.excluded.service_url if keep_service_url else None
    return statement.on_conflict_do_update(
        index_elements=[_CONVERSATIONS.c.conversation_id],
        set_={name: statement.excluded[name] for name in columns if name != "conversation_id"},
        where=keep,
    ).returning(_CONVERSATIONS.c.conversation_id)


def _conversation(row: ConversationRefRow | Any) -> ConversationRecord:
    """From a mapped row or a Core row of the same columns."""
    return ConversationRecord(
        conversation_id=row.conversation_id,
        kind=ConversationKind(row.kind),
        tenant_id=row.tenant_id,
        service_url=row.service_url,
        reference=row.reference,
        updated_at=row.updated_at,
        user_id=row.user_id,
        team_id=row.team_id,
        channel_id=row.channel_id,
        dead=row.dead,
        dead_reason=row.dead_reason,
    )


class SqlConversationStore(_Repository):
    async def upsert(self, record: ConversationRecord, *, keep_service_url: bool = False) -> bool:
        await self._uow.begin_write()
        values: _Values = {
            "conversation_id": record.conversation_id,
            "kind": record.kind.value,
            "tenant_id": record.tenant_id,
            "service_url": record.service_url,
            "user_id": record.user_id,
            "team_id": record.team_id,
            "channel_id": record.channel_id,
            "reference": record.reference,
            "updated_at": record.updated_at,
            "dead": record.dead,
            "dead_reason": record.dead_reason,
        }
        statement = _upsert(self._uow.dialect, tuple(values), keep_service_url)
        return (await self._session.execute(statement, values)).first() is not None

    async def get(self, conversation_id: str) -> ConversationRecord | None:
        row = (await self._session.execute(_BY_ID, {"conversation_id": conversation_id})).first()
        return None if row is None else _conversation(row)

    async def personal_chat_of(self, user_id: str) -> ConversationRecord | None:
        """The user's personal chat with the bot: a live one before a dead one, newest first."""
        rows = await self._uow.rows(
            select(ConversationRefRow)
            .where(
                ConversationRefRow.user_id == user_id,
                ConversationRefRow.kind == ConversationKind.PERSONAL.value,
            )
            .order_by(ConversationRefRow.dead, ConversationRefRow.updated_at.desc())
            .limit(1)
        )
        return _conversation(rows[0]) if rows else None

    async def personal_chats_of(self, user_ids: Collection[str]) -> dict[str, ConversationRecord]:
        if not user_ids:
            return {}
        rows = await self._uow.rows(
            select(ConversationRefRow)
            .where(
                ConversationRefRow.user_id.in_(sorted(set(user_ids))),
                ConversationRefRow.kind == ConversationKind.PERSONAL.value,
            )
            .order_by(ConversationRefRow.dead, ConversationRefRow.updated_at.desc())
        )
        chats: dict[str, ConversationRecord] = {}
        for row in rows:  # each person's first row is the one ``personal_chat_of`` would give
            if row.user_id is not None and row.user_id not in chats:
                chats[row.user_id] = _conversation(row)
        return chats

    async def mark_dead(self, conversation_id: str, reason: str) -> None:
        await self._uow.begin_write()
        await self._session.execute(
            update(ConversationRefRow)
            .where(ConversationRefRow.conversation_id == conversation_id)
            .values(dead=True, dead_reason=reason)
            .execution_options(synchronize_session=False)
        )

    async def dead(self) -> list[ConversationRecord]:
        rows = await self._uow.rows(
            select(ConversationRefRow)
            .where(ConversationRefRow.dead.is_(True))
            .order_by(ConversationRefRow.conversation_id)
        )
        return [_conversation(row) for row in rows]
