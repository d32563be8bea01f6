"""Multi-agency records of SPEC §9 and the port that stores them: the agency each ``partner`` works
for, and MASH episodes with one information request per partner agency.

A MASH episode (``MA-YY-NNNNN``) is opened by a consultant on a contact, for the "MASH required"
reasons of the Durham procedure. Each partner agency chosen gets an ``InformationRequest`` due by
the policy's time for the episode's urgency. A request shares only what a partner needs to search
their own systems: the episode's reference, the question and each child's name and date of birth
(``SharedChild``). Never the contact, the referrer, the worries nor another agency's answer.

The use cases are in ``frontdoor.mash``; this module holds the values and the port only, so the
unit of work can gather the port without importing the use cases back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol


class Agency(StrEnum):
    """The MASH partner agencies of SPEC §1."""

    POLICE = "police"
    HEALTH = "health"
    EDUCATION = "education"
    DOMESTIC_ABUSE_SERVICE = "domestic_abuse_service"
    PROBATION = "probation"


PARTNER_TITLES: dict[Agency, str] = {
    Agency.POLICE: "Police",
    Agency.HEALTH: "Health",
    Agency.EDUCATION: "Education",
    Agency.DOMESTIC_ABUSE_SERVICE: "Domestic abuse service",
    Agency.PROBATION: "Probation",
}


def parse_agency(text: str) -> Agency:
    """An agency key as typed by an administrator; ``ValueError`` naming the valid keys."""
    key = text.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return Agency(key)
    except ValueError:
        valid = ", ".join(a.value for a in Agency)
        raise ValueError(f"unknown agency {text!r}; valid agencies: {valid}") from None


class MashReason(StrEnum):
    """ "When MASH is required" in the Durham procedure: the consultant's checklist."""

    RISK_OF_HARM = "risk_of_harm"
    REPEATED_LOW_LEVEL = "repeated_low_level"
    NEGLECT_UNMET_NEEDS = "neglect_unmet_needs"
    NOT_BROUGHT_TO_APPOINTMENTS = "not_brought_to_appointments"
    PARENTAL_MH_SUBSTANCE = "parental_mh_substance"
    SEXUALLY_HARMFUL_BEHAVIOUR = "sexually_harmful_behaviour"
    EMOTIONAL_TRAUMA = "emotional_trauma"


MASH_REASON_TITLES: dict[MashReason, str] = {
    MashReason.RISK_OF_HARM: "Referral and enquiries suggest the child may be at risk of harm",
    MashReason.REPEATED_LOW_LEVEL: "Multiple low-level referrals with similar worrying factors",
    MashReason.NEGLECT_UNMET_NEEDS: "Evidence of neglect and a pattern of unmet needs",
    MashReason.NOT_BROUGHT_TO_APPOINTMENTS: "Not brought to medical appointments consistently",
    MashReason.PARENTAL_MH_SUBSTANCE: "Parental mental health, alcohol or drug misuse affecting parenting",
    MashReason.SEXUALLY_HARMFUL_BEHAVIOUR: "Sexually harmful behaviours towards others",
    MashReason.EMOTIONAL_TRAUMA: "Emotional trauma or behaviour suggesting abuse",
}


class Urgency(StrEnum):
    URGENT = "urgent"
    STANDARD = "standard"


class MashDecision(StrEnum):
    """The multi-agency decision that closes an episode (the procedure's outcomes)."""

    STATUTORY_ASSESSMENT = "statutory_assessment"
    ADVICE_SIGNPOSTING = "advice_signposting"
    OTHER_AGENCY = "other_agency"
    NO_FURTHER_ACTION = "no_further_action"


MASH_DECISION_TITLES: dict[MashDecision, str] = {
    MashDecision.STATUTORY_ASSESSMENT: "Accepted: progress to a statutory team for assessment",
    MashDecision.ADVICE_SIGNPOSTING: "Advice, guidance or signposting to the family",
    MashDecision.OTHER_AGENCY: "Referral to another agency",
    MashDecision.NO_FURTHER_ACTION: "No further action",
}


class AnswerChannel(StrEnum):
    #: the partner answered on the request card
    CARD = "card"
    #: front-door staff recorded an answer given by phone
    PHONE = "phone"


@dataclass(frozen=True, slots=True)
class SharedChild:
    """What a request shares about a child: enough for a partner to find them in their own systems
    (a police check needs the name and date of birth), nothing more."""

    name: str
    date_of_birth: date | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    text: str
    #: the partner who answered on the card, or the member of staff who took the call
    by: str
    at: datetime
    channel: AnswerChannel
    #: for a phone answer: who gave it (name and role as staff typed them)
    given_by: str = ""


@dataclass(frozen=True, slots=True)
class InformationRequest:
    episode_reference: str
    agency: Agency
    due_at: datetime
    answer: Answer | None = None

    @property
    def subject(self) -> str:
        """The deadline and alert subject of this request."""
        return request_subject(self.episode_reference, self.agency)

    @property
    def answered(self) -> bool:
        return self.answer is not None


