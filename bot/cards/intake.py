"""Cards of the contact script (SPEC §5) in the officer's personal chat: one card per section, the
summary with Submit, the receipt, the list of drafts to resume, and the full record of a contact.

Every section card is built from the script's ``FieldSpec``s, so the card marks as required what
the server requires. Its buttons carry the draft's id, its version and the section in their data;
who pressed them is always taken from the activity, never from the card. Back and Cancel send no
answers (``associatedInputs: none``) so they work whatever is filled in; Next, Save draft and "Add
another child" send the answers, and so (Adaptive Cards 1.5 has no way to send answers without
checking them) need the card's required answers too.

These cards show names and details: they are for the officer's own chat and for people whose role
lets them view contacts, never for a channel (``bot.cards.decision`` builds those).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from microsoft_teams.cards import (
    Action,
    ActionSet,
    AdaptiveCard,
    CardElement,
    Choice,
    ChoiceSetInput,
    Container,
    ContainerStyle,
    DateInput,
    Fact,
    FactSet,
    InputTextStyle,
    SubmitAction,
    TextBlock,
    TextInput,
    TimeInput,
    ToggleInput,
)

from bot.cards.common import to_dict
from frontdoor.calendar import LONDON
from frontdoor.contact import Contact, ContactState, ImmediateRisk, PresentingNeed
from frontdoor.intake import Route, SubmissionResult
from frontdoor.records import ClockKind, Deadline, DeadlineState
from frontdoor.script import (
    ANONYMITY_WARNING,
    CONSENT_TITLES,
    CONTACT_TYPE_TITLES,
    DEFAULT_LOCAL_SYSTEMS,
    GENDER_CHOICES,
    MAX_CHILDREN,
    MAX_PARENTS,
    NEED_TITLES,
    RISK_QUESTIONS,
    SECTION_TITLES,
    SOURCE_TITLES,
    FieldKind,
    FieldSpec,
    Section,
)
from frontdoor.script import Choice as ScriptChoice
from frontdoor.timefmt import format_due, format_local
from frontdoor.validation import FieldError
from frontdoor.views import child_summary, format_phone, referrer_label

__all__ = [
    "ADD_CHILD",
    "ADD_PARENT",
    "BACK",
    "CANCEL",
    "CLOCK_TITLES",
    "CONTACT_KEY",
    "NEXT",
    "OPEN",
    "SAVE",
    "SECTION_KEY",
    "STATE_TITLES",
    "SUBMIT",
    "VERSION_KEY",
    "DraftLine",
    "SectionForm",
    "contact_details",
    "drafts_card",
    "plain",
    "receipt_card",
    "record_card",
    "section_card",
    "set_aside_card",
]

#: ``fd`` values of the script's buttons (see ``bot.routing.ACTION_KEY``).
NEXT: Final = "intake.next"
SAVE: Final = "intake.save"
BACK: Final = "intake.back"
CANCEL: Final = "intake.cancel"
SUBMIT: Final = "intake.submit"
ADD_CHILD: Final = "intake.add_child"
ADD_PARENT: Final = "intake.add_parent"
#: "Continue" on the list of drafts
OPEN: Final = "intake.open"

#: Keys of the draft's id, version and section in the buttons' data. No field of the script uses
#: them, so an answer can never overwrite them.
CONTACT_KEY: Final = "contact_id"
VERSION_KEY: Final = "version"
SECTION_KEY: Final = "section"

_STEPS = len(Section)

STATE_TITLES: Mapping[ContactState, str] = {
    ContactState.DRAFT: "Draft",
    ContactState.AWAITING_SCREENING: "Awaiting screening",
    ContactState.CP_DECISION: "Child-protection decision",
    ContactState.REFERRAL_ACCEPTED: "Referral accepted",
    ContactState.OFFICER_WORK: "With an officer",
    ContactState.SW_ASSESSMENT: "With a social worker",
    ContactState.DUTY_MANAGER_REVIEW: "Re-referral: with the duty manager",
    ContactState.AWAITING_SIGNOFF: "Awaiting sign-off",
    ContactState.PASSED_ON: "Passed to the allocated worker",
    ContactState.CLOSED: "Closed",
    ContactState.CANCELLED: "Cancelled",
}

CLOCK_TITLES: Mapping[ClockKind, str] = {
    ClockKind.SCREENING: "Screening decision",
    ClockKind.CP_DECISION: "Child-protection decision",
    ClockKind.COMPLETION_24H: "Completion (24 hours)",
    ClockKind.COMPLETION_48H: "Completion (48 hours)",
    ClockKind.REREFERRAL_RECOMMENDATION: "Re-referral recommendation",
    ClockKind.PARENT_LETTER: "Parent letter lapses",
    ClockKind.CHALLENGE: "Challenge by the receiving team",
}

_ROUTE_TEXT: Mapping[Route, str] = {
    Route.SCREENING: "Waiting for a consultant's screening decision.",
    Route.OPEN_CASE: "The child's case is open: passed to the allocated worker and closed here.",
    Route.REREFERRAL: "The child's case closed less than 3 months ago: a re-referral for the duty manager.",
}

_SECTION_INTROS: Mapping[Section, str] = {
    Section.SOURCE: "How did the information reach us? Leave the date and time blank if it is arriving now.",
    Section.REFERRER: "Who is telling us?",
    Section.CHILDREN: "Every child the contact is about.",
    Section.PARENTS: "Parents and anyone else with parental responsibility, then consent.",
    Section.WORRIES: "Signs of Safety: the worries, what is working well and what needs to happen.",
    Section.RISK: (
        "Ask each question. **Any yes makes the contact urgent**: it goes straight to submission, the "
        "consultant on duty is @mentioned and the 2-hour child-protection clock starts."
    ),
    Section.HISTORY: "What our records and partners' systems say.",
    Section.SUMMARY: "Check the contact, then submit it.",
}

# Teams renders a TextBlock's text as Markdown: what people typed is shown as typed.
_MARKDOWN = re.compile(r"([\\`*_\[\]()#>~|])")


def plain(text: str) -> str:
    """``text`` with Markdown's special characters escaped, for a TextBlock or a fact."""
    return _MARKDOWN.sub(r"\\\1", text)


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _text(text: str, **options: Any) -> TextBlock:
    return TextBlock(text=text, wrap=True, **options)


