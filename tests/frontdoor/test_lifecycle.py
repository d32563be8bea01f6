"""The contact lifecycle of SPEC §3: every allowed move, and the moves that are not."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import product
from zoneinfo import ZoneInfo

import pytest

from frontdoor.contact import Contact, ContactEvent, ContactState
from frontdoor.errors import DomainError, IllegalTransitionError, RationaleRequiredError
from frontdoor.lifecycle import (
    ALLOWED,
    TERMINAL_STATES,
    TRANSITIONS,
    Action,
    Transition,
    actions_between,
    allowed_next,
    can_transition,
    transition,
)

S = ContactState
A = Action
LONDON = ZoneInfo("Europe/London")
AT = datetime(2026, 6, 8, 10, 30, tzinfo=LONDON)

#: SPEC §3 written out independently of the module's table.
EXPECTED: dict[ContactState, set[ContactState]] = {
    S.DRAFT: {S.AWAITING_SCREENING, S.PASSED_ON, S.DUTY_MANAGER_REVIEW, S.CANCELLED},
    S.AWAITING_SCREENING: {S.CP_DECISION, S.AWAITING_SIGNOFF, S.OFFICER_WORK, S.SW_ASSESSMENT},
    S.DUTY_MANAGER_REVIEW: {S.CP_DECISION, S.SW_ASSESSMENT},
    S.CP_DECISION: {S.REFERRAL_ACCEPTED, S.AWAITING_SIGNOFF},
    S.REFERRAL_ACCEPTED: {S.AWAITING_SIGNOFF},
    S.OFFICER_WORK: {S.AWAITING_SIGNOFF},
    S.SW_ASSESSMENT: {S.AWAITING_SIGNOFF, S.AWAITING_SCREENING},
    S.AWAITING_SIGNOFF: {S.CLOSED, S.AWAITING_SCREENING},
    S.PASSED_ON: set(),
    S.CLOSED: set(),
    S.CANCELLED: set(),
}

#: Every other pair, staying in the same state included.
ILLEGAL = [(f, t) for f, t in product(ContactState, ContactState) if t not in EXPECTED[f]]


def contact_in(state: ContactState, version: int = 3) -> Contact:
    return Contact(
        id="c-1",
        created_by="officer-1",
        created_at=datetime(2026, 6, 8, 9, 0, tzinfo=UTC),
        state=state,
        version=version,
        reference="CT-26-000001",
    )


def test_the_table_is_the_spec() -> None:
    assert {state: set(nexts) for state, nexts in ALLOWED.items()} == EXPECTED
    assert frozenset({S.PASSED_ON, S.CLOSED, S.CANCELLED}) == TERMINAL_STATES


def test_every_allowed_pair_has_exactly_one_action() -> None:
    pairs = [(m.from_state, m.to_state) for m in TRANSITIONS]
    assert len(pairs) == len(set(pairs))


@pytest.mark.parametrize("move", TRANSITIONS, ids=lambda m: f"{m.from_state}->{m.to_state}")
def test_every_allowed_transition(move: Transition) -> None:
    before = contact_in(move.from_state)
    after = transition(before, move.to_state, "person-7", AT, move.action, rationale="  because  ")

    assert after.state is move.to_state
    assert after.version == before.version, "the repository bumps versions, not the lifecycle"
    assert after.events == (
        ContactEvent(
            at=AT.astimezone(UTC),
            actor_id="person-7",
            action=move.action.value,
            from_state=move.from_state,
            to_state=move.to_state,
            rationale="because",
        ),
    )
    assert after.events[0].at.tzinfo is UTC
    assert before.state is move.from_state and before.events == (), "the old value is untouched"
    assert (after.id, after.reference) == (before.id, before.reference)
    assert can_transition(move.from_state, move.to_state)
    assert move.action in actions_between(move.from_state, move.to_state)


@pytest.mark.parametrize(("from_state", "to_state"), ILLEGAL, ids=lambda s: str(s))
def test_every_illegal_transition_is_refused(from_state: ContactState, to_state: ContactState) -> None:
    assert not can_transition(from_state, to_state)
    with pytest.raises(IllegalTransitionError) as caught:
        transition(contact_in(from_state), to_state, "person-7", AT, A.SUBMIT, rationale="why")
    assert (caught.value.from_state, caught.value.to_state) == (from_state, to_state)
    assert f"from {from_state} to {to_state}" in str(caught.value)


@pytest.mark.parametrize(
    ("from_state", "to_state", "why"),
    [
        (S.DRAFT, S.CLOSED, "a draft is cancelled, never closed"),
        (S.DRAFT, S.CP_DECISION, "urgent contacts still go through screening, with the CP clock"),
        (S.AWAITING_SCREENING, S.CLOSED, "every outcome is signed off first"),
        (S.OFFICER_WORK, S.CLOSED, "every outcome is signed off first"),
        (S.SW_ASSESSMENT, S.CP_DECISION, "social workers do not make threshold decisions"),
        (S.OFFICER_WORK, S.CP_DECISION, "officers never make threshold decisions"),
        (S.CLOSED, S.AWAITING_SCREENING, "closed is terminal"),
        (S.CANCELLED, S.DRAFT, "cancelled is terminal"),
        (S.PASSED_ON, S.AWAITING_SCREENING, "passed on is terminal"),
        (S.REFERRAL_ACCEPTED, S.CLOSED, "every outcome is signed off first"),
    ],
)
def test_notable_illegal_transitions(from_state: ContactState, to_state: ContactState, why: str) -> None:
    assert to_state not in allowed_next(from_state), why


@pytest.mark.parametrize(
    ("from_state", "to_state", "action"),
    [
        (S.DRAFT, S.AWAITING_SCREENING, A.CANCEL),
        (S.AWAITING_SCREENING, S.CP_DECISION, A.ROUTE_IV),
        (S.AWAITING_SIGNOFF, S.CLOSED, A.REFUSE_SIGN_OFF),
        (S.AWAITING_SIGNOFF, S.AWAITING_SCREENING, A.SIGN_OFF),
    ],
)
def test_an_allowed_move_by_the_wrong_action_is_refused(
    from_state: ContactState, to_state: ContactState, action: Action
) -> None:
    with pytest.raises(IllegalTransitionError, match=f"by {action}") as caught:
        transition(contact_in(from_state), to_state, "person-7", AT, action, rationale="why")
    assert caught.value.action == action


@pytest.mark.parametrize("move", [m for m in TRANSITIONS if m.needs_rationale], ids=lambda m: m.action)
@pytest.mark.parametrize("rationale", ["", "   "])
def test_decisions_need_a_rationale(move: Transition, rationale: str) -> None:
    with pytest.raises(RationaleRequiredError, match=f"{move.action} needs a rationale"):
        transition(contact_in(move.from_state), move.to_state, "person-7", AT, move.action, rationale)


@pytest.mark.parametrize(
    "action", [A.ROUTE_I, A.ROUTE_II, A.ROUTE_III, A.ROUTE_IV, A.RECORD_OUTCOME, A.RECOMMEND]
)
def test_threshold_decisions_and_outcomes_are_among_those_needing_a_rationale(action: Action) -> None:
    assert all(m.needs_rationale for m in TRANSITIONS if m.action is action)


def test_submit_and_cancel_need_no_rationale() -> None:
    submitted = transition(contact_in(S.DRAFT), S.AWAITING_SCREENING, "officer-1", AT, A.SUBMIT)
    assert submitted.events[-1].rationale == ""
    cancelled = transition(contact_in(S.DRAFT), S.CANCELLED, "officer-1", AT, A.CANCEL)
    assert cancelled.state is S.CANCELLED


def test_a_whole_route_iv_journey_keeps_every_event() -> None:
    c = contact_in(S.DRAFT)
    c = transition(c, S.AWAITING_SCREENING, "officer-1", AT, A.SUBMIT)
    c = transition(c, S.SW_ASSESSMENT, "consultant-1", AT, A.ROUTE_IV, "needs a worker's view")
    c = transition(c, S.AWAITING_SCREENING, "sw-1", AT, A.RETURN_FOR_SCREENING, "letter lapsed; worried")
    c = transition(c, S.CP_DECISION, "consultant-1", AT, A.ROUTE_I, "threshold met")
    c = transition(c, S.REFERRAL_ACCEPTED, "consultant-1", AT, A.ACCEPT_REFERRAL, "progress")
    c = transition(c, S.AWAITING_SIGNOFF, "consultant-1", AT, A.RECORD_OUTCOME, "assessment")
    c = transition(c, S.CLOSED, "manager-1", AT, A.SIGN_OFF)
    assert c.state is S.CLOSED
    assert [e.action for e in c.events] == [
        "submit",
        "route_iv",
        "return_for_screening",
        "route_i",
        "accept_referral",
        "record_outcome",
        "sign_off",
    ]
    assert c.version == 3


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        transition(contact_in(S.DRAFT), S.AWAITING_SCREENING, "officer-1", datetime(2026, 6, 8), A.SUBMIT)


@pytest.mark.parametrize("actor", ["", "  "])
def test_an_actor_is_required(actor: str) -> None:
    with pytest.raises(ValueError, match="id of the person"):
        transition(contact_in(S.DRAFT), S.AWAITING_SCREENING, actor, AT, A.SUBMIT)


def test_errors_are_domain_errors() -> None:
    assert issubclass(IllegalTransitionError, DomainError)
    assert issubclass(RationaleRequiredError, DomainError)