def request_subject(episode_reference: str, agency: Agency) -> str:
    return f"{episode_reference}:{agency.value}"


def agency_of_subject(subject: str) -> Agency | None:
    """The agency a request's subject names; None for any other subject."""
    _, sep, tail = subject.partition(":")
    if not sep or not subject.startswith("MA-"):
        return None
    try:
        return Agency(tail)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Closure:
    decision: MashDecision
    rationale: str
    participants: tuple[Agency, ...]
    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class MashEpisode:
    reference: str
    contact_reference: str
    opened_by: str
    opened_at: datetime
    urgency: Urgency
    reasons: tuple[MashReason, ...]
    question: str
    children: tuple[SharedChild, ...]
    requests: tuple[InformationRequest, ...]
    closure: Closure | None = None
    #: the card the episode was opened from: a second press of it opens nothing
    form_id: str | None = None

    def request_for(self, agency: Agency) -> InformationRequest | None:
        return next((r for r in self.requests if r.agency is agency), None)

    def with_request(self, request: InformationRequest) -> MashEpisode:
        return replace(
            self, requests=tuple(request if r.agency is request.agency else r for r in self.requests)
        )

    @property
    def closed(self) -> bool:
        return self.closure is not None


class MashRepository(Protocol):
    """Partner agencies of the directory, and MASH episodes with their requests."""

    async def set_agency(self, person_id: str, agency: Agency | None) -> None:
        """Tie a partner to their agency (None: untie)."""
        ...

    async def agency_of(self, person_id: str) -> Agency | None: ...

    async def partners(self) -> list[tuple[str, Agency]]:
        """Every (person, agency) pair, by person."""
        ...

    async def add(self, episode: MashEpisode) -> None: ...

    async def get(self, reference: str) -> MashEpisode | None: ...

    async def answer(self, reference: str, agency: Agency, answer: Answer) -> bool:
        """Record ``agency``'s answer on episode ``reference`` if its request is unanswered and the
        episode open; False if it was answered or the episode closed meanwhile. Only that request's
        answer is written: two agencies answering at once both keep their answers; an answer and
        the episode's closure at the same moment are recorded one after the other."""
        ...

    async def close(self, reference: str, closure: Closure) -> bool:
        """Record the episode's closure if it is still open; False if it was closed meanwhile. Its
        requests' rows are not written: an answer given at the same moment is kept."""
        ...

    async def of_contact(self, contact_reference: str) -> list[MashEpisode]: ...

    async def delete_closed_before(self, cutoff: datetime) -> list[str]:
        """Delete the episodes closed before ``cutoff`` with their requests; their references."""
        ...


# -- the daily domestic-abuse triage ----------------------------------------------------------------


class TriageOutcome(StrEnum):
    """SPEC §9's outcomes (a)-(f) of a police domestic-abuse incident at the daily triage."""

    POLICE_ONLY = "a"
    FURTHER_ENQUIRIES = "b"
    STATUTORY = "c"
    OTHER_AUTHORITY = "d"
    HEALTH_VISITOR = "e"
    DA_SERVICE = "f"


TRIAGE_OUTCOME_TITLES: dict[TriageOutcome, str] = {
    TriageOutcome.POLICE_ONLY: "(a) Kept on police systems only",
    TriageOutcome.FURTHER_ENQUIRIES: "(b) Shared with children's services for further enquiries: a contact",
    TriageOutcome.STATUTORY: "(c) Threshold met for a statutory team (strategy discussion): urgent contact",
    TriageOutcome.OTHER_AUTHORITY: "(d) Shared with another authority",
    TriageOutcome.HEALTH_VISITOR: "(e) Health visitor role",
    TriageOutcome.DA_SERVICE: "(f) Referral to the domestic abuse service",
}

#: The outcomes that become a contact, and those that record who was told.
CONTACT_OUTCOMES = frozenset({TriageOutcome.FURTHER_ENQUIRIES, TriageOutcome.STATUTORY})
TOLD_OUTCOMES = frozenset({TriageOutcome.HEALTH_VISITOR, TriageOutcome.DA_SERVICE})


@dataclass(frozen=True, slots=True)
class TriageDecision:
    outcome: TriageOutcome
    by: str
    at: datetime
    #: (b) and (c): the contact it became
    contact_reference: str = ""
    #: (d): the authority it was shared with
    other_authority: str = ""
    #: (e) and (f): who was told (name and role or service)
    told: str = ""


@dataclass(frozen=True, slots=True)
class TriageIncident:
    """A police incident on a day's triage list: a police reference, never a name, until (b)/(c)."""

    id: str
    day: date
    police_reference: str
    occurred_on: date
    summary: str
    recorded_by: str
    recorded_at: datetime
    decision: TriageDecision | None = None