def _banner(text: str, style: ContainerStyle) -> Container:
    return Container(style=style, items=[_text(text, weight="Bolder")])


def _error(text: str) -> TextBlock:
    return _text(plain(text), color="Attention", size="Small", spacing="None")


# -- the section cards ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SectionForm:
    """Everything a section card shows."""

    contact_id: str
    version: int
    section: Section
    fields: tuple[FieldSpec, ...]
    #: input values by field id, as a card sends them back
    values: Mapping[str, str]
    errors: tuple[FieldError, ...] = ()
    #: a line above the card in our own words (Markdown): "Saved", a reminder, what went wrong
    notice: str = ""
    urgent: bool = False
    #: the people an officer may pick as a worker: (Azure AD object id, display name)
    people: tuple[ScriptChoice, ...] = ()
    #: the draft itself, shown in full on the summary card
    contact: Contact | None = None
    people_names: Mapping[str, str] = field(default_factory=dict)
    local_systems: tuple[ScriptChoice, ...] = DEFAULT_LOCAL_SYSTEMS
    #: the policy's limit for free text (multiline fields without their own)
    free_text_limit: int = 4000
    #: the local date children's ages are shown at on the summary
    today: date | None = None


def _data(form: SectionForm, action: str) -> dict[str, Any]:
    return {
        "fd": action,
        CONTACT_KEY: form.contact_id,
        VERSION_KEY: form.version,
        SECTION_KEY: form.section.value,
    }


