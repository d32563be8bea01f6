"""The challenge parts of a contact's cards: the receiving team's challenge of the threshold
(``ChallengeView``, ``challenge_parts``: its lines and its actions, shown on the personal card and the
decisions channel card) and the referrer's challenge with its steps (``ReferrerView``, shown on the
personal card, ``bot.cards.work``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from microsoft_teams.cards import (
    ActionSet,
    CardElement,
    ChoiceSetInput,
    ExecuteAction,
    ShowCardAction,
    TextInput,
)
from microsoft_teams.cards import Choice as CardChoice

from bot.cards.work_inputs import (
    CHALLENGE_VERB,
    REFERRER_CHALLENGE_VERB,
    STEP_KEY,
    ChallengeStep,
    Input,
    ReferrerChallengeStep,
    _agency_choice,
    _data,
    _heading,
    _notes,
    _show,
    _text,
    _who,
)
from frontdoor.casework import (
    ChallengeResult,
    ChallengeStatus,
    ReferrerChallenge,
    ReferrerResult,
    ReferrerStage,
)
from frontdoor.outcomes import OUTCOME_TITLES, OutcomeKind
from frontdoor.timefmt import format_due, format_local

__all__ = [
    "ChallengeView",
    "ReferrerView",
    "challenge_parts",
]


@dataclass(frozen=True, slots=True)
class ChallengeView:
    """The receiving team's challenge part of a card, for someone who may take part in it."""

    reference: str
    version: int
    now: datetime
    #: the end of the window; None when the contact is not signed off as accepted
    until: datetime | None
    status: ChallengeStatus | None
    #: the receiving team manager named on the outcome: may raise a challenge
    may_raise: bool
    #: the challenger, the decider who answers, or (escalated) a service manager
    may_discuss: bool = False
    #: the challenger or the decider: may say it is not agreed
    may_escalate: bool = False
    #: the decider (agreed either way) or, escalated, a service manager; never the challenger
    may_resolve: bool = False


def _challenge_lines(view: ChallengeView, names: Mapping[str, str]) -> list[str]:
    lines: list[str] = []
    status = view.status
    if status is not None:
        lines.append(
            f"Threshold challenged by {_who(names, status.raised_by)} at {format_local(status.raised_at)}; "
            f"discussions recorded: {status.discussions}."
        )
        if status.escalated_at is not None:
            lines.append(
                f"Not agreed: escalated to the service manager by {_who(names, status.escalated_by)} at "
                f"{format_local(status.escalated_at)}."
            )
        if status.result is not None:
            result = "upheld" if status.result is ChallengeResult.UPHELD else "overturned"
            final = "final decision by the service manager " if status.escalated else ""
            lines.append(f"Challenge {result}: {final}{_who(names, status.resolved_by)}.")
    elif view.until is not None:
        if view.now <= view.until:
            lines.append(
                f"The receiving team may challenge the threshold until {format_local(view.until)} "
                f"({format_due(view.until, view.now)})."
            )
        else:
            lines.append(f"The time to challenge the threshold ended at {format_local(view.until)}.")
    return lines


def challenge_parts(
    view: ChallengeView, names: Mapping[str, str]
) -> tuple[list[CardElement], list[ShowCardAction]]:
    """The challenge's lines and its actions for ``view``: "Challenge the threshold" while the
    window is open and nothing was challenged; while a challenge is open, "Record the discussion",
    "Not agreed: escalate" and "Record the result" (or the service manager's final decision), each
    for those who may."""
    elements: list[CardElement] = [_text(line, weight="Bolder") for line in _challenge_lines(view, names)]
    actions: list[ShowCardAction] = []

    def execute(title: str, step: ChallengeStep) -> ExecuteAction:
        return ExecuteAction(
            title=title,
            verb=CHALLENGE_VERB,
            data=_data(view.reference, view.version, **{STEP_KEY: step.value}),
        )

    status = view.status
    open_challenge = status is not None and status.open
    escalated = status is not None and status.escalated
    if view.may_raise and status is None and view.until is not None and view.now <= view.until:
        actions.append(
            _show(
                "Challenge the threshold",
                [
                    _notes(Input.GROUNDS, "Why the threshold is challenged (required)"),
                    _text(f"Allowed until {format_local(view.until)}.", is_subtle=True, size="Small"),
                ],
                execute("Send the challenge", ChallengeStep.RAISE),
            )
        )
    if not open_challenge:
        return elements, actions
    if view.may_discuss:
        actions.append(
            _show(
                "Record the discussion",
                [_notes(Input.DISCUSSION, "What was discussed (required)")],
                execute("Record the discussion", ChallengeStep.DISCUSS),
            )
        )
    if view.may_escalate and not escalated:
        actions.append(
            _show(
                "Not agreed: escalate",
                [
                    _text("The service manager records the final decision.", is_subtle=True),
                    _notes(Input.ESCALATE_REASON, "Where the disagreement lies (required)"),
                ],
                execute("Escalate to the service manager", ChallengeStep.ESCALATE),
            )
        )
    if view.may_resolve:
        revised = [kind for kind in OutcomeKind if kind is not OutcomeKind.ACCEPTED]
        title = "Record the final decision" if escalated else "Record the result (agreed)"
        actions.append(
            _show(
                title,
                [
                    ChoiceSetInput(
                        id=Input.RESULT.value,
                        label="The result",
                        choices=[
                            CardChoice(
                                title="Upheld: the threshold decision stands",
                                value=ChallengeResult.UPHELD.value,
                            ),
                            CardChoice(
                                title="Overturned: the outcome is revised",
                                value=ChallengeResult.OVERTURNED.value,
                            ),
                        ],
                        is_required=True,
                        error_message="Choose the result",
                    ),
                    _notes(
                        Input.RESULT_RATIONALE,
                        "Rationale (required)",
                        error="Say why the challenge ended this way",
                    ),
                    ChoiceSetInput(
                        id=Input.REVISED_OUTCOME.value,
                        label="If overturned: the revised outcome",
                        choices=[
                            CardChoice(title=OUTCOME_TITLES[kind], value=kind.value) for kind in revised
                        ],
                    ),
                    _agency_choice(
                        Input.REVISED_AGENCY, "If overturned to a referral to another agency: the agency"
                    ),
                ],
                execute(title, ChallengeStep.RESOLVE),
            )
        )
    return elements, actions


