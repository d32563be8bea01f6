"""The contact script of SPEC §5 as data: the sections in order, the fields of each, and the skip rules.

The Teams layer builds one Adaptive Card per section from these specs; ``frontdoor.validation``
parses what a card sends back against the same specs, so a field is checked on the card and on the
server by one definition. Field ids are the keys of the card's inputs. Repeated groups (children,
parents) suffix an index: ``child_0_name``, ``child_1_name``; "Add another child" asks for the
fields of one more index.

Immediate risk comes first (SPEC §3): the risk screen is the second card. Any yes leads to the
*emergency details* card (a child's name or description, where the child is now, the referrer's
phone), and saving it creates the urgent contact at once (``frontdoor.intake``); the officer then
carries on with the remaining cards on the same contact. With every answer no, the emergency card is
skipped. Everything else is asked every time, so an officer always sees the same script. Once an
urgent contact exists its risk screen and emergency details cannot be gone back to: Back stops at
the first card after them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from frontdoor.contact import (
    Consent,
    Contact,
    ContactType,
    ImmediateRisk,
    PresentingNeed,
    ReferrerType,
    Source,
)
from frontdoor.policy import Policy, default_policy

__all__ = [
    "ANONYMITY_WARNING",
    "CONSENT_TITLES",
    "CONTACT_TYPE_TITLES",
    "DEFAULT_LOCAL_SYSTEMS",
    "FIRST_AFTER_EMERGENCY",
    "GENDER_CHOICES",
    "MAX_CHILDREN",
    "MAX_PARENTS",
    "NAME_MAX_LENGTH",
    "NEED_TITLES",
    "REFERRER_TYPE_TITLES",
    "RISK_QUESTIONS",
    "SECTION_TITLES",
    "SOURCE_TITLES",
    "TEXT_MAX_LENGTH",
    "UNBORN_NAME",
    "YES_NO",
    "Choice",
    "FieldKind",
    "FieldSpec",
    "Section",
    "child_fields",
    "field_section",
    "fields_for",
    "is_after",
    "next_section",
    "parent_fields",
    "previous_section",
    "section_fields",
    "section_of",
]


class Section(StrEnum):
    """The cards of the script, in the order they are shown (the enum's order is the script's)."""

    SOURCE = "source"
    RISK = "risk"
    EMERGENCY = "emergency"
    REFERRER = "referrer"
    CHILDREN = "children"
    PARENTS = "parents"
    WORRIES = "worries"
    HISTORY = "history"
    SUMMARY = "summary"


SECTION_TITLES: Mapping[Section, str] = MappingProxyType(
    {
        Section.SOURCE: "Source and contact type",
        Section.RISK: "Immediate risk",
        Section.EMERGENCY: "Emergency details",
        Section.REFERRER: "Referrer",
        Section.CHILDREN: "Children and household",
        Section.PARENTS: "Parents and consent",
        Section.WORRIES: "Worries, what is working well, what needs to happen",
        Section.HISTORY: "History checks",
        Section.SUMMARY: "Summary",
    }
)

_ORDER: tuple[Section, ...] = tuple(Section)


class FieldKind(StrEnum):
    """How a field is entered on the card, and so how its value comes back.

    ``time`` (Input.Time, "HH:MM") and ``person`` (a people picker that returns an Azure AD object
    id) go beyond the plain kinds because the received-at time and the allocated worker need them.
    """

    TEXT = "text"
    MULTILINE = "multiline"
    CHOICE = "choice"
    MULTICHOICE = "multichoice"
    DATE = "date"
    TIME = "time"
    TOGGLE = "toggle"
    PHONE = "phone"
    EMAIL = "email"
    POSTCODE = "postcode"
    PERSON = "person"


_E = TypeVar("_E", bound=StrEnum)

#: (value, title): the value is what the card sends back, the title what the officer reads.
Choice = tuple[str, str]

#: Names, agencies, roles, schools: generous for real names, small enough to refuse pasted essays.
NAME_MAX_LENGTH = 200
#: Other one-line text (relationships, addresses on one line).
TEXT_MAX_LENGTH = 500
#: More than this many children or parents on one contact is a mistake or an abuse of the card.
MAX_CHILDREN = 20
MAX_PARENTS = 10
#: The name recorded for an unborn child when none is given.
UNBORN_NAME = "Unborn"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One input on a card.

    ``max_length`` None on a multiline field means the policy's free-text limit
    (``limits.max_free_text_chars``), so a service can change it without a code change.
    ``error_message`` is the card's own message for a missing required value; the server's
    messages come from ``frontdoor.validation`` and also name the field by its ``label``.
    """

    id: str
    label: str
    kind: FieldKind
    required: bool = False
    choices: tuple[Choice, ...] = ()
    max_length: int | None = None
    help: str = ""
    error_message: str = ""

    def limit(self, policy: Policy) -> int | None:
        """The most characters the field takes under ``policy``; None for fields without text."""
        if self.max_length is not None:
            return self.max_length
        if self.kind is FieldKind.MULTILINE:
            return policy.limits.max_free_text_chars
        return None

    @property
    def choice_values(self) -> frozenset[str]:
        return frozenset(value for value, _ in self.choices)


