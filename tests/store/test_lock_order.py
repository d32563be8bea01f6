"""Use cases write what another unit of work may hold before they append to the audit chain.

On PostgreSQL an append holds the chain's advisory lock to commit (``store.audit_log``), so a use
case that waits for a row after appending holds the chain while the row's holder, appending before
it commits, waits for the chain: a deadlock, which PostgreSQL breaks by failing one of them. Each
test holds the contended row in a unit of work of its own, lets the use case run until it waits,
and then appends and commits as the other use case would; it runs on every store.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.cli import _roles_change
from frontdoor.acting import Who
from frontdoor.agencies import Agency
from frontdoor.mash import AGENCY_SET
from frontdoor.records import AuditEvent, ClockKind, Deadline, DeadlineState, RotaEntry
from frontdoor.roles import Role
from frontdoor.rota import ROTA_SET, RotaSaved, set_rota
from frontdoor.systemclock import SettableClock
from frontdoor.unit_of_work import Store
from store.sql import SqlStore

NOW = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
DAY = date(2026, 3, 17)
MANAGERS = ("aad-rota-manager-a", "aad-rota-manager-b")
CONSULTANTS = ("aad-rota-consultant-1", "aad-rota-consultant-2")
PARTNER = "aad-partner-lock-1"


async def test_a_rota_save_waits_for_a_row_held_by_another_before_it_appends_to_the_audit_chain(
    store: Store,
) -> None:
    """Two managers save tomorrow's rota at once; the other one's save holds the second consultant's
    row. Had this save audited its first change before writing its second, it would hold the audit
    chain while waiting for that row, and the other save, appending before it commits, would wait
    for it: a deadlock."""
    async with store.unit_of_work() as uow:
        for person in (*MANAGERS, *CONSULTANTS):
            role = Role.DUTY_MANAGER if person in MANAGERS else Role.CONSULTANT
            assert await uow.roles.grant(person, role)
        await uow.commit()
    subject = f"rota:{DAY.isoformat()}"
    second = RotaEntry(DAY, Role.CONSULTANT, CONSULTANTS[1])
    async with store.unit_of_work() as holder:  # the other manager's save, in flight
        await holder.rota.set(second)
        saving = asyncio.create_task(
            set_rota(
                store.unit_of_work(),
                DAY,
                {Role.CONSULTANT: CONSULTANTS},
                who=Who(MANAGERS[0], frozenset({Role.DUTY_MANAGER})),
                now=NOW,
            )
        )
        await asyncio.sleep(1)  # the save runs until it waits for the second consultant's row
        await holder.audit.append(
            AuditEvent(NOW, MANAGERS[1], ROTA_SET, subject, f"{Role.CONSULTANT.value}:{CONSULTANTS[1]}")
        )
        await holder.commit()
    saved = await asyncio.wait_for(saving, 30)
    assert isinstance(saved, RotaSaved), saved
    assert [(change.person_id, change.added) for change in saved.changes] == [
        (CONSULTANTS[0], True),
        (CONSULTANTS[1], True),
    ]
    async with store.unit_of_work() as uow:
        on_duty = await uow.rota.on(DAY)
        events = await uow.audit.for_subject(subject)
    assert sorted(entry.person_id for entry in on_duty) == list(CONSULTANTS)
    assert [(e.event.actor_id, e.event.action, e.event.detail) for e in events] == [
        (MANAGERS[1], ROTA_SET, f"consultant:{CONSULTANTS[1]}"),
        (MANAGERS[0], ROTA_SET, f"consultant:{CONSULTANTS[0]}"),
        (MANAGERS[0], ROTA_SET, f"consultant:{CONSULTANTS[1]}"),
    ]


async def test_a_partner_s_role_change_waits_for_their_agency_held_by_another_before_it_audits(
    store: Store,
) -> None:
    """One administrator revokes a partner's role (here from the command line) while another's
    change of the same partner, which changed no role, has rewritten their agency. Had the revoke
    audited the role before writing the agency, it would hold the audit chain while waiting for the
    agency's row, and the other change, appending before it commits, would wait for it: a deadlock."""
    async with store.unit_of_work() as uow:
        assert await uow.roles.grant(PARTNER, Role.PARTNER)
        await uow.mash.set_agency(PARTNER, Agency.POLICE)
        await uow.commit()
    subject = f"person:{PARTNER}"
    async with store.unit_of_work() as holder:  # the other administrator's change, in flight
        await holder.mash.set_agency(PARTNER, Agency.HEALTH)
        revoking = asyncio.create_task(_roles_change(store, SettableClock(NOW), False, PARTNER, Role.PARTNER))
        await asyncio.sleep(1)  # the revoke runs until it waits for the agency's row
        await holder.audit.append(AuditEvent(NOW, MANAGERS[1], AGENCY_SET, subject, Agency.HEALTH.value))
        await holder.commit()
    assert await asyncio.wait_for(revoking, 30) == 0
    async with store.unit_of_work() as uow:
        assert Role.PARTNER not in await uow.roles.roles_of(PARTNER)
        assert await uow.mash.agency_of(PARTNER) is None
        events = await uow.audit.for_subject(subject)
    assert [(e.event.action, e.event.detail) for e in events] == [
        (AGENCY_SET, Agency.HEALTH.value),
        ("role.revoke", Role.PARTNER.value),
        (AGENCY_SET, "none"),
    ]


@pytest.mark.postgres
async def test_the_tick_never_waits_for_a_deadline_row_a_use_case_holds(fresh_postgres_url: str) -> None:
    """A decision closes a contact's clocks one by one while the tick records when each may next
    alert. Had the tick waited for the clock the decision holds while holding the other, the
    decision, closing that other next, would wait for the tick: a deadlock. The tick passes over a
    held row (it is read again by the next tick) and never waits. PostgreSQL only: on SQLite every
    writer waits for the one before it."""
    store = SqlStore(fresh_postgres_url)
    try:
        subject = "CT-26-00001"
        async with store.unit_of_work() as uow:
            cp = await uow.deadlines.add(
                Deadline(subject, ClockKind.CP_DECISION, NOW, NOW + timedelta(hours=2))
            )
            screening = await uow.deadlines.add(
                Deadline(subject, ClockKind.SCREENING, NOW, NOW + timedelta(days=1))
            )
            await uow.commit()
        assert cp.id is not None and screening.id is not None
        later = NOW + timedelta(hours=1)

        async def tick() -> None:
            async with store.unit_of_work() as uow:
                await uow.deadlines.set_next_alerts({screening.id: later, cp.id: later})
                await uow.commit()

        async with store.unit_of_work() as decision:
            await decision.deadlines.close(
                subject, ClockKind.CP_DECISION.value, "met", NOW, closed_by="aad-c"
            )
            ticking = asyncio.create_task(tick())
            await asyncio.sleep(1)  # the tick runs until it would wait for the clock held here
            await decision.deadlines.close(subject, ClockKind.SCREENING.value, "met", NOW, closed_by="c")
            await decision.commit()
        await asyncio.wait_for(ticking, 30)
        async with store.unit_of_work() as uow:
            clocks = await uow.deadlines.for_subject(subject)
        assert {d.clock: d.state for d in clocks} == {
            ClockKind.CP_DECISION: DeadlineState.MET,
            ClockKind.SCREENING: DeadlineState.MET,
        }
    finally:
        await store.close()