def _required(spec: FieldSpec) -> bool:
    # A second or later child's block may be left empty (it is then no child), so only the server,
    # which knows whether the block was used, can require its name.
    if spec.id.startswith("child_") and not spec.id.startswith("child_0_"):
        return False
    return spec.required


def _choices(options: Sequence[ScriptChoice]) -> list[Choice]:
    return [Choice(title=title, value=value) for value, title in options]


def _input(form: SectionForm, spec: FieldSpec) -> CardElement:
    value = form.values.get(spec.id, "")
    required = _required(spec)
    message = spec.error_message or f"{spec.label}: this is required"
    common: dict[str, Any] = {
        "id": spec.id,
        "label": spec.label,
        "is_required": True if required else None,
        "error_message": message if required or spec.error_message else None,
    }
    limit = spec.max_length
    if limit is None and spec.kind is FieldKind.MULTILINE:
        limit = form.free_text_limit
    match spec.kind:
        case FieldKind.TEXT | FieldKind.PHONE | FieldKind.EMAIL | FieldKind.POSTCODE | FieldKind.MULTILINE:
            style: InputTextStyle | None = {FieldKind.PHONE: "Tel", FieldKind.EMAIL: "Email"}.get(spec.kind)  # type: ignore[assignment]
            return TextInput(
                value=value or None,
                max_length=limit,
                is_multiline=True if spec.kind is FieldKind.MULTILINE else None,
                style=style,
                **common,
            )
        case FieldKind.CHOICE:
            expanded = len(spec.choices) <= 4
            return ChoiceSetInput(
                choices=_choices(spec.choices),
                value=value or None,
                style="expanded" if expanded else "compact",
                placeholder=None if expanded else "Choose",
                wrap=True,
                **common,
            )
        case FieldKind.MULTICHOICE:
            options = form.local_systems if spec.id == "systems_checked" else spec.choices
            return ChoiceSetInput(
                choices=_choices(options),
                value=value or None,
                is_multi_select=True,
                style="expanded" if len(options) <= 8 else "compact",
                wrap=True,
                **common,
            )
        case FieldKind.DATE:
            return DateInput(value=value or None, **common)
        case FieldKind.TIME:
            return TimeInput(value=value or None, **common)
        case FieldKind.TOGGLE:
            common.pop("label")
            return ToggleInput(
                title=spec.label,
                value="true" if value == "true" else "false",
                value_on="true",
                value_off="false",
                wrap=True,
                **common,
            )
        case FieldKind.PERSON:
            people = list(form.people)
            if value and value not in {person for person, _ in people}:
                people.append((value, form.people_names.get(value) or value))
            if not people:
                return TextInput(
                    value=value or None,
                    placeholder="Their Azure AD object id",
                    max_length=255,
                    **common,
                )
            return ChoiceSetInput(
                choices=_choices(people),
                value=value or None,
                style="compact",
                placeholder="Choose a person",
                **common,
            )


def _heading(spec: FieldSpec) -> list[CardElement]:
    match = re.fullmatch(r"(child|parent)_(\d+)_name", spec.id)
    if match:
        n = int(match[2]) + 1
        title = f"Child {n}" if match[1] == "child" else f"Parent or carer {n}"
        return [_text(title, weight="Bolder", size="Medium", separator=n > 1 or None)]
    if spec.id == "consent":
        return [_text("Consent", weight="Bolder", size="Medium", separator=True)]
    return []


def _count(fields: Sequence[FieldSpec], group: str) -> int:
    return sum(1 for spec in fields if re.fullmatch(rf"{group}_\d+_name", spec.id))