class TriageRepository(Protocol):
    async def add(self, incident: TriageIncident) -> None: ...

    async def get(self, incident_id: str) -> TriageIncident | None: ...

    async def on(self, day: date) -> list[TriageIncident]:
        """The incidents of ``day``'s meeting, in the order they were recorded."""
        ...

    async def decide(self, incident_id: str, decision: TriageDecision) -> bool:
        """Record the outcome if the incident has none yet; False if it had one already."""
        ...

    async def name_contact(self, incident_id: str, contact_reference: str) -> None:
        """Record the contact the incident's outcome made, once this unit of work has recorded it."""
        ...

    async def delete_recorded_before(self, cutoff: datetime) -> list[str]:
        """Delete the incidents recorded before ``cutoff``; their police references."""
        ...


# -- information requests from other bodies (CAFCASS, Ofsted) ----------------------------------------


class RequestingBody(StrEnum):
    CAFCASS = "cafcass"
    OFSTED_CHILDMINDER = "ofsted_childminder"
    OFSTED_FOSTER_CARER = "ofsted_foster_carer"


REQUESTING_BODY_TITLES: dict[RequestingBody, str] = {
    RequestingBody.CAFCASS: "CAFCASS safeguarding request",
    RequestingBody.OFSTED_CHILDMINDER: "Ofsted check: childminder applicant",
    RequestingBody.OFSTED_FOSTER_CARER: "Ofsted check: foster-carer applicant",
}


@dataclass(frozen=True, slots=True)
class Response:
    text: str
    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class BodyRequest:
    """A CAFCASS safeguarding request or an Ofsted check (``IR-YY-NNNNN``): answered by its due date,
    no threshold route."""

    reference: str
    body: RequestingBody
    body_reference: str
    subject_name: str
    subject_date_of_birth: date | None
    subject_address: str
    due_at: datetime
    logged_by: str
    logged_at: datetime
    response: Response | None = None
    #: the card it was logged from: a second press of it logs nothing
    form_id: str | None = None


class BodyRequestRepository(Protocol):
    async def add(self, request: BodyRequest) -> None: ...

    async def get(self, reference: str) -> BodyRequest | None: ...

    async def from_form(self, form_id: str) -> BodyRequest | None:
        """The request logged from the card ``form_id``, if any."""
        ...

    async def respond(self, reference: str, response: Response) -> bool:
        """Record the response if there is none yet; False otherwise."""
        ...

    async def delete_responded_before(self, cutoff: datetime) -> list[str]: ...


# -- MARAC cases and MAPPA invitations ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MaracRequest:
    """An information request to the team a linked child is open to, due back before the meeting."""

    id: str
    case_id: str
    child_name: str
    child_date_of_birth: date | None
    team: str
    #: the child's allocated worker in the directory, who is asked and chased
    worker_id: str
    due_at: datetime
    answer: Response | None = None
    #: the card the child was linked from: a second press of it sends nothing
    form_id: str | None = None

    @property
    def subject(self) -> str:
        """The deadline and alert subject: no name, only the request's id."""
        return f"marac-request:{self.id}"


@dataclass(frozen=True, slots=True)
class MaracAction:
    """An action the MARAC meeting agreed on a case: what, who (an agency or a team) and by when."""

    id: str
    case_id: str
    what: str
    #: the agency or team that is to do it (free text: MARAC members are not all in the directory)
    owner: str
    due_on: date
    recorded_by: str
    recorded_at: datetime
    #: the card it was recorded from: a second press of it records nothing
    form_id: str | None = None


@dataclass(frozen=True, slots=True)
class MaracCase:
    id: str
    meeting_day: date
    case_reference: str
    recorded_by: str
    recorded_at: datetime
    requests: tuple[MaracRequest, ...] = ()
    #: in the order they were recorded
    actions: tuple[MaracAction, ...] = ()


@dataclass(frozen=True, slots=True)
class MappaInvitation:
    id: str
    mappa_reference: str
    meeting_day: date
    #: the team it was forwarded to; empty when no child is identified (it went to the front door)
    team: str
    worker_id: str | None
    logged_by: str
    logged_at: datetime

    @property
    def to_front_door(self) -> bool:
        return not self.team


class MaracRepository(Protocol):
    async def add_case(self, case: MaracCase) -> None: ...

    async def cases_on(self, day: date) -> list[MaracCase]:
        """The cases of ``day``'s meeting with their requests, in the order they were recorded."""
        ...

    async def get_case(self, case_id: str) -> MaracCase | None: ...

    async def add_request(self, request: MaracRequest) -> bool:
        """Add the request unless one from the same card (``form_id``) exists: False then, and
        nothing is added (two presses at once add one)."""
        ...

    async def get_request(self, request_id: str) -> MaracRequest | None: ...

    async def add_action(self, action: MaracAction) -> bool:
        """Add the action unless one from the same card (``form_id``) exists: False then, and
        nothing is added."""
        ...

    async def answer(self, request_id: str, answer: Response) -> bool:
        """Record the answer if there is none yet; False otherwise."""
        ...

    async def add_invitation(self, invitation: MappaInvitation) -> None: ...

    async def invitations_since(self, moment: datetime) -> list[MappaInvitation]: ...

    async def delete_before(self, day: date) -> list[str]:
        """Delete the cases (with their requests and actions) of meetings and the invitations
        before ``day``; their references."""
        ...
