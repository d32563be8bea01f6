"""What the personal cards read from a contact (``frontdoor.worklog``), and the outcome particulars
the Teams cards added to the domain: the receiving team manager named on an accepted outcome, the
outcome letter recorded as sent by whoever recorded the outcome, the repeat flag kept with the
submission, and where a contact is in words. Against the in-memory store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from frontdoor.acting import Rules, Who
from frontdoor.casework import (
    CaseworkRecorded,
    ChallengeRecorded,
    ChallengeResult,
    LetterLapsed,
    OutcomeRecorded,
    ParentLetterSent,
    SignedOff,
    WorkKind,
    lapse_parent_letter,
    raise_challenge,
    record_outcome_letter_sent,
    resolve_challenge,
)
from frontdoor.contact import ContactState
from frontdoor.outcomes import Outcome, current_outcome
from frontdoor.repeats import recorded_repeat_of
from frontdoor.systemclock import SettableClock
from frontdoor.unit_of_work import Store
from frontdoor.usecase import Refusal, RefusalReason, state_title
from frontdoor.worklog import ParentLetterStatus, history, outcome_letter_status, parent_letter
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
    letter_out,
    letter_waiting,
    ok,
    outcome_of,
    recommended,
    signed,
    work,
)
from tests.frontdoor.decision_builders import (
    ANONYMOUS_PUBLIC,
    CONSULTANT,
    CONSULTANT_2,
    NOW,
    OFFICER,
    ROLES,
    ROUTE_I,
    ROUTE_II,
    ROUTE_III,
    ROUTE_IV,
    SW,
    TEAM_MANAGER,
    audit_rows,
    deadlines_of,
    screened,
    seat,
    snapshot,
    stored,
    submitted,
)


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


# -- the receiving team manager on an accepted outcome ---------------------------------------------


async def test_an_accepted_outcome_names_its_receiving_team_manager(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store, urgent=True), ROUTE_I)
    outcome = replace(ACCEPTED, receiving_manager_id=TEAM_MANAGER)
    recorded = ok(await outcome_of(store, contact, outcome), OutcomeRecorded)
    carried = current_outcome(recorded.contact)
    assert carried is not None and carried.outcome == outcome
    detail = (await audit_rows(store))[-1].event.detail
    assert f"receiving_manager={TEAM_MANAGER}" in detail and "Team North" not in detail


@pytest.mark.parametrize("manager", [CONSULTANT, "aad-nobody", SW])
async def test_the_receiving_team_manager_must_be_a_team_manager(store: Store, manager: str) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_I)
    before = await snapshot(store, contact)
    result = await outcome_of(store, contact, replace(ACCEPTED, receiving_manager_id=manager))
    assert isinstance(result, Refusal) and result.reason is RefusalReason.INVALID
    assert "Receiving team manager" in result.message
    assert await snapshot(store, contact) == before


def test_only_an_accepted_outcome_names_a_receiving_team_manager() -> None:
    assert Outcome(ACCEPTED.kind, "r", "Team", receiving_manager_id=TEAM_MANAGER).problems() == ()
    [problem] = replace(NFA, receiving_manager_id=TEAM_MANAGER).problems()
    assert "accepted contact only" in problem


# -- the outcome letter, recorded as sent ---------------------------------------------------------


async def test_the_person_who_recorded_the_outcome_may_record_its_letter_as_sent(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_II, CONSULTANT)
    closed = ok(await signed(store, contact, CONSULTANT_2), SignedOff).contact
    before = await snapshot(store, contact)
    # The signer did not record the outcome and does not send letters.
    refused = await record_outcome_letter_sent(
        store.unit_of_work(),
        contact.id,
        closed.version,
        who=Who(CONSULTANT_2, ROLES[CONSULTANT_2]),
        now=NOW,
    )
    assert isinstance(refused, Refusal) and refused.reason is RefusalReason.NOT_PERMITTED
    assert await snapshot(store, contact) == before
    sent = await record_outcome_letter_sent(
        store.unit_of_work(),
        contact.id,
        closed.version,
        who=Who(CONSULTANT, ROLES[CONSULTANT]),
        now=NOW,
    )
    letter = outcome_letter_status(ok(sent, CaseworkRecorded).contact)
    assert (
        letter is not None and letter.referrer_told and (letter.sent_by, letter.sent_at) == (CONSULTANT, NOW)
    )


async def test_the_outcome_letter_as_the_cards_read_it(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_II)
    assert outcome_letter_status(contact) is None
    result = ok(await signed(store, contact), SignedOff)
    letter = outcome_letter_status(result.contact)
    assert letter is not None and letter.text == result.letter and letter.sent_at is None
    assert letter.produced_by == CONSULTANT_2

    anonymous = await screened(store, await submitted(store, referrer=ANONYMOUS_PUBLIC), ROUTE_II)
    not_told = outcome_letter_status(ok(await signed(store, anonymous), SignedOff).contact)
    assert not_told is not None and not not_told.referrer_told and not_told.text is None


# -- the letter to the parents --------------------------------------------------------------------


async def test_the_parent_letter_waits_then_lapses_back_to_the_worker(store: Store) -> None:
    await seat(store)
    clock = SettableClock(THURSDAY)
    contact = await letter_waiting(store, clock)
    letter = parent_letter(contact, await deadlines_of(store, contact.reference))
    assert letter is not None and letter.status is ParentLetterStatus.WAITING
    assert letter.lapses_at == datetime(2026, 4, 9, 9, 0, tzinfo=UTC)

    clock.set(datetime(2026, 4, 9, 9, 0, tzinfo=UTC))
    lapsed = ok(
        await lapse_parent_letter(
            store.unit_of_work(),
            contact.reference or "",
            rules=Rules(clock.now(), EASTER, POLICY),
        ),
        LetterLapsed,
    )
    letter = parent_letter(lapsed.contact, await deadlines_of(store, contact.reference))
    assert letter is not None and letter.status is ParentLetterStatus.LAPSED
    assert (letter.lapsed_at, letter.review_due) == (clock.now(), lapsed.review_due)
    titles = [line.title for line in history(lapsed.contact)]
    assert titles[-2:] == [
        "Parents not reached: letter to the parents sent",
        "No reply to the letter to the parents: back with the worker to review and re-apply the threshold",
    ]
    # Once the worker has recommended, no review is due any more.
    done = ok(await recommended(store, lapsed.contact, NFA, now=clock.now()), OutcomeRecorded).contact
    after = parent_letter(done, await deadlines_of(store, contact.reference))
    assert after is not None and after.status is ParentLetterStatus.LAPSED and after.review_due is None


async def test_parents_answering_the_letter(store: Store) -> None:
    await seat(store)
    contact = await letter_waiting(store, SettableClock(THURSDAY))
    answered = ok(
        await work(store, contact, WorkKind.PARENT_CONTACT, now=THURSDAY + timedelta(hours=2)),
        CaseworkRecorded,
    )
    letter = parent_letter(answered.contact, await deadlines_of(store, contact.reference))
    assert letter is not None and letter.status is ParentLetterStatus.ANSWERED


async def test_route_iii_letter_has_nothing_to_wait_for(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_III)
    sent = ok(await letter_out(store, contact, OFFICER), ParentLetterSent).contact
    letter = parent_letter(sent, await deadlines_of(store, contact.reference))
    assert letter is not None and (letter.status, letter.sent_by) == (ParentLetterStatus.SENT, OFFICER)
    assert parent_letter(contact, ()) is None


# -- history in our own words ---------------------------------------------------------------------


async def test_history_names_every_step_with_its_particulars(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_IV)
    contact = ok(await work(store, contact, WorkKind.REFERRER_CONTACT), CaseworkRecorded).contact
    contact = ok(await recommended(store, contact, EARLY_HELP), OutcomeRecorded).contact
    lines = history(contact)
    assert [line.title for line in lines] == [
        "Submitted for screening",
        "Decided: route IV: allocate to a social worker",
        "Contact with the referrer",
        "Recommendation: no further involvement; Referral to another agency: Early help",
    ]
    assert [line.actor_id for line in lines] == [OFFICER, CONSULTANT, SW, SW]
    assert lines[2].text == "Notes: referrer_contacted" and lines[3].text == EARLY_HELP.rationale


async def test_history_of_an_accepted_outcome_and_its_challenge(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_I)
    outcome = replace(ACCEPTED, receiving_manager_id=TEAM_MANAGER)
    contact = ok(await outcome_of(store, contact, outcome), OutcomeRecorded).contact
    contact = ok(await signed(store, contact, CONSULTANT_2), SignedOff).contact
    raised = ok(
        await raise_challenge(
            store.unit_of_work(),
            contact.id,
            "Grounds",
            contact.version,
            who=Who(TEAM_MANAGER, ROLES[TEAM_MANAGER]),
            rules=Rules(NOW, CALENDAR, POLICY),
        ),
        ChallengeRecorded,
    )
    resolved = ok(
        await resolve_challenge(
            store.unit_of_work(),
            contact.id,
            ChallengeResult.OVERTURNED,
            "Advice fits",
            raised.contact.version,
            revised_outcome=ADVICE.kind,
            who=Who(CONSULTANT, ROLES[CONSULTANT]),
            now=NOW,
        ),
        ChallengeRecorded,
    )
    titles = [line.title for line in history(resolved.contact)]
    wanted = [
        "Child-protection decision: progress to referral",
        "Outcome recorded: Accepted for a statutory assessment, by Safeguarding and Assessment Team North; "
        "strategy discussion needed",
        "Signed off and closed",
        "Outcome letter to the referrer produced",
        "Threshold challenged by the receiving team",
        "Challenge resolved: overturned: the outcome is revised; Advice and guidance / signposting",
        "Outcome letter to the referrer produced",
    ]
    assert [title for title in titles if title in wanted] == wanted


# -- the repeat flag and the state in words -------------------------------------------------------


async def test_the_repeat_flag_is_kept_with_the_submission(store: Store) -> None:
    await seat(store)
    first = await submitted(store)
    second = await submitted(store, now=NOW + timedelta(minutes=5))
    assert recorded_repeat_of(first) == ()
    assert recorded_repeat_of(await stored(store, second)) == (first.reference,)
    # It survives the decisions that follow.
    decided = await screened(store, second, ROUTE_IV)
    assert decided.state is ContactState.SW_ASSESSMENT and recorded_repeat_of(decided) == (first.reference,)


@pytest.mark.parametrize(
    ("state", "words"),
    [
        (ContactState.AWAITING_SIGNOFF, "awaiting sign-off"),
        (ContactState.SW_ASSESSMENT, "with a social worker"),
        (ContactState.CP_DECISION, "awaiting the child-protection decision"),
        (ContactState.CLOSED, "closed"),
    ],
)
def test_where_a_contact_is_in_words(state: ContactState, words: str) -> None:
    assert state_title(state) == words
    assert all("_" not in state_title(each) for each in ContactState)


async def test_a_wrong_state_refusal_says_where_the_contact_is(store: Store) -> None:
    await seat(store)
    contact = await screened(store, await submitted(store), ROUTE_II)
    refused = await work(store, contact, WorkKind.REFERRER_CONTACT)
    assert (
        isinstance(refused, Refusal) and "is awaiting sign-off, so it cannot be worked on" in refused.message
    )