def section_card(form: SectionForm) -> dict[str, Any]:
    """The card for one section, with the values given, and the server's errors beside their fields."""
    section = form.section
    step = list(Section).index(section) + 1
    body: list[CardElement] = [
        _text("New contact", is_subtle=True, size="Small"),
        _text(f"Step {step} of {_STEPS}: {SECTION_TITLES[section]}", size="Medium", weight="Bolder"),
    ]
    if form.notice:
        body.append(_banner(form.notice, "accent"))
    if form.urgent:
        body.append(
            _banner(
                "Urgent: there is an immediate risk. Submit now: the consultant on duty is @mentioned "
                "and the 2-hour child-protection clock starts.",
                "attention",
            )
        )
    if form.errors:
        body.append(
            Container(
                style="attention",
                items=[
                    _text("Please check:", weight="Bolder"),
                    *(_text(f"- {plain(error.message)}", spacing="None") for error in form.errors),
                ],
            )
        )
    body.append(_text(_SECTION_INTROS[section], is_subtle=True))
    errors = {error.field_id: error.message for error in form.errors}
    for spec in form.fields:
        if (
            spec.id == "consent"
            and section is Section.PARENTS
            and _count(form.fields, "parent") < MAX_PARENTS
        ):
            body.append(ActionSet(actions=[_submit(form, "Add another parent", ADD_PARENT)]))
        body.extend(_heading(spec))
        if spec.id == "anonymity_requested":
            body.append(_banner(ANONYMITY_WARNING, "warning"))
        body.append(_input(form, spec))
        if spec.help and spec.id != "anonymity_requested" and section is not Section.RISK:
            body.append(_text(spec.help, is_subtle=True, size="Small", spacing="None"))
        if spec.id in errors:
            body.append(_error(errors[spec.id]))
    if section is Section.CHILDREN and _count(form.fields, "child") < MAX_CHILDREN:
        body.append(ActionSet(actions=[_submit(form, "Add another child", ADD_CHILD)]))
    if section is Section.SUMMARY and form.contact is not None:
        today = form.today or form.contact.created_at.astimezone(LONDON).date()
        body.extend(contact_details(form.contact, form.people_names, today, form.local_systems))

    actions: list[Action] = []
    if section is Section.SUMMARY:
        actions.append(_submit(form, "Submit", SUBMIT, style="positive"))
    else:
        actions.append(_submit(form, "Next", NEXT, style="positive"))
    actions.append(_submit(form, "Save draft", SAVE))
    if step > 1:
        actions.append(_submit(form, "Back", BACK, associated_inputs="none"))
    actions.append(_submit(form, "Cancel", CANCEL, associated_inputs="none", style="destructive"))
    title = SECTION_TITLES[section]
    return to_dict(AdaptiveCard(body=body, actions=actions, fallback_text=f"New contact: {title}"))


def _submit(form: SectionForm, title: str, action: str, **options: Any) -> SubmitAction:
    return SubmitAction(title=title, data=_data(form, action), **options)


def set_aside_card(title: str, note: str) -> dict[str, Any]:
    """What a card that has been answered turns into, so it cannot be pressed again by mistake."""
    body: list[CardElement] = [_text(title, weight="Bolder"), _text(note, is_subtle=True)]
    return to_dict(AdaptiveCard(body=body, fallback_text=title))


# -- drafts to resume ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DraftLine:
    contact_id: str
    started_at: datetime
    section: Section
    #: the children's initials, so the officer can tell drafts apart
    children: str


def drafts_card(drafts: Sequence[DraftLine]) -> dict[str, Any]:
    """The officer's drafts, each with a Continue button."""
    body: list[CardElement] = [_text("Your drafts", size="Medium", weight="Bolder")]
    for line in drafts:
        body.append(
            Container(
                separator=True,
                items=[
                    FactSet(
                        facts=[
                            Fact(title="Started", value=format_local(line.started_at)),
                            Fact(title="At", value=SECTION_TITLES[line.section]),
                            Fact(title="Children", value=plain(line.children) or "none yet"),
                        ]
                    ),
                    ActionSet(
                        actions=[
                            SubmitAction(
                                title="Continue",
                                data={"fd": OPEN, CONTACT_KEY: line.contact_id},
                            )
                        ]
                    ),
                ],
            )
        )
    return to_dict(AdaptiveCard(body=body, fallback_text="Your drafts"))


