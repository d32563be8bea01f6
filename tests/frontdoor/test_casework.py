"""The work after screening against the in-memory store: every route to closure, casework notes,
the parent letter and its lapse on an injected clock, outcomes, sign-off with the outcome letter,
the receiving team's challenge, and refusals that change nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from frontdoor.acting import Rules, Who
from frontdoor.allocation import worker_loads
from frontdoor.casework import (
    PARENT_LETTER_ACTOR,
    CaseworkAction,
    CaseworkRecorded,
    ChallengeRecorded,
    ChallengeResult,
    LetterLapsed,
    OutcomeRecorded,
    Recommendation,
    ReferrerChallengeRecorded,
    ReferrerResult,
    ReferrerStage,
    SignedOff,
    WorkKind,
    accept_referral,
    challenge_window,
    due_parent_letters,
    escalate_challenge,
    lapse_parent_letter,
    raise_challenge,
    recommend,
    record_challenge_discussion,
    record_consent,
    record_outcome,
    record_outcome_letter_sent,
    record_parents_unreachable,
    record_referrer_challenge,
    record_referrer_challenge_step,
    record_work,
    sign_off,
)
from frontdoor.contact import Consent, Contact, ContactState
from frontdoor.decisions import ScreeningDecided
from frontdoor.duty import current_handover
from frontdoor.figures import Narrowing, Period, compute_figures
from frontdoor.lifecycle import Action
from frontdoor.outcomes import Agency, Outcome, OutcomeKind, ServiceConsent, current_outcome, read_event_data
from frontdoor.records import ClockKind, DeadlineState
from frontdoor.roles import Role
from frontdoor.systemclock import SettableClock
from frontdoor.unit_of_work import Store
from frontdoor.usecase import AlreadyDecided, Refusal, RefusalReason
from frontdoor.views import channel_summary
from tests.fakes import InMemoryStore
from tests.frontdoor.casework_builders import (
    ACCEPTED,
    ADVICE,
    CALENDAR,
    EARLY_HELP,
    EASTER,
    NFA,
    POLICY,
    THURSDAY,
    WALKS,
    challenge,
    letter_out,
    letter_waiting,
    ok,
    outcome_of,
    reassigned_to_worker,
    recommended,
    resolve,
    route_i_accepted_in_two_steps,
    route_iii,
    route_iv,
    signed,
    work,
)
from tests.frontdoor.decision_builders import (
    ANONYMOUS_PUBLIC,
    CONSULTANT,
    CONSULTANT_2,
    NOW,
    OFFICER,
    OFFICER_2,
    ROLES,
    ROUTE_I,
    ROUTE_II,
    ROUTE_III,
    ROUTE_IV,
    SW,
    SW_2,
    TEAM_MANAGER,
    WORRIES,
    audit_actions,
    audit_rows,
    deadlines_of,
    open_clocks,
    screen,
    screened,
    seat,
    snapshot,
    states,
    stored,
    submitted,
)


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


# -- thin wrappers: the actor's roles from the directory table, the card's version from the contact --


# -- every route to closure -----------------------------------------------------------------------


@pytest.mark.parametrize("walk", WALKS, ids=[walk.__name__ for walk in WALKS])
async def test_every_route_reaches_closure_with_every_step_audited(
    store: Store, walk: Callable[[Store], Awaitable[Contact]]
) -> None:
    await seat(store)
    closed = await walk(store)
    assert closed.state is ContactState.CLOSED and closed.assignee_id is None
    assert await stored(store, closed) == closed
    assert current_outcome(closed) is not None
    # Every deadline the contact ever had is closed; none is left to alert.
    deadlines = await deadlines_of(store, closed.reference)
    assert deadlines and all(d.state is not DeadlineState.OPEN for d in deadlines)
    # Every event on the contact, transition or note, has its audit row under the reference.
    # (Intake audits its submission, whichever way it went, as "contact.submitted".)
    submission, *after = closed.events
    assert submission.from_state is ContactState.DRAFT
    expected = Counter(["contact.submitted", *(f"contact.{e.action}" for e in after)])
    assert Counter(await audit_actions(store, closed.reference)) == expected
    transitions = [e for e in closed.events if e.to_state is not None]
    assert transitions[-1].action == "sign_off"
    for row in await audit_rows(store):
        assert WORRIES not in row.event.detail and "Rationale" not in row.event.detail
        assert "Safeguarding and Assessment Team North" not in row.event.detail


# -- outcomes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("urgent", "highlight"), [(True, True), (False, False), (True, False)])
async def test_the_highlight_to_the_receiving_team_is_the_signers_tick(
    store: Store, urgent: bool, highlight: bool
) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store, urgent=urgent), ROUTE_I)
    recorded = ok(await outcome_of(store, contact, ACCEPTED), OutcomeRecorded)
    assert recorded.contact.state is ContactState.AWAITING_SIGNOFF
    # Nobody outside the front door is to hear of it yet: the window opens at the sign-off.
    assert challenge_window(recorded.contact, CALENDAR, POLICY) is None
    result = ok(
        await sign_off(
            store.unit_of_work(),
            contact.id,
            recorded.contact.version,
            highlight=highlight,
            who=Who(CONSULTANT_2, ROLES[CONSULTANT_2]),
            now=NOW,
        ),
        SignedOff,
    )
    assert result.highlight is highlight
    assert read_event_data(result.contact.events[-2]) == {"highlight": highlight}
    assert challenge_window(result.contact, CALENDAR, POLICY) == datetime(2026, 3, 16, 17, 0, tzinfo=UTC)
    sign_detail = [r.event.detail for r in await audit_rows(store) if r.event.action == "contact.sign_off"]
    assert sign_detail == [
        "outcome=accepted_for_assessment; strategy_discussion=yes; "
        f"receiving_manager={TEAM_MANAGER}; highlight={'yes' if highlight else 'no'}"
    ]
    recorded_detail = [
        r.event.detail for r in await audit_rows(store) if r.event.action == "contact.record_outcome"
    ]
    data = read_event_data(recorded.contact.events[-1])
    assert data == {
        "outcome": "accepted_for_assessment",
        "receiving_team": "Safeguarding and Assessment Team North",
        "strategy_discussion": True,
        "receiving_manager": TEAM_MANAGER,
    }
    assert recorded_detail == [
        f"outcome=accepted_for_assessment; strategy_discussion=yes; receiving_manager={TEAM_MANAGER}"
        + ("; urgent=yes" if urgent else "")
    ]


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (replace(NFA, rationale=" "), "needs a rationale"),
        (replace(ACCEPTED, receiving_team=""), "Receiving team"),
        (replace(ACCEPTED, receiving_manager_id=" "), "Receiving team manager: choose the receiving team's"),
        (replace(NFA, strategy_discussion=True), "accepted contact only"),
        (replace(EARLY_HELP, agency=None), "choose the agency"),
        (replace(ADVICE, agency=Agency.PROBATION), "only a referral to another agency"),
    ],
)
async def test_an_invalid_outcome_is_refused(store: Store, outcome: Outcome, expected: str) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_I)
    before = await snapshot(store, contact)
    result = await outcome_of(store, contact, outcome)
    assert (
        isinstance(result, Refusal) and result.reason is RefusalReason.INVALID and expected in result.message
    )
    assert await snapshot(store, contact) == before


async def test_an_officer_never_accepts_a_contact_but_a_consultant_may_on_route_iii(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_III)
    before = await snapshot(store, contact)
    refused = await outcome_of(store, contact, ACCEPTED, OFFICER)
    assert isinstance(refused, Refusal) and refused.reason is RefusalReason.NOT_PERMITTED
    assert await snapshot(store, contact) == before
    other = await outcome_of(store, contact, NFA, OFFICER_2)
    assert isinstance(other, Refusal) and other.reason is RefusalReason.NOT_YOURS
    assert isinstance(await outcome_of(store, contact, ACCEPTED, CONSULTANT), OutcomeRecorded)


async def test_a_referral_accepted_must_record_an_accepted_outcome(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_I)
    accepted = await accept_referral(
        store.unit_of_work(),
        contact.id,
        "Progress",
        contact.version,
        who=Who(CONSULTANT, ROLES[CONSULTANT]),
        now=NOW,
    )
    contact = ok(accepted, CaseworkRecorded).contact
    refused = await outcome_of(store, contact, NFA)
    assert isinstance(refused, Refusal) and refused.reason is RefusalReason.INVALID


async def test_a_recommendation_unassigns_the_worker_and_hands_the_clock_to_the_consultants(
    store: Store,
) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_IV)
    assert [
        c.load.open_contacts for c in await worker_loads(store.unit_of_work(), POLICY) if c.worker_id == SW
    ] == [1]
    recorded = ok(await recommended(store, contact, NFA), OutcomeRecorded)
    assert recorded.recommendation is Recommendation.NO_FURTHER_INVOLVEMENT
    assert recorded.contact.assignee_id is None
    assert [
        c.load.open_contacts for c in await worker_loads(store.unit_of_work(), POLICY) if c.worker_id == SW
    ] == [0]
    completion = (await open_clocks(store, contact.reference))[ClockKind.COMPLETION_48H]
    assert (completion.assignee_id, completion.due_at) == (None, NOW + timedelta(hours=48))
    # The same clock (one row, its id kept) moves on to the consultants.
    assert states(await deadlines_of(store, contact.reference))[ClockKind.COMPLETION_48H] == [
        DeadlineState.OPEN,
    ]


async def test_a_re_referral_recommendation_meets_its_48_hour_clock(store: Store) -> None:
    await seat(store)
    contact = await reassigned_to_worker(store)
    ok(await recommended(store, contact, NFA, now=NOW + timedelta(hours=5)), OutcomeRecorded)
    assert states(await deadlines_of(store, contact.reference))[ClockKind.REREFERRAL_RECOMMENDATION] == [
        DeadlineState.MET
    ]


async def test_a_re_referral_recommendation_awaits_sign_off_on_the_completion_clock(store: Store) -> None:
    """A re-referral reassigned to a social worker is timed like route IV (the procedure's "as per
    3.4"): the 48-hour completion clock from received-at runs beside the worker's recommendation
    clock, and goes to the consultants with the recommendation, so the sign-off is timed, listed
    in the handover and alerted like a route III/IV outcome's."""
    await seat(store)
    contact = await reassigned_to_worker(store)
    clocks = await open_clocks(store, contact.reference)
    assert set(clocks) == {ClockKind.REREFERRAL_RECOMMENDATION, ClockKind.COMPLETION_48H}
    completion = clocks[ClockKind.COMPLETION_48H]
    # Received Monday 10:00: two working days, Wednesday 10:00, with the worker.
    assert (completion.started_at, completion.due_at, completion.assignee_id) == (
        NOW,
        NOW + timedelta(hours=48),
        SW,
    )

    recorded = ok(await recommended(store, contact, NFA, now=NOW + timedelta(hours=5)), OutcomeRecorded)
    assert recorded.contact.state is ContactState.AWAITING_SIGNOFF and recorded.contact.assignee_id is None
    clocks = await open_clocks(store, contact.reference)
    assert set(clocks) == {ClockKind.COMPLETION_48H}
    waiting = clocks[ClockKind.COMPLETION_48H]
    assert (waiting.id, waiting.due_at, waiting.assignee_id) == (completion.id, completion.due_at, None)
    assert recorded.deadlines == (waiting,)

    # Wednesday 09:00, an hour before it is due: the duty manager's handover lists it as at risk.
    handover = await current_handover(
        store.unit_of_work(), rules=Rules(NOW + timedelta(hours=47), CALENDAR, POLICY)
    )
    assert [(line.subject, line.clock, line.assignee_id) for line in handover.at_risk] == [
        (contact.reference, ClockKind.COMPLETION_48H, None)
    ]
    ok(await signed(store, recorded.contact, now=NOW + timedelta(hours=47)), SignedOff)
    assert states(await deadlines_of(store, contact.reference))[ClockKind.COMPLETION_48H] == [
        DeadlineState.MET
    ]


# -- casework: who may, and what is recorded ------------------------------------------------------


async def test_another_workers_allocation_cannot_be_worked(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_IV)
    before = await snapshot(store, contact)
    for result in (
        await work(store, contact, WorkKind.PARENT_CONTACT, SW_2),
        await recommended(store, contact, NFA, SW_2),
        await letter_out(store, contact, SW_2),
    ):
        assert isinstance(result, Refusal) and result.reason is RefusalReason.NOT_YOURS
    assert await snapshot(store, contact) == before


async def test_officer_work_is_route_iii_only(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_IV)
    result = await work(store, contact, WorkKind.OFFICER_WORK, SW)
    assert isinstance(result, Refusal) and result.reason is RefusalReason.WRONG_STATE


@pytest.mark.parametrize(
    ("consent", "reason", "accepted"),
    [
        (Consent.GIVEN, "", True),
        (Consent.REFUSED, "", False),  # refused needs its reason
        (Consent.REFUSED, "Mother does not want social care involved", True),
        (Consent.NOT_SOUGHT, "Seeking it would alert the adult posing a risk", True),
        (Consent.NOT_SOUGHT, "  ", False),
    ],
)
async def test_consent_is_recorded_on_the_contact(
    store: Store, consent: Consent, reason: str, accepted: bool
) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_IV)
    result = await record_consent(
        store.unit_of_work(),
        contact.id,
        consent,
        reason,
        contact.version,
        who=Who(SW, ROLES[SW]),
        now=NOW,
    )
    if not accepted:
        assert isinstance(result, Refusal) and result.reason is RefusalReason.INVALID
        return
    saved = ok(result, CaseworkRecorded).contact
    assert (saved.consent, saved.consent_reason) == (consent, reason.strip())
    assert read_event_data(saved.events[-1]) == {"consent": consent.value}
    assert saved.events[-1].to_state is None and saved.events[-1].from_state is ContactState.SW_ASSESSMENT
    assert (await audit_rows(store))[-1].event.detail == f"consent={consent.value}"