# -- choice titles, shared with the views --------------------------------------------------------

SOURCE_TITLES: Mapping[Source, str] = MappingProxyType(
    {
        Source.PHONE: "Phone call",
        Source.EMAIL: "E-mail",
        Source.POLICE_FORM: "Police form",
        Source.NSPCC: "NSPCC",
        Source.CAFCASS: "CAFCASS",
        Source.AMBULANCE: "Ambulance service",
        Source.TRANSFER_IN: "Transfer in from another authority",
        Source.MEMBER_OF_PUBLIC: "Member of the public",
        Source.OTHER: "Other",
    }
)

CONTACT_TYPE_TITLES: Mapping[ContactType, str] = MappingProxyType(
    {
        ContactType.ADVICE: "Advice or information",
        ContactType.INFORMATION_REQUEST: "Information request (e.g. CAFCASS, Ofsted checks)",
        ContactType.REFERRAL: "Referral",
        ContactType.OPEN_CASE_INFORMATION: "Significant information on an open case",
        ContactType.TRANSFER_IN: "Transfer in",
    }
)

REFERRER_TYPE_TITLES: Mapping[ReferrerType, str] = MappingProxyType(
    {
        ReferrerType.PROFESSIONAL: "Professional",
        ReferrerType.MEMBER_OF_PUBLIC: "Member of the public",
        ReferrerType.FAMILY_MEMBER: "Family member",
        ReferrerType.CHILD: "The child",
    }
)

CONSENT_TITLES: Mapping[Consent, str] = MappingProxyType(
    {
        Consent.GIVEN: "Given",
        Consent.REFUSED: "Refused",
        Consent.NOT_SOUGHT: "Not sought: seeking it would place the child at risk",
    }
)

NEED_TITLES: Mapping[PresentingNeed, str] = MappingProxyType(
    {
        PresentingNeed.NEGLECT: "Neglect",
        PresentingNeed.PHYSICAL_HARM: "Physical harm",
        PresentingNeed.SEXUAL_HARM: "Sexual harm",
        PresentingNeed.EMOTIONAL_HARM: "Emotional harm",
        PresentingNeed.DOMESTIC_ABUSE: "Domestic abuse",
        PresentingNeed.PARENTAL_MENTAL_HEALTH: "Parental mental health",
        PresentingNeed.PARENTAL_SUBSTANCE_MISUSE: "Parental substance misuse",
        PresentingNeed.CHILD_EXPLOITATION: "Child exploitation",
        PresentingNeed.CHILD_MENTAL_HEALTH: "Child's mental health",
        PresentingNeed.DISABILITY: "Disability",
        PresentingNeed.HOMELESSNESS: "Homelessness",
        PresentingNeed.PRIVATE_FOSTERING: "Private fostering",
        PresentingNeed.UNACCOMPANIED_ASYLUM_SEEKER: "Unaccompanied asylum seeker",
        PresentingNeed.OTHER: "Other",
    }
)

