"""The contact lifecycle of SPEC §3 as data, and the one function that moves a contact along it.

``TRANSITIONS`` lists every allowed move with the action that makes it; ``ALLOWED`` is the same
table as state -> next states. ``transition`` returns a new ``Contact`` in the new state with a
``ContactEvent`` recording who, when, what and why; it leaves ``version`` alone because the
repository bumps it when it saves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType

from frontdoor.calendar import require_aware
from frontdoor.contact import Contact, ContactEvent, ContactState
from frontdoor.errors import IllegalTransitionError, RationaleRequiredError

__all__ = [
    "ALLOWED",
    "TERMINAL_STATES",
    "TRANSITIONS",
    "Action",
    "IllegalTransitionError",
    "RationaleRequiredError",
    "Transition",
    "actions_between",
    "allowed_next",
    "can_transition",
    "transition",
]


class Action(StrEnum):
    """What someone did to move a contact; recorded as the event's action."""

    SUBMIT = "submit"
    # significant information on an open case, passed to the allocated worker
    OPEN_CASE = "open_case"
    REFER_REREFERRAL = "refer_rereferral"  # closed within windows.rereferral_months: to the duty manager
    CANCEL = "cancel"
    ROUTE_I = "route_i"
    ROUTE_II = "route_ii"
    ROUTE_III = "route_iii"
    ROUTE_IV = "route_iv"
    CP_THRESHOLD_MET = "cp_threshold_met"  # the duty manager's decision on a re-referral
    REASSIGN = "reassign"  # the duty manager hands a re-referral to a social worker
    ACCEPT_REFERRAL = "accept_referral"
    RECORD_OUTCOME = "record_outcome"
    RECOMMEND = "recommend"
    RETURN_FOR_SCREENING = "return_for_screening"
    SIGN_OFF = "sign_off"
    REFUSE_SIGN_OFF = "refuse_sign_off"


@dataclass(frozen=True, slots=True)
class Transition:
    from_state: ContactState
    to_state: ContactState
    action: Action
    #: SPEC §2-3: every decision is recorded with why, and every outcome needs a rationale.
    needs_rationale: bool = False


_S = ContactState

TRANSITIONS: tuple[Transition, ...] = (
    # Intake. An urgent contact is submitted like any other; it is the 2-hour clock started at
    # submission, not a different state, that makes it urgent.
    Transition(_S.DRAFT, _S.AWAITING_SCREENING, Action.SUBMIT),
    Transition(_S.DRAFT, _S.PASSED_ON, Action.OPEN_CASE),
    Transition(_S.DRAFT, _S.DUTY_MANAGER_REVIEW, Action.REFER_REREFERRAL),
    Transition(_S.DRAFT, _S.CANCELLED, Action.CANCEL),
    # Screening routes I-IV (consultant). Route II is a threshold decision with its outcome
    # (no further social care involvement) recorded at once, so it goes straight to sign-off.
    Transition(_S.AWAITING_SCREENING, _S.CP_DECISION, Action.ROUTE_I, needs_rationale=True),
    Transition(_S.AWAITING_SCREENING, _S.AWAITING_SIGNOFF, Action.ROUTE_II, needs_rationale=True),
    Transition(_S.AWAITING_SCREENING, _S.OFFICER_WORK, Action.ROUTE_III, needs_rationale=True),
    Transition(_S.AWAITING_SCREENING, _S.SW_ASSESSMENT, Action.ROUTE_IV, needs_rationale=True),
    # Re-referrals (duty manager): child-protection threshold met, or reassigned to a social worker.
    Transition(_S.DUTY_MANAGER_REVIEW, _S.CP_DECISION, Action.CP_THRESHOLD_MET, needs_rationale=True),
    Transition(_S.DUTY_MANAGER_REVIEW, _S.SW_ASSESSMENT, Action.REASSIGN, needs_rationale=True),
    # Child-protection decision: progress to referral, or an outcome that does not.
    Transition(_S.CP_DECISION, _S.REFERRAL_ACCEPTED, Action.ACCEPT_REFERRAL, needs_rationale=True),
    Transition(_S.CP_DECISION, _S.AWAITING_SIGNOFF, Action.RECORD_OUTCOME, needs_rationale=True),
    Transition(_S.REFERRAL_ACCEPTED, _S.AWAITING_SIGNOFF, Action.RECORD_OUTCOME, needs_rationale=True),
    Transition(_S.OFFICER_WORK, _S.AWAITING_SIGNOFF, Action.RECORD_OUTCOME, needs_rationale=True),
    Transition(_S.SW_ASSESSMENT, _S.AWAITING_SIGNOFF, Action.RECOMMEND, needs_rationale=True),
    # Route IV asks the social worker whether a threshold decision is required, and when a parent
    # letter lapses the worker reviews and re-applies the threshold. Social workers do not make
    # threshold decisions (SPEC §1), so when the answer is "yes" the contact goes back to a
    # consultant's screening queue rather than to any route state directly. A lapsed letter alone
    # changes no state: the contact stays open to the worker until they decide.
    Transition(_S.SW_ASSESSMENT, _S.AWAITING_SCREENING, Action.RETURN_FOR_SCREENING, needs_rationale=True),
    # Quality assurance. A refused sign-off sends the contact back for the decision to be made
    # again; screening is where every route starts, so it can take any route from there.
    Transition(_S.AWAITING_SIGNOFF, _S.CLOSED, Action.SIGN_OFF),
    Transition(_S.AWAITING_SIGNOFF, _S.AWAITING_SCREENING, Action.REFUSE_SIGN_OFF, needs_rationale=True),
)