Step = Callable[[Store, Contact], Awaitable[object]]


async def _sign(store: Store, contact: Contact) -> object:
    return await sign_off(
        store.unit_of_work(),
        contact.id,
        contact.version,
        who=Who(CONSULTANT, frozenset({Role.SOCIAL_WORKER})),
        now=NOW,
    )


async def _work_as_consultant(store: Store, contact: Contact) -> object:
    return await record_work(
        store.unit_of_work(),
        contact.id,
        WorkKind.PARENT_CONTACT,
        "x",
        contact.version,
        who=Who(SW, frozenset({Role.CONSULTANT})),
        now=NOW,
    )


async def _recommend_as_officer(store: Store, contact: Contact) -> object:
    return await recommend(
        store.unit_of_work(),
        contact.id,
        NFA,
        contact.version,
        who=Who(SW, frozenset({Role.OFFICER})),
        rules=Rules(NOW, CALENDAR, POLICY),
    )


async def _outcome_as_nobody(store: Store, contact: Contact) -> object:
    return await record_outcome(
        store.unit_of_work(),
        contact.id,
        NFA,
        contact.version,
        who=Who(SW, frozenset({Role.PROFESSIONAL})),
        rules=Rules(NOW, CALENDAR, POLICY),
    )


async def _letter_as_admin(store: Store, contact: Contact) -> object:
    return await record_parents_unreachable(
        store.unit_of_work(),
        contact.id,
        contact.version,
        who=Who(SW, frozenset({Role.ADMIN})),
        rules=Rules(NOW, CALENDAR, POLICY),
    )