# -- a contact in full ---------------------------------------------------------------------------


def _facts(pairs: Sequence[tuple[str, str]]) -> FactSet:
    return FactSet(facts=[Fact(title=title, value=value) for title, value in pairs if value])


def _block(title: str, text: str) -> list[CardElement]:
    if not text.strip():
        return []
    return [_text(title, weight="Bolder", spacing="Small"), _text(plain(text), spacing="None")]


def _heading_text(title: str) -> TextBlock:
    return _text(title, size="Medium", weight="Bolder", separator=True)


def contact_details(
    contact: Contact,
    people_names: Mapping[str, str],
    today: date,
    local_systems: Sequence[ScriptChoice] = DEFAULT_LOCAL_SYSTEMS,
) -> list[CardElement]:
    """Everything recorded about ``contact``, in the script's order (the contact's own view), with
    children's ages on ``today``."""
    referrer = contact.referrer
    received = format_local(contact.received_at) if contact.received_at else "when submitted"
    body: list[CardElement] = [
        _heading_text(SECTION_TITLES[Section.SOURCE]),
        _facts(
            [
                ("Source", SOURCE_TITLES[contact.source] if contact.source else "not recorded"),
                (
                    "Contact type",
                    CONTACT_TYPE_TITLES[contact.contact_type] if contact.contact_type else "not recorded",
                ),
                ("Received", received),
            ]
        ),
        _heading_text(SECTION_TITLES[Section.REFERRER]),
        _facts(
            [
                ("Referrer", plain(referrer_label(referrer, own_view=True))),
                ("Phone", format_phone(referrer.phone) if referrer else ""),
                ("E-mail", plain(referrer.email) if referrer else ""),
            ]
        ),
        _heading_text(SECTION_TITLES[Section.CHILDREN]),
    ]
    genders = dict(GENDER_CHOICES)
    for index, child in enumerate(contact.children):
        born = _day(child.date_of_birth) if child.date_of_birth else ""
        due = f"expected {_day(child.expected_date)}" if child.expected_date else ""
        body.append(
            _facts(
                [
                    (f"Child {index + 1}", plain(child.name)),
                    ("Born", born or due),
                    ("Age", child_summary(child, today).age_text),
                    ("Gender", genders.get(child.gender, "")),
                    ("Address", plain(child.address.replace("\n", ", "))),
                    ("School or setting", plain(child.school)),
                ]
            )
        )
    if not contact.children:
        body.append(_text("No children recorded yet.", is_subtle=True))
    body.append(_heading_text(SECTION_TITLES[Section.PARENTS]))
    for index, parent in enumerate(contact.parents):
        body.append(
            _facts(
                [
                    (f"Parent or carer {index + 1}", plain(parent.name)),
                    ("Relationship", plain(parent.relationship)),
                    ("Address", plain(parent.address.replace("\n", ", "))),
                    ("Phone", format_phone(parent.phone)),
                ]
            )
        )
    body.append(_facts([("Consent", CONSENT_TITLES[contact.consent] if contact.consent else "not recorded")]))
    body.extend(_block("Why consent was not sought", contact.consent_reason))
    body.append(_heading_text("Worries and needs"))
    needs = ", ".join(NEED_TITLES[need] for need in PresentingNeed if need in contact.presenting_needs)
    body.append(_facts([("Presenting needs", needs or "none chosen")]))
    body.extend(_block("What are we worried about", contact.worries))
    body.extend(_block("What is working well", contact.working_well))
    body.extend(_block("What needs to happen", contact.needs_to_happen))
    body.append(_heading_text(SECTION_TITLES[Section.RISK]))
    yes = [RISK_QUESTIONS[risk] for risk in ImmediateRisk if risk in contact.immediate_risks]
    body.append(_text("\n".join(f"- Yes: {question}" for question in yes) if yes else "No immediate risk."))
    if not contact.urgent or contact.history.systems_checked:
        history = contact.history
        systems = dict(local_systems)
        body.append(_heading_text(SECTION_TITLES[Section.HISTORY]))
        worker = history.allocated_worker_id
        last = history.last_worker_id
        body.append(
            _facts(
                [
                    ("Open case", "Yes" if history.open_case else "No"),
                    ("Allocated worker", plain(people_names.get(worker) or worker) if worker else ""),
                    ("Closed within 3 months", "Yes" if history.closed_within_3_months else "No"),
                    ("Last worker", plain(people_names.get(last) or last) if last else ""),
                    (
                        "Checks done",
                        ", ".join(systems.get(value, value) for value in history.systems_checked) or "none",
                    ),
                ]
            )
        )
        body.extend(_block("Chronology", history.chronology))
    return body