#: The immediate-risk screen, one yes/no question per ``ImmediateRisk`` (SPEC §3).
RISK_QUESTIONS: Mapping[ImmediateRisk, str] = MappingProxyType(
    {
        ImmediateRisk.INJURY: "Does the child have an injury?",
        ImmediateRisk.DISCLOSURE: "Has the child disclosed physical or sexual harm?",
        ImmediateRisk.UNSAFE_ADULT: "Has the child been left with an unsafe adult?",
        ImmediateRisk.PERSON_POSING_RISK: (
            "Is the child, or will the child be, in contact with a person who poses a risk to children "
            "(a registered sex offender, someone under investigation for child sexual offences, or a "
            "person who has had children removed or whose children are subject to a child protection "
            "plan)?"
        ),
        ImmediateRisk.POLICE_PROTECTION_OR_MEDICAL: (
            "Is the child under police protection or subject to medical enquiries?"
        ),
        ImmediateRisk.TEMPORARY_EMERGENCY: "Is the child staying in a temporary emergency situation?",
    }
)

YES_NO: tuple[Choice, ...] = (("yes", "Yes"), ("no", "No"))

GENDER_CHOICES: tuple[Choice, ...] = (
    ("female", "Female"),
    ("male", "Male"),
    ("other", "Another gender"),
    ("not_known", "Not known"),
)

#: The local systems an officer checks (SPEC §2: "from a configurable list"): the packaged policy's
#: ``history.local_systems``. The Teams layer passes the service's own policy's list.
DEFAULT_LOCAL_SYSTEMS: tuple[Choice, ...] = default_policy().history.local_systems


def _choices(titles: Mapping[_E, str]) -> tuple[Choice, ...]:
    return tuple((member.value, title) for member, title in titles.items())


# -- the fields of each section ------------------------------------------------------------------

_SOURCE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "source",
        "Source",
        FieldKind.CHOICE,
        required=True,
        choices=_choices(SOURCE_TITLES),
        error_message="Choose how the information reached us",
    ),
    FieldSpec(
        "contact_type",
        "Contact type",
        FieldKind.CHOICE,
        required=True,
        choices=_choices(CONTACT_TYPE_TITLES),
        error_message="Choose the contact type",
    ),
    FieldSpec(
        "received_date",
        "Date received",
        FieldKind.DATE,
        help="Leave blank if it is arriving now. You can back-date it to when the call or e-mail came in.",
    ),
    FieldSpec(
        "received_time",
        "Time received",
        FieldKind.TIME,
        help="The clock starts from this time.",
    ),
)

ANONYMITY_WARNING = (
    "Only a member of the public may stay anonymous. Tell them their identity will be protected, "
    "and that they will not be told the outcome (families can sometimes guess who called)."
)

_REFERRER_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "referrer_type",
        "Referrer type",
        FieldKind.CHOICE,
        required=True,
        choices=_choices(REFERRER_TYPE_TITLES),
        error_message="Choose who is calling",
    ),
    FieldSpec(
        "referrer_name",
        "Referrer name",
        FieldKind.TEXT,
        max_length=NAME_MAX_LENGTH,
        help="Required for professionals.",
    ),
    FieldSpec(
        "referrer_agency",
        "Referrer agency",
        FieldKind.TEXT,
        max_length=NAME_MAX_LENGTH,
        help="Required for professionals.",
    ),
    FieldSpec("referrer_role", "Referrer role", FieldKind.TEXT, max_length=NAME_MAX_LENGTH),
    FieldSpec(
        "referrer_phone",
        "Referrer phone",
        FieldKind.PHONE,
        max_length=32,
        help="A UK number, e.g. 07700 900123 or 0191 498 0000",
        error_message="Enter a UK phone number",
    ),
    FieldSpec(
        "referrer_email",
        "Referrer e-mail",
        FieldKind.EMAIL,
        max_length=254,
        error_message="Enter an e-mail address such as name@example.org",
    ),
    FieldSpec(
        "anonymity_requested",
        "Anonymity requested",
        FieldKind.TOGGLE,
        help=ANONYMITY_WARNING,
    ),
)


