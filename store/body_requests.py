"""``frontdoor.agencies.BodyRequestRepository`` over SQL (``body_requests``)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select, update

from frontdoor.agencies import BodyRequest, RequestingBody, Response
from store.repository import SqlRepository
from store.tables import BodyRequestRow


def _request(row: BodyRequestRow) -> BodyRequest:
    response = None
    if row.response is not None and row.responded_by and row.responded_at:
        response = Response(row.response, row.responded_by, row.responded_at)
    return BodyRequest(
        row.reference,
        RequestingBody(row.body),
        row.body_reference,
        row.subject_name,
        row.subject_date_of_birth,
        row.subject_address,
        row.due_at,
        row.logged_by,
        row.logged_at,
        response,
        row.form_id,
    )


class SqlBodyRequestRepository(SqlRepository):
    async def add(self, request: BodyRequest) -> None:
        await self._uow.begin_write()
        self._session.add(
            BodyRequestRow(
                reference=request.reference,
                body=request.body.value,
                body_reference=request.body_reference,
                subject_name=request.subject_name,
                subject_date_of_birth=request.subject_date_of_birth,
                subject_address=request.subject_address,
                due_at=request.due_at,
                logged_by=request.logged_by,
                logged_at=request.logged_at,
                response=None,
                responded_by=None,
                responded_at=None,
                form_id=request.form_id,
            )
        )
        await self._session.flush()

    async def get(self, reference: str) -> BodyRequest | None:
        rows = await self._uow.rows(select(BodyRequestRow).where(BodyRequestRow.reference == reference))
        return _request(rows[0]) if rows else None

    async def from_form(self, form_id: str) -> BodyRequest | None:
        rows = await self._uow.rows(select(BodyRequestRow).where(BodyRequestRow.form_id == form_id))
        return _request(rows[0]) if rows else None

    async def respond(self, reference: str, response: Response) -> bool:
        await self._uow.begin_write()
        result = await self._session.execute(
            update(BodyRequestRow)
            .where(BodyRequestRow.reference == reference, BodyRequestRow.response.is_(None))
            .values(response=response.text, responded_by=response.by, responded_at=response.at)
            .returning(BodyRequestRow.reference)
            .execution_options(synchronize_session=False)
        )
        return result.first() is not None

    async def delete_responded_before(self, cutoff: datetime) -> list[str]:
        await self._uow.begin_write()
        result = await self._session.execute(
            delete(BodyRequestRow)
            .where(BodyRequestRow.responded_at < cutoff.astimezone(UTC))
            .returning(BodyRequestRow.reference)
            .execution_options(synchronize_session=False)
        )
        return sorted(result.scalars().all())