# -- the referrer's challenge ---------------------------------------------------------------------

_STAGE_TITLES: Mapping[ReferrerStage, str] = {
    ReferrerStage.DISCUSSION: "Discussed with the referrer",
    ReferrerStage.TEAM_MANAGER: "Team manager with the agency's lead",
    ReferrerStage.SERVICE_MANAGER: "Service manager with the agency's lead",
}


@dataclass(frozen=True, slots=True)
class ReferrerView:
    """The referrer's challenge part of the personal card."""

    reference: str
    version: int
    challenge: ReferrerChallenge | None
    #: may record a new referrer challenge (front-door staff, on a closed contact with none open)
    may_record: bool
    #: may record the next step (the role the step needs)
    may_step: bool


def _referrer_parts(view: ReferrerView, names: Mapping[str, str]) -> list[CardElement]:
    challenge = view.challenge
    body: list[CardElement] = []
    if challenge is not None:
        body.append(
            _text(
                f"Challenged by the referrer: recorded by {_who(names, challenge.recorded_by)} at "
                f"{format_local(challenge.recorded_at)}.",
                weight="Bolder",
            )
        )
        for step in challenge.steps:
            result = "resolved" if step.result is ReferrerResult.RESOLVED else "the challenge remains"
            body.append(
                _text(
                    f"{_STAGE_TITLES[step.stage]}: {result}, by {_who(names, step.by)} at "
                    f"{format_local(step.at)}."
                )
            )
    actions: list[ShowCardAction] = []

    def execute(title: str, step: ReferrerChallengeStep) -> ExecuteAction:
        return ExecuteAction(
            title=title,
            verb=REFERRER_CHALLENGE_VERB,
            data=_data(view.reference, view.version, **{STEP_KEY: step.value}),
        )

    stage = challenge.next_stage if challenge is not None else None
    if view.may_record and stage is None:
        actions.append(
            _show(
                "Record a referrer's challenge",
                [_notes(Input.REFERRER_GROUNDS, "What the referrer disagrees with (required)")],
                execute("Record the challenge", ReferrerChallengeStep.RAISE),
            )
        )
    if view.may_step and stage is not None:
        inputs: list[CardElement] = [
            ChoiceSetInput(
                id=Input.REFERRER_RESULT.value,
                label="The result",
                choices=[
                    CardChoice(title="Resolved", value=ReferrerResult.RESOLVED.value),
                    CardChoice(
                        title="The challenge remains"
                        + ("" if stage is ReferrerStage.SERVICE_MANAGER else ": to the next step"),
                        value=ReferrerResult.REMAINS.value,
                    ),
                ],
                is_required=True,
                error_message="Choose the result",
            ),
            _notes(Input.REFERRER_STEP_NOTES, "What was discussed and decided (required)"),
        ]
        if stage is not ReferrerStage.DISCUSSION:
            inputs.append(
                TextInput(
                    id=Input.AGENCY_LEAD.value,
                    label="The agency's lead who took part (required)",
                    is_required=True,
                    error_message="Name the agency's lead",
                    max_length=200,
                )
            )
        actions.append(
            _show(_STAGE_TITLES[stage], inputs, execute("Record the result", ReferrerChallengeStep.STEP))
        )
    if body or actions:
        body.insert(0, _heading("Challenge by the referrer"))
    if actions:
        body.append(ActionSet(actions=list(actions)))
    return body