def child_fields(index: int) -> tuple[FieldSpec, ...]:
    """The fields of the ``index``-th child (0-based; labels count from 1)."""
    n = index + 1
    prefix = f"child_{index}_"
    return (
        FieldSpec(
            f"{prefix}name",
            f"Child {n} name",
            FieldKind.TEXT,
            required=True,
            max_length=NAME_MAX_LENGTH,
            # required on the card (Teams will not send it blank), so the hint never says "leave blank"
            help=f'Required. For an unborn baby, write "{UNBORN_NAME}" and give the expected date.',
            error_message="Enter the child's name",
        ),
        FieldSpec(f"{prefix}dob", f"Child {n} date of birth", FieldKind.DATE),
        FieldSpec(
            f"{prefix}expected",
            f"Child {n} expected date",
            FieldKind.DATE,
            help="Only for an unborn baby, instead of a date of birth.",
        ),
        FieldSpec(f"{prefix}gender", f"Child {n} gender", FieldKind.CHOICE, choices=GENDER_CHOICES),
        FieldSpec(f"{prefix}address", f"Child {n} address", FieldKind.TEXT, max_length=TEXT_MAX_LENGTH),
        FieldSpec(
            f"{prefix}postcode",
            f"Child {n} postcode",
            FieldKind.POSTCODE,
            max_length=10,
            error_message="Enter a full UK postcode",
        ),
        FieldSpec(
            f"{prefix}school", f"Child {n} school or setting", FieldKind.TEXT, max_length=NAME_MAX_LENGTH
        ),
    )


def parent_fields(index: int) -> tuple[FieldSpec, ...]:
    """The fields of the ``index``-th parent or holder of parental responsibility (0-based)."""
    n = index + 1
    prefix = f"parent_{index}_"
    return (
        FieldSpec(f"{prefix}name", f"Parent {n} name", FieldKind.TEXT, max_length=NAME_MAX_LENGTH),
        FieldSpec(
            f"{prefix}relationship",
            f"Parent {n} relationship to the child",
            FieldKind.TEXT,
            max_length=NAME_MAX_LENGTH,
        ),
        FieldSpec(f"{prefix}address", f"Parent {n} address", FieldKind.TEXT, max_length=TEXT_MAX_LENGTH),
        FieldSpec(
            f"{prefix}postcode",
            f"Parent {n} postcode",
            FieldKind.POSTCODE,
            max_length=10,
            error_message="Enter a full UK postcode",
        ),
        FieldSpec(
            f"{prefix}phone",
            f"Parent {n} phone",
            FieldKind.PHONE,
            max_length=32,
            error_message="Enter a UK phone number",
        ),
    )


_CONSENT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "consent",
        "Consent",
        FieldKind.CHOICE,
        required=True,
        choices=_choices(CONSENT_TITLES),
        error_message="Record whether consent was given",
    ),
    FieldSpec(
        "consent_reason",
        "Why consent was refused or not sought",
        FieldKind.MULTILINE,
        help="Required when consent was refused (the reason given) or not sought (why seeking it would "
        "place the child at risk).",
    ),
)

_WORRIES_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "worries",
        "What are we worried about",
        FieldKind.MULTILINE,
        required=True,
        error_message="Say what we are worried about",
    ),
    FieldSpec("working_well", "What is working well", FieldKind.MULTILINE),
    FieldSpec("needs_to_happen", "What needs to happen", FieldKind.MULTILINE),
    FieldSpec(
        "presenting_needs",
        "Presenting needs",
        FieldKind.MULTICHOICE,
        required=True,
        choices=_choices(NEED_TITLES),
        error_message="Choose at least one presenting need",
    ),
)

