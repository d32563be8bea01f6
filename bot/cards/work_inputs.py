"""The vocabulary of the personal card about a contact (``bot.cards.work``) and of the parts the
decisions channel card shares with it: the card verbs and their steps, the input ids, the notes box of
each casework step, and the small element builders (text, headings, banners, show cards, notes boxes,
the agency choice, a person's name) that the outcome form, the challenge parts and the personal card
are built from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, Final

from microsoft_teams.cards import (
    AdaptiveCard,
    CardElement,
    ChoiceSetInput,
    Container,
    ContainerStyle,
    ExecuteAction,
    ShowCardAction,
    TextBlock,
    TextInput,
)
from microsoft_teams.cards import Choice as CardChoice

from bot.cards.details import plain
from bot.cards.keys import REFERENCE_KEY, VERSION_KEY
from frontdoor.outcomes import AGENCY_TITLES

__all__ = [
    "CHALLENGE_VERB",
    "LETTER_SENT_VERB",
    "NOTE_INPUTS",
    "OUTCOME_VERB",
    "REFERRER_CHALLENGE_VERB",
    "STEP_KEY",
    "WORK_VERB",
    "ChallengeStep",
    "Input",
    "OutcomeStep",
    "ReferrerChallengeStep",
    "WorkStep",
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