async def _challenge_as_consultant(store: Store, contact: Contact) -> object:
    return await raise_challenge(
        store.unit_of_work(),
        contact.id,
        "x",
        contact.version,
        who=Who(TEAM_MANAGER, frozenset({Role.CONSULTANT})),
        rules=Rules(NOW, CALENDAR, POLICY),
    )


@pytest.mark.parametrize(
    "step",
    [
        _sign,
        _work_as_consultant,
        _recommend_as_officer,
        _outcome_as_nobody,
        _letter_as_admin,
        _challenge_as_consultant,
    ],
)
async def test_forged_roles_are_refused(store: Store, step: Step) -> None:
    """The actor ids are the right people, but the roles passed (the caller's, from the directory)
    do not allow the step: the roles are what counts, and nothing changes."""
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_IV)
    before = await snapshot(store, contact)
    result = await step(store, contact)
    assert isinstance(result, Refusal) and result.reason is RefusalReason.NOT_PERMITTED
    assert await snapshot(store, contact) == before


async def test_a_replayed_note_changes_nothing(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_IV)
    ok(await work(store, contact, WorkKind.REFERRER_CONTACT), CaseworkRecorded)
    after = await snapshot(store, contact)
    again = await work(store, contact, WorkKind.REFERRER_CONTACT)
    assert isinstance(again, AlreadyDecided) and again.replay
    assert await snapshot(store, contact) == after


