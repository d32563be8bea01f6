"""``frontdoor.agencies.MaracRepository`` over SQL (``marac_cases``, ``marac_requests``,
``mappa_invitations``)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, select, update

from frontdoor.agencies import MappaInvitation, MaracAction, MaracCase, MaracRequest, Response
from store.repository import SqlRepository
from store.tables import MappaInvitationRow, MaracActionRow, MaracCaseRow, MaracRequestRow


def _request(row: MaracRequestRow) -> MaracRequest:
    answer = None
    if row.answer is not None and row.answered_by and row.answered_at:
        answer = Response(row.answer, row.answered_by, row.answered_at)
    return MaracRequest(
        row.id,
        row.case_id,
        row.child_name,
        row.child_date_of_birth,
        row.team,
        row.worker_id,
        row.due_at,
        answer,
        row.form_id,
    )


class SqlMaracRepository(SqlRepository):
    async def _case(self, row: MaracCaseRow) -> MaracCase:
        requests = await self._uow.rows(
            select(MaracRequestRow).where(MaracRequestRow.case_id == row.id).order_by(MaracRequestRow.id)
        )
        actions = await self._uow.rows(
            select(MaracActionRow)
            .where(MaracActionRow.case_id == row.id)
            .order_by(MaracActionRow.recorded_at, MaracActionRow.id)
        )
        return MaracCase(
            row.id, row.meeting_day, row.case_reference, row.recorded_by, row.recorded_at,
            tuple(sorted((_request(r) for r in requests), key=lambda r: (r.child_name, r.id))),
            tuple(
                MaracAction(
                    a.id, a.case_id, a.what, a.owner, a.due_on, a.recorded_by, a.recorded_at, a.form_id
                )
                for a in actions
            ),
        )  # fmt: skip

    async def add_case(self, case: MaracCase) -> None:
        await self._uow.begin_write()
        self._session.add(
            MaracCaseRow(
                id=case.id,
                meeting_day=case.meeting_day,
                case_reference=case.case_reference,
                recorded_by=case.recorded_by,
                recorded_at=case.recorded_at,
            )
        )
        await self._session.flush()

    async def cases_on(self, day: date) -> list[MaracCase]:
        rows = await self._uow.rows(
            select(MaracCaseRow)
            .where(MaracCaseRow.meeting_day == day)
            .order_by(MaracCaseRow.recorded_at, MaracCaseRow.id)
        )
        return [await self._case(row) for row in rows]

    async def get_case(self, case_id: str) -> MaracCase | None:
        rows = await self._uow.rows(select(MaracCaseRow).where(MaracCaseRow.id == case_id))
        return await self._case(rows[0]) if rows else None

    async def add_request(self, request: MaracRequest) -> bool:
        await self._uow.begin_write()
        statement = self._uow.insert(MaracRequestRow).values(
            id=request.id,
            case_id=request.case_id,
            child_name=request.child_name,
            child_date_of_birth=request.child_date_of_birth,
            team=request.team,
            worker_id=request.worker_id,
            due_at=request.due_at,
            answer=None,
            answered_by=None,
            answered_at=None,
            form_id=request.form_id,
        )
        result = await self._session.execute(
            statement.on_conflict_do_nothing(index_elements=[MaracRequestRow.form_id]).returning(
                MaracRequestRow.id
            )
        )
        return result.first() is not None

    async def add_action(self, action: MaracAction) -> bool:
        await self._uow.begin_write()
        statement = self._uow.insert(MaracActionRow).values(
            id=action.id,
            case_id=action.case_id,
            what=action.what,
            owner=action.owner,
            due_on=action.due_on,
            recorded_by=action.recorded_by,
            recorded_at=action.recorded_at,
            form_id=action.form_id,
        )
        result = await self._session.execute(
            statement.on_conflict_do_nothing(index_elements=[MaracActionRow.form_id]).returning(
                MaracActionRow.id
            )
        )
        return result.first() is not None

    async def get_request(self, request_id: str) -> MaracRequest | None:
        rows = await self._uow.rows(select(MaracRequestRow).where(MaracRequestRow.id == request_id))
        return _request(rows[0]) if rows else None

    async def answer(self, request_id: str, answer: Response) -> bool:
        await self._uow.begin_write()
        result = await self._session.execute(
            update(MaracRequestRow)
            .where(MaracRequestRow.id == request_id, MaracRequestRow.answer.is_(None))
            .values(answer=answer.text, answered_by=answer.by, answered_at=answer.at)
            .returning(MaracRequestRow.id)
            .execution_options(synchronize_session=False)
        )
        return result.first() is not None

    async def add_invitation(self, invitation: MappaInvitation) -> None:
        await self._uow.begin_write()
        self._session.add(
            MappaInvitationRow(
                id=invitation.id,
                mappa_reference=invitation.mappa_reference,
                meeting_day=invitation.meeting_day,
                team=invitation.team,
                worker_id=invitation.worker_id,
                logged_by=invitation.logged_by,
                logged_at=invitation.logged_at,
            )
        )
        await self._session.flush()

    async def invitations_since(self, moment: datetime) -> list[MappaInvitation]:
        rows = await self._uow.rows(
            select(MappaInvitationRow)
            .where(MappaInvitationRow.logged_at >= moment)
            .order_by(MappaInvitationRow.logged_at, MappaInvitationRow.id)
        )
        return [
            MappaInvitation(
                r.id, r.mappa_reference, r.meeting_day, r.team, r.worker_id, r.logged_by, r.logged_at
            )
            for r in rows
        ]

    async def delete_before(self, day: date) -> list[str]:
        await self._uow.begin_write()
        cases = (
            await self._session.execute(
                select(MaracCaseRow.id, MaracCaseRow.case_reference).where(MaracCaseRow.meeting_day < day)
            )
        ).all()
        ids = [row[0] for row in cases]
        if ids:
            for child in (MaracRequestRow, MaracActionRow):
                await self._session.execute(
                    delete(child).where(child.case_id.in_(ids)).execution_options(synchronize_session=False)
                )
            await self._session.execute(
                delete(MaracCaseRow)
                .where(MaracCaseRow.id.in_(ids))
                .execution_options(synchronize_session=False)
            )
        invitations = await self._session.execute(
            delete(MappaInvitationRow)
            .where(MappaInvitationRow.meeting_day < day)
            .returning(MappaInvitationRow.mappa_reference)
            .execution_options(synchronize_session=False)
        )
        return sorted([row[1] for row in cases] + list(invitations.scalars().all()))
