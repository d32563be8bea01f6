"""The decisions channel's card through a contact's threshold decision and sign-off (SPEC §3, §6).

The card everyone sees (the *status* card) is the channel card of ``bot.cards.decision`` with a
line saying where the contact is: awaiting screening, decided (route, by whom, when) or signed off.
It carries a ``refresh`` (``Action.Execute``, verb ``REFRESH_VERB``) naming the consultants and
team managers, whose Teams client then asks for their own view: the *decider* card, with the route
buttons I–IV, a rationale (required) and the choices each route needs, or the *sign-off* card for a
contact awaiting sign-off. Every action's data carries the contact's reference and version; who is
acting is never read from it.

Like every channel card these show SPEC §8's minimised data only: no names of children, families or
referrers and nothing anyone typed (no rationale); staff names come from the role directory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    ChoiceSetInput,
    ExecuteAction,
    RefreshDefinition,
    ShowCardAction,
    TextBlock,
    TextInput,
    ToggleInput,
)
from microsoft_teams.cards import (
    Choice as CardChoice,
)

from bot.cards.challenge import ChallengeView, challenge_parts
from bot.cards.decision import VIEW_VERB, ChannelCardKind, channel_card, decision_card
from bot.cards.keys import REFERENCE_KEY, VERSION_KEY
from bot.cards.outcome_form import outcome_form, risk_of_harm_inputs, service_consent_choice
from bot.cards.quality import send_back_action
from bot.cards.work_inputs import OUTCOME_VERB, STEP_KEY, Input, OutcomeStep
from frontdoor.allocation import WorkerChoice
from frontdoor.decisions import ROUTE_TITLES, RereferralChoice, ScreeningRoute
from frontdoor.outcomes import AGENCY_TITLES, OUTCOME_TITLES, OutcomeKind
from frontdoor.views import ChannelSummary

__all__ = [
    "AGENCY_INPUT",
    "CHOICE_KEY",
    "DECIDE_VERB",
    "HIGHLIGHT_INPUT",
    "OFFICER_INPUT",
    "OUTCOME_INPUT",
    "RATIONALE_INPUT",
    "REFRESH_VERB",
    "REREFERRAL_VERB",
    "ROUTE_KEY",
    "SIGN_OFF_VERB",
    "WORKER_INPUT",
    "CardState",
    "cp_outcome_card",
    "decide_action",
    "decider_card",
    "followup_card",
    "rereferral_decider_card",
    "signoff_card",
    "status_card",
]

#: The verb Teams sends when a card's ``refresh`` asks for a user-specific view; also the verb of
#: the card's "Decide or sign off" button, for a decider Teams did not refresh the card for.
REFRESH_VERB: Final = "refresh"
DECIDE_VERB: Final = "contact.decide"
SIGN_OFF_VERB: Final = "contact.sign_off"
#: The duty manager's decision on a re-referral (duty channel), with ``CHOICE_KEY`` in its data.
REREFERRAL_VERB: Final = "contact.rereferral"
CHOICE_KEY: Final = "choice"
ROUTE_KEY: Final = "route"
RATIONALE_INPUT: Final = "rationale"
OFFICER_INPUT: Final = "officer"
WORKER_INPUT: Final = "worker"
OUTCOME_INPUT: Final = "outcome"
AGENCY_INPUT: Final = "agency"
#: "Immediate risk: highlight to the receiving team manager now" on the sign-off of an accepted outcome.
HIGHLIGHT_INPUT: Final = "highlight"
#: In a route button's data: "stays with early help" (SPEC §3), route II for a child open to it.
EARLY_HELP_KEY: Final = "early_help"
EARLY_HELP_STAYS: Final = "stays"

#: Teams shows user-specific views to at most 60 people per card.
MAX_REFRESH_USERS: Final = 60

_ROUTE_II_OUTCOMES = (OutcomeKind.NO_FURTHER_ACTION, OutcomeKind.ADVICE, OutcomeKind.OTHER_AGENCY)


@dataclass(frozen=True, slots=True)
class CardState:
    """What the card says about a contact beyond its channel summary."""

    reference: str
    version: int
    #: where the contact is, in our own words (route, who, when; sign-off), one line each
    lines: tuple[str, ...] = ()
    #: a message for the person looking (someone decided first, a refusal), our own wording
    notice: str = ""
    #: the Teams user ids (``29:…``) of the consultants and team managers, for ``refresh``
    refresh_user_ids: tuple[str, ...] = ()
    #: the contact can still be decided or signed off, so the card keeps its refresh
    active: bool = True
    #: which channel card this is: the decisions channel's or the duty channel's (re-referral)
    kind: ChannelCardKind = ChannelCardKind.DECISION
    #: shown in the viewer's personal chat (a decider screening from there), not in the channel:
    #: no View (the full record is already there) and no note about what the channel does not show
    in_chat: bool = False

    def data(self, **more: str) -> dict[str, Any]:
        return {REFERENCE_KEY: self.reference, VERSION_KEY: self.version, **more}


def _element(element: Any) -> dict[str, Any]:
    data: dict[str, Any] = element.model_dump(by_alias=True, exclude_none=True)
    return data


def _refresh(state: CardState) -> RefreshDefinition | None:
    if not state.active:
        return None
    return RefreshDefinition(
        action=ExecuteAction(title="Update", verb=REFRESH_VERB, data=state.data()),
        user_ids=list(state.refresh_user_ids[:MAX_REFRESH_USERS]),
    )


def _finish(card: dict[str, Any], state: CardState, extra: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """Add the state lines, the notice and ``extra`` elements above the card's closing note; in a
    personal chat (``state.in_chat``) drop that note and the View action, which are the channel's."""
    body: list[dict[str, Any]] = card["body"]
    added: list[dict[str, Any]] = [
        _element(TextBlock(text=line, weight="Bolder", wrap=True)) for line in state.lines
    ]
    if state.notice:
        added.append(_element(TextBlock(text=state.notice, color="Attention", weight="Bolder", wrap=True)))
    added += extra
    closing = [] if state.in_chat else [body[-1]]
    card["body"] = [*body[:-1], *added, *closing]
    if state.in_chat:
        card["actions"] = [action for action in card.get("actions", []) if action.get("verb") != VIEW_VERB]
    return card