# -- who closed each clock ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("walk", "closers"),
    [
        (
            route_i_accepted_in_two_steps,
            {
                ClockKind.SCREENING: CONSULTANT,
                ClockKind.CP_DECISION: CONSULTANT,
                ClockKind.COMPLETION_24H: CONSULTANT_2,
            },
        ),
        (route_iii, {ClockKind.SCREENING: CONSULTANT, ClockKind.COMPLETION_48H: CONSULTANT_2}),
        (route_iv, {ClockKind.SCREENING: CONSULTANT, ClockKind.COMPLETION_48H: CONSULTANT_2}),
    ],
    ids=["route_i", "route_iii", "route_iv"],
)
async def test_each_clock_records_who_closed_it(
    store: Store, walk: Callable[[Store], Awaitable[Contact]], closers: dict[ClockKind, str]
) -> None:
    """SPEC §11: the screening and CP decisions close their clocks for the consultant who made them;
    the officer's outcome or social worker's recommendation hands the completion clock to the
    consultants, and the consultant who signs the contact off closes it."""
    await seat(store)
    closed = await walk(store)
    clocks = await deadlines_of(store, closed.reference)
    assert all(d.state is not DeadlineState.OPEN for d in clocks)
    assert {d.clock: d.closed_by for d in clocks} == closers
    completion = next(d for d in clocks if d.clock in (ClockKind.COMPLETION_24H, ClockKind.COMPLETION_48H))
    assert completion.assignee_id is None


# -- the parent letter and its lapse --------------------------------------------------------------


async def test_a_parent_letter_lapses_after_three_working_days_and_returns_to_the_worker(
    store: Store,
) -> None:
    await seat(store)
    clock = SettableClock(THURSDAY)
    contact = await letter_waiting(store, clock)
    letter = (await open_clocks(store, contact.reference))[ClockKind.PARENT_LETTER]
    # Thursday 10:00 + 3 working days, skipping Good Friday, the weekend and Easter Monday: Thursday 9 April.
    assert (letter.due_at, letter.assignee_id) == (datetime(2026, 4, 9, 9, 0, tzinfo=UTC), SW)

    clock.set(datetime(2026, 4, 9, 8, 59, tzinfo=UTC))
    assert due_parent_letters(await deadlines_of(store, contact.reference), clock.now()) == ()
    before = await snapshot(store, contact)
    early = await lapse_parent_letter(
        store.unit_of_work(),
        contact.reference or "",
        rules=Rules(clock.now(), EASTER, POLICY),
    )
    assert isinstance(early, Refusal) and early.reason is RefusalReason.NOT_DUE
    assert await snapshot(store, contact) == before

    clock.advance(timedelta(minutes=1))
    assert due_parent_letters(await deadlines_of(store, contact.reference), clock.now()) == (
        contact.reference,
    )
    lapsed = await lapse_parent_letter(
        store.unit_of_work(),
        contact.reference or "",
        rules=Rules(clock.now(), EASTER, POLICY),
    )
    assert isinstance(lapsed, LetterLapsed)
    # Still open to the same worker, who reviews and re-applies the threshold within a working day.
    assert (lapsed.contact.state, lapsed.contact.assignee_id, lapsed.worker_id) == (
        ContactState.SW_ASSESSMENT,
        SW,
        SW,
    )
    assert lapsed.review_due == datetime(2026, 4, 10, 9, 0, tzinfo=UTC)
    event = lapsed.contact.events[-1]
    assert (event.action, event.actor_id, event.to_state) == (
        "parent_letter_lapsed",
        PARENT_LETTER_ACTOR,
        None,
    )
    # The letter's 3 working days ran out without the parents making contact: not met, even with the
    # scheduler running at the very minute it was due. The review is the worker's own clock, not
    # a screening decision.
    found = states(await deadlines_of(store, contact.reference))
    assert found[ClockKind.PARENT_LETTER] == [DeadlineState.LATE]
    review = (await open_clocks(store, contact.reference))[ClockKind.LETTER_REVIEW]
    assert (review.due_at, review.assignee_id) == (lapsed.review_due, SW)
    assert ClockKind.SCREENING not in await open_clocks(store, contact.reference)
    assert (await audit_actions(store, contact.reference))[-1] == "contact.parent_letter_lapsed"

    # The scheduler running again finds nothing waiting.
    after = await snapshot(store, contact)
    again = await lapse_parent_letter(
        store.unit_of_work(),
        contact.reference or "",
        rules=Rules(clock.now(), EASTER, POLICY),
    )
    assert isinstance(again, Refusal) and again.reason is RefusalReason.WRONG_STATE
    assert await snapshot(store, contact) == after

    # The worker re-applies the threshold: the review clock is met. The figures count one screening
    # decision (the consultant's), not the review.
    ok(await recommended(store, lapsed.contact, ACCEPTED, now=clock.now()), OutcomeRecorded)
    found = states(await deadlines_of(store, contact.reference))
    assert (found[ClockKind.SCREENING], found[ClockKind.LETTER_REVIEW]) == (
        [DeadlineState.MET],
        [DeadlineState.MET],
    )
    spring = Period(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC), "spring")
    async with store.unit_of_work() as uow:
        figures = await compute_figures(uow.figures, spring, Narrowing(), clock.now(), EASTER, (50, 85))
    totals = {tally.clock: tally.total for tally in figures.totals}
    assert totals[ClockKind.SCREENING] == 1 and ClockKind.LETTER_REVIEW not in totals


async def test_a_letter_lapsed_late_by_the_scheduler_is_recorded_the_same_way(store: Store) -> None:
    """The scheduler running a minute or an hour after the letter was due changes only the closing
    time: the letter lapsed (late) and the worker has a review clock from then."""
    await seat(store)
    clock = SettableClock(THURSDAY)
    contact = await letter_waiting(store, clock)
    clock.set(datetime(2026, 4, 9, 10, 1, tzinfo=UTC))  # an hour and a minute after it was due
    lapsed = ok(
        await lapse_parent_letter(
            store.unit_of_work(), contact.reference or "", rules=Rules(clock.now(), EASTER, POLICY)
        ),
        LetterLapsed,
    )
    letter = next(
        d for d in await deadlines_of(store, contact.reference) if d.clock is ClockKind.PARENT_LETTER
    )
    # closed by the scheduler, whose actor is recorded as having closed it
    assert (letter.state, letter.closed_at, letter.closed_by) == (
        DeadlineState.LATE,
        clock.now(),
        PARENT_LETTER_ACTOR,
    )
    review = (await open_clocks(store, contact.reference))[ClockKind.LETTER_REVIEW]
    assert review.due_at == lapsed.review_due == datetime(2026, 4, 10, 10, 1, tzinfo=UTC)


