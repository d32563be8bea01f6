"""The personal card about one contact (SPEC §3): what the officer (route III) or the social worker
(route IV, re-referrals) records on it, what the person who recorded an outcome sends, and what the
receiving team manager sees of an accepted contact, with the challenge.

One card serves them all; who sees which part is decided by the caller from the role directory and
the contact (``PersonalView``), and every action is checked again on the server:

- the assignee, while the contact is with them, gets the casework: contact with the referrer and
  with the parents, the officer's further work, consent, "parents not reached: letter sent", and the
  outcome (officer) or recommendation (social worker). Each is an ``Action.ShowCard`` holding its own
  inputs, so a required box of one never blocks another;
- once an outcome is recorded, the outcome letter to the referrer is shown (a draft until sign-off,
  then the letter produced) with "Record the letter as sent", or the line saying an anonymous member
  of the public is not told;
- the challenge part (``ChallengeView``) for the receiving team manager and the deciders.

Every action is an ``Action.Execute`` whose data names the contact's reference and version and the
step; the answer replaces the card in place. This card shows names and what people typed: it is for a
personal chat only, never a channel (channel cards come from ``bot.cards.decision``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Final

from microsoft_teams.cards import (
    Action,
    ActionSet,
    AdaptiveCard,
    CardElement,
    ChoiceSetInput,
    Container,
    ContainerStyle,
    ExecuteAction,
    Fact,
    FactSet,
    ShowCardAction,
    TextBlock,
    TextInput,
    ToggleInput,
)
from microsoft_teams.cards import (
    Choice as CardChoice,
)

from bot.cards.clocks import CLOCK_TITLES
from bot.cards.common import to_dict
from bot.cards.intake import STATE_TITLES, contact_details, plain
from bot.cards.keys import REFERENCE_KEY, VERSION_KEY
from bot.cards.mash import start_action as mash_start_action
from bot.cards.quality import return_action
from frontdoor.calendar import LONDON
from frontdoor.casework import (
    ChallengeResult,
    ChallengeStatus,
    ReferrerChallenge,
    ReferrerResult,
    ReferrerStage,
)
from frontdoor.contact import Consent, Contact, ContactState
from frontdoor.outcomes import (
    AGENCY_TITLES,
    OUTCOME_TITLES,
    SERVICE_CONSENT_TITLES,
    OutcomeKind,
    RecordedOutcome,
)
from frontdoor.records import ClockKind, Deadline, DeadlineState
from frontdoor.timefmt import format_due, format_local
from frontdoor.worklog import (
    CONSENT_WORDS,
    OutcomeLetter,
    ParentLetter,
    ParentLetterStatus,
    history,
    is_rereferral,
)

__all__ = [
    "CHALLENGE_VERB",
    "LETTER_SENT_VERB",
    "OUTCOME_VERB",
    "REFERRER_CHALLENGE_VERB",
    "STEP_KEY",
    "WORK_VERB",
    "ChallengeStep",
    "ChallengeView",
    "Input",
    "OutcomeStep",
    "PersonalView",
    "ReferrerChallengeStep",
    "ReferrerView",
    "WorkStep",
    "challenge_parts",
    "outcome_form",
    "personal_card",
    "risk_of_harm_inputs",
    "service_consent_choice",
    "work_card_action",
]

#: The assignee's casework, with ``STEP_KEY`` naming a ``WorkStep``.
WORK_VERB: Final = "contact.work"
#: The child-protection decision and the outcome after route I (decisions channel card).
OUTCOME_VERB: Final = "contact.outcome"
#: The receiving team's challenge and its discussion and result, with ``STEP_KEY``.
CHALLENGE_VERB: Final = "contact.challenge"
#: "Record the letter as sent" under an outcome letter.
LETTER_SENT_VERB: Final = "contact.letter_sent"
#: The referrer's challenge and its steps, with ``STEP_KEY`` naming a ``ReferrerChallengeStep``.
REFERRER_CHALLENGE_VERB: Final = "contact.referrer_challenge"
STEP_KEY: Final = "step"


class WorkStep(StrEnum):
    REFRESH = "refresh"
    REFERRER = "referrer_contact"
    PARENTS = "parent_contact"
    OFFICER_WORK = "officer_work"
    CONSENT = "consent"
    PARENTS_UNREACHABLE = "parents_unreachable"
    OUTCOME = "outcome"


class OutcomeStep(StrEnum):
    #: the child-protection decision alone: progress to referral (the 2-hour clock)
    ACCEPT = "accept"
    #: the outcome (accepted with the receiving team, or any other)
    OUTCOME = "outcome"


class ChallengeStep(StrEnum):
    RAISE = "raise"
    DISCUSS = "discuss"
    #: not agreed: to the service manager
    ESCALATE = "escalate"
    #: agreed either way, or the service manager's final decision
    RESOLVE = "resolve"


class ReferrerChallengeStep(StrEnum):
    RAISE = "raise"
    #: the next step (discussion, team manager, service manager) with its result
    STEP = "step"


class Input(StrEnum):
    """Input ids; unique across a card, show cards included."""

    REFERRER_NOTES = "referrer_notes"
    PARENT_NOTES = "parent_notes"
    WORK_NOTES = "work_notes"
    LETTER_NOTES = "letter_notes"
    CONSENT = "consent"
    CONSENT_REASON = "consent_reason"
    OUTCOME = "outcome"
    OUTCOME_RATIONALE = "outcome_rationale"
    RECEIVING_TEAM = "receiving_team"
    STRATEGY = "strategy_discussion"
    RECEIVING_MANAGER = "receiving_manager"
    AGENCY = "outcome_agency"
    CP_RATIONALE = "cp_rationale"
    GROUNDS = "grounds"
    DISCUSSION = "discussion"
    RESULT = "result"
    RESULT_RATIONALE = "result_rationale"
    REVISED_OUTCOME = "revised_outcome"
    REVISED_AGENCY = "revised_agency"
    ESCALATE_REASON = "escalate_reason"
    SERVICE_CONSENT = "service_consent"
    RISK_CONFIRMED = "risk_confirmed"
    RISK_OF_HARM = "risk_of_harm"
    REFERRER_GROUNDS = "referrer_grounds"
    REFERRER_RESULT = "referrer_result"
    REFERRER_STEP_NOTES = "referrer_step_notes"
    AGENCY_LEAD = "agency_lead"


#: The notes box of each casework step that records a note.
NOTE_INPUTS: Mapping[WorkStep, Input] = {
    WorkStep.REFERRER: Input.REFERRER_NOTES,
    WorkStep.PARENTS: Input.PARENT_NOTES,
    WorkStep.OFFICER_WORK: Input.WORK_NOTES,
    WorkStep.PARENTS_UNREACHABLE: Input.LETTER_NOTES,
}

_MAX_TEXT = 4000


def _text(text: str, **options: Any) -> TextBlock:
    return TextBlock(text=text, wrap=True, **options)


def _heading(text: str) -> TextBlock:
    return _text(text, size="Medium", weight="Bolder", separator=True)


def _banner(text: str, style: ContainerStyle) -> Container:
    return Container(style=style, items=[_text(text, weight="Bolder")])


def _data(reference: str, version: int, **more: str) -> dict[str, Any]:
    return {REFERENCE_KEY: reference, VERSION_KEY: version, **more}


def _show(title: str, body: Sequence[CardElement], execute: ExecuteAction) -> ShowCardAction:
    return ShowCardAction(title=title, card=AdaptiveCard(body=list(body), actions=[execute]))


def _notes(
    input_id: Input, label: str, *, required: bool = True, error: str = "Say what was done"
) -> TextInput:
    return TextInput(
        id=input_id.value,
        label=label,
        is_multiline=True,
        is_required=required,
        error_message=error if required else None,
        max_length=_MAX_TEXT,
    )


def _agency_choice(input_id: Input, label: str) -> ChoiceSetInput:
    return ChoiceSetInput(
        id=input_id.value,
        label=label,
        choices=[CardChoice(title=title, value=agency.value) for agency, title in AGENCY_TITLES.items()],
    )


def _who(names: Mapping[str, str], person: str | None) -> str:
    if not person:
        return "nobody"
    if person.startswith("system:"):
        return "the bot"
    return plain(names.get(person) or "a member of staff")


# -- the outcome form, shared with the decisions channel card ------------------------------------


def service_consent_choice(*, required: bool, label: str = "Consent for a service") -> ChoiceSetInput:
    """Whether there is consent for a service, recorded with the outcome (SPEC §3)."""
    return ChoiceSetInput(
        id=Input.SERVICE_CONSENT.value,
        label=label + (" (required)" if required else ""),
        choices=[CardChoice(title=title, value=kind.value) for kind, title in SERVICE_CONSENT_TITLES.items()],
        is_required=required,
        error_message="Record whether there is consent for a service" if required else None,
    )


def risk_of_harm_inputs(when: str) -> list[CardElement]:
    """The tick and the sentence of a decider proceeding without consent (SPEC §3)."""
    return [
        ToggleInput(
            id=Input.RISK_CONFIRMED.value,
            title=f"{when}: consent was refused or not sought, and the evidence suggests a risk of harm",
            value="false",
            value_on="true",
            value_off="false",
        ),
        TextInput(
            id=Input.RISK_OF_HARM.value,
            label=f"{when}: why the evidence suggests a risk of harm (one sentence)",
            max_length=_MAX_TEXT,
        ),
    ]


def _outcome_title(kind: OutcomeKind, recommendation: bool) -> str:
    if not recommendation:
        return OUTCOME_TITLES[kind]
    if kind is OutcomeKind.ACCEPTED:
        return f"Progress to referral for single assessment ({OUTCOME_TITLES[kind].lower()})"
    return f"No further involvement: {OUTCOME_TITLES[kind].lower()}"


def outcome_form(
    kinds: Sequence[OutcomeKind],
    managers: Sequence[tuple[str, str]],
    *,
    recommendation: bool = False,
    urgent: bool = False,
    without_consent: bool = False,
) -> list[CardElement]:
    """The inputs of an outcome (SPEC §3): the outcome, its rationale, whether there is consent for a
    service, and for an accepted contact the receiving team, whether a strategy discussion is needed
    and the receiving team manager; for a referral to another agency, the agency. ``managers`` are
    (directory id, name) of team managers. ``without_consent``: the parents' consent was refused or not
    sought, so a decider accepting confirms the evidence suggests a risk of harm."""
    elements: list[CardElement] = [
        ChoiceSetInput(
            id=Input.OUTCOME.value,
            label="The recommendation" if recommendation else "The outcome",
            choices=[
                CardChoice(title=_outcome_title(kind, recommendation), value=kind.value) for kind in kinds
            ],
            value=kinds[0].value if len(kinds) == 1 else None,
            is_required=True,
            error_message="Choose the outcome",
        ),
        _notes(Input.OUTCOME_RATIONALE, "Rationale (required)", error="Every outcome needs a rationale"),
        service_consent_choice(required=True),
    ]
    if OutcomeKind.ACCEPTED in kinds and without_consent:
        elements += risk_of_harm_inputs("If accepted")
    if OutcomeKind.ACCEPTED in kinds:
        highlight = (
            "told when it is signed off; urgent contacts can be highlighted to them then"
            if urgent
            else "told when it is signed off; they may challenge the threshold until the end of that day"
        )
        elements += [
            TextInput(id=Input.RECEIVING_TEAM.value, label="If accepted: the receiving team", max_length=200),
            ToggleInput(
                id=Input.STRATEGY.value,
                title="If accepted: a strategy discussion is needed",
                value="false",
                value_on="true",
                value_off="false",
            ),
        ]
        if managers:
            elements.append(
                ChoiceSetInput(
                    id=Input.RECEIVING_MANAGER.value,
                    label=f"If accepted: the receiving team manager ({highlight})",
                    choices=[CardChoice(title=name, value=person) for person, name in managers],
                )
            )
    if OutcomeKind.OTHER_AGENCY in kinds:
        elements.append(_agency_choice(Input.AGENCY, "If referred to another agency: the agency"))
    return elements


# -- the challenge --------------------------------------------------------------------------------


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


# -- the personal card ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonalView:
    """Everything the personal card shows, worked out by the caller."""

    contact: Contact
    deadlines: Sequence[Deadline]
    now: datetime
    #: directory id -> display name
    names: Mapping[str, str]
    #: team managers as (directory id, name), for the receiving team manager
    managers: Sequence[tuple[str, str]] = ()
    heading: str = ""
    #: a message for the person looking (what was just recorded, or why nothing was), our own words
    notice: str = ""
    #: the notice says something was done (rather than why nothing was)
    notice_ok: bool = False
    #: the person looking is the assignee and the contact is with them: show the casework
    casework: bool = False
    parent_letter: ParentLetter | None = None
    outcome: RecordedOutcome | None = None
    #: before sign-off: the outcome letter as it will be produced (None: the referrer is not told)
    draft_letter: str | None = None
    #: after sign-off: the letter produced, and whether it was sent
    letter: OutcomeLetter | None = None
    #: the person looking may record the letter as sent
    may_send_letter: bool = False
    challenge: ChallengeView | None = None
    referrer: ReferrerView | None = None
    #: the person looking may open a MASH episode on the contact
    may_open_mash: bool = False


def _clock_facts(view: PersonalView) -> list[Fact]:
    lapsed = view.parent_letter is not None and view.parent_letter.status is ParentLetterStatus.LAPSED
    facts = []
    for deadline in sorted(
        (d for d in view.deadlines if d.state is DeadlineState.OPEN), key=lambda d: (d.due_at, d.clock.value)
    ):
        title = CLOCK_TITLES[deadline.clock]
        if deadline.clock is ClockKind.SCREENING and lapsed:
            title = "Review after the parent letter lapsed"
        facts.append(
            Fact(
                title=title,
                value=f"{format_local(deadline.due_at)} ({format_due(deadline.due_at, view.now)})",
            )
        )
    return facts


def _letter_lines(letter: ParentLetter, now: datetime) -> tuple[str, ContainerStyle]:
    sent = format_local(letter.sent_at)
    match letter.status:
        case ParentLetterStatus.WAITING:
            assert letter.lapses_at is not None
            return (
                f"Parents not reached: a letter was sent at {sent} asking them to make contact by "
                f"{format_local(letter.lapses_at)} ({format_due(letter.lapses_at, now)}).",
                "warning",
            )
        case ParentLetterStatus.LAPSED:
            assert letter.lapsed_at is not None
            review = (
                f" by {format_local(letter.review_due)} ({format_due(letter.review_due, now)})"
                if letter.review_due is not None
                else ""
            )
            return (
                f"The parents did not make contact after the letter of {sent}; it lapsed at "
                f"{format_local(letter.lapsed_at)}. Review the contact and re-apply the threshold{review}: "
                "make your recommendation.",
                "attention",
            )
        case ParentLetterStatus.ANSWERED:
            return f"The parents made contact after the letter of {sent}.", "good"
        case _:
            return (
                f"Parents not reached: a letter advising them of the contact was sent at {sent}.",
                "emphasis",
            )


def _casework_actions(view: PersonalView, reference: str, version: int) -> list[ActionSet]:
    contact = view.contact
    officer = contact.state is ContactState.OFFICER_WORK

    def execute(title: str, step: WorkStep) -> ExecuteAction:
        return ExecuteAction(
            title=title, verb=WORK_VERB, data=_data(reference, version, **{STEP_KEY: step.value})
        )

    record: list[ShowCardAction] = []
    if officer:
        record.append(
            _show(
                "Further work",
                [_notes(Input.WORK_NOTES, "The further or low-level work, or the early-help recommendation")],
                execute("Record the work", WorkStep.OFFICER_WORK),
            )
        )
    record += [
        _show(
            "Referrer",
            [_notes(Input.REFERRER_NOTES, "Contact with the referrer: what was discussed")],
            execute("Record contact with the referrer", WorkStep.REFERRER),
        ),
        _show(
            "Parents",
            [_notes(Input.PARENT_NOTES, "Contact with the parents: what was discussed")],
            execute("Record contact with the parents", WorkStep.PARENTS),
        ),
        _show(
            "Consent",
            [
                ChoiceSetInput(
                    id=Input.CONSENT.value,
                    label="Consent to further enquiries",
                    choices=[CardChoice(title=CONSENT_WORDS[c].capitalize(), value=c.value) for c in Consent],
                    is_required=True,
                    error_message="Choose the consent",
                ),
                TextInput(
                    id=Input.CONSENT_REASON.value,
                    label="If refused: the reason given; if not sought: why seeking it would place the "
                    "child at risk",
                    is_multiline=True,
                    max_length=_MAX_TEXT,
                ),
            ],
            execute("Record consent", WorkStep.CONSENT),
        ),
        _show(
            "Parents not reached",
            [
                _text(
                    "Advising them of the contact and signposting."
                    if officer
                    else "Asking them to make contact within 3 working days; if they do not, the contact "
                    "comes back to you to review and re-apply the threshold.",
                    is_subtle=True,
                ),
                _notes(Input.LETTER_NOTES, "Notes (optional)", required=False),
            ],
            execute("Record the letter sent to the parents", WorkStep.PARENTS_UNREACHABLE),
        ),
    ]
    kinds = [k for k in OutcomeKind if not (officer and k is OutcomeKind.ACCEPTED)]
    finish = _show(
        "Record the outcome" if officer else "Make the recommendation",
        outcome_form(kinds, view.managers, recommendation=not officer, urgent=contact.urgent),
        execute(
            "Record the outcome and send for sign-off" if officer else "Recommend and send for sign-off",
            WorkStep.OUTCOME,
        ),
    )
    # Social workers only: an officer's route III work never needs a threshold decision sent back.
    back = [] if officer else [return_action(_data(reference, version))]
    return [ActionSet(actions=list(record)), ActionSet(actions=[finish, *back])]


def _outcome_elements(view: PersonalView) -> list[CardElement]:
    recorded = view.outcome
    contact = view.contact
    if recorded is None:
        return []
    outcome = recorded.outcome
    facts = [
        Fact(title="Outcome", value=outcome.title),
        Fact(
            title="Recorded", value=f"{format_local(recorded.at)} by {_who(view.names, recorded.decided_by)}"
        ),
    ]
    if outcome.service_consent is not None:
        facts.append(
            Fact(title="Consent for a service", value=outcome.service_consent.value.replace("_", " "))
        )
    if outcome.risk_of_harm:
        facts.append(Fact(title="Without consent: risk of harm", value=plain(outcome.risk_of_harm)))
    if outcome.accepted:
        facts.append(Fact(title="Receiving team", value=plain(outcome.receiving_team) or "not named"))
        facts.append(
            Fact(title="Strategy discussion", value="Needed" if outcome.strategy_discussion else "Not needed")
        )
        if outcome.receiving_manager_id:
            facts.append(
                Fact(title="Receiving team manager", value=_who(view.names, outcome.receiving_manager_id))
            )
    elements: list[CardElement] = [
        _heading("Outcome"),
        FactSet(facts=facts),
        _text(plain(outcome.rationale), spacing="None"),
    ]
    if contact.state is ContactState.AWAITING_SIGNOFF:
        elements.append(_text("Waiting for sign-off by a consultant or team manager.", is_subtle=True))
    return elements


def _letter_elements(view: PersonalView, reference: str, version: int) -> list[CardElement]:
    contact = view.contact
    if view.letter is not None:
        letter = view.letter
        if not letter.referrer_told:
            return [
                _heading("Outcome letter"),
                _text(
                    "The referrer is not a professional: members of the public and family members are "
                    "told at the time of the call that they will not hear the outcome, so there is no "
                    "letter.",
                ),
            ]
        elements: list[CardElement] = [
            _heading("Outcome letter to the referrer"),
            _text(
                f"Produced at {format_local(letter.produced_at)}. Send it as it is, quoting {reference}.",
                is_subtle=True,
            ),
            Container(style="emphasis", items=[_text(plain(letter.text or ""), font_type="Monospace")]),
        ]
        if letter.sent_at is not None:
            elements.append(
                _text(
                    f"Recorded as sent at {format_local(letter.sent_at)} by "
                    f"{_who(view.names, letter.sent_by)}.",
                    weight="Bolder",
                )
            )
        elif view.may_send_letter:
            elements.append(
                ActionSet(
                    actions=[
                        ExecuteAction(
                            title="Record the letter as sent",
                            verb=LETTER_SENT_VERB,
                            data=_data(reference, version),
                        )
                    ]
                )
            )
        return elements
    if contact.state is not ContactState.AWAITING_SIGNOFF or view.outcome is None:
        return []
    if view.draft_letter is None:
        return [
            _heading("Outcome letter"),
            _text(
                "The referrer is not a professional: members of the public and family members are told at "
                "the time of the call that they will not hear the outcome, so there will be no letter."
            ),
        ]
    return [
        _heading("Outcome letter to the referrer (draft)"),
        _text(
            "The letter is produced when the outcome is signed off, and then sent to you to send.",
            is_subtle=True,
        ),
        Container(style="emphasis", items=[_text(plain(view.draft_letter), font_type="Monospace")]),
    ]


def _history_elements(view: PersonalView) -> list[CardElement]:
    lines = history(view.contact)
    if not lines:
        return []
    elements: list[CardElement] = [_heading("What has happened")]
    for line in lines:
        elements.append(
            _text(
                f"{format_local(line.at)}: {line.title}, by {_who(view.names, line.actor_id)}.",
                spacing="Small",
            )
        )
        if line.text:
            elements.append(_text(plain(line.text), spacing="None", is_subtle=True))
    return elements


def work_card_action(reference: str, version: int) -> ExecuteAction:
    """ "Open the work card": the contact's personal card (below) in reply, for staff."""
    return ExecuteAction(
        title="Open the work card",
        verb=WORK_VERB,
        data=_data(reference, version, **{STEP_KEY: WorkStep.REFRESH.value}),
    )