def decide_action(reference: str, version: int) -> ExecuteAction:
    """ "Decide or sign off": the deciders' view of the contact's card, in reply (on the channel
    card, and on the full record in a decider's personal chat)."""
    return ExecuteAction(
        title="Decide or sign off", verb=REFRESH_VERB, data={REFERENCE_KEY: reference, VERSION_KEY: version}
    )


def status_card(
    summary: ChannelSummary, now: datetime, state: CardState, repeat_of: Sequence[str] = ()
) -> dict[str, Any]:
    """The card everyone sees: status only; deciders get their own view through ``refresh``."""
    actions = [decide_action(state.reference, state.version)] if state.active else []
    card = channel_card(
        summary, now, state.kind, repeat_of=repeat_of, actions=actions, refresh=_refresh(state)
    )
    return _finish(card, state)


def decider_card(
    summary: ChannelSummary,
    now: datetime,
    state: CardState,
    officers: Sequence[tuple[str, str]],
    workers: Sequence[WorkerChoice],
    rationale: str = "",
    repeat_of: Sequence[str] = (),
    *,
    without_consent: bool = False,
    consent_recorded: bool = True,
    early_help_worker: str = "",
) -> dict[str, Any]:
    """A consultant's or team manager's view of a contact awaiting screening: routes I–IV, with, when
    the parents' consent was refused or not sought, the tick and sentence that routes I and IV need
    (route IV only while an urgent contact's consent is not recorded yet: route I's 2-hour decision
    does not wait for the consent card);
    and "Stays with early help" when ``early_help_worker`` is given (the child is open to early help
    and the contact is not urgent; the worker's name as the directory has it)."""
    inputs: list[Any] = [
        TextInput(
            id=RATIONALE_INPUT,
            label="Rationale (required for every route)",
            is_multiline=True,
            is_required=True,
            error_message="Give the rationale for the decision",
            max_length=4000,
            value=rationale or None,
        ),
        ChoiceSetInput(
            id=OUTCOME_INPUT,
            label="Route II: the outcome",
            choices=[CardChoice(title=OUTCOME_TITLES[kind], value=kind.value) for kind in _ROUTE_II_OUTCOMES],
            value=OutcomeKind.NO_FURTHER_ACTION.value,
        ),
        service_consent_choice(required=False, label="Consent for a service (required for route II)"),
        ChoiceSetInput(
            id=AGENCY_INPUT,
            label="Route II, referral to another agency: the agency",
            choices=[CardChoice(title=title, value=agency.value) for agency, title in AGENCY_TITLES.items()],
        ),
        ChoiceSetInput(
            id=OFFICER_INPUT,
            label="Route III: the officer",
            choices=[CardChoice(title=name, value=person) for person, name in officers],
        ),
        ChoiceSetInput(
            id=WORKER_INPUT,
            label="Route IV: the social worker (open contacts / cap)",
            choices=[
                CardChoice(
                    title=choice.label if choice.available else f"{choice.label}: at the cap",
                    value=choice.worker_id,
                )
                for choice in workers
            ],
        ),
    ]
    if without_consent:
        inputs += risk_of_harm_inputs("Routes I and IV" if consent_recorded else "Route IV")
    actions = [
        ExecuteAction(
            title=f"Route {ROUTE_TITLES[route]}", verb=DECIDE_VERB, data=state.data(route=route.value)
        )
        for route in ScreeningRoute
    ]
    if early_help_worker:
        # Teams shows at most five actions at the foot of a card (View and routes I–IV), so the
        # fifth choice sits in the card's body, under the inputs it uses (the rationale).
        stays = state.data(route=ScreeningRoute.II.value, **{EARLY_HELP_KEY: EARLY_HELP_STAYS})
        title = f"Stays with early help ({early_help_worker} is told)"
        inputs += [
            TextBlock(
                text="The child is open to early help. Unless there is an immediate safeguarding "
                "incident, they may stay with early help: a referral to early help, signed off like "
                "any other outcome.",
                wrap=True,
            ),
            ActionSet(actions=[ExecuteAction(title=title, verb=DECIDE_VERB, data=stays)]),
        ]
    card = decision_card(summary, now, repeat_of=repeat_of, actions=actions, refresh=_refresh(state))
    return _finish(card, state, [_element(element) for element in inputs])