async def test_parents_getting_in_touch_stop_the_letter_clock(store: Store) -> None:
    await seat(store)
    clock = SettableClock(THURSDAY)
    contact = await letter_waiting(store, clock)
    clock.advance(timedelta(days=1))
    ok(await work(store, contact, WorkKind.PARENT_CONTACT, now=clock.now()), CaseworkRecorded)
    assert states(await deadlines_of(store, contact.reference))[ClockKind.PARENT_LETTER] == [
        DeadlineState.MET
    ]
    clock.set(datetime(2026, 4, 10, tzinfo=UTC))
    result = await lapse_parent_letter(
        store.unit_of_work(),
        contact.reference or "",
        rules=Rules(clock.now(), EASTER, POLICY),
    )
    assert isinstance(result, Refusal)


async def test_a_second_letter_while_one_is_waiting_is_refused(store: Store) -> None:
    await seat(store)
    contact = await letter_waiting(store, SettableClock(THURSDAY))
    again = await letter_out(store, contact, SW, now=THURSDAY + timedelta(hours=1))
    assert isinstance(again, Refusal) and again.reason is RefusalReason.INVALID
    assert "already waiting" in again.message


# -- proceeding without consent -------------------------------------------------------------------


@pytest.mark.parametrize("consent", [Consent.REFUSED, Consent.NOT_SOUGHT])
async def test_a_decider_proceeding_without_consent_confirms_a_risk_of_harm(
    store: Store, consent: Consent
) -> None:
    await seat(store)
    fresh = await submitted(store)
    async with store.unit_of_work() as uow:
        loaded = await uow.contacts.get(fresh.id)
        assert loaded is not None
        without = await uow.contacts.save(
            replace(loaded, consent=consent, consent_reason="Reason"), loaded.version
        )
        await uow.commit()
    before = await snapshot(store, without)
    # Route I without the confirmation is refused; with it, recorded (the sentence on the event only).
    refused = await screen(store, without, ROUTE_I)
    assert isinstance(refused, Refusal) and "evidence suggests a risk of harm" in refused.message
    assert await snapshot(store, without) == before
    confirmed = replace(ROUTE_I, risk_of_harm="Bruising reported by the school nurse")
    decided = ok(await screen(store, without, confirmed), ScreeningDecided)
    assert read_event_data(decided.contact.events[-1])["without_consent"] is True
    assert (await audit_rows(store))[-1].event.detail.endswith("; without_consent=yes")
    assert "Bruising" not in (await audit_rows(store))[-1].event.detail
    # Accepting it is proceeding too: the outcome carries the confirmation.
    missing = await outcome_of(store, decided.contact, ACCEPTED)
    assert isinstance(missing, Refusal) and "risk of harm" in missing.message
    accepted = replace(
        ACCEPTED, risk_of_harm="Disclosure to the teacher", service_consent=ServiceConsent.NOT_GIVEN
    )
    recorded = ok(await outcome_of(store, decided.contact, accepted), OutcomeRecorded)
    carried = current_outcome(recorded.contact)
    assert carried is not None and carried.outcome.service_consent is ServiceConsent.NOT_GIVEN
    assert carried.outcome.risk_of_harm == "Disclosure to the teacher"
    detail = (await audit_rows(store))[-1].event.detail
    assert "service_consent=not_given; without_consent=yes" in detail and "teacher" not in detail


async def test_with_consent_no_confirmation_is_asked_and_route_ii_records_consent_for_a_service(
    store: Store,
) -> None:
    await seat(store)
    contact = await submitted(store)
    assert contact.consent is Consent.GIVEN
    ok(await screen(store, contact, ROUTE_I), ScreeningDecided)
    other = await submitted(store)
    decision = replace(ROUTE_II, service_consent=ServiceConsent.GIVEN)
    decided = ok(await screen(store, other, decision), ScreeningDecided)
    assert decided.outcome is not None and decided.outcome.service_consent is ServiceConsent.GIVEN
    carried = current_outcome(decided.contact)
    assert carried is not None and carried.outcome.service_consent is ServiceConsent.GIVEN


# -- sign-off and letters -------------------------------------------------------------------------


@pytest.mark.parametrize("signer", [CONSULTANT_2, TEAM_MANAGER])
async def test_sign_off_closes_and_produces_the_letter(store: Store, signer: str) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_II, CONSULTANT)
    result = ok(await signed(store, contact, signer), SignedOff)
    assert (result.decided_by, result.signed_off_by, result.highlight) == (CONSULTANT, signer, False)
    assert result.outcome.kind is OutcomeKind.NO_FURTHER_ACTION
    assert result.referrer_told and result.letter is not None
    assert "Dear Testy McTestface" in result.letter and "Zebedee" in result.letter
    produced = result.contact.events[-1]
    assert produced.action == "outcome_letter_produced" and read_event_data(produced) == {
        "letter": result.letter
    }
    rows = [row.event for row in await audit_rows(store)][-2:]
    assert [(r.action, r.detail) for r in rows] == [
        ("contact.sign_off", "outcome=no_further_action; service_consent=given"),
        ("contact.outcome_letter_produced", ""),
    ]