def _allowed_table() -> Mapping[ContactState, frozenset[ContactState]]:
    table: dict[ContactState, set[ContactState]] = {state: set() for state in ContactState}
    for move in TRANSITIONS:
        table[move.from_state].add(move.to_state)
    return MappingProxyType({state: frozenset(nexts) for state, nexts in table.items()})


#: State -> the states it may move to; terminal states map to the empty set.
ALLOWED: Mapping[ContactState, frozenset[ContactState]] = _allowed_table()

TERMINAL_STATES: frozenset[ContactState] = frozenset(state for state, nexts in ALLOWED.items() if not nexts)


def allowed_next(state: ContactState) -> frozenset[ContactState]:
    return ALLOWED[state]


def can_transition(from_state: ContactState, to_state: ContactState) -> bool:
    return to_state in ALLOWED[from_state]


def actions_between(from_state: ContactState, to_state: ContactState) -> frozenset[Action]:
    """The actions that may move a contact from ``from_state`` to ``to_state``."""
    return frozenset(
        move.action for move in TRANSITIONS if move.from_state is from_state and move.to_state is to_state
    )


def transition(
    contact: Contact,
    to_state: ContactState,
    actor_id: str,
    at: datetime,
    action: Action,
    rationale: str = "",
) -> Contact:
    """``contact`` moved to ``to_state`` by ``actor_id`` at ``at``, with the event appended.

    Raises ``IllegalTransitionError`` when the lifecycle does not allow the move (or not by that
    action), ``RationaleRequiredError`` when a decision comes without a rationale, and
    ``ValueError`` for a missing actor or a naive time.
    """
    if not actor_id.strip():
        raise ValueError("a transition needs the id of the person making it")
    require_aware(at, "transition time")
    from_state = contact.state
    if not can_transition(from_state, to_state):
        raise IllegalTransitionError(from_state, to_state)
    moves = [m for m in TRANSITIONS if m.from_state is from_state and m.to_state is to_state]
    move = next((m for m in moves if m.action == action), None)
    if move is None:
        raise IllegalTransitionError(from_state, to_state, action)
    if move.needs_rationale and not rationale.strip():
        raise RationaleRequiredError(move.action)
    event = ContactEvent(
        at=at.astimezone(UTC),
        actor_id=actor_id,
        action=move.action.value,
        from_state=from_state,
        to_state=to_state,
        rationale=rationale.strip(),
    )
    return replace(contact, state=to_state, events=(*contact.events, event))
