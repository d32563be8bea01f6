"""MARAC cases and MAPPA invitations on the fake, SQLite and PostgreSQL: a case goes on the next
meeting, a linked child's request is due at the meeting and closes when answered, and both are
deleted after ``retention.marac_mappa_months``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from frontdoor.acting import Rules, Who
from frontdoor.agencies import MappaInvitation, MaracAction, MaracCase
from frontdoor.marac_cases import (
    add_case,
    answer_request,
    last_meeting,
    link_child,
    log_mappa,
    next_meeting,
    outstanding,
    purge_expired_marac,
    record_action,
)
from frontdoor.policy import parse_policy
from frontdoor.records import ClockKind, DeadlineState
from frontdoor.roles import Role
from frontdoor.unit_of_work import Store
from frontdoor.usecase import Refusal, RefusalReason
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
    for born in (date(1, 1, 1), date(9999, 12, 31), date(2026, 3, 17)):  # not a child's, or not yet
        odd = await link_child(
            store.unit_of_work(),
            case.id,
            "Vic Example",
            born,
            "Team A",
            SW,
            who=Who(OFFICER, ROLES),
            rules=Rules(NOW, CALENDAR, POLICY),
        )
        assert isinstance(odd, Refusal) and "date of birth" in odd.message, born
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
    recorded = await _action(store, case, "Safety plan reviewed", date(2026, 3, 31))
    assert not isinstance(recorded, Refusal), recorded
    later = datetime(2026, 6, 16, 10, 0, tzinfo=UTC)
    policy = parse_policy(f"[retention]\nmarac_mappa_months = {months}\n")
    deleted = await purge_expired_marac(store.unit_of_work(), rules=Rules(later, CALENDAR, policy))
    assert deleted == (() if kept else ("MAPPA-1", "MARAC-1"))
    async with store.unit_of_work() as uow:
        assert (await uow.marac.get_case(case.id) is not None) is kept


async def _action(
    store: Store,
    case: MaracCase,
    what: str,
    due_on: date | None,
    owner: str = "Example domestic abuse service",
    *,
    at: datetime = TUESDAY_1PM + timedelta(minutes=30),
    form_id: str | None = None,
) -> tuple[MaracCase, MaracAction] | Refusal:
    return await record_action(
        store.unit_of_work(),
        case.id,
        what,
        owner,
        due_on,
        who=Who(OFFICER, ROLES),
        rules=Rules(at, CALENDAR, POLICY),
        form_id=form_id,
    )


def test_the_last_meeting_is_todays_once_it_has_started_until_the_next_one_starts() -> None:
    tuesday, thursday = date(2026, 3, 17), date(2026, 3, 19)
    before = TUESDAY_1PM - timedelta(minutes=1)
    assert last_meeting(before, CALENDAR, POLICY) == (
        date(2026, 3, 12),
        datetime(2026, 3, 12, 13, 0, tzinfo=UTC),
    )
    assert next_meeting(before, CALENDAR, POLICY) == (tuesday, TUESDAY_1PM)
    # From 13:00 Tuesday's meeting has started: it is the last one, Thursday's the next.
    assert last_meeting(TUESDAY_1PM, CALENDAR, POLICY) == (tuesday, TUESDAY_1PM)
    assert next_meeting(TUESDAY_1PM, CALENDAR, POLICY) == (thursday, TUESDAY_1PM + timedelta(days=2))
    assert last_meeting(TUESDAY_1PM + timedelta(days=1), CALENDAR, POLICY) == (tuesday, TUESDAY_1PM)


async def test_the_actions_a_meeting_agreed_are_recorded_on_its_case(store: Store) -> None:
    case = await _case(store)
    # Not before the meeting starts.
    early = await _action(
        store, case, "Refer to IDVA", date(2026, 3, 24), at=TUESDAY_1PM - timedelta(minutes=5)
    )
    assert isinstance(early, Refusal) and early.reason is RefusalReason.WRONG_STATE
    assert "has not started" in early.message
    # What, who and by when (not before the meeting) are required.
    for what, owner, due_on in (
        ("", "Police", date(2026, 3, 24)),
        ("Refer to IDVA", "", date(2026, 3, 24)),
        ("Refer to IDVA", "Police", None),
        ("Refer to IDVA", "Police", date(2026, 3, 16)),
        ("Refer to IDVA", "Police", date(9999, 12, 31)),  # more than a year after the meeting
        ("x" * (POLICY.limits.max_free_text_chars + 1), "Police", date(2026, 3, 24)),
    ):
        invalid = await _action(store, case, what, due_on, owner)
        assert isinstance(invalid, Refusal) and invalid.reason is RefusalReason.INVALID, (what, owner, due_on)
    form = "0123456789abcdef0123456789abcdef"
    first = await _action(store, case, "Refer to IDVA", date(2026, 3, 24), form_id=form)
    assert not isinstance(first, Refusal), first
    updated, action = first
    assert (action.what, action.owner, action.due_on, action.recorded_by) == (
        "Refer to IDVA",
        "Example domestic abuse service",
        date(2026, 3, 24),
        OFFICER,
    )
    repeat = await _action(store, case, "Refer to IDVA", date(2026, 3, 24), form_id=form)
    assert isinstance(repeat, Refusal) and "This card recorded an action on MARAC-1 already" in repeat.message
    # Days later, the next one (the co-ordinator writing up the minutes).
    second = await _action(
        store, case, "Flag the address", date(2026, 3, 20), "Police", at=TUESDAY_1PM + timedelta(days=1)
    )
    assert not isinstance(second, Refusal), second
    async with store.unit_of_work() as uow:
        stored = await uow.marac.get_case(case.id)
        [listed] = await uow.marac.cases_on(case.meeting_day)
        events = [(e.event.action, e.event.detail) for e in await uow.audit.for_subject("MARAC-1")]
    assert stored == listed and stored is not None
    assert [(a.what, a.owner) for a in stored.actions] == [
        ("Refer to IDVA", "Example domestic abuse service"),
        ("Flag the address", "Police"),
    ]
    assert stored.actions[0] == action and updated.actions == (action,)
    recorded = [detail for name, detail in events if name == "marac.action_recorded"]
    assert recorded == [f"action={action.id}; due=2026-03-24", f"action={second[1].id}; due=2026-03-20"]
    assert all("IDVA" not in detail for _, detail in events)  # the audit holds no free text