async def test_nobody_signs_off_their_own_decision_or_recommendation(store: Store) -> None:
    await seat(store)
    # Route II: the consultant who decided may not sign it off.
    decided = await screened(store, await submitted(store), ROUTE_II, CONSULTANT)
    before = await snapshot(store, decided)
    refused = await signed(store, decided, CONSULTANT)
    assert isinstance(refused, Refusal) and refused.reason is RefusalReason.OWN_DECISION
    assert "another consultant or team manager must sign it off" in refused.message
    assert await snapshot(store, decided) == before
    # Route I: neither who decided the threshold was met nor who recorded the outcome.
    contact = await screened(store, await submitted(store), ROUTE_I, CONSULTANT)
    recorded = ok(await outcome_of(store, contact, ACCEPTED, TEAM_MANAGER), OutcomeRecorded)
    for own in (CONSULTANT, TEAM_MANAGER):
        own_refusal = await signed(store, recorded.contact, own)
        assert isinstance(own_refusal, Refusal) and own_refusal.reason is RefusalReason.OWN_DECISION
    ok(await signed(store, recorded.contact, CONSULTANT_2), SignedOff)


async def test_two_signers_at_once_the_second_is_told(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_II)
    ok(await signed(store, contact, CONSULTANT_2), SignedOff)
    after = await snapshot(store, contact)
    lost = await signed(store, contact, TEAM_MANAGER)
    assert isinstance(lost, AlreadyDecided) and lost.by == CONSULTANT_2
    assert await snapshot(store, contact) == after


async def test_signing_off_before_an_outcome_is_refused(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_IV)
    result = await signed(store, contact)
    assert isinstance(result, Refusal) and result.reason is RefusalReason.WRONG_STATE


async def test_an_anonymous_member_of_the_public_is_never_told_or_named(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store, referrer=ANONYMOUS_PUBLIC), ROUTE_II)
    lost_race = await screen_again(store, contact)
    result = ok(await signed(store, contact), SignedOff)
    assert result.letter is None and not result.referrer_told
    assert result.contact.events[-1].action == "referrer_not_told"
    assert (await audit_actions(store, contact.reference))[-1] == "contact.referrer_not_told"
    no_letter = await record_outcome_letter_sent(
        store.unit_of_work(),
        contact.id,
        result.contact.version,
        who=Who(OFFICER, ROLES[OFFICER]),
        now=NOW,
    )
    assert isinstance(no_letter, Refusal) and no_letter.reason is RefusalReason.INVALID
    summary = channel_summary(
        result.contact, await deadlines_of(store, contact.reference), NOW, CALENDAR, POLICY
    )
    shown = [
        summary.referrer,
        lost_race.message,
        no_letter.message,
        *(f"{row.event.detail} {row.event.subject} {row.event.actor_id}" for row in await audit_rows(store)),
    ]
    assert summary.referrer == "Member of the public (anonymous)"
    assert not [text for text in shown if "Neighbourname" in text or "07700" in text]


async def screen_again(store: Store, contact: Contact) -> AlreadyDecided:
    """A second consultant's card on an already-screened contact."""
    result = await screen(store, replace(contact, version=contact.version - 1), ROUTE_I, CONSULTANT_2)
    assert isinstance(result, AlreadyDecided)
    return result


async def test_the_officer_records_the_outcome_letter_as_sent_once(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_II)
    closed = ok(await signed(store, contact), SignedOff).contact
    sent = ok(
        await record_outcome_letter_sent(
            store.unit_of_work(),
            contact.id,
            closed.version,
            who=Who(OFFICER, ROLES[OFFICER]),
            now=NOW,
        ),
        CaseworkRecorded,
    )
    again = await record_outcome_letter_sent(
        store.unit_of_work(),
        contact.id,
        sent.contact.version,
        who=Who(OFFICER, ROLES[OFFICER]),
        now=NOW,
    )
    assert isinstance(again, Refusal) and "already recorded as sent" in again.message


# -- the receiving team's disagreement ------------------------------------------------------------

SERVICE_MANAGER = "aad-sm-1"
SM_ROLES = frozenset({Role.SERVICE_MANAGER})


async def accepted_contact(store: Store, at: datetime = NOW, *, sign: bool = True) -> Contact:
    """Route I, accepted by CONSULTANT with TEAM_MANAGER as the receiving manager, signed off at
    ``at`` by CONSULTANT_2 (unless ``sign`` is False)."""
    contact = await screened(store, await submitted(store, now=at - timedelta(minutes=30)), ROUTE_I)
    outcome = replace(ACCEPTED, receiving_manager_id=TEAM_MANAGER)
    recorded = ok(await outcome_of(store, contact, outcome, now=at), OutcomeRecorded).contact
    if not sign:
        return recorded
    return ok(await signed(store, recorded, now=at), SignedOff).contact


@pytest.mark.parametrize(
    ("signed_at", "challenged_at", "allowed"),
    [
        (NOW, datetime(2026, 3, 16, 16, 59, tzinfo=UTC), True),
        (NOW, datetime(2026, 3, 16, 17, 0, tzinfo=UTC), True),  # the end of the working day itself
        (NOW, datetime(2026, 3, 16, 17, 1, tzinfo=UTC), False),
        (NOW, datetime(2026, 3, 17, 9, 0, tzinfo=UTC), False),
        # Signed off after closing on Friday: the same working day is Monday's.
        (datetime(2026, 3, 20, 18, 0, tzinfo=UTC), datetime(2026, 3, 23, 16, 0, tzinfo=UTC), True),
        (datetime(2026, 3, 20, 18, 0, tzinfo=UTC), datetime(2026, 3, 23, 17, 30, tzinfo=UTC), False),
    ],
)
async def test_a_challenge_is_allowed_until_the_end_of_the_working_day_of_the_sign_off(
    store: Store, signed_at: datetime, challenged_at: datetime, allowed: bool
) -> None:
    await seat(store)
    contact = await accepted_contact(store, signed_at)
    until = challenge_window(contact, CALENDAR, POLICY)
    assert until is not None and until.hour == 17 and (until >= challenged_at) is allowed
    before = await snapshot(store, contact)
    result = await challenge(store, contact, challenged_at)
    if allowed:
        recorded = ok(result, ChallengeRecorded)
        assert recorded.status.open and recorded.status.raised_by == TEAM_MANAGER
        assert recorded.contact.events[-1].rationale == "Threshold not met in our view"
    else:
        assert isinstance(result, Refusal) and result.reason is RefusalReason.OUTSIDE_WINDOW
        assert "17:00" in result.message
        assert await snapshot(store, contact) == before


