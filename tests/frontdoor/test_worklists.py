"""``my work`` and the screening queue against the in-memory store: what is listed, in what order,
with which due time and RAG, the cut to a card's length, who may see them, and that a line never
names a child, a family or a referrer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from frontdoor.acting import Rules, Who
from frontdoor.clocks import due_at
from frontdoor.contact import Child, Contact, ContactState
from frontdoor.decisions import ScreeningRoute, decide_rereferral
from frontdoor.policy import Policy
from frontdoor.rag import Rag
from frontdoor.records import ClockKind, Deadline
from frontdoor.roles import Role
from frontdoor.unit_of_work import Store
from frontdoor.usecase import Refusal, RefusalReason
from frontdoor.worklists import WORKLIST_LIMIT, WorkList, my_work, screening_queue
from tests.fakes import InMemoryStore
from tests.frontdoor.decision_builders import (
    ANONYMOUS_PUBLIC,
    CALENDAR,
    CHILD,
    CONSULTANT,
    DUTY_MANAGER,
    NOW,
    OFFICER,
    POLICY,
    REASSIGN,
    ROLES,
    ROUTE_I,
    ROUTE_II,
    ROUTE_III,
    ROUTE_IV,
    SW,
    SW_2,
    WORRIES,
    route,
    screened,
    seat,
    submitted,
)

OTHER_CHILD = Child("Yolanda Example", date(2021, 1, 9), address="2 Example Road, AB1 2CE")


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


async def mine(
    store: Store,
    person: str = SW,
    *,
    now: datetime = NOW,
    limit: int = WORKLIST_LIMIT,
    policy: Policy = POLICY,
) -> WorkList:
    result = await my_work(
        store.unit_of_work(),
        limit=limit,
        who=Who(person, ROLES[person]),
        rules=Rules(now, CALENDAR, policy),
    )
    assert isinstance(result, WorkList), result
    return result


async def queue(
    store: Store, *, now: datetime = NOW, limit: int = WORKLIST_LIMIT, policy: Policy = POLICY
) -> WorkList:
    result = await screening_queue(
        store.unit_of_work(),
        ROLES[CONSULTANT],
        limit=limit,
        rules=Rules(now, CALENDAR, policy),
    )
    assert isinstance(result, WorkList), result
    return result


async def reassigned(store: Store, worker: str, *, now: datetime = NOW) -> Contact:
    contact = await submitted(store, rereferral=True, last_worker=worker, now=now)
    result = await decide_rereferral(
        store.unit_of_work(),
        contact.id,
        REASSIGN,
        contact.version,
        who=Who(DUTY_MANAGER, ROLES[DUTY_MANAGER]),
        rules=Rules(now, CALENDAR, POLICY),
    )
    assert not isinstance(result, Refusal), result
    return result.contact


# -- my work --------------------------------------------------------------------------------------


async def test_my_work_lists_my_open_contacts_urgent_first_then_by_next_due_time(store: Store) -> None:
    await seat(store)
    # Route IV: completion 48 h from receipt. Received yesterday morning, so due tomorrow 09:00.
    earlier = await screened(store, await submitted(store, now=NOW - timedelta(hours=25)), ROUTE_IV)
    # Re-referral reassigned now: recommendation (and completion) due in 48 h.
    rereferral = await reassigned(store, SW)
    # Urgent, received now: completion due in 48 h too, but urgent goes first.
    urgent = await screened(store, await submitted(store, urgent=True), ROUTE_IV)
    # Not mine: another worker's, an officer's, a closed one, one still awaiting screening.
    await screened(store, await submitted(store), route(ScreeningRoute.IV, SW_2))
    await screened(store, await submitted(store), ROUTE_III)
    await screened(store, await submitted(store), ROUTE_II)
    await submitted(store)

    listed = await mine(store, now=NOW + timedelta(hours=1))

    assert [item.reference for item in listed.items] == [
        urgent.reference,
        earlier.reference,
        rereferral.reference,
    ]
    assert (listed.total, listed.more) == (3, 0)
    first, second, third = (item.summary for item in listed.items)
    assert first.urgent and not second.urgent
    # Received on Sunday at 09:00: two working days from Monday's opening.
    assert (second.state, second.due_clock, second.due_at) == (
        ContactState.SW_ASSESSMENT,
        ClockKind.COMPLETION_48H,
        due_at(ClockKind.COMPLETION_48H, NOW - timedelta(hours=25), CALENDAR, POLICY),
    )
    assert second.due_at == datetime(2026, 3, 18, 8, 30, tzinfo=UTC)
    # The recommendation (48 hours) and, as for route IV, the completion (two working days from
    # receipt) fall due together on a Monday morning's re-referral.
    assert third.due_at == NOW + timedelta(hours=48)
    assert third.due_clock in {ClockKind.REREFERRAL_RECOMMENDATION, ClockKind.COMPLETION_48H}
    assert second.rag is Rag.GREEN
    assert [child.initials for child in first.children] == ["Z.E."] and first.children[0].age_years == 6
    assert second.contact_type is not None


async def test_the_rag_is_of_the_clock_shown(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_IV)
    # 48 hours counted as 2 working days: due Wednesday 10:00, measured in office time (17 h):
    # a quarter left is under 4 h 15 min of office time, a tenth under 1 h 42 min.
    at = datetime(2026, 3, 17, 12, 0, tzinfo=UTC)  # Tuesday 12:00: 6 h 30 min of office time left
    assert (await mine(store, now=at)).items[0].summary.rag is Rag.GREEN
    at = datetime(2026, 3, 17, 15, 0, tzinfo=UTC)  # 3 h 30 min left
    assert (await mine(store, now=at)).items[0].summary.rag is Rag.AMBER
    at = datetime(2026, 3, 18, 8, 45, tzinfo=UTC)  # 1 h 15 min left
    assert (await mine(store, now=at)).items[0].summary.rag is Rag.RED
    overdue = (await mine(store, now=datetime(2026, 3, 18, 10, 30, tzinfo=UTC))).items[0].summary
    assert (overdue.reference, overdue.rag) == (contact.reference, Rag.RED)


async def test_nothing_assigned_is_an_empty_list(store: Store) -> None:
    await seat(store)
    await screened(store, await submitted(store), ROUTE_IV)
    listed = await mine(store, SW_2)
    assert listed.empty and listed.items == () and listed.more == 0


async def test_a_clock_assigned_to_me_brings_its_contact_even_when_the_contact_is_not(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_I)
    async with store.unit_of_work() as uow:
        await uow.deadlines.add(
            Deadline(
                contact.reference or "", ClockKind.PARENT_LETTER, NOW, NOW + timedelta(days=3), assignee_id=SW
            )
        )
        await uow.commit()
    listed = await mine(store)
    assert [item.reference for item in listed.items] == [contact.reference]
    # The line still shows the contact's earliest open clock: the child-protection decision.
    assert listed.items[0].summary.due_clock is ClockKind.CP_DECISION


async def test_an_officers_route_iii_work_is_theirs(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_III)
    listed = await mine(store, OFFICER)
    assert [item.reference for item in listed.items] == [contact.reference]
    assert listed.items[0].summary.state is ContactState.OFFICER_WORK


async def test_a_long_list_is_cut_keeping_the_most_pressing(store: Store) -> None:
    await seat(store)
    for hours in range(5):
        await screened(store, await submitted(store, now=NOW - timedelta(hours=hours)), ROUTE_IV)
    await submitted(store)  # awaiting screening: nobody's yet
    listed = await mine(store, limit=3)
    assert (len(listed.items), listed.total, listed.more) == (3, 5, 2)
    # The oldest receipts fall due first.
    due = [item.summary.due_at or NOW for item in listed.items]
    oldest = NOW - timedelta(hours=4)
    assert due == sorted(due) and due[0] == due_at(ClockKind.COMPLETION_48H, oldest, CALENDAR, POLICY)
    with pytest.raises(ValueError):
        await mine(store, limit=0)


# -- the queue ------------------------------------------------------------------------------------


async def test_the_queue_is_urgent_first_then_oldest_with_the_screening_due_time(store: Store) -> None:
    await seat(store)
    newest = await submitted(store, now=NOW - timedelta(minutes=5), children=(OTHER_CHILD,))
    oldest = await submitted(store, now=NOW - timedelta(hours=3), children=(OTHER_CHILD,))
    urgent_new = await submitted(store, urgent=True, now=NOW - timedelta(minutes=1), children=(OTHER_CHILD,))
    urgent_old = await submitted(store, urgent=True, now=NOW - timedelta(hours=1), children=(OTHER_CHILD,))
    await screened(store, await submitted(store), ROUTE_II)  # decided: not in the queue
    await submitted(store, rereferral=True)  # the duty manager's, not screening's

    listed = await queue(store)

    assert [item.reference for item in listed.items] == [
        urgent_old.reference,
        urgent_new.reference,
        oldest.reference,
        newest.reference,
    ]
    first, _, third, _ = listed.items
    # An urgent contact's most pressing clock is its 2-hour child-protection clock.
    assert first.summary.due_clock is ClockKind.CP_DECISION
    assert first.summary.due_at == NOW - timedelta(hours=1) + timedelta(hours=2)
    assert first.screening_due_at == NOW - timedelta(hours=1) + timedelta(days=1)
    # One working day from 07:00 on Monday: before opening, so counted from 08:30, due Tuesday 08:30.
    assert third.summary.due_clock is ClockKind.SCREENING
    assert third.screening_due_at == third.summary.due_at == datetime(2026, 3, 17, 8, 30, tzinfo=NOW.tzinfo)


async def test_the_queue_flags_another_contact_about_the_same_child_as_intake_found_it(
    store: Store,
) -> None:
    await seat(store)
    long_ago = await submitted(store, now=NOW - timedelta(days=400))  # outside the 12-month window
    await screened(store, long_ago, ROUTE_II)
    first = await submitted(store, now=NOW - timedelta(days=20))
    second = await submitted(store, now=NOW - timedelta(days=1))
    other = await submitted(store, children=(OTHER_CHILD,))

    items = {item.reference: item for item in (await queue(store)).items}

    assert set(items) == {first.reference, second.reference, other.reference}
    assert items[first.reference or ""].repeat_of == ()
    assert items[second.reference or ""].repeat_of == (first.reference,)
    assert items[second.reference or ""].summary.repeat
    assert not items[other.reference or ""].summary.repeat


async def test_an_empty_queue(store: Store) -> None:
    await seat(store)
    listed = await queue(store)
    assert listed.empty and listed.total == 0


async def test_a_long_queue_is_cut_keeping_the_most_pressing(store: Store) -> None:
    await seat(store)
    for minutes in range(6):
        await submitted(store, now=NOW - timedelta(minutes=minutes))
    urgent = await submitted(store, urgent=True)
    listed = await queue(store, limit=3)
    assert (len(listed.items), listed.total, listed.more) == (3, 7, 4)
    assert listed.items[0].reference == urgent.reference
    received = [item.summary.received_at for item in listed.items[1:]]
    assert received == [NOW - timedelta(minutes=5), NOW - timedelta(minutes=4)]


# -- who may see them; what a line holds -----------------------------------------------------------


@pytest.mark.parametrize(
    "roles", [frozenset(), frozenset({Role.PROFESSIONAL}), frozenset({Role.ADMIN})], ids=str
)
async def test_the_lists_are_for_people_who_may_view_contacts(store: Store, roles: frozenset[Role]) -> None:
    await seat(store)
    await screened(store, await submitted(store), ROUTE_IV)
    for result in (
        await my_work(store.unit_of_work(), who=Who(SW, roles), rules=Rules(NOW, CALENDAR, POLICY)),
        await screening_queue(store.unit_of_work(), roles, rules=Rules(NOW, CALENDAR, POLICY)),
    ):
        assert isinstance(result, Refusal) and result.reason is RefusalReason.NOT_PERMITTED


@pytest.mark.parametrize(
    "role", [Role.OFFICER, Role.SOCIAL_WORKER, Role.CONSULTANT, Role.DUTY_MANAGER, Role.TEAM_MANAGER]
)
async def test_every_front_door_role_may_see_them(store: Store, role: Role) -> None:
    await seat(store)
    assert isinstance(
        await my_work(
            store.unit_of_work(),
            who=Who(SW, frozenset({role})),
            rules=Rules(NOW, CALENDAR, POLICY),
        ),
        WorkList,
    )
    assert isinstance(
        await screening_queue(store.unit_of_work(), {role}, rules=Rules(NOW, CALENDAR, POLICY)),
        WorkList,
    )


async def test_a_line_never_names_a_child_a_family_or_an_anonymous_referrer(store: Store) -> None:
    await seat(store)
    await screened(store, await submitted(store, referrer=ANONYMOUS_PUBLIC), ROUTE_IV)
    await submitted(store, referrer=ANONYMOUS_PUBLIC, urgent=True)
    lists = repr(await mine(store)) + repr(await queue(store))
    assert "Member of the public (anonymous)" in lists
    for secret in (
        ANONYMOUS_PUBLIC.name,
        "Neighbourname",
        ANONYMOUS_PUBLIC.phone,
        CHILD.name,
        "Zebedee",
        "Example Street",
        "2019",
        WORRIES,
        "Rationale",
    ):
        assert secret not in lists, secret