def _signoff_parts(
    state: CardState, highlight: bool | None, receiving: str
) -> tuple[list[Any], list[dict[str, Any]]]:
    """ "Sign off and close" and "Send back"; for an accepted outcome (``highlight`` not None) the
    immediate-risk tick above them, ticked when ``highlight``, and ``receiving``: who signing off
    tells. The receiving team hears of the contact only when it is signed off."""
    actions: list[Any] = [
        ExecuteAction(title="Sign off and close", verb=SIGN_OFF_VERB, data=state.data()),
        send_back_action(state.data()),
    ]
    if highlight is None:
        return actions, []
    tick = ToggleInput(
        id=HIGHLIGHT_INPUT,
        title="Immediate risk: highlight to the receiving team manager now",
        value="true" if highlight else "false",
        value_on="true",
        value_off="false",
    )
    note = TextBlock(text=receiving, wrap=True, is_subtle=True)
    return actions, [_element(tick), _element(note)]


def signoff_card(
    summary: ChannelSummary,
    now: datetime,
    state: CardState,
    repeat_of: Sequence[str] = (),
    *,
    highlight: bool | None = None,
    receiving: str = "",
) -> dict[str, Any]:
    """A consultant's or team manager's view of a contact awaiting sign-off: "Sign off and close",
    or "Send back" with a reason for the decision to be made again (``bot.cards.quality``); for an
    accepted outcome, the immediate-risk highlight tick and who signing off tells (``receiving``; see
    ``_signoff_parts``)."""
    actions, extra = _signoff_parts(state, highlight, receiving)
    card = channel_card(
        summary, now, state.kind, repeat_of=repeat_of, actions=actions, refresh=_refresh(state)
    )
    return _finish(card, state, extra)


