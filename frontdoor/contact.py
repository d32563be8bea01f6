"""The contact record of SPEC §2: what the front door holds about one call or e-mail.

Values are frozen dataclasses; a change makes a new value (``dataclasses.replace``). The
lifecycle rules that move a contact between states live in ``frontdoor.lifecycle``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class ContactState(StrEnum):
    DRAFT = "draft"
    AWAITING_SCREENING = "awaiting_screening"
    CP_DECISION = "cp_decision"
    REFERRAL_ACCEPTED = "referral_accepted"
    OFFICER_WORK = "officer_work"
    SW_ASSESSMENT = "sw_assessment"
    DUTY_MANAGER_REVIEW = "duty_manager_review"
    AWAITING_SIGNOFF = "awaiting_signoff"
    PASSED_ON = "passed_on"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Source(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    POLICE_FORM = "police_form"
    NSPCC = "nspcc"
    CAFCASS = "cafcass"
    AMBULANCE = "ambulance"
    TRANSFER_IN = "transfer_in"
    MEMBER_OF_PUBLIC = "member_of_public"
    OTHER = "other"


class ContactType(StrEnum):
    ADVICE = "advice"
    INFORMATION_REQUEST = "information_request"
    REFERRAL = "referral"
    OPEN_CASE_INFORMATION = "open_case_information"
    TRANSFER_IN = "transfer_in"


class ReferrerType(StrEnum):
    PROFESSIONAL = "professional"
    MEMBER_OF_PUBLIC = "member_of_public"
    FAMILY_MEMBER = "family_member"
    CHILD = "child"


class Consent(StrEnum):
    GIVEN = "given"
    REFUSED = "refused"
    NOT_SOUGHT = "not_sought"


class PresentingNeed(StrEnum):
    NEGLECT = "neglect"
    PHYSICAL_HARM = "physical_harm"
    SEXUAL_HARM = "sexual_harm"
    EMOTIONAL_HARM = "emotional_harm"
    DOMESTIC_ABUSE = "domestic_abuse"
    PARENTAL_MENTAL_HEALTH = "parental_mental_health"
    PARENTAL_SUBSTANCE_MISUSE = "parental_substance_misuse"
    CHILD_EXPLOITATION = "child_exploitation"
    CHILD_MENTAL_HEALTH = "child_mental_health"
    DISABILITY = "disability"
    HOMELESSNESS = "homelessness"
    PRIVATE_FOSTERING = "private_fostering"
    UNACCOMPANIED_ASYLUM_SEEKER = "unaccompanied_asylum_seeker"
    OTHER = "other"


class ImmediateRisk(StrEnum):
    """The questions of the immediate-risk screen; any yes makes a contact urgent."""

    INJURY = "injury"
    DISCLOSURE = "disclosure"
    UNSAFE_ADULT = "unsafe_adult"
    PERSON_POSING_RISK = "person_posing_risk"
    POLICE_PROTECTION_OR_MEDICAL = "police_protection_or_medical"


@dataclass(frozen=True, slots=True)
class Referrer:
    type: ReferrerType
    name: str = ""
    agency: str = ""
    role: str = ""
    phone: str = ""
    email: str = ""
    anonymity_requested: bool = False


@dataclass(frozen=True, slots=True)
class Child:
    name: str
    date_of_birth: date | None = None
    expected_date: date | None = None
    gender: str = ""
    address: str = ""
    school: str = ""


@dataclass(frozen=True, slots=True)
class Parent:
    name: str
    relationship: str = ""
    address: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class HistoryChecks:
    open_case: bool = False
    allocated_worker_id: str | None = None
    closed_within_3_months: bool = False
    last_worker_id: str | None = None
    systems_checked: tuple[str, ...] = ()
    chronology: str = ""


@dataclass(frozen=True, slots=True)
class ContactSummary:
    """A submitted contact's reference, state, received time and assignee, read without the rest
    of the record (for the handover, which lists thousands)."""

    reference: str
    state: ContactState
    received_at: datetime
    assignee_id: str | None = None


@dataclass(frozen=True, slots=True)
class ContactEvent:
    """One entry in a contact's history: a decision or a change, with who, when and why.

    An entry that records work without moving the contact (a note, a letter, a challenge) has
    ``to_state`` None. ``data`` holds the decision's particulars (outcome, receiving team, agency,
    consent, letter text…) as a JSON object written and read by ``frontdoor.decisions`` only.
    """

    at: datetime
    actor_id: str
    action: str
    from_state: ContactState | None
    to_state: ContactState | None
    rationale: str = ""
    data: str = ""


@dataclass(frozen=True, slots=True)
class Contact:
    id: str
    created_by: str
    created_at: datetime
    state: ContactState = ContactState.DRAFT
    version: int = 0
    reference: str | None = None
    received_at: datetime | None = None
    source: Source | None = None
    contact_type: ContactType | None = None
    referrer: Referrer | None = None
    children: tuple[Child, ...] = ()
    parents: tuple[Parent, ...] = ()
    consent: Consent | None = None
    consent_reason: str = ""
    worries: str = ""
    working_well: str = ""
    needs_to_happen: str = ""
    presenting_needs: frozenset[PresentingNeed] = field(default_factory=frozenset)
    immediate_risks: frozenset[ImmediateRisk] = field(default_factory=frozenset)
    history: HistoryChecks = field(default_factory=HistoryChecks)
    assignee_id: str | None = None
    #: the section of the contact script the draft is on (see ``frontdoor.script``)
    draft_section: str = ""
    events: tuple[ContactEvent, ...] = ()

    @property
    def urgent(self) -> bool:
        return bool(self.immediate_risks)
