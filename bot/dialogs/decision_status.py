"""Who may act on the decisions channel's card and what its status lines say (SPEC §3, §6): the
card's kind (the decisions channel's, or the duty channel's for a re-referral), the roles that still
get a refresh and their own view (``_audience``, and ``may_decide_now`` for the full record in a
personal chat), and the lines telling where the contact is, from its history: the screening and
child-protection decisions, the outcome, the sign-off and any challenge (who and when; never what
was typed).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.cards.decision import ChannelCardKind
from bot.cards.decisions import EARLY_HELP_STAYS
from bot.routing import Actor
from frontdoor.casework import CaseworkAction, challenge_status
from frontdoor.contact import Contact, ContactState
from frontdoor.decisions import ROUTE_ACTIONS, ScreeningRoute
from frontdoor.lifecycle import Action
from frontdoor.outcomes import current_outcome, read_event_data
from frontdoor.roles import Permission, Role
from frontdoor.timefmt import format_local
from frontdoor.worklog import event_words

__all__ = [
    "may_decide_now",
]


_DECIDERS = (Role.CONSULTANT, Role.TEAM_MANAGER)
_ROUTE_ACTIONS = {action.value: route for route, action in ROUTE_ACTIONS.items()}


def _when(at: datetime) -> str:
    return format_local(at)


def _kind(contact: Contact) -> ChannelCardKind:
    """The duty channel's card for a re-referral, else the decisions channel's."""
    rereferral = any(event.action == Action.REFER_REREFERRAL.value for event in contact.events)
    return ChannelCardKind.REREFERRAL if rereferral else ChannelCardKind.DECISION


_CP_STATES = (ContactState.CP_DECISION, ContactState.REFERRAL_ACCEPTED)


def _entered_by_rereferral(contact: Contact) -> bool:
    return any(event.action == Action.CP_THRESHOLD_MET.value for event in contact.events)


def _may_decide_cp(contact: Contact, actor: Actor) -> bool:
    """Consultants and team managers; the duty manager too when they sent the re-referral there."""
    if actor.may(Permission.THRESHOLD_DECISION):
        return True
    return actor.may(Permission.DECIDE_REREFERRAL) and _entered_by_rereferral(contact)


def may_decide_now(contact: Contact, actor: Actor, now: datetime) -> bool:
    """Whether ``actor``'s role can act on the contact's card now (decide, sign off, the
    child-protection decision or a re-referral): the full record in their personal chat then offers
    them the same deciders' view as the channel card ("Decide or sign off"), so a consultant can
    screen without a decisions channel. The receiving team's challenge is on the work card."""
    return bool(actor.roles & frozenset(_audience(contact, None, now)))


def _audience(contact: Contact, until: datetime | None, now: datetime) -> tuple[Role, ...]:
    """Who may still act on the channel card (they get a refresh and their own view): none once
    nothing is left to decide, sign off or challenge."""
    state = contact.state
    if state is ContactState.DUTY_MANAGER_REVIEW:
        return (Role.DUTY_MANAGER,)
    if state in (ContactState.AWAITING_SCREENING, ContactState.AWAITING_SIGNOFF):
        return _DECIDERS
    if state in _CP_STATES:
        return (*_DECIDERS, Role.DUTY_MANAGER) if _entered_by_rereferral(contact) else _DECIDERS
    if state is ContactState.CLOSED and until is not None:
        status = challenge_status(contact)
        if now <= until or (status is not None and status.open):
            return _DECIDERS
    return ()


#: why the contact is being screened again (a refused sign-off or a returned allocation)
_SENT_BACK = (Action.REFUSE_SIGN_OFF.value, Action.RETURN_FOR_SCREENING.value)

#: the challenge's steps name who took them in brackets, and a resolution its result
_CHALLENGE_STEPS = (
    CaseworkAction.CHALLENGE_RAISED.value,
    CaseworkAction.CHALLENGE_DISCUSSED.value,
    CaseworkAction.CHALLENGE_ESCALATED.value,
    CaseworkAction.CHALLENGE_RESOLVED.value,
)


def _lines(
    contact: Contact, names: Mapping[str, str], *, window: datetime | None = None, now: datetime | None = None
) -> tuple[str, ...]:
    """Where the contact is, from its history: the screening decision, the child-protection
    decision, the outcome, the sign-off and any challenge (who and when; never what was typed)."""
    lines: list[str] = []
    #: why the contact is being screened again (a refused sign-off or a returned allocation)
    back: list[str] = []
    for event in contact.events:
        who = names.get(event.actor_id) or "a member of staff"
        words = event_words(event.action)
        if event.to_state is ContactState.AWAITING_SCREENING:
            lines = []
            back = [f"{words}, by {who} at {_when(event.at)}."] if event.action in _SENT_BACK else []
        route = _ROUTE_ACTIONS.get(event.action)
        if route is not None and read_event_data(event).get("early_help") == EARLY_HELP_STAYS:
            worker = names.get(str(read_event_data(event).get("early_help_worker", ""))) or "the worker named"
            lines.append(f"Decided: stays with early help ({worker} told), by {who} at {_when(event.at)}.")
        elif route is not None:
            lines.append(f"{words}, by {who} at {_when(event.at)}.")
            if event.to_state is not None and route in (ScreeningRoute.III, ScreeningRoute.IV):
                assignee = contact.assignee_id or ""
                role = "officer" if route is ScreeningRoute.III else "social worker"
                lines.append(f"Assigned to the {role} {names.get(assignee) or 'chosen'}.")
        elif event.action in (Action.CP_THRESHOLD_MET.value, Action.ACCEPT_REFERRAL.value):
            lines.append(f"{words}, by {who} at {_when(event.at)}.")
        elif event.action == Action.REASSIGN.value:
            worker = names.get(contact.assignee_id or "") or "the social worker chosen"
            lines.append(f"Decided: reassigned to {worker} to recommend, by {who} at {_when(event.at)}.")
        elif event.action in (Action.SIGN_OFF.value, Action.RECORD_OUTCOME.value, Action.RECOMMEND.value):
            lines.append(f"{words} by {who} at {_when(event.at)}.")
        elif event.action in _CHALLENGE_STEPS:
            resolved = event.action == CaseworkAction.CHALLENGE_RESOLVED.value
            result = f": {read_event_data(event).get('result', '')}" if resolved else ""
            lines.append(f"{words}{result} ({who}) at {_when(event.at)}.")
    recorded = current_outcome(contact)
    if recorded is not None:
        outcome = recorded.outcome
        strategy = ""
        if outcome.accepted:
            strategy = (
                " (strategy discussion needed)"
                if outcome.strategy_discussion
                else " (no strategy discussion)"
            )
        lines.insert(1 if lines else 0, f"Outcome: {outcome.title}{strategy}.")
    status = challenge_status(contact)
    if window is not None and now is not None and status is None and now <= window:
        lines.append(f"The receiving team may challenge the threshold until {_when(window)}.")
    lines = [*back, *lines]
    if contact.completing:
        lines.append("The officer is still completing this urgent contact: this card updates as they go.")
    if contact.urgent and not contact.history.recorded and contact.state not in _ENDED:
        lines.append("History checks: outstanding.")
    if not lines:
        lines.append(f"Status: {contact.state.value.replace('_', ' ')}.")
    return tuple(lines)


_ENDED = (ContactState.CLOSED, ContactState.PASSED_ON)