def rereferral_decider_card(
    summary: ChannelSummary,
    now: datetime,
    state: CardState,
    workers: Sequence[WorkerChoice],
    last_worker_id: str | None,
    repeat_of: Sequence[str] = (),
    *,
    without_consent: bool = False,
) -> dict[str, Any]:
    """A duty manager's view of a re-referral: the child-protection threshold is met, or reassign
    to a social worker (by default the last allocated one) to recommend within 48 hours; with, when
    the parents' consent was refused or not sought, the tick and sentence that either needs (both
    proceed with enquiries)."""
    default = last_worker_id if any(choice.worker_id == last_worker_id for choice in workers) else None
    inputs: list[Any] = [
        TextInput(
            id=RATIONALE_INPUT,
            label="Rationale (required)",
            is_multiline=True,
            is_required=True,
            error_message="Give the rationale for the decision",
            max_length=4000,
        ),
        ChoiceSetInput(
            id=WORKER_INPUT,
            label="Reassign to: the social worker (open contacts / cap); the last allocated one by default",
            choices=[
                CardChoice(
                    title=choice.label if choice.available else f"{choice.label}: at the cap",
                    value=choice.worker_id,
                )
                for choice in workers
            ],
            value=default,
        ),
    ]
    if without_consent:
        inputs += risk_of_harm_inputs("Either decision")
    actions = [
        ExecuteAction(
            title="Child-protection threshold met",
            verb=REREFERRAL_VERB,
            data=state.data(**{CHOICE_KEY: RereferralChoice.CP_THRESHOLD_MET.value}),
        ),
        ExecuteAction(
            title="Reassign to the social worker",
            verb=REREFERRAL_VERB,
            data=state.data(**{CHOICE_KEY: RereferralChoice.REASSIGN.value}),
        ),
    ]
    card = channel_card(
        summary,
        now,
        ChannelCardKind.REREFERRAL,
        repeat_of=repeat_of,
        actions=actions,
        refresh=_refresh(state),
    )
    return _finish(card, state, [_element(element) for element in inputs])


def _showcard(title: str, body: Sequence[Any], execute: ExecuteAction) -> ShowCardAction:
    return ShowCardAction(title=title, card=AdaptiveCard(body=list(body), actions=[execute]))


def cp_outcome_card(
    summary: ChannelSummary,
    now: datetime,
    state: CardState,
    managers: Sequence[tuple[str, str]],
    *,
    decision_made: bool,
    repeat_of: Sequence[str] = (),
    without_consent: bool = False,
) -> dict[str, Any]:
    """A decider's view of a contact after route I (or a re-referral whose child-protection
    threshold is met): "Progress to referral" (the 2-hour decision, until ``decision_made``) and
    "Record the outcome" (accepted for assessment with the receiving team and the strategy-discussion
    flag, or any other outcome of SPEC §3; only accepted once the decision to progress is made)."""
    kinds = [OutcomeKind.ACCEPTED] if decision_made else list(OutcomeKind)
    actions: list[Any] = []
    if not decision_made:
        actions.append(
            _showcard(
                "Progress to referral",
                [
                    TextInput(
                        id=Input.CP_RATIONALE.value,
                        label="Rationale for progressing to referral (required)",
                        is_multiline=True,
                        is_required=True,
                        error_message="Give the rationale for the decision",
                        max_length=4000,
                    )
                ],
                ExecuteAction(
                    title="Progress to referral",
                    verb=OUTCOME_VERB,
                    data=state.data(**{STEP_KEY: OutcomeStep.ACCEPT.value}),
                ),
            )
        )
    actions.append(
        _showcard(
            "Record the outcome",
            outcome_form(kinds, managers, urgent=summary.urgent, without_consent=without_consent),
            ExecuteAction(
                title="Record the outcome and send for sign-off",
                verb=OUTCOME_VERB,
                data=state.data(**{STEP_KEY: OutcomeStep.OUTCOME.value}),
            ),
        )
    )
    card = channel_card(
        summary, now, state.kind, repeat_of=repeat_of, actions=actions, refresh=_refresh(state)
    )
    return _finish(card, state)


def followup_card(
    summary: ChannelSummary,
    now: datetime,
    state: CardState,
    *,
    sign_off: bool,
    challenge: ChallengeView | None,
    names: Mapping[str, str],
    repeat_of: Sequence[str] = (),
    highlight: bool | None = None,
    receiving: str = "",
) -> dict[str, Any]:
    """A decider's view of a contact awaiting sign-off or signed off whose threshold may be, or is
    being, challenged: the sign-off (``signoff_card``) when ``sign_off``, and the challenge's lines
    and actions. The challenge lines name staff only: the grounds and discussion stay on the
    contact's own view."""
    actions: list[Any] = []
    extra: list[dict[str, Any]] = []
    if sign_off:
        actions, extra = _signoff_parts(state, highlight, receiving)
    if challenge is not None:
        elements, challenge_actions = challenge_parts(challenge, names)
        extra += [_element(element) for element in elements]
        actions += challenge_actions
    card = channel_card(
        summary, now, state.kind, repeat_of=repeat_of, actions=actions, refresh=_refresh(state)
    )
    return _finish(card, state, extra)
