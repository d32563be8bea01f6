"""What the casework use cases record and return: the audit actions, the kinds of note and
recommendation, and the results of each use case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from frontdoor.contact import Contact
from frontdoor.outcomes import Outcome
from frontdoor.records import Deadline

#: Who the scheduler's lapse of a parent letter is recorded as.
PARENT_LETTER_ACTOR = "system:parent-letter"


class CaseworkAction(StrEnum):
    """Events that record work without moving the contact (their ``to_state`` is None)."""

    REFERRER_CONTACTED = "referrer_contacted"
    PARENTS_CONTACTED = "parents_contacted"
    OFFICER_WORK = "officer_work_recorded"
    CONSENT = "consent_recorded"
    PARENT_LETTER_SENT = "parent_letter_sent"
    PARENT_LETTER_LAPSED = "parent_letter_lapsed"
    OUTCOME_LETTER_PRODUCED = "outcome_letter_produced"
    REFERRER_NOT_TOLD = "referrer_not_told"
    OUTCOME_LETTER_SENT = "outcome_letter_sent"
    CHALLENGE_RAISED = "challenge_raised"
    CHALLENGE_DISCUSSED = "challenge_discussed"
    CHALLENGE_ESCALATED = "challenge_escalated"
    CHALLENGE_RESOLVED = "challenge_resolved"
    REFERRER_CHALLENGE_RAISED = "referrer_challenge_raised"
    REFERRER_CHALLENGE_STEP = "referrer_challenge_step"


class WorkKind(StrEnum):
    """What a worker's or officer's note records."""

    REFERRER_CONTACT = CaseworkAction.REFERRER_CONTACTED.value
    PARENT_CONTACT = CaseworkAction.PARENTS_CONTACTED.value
    #: route III: the further or low-level work itself (officers only)
    OFFICER_WORK = CaseworkAction.OFFICER_WORK.value


class Recommendation(StrEnum):
    """A social worker's recommendation (SPEC §3), read from the outcome they record with it."""

    NO_FURTHER_INVOLVEMENT = "no_further_involvement"
    PROGRESS_TO_REFERRAL = "progress_to_referral"

    @classmethod
    def of(cls, outcome: Outcome) -> Recommendation:
        return cls.PROGRESS_TO_REFERRAL if outcome.accepted else cls.NO_FURTHER_INVOLVEMENT


class ChallengeResult(StrEnum):
    #: the front door's threshold decision stands
    UPHELD = "upheld"
    #: the threshold decision is replaced by a revised outcome
    OVERTURNED = "overturned"


# -- results --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseworkRecorded:
    contact: Contact
    action: str
    #: the contact's open deadlines afterwards
    deadlines: tuple[Deadline, ...]


@dataclass(frozen=True, slots=True)
class ParentLetterSent:
    contact: Contact
    #: when the letter lapses (route IV and re-referrals); None for route III, which has no lapse
    lapses_at: datetime | None


@dataclass(frozen=True, slots=True)
class LetterLapsed:
    contact: Contact
    #: the worker the contact is back with, to review and re-apply the threshold
    worker_id: str | None
    review_due: datetime


@dataclass(frozen=True, slots=True)
class OutcomeRecorded:
    contact: Contact
    outcome: Outcome
    decided_by: str
    #: set when a social worker recorded it (route IV, re-referrals)
    recommendation: Recommendation | None
    deadlines: tuple[Deadline, ...]


@dataclass(frozen=True, slots=True)
class SignedOff:
    contact: Contact
    outcome: Outcome
    #: who recorded the outcome that was signed off
    decided_by: str
    signed_off_by: str
    #: the outcome letter to the referrer, or None when the referrer is not told
    letter: str | None
    #: an accepted outcome: the signer ticked "immediate risk: highlight to the receiving team
    #: manager now" (SPEC §3); False otherwise
    highlight: bool = False

    @property
    def referrer_told(self) -> bool:
        return self.letter is not None


@dataclass(frozen=True, slots=True)
class ChallengeStatus:
    """The latest challenge on a contact, folded from its events."""

    raised_by: str
    raised_at: datetime
    discussions: int
    result: ChallengeResult | None = None
    resolved_by: str | None = None
    #: not agreed: passed to the service manager for the final decision
    escalated_by: str | None = None
    escalated_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.result is None

    @property
    def escalated(self) -> bool:
        return self.escalated_by is not None


@dataclass(frozen=True, slots=True)
class ChallengeRecorded:
    contact: Contact
    action: CaseworkAction
    status: ChallengeStatus
    #: a fresh outcome letter, when an overturned challenge changed a closed contact's outcome
    letter: str | None = None