async def test_only_the_receiving_manager_named_on_a_signed_off_outcome_may_challenge(store: Store) -> None:
    await seat(store)
    await uow_grant(store, "aad-tm-2", Role.TEAM_MANAGER)
    unsigned = await accepted_contact(store, sign=False)
    early = await challenge(store, unsigned, NOW)
    assert isinstance(early, Refusal) and early.reason is RefusalReason.WRONG_STATE  # not told yet
    contact = ok(await signed(store, unsigned), SignedOff).contact
    other = await raise_challenge(
        store.unit_of_work(),
        contact.id,
        "x",
        None,
        who=Who("aad-tm-2", frozenset({Role.TEAM_MANAGER})),
        rules=Rules(NOW, CALENDAR, POLICY),
    )
    assert isinstance(other, Refusal) and other.reason is RefusalReason.NOT_YOURS
    ok(await challenge(store, contact, NOW), ChallengeRecorded)


async def uow_grant(store: Store, person: str, role: Role) -> None:
    async with store.unit_of_work() as uow:
        await uow.roles.grant(person, role)
        await uow.commit()


async def test_agreed_the_decider_records_it_and_the_challenger_cannot_settle_it(store: Store) -> None:
    await seat(store)
    contact = await accepted_contact(store)
    raised = ok(await challenge(store, contact, NOW + timedelta(hours=1)), ChallengeRecorded)
    again = await challenge(store, raised.contact, NOW + timedelta(hours=2))
    assert isinstance(again, Refusal) and "already been challenged" in again.message
    discussed = ok(
        await record_challenge_discussion(
            store.unit_of_work(),
            contact.id,
            "Talked",
            None,
            who=Who(CONSULTANT, ROLES[CONSULTANT]),
            now=NOW,
        ),
        ChallengeRecorded,
    )
    assert discussed.status.discussions == 1
    # The challenger may not settle their own challenge; nor may a consultant who did not decide.
    own = await resolve(store, contact, TEAM_MANAGER, ROLES[TEAM_MANAGER])
    assert isinstance(own, Refusal) and own.reason is RefusalReason.OWN_DECISION
    await uow_grant(store, "aad-cons-3", Role.CONSULTANT)
    stranger = await resolve(store, contact, "aad-cons-3", frozenset({Role.CONSULTANT}))
    assert isinstance(stranger, Refusal) and stranger.reason is RefusalReason.NOT_PERMITTED
    resolved = ok(await resolve(store, contact, CONSULTANT, ROLES[CONSULTANT]), ChallengeRecorded)
    assert resolved.status.result is ChallengeResult.UPHELD and not resolved.status.open
    recorded = current_outcome(resolved.contact)
    assert recorded is not None and recorded.outcome.accepted
    assert (await audit_actions(store, contact.reference))[-3:] == [
        "contact.challenge_raised",
        "contact.challenge_discussed",
        "contact.challenge_resolved",
    ]
    assert (await audit_rows(store))[-1].event.detail == "result=upheld; final=no"


async def test_not_agreed_it_escalates_to_the_service_manager_who_records_the_final_decision(
    store: Store,
) -> None:
    await seat(store)
    await uow_grant(store, SERVICE_MANAGER, Role.SERVICE_MANAGER)
    contact = await accepted_contact(store)
    closed_letter = current_outcome(contact)
    ok(await challenge(store, contact, NOW + timedelta(hours=1)), ChallengeRecorded)
    escalated = ok(
        await escalate_challenge(
            store.unit_of_work(),
            contact.id,
            "We disagree",
            None,
            who=Who(TEAM_MANAGER, ROLES[TEAM_MANAGER]),
            now=NOW,
        ),
        ChallengeRecorded,
    )
    assert escalated.status.escalated and escalated.status.escalated_by == TEAM_MANAGER
    # Now neither the decider nor the challenger settles it: the service manager does.
    decider = await resolve(store, contact, CONSULTANT, ROLES[CONSULTANT])
    assert isinstance(decider, Refusal) and decider.reason is RefusalReason.NOT_PERMITTED
    both = frozenset({Role.TEAM_MANAGER, Role.SERVICE_MANAGER})
    own = await resolve(store, contact, TEAM_MANAGER, both)
    assert isinstance(own, Refusal) and own.reason is RefusalReason.OWN_DECISION
    missing = await resolve(store, contact, SERVICE_MANAGER, SM_ROLES, ChallengeResult.OVERTURNED)
    assert isinstance(missing, Refusal) and missing.reason is RefusalReason.INVALID
    final = ok(
        await resolve(
            store,
            contact,
            SERVICE_MANAGER,
            SM_ROLES,
            ChallengeResult.OVERTURNED,
            revised_outcome=OutcomeKind.OTHER_AGENCY,
            agency=Agency.EARLY_HELP,
        ),
        ChallengeRecorded,
    )
    assert final.status.result is ChallengeResult.OVERTURNED and final.status.resolved_by == SERVICE_MANAGER
    recorded = current_outcome(final.contact)
    assert recorded is not None and (recorded.outcome.kind, recorded.outcome.agency) == (
        OutcomeKind.OTHER_AGENCY,
        Agency.EARLY_HELP,
    )
    assert final.letter is not None and "early help service" in final.letter
    assert closed_letter is not None and final.contact.state is ContactState.CLOSED
    assert (await audit_actions(store, contact.reference))[-4:] == [
        "contact.challenge_raised",
        "contact.challenge_escalated",
        "contact.challenge_resolved",
        "contact.outcome_letter_produced",
    ]
    details = [r.event.detail for r in await audit_rows(store) if r.event.subject == contact.reference]
    assert "result=overturned; final=yes; outcome=referral_to_other_agency; agency=early_help" in details


