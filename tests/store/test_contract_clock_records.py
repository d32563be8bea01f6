"""The store contract for clock records (SPEC §3 "Clocks close honestly"), on the in-memory fake,
SQLite and PostgreSQL alike: a clock handed on keeps its row, its id and the reason recorded on it;
a clock closed after its due time is late whatever closed it."""

from __future__ import annotations

from datetime import timedelta

from frontdoor.casework.values import PARENT_LETTER_ACTOR
from frontdoor.records import ClockKind, Deadline, DeadlineState, LateReason
from frontdoor.unit_of_work import Store
from frontdoor.usecase import reassign_clocks
from tests.store.samples import T0

SUBJECT = "CT-26-000041"
#: the consultant who signs the contact off, closing its clocks
SIGNER = "consultant-1"


def _clock(clock: ClockKind, due_minutes: int, assignee_id: str | None = "sw-1") -> Deadline:
    return Deadline(SUBJECT, clock, T0, T0 + timedelta(minutes=due_minutes), assignee_id=assignee_id)


async def test_a_clock_added_with_a_late_reason_keeps_it(store: Store) -> None:
    with_reason = Deadline(
        SUBJECT, ClockKind.SCREENING, T0, T0 + timedelta(hours=1), late_reason=LateReason.CONSENT
    )
    async with store.unit_of_work() as uow:
        added = await uow.deadlines.add(with_reason)
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.deadlines.for_subject(SUBJECT) == [added]
    assert added.late_reason is LateReason.CONSENT


async def test_a_clock_handed_on_keeps_its_row_and_its_late_reason(store: Store) -> None:
    """Route III/IV outcomes, refused sign-offs and re-screening hand the completion clock on: the
    reason recorded on a breached clock stays counted in "breaches with reasons"."""
    async with store.unit_of_work() as uow:
        breached = await uow.deadlines.add(_clock(ClockKind.COMPLETION_48H, 60))
        other = await uow.deadlines.add(_clock(ClockKind.SCREENING, 30))
        await uow.commit()
    assert breached.id is not None
    later = T0 + timedelta(hours=3)
    async with store.unit_of_work() as uow:
        await uow.deadlines.set_late_reason(breached.id, LateReason.AGENCY_INFORMATION)
        await reassign_clocks(uow, SUBJECT, [ClockKind.COMPLETION_48H], None)
        await uow.commit()
    async with store.unit_of_work() as uow:
        found = await uow.deadlines.for_subject(SUBJECT)
        assert await uow.deadlines.open_for_assignee("sw-1") == [other]
    handed_on = next(d for d in found if d.clock is ClockKind.COMPLETION_48H)
    assert len(found) == 2
    assert (handed_on.id, handed_on.assignee_id, handed_on.state) == (breached.id, None, DeadlineState.OPEN)
    assert (handed_on.started_at, handed_on.due_at) == (breached.started_at, breached.due_at)
    assert handed_on.late_reason is LateReason.AGENCY_INFORMATION

    # Closed later (signed off), it counts as late with the reason recorded before it moved on.
    async with store.unit_of_work() as uow:
        await uow.deadlines.close(
            SUBJECT, ClockKind.COMPLETION_48H.value, DeadlineState.MET.value, later, closed_by=SIGNER
        )
        await uow.commit()
    async with store.unit_of_work() as uow:
        closed = next(d for d in await uow.deadlines.for_subject(SUBJECT) if d.id == breached.id)
    assert (closed.state, closed.late_reason) == (DeadlineState.LATE, LateReason.AGENCY_INFORMATION)
    # handed to nobody, it was closed by the consultant who signed it off (the figures' worker)
    assert (closed.assignee_id, closed.closed_by) == (None, SIGNER)


async def test_handing_on_moves_only_open_clocks_of_that_kind_not_yet_with_that_person(
    store: Store,
) -> None:
    async with store.unit_of_work() as uow:
        open_24h = await uow.deadlines.add(_clock(ClockKind.COMPLETION_24H, 60))
        met_48h = await uow.deadlines.add(_clock(ClockKind.COMPLETION_48H, 60))
        await uow.deadlines.close(
            SUBJECT, ClockKind.COMPLETION_48H.value, DeadlineState.MET.value, T0, closed_by=SIGNER
        )
        await uow.commit()
    async with store.unit_of_work() as uow:
        await reassign_clocks(uow, SUBJECT, [ClockKind.COMPLETION_24H, ClockKind.COMPLETION_48H], "sw-2")
        await reassign_clocks(uow, SUBJECT, [ClockKind.COMPLETION_24H], "sw-2")  # already theirs
        await uow.commit()
    async with store.unit_of_work() as uow:
        found = {d.clock: (d.id, d.state, d.assignee_id) for d in await uow.deadlines.for_subject(SUBJECT)}
    assert found == {
        ClockKind.COMPLETION_24H: (open_24h.id, DeadlineState.OPEN, "sw-2"),
        ClockKind.COMPLETION_48H: (met_48h.id, DeadlineState.MET, "sw-1"),
    }


async def test_a_clock_cancelled_after_its_due_time_is_late_one_cancelled_in_time_is_cancelled(
    store: Store,
) -> None:
    """SPEC §3: a breached clock is never recorded as met, nor does it disappear as cancelled."""
    async with store.unit_of_work() as uow:
        await uow.deadlines.add(_clock(ClockKind.COMPLETION_24H, 60))
        await uow.deadlines.add(_clock(ClockKind.COMPLETION_48H, 180))
        await uow.deadlines.add(_clock(ClockKind.CP_DECISION, 120))
        await uow.commit()
    at = T0 + timedelta(minutes=120)
    async with store.unit_of_work() as uow:
        for clock in (ClockKind.COMPLETION_24H, ClockKind.COMPLETION_48H, ClockKind.CP_DECISION):
            cancelled = DeadlineState.CANCELLED.value
            assert await uow.deadlines.close(SUBJECT, clock.value, cancelled, at, closed_by=SIGNER) == 1
        await uow.commit()
    async with store.unit_of_work() as uow:
        found = {d.clock: (d.state, d.closed_at) for d in await uow.deadlines.for_subject(SUBJECT)}
    assert found == {
        ClockKind.COMPLETION_24H: (DeadlineState.LATE, at),  # due an hour before: breached
        ClockKind.COMPLETION_48H: (DeadlineState.CANCELLED, at),  # not yet due
        ClockKind.CP_DECISION: (DeadlineState.CANCELLED, at),  # cancelled at its due time: in time
    }


async def test_a_clock_closed_as_late_is_late_even_by_its_due_time(store: Store) -> None:
    """A parent letter that lapsed: its window ran out, however soon after the scheduler ran."""
    async with store.unit_of_work() as uow:
        await uow.deadlines.add(_clock(ClockKind.PARENT_LETTER, 60))
        await uow.commit()
    at = T0 + timedelta(minutes=60)
    async with store.unit_of_work() as uow:
        letter_clock = ClockKind.PARENT_LETTER.value
        assert (
            await uow.deadlines.close(SUBJECT, letter_clock, "late", at, closed_by=PARENT_LETTER_ACTOR) == 1
        )
        await uow.commit()
    async with store.unit_of_work() as uow:
        [letter] = await uow.deadlines.for_subject(SUBJECT)
    assert (letter.state, letter.closed_at, letter.closed_by) == (DeadlineState.LATE, at, PARENT_LETTER_ACTOR)
