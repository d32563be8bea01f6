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
    TEMPORARY_EMERGENCY = "temporary_emergency"


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
    """What the officer found in the records (SPEC §5). ``closed_on`` is the date the child's last
    case closed: whether this contact is a re-referral is decided from it and the policy's window,
    never ticked by hand."""

    open_case: bool = False
    allocated_worker_id: str | None = None
    last_worker_id: str | None = None
    systems_checked: tuple[str, ...] = ()
    chronology: str = ""
    closed_on: date | None = None
    open_to_early_help: bool = False
    early_help_worker_id: str | None = None

    @property
    def recorded(self) -> bool:
        """Whether the checks have been done: at least one system checked. An urgent contact is
        created before they are, and shows them as outstanding until then."""
        return bool(self.systems_checked)


@dataclass(frozen=True, slots=True)
class EmergencyDetails:
    """Only what an emergency needs, taken before anything else on an urgent call (SPEC §3)."""

    #: the child's name, or a description when the caller does not know it
    child: str = ""
    #: where the child is now, or ``WHEREABOUTS_NOT_KNOWN``
    whereabouts: str = ""
    #: the referrer's phone, as typed (a UK number, or one abroad in international form), or
    #: ``PHONE_NOT_GIVEN``
    phone: str = ""


#: The emergency details' answers when the caller cannot give them (SPEC §3: an urgent call reaches
#: the consultant whatever is known): recorded, and read, as they are written.
WHEREABOUTS_NOT_KNOWN = "Not known"
PHONE_NOT_GIVEN = "Withheld or not given"


@dataclass(frozen=True, slots=True)
class ContactSummary:
    """A submitted contact's reference, state, received time and assignee, read without the rest
    of the record (for the handover, which lists thousands)."""

    reference: str
    state: ContactState
    received_at: datetime
    assignee_id: str | None = None
    #: an urgent contact whose history checks nobody has recorded yet (SPEC §3)
    history_outstanding: bool = False


@dataclass(frozen=True, slots=True)
class ChildOnContact:
    """A child named on a submitted contact, with that contact's id, reference and received time,
    read without the rest of the record (for the repeat-contact check at each submission)."""

    contact_id: str
    reference: str
    received_at: datetime
    name: str
    date_of_birth: date


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
    emergency: EmergencyDetails = field(default_factory=EmergencyDetails)
    assignee_id: str | None = None
    #: the section of the contact script the draft is on (see ``frontdoor.script``)
    draft_section: str = ""
    events: tuple[ContactEvent, ...] = ()

    @property
    def urgent(self) -> bool:
        return bool(self.immediate_risks)

    @property
    def completing(self) -> bool:
        """An urgent contact created at once, whose officer is still filling in the other cards."""
        return self.reference is not None and bool(self.draft_section)
