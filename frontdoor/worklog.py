"""What the personal work cards and the record show about a contact's history (SPEC §2-3): every
decision and piece of casework in our own words, the letter to the parents and where its 3-working-
day wait stands (waiting, answered, lapsed and back with the worker), and the outcome letter to the
referrer (produced, sent, or not told).

These are read from the contact's events and its open deadlines only; nothing here changes a contact.
A ``HistoryLine``'s ``text`` is what a person typed (a rationale, notes): it belongs on the
contact's own view (the record, the assignee's card) and never on a channel card or in a log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from frontdoor.casework import CaseworkAction, ChallengeResult
from frontdoor.contact import Consent, Contact, ContactEvent, ContactState
from frontdoor.decisions import ROUTE_ACTIONS, ROUTE_TITLES
from frontdoor.edt import OVERNIGHT_ACTION
from frontdoor.lifecycle import Action
from frontdoor.outcomes import AGENCY_TITLES, OUTCOME_TITLES, Agency, OutcomeKind, read_event_data
from frontdoor.records import ClockKind, Deadline, DeadlineState

__all__ = [
    "CONSENT_WORDS",
    "EVENT_WORDS",
    "HistoryLine",
    "OutcomeLetter",
    "ParentLetter",
    "ParentLetterStatus",
    "event_words",
    "history",
    "is_rereferral",
    "outcome_letter_status",
    "parent_letter",
]

CONSENT_WORDS: Mapping[Consent, str] = MappingProxyType(
    {
        Consent.GIVEN: "given",
        Consent.REFUSED: "refused",
        Consent.NOT_SOUGHT: "not sought (seeking it would place the child at risk)",
    }
)

#: The one telling of what each event on a contact was, in our own words: the contact's history
#: (``history``) and the decision card's status lines (``bot.dialogs.decision_status``) both read it.
EVENT_WORDS: Mapping[str, str] = MappingProxyType(
    {
        Action.SUBMIT.value: "Submitted for screening",
        Action.OPEN_CASE.value: "Passed to the allocated worker (open case)",
        Action.REFER_REREFERRAL.value: "Sent to the duty manager as a re-referral",
        Action.CANCEL.value: "Cancelled",
        OVERNIGHT_ACTION: "Emergency duty team: overnight action",
        **{ROUTE_ACTIONS[route].value: f"Decided: route {title}" for route, title in ROUTE_TITLES.items()},
        Action.CP_THRESHOLD_MET.value: "Decided: child-protection threshold met",
        Action.REASSIGN.value: "Re-referral: reassigned to a social worker to recommend",
        Action.ACCEPT_REFERRAL.value: "Child-protection decision: progress to referral",
        Action.RECORD_OUTCOME.value: "Outcome recorded",
        Action.RECOMMEND.value: "Recommendation",
        Action.RETURN_FOR_SCREENING.value: "Returned by the social worker for a threshold decision",
        Action.SIGN_OFF.value: "Signed off and closed",
        Action.REFUSE_SIGN_OFF.value: "Sent back from sign-off for a fresh decision",
        CaseworkAction.REFERRER_CONTACTED.value: "Contact with the referrer",
        CaseworkAction.PARENTS_CONTACTED.value: "Contact with the parents",
        CaseworkAction.OFFICER_WORK.value: "Further work",
        CaseworkAction.CONSENT.value: "Consent to enquiries",
        CaseworkAction.PARENT_LETTER_SENT.value: "Parents not reached: letter to the parents sent",
        CaseworkAction.PARENT_LETTER_LAPSED.value: (
            "No reply to the letter to the parents: back with the worker to review and re-apply the threshold"
        ),
        CaseworkAction.OUTCOME_LETTER_PRODUCED.value: "Outcome letter to the referrer produced",
        CaseworkAction.REFERRER_NOT_TOLD.value: (
            "No outcome letter: only professional referrers are told the outcome"
        ),
        CaseworkAction.OUTCOME_LETTER_SENT.value: "Outcome letter sent to the referrer",
        CaseworkAction.CHALLENGE_RAISED.value: "Threshold challenged by the receiving team",
        CaseworkAction.CHALLENGE_DISCUSSED.value: "Challenge discussed",
        CaseworkAction.CHALLENGE_ESCALATED.value: "Not agreed: escalated to the service manager",
        CaseworkAction.CHALLENGE_RESOLVED.value: "Challenge resolved",
        CaseworkAction.REFERRER_CHALLENGE_RAISED.value: "Challenged by the referrer",
        CaseworkAction.REFERRER_CHALLENGE_STEP.value: "Referrer's challenge",
        "personal_data_removed": "Personal data removed (retention)",
    }
)

_RECOMMENDATION_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "no_further_involvement": "no further involvement",
        "progress_to_referral": "progress to referral for single assessment",
    }
)


_STAGE_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "discussion": "discussed with the referrer",
        "team_manager": "team manager",
        "service_manager": "service manager",
    }
)


@dataclass(frozen=True, slots=True)
class HistoryLine:
    at: datetime
    actor_id: str
    #: what happened, in our own words (with the outcome, consent or result when the event has one)
    title: str
    #: what the person typed with it (rationale or notes); "" if nothing
    text: str = ""


def _outcome_words(data: Mapping[str, object]) -> str:
    kind, agency = data.get("outcome"), data.get("agency")
    if not isinstance(kind, str) or kind not in OutcomeKind.__members__.values():
        return ""
    words = OUTCOME_TITLES[OutcomeKind(kind)]
    if isinstance(agency, str) and agency in Agency.__members__.values():
        words += f": {AGENCY_TITLES[Agency(agency)]}"
    if kind == OutcomeKind.ACCEPTED.value:
        team = data.get("receiving_team")
        if isinstance(team, str) and team:
            words += f", by {team}"
        words += (
            "; strategy discussion needed"
            if data.get("strategy_discussion") is True
            else "; no strategy discussion"
        )
    return words


def event_words(action: str) -> str:
    """What an event with ``action`` was, in our own words (``EVENT_WORDS``)."""
    return EVENT_WORDS.get(action, action.replace("_", " ").capitalize())


def _title(event: ContactEvent) -> str:
    title = event_words(event.action)
    data = read_event_data(event)
    extra: list[str] = []
    result = data.get("result")
    if isinstance(result, str) and result in ChallengeResult.__members__.values():
        extra.append(
            "upheld: the threshold decision stands"
            if result == ChallengeResult.UPHELD.value
            else "overturned: the outcome is revised"
        )
    recommendation = data.get("recommendation")
    if isinstance(recommendation, str) and recommendation in _RECOMMENDATION_WORDS:
        extra.append(_RECOMMENDATION_WORDS[recommendation])
    if outcome := _outcome_words(data):
        extra.append(outcome)
    consent = data.get("consent")
    if isinstance(consent, str) and consent in Consent.__members__.values():
        extra.append(CONSENT_WORDS[Consent(consent)])
    stage = data.get("stage")
    if isinstance(stage, str) and stage in _STAGE_WORDS:
        lead = data.get("agency_lead")
        with_lead = f" with the agency's lead {lead}" if isinstance(lead, str) and lead else ""
        remains = "the challenge remains" if result == "remains" else "resolved"
        extra.append(f"{_STAGE_WORDS[stage]}{with_lead}: {remains}")
    return f"{title}: {'; '.join(extra)}" if extra else title


def history(contact: Contact) -> tuple[HistoryLine, ...]:
    """Every event on the contact after its draft, oldest first, in our own words."""
    return tuple(
        HistoryLine(event.at, event.actor_id, _title(event), event.rationale)
        for event in contact.events
        if event.from_state is not ContactState.DRAFT or event.to_state is not None
    )


def is_rereferral(contact: Contact) -> bool:
    """The contact came to a social worker as a re-referral (the duty manager reassigned it)."""
    return any(event.action == Action.REASSIGN.value for event in contact.events)


# -- the letter to the parents --------------------------------------------------------------------


class ParentLetterStatus(StrEnum):
    #: waiting for the parents to get in touch; the 3-working-day clock is running
    WAITING = "waiting"
    #: the parents got in touch after the letter
    ANSWERED = "answered"
    #: no reply in time: the contact is back with its worker to review and re-apply the threshold
    LAPSED = "lapsed"
    #: sent, with nothing to wait for (route III's letter advises and signposts)
    SENT = "sent"


@dataclass(frozen=True, slots=True)
class ParentLetter:
    sent_at: datetime
    sent_by: str
    status: ParentLetterStatus
    #: WAITING: when the wait lapses
    lapses_at: datetime | None = None
    #: LAPSED: when it lapsed
    lapsed_at: datetime | None = None
    #: LAPSED, still with the worker: when their review is due
    review_due: datetime | None = None


def _open(deadlines: Iterable[Deadline], clock: ClockKind) -> Deadline | None:
    found = [d for d in deadlines if d.clock is clock and d.state is DeadlineState.OPEN]
    return min(found, key=lambda d: d.due_at) if found else None


def parent_letter(contact: Contact, deadlines: Iterable[Deadline]) -> ParentLetter | None:
    """The latest letter to the parents and where its wait stands; None if no letter was sent."""
    deadlines = tuple(deadlines)
    index = next(
        (
            i
            for i in range(len(contact.events) - 1, -1, -1)
            if contact.events[i].action == CaseworkAction.PARENT_LETTER_SENT.value
        ),
        None,
    )
    if index is None:
        return None
    sent = contact.events[index]
    later = contact.events[index + 1 :]
    lapsed = next((e for e in later if e.action == CaseworkAction.PARENT_LETTER_LAPSED.value), None)
    if lapsed is not None:
        review = (
            _open(deadlines, ClockKind.LETTER_REVIEW) if contact.state is ContactState.SW_ASSESSMENT else None
        )
        return ParentLetter(
            sent.at,
            sent.actor_id,
            ParentLetterStatus.LAPSED,
            lapsed_at=lapsed.at,
            review_due=review.due_at if review is not None else None,
        )
    if any(e.action == CaseworkAction.PARENTS_CONTACTED.value for e in later):
        return ParentLetter(sent.at, sent.actor_id, ParentLetterStatus.ANSWERED)
    waiting = _open(deadlines, ClockKind.PARENT_LETTER)
    if waiting is not None:
        return ParentLetter(sent.at, sent.actor_id, ParentLetterStatus.WAITING, lapses_at=waiting.due_at)
    return ParentLetter(sent.at, sent.actor_id, ParentLetterStatus.SENT)


# -- the outcome letter to the referrer -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutcomeLetter:
    produced_at: datetime
    produced_by: str
    #: the letter; None when the referrer is not told (an anonymous member of the public)
    text: str | None
    sent_at: datetime | None = None
    sent_by: str | None = None

    @property
    def referrer_told(self) -> bool:
        return self.text is not None


def outcome_letter_status(contact: Contact) -> OutcomeLetter | None:
    """The latest outcome letter (or "not told") produced for the contact, and whether it was sent."""
    produced: OutcomeLetter | None = None
    for event in contact.events:
        if event.action == CaseworkAction.OUTCOME_LETTER_PRODUCED.value:
            letter = read_event_data(event).get("letter")
            produced = OutcomeLetter(event.at, event.actor_id, letter if isinstance(letter, str) else "")
        elif event.action == CaseworkAction.REFERRER_NOT_TOLD.value:
            produced = OutcomeLetter(event.at, event.actor_id, None)
        elif event.action == CaseworkAction.OUTCOME_LETTER_SENT.value and produced is not None:
            produced = OutcomeLetter(
                produced.produced_at, produced.produced_by, produced.text, event.at, event.actor_id
            )
    return produced