#: The risk screen asks for an explicit yes or no to each question rather than a toggle that
#: defaults to "no": an unanswered question must not pass as a considered "no".
_RISK_FIELDS: tuple[FieldSpec, ...] = tuple(
    FieldSpec(
        f"risk_{risk.value}",
        question,
        FieldKind.CHOICE,
        required=True,
        choices=YES_NO,
        help="Any yes makes the contact urgent: the consultant on duty is told at once.",
        error_message="Answer yes or no",
    )
    for risk, question in RISK_QUESTIONS.items()
)

#: Only what an emergency needs (SPEC §3). Each is answered, but an urgent call must reach the
#: consultant whatever the caller could say: where the child is and the caller's number may be
#: answered "not known" / "withheld or not given" with a tick rather than left blank, and a number
#: abroad is taken in international form. The server requires the text or its tick
#: (``frontdoor.validation``); the card cannot express "one of two", so it requires only the child.
_EMERGENCY_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "emergency_child",
        "Child's name or description",
        FieldKind.TEXT,
        required=True,
        max_length=NAME_MAX_LENGTH,
        help="The name if the caller knows it; otherwise what identifies the child (e.g. girl, about 6).",
        error_message="Enter the child's name or a description",
    ),
    FieldSpec(
        "emergency_whereabouts",
        "Where the child is now",
        FieldKind.TEXT,
        max_length=TEXT_MAX_LENGTH,
    ),
    FieldSpec(
        "emergency_whereabouts_unknown",
        "Whereabouts not known",
        FieldKind.TOGGLE,
        help="Tick if nobody can say where the child is now.",
    ),
    FieldSpec(
        "emergency_phone",
        "Referrer's phone",
        FieldKind.PHONE,
        max_length=32,
        help="So the consultant can call them back now: a UK number, or a number abroad with + and "
        "its country code.",
    ),
    FieldSpec(
        "emergency_phone_withheld",
        "Number withheld or not given",
        FieldKind.TOGGLE,
        help="Tick for an anonymous caller, a withheld number, or a call that ended before it was taken.",
    ),
)


def _history_fields(local_systems: Sequence[Choice]) -> tuple[FieldSpec, ...]:
    return (
        FieldSpec(
            "open_case", "Open case", FieldKind.TOGGLE, help="Is the child's case open to a worker now?"
        ),
        FieldSpec(
            "allocated_worker",
            "Allocated worker",
            FieldKind.PERSON,
            help="Required for an open case: they are sent the summary.",
        ),
        FieldSpec(
            "open_to_early_help",
            "Open to early help",
            FieldKind.TOGGLE,
            help="Is the child open to early help now?",
        ),
        FieldSpec(
            "early_help_worker",
            "Early help worker",
            FieldKind.PERSON,
            help="Required when open to early help: they are told if the child stays with early help.",
        ),
        FieldSpec(
            "closed_on",
            "Date the last case closed",
            FieldKind.DATE,
            help="If the child's case was closed before. A recent closure makes this a re-referral.",
        ),
        FieldSpec("last_worker", "Last allocated worker", FieldKind.PERSON),
        FieldSpec(
            "systems_checked",
            "Checks done",
            FieldKind.MULTICHOICE,
            required=True,
            choices=tuple(local_systems),
            error_message="Choose the systems you checked",
        ),
        FieldSpec("chronology", "Chronology summary", FieldKind.MULTILINE),
    )


def fields_for(
    section: Section,
    *,
    children: int = 1,
    parents: int = 1,
    local_systems: Sequence[Choice] = DEFAULT_LOCAL_SYSTEMS,
) -> tuple[FieldSpec, ...]:
    """The fields of ``section``'s card, with ``children`` child blocks and ``parents`` parent blocks.

    The parents section always offers at least one parent block (parents may be unknown, so none of
    its fields is required) followed by the consent questions.
    """
    match section:
        case Section.SOURCE:
            return _SOURCE_FIELDS
        case Section.REFERRER:
            return _REFERRER_FIELDS
        case Section.CHILDREN:
            count = min(max(children, 1), MAX_CHILDREN)
            return tuple(spec for index in range(count) for spec in child_fields(index))
        case Section.PARENTS:
            count = min(max(parents, 1), MAX_PARENTS)
            blocks = tuple(spec for index in range(count) for spec in parent_fields(index))
            return blocks + _CONSENT_FIELDS
        case Section.WORRIES:
            return _WORRIES_FIELDS
        case Section.RISK:
            return _RISK_FIELDS
        case Section.EMERGENCY:
            return _EMERGENCY_FIELDS
        case Section.HISTORY:
            return _history_fields(local_systems)
        case Section.SUMMARY:
            return ()


