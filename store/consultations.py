"""``frontdoor.consultation.ConsultationRepository`` over SQL (the ``consultations`` table)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Select, delete, insert, select, update

from frontdoor.consultation import Consultation
from frontdoor.ports import NotFoundError
from store.repository import SqlRepository
from store.tables import ConsultationRow


def _values(c: Consultation) -> dict[str, object]:
    return {
        "id": c.id,
        "reference": c.reference,
        "author_id": c.author_id,
        "professional_name": c.professional_name,
        "professional_agency": c.agency,
        "professional_role": c.professional_role,
        "worry": c.worry,
        "advice": c.advice,
        "advised_by": c.advised_by,
        "created_at": c.created_at,
        "contact_reference": c.linked_contact_reference,
        "on_behalf": c.on_behalf,
        "override_reason": c.override_reason,
        "contact_phone": c.contact_phone,
        "form_id": c.form_id,
    }


def _consultation(row: ConsultationRow) -> Consultation:
    return Consultation(
        id=row.id,
        reference=row.reference,
        author_id=row.author_id,
        on_behalf=row.on_behalf,
        professional_name=row.professional_name,
        agency=row.professional_agency,
        professional_role=row.professional_role,
        worry=row.worry,
        advice=row.advice,
        advised_by=row.advised_by,
        created_at=row.created_at,
        linked_contact_reference=row.contact_reference,
        override_reason=row.override_reason,
        contact_phone=row.contact_phone,
        form_id=row.form_id,
    )


class SqlConsultationRepository(SqlRepository):
    async def _load(self, statement: Select[ConsultationRow]) -> list[Consultation]:
        return [_consultation(row) for row in await self._uow.rows(statement)]

    async def _one(self, statement: Select[ConsultationRow]) -> Consultation | None:
        found = await self._load(statement.limit(1))
        return found[0] if found else None

    async def add(self, consultation: Consultation) -> None:
        await self._uow.begin_write()
        await self._session.execute(insert(ConsultationRow).values(_values(consultation)))

    async def get_by_reference(self, reference: str) -> Consultation | None:
        return await self._one(select(ConsultationRow).where(ConsultationRow.reference == reference))

    async def list_between(self, start: datetime, end: datetime) -> list[Consultation]:
        return await self._load(
            select(ConsultationRow)
            .where(ConsultationRow.created_at >= start, ConsultationRow.created_at < end)
            .order_by(ConsultationRow.created_at, ConsultationRow.reference)
        )

    async def delete_older_than(self, cutoff: datetime) -> list[str]:
        await self._uow.begin_write()
        result = await self._session.execute(
            delete(ConsultationRow)
            .where(ConsultationRow.created_at < cutoff.astimezone(UTC))
            .returning(ConsultationRow.reference)
            .execution_options(synchronize_session=False)
        )
        return sorted(result.scalars().all())

    async def link(self, reference: str, contact_reference: str) -> None:
        await self._uow.begin_write()
        result = await self._session.execute(
            update(ConsultationRow)
            .where(ConsultationRow.reference == reference)
            .values(contact_reference=contact_reference)
            .returning(ConsultationRow.id)
            .execution_options(synchronize_session=False)
        )
        if result.first() is None:
            raise NotFoundError(f"no consultation {reference}")

    async def linked_to(self, contact_reference: str) -> list[Consultation]:
        return await self._load(
            select(ConsultationRow)
            .where(ConsultationRow.contact_reference == contact_reference)
            .order_by(ConsultationRow.created_at, ConsultationRow.reference)
        )

    async def from_form(self, author_id: str, form_id: str) -> Consultation | None:
        return await self._one(
            select(ConsultationRow).where(
                ConsultationRow.author_id == author_id, ConsultationRow.form_id == form_id
            )
        )

    async def latest_own(self, author_id: str) -> Consultation | None:
        return await self._one(
            select(ConsultationRow)
            .where(ConsultationRow.author_id == author_id, ConsultationRow.on_behalf.is_(False))
            .order_by(ConsultationRow.created_at.desc(), ConsultationRow.reference.desc())
        )
