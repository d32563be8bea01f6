"""``frontdoor.mail.MailRepository`` over SQL (the ``mail_items`` table).

``add`` is an ``INSERT … ON CONFLICT DO NOTHING``: the table's two unique constraints (Message-ID,
and mailbox + UID validity + UID) make a second insert of the same message a no-op, whether it
comes from a restarted watcher or from another process racing this one.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Select, delete, func, select, update

from frontdoor.mail_records import MailboxMark, MailItem, MailState, NotReferralReason
from frontdoor.ports import NotFoundError, StaleVersionError
from store.repository import SqlRepository
from store.tables import MailboxMarkRow, MailItemRow


def _values(item: MailItem) -> dict[str, object]:
    return {
        "id": item.id,
        "mailbox": item.mailbox,
        "uid_validity": item.uid_validity,
        "uid": item.uid,
        "message_id": item.message_id,
        "received_at": item.received_at,
        "sender_name": item.sender_name,
        "sender_address": item.sender_address,
        "subject": item.subject,
        "attachments": list(item.attachments),
        "preview": item.preview,
        "size": item.size,
        "state": item.state.value,
        "version": item.version,
        "taken_by": item.taken_by,
        "taken_at": item.taken_at,
        "contact_id": item.contact_id,
        "reason": item.reason.value if item.reason is not None else None,
        "reason_detail": item.reason_detail,
        "closed_at": item.closed_at,
    }


def _item(row: MailItemRow) -> MailItem:
    return MailItem(
        id=row.id,
        mailbox=row.mailbox,
        uid_validity=row.uid_validity,
        uid=row.uid,
        message_id=row.message_id,
        received_at=row.received_at,
        sender_name=row.sender_name,
        sender_address=row.sender_address,
        subject=row.subject,
        attachments=tuple(row.attachments),
        preview=row.preview,
        size=row.size,
        state=MailState(row.state),
        version=row.version,
        taken_by=row.taken_by,
        taken_at=row.taken_at,
        contact_id=row.contact_id,
        reason=NotReferralReason(row.reason) if row.reason is not None else None,
        reason_detail=row.reason_detail,
        closed_at=row.closed_at,
    )


class SqlMailRepository(SqlRepository):
    async def _load(self, statement: Select[MailItemRow]) -> list[MailItem]:
        return [_item(row) for row in await self._uow.rows(statement)]

    async def add(self, item: MailItem) -> bool:
        await self._uow.begin_write()
        statement = (
            self._uow.insert(MailItemRow)
            .values(_values(item))
            .on_conflict_do_nothing()
            .returning(MailItemRow.id)
        )
        return (await self._session.execute(statement)).first() is not None

    async def get(self, item_id: str) -> MailItem | None:
        found = await self._load(select(MailItemRow).where(MailItemRow.id == item_id))
        return found[0] if found else None

    async def waiting(self) -> list[MailItem]:
        return await self._load(
            select(MailItemRow)
            .where(MailItemRow.state == MailState.WAITING.value)
            .order_by(MailItemRow.received_at, MailItemRow.uid)
        )

    async def taken_by(self, user_id: str) -> list[MailItem]:
        return await self._load(
            select(MailItemRow)
            .where(MailItemRow.taken_by == user_id, MailItemRow.state == MailState.TAKEN.value)
            .order_by(MailItemRow.received_at, MailItemRow.uid)
        )

    async def last_uid(self, mailbox: str, uid_validity: int) -> int:
        result = await self._session.execute(
            select(func.max(MailItemRow.uid)).where(
                MailItemRow.mailbox == mailbox, MailItemRow.uid_validity == uid_validity
            )
        )
        value = result.scalar()
        return int(value) if value is not None else 0

    async def save(self, item: MailItem, expected_version: int) -> MailItem:
        await self._uow.begin_write()
        values = _values(item)
        del values["id"]
        values["version"] = expected_version + 1
        statement = (
            update(MailItemRow)
            .where(MailItemRow.id == item.id, MailItemRow.version == expected_version)
            .values(values)
            .returning(MailItemRow.id)
            .execution_options(synchronize_session=False)
        )
        if (await self._session.execute(statement)).first() is None:
            if await self.get(item.id) is None:
                raise NotFoundError(f"no e-mail {item.id}")
            raise StaleVersionError(f"e-mail {item.id} is no longer at version {expected_version}")
        saved = await self.get(item.id)
        if saved is None:  # pragma: no cover - just updated in this transaction
            raise NotFoundError(f"no e-mail {item.id}")
        return saved

    async def for_contact(self, contact_id: str) -> MailItem | None:
        found = await self._load(select(MailItemRow).where(MailItemRow.contact_id == contact_id).limit(1))
        return found[0] if found else None

    async def received_before(self, cutoff: datetime) -> list[MailItem]:
        return await self._load(
            select(MailItemRow)
            .where(MailItemRow.received_at < cutoff.astimezone(UTC))
            .order_by(MailItemRow.received_at, MailItemRow.uid)
        )

    async def delete(self, item_id: str) -> None:
        await self._uow.begin_write()
        await self._session.execute(
            delete(MailItemRow).where(MailItemRow.id == item_id).execution_options(synchronize_session=False)
        )

    async def mark(self, mailbox: str) -> MailboxMark | None:
        found = await self._uow.rows(select(MailboxMarkRow).where(MailboxMarkRow.mailbox == mailbox))
        if not found:
            return None
        row = found[0]
        return MailboxMark(
            row.mailbox,
            row.uid_validity,
            row.read_up_to,
            row.found_up_to,
            row.passed_over_before,
            row.read_at,
        )

    async def set_mark(self, mark: MailboxMark) -> None:
        await self._uow.begin_write()
        values = {
            "uid_validity": mark.uid_validity,
            "read_up_to": mark.read_up_to,
            "found_up_to": mark.found_up_to,
            "passed_over_before": mark.passed_over_before,
            "read_at": mark.read_at,
        }
        statement = (
            self._uow.insert(MailboxMarkRow)
            .values(mailbox=mark.mailbox, **values)
            .on_conflict_do_update(index_elements=[MailboxMarkRow.mailbox], set_=values)
        )
        await self._session.execute(statement)