def section_fields(
    section: Section, contact: Contact, local_systems: Sequence[Choice] = DEFAULT_LOCAL_SYSTEMS
) -> tuple[FieldSpec, ...]:
    """The fields of ``section`` for ``contact``'s card: as many child and parent blocks as it holds."""
    return fields_for(
        section,
        children=len(contact.children),
        parents=len(contact.parents),
        local_systems=local_systems,
    )


# -- order and skips -----------------------------------------------------------------------------


def section_of(contact: Contact) -> Section:
    """The section a draft is on; a draft that has not recorded one starts at the beginning."""
    try:
        return Section(contact.draft_section)
    except ValueError:
        return Section.SOURCE


def is_after(section: Section, other: Section) -> bool:
    """Whether ``section`` comes later in the script than ``other``."""
    return _ORDER.index(section) > _ORDER.index(other)


#: The first card after the urgent path's own: where an urgent contact carries on once created.
FIRST_AFTER_EMERGENCY = Section.REFERRER


#: The contact event of history checks recorded on an urgent contact from its record
#: (``frontdoor.history_checks``), by the consultant or anyone else who may, rather than on its
#: officer's history card.
HISTORY_RECORDED_ACTION = "history_recorded"


def history_recorded_separately(contact: Contact) -> bool:
    """Whether ``contact``'s history checks were recorded from its record rather than on its officer's
    card: the officer's history card is then skipped, so their draft never overwrites them."""
    return any(event.action == HISTORY_RECORDED_ACTION for event in contact.events)


def next_section(section: Section, contact: Contact) -> Section | None:
    """The card after ``section`` for ``contact`` (with the section's answers applied); None after
    the summary. The emergency details card comes only after a yes on the risk screen; the history
    card not at all once the checks were recorded separately (``history_recorded_separately``)."""
    position = _ORDER.index(section)
    following = _ORDER[position + 1] if position + 1 < len(_ORDER) else None
    if following is Section.EMERGENCY and not contact.urgent:
        return FIRST_AFTER_EMERGENCY
    if following is Section.HISTORY and history_recorded_separately(contact):
        return Section.SUMMARY
    return following


def previous_section(section: Section, contact: Contact) -> Section | None:
    """The card Back returns to; None on the first card, and on the first card after the emergency
    details once the urgent contact exists (its risk screen and emergency details are on record)."""
    if section is FIRST_AFTER_EMERGENCY and contact.reference is not None:
        return None
    position = _ORDER.index(section)
    earlier = _ORDER[position - 1] if position > 0 else None
    if earlier is Section.EMERGENCY and not contact.urgent:
        return Section.RISK
    if earlier is Section.HISTORY and history_recorded_separately(contact):
        return Section.WORRIES
    return earlier


_GROUP_PREFIXES: tuple[tuple[str, Section], ...] = (
    ("child_", Section.CHILDREN),
    ("parent_", Section.PARENTS),
)


def field_section(field_id: str, local_systems: Sequence[Choice] = DEFAULT_LOCAL_SYSTEMS) -> Section | None:
    """The section whose card holds ``field_id``, so a refusal at submission can send the officer
    back to the right card; None for an id no section has."""
    for prefix, section in _GROUP_PREFIXES:
        if field_id.startswith(prefix):
            return section
    for section in Section:
        if any(spec.id == field_id for spec in fields_for(section, local_systems=local_systems)):
            return section
    return None