async def test_a_challenge_card_older_than_a_step_is_stale(store: Store) -> None:
    """With its version an old card is stale; without one (a challenge competes with nobody) it goes."""
    await seat(store)
    unsigned = await accepted_contact(store, sign=False)
    contact = ok(await signed(store, unsigned), SignedOff).contact
    stale = await challenge(store, unsigned, NOW + timedelta(hours=1))
    assert isinstance(stale, AlreadyDecided) and stale.by == CONSULTANT_2
    ok(await challenge(store, contact, NOW), ChallengeRecorded)


async def test_only_an_accepted_contact_can_be_challenged(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_II)
    closed = ok(await signed(store, contact), SignedOff).contact
    result = await challenge(store, closed, NOW + timedelta(minutes=5))
    assert isinstance(result, Refusal) and result.reason is RefusalReason.WRONG_STATE
    assert challenge_window(closed, CALENDAR, POLICY) is None


async def test_no_discussion_without_an_open_challenge(store: Store) -> None:
    await seat(store)
    contact = await accepted_contact(store)
    result = await record_challenge_discussion(
        store.unit_of_work(),
        contact.id,
        "x",
        contact.version,
        who=Who(CONSULTANT, ROLES[CONSULTANT]),
        now=NOW,
    )
    assert isinstance(result, Refusal) and result.reason is RefusalReason.WRONG_STATE


# -- the referrer's challenge ---------------------------------------------------------------------


async def test_a_referrer_challenge_is_discussed_then_goes_to_the_team_manager_then_the_service_manager(
    store: Store,
) -> None:
    await seat(store)
    await uow_grant(store, SERVICE_MANAGER, Role.SERVICE_MANAGER)
    contact = ok(
        await signed(store, await screened(store, await submitted(store), ROUTE_II)), SignedOff
    ).contact

    async def step(actor: str, roles: frozenset[Role], result: ReferrerResult, lead: str = "") -> Any:
        return await record_referrer_challenge_step(
            store.unit_of_work(),
            contact.id,
            result,
            "Discussed the reasons",
            lead,
            who=Who(actor, roles),
            now=NOW,
        )

    nothing = await step(CONSULTANT, ROLES[CONSULTANT], ReferrerResult.REMAINS)
    assert isinstance(nothing, Refusal) and nothing.reason is RefusalReason.WRONG_STATE
    raised = ok(
        await record_referrer_challenge(
            store.unit_of_work(),
            contact.id,
            "School disagrees",
            who=Who(OFFICER, ROLES[OFFICER]),
            now=NOW,
        ),
        ReferrerChallengeRecorded,
    )
    assert raised.challenge.next_stage is ReferrerStage.DISCUSSION
    # The officer who recorded it does not discuss it: a consultant or team manager does.
    officer = await step(OFFICER, ROLES[OFFICER], ReferrerResult.RESOLVED)
    assert isinstance(officer, Refusal) and officer.reason is RefusalReason.NOT_PERMITTED
    discussed = ok(
        await step(CONSULTANT, ROLES[CONSULTANT], ReferrerResult.REMAINS), ReferrerChallengeRecorded
    )
    assert discussed.challenge.next_stage is ReferrerStage.TEAM_MANAGER
    consultant = await step(CONSULTANT, ROLES[CONSULTANT], ReferrerResult.REMAINS, "Head Teacher")
    assert isinstance(consultant, Refusal) and consultant.reason is RefusalReason.NOT_PERMITTED
    no_lead = await step(TEAM_MANAGER, ROLES[TEAM_MANAGER], ReferrerResult.REMAINS)
    assert isinstance(no_lead, Refusal) and "agency's lead" in no_lead.message
    managed = ok(
        await step(TEAM_MANAGER, ROLES[TEAM_MANAGER], ReferrerResult.REMAINS, "Head Teacher"),
        ReferrerChallengeRecorded,
    )
    assert managed.challenge.next_stage is ReferrerStage.SERVICE_MANAGER
    final = ok(
        await step(SERVICE_MANAGER, SM_ROLES, ReferrerResult.RESOLVED, "Head Teacher"),
        ReferrerChallengeRecorded,
    )
    assert not final.challenge.open and final.challenge.next_stage is None
    assert [(s.stage, s.result, s.by) for s in final.challenge.steps] == [
        (ReferrerStage.DISCUSSION, ReferrerResult.REMAINS, CONSULTANT),
        (ReferrerStage.TEAM_MANAGER, ReferrerResult.REMAINS, TEAM_MANAGER),
        (ReferrerStage.SERVICE_MANAGER, ReferrerResult.RESOLVED, SERVICE_MANAGER),
    ]
    rows = [
        (r.event.action, r.event.detail)
        for r in await audit_rows(store)
        if r.event.subject == contact.reference
    ]
    assert rows[-4:] == [
        ("contact.referrer_challenge_raised", ""),
        ("contact.referrer_challenge_step", "stage=discussion; result=remains"),
        ("contact.referrer_challenge_step", "stage=team_manager; result=remains"),
        ("contact.referrer_challenge_step", "stage=service_manager; result=resolved"),
    ]
    for _, detail in rows:
        assert "Head Teacher" not in detail and "School disagrees" not in detail


def test_every_casework_action_is_distinct_from_the_lifecycle_actions() -> None:
    assert not {a.value for a in CaseworkAction} & {a.value for a in Action}