def _clock_facts(deadlines: Sequence[Deadline], now: datetime) -> list[tuple[str, str]]:
    open_ones = sorted(
        (d for d in deadlines if d.state is DeadlineState.OPEN), key=lambda d: (d.due_at, d.clock.value)
    )
    return [
        (CLOCK_TITLES[d.clock], f"{format_local(d.due_at)} ({format_due(d.due_at, now)})") for d in open_ones
    ]


def record_card(
    contact: Contact,
    deadlines: Sequence[Deadline],
    now: datetime,
    people_names: Mapping[str, str],
    *,
    heading: str = "",
    local_systems: Sequence[ScriptChoice] = DEFAULT_LOCAL_SYSTEMS,
    follows: str = "",
    actions: Sequence[Action] = (),
) -> dict[str, Any]:
    """The full record of a submitted contact, for someone whose role lets them view contacts.
    ``follows`` is the "follows consultation PC-…" line when consultations are linked to it;
    ``actions`` go at its foot."""
    reference = contact.reference or "Draft"
    body: list[CardElement] = []
    if heading:
        body.append(_banner(heading, "accent"))
    body += [
        _text(reference, size="Large", weight="Bolder"),
        _text("The full record: for you only. Do not forward it or paste it into a channel.", is_subtle=True),
    ]
    if contact.urgent:
        body.append(_banner("Urgent: immediate risk", "attention"))
    if follows:
        body.append(_text(follows[:1].upper() + follows[1:]))
    body.append(_facts([("State", STATE_TITLES[contact.state]), *_clock_facts(deadlines, now)]))
    body.extend(contact_details(contact, people_names, now.astimezone(LONDON).date(), local_systems))
    return to_dict(
        AdaptiveCard(body=body, actions=list(actions) or None, fallback_text=f"Contact {reference}")
    )


# -- the receipt ---------------------------------------------------------------------------------


def receipt_card(result: SubmissionResult, now: datetime, outcomes: Sequence[str]) -> dict[str, Any]:
    """What the officer gets on submitting: the reference, when the clock started and runs out, and
    what was done with the contact (``outcomes``: one line per channel post or message)."""
    body: list[CardElement] = [
        _text("Contact submitted", is_subtle=True, size="Small"),
        _text(result.reference, size="Large", weight="Bolder"),
    ]
    if result.urgent:
        body.append(_banner("Urgent: immediate risk", "attention"))
    body.append(_text(_ROUTE_TEXT[result.route]))
    facts = [("Received", format_local(result.received_at)), *_clock_facts(result.deadlines, now)]
    if result.repeat_of:
        facts.append(("Earlier contacts (12 months)", ", ".join(result.repeat_of)))
    body.append(_facts(facts))
    body.extend(_text(f"- {line}", spacing="None") for line in outcomes)
    return to_dict(AdaptiveCard(body=body, fallback_text=f"Contact submitted: {result.reference}"))
