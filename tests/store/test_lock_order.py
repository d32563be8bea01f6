"""Use cases write what another unit of work may hold before they append to the audit chain.

On PostgreSQL an append holds the chain's advisory lock to commit (``store.audit_log``), so a use
case that waits for a row after appending holds the chain while the row's holder, appending before
it commits, waits for the chain: a deadlock, which PostgreSQL breaks by failing one of them. Each
test holds the contended row in a unit of work of its own, lets the use case run until it waits,
and then appends and commits as the other use case would; it runs on every store.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from frontdoor.acting import Who
from frontdoor.records import AuditEvent, RotaEntry
from frontdoor.roles import Role
from frontdoor.rota import ROTA_SET, RotaSaved, set_rota
from frontdoor.unit_of_work import Store

NOW = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
DAY = date(2026, 3, 17)
MANAGERS = ("aad-rota-manager-a", "aad-rota-manager-b")
CONSULTANTS = ("aad-rota-consultant-1", "aad-rota-consultant-2")


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