def personal_card(view: PersonalView) -> dict[str, Any]:
    contact = view.contact
    reference = contact.reference or ""
    version = contact.version
    body: list[CardElement] = []
    if view.heading:
        body.append(_banner(view.heading, "accent"))
    if view.notice:
        body.append(_text(view.notice, color="Good" if view.notice_ok else "Attention", weight="Bolder"))
    body += [
        _text(reference, size="Large", weight="Bolder"),
        _text("For you only. Do not forward it or paste it into a channel.", is_subtle=True),
    ]
    if contact.urgent:
        body.append(_banner("Urgent: immediate risk", "attention"))
    if contact.state is ContactState.SW_ASSESSMENT and is_rereferral(contact):
        body.append(
            _text(
                "Re-referral: recommend no further involvement or progress to referral for single assessment "
                "within 48 hours of the reassignment."
            )
        )
    facts = [
        Fact(title="State", value=STATE_TITLES[contact.state]),
        Fact(title="With", value=_who(view.names, contact.assignee_id)) if contact.assignee_id else None,
        *_clock_facts(view),
    ]
    body.append(FactSet(facts=[fact for fact in facts if fact is not None]))
    if view.parent_letter is not None:
        line, style = _letter_lines(view.parent_letter, view.now)
        body.append(_banner(line, style))
    if view.casework:
        body += _casework_actions(view, reference, version)
    body += _outcome_elements(view)
    body += _letter_elements(view, reference, version)
    if view.challenge is not None:
        elements, actions = challenge_parts(view.challenge, view.names)
        if elements or actions:
            body.append(_heading("Challenge by the receiving team"))
            body += elements
            if actions:
                body.append(ActionSet(actions=list(actions)))
    if view.referrer is not None:
        body += _referrer_parts(view.referrer, view.names)
    body += _history_elements(view)
    today: date = view.now.astimezone(LONDON).date()
    body += contact_details(contact, view.names, today)
    refresh = ExecuteAction(
        title="Refresh", verb=WORK_VERB, data=_data(reference, version, **{STEP_KEY: WorkStep.REFRESH.value})
    )
    card_actions: list[Action] = [refresh]
    if view.may_open_mash:
        card_actions.append(mash_start_action(reference))
    return to_dict(AdaptiveCard(body=body, actions=card_actions, fallback_text=f"Contact {reference}"))
