"""Allocation to a social worker under the caseload cap: each worker's load, and the checks that a
chosen officer or social worker holds the role and has room.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from frontdoor.handover import OPEN_STATES, WorkerLoad
from frontdoor.policy import Policy
from frontdoor.roles import ROLE_TITLES, Role
from frontdoor.unit_of_work import UnitOfWork
from frontdoor.usecase import Refusal, RefusalReason


@dataclass(frozen=True, slots=True)
class WorkerChoice:
    """A social worker as the allocation picker and ``status`` show them: load against the cap."""

    worker_id: str
    display_name: str
    load: WorkerLoad

    @property
    def available(self) -> bool:
        return self.load.open_contacts < self.load.cap

    @property
    def label(self) -> str:
        return f"{self.display_name or self.worker_id} ({self.load.open_contacts}/{self.load.cap})"


async def _open_loads(uow: UnitOfWork) -> Counter[str]:
    """Open contacts per assignee. A contact counts against whoever it is assigned to while it is
    open; it is unassigned when it goes to sign-off, so the cap measures work in hand."""
    contacts = await uow.contacts.list_by_state(sorted(OPEN_STATES))
    return Counter(c.assignee_id for c in contacts if c.assignee_id is not None)


async def worker_loads(uow: UnitOfWork, policy: Policy) -> tuple[WorkerChoice, ...]:
    """Every social worker in the directory with their open load against the cap, by name."""
    async with uow:
        workers = await uow.roles.holders(Role.SOCIAL_WORKER)
        loads = await _open_loads(uow)
    cap = policy.caseload.cap
    choices = [
        WorkerChoice(
            entry.aad_object_id,
            entry.display_name,
            WorkerLoad(entry.aad_object_id, loads[entry.aad_object_id], cap),
        )
        for entry in workers
    ]
    choices.sort(key=lambda choice: ((choice.display_name or choice.worker_id).casefold(), choice.worker_id))
    return tuple(choices)


async def check_holder(uow: UnitOfWork, person_id: str, role: Role) -> Refusal | str:
    """The person's display name if the directory says they hold ``role``, else why not."""
    entry = next((e for e in await uow.roles.holders(role) if e.aad_object_id == person_id), None)
    if entry is None:
        singular = ROLE_TITLES[role].removesuffix("s")
        return Refusal(
            RefusalReason.INVALID,
            f"The person chosen is not listed as one of the {ROLE_TITLES[role]}; choose a {singular}.",
        )
    return entry.display_name


async def over_cap(uow: UnitOfWork, worker_id: str, name: str, policy: Policy) -> Refusal | None:
    """Checked after the allocation is saved, inside the same unit of work, so the count includes
    it. The worker's caseload is locked first (held until the unit of work ends), so two
    allocations to one worker at once are counted one after the other on any store, PostgreSQL's
    READ COMMITTED included, and cannot both slip under the cap. The refusal leaves the unit of
    work uncommitted: nothing is changed."""
    cap = policy.caseload.cap
    await uow.contacts.lock_worker(worker_id)
    after = (await _open_loads(uow))[worker_id]
    if after <= cap:
        return None
    load = WorkerLoad(worker_id, after - 1, cap)
    return Refusal(
        RefusalReason.OVER_CAP,
        f"{name or worker_id} already holds {load.open_contacts} open contacts (the cap is {cap}), "
        "so nothing was allocated. Choose another social worker.",
        load=load,
    )
