"""``frontdoor.agencies.TriageRepository`` over SQL (``triage_incidents``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import delete, select, update

from frontdoor.agencies import TriageDecision, TriageIncident, TriageOutcome
from store.repository import SqlRepository
from store.tables import TriageIncidentRow


def _incident(row: TriageIncidentRow) -> TriageIncident:
    decision = None
    if row.outcome is not None and row.decided_by and row.decided_at:
        decision = TriageDecision(
            TriageOutcome(row.outcome),
            row.decided_by,
            row.decided_at,
            row.contact_reference,
            row.other_authority,
            row.told,
        )
    return TriageIncident(
        row.id,
        row.day,
        row.police_reference,
        row.occurred_on,
        row.summary,
        row.recorded_by,
        row.recorded_at,
        decision,
    )


class SqlTriageRepository(SqlRepository):
    async def add(self, incident: TriageIncident) -> None:
        await self._uow.begin_write()
        self._session.add(
            TriageIncidentRow(
                id=incident.id,
                day=incident.day,
                police_reference=incident.police_reference,
                occurred_on=incident.occurred_on,
                summary=incident.summary,
                recorded_by=incident.recorded_by,
                recorded_at=incident.recorded_at,
                outcome=None,
                decided_by=None,
                decided_at=None,
                contact_reference="",
                other_authority="",
                told="",
            )
        )
        await self._session.flush()

    async def get(self, incident_id: str) -> TriageIncident | None:
        rows = await self._uow.rows(select(TriageIncidentRow).where(TriageIncidentRow.id == incident_id))
        return _incident(rows[0]) if rows else None

    async def on(self, day: date) -> list[TriageIncident]:
        rows = await self._uow.rows(
            select(TriageIncidentRow)
            .where(TriageIncidentRow.day == day)
            .order_by(TriageIncidentRow.recorded_at, TriageIncidentRow.id)
        )
        return [_incident(row) for row in rows]

    async def decide(self, incident_id: str, decision: TriageDecision) -> bool:
        await self._uow.begin_write()
        result = await self._session.execute(
            update(TriageIncidentRow)
            .where(TriageIncidentRow.id == incident_id, TriageIncidentRow.outcome.is_(None))
            .values(
                outcome=decision.outcome.value,
                decided_by=decision.by,
                decided_at=decision.at,
                contact_reference=decision.contact_reference,
                other_authority=decision.other_authority,
                told=decision.told,
            )
            .returning(TriageIncidentRow.id)
            .execution_options(synchronize_session=False)
        )
        return result.first() is not None

    async def name_contact(self, incident_id: str, contact_reference: str) -> None:
        await self._uow.begin_write()
        await self._session.execute(
            update(TriageIncidentRow)
            .where(TriageIncidentRow.id == incident_id)
            .values(contact_reference=contact_reference)
            .execution_options(synchronize_session=False)
        )

    async def delete_recorded_before(self, cutoff: datetime) -> list[str]:
        await self._uow.begin_write()
        result = await self._session.execute(
            delete(TriageIncidentRow)
            .where(TriageIncidentRow.recorded_at < cutoff.astimezone(UTC))
            .returning(TriageIncidentRow.police_reference)
            .execution_options(synchronize_session=False)
        )
        return sorted(result.scalars().all())
