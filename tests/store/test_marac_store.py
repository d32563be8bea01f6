"""MARAC cases and MAPPA invitations on the fake, SQLite and PostgreSQL: a case goes on the next
meeting, a linked child's request is due at the meeting and closes when answered, and both are
deleted after ``retention.marac_mappa_months``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from frontdoor.acting import Rules, Who
from frontdoor.agencies import MappaInvitation, MaracCase
from frontdoor.marac_cases import (
    add_case,
    answer_request,
    link_child,
    log_mappa,
    outstanding,
    purge_expired_marac,
)
from frontdoor.policy import parse_policy
from frontdoor.records import ClockKind, DeadlineState
from frontdoor.roles import Role
from frontdoor.unit_of_work import Store
from frontdoor.usecase import Refusal
from tests.frontdoor.decision_builders import CALENDAR, NOW, OFFICER, POLICY, SW

ROLES = frozenset({Role.OFFICER})
TUESDAY_1PM = datetime(2026, 3, 17, 13, 0, tzinfo=UTC)


async def _case(store: Store) -> MaracCase:
    case = await add_case(
        store.unit_of_work(),
        "marac-1",
        who=Who(OFFICER, ROLES),
        rules=Rules(NOW, CALENDAR, POLICY),
    )
    assert isinstance(case, MaracCase), case
    return case


async def test_a_linked_childs_request_is_due_at_the_meeting_and_closes_when_answered(store: Store) -> None:
    case = await _case(store)
    assert case.meeting_day == date(2026, 3, 17) and case.case_reference == "MARAC-1"
    linked = await link_child(
        store.unit_of_work(),
        case.id,
        "Vic Example",
        None,
        "Team A",
        SW,
        who=Who(OFFICER, ROLES),
        rules=Rules(NOW, CALENDAR, POLICY),
    )
    assert not isinstance(linked, Refusal)
    _, request = linked
    async with store.unit_of_work() as uow:
        assert [r for _, r in await outstanding(uow, case.meeting_day)] == [request]
        [clock] = await uow.deadlines.for_subject(request.subject)
    assert (clock.clock, clock.due_at, clock.assignee_id) == (ClockKind.MARAC_REQUEST, TUESDAY_1PM, SW)
    other = await answer_request(
        store.unit_of_work(),
        request.id,
        "x",
        who=Who("aad-someone", frozenset()),
        rules=Rules(NOW, CALENDAR, POLICY),
    )
    assert isinstance(other, Refusal)
    answered = await answer_request(
        store.unit_of_work(),
        request.id,
        "Known",
        who=Who(SW, frozenset({Role.SOCIAL_WORKER})),
        rules=Rules(NOW + timedelta(hours=1), CALENDAR, POLICY),
    )
    assert not isinstance(answered, Refusal) and answered.answer is not None
    async with store.unit_of_work() as uow:
        assert await outstanding(uow, case.meeting_day) == []
        assert [d.state for d in await uow.deadlines.for_subject(request.subject)] == [DeadlineState.MET]


@pytest.mark.parametrize(("months", "kept"), [(12, True), (1, False)])
async def test_marac_and_mappa_records_are_deleted_after_the_policys_months(
    store: Store, months: int, kept: bool
) -> None:
    case = await _case(store)
    invitation = await log_mappa(
        store.unit_of_work(),
        "MAPPA-1",
        date(2026, 3, 18),
        "",
        None,
        who=Who(OFFICER, ROLES),
        now=NOW,
    )
    assert isinstance(invitation, MappaInvitation) and invitation.to_front_door
    later = datetime(2026, 6, 16, 10, 0, tzinfo=UTC)
    policy = parse_policy(f"[retention]\nmarac_mappa_months = {months}\n")
    deleted = await purge_expired_marac(store.unit_of_work(), rules=Rules(later, CALENDAR, policy))
    assert deleted == (() if kept else ("MAPPA-1", "MARAC-1"))
    async with store.unit_of_work() as uow:
        assert (await uow.marac.get_case(case.id) is not None) is kept
