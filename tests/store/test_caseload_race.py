"""The caseload cap under concurrent allocation, on the fake, SQLite and a real PostgreSQL server:
consultants allocating different contacts to one social worker at the same moment can never take
the worker past the cap (SPEC §3, route IV), whichever store runs the units of work."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from frontdoor.acting import Rules, Who
from frontdoor.decisions import (
    RereferralChoice,
    RereferralDecided,
    RereferralDecision,
    ScreeningDecided,
    decide_rereferral,
)
from frontdoor.handover import OPEN_STATES
from frontdoor.policy import Caseload
from frontdoor.unit_of_work import Store
from frontdoor.usecase import Refusal, RefusalReason
from tests.frontdoor.decision_builders import (
    CALENDAR,
    DUTY_MANAGER,
    NOW,
    POLICY,
    ROLES,
    ROUTE_IV,
    SW,
    load_up,
    screen,
    seat,
    submitted,
)

CAP = 4
AT_ONCE = 6
POLICY_CAP = replace(POLICY, caseload=Caseload(cap=CAP))


async def _load_of(store: Store, worker: str) -> int:
    async with store.unit_of_work() as uow:
        return sum(
            1 for c in await uow.contacts.list_by_state(sorted(OPEN_STATES)) if c.assignee_id == worker
        )


async def test_concurrent_route_iv_allocations_never_exceed_the_cap(store: Store) -> None:
    await seat(store)
    await load_up(store, SW, CAP - 1)
    contacts = [await submitted(store) for _ in range(AT_ONCE)]

    results = await asyncio.gather(*(screen(store, c, ROUTE_IV, policy=POLICY_CAP) for c in contacts))

    won = [r for r in results if isinstance(r, ScreeningDecided)]
    refused = [r for r in results if isinstance(r, Refusal)]
    assert len(won) == 1 and len(refused) == AT_ONCE - 1, results
    for refusal in refused:
        assert refusal.reason is RefusalReason.OVER_CAP and refusal.load is not None
        assert (refusal.load.worker_id, refusal.load.open_contacts, refusal.load.cap) == (SW, CAP, CAP)
        assert f"already holds {CAP} open contacts (the cap is {CAP})" in refusal.message
    assert await _load_of(store, SW) == CAP


async def test_concurrent_rereferral_reassignments_never_exceed_the_cap(store: Store) -> None:
    await seat(store)
    await load_up(store, SW, CAP - 1)
    contacts = [await submitted(store, rereferral=True, last_worker=SW) for _ in range(AT_ONCE)]
    decision = RereferralDecision(RereferralChoice.REASSIGN, "Last worker knows the family")

    results = await asyncio.gather(
        *(
            decide_rereferral(
                store.unit_of_work(),
                c.id,
                decision,
                c.version,
                who=Who(DUTY_MANAGER, ROLES[DUTY_MANAGER]),
                rules=Rules(NOW, CALENDAR, POLICY_CAP),
            )
            for c in contacts
        )
    )

    assert sum(isinstance(r, RereferralDecided) for r in results) == 1, results
    assert all(isinstance(r, RereferralDecided) or r.reason is RefusalReason.OVER_CAP for r in results)  # type: ignore[union-attr]
    assert await _load_of(store, SW) == CAP


@pytest.mark.parametrize("cap_room", [0, 2])
async def test_a_worker_with_room_takes_exactly_what_fits(store: Store, cap_room: int) -> None:
    await seat(store)
    await load_up(store, SW, CAP - cap_room)
    contacts = [await submitted(store) for _ in range(AT_ONCE)]
    results = await asyncio.gather(*(screen(store, c, ROUTE_IV, policy=POLICY_CAP) for c in contacts))
    assert sum(isinstance(r, ScreeningDecided) for r in results) == cap_room
    assert await _load_of(store, SW) == CAP
