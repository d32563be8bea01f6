"""``frontdoor.agencies.MashRepository`` over SQL: ``partner_agencies``, ``mash_episodes`` and
``mash_requests``."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import delete, select, update

from frontdoor.agencies import (
    Agency,
    Answer,
    AnswerChannel,
    Closure,
    InformationRequest,
    MashDecision,
    MashEpisode,
    MashReason,
    SharedChild,
    Urgency,
)
from store.repository import SqlRepository
from store.tables import MashEpisodeRow, MashRequestRow, PartnerAgencyRow


def _closure_values(closure: Closure | None) -> dict[str, object]:
    return {
        "decision": closure.decision.value if closure else None,
        "rationale": closure.rationale if closure else "",
        "participants": [a.value for a in closure.participants] if closure else [],
        "closed_by": closure.by if closure else None,
        "closed_at": closure.at if closure else None,
    }


def _answer_values(answer: Answer | None) -> dict[str, object]:
    return {
        "answer": answer.text if answer else None,
        "answered_by": answer.by if answer else None,
        "answered_at": answer.at if answer else None,
        "channel": answer.channel.value if answer else None,
        "given_by": answer.given_by if answer else "",
    }


def _request(row: MashRequestRow) -> InformationRequest:
    answer = None
    if row.answer is not None and row.answered_by and row.answered_at and row.channel:
        answer = Answer(
            row.answer, row.answered_by, row.answered_at, AnswerChannel(row.channel), row.given_by
        )
    return InformationRequest(row.episode_reference, Agency(row.agency), row.due_at, answer)


def _child(stored: dict[str, str | None]) -> SharedChild:
    born = stored.get("date_of_birth")
    return SharedChild(str(stored.get("name") or ""), date.fromisoformat(born) if born else None)


def _episode(row: MashEpisodeRow, requests: list[MashRequestRow]) -> MashEpisode:
    closure = None
    if row.decision is not None and row.closed_by and row.closed_at:
        closure = Closure(
            MashDecision(row.decision),
            row.rationale,
            tuple(Agency(a) for a in row.participants),
            row.closed_by,
            row.closed_at,
        )
    return MashEpisode(
        reference=row.reference,
        contact_reference=row.contact_reference,
        opened_by=row.opened_by,
        opened_at=row.opened_at,
        urgency=Urgency(row.urgency),
        reasons=tuple(MashReason(r) for r in row.reasons),
        question=row.question,
        children=tuple(_child(c) for c in row.children),
        requests=tuple(
            _request(r) for r in sorted(requests, key=lambda r: list(Agency).index(Agency(r.agency)))
        ),
        closure=closure,
        form_id=row.form_id,
    )


class SqlMashRepository(SqlRepository):
    async def set_agency(self, person_id: str, agency: Agency | None) -> None:
        await self._uow.begin_write()
        if agency is None:
            await self._session.execute(
                delete(PartnerAgencyRow).where(PartnerAgencyRow.aad_object_id == person_id)
            )
            return
        statement = self._uow.insert(PartnerAgencyRow).values(aad_object_id=person_id, agency=agency.value)
        await self._session.execute(
            statement.on_conflict_do_update(index_elements=["aad_object_id"], set_={"agency": agency.value})
        )

    async def agency_of(self, person_id: str) -> Agency | None:
        rows = await self._uow.rows(
            select(PartnerAgencyRow).where(PartnerAgencyRow.aad_object_id == person_id)
        )
        return Agency(rows[0].agency) if rows else None

    async def partners(self) -> list[tuple[str, Agency]]:
        rows = await self._uow.rows(select(PartnerAgencyRow).order_by(PartnerAgencyRow.aad_object_id))
        return [(row.aad_object_id, Agency(row.agency)) for row in rows]

    async def add(self, episode: MashEpisode) -> None:
        await self._uow.begin_write()
        self._session.add(
            MashEpisodeRow(
                reference=episode.reference,
                contact_reference=episode.contact_reference,
                opened_by=episode.opened_by,
                opened_at=episode.opened_at,
                urgency=episode.urgency.value,
                reasons=[r.value for r in episode.reasons],
                question=episode.question,
                children=[
                    {
                        "name": c.name,
                        "date_of_birth": c.date_of_birth.isoformat() if c.date_of_birth else None,
                    }
                    for c in episode.children
                ],
                form_id=episode.form_id,
                **_closure_values(episode.closure),
            )
        )
        await self._session.flush()
        for request in episode.requests:
            self._session.add(
                MashRequestRow(
                    episode_reference=request.episode_reference,
                    agency=request.agency.value,
                    due_at=request.due_at,
                    **_answer_values(request.answer),
                )
            )
        await self._session.flush()

    async def get(self, reference: str) -> MashEpisode | None:
        rows = await self._uow.rows(select(MashEpisodeRow).where(MashEpisodeRow.reference == reference))
        if not rows:
            return None
        requests = await self._uow.rows(
            select(MashRequestRow).where(MashRequestRow.episode_reference == reference)
        )
        return _episode(rows[0], requests)

    async def answer(self, reference: str, agency: Agency, answer: Answer) -> bool:
        await self._uow.begin_write()
        # The episode's row locked first, while open: a close at the same moment waits for this
        # answer's commit (its clock met, not cancelled), or this waits for the close.
        still_open = await self._session.execute(
            select(MashEpisodeRow.reference)
            .where(MashEpisodeRow.reference == reference, MashEpisodeRow.closed_at.is_(None))
            .with_for_update()
        )
        if still_open.first() is None:
            return False
        result = await self._session.execute(
            update(MashRequestRow)
            .where(
                MashRequestRow.episode_reference == reference,
                MashRequestRow.agency == agency.value,
                MashRequestRow.answered_at.is_(None),
            )
            .values(**_answer_values(answer))
            .returning(MashRequestRow.agency)
            .execution_options(synchronize_session=False)
        )
        return result.first() is not None

    async def close(self, reference: str, closure: Closure) -> bool:
        await self._uow.begin_write()
        result = await self._session.execute(
            update(MashEpisodeRow)
            .where(MashEpisodeRow.reference == reference, MashEpisodeRow.closed_at.is_(None))
            .values(**_closure_values(closure))
            .returning(MashEpisodeRow.reference)
            .execution_options(synchronize_session=False)
        )
        return result.first() is not None

    async def of_contact(self, contact_reference: str) -> list[MashEpisode]:
        rows = await self._uow.rows(
            select(MashEpisodeRow)
            .where(MashEpisodeRow.contact_reference == contact_reference)
            .order_by(MashEpisodeRow.opened_at, MashEpisodeRow.reference)
        )
        found = []
        for row in rows:
            episode = await self.get(row.reference)
            if episode is not None:
                found.append(episode)
        return found

    async def delete_closed_before(self, cutoff: datetime) -> list[str]:
        await self._uow.begin_write()
        result = await self._session.execute(
            select(MashEpisodeRow.reference).where(MashEpisodeRow.closed_at < cutoff.astimezone(UTC))
        )
        references = sorted(result.scalars().all())
        if references:
            await self._session.execute(
                delete(MashRequestRow)
                .where(MashRequestRow.episode_reference.in_(references))
                .execution_options(synchronize_session=False)
            )
            await self._session.execute(
                delete(MashEpisodeRow)
                .where(MashEpisodeRow.reference.in_(references))
                .execution_options(synchronize_session=False)
            )
        return references
