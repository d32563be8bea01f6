"""Back to screening: a refused sign-off and a social worker's return for a threshold decision, on
the in-memory fake, SQLite and PostgreSQL (the ``store`` fixture): the decision made again and
signed off, the clocks kept or restarted, the worker's load, the audit, and refusals that change
nothing."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from frontdoor.acting import Rules, Who
from frontdoor.allocation import worker_loads
from frontdoor.casework import (
    OutcomeRecorded,
    ParentLetterSent,
    SignedOff,
    challenge_window,
    record_outcome,
    record_parents_unreachable,
)
from frontdoor.contact import Contact, ContactState
from frontdoor.decisions import ScreeningDecided
from frontdoor.lifecycle import Action
from frontdoor.outcomes import current_outcome
from frontdoor.quality import SentBack, refuse_sign_off
from frontdoor.records import ClockKind, DeadlineState
from frontdoor.unit_of_work import Store
from frontdoor.usecase import AlreadyDecided, Refusal, RefusalReason
from tests.frontdoor.casework_builders import (
    ACCEPTED,
    ADVICE,
    CALENDAR,
    NFA,
    POLICY,
    challenge,
    ok,
    outcome_of,
    reassigned_to_worker,
    recommended,
    signed,
)
from tests.frontdoor.decision_builders import (
    CONSULTANT,
    CONSULTANT_2,
    DUTY_MANAGER,
    NOW,
    OFFICER,
    ROLES,
    ROUTE_I,
    ROUTE_II,
    ROUTE_III,
    ROUTE_IV,
    SW,
    SW_2,
    TEAM_MANAGER,
    audit_rows,
    deadlines_of,
    open_clocks,
    screen,
    screened,
    seat,
    snapshot,
    stored,
    submitted,
)
from tests.frontdoor.quality_builders import LATER, REASON, give_back, refuse

NEXT_WORKING_DAY = datetime(2026, 3, 17, 11, 0, tzinfo=UTC)


async def clock_states(store: Store, contact: Contact) -> dict[ClockKind, Counter[DeadlineState]]:
    found: dict[ClockKind, Counter[DeadlineState]] = {}
    for deadline in await deadlines_of(store, contact.reference):
        found.setdefault(deadline.clock, Counter())[deadline.state] += 1
    return found


async def load_of(store: Store, worker: str) -> int:
    [choice] = [c for c in await worker_loads(store.unit_of_work(), POLICY) if c.worker_id == worker]
    return choice.load.open_contacts


async def last_audit(store: Store) -> tuple[str, str, str, str]:
    event = (await audit_rows(store))[-1].event
    return event.action, event.subject, event.actor_id, event.detail


# -- a refused sign-off ---------------------------------------------------------------------------


async def test_a_refused_sign_off_goes_back_to_screening_and_is_decided_again(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_II)
    assert current_outcome(contact) is not None

    sent = ok(await refuse(store, contact), SentBack)
    back = sent.contact
    assert back.state is ContactState.AWAITING_SCREENING and back.assignee_id is None
    assert back.version == contact.version + 1 and await stored(store, back) == back
    assert (sent.action, sent.by, sent.recorder_id) == (Action.REFUSE_SIGN_OFF, CONSULTANT_2, CONSULTANT)
    assert sent.refused_outcome is not None and sent.refused_outcome.kind.value == "no_further_action"
    # The refusal, with its reason, follows the earlier decision in the history; no outcome is current.
    last = back.events[-1]
    assert (last.action, last.from_state, last.rationale) == (
        "refuse_sign_off",
        ContactState.AWAITING_SIGNOFF,
        REASON,
    )
    assert back.events[-2].action == "route_ii" and current_outcome(back) is None
    # The 24-hour completion clock from received-at keeps running; a fresh screening clock times the
    # new decision, one working day from the refusal.
    clocks = await open_clocks(store, back.reference)
    assert set(clocks) == {ClockKind.COMPLETION_24H, ClockKind.SCREENING}
    assert clocks[ClockKind.COMPLETION_24H].due_at == NOW + timedelta(hours=24)
    assert clocks[ClockKind.SCREENING].due_at == NEXT_WORKING_DAY == sent.screening_due
    assert clocks[ClockKind.SCREENING].assignee_id is None
    assert await last_audit(store) == (
        "contact.refuse_sign_off",
        back.reference,
        CONSULTANT_2,
        f"outcome=no_further_action; service_consent=given; recorder={CONSULTANT}; refuser_is_decider=no",
    )

    # Decided again, as route IV: the 48-hour clock from received-at replaces the 24-hour one.
    again = await screened(store, back, ROUTE_IV)
    clocks = await open_clocks(store, again.reference)
    assert set(clocks) == {ClockKind.COMPLETION_48H}
    assert (clocks[ClockKind.COMPLETION_48H].due_at, clocks[ClockKind.COMPLETION_48H].assignee_id) == (
        NOW + timedelta(hours=48),
        SW,
    )
    # The 24-hour clock was not yet due when the route changed, so it is cancelled, not late.
    assert (await clock_states(store, again))[ClockKind.COMPLETION_24H] == Counter(
        {DeadlineState.CANCELLED: 1}
    )
    recommended_ = ok(await recommended(store, again, ADVICE), OutcomeRecorded)
    closed = ok(await signed(store, recommended_.contact), SignedOff)
    assert closed.contact.state is ContactState.CLOSED and closed.decided_by == SW
    assert all(d.state is not DeadlineState.OPEN for d in await deadlines_of(store, again.reference))
    assert [e.action for e in closed.contact.events if e.to_state is not None] == [
        "submit",
        "route_ii",
        "refuse_sign_off",
        "route_iv",
        "recommend",
        "sign_off",
    ]


async def test_a_breached_completion_clock_replaced_by_another_route_closes_late(store: Store) -> None:
    """SPEC §3: route II at Monday 10:00 (24 hours, due Tuesday 10:00), sent back at Tuesday 13:00
    and decided again as route IV. The 24-hour clock was breached when the 48-hour clock replaced
    it: it closes late at that moment, and the contact never counts as completed on time."""
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_II)
    tuesday = NOW + timedelta(hours=27)
    refused = await refuse_sign_off(
        store.unit_of_work(),
        contact.id,
        contact.version,
        REASON,
        who=Who(CONSULTANT_2, ROLES[CONSULTANT_2]),
        rules=Rules(tuesday, CALENDAR, POLICY),
    )
    back = ok(refused, SentBack).contact
    rescreened = tuesday + timedelta(minutes=30)
    decided = await screen(store, back, ROUTE_IV, now=rescreened)
    assert isinstance(decided, ScreeningDecided)
    found = {(d.clock, d.state, d.closed_at) for d in await deadlines_of(store, contact.reference)}
    assert (ClockKind.COMPLETION_24H, DeadlineState.LATE, rescreened) in found
    assert not {d for d in found if d[0] is ClockKind.COMPLETION_24H and d[1] is not DeadlineState.LATE}
    # The route IV clock runs from received-at: due Wednesday 10:00, with the worker.
    completion = (await open_clocks(store, contact.reference))[ClockKind.COMPLETION_48H]
    assert (completion.due_at, completion.assignee_id) == (NOW + timedelta(hours=48), SW)


async def test_the_same_route_again_keeps_the_one_completion_clock(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_II)
    back = ok(await refuse(store, contact, CONSULTANT), SentBack).contact
    assert (await audit_rows(store))[-1].event.detail.endswith("refuser_is_decider=yes")
    again = await screened(store, back, ROUTE_II)
    states = await clock_states(store, again)
    assert states[ClockKind.COMPLETION_24H] == Counter({DeadlineState.OPEN: 1})
    assert states[ClockKind.SCREENING] == Counter({DeadlineState.MET: 2})
    ok(await signed(store, again), SignedOff)


async def test_an_urgent_contact_sent_back_gets_a_fresh_two_hour_clock(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store, urgent=True), ROUTE_I)
    recorded = ok(await outcome_of(store, contact, NFA), OutcomeRecorded).contact
    assert ClockKind.CP_DECISION not in await open_clocks(store, recorded.reference)
    back = ok(await refuse(store, recorded, TEAM_MANAGER), SentBack).contact
    clocks = await open_clocks(store, back.reference)
    assert clocks[ClockKind.CP_DECISION].due_at == LATER + timedelta(hours=2)
    assert clocks[ClockKind.COMPLETION_24H].due_at == NOW + timedelta(hours=24)
    # Route I again keeps that 2-hour clock rather than starting another.
    again = await screened(store, back, ROUTE_I)
    assert (await clock_states(store, again))[ClockKind.CP_DECISION] == Counter(
        {DeadlineState.MET: 1, DeadlineState.OPEN: 1}
    )
    assert (await open_clocks(store, again.reference))[ClockKind.CP_DECISION].due_at == LATER + timedelta(
        hours=2
    )


async def test_an_accepted_outcome_sent_back_never_reaches_the_receiving_team(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_I)
    recorded = ok(await outcome_of(store, contact, ACCEPTED), OutcomeRecorded).contact
    # Not signed off: the receiving team has not heard of it, so it has nothing to challenge.
    early = await challenge(store, recorded, NOW + timedelta(minutes=10))
    assert isinstance(early, Refusal) and early.reason is RefusalReason.WRONG_STATE
    back = ok(await refuse(store, recorded), SentBack).contact
    assert challenge_window(back, CALENDAR, POLICY) is None
    late = await challenge(store, back, NOW + timedelta(minutes=20))
    assert isinstance(late, Refusal) and late.reason is RefusalReason.WRONG_STATE


# -- a social worker returns an allocation --------------------------------------------------------


async def test_a_returned_allocation_leaves_the_workers_load_and_is_screened_again(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_IV)
    assert await load_of(store, SW) == 1

    sent = ok(await give_back(store, contact), SentBack)
    back = sent.contact
    assert back.state is ContactState.AWAITING_SCREENING and back.assignee_id is None
    assert (sent.action, sent.worker_id, sent.recorder_id) == (Action.RETURN_FOR_SCREENING, SW, None)
    assert (back.events[-1].action, back.events[-1].rationale) == ("return_for_screening", REASON)
    assert await load_of(store, SW) == 0
    clocks = await open_clocks(store, back.reference)
    assert set(clocks) == {ClockKind.COMPLETION_48H, ClockKind.SCREENING}
    assert (clocks[ClockKind.COMPLETION_48H].assignee_id, clocks[ClockKind.COMPLETION_48H].due_at) == (
        None,
        NOW + timedelta(hours=48),
    )
    assert clocks[ClockKind.SCREENING].due_at == NEXT_WORKING_DAY
    assert await last_audit(store) == ("contact.return_for_screening", back.reference, SW, f"worker={SW}")

    # The consultant decides again (route III); the 48-hour clock goes with the contact to the officer.
    again = await screened(store, back, ROUTE_III)
    states = await clock_states(store, again)
    assert states[ClockKind.COMPLETION_48H][DeadlineState.OPEN] == 1
    assert (await open_clocks(store, again.reference))[ClockKind.COMPLETION_48H].assignee_id == OFFICER
    outcome = await record_outcome(
        store.unit_of_work(),
        again.id,
        NFA,
        again.version,
        who=Who(OFFICER, ROLES[OFFICER]),
        rules=Rules(NOW, CALENDAR, POLICY),
    )
    closed = ok(await signed(store, ok(outcome, OutcomeRecorded).contact), SignedOff).contact
    assert closed.state is ContactState.CLOSED
    assert all(d.state is not DeadlineState.OPEN for d in await deadlines_of(store, closed.reference))


async def test_a_returned_re_referral_meets_its_recommendation_clock_and_cancels_the_letter(
    store: Store,
) -> None:
    await seat(store)
    contact = await reassigned_to_worker(store)
    letter = await record_parents_unreachable(
        store.unit_of_work(),
        contact.id,
        contact.version,
        who=Who(SW, ROLES[SW]),
        rules=Rules(NOW, CALENDAR, POLICY),
    )
    contact = ok(letter, ParentLetterSent).contact
    back = ok(await give_back(store, contact), SentBack).contact
    states = await clock_states(store, back)
    assert states[ClockKind.REREFERRAL_RECOMMENDATION] == Counter({DeadlineState.MET: 1})
    assert states[ClockKind.PARENT_LETTER] == Counter({DeadlineState.CANCELLED: 1})
    assert states[ClockKind.SCREENING][DeadlineState.OPEN] == 1
    assert await load_of(store, SW) == 0


# -- refusals change nothing ----------------------------------------------------------------------


async def test_refusals_change_nothing(store: Store) -> None:
    await seat(store)
    signoff = await screened(store, await submitted(store), ROUTE_II)
    allocated = await screened(store, await submitted(store), ROUTE_IV)
    before = [await snapshot(store, signoff), await snapshot(store, allocated)]

    cases: list[tuple[SentBack | Refusal | AlreadyDecided, RefusalReason, str]] = [
        (
            await refuse(store, signoff, SW),
            RefusalReason.NOT_PERMITTED,
            "Sorry, only consultants or team managers",
        ),
        (await refuse(store, signoff, OFFICER), RefusalReason.NOT_PERMITTED, "Sorry, only"),
        (await refuse(store, signoff, DUTY_MANAGER), RefusalReason.NOT_PERMITTED, "Sorry, only"),
        (await refuse(store, signoff, reason="   "), RefusalReason.INVALID, "Reason: say why"),
        (await refuse(store, allocated), RefusalReason.WRONG_STATE, "is with a social worker"),
        (
            await give_back(store, allocated, CONSULTANT),
            RefusalReason.NOT_PERMITTED,
            "Sorry, only social workers",
        ),
        (await give_back(store, allocated, SW_2), RefusalReason.NOT_YOURS, "allocated to someone else"),
        (await give_back(store, allocated, reason=""), RefusalReason.INVALID, "Reason: say why"),
        (await give_back(store, signoff), RefusalReason.WRONG_STATE, "is awaiting sign-off"),
    ]
    for result, reason, words in cases:
        assert isinstance(result, Refusal), result
        assert result.reason is reason and words in result.message, result
    assert [await snapshot(store, signoff), await snapshot(store, allocated)] == before


async def test_a_stale_or_replayed_card_changes_nothing(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_II)
    stale = await refuse(store, contact, version=contact.version - 1)
    assert isinstance(stale, AlreadyDecided) and not stale.replay and stale.by == CONSULTANT
    back = ok(await refuse(store, contact), SentBack).contact
    after = await snapshot(store, back)
    replay = await refuse(store, contact)  # the same card pressed again
    assert isinstance(replay, AlreadyDecided) and replay.replay and "already done this" in replay.message
    other = await refuse(store, contact, TEAM_MANAGER)
    assert isinstance(other, AlreadyDecided) and not other.replay and "Consultant Two" in other.message
    assert await snapshot(store, back) == after

    allocated = await screened(store, await submitted(store), ROUTE_IV)
    returned = ok(await give_back(store, allocated), SentBack).contact
    after = await snapshot(store, returned)
    replay = await give_back(store, allocated)
    assert isinstance(replay, AlreadyDecided) and replay.replay
    assert await snapshot(store, returned) == after
