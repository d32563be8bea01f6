"""Cards of the contact script (SPEC §5) in the officer's personal chat: one card per section, the
summary with Submit, the receipt, the list of drafts to resume, and the details of a contact that
the full record (``bot.cards.record``) and the personal card show.

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

from bot.cards.answers import answer_lines
from bot.cards.collapse import collapsible
from bot.cards.common import to_dict
from bot.cards.details import (
    STATE_TITLES,
    banner,
    contact_details,
    fact_set,
    open_clock_facts,
    plain,
    text_block,
)
from bot.cards.keys import ACTION_KEY, REFERENCE_KEY, VERSION_KEY
from frontdoor.calendar import LONDON
from frontdoor.card_values import FieldError
from frontdoor.contact import Contact
from frontdoor.intake import SubmissionResult
from frontdoor.script import (
    ANONYMITY_WARNING,
    DEFAULT_LOCAL_SYSTEMS,
    FIRST_AFTER_EMERGENCY,
    MAX_CHILDREN,
    MAX_PARENTS,
    SECTION_TITLES,
    FieldKind,
    FieldSpec,
    Section,
)
from frontdoor.script import Choice as ScriptChoice
from frontdoor.submission_routing import Route
from frontdoor.timefmt import format_local

__all__ = [
    "ADD_CHILD",
    "ADD_PARENT",
    "BACK",
    "CANCEL",
    "CONTACT_KEY",
    "HISTORY_OPEN",
    "HISTORY_SAVE",
    "NEXT",
    "OPEN",
    "SAVE",
    "SECTION_KEY",
    "SUBMIT",
    "DraftLine",
    "SectionForm",
    "contact_details",
    "drafts_card",
    "history_checks_card",
    "plain",
    "receipt_card",
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
#: "Record history checks" on an urgent contact's record, and that card's save button
HISTORY_OPEN: Final = "intake.history_open"
HISTORY_SAVE: Final = "intake.history_save"

#: Keys of the draft's id, version and section in the buttons' data. No field of the script uses
#: them, so an answer can never overwrite them.
CONTACT_KEY: Final = "contact_id"
SECTION_KEY: Final = "section"


def _steps(urgent: bool) -> tuple[Section, ...]:
    """The cards an officer goes through: the emergency details only on the urgent path."""
    return tuple(section for section in Section if urgent or section is not Section.EMERGENCY)


_ROUTE_TEXT: Mapping[Route, str] = {
    Route.SCREENING: "Waiting for a consultant's screening decision.",
    Route.OPEN_CASE: "The child's case is open: passed to the allocated worker and closed here.",
    Route.REREFERRAL: "The child's case closed recently (within the re-referral window): a re-referral "
    "for the duty manager.",
}

_SECTION_INTROS: Mapping[Section, str] = {
    Section.SOURCE: "How did the information reach us? Leave the date and time blank if it is arriving now.",
    Section.EMERGENCY: (
        "Only what the consultant needs now. **Next creates the urgent contact**: it gets its reference, "
        "the consultant on duty is @mentioned and the 2-hour child-protection clock runs from when the "
        "call came in. You then carry on with the rest of the contact."
    ),
    Section.REFERRER: "Who is telling us?",
    Section.CHILDREN: "Every child the contact is about.",
    Section.PARENTS: "Parents and anyone else with parental responsibility, then consent.",
    Section.WORRIES: "Signs of Safety: the worries, what is working well and what needs to happen.",
    Section.RISK: (
        "Ask each question now, before anything else. **Any yes makes the contact urgent**: the next "
        "card asks only what an emergency needs, and the consultant on duty is told at once."
    ),
    Section.HISTORY: (
        "What our records and partners' systems say. On an urgent contact you may leave the checks "
        "blank for now: they stay outstanding until an officer or a consultant records them."
    ),
    Section.SUMMARY: "Check the contact, then submit it.",
}

#: The source card's inputs of received-at, and what the card says instead for a draft started from
#: an e-mail.
_RECEIVED_INPUTS = frozenset({"received_date", "received_time"})
_FROM_MAIL = (
    "When the e-mail reached the mailbox: the clocks start then, however long it waited, so it "
    "cannot be changed here."
)


# Teams renders a TextBlock's text as Markdown: what people typed is shown as typed.
def _error(text: str) -> TextBlock:
    return text_block(plain(text), color="Attention", size="Small", spacing="None")


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
    #: any yes on the risk screen: the urgent path
    urgent: bool = False
    #: the urgent contact's reference once it is created: the cards then complete it
    reference: str = ""
    #: the people an officer may pick as a worker: (Azure AD object id, display name)
    people: tuple[ScriptChoice, ...] = ()
    #: the draft itself: shown in full on the summary card, the sections answered before this one
    #: summarised (folded away) on the others
    contact: Contact | None = None
    people_names: Mapping[str, str] = field(default_factory=dict)
    local_systems: tuple[ScriptChoice, ...] = DEFAULT_LOCAL_SYSTEMS
    #: the policy's limit for free text (multiline fields without their own)
    free_text_limit: int = 4000
    #: the local date children's ages are shown at on the summary
    today: date | None = None
    #: the urgent contact just created from this draft, its receipt shown at the top of the card,
    #: with what was done (``outcomes``) at ``created_at``
    created: SubmissionResult | None = None
    outcomes: tuple[str, ...] = ()
    created_at: datetime | None = None
    #: on the source card of a draft started from an e-mail: the e-mail's received time, shown in
    #: place of the date and time inputs (SPEC §5a: the clock starts when the e-mail arrived)
    received_from_mail: datetime | None = None


def _data(form: SectionForm, action: str) -> dict[str, Any]:
    return {
        ACTION_KEY: action,
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
    # An urgent contact's officer may leave the history checks outstanding (SPEC §3).
    required = _required(spec) and not (form.urgent and spec.id == "systems_checked")
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
        return [text_block(title, weight="Bolder", size="Medium", separator=n > 1 or None)]
    if spec.id == "consent":
        return [text_block("Consent", weight="Bolder", size="Medium", separator=True)]
    return []


def _count(fields: Sequence[FieldSpec], group: str) -> int:
    return sum(1 for spec in fields if re.fullmatch(rf"{group}_\d+_name", spec.id))


def _fields_body(form: SectionForm) -> list[CardElement]:
    """The server's errors, the section's introduction and its inputs."""
    section = form.section
    body: list[CardElement] = []
    if form.errors:
        body.append(
            Container(
                style="attention",
                items=[
                    text_block("Please check:", weight="Bolder"),
                    *(text_block(f"- {plain(error.message)}", spacing="None") for error in form.errors),
                ],
            )
        )
    received = form.received_from_mail if section is Section.SOURCE else None
    if received is None:
        body.append(text_block(_SECTION_INTROS[section], is_subtle=True))
    else:
        body.append(text_block("How did the information reach us?", is_subtle=True))
        seconds = received.astimezone(LONDON).second
        body.append(fact_set([("Received (the e-mail)", f"{format_local(received)}:{seconds:02d}")]))
        body.append(text_block(_FROM_MAIL, is_subtle=True, size="Small", spacing="None"))
    errors = {error.field_id: error.message for error in form.errors}
    for spec in form.fields:
        if received is not None and spec.id in _RECEIVED_INPUTS:
            continue
        if (
            spec.id == "consent"
            and section is Section.PARENTS
            and _count(form.fields, "parent") < MAX_PARENTS
        ):
            body.append(ActionSet(actions=[_submit(form, "Add another parent", ADD_PARENT)]))
        body.extend(_heading(spec))
        if spec.id == "anonymity_requested":
            body.append(banner(ANONYMITY_WARNING, "warning"))
        body.append(_input(form, spec))
        if spec.help and spec.id != "anonymity_requested" and section is not Section.RISK:
            body.append(text_block(spec.help, is_subtle=True, size="Small", spacing="None"))
        if spec.id in errors:
            body.append(_error(errors[spec.id]))
    return body


def section_card(form: SectionForm) -> dict[str, Any]:
    """The card for one section, with the values given, and the server's errors beside their fields."""
    section = form.section
    steps = _steps(form.urgent)
    step = steps.index(section) + 1 if section in steps else 1
    title = f"Urgent contact {form.reference}" if form.reference else "New contact"
    body: list[CardElement] = [
        text_block(
            title, is_subtle=not form.reference, size="Small", weight="Bolder" if form.reference else None
        ),
        text_block(f"Step {step} of {len(steps)}: {SECTION_TITLES[section]}", size="Medium", weight="Bolder"),
    ]
    if form.created is not None:
        receipt = _receipt_body(form.created, form.created_at or form.created.received_at, form.outcomes)
        body.append(Container(style="emphasis", items=receipt))
    if form.notice:
        body.append(banner(form.notice, "accent"))
    if form.contact is not None and section not in (Section.SOURCE, Section.SUMMARY):
        answered = _answered(form.contact, steps[: step - 1], form.local_systems)
        done = step - 1
        body += collapsible("answered", f"Answered so far ({done} step{'' if done == 1 else 's'})", answered)
    if form.reference:
        finish = " Press Finish when every step is done." if section is Section.SUMMARY else ""
        body.append(
            banner(
                f"{form.reference} is with the consultant on duty. Carry on with the rest of the contact "
                "on this card: each step you save updates its card on the decisions channel. History "
                "checks you cannot do now stay outstanding." + finish,
                "attention",
            )
        )
    body.extend(_fields_body(form))
    if section is Section.CHILDREN and _count(form.fields, "child") < MAX_CHILDREN:
        body.append(ActionSet(actions=[_submit(form, "Add another child", ADD_CHILD)]))
    if section is Section.SUMMARY and form.contact is not None:
        today = form.today or form.contact.created_at.astimezone(LONDON).date()
        body.extend(
            contact_details(form.contact, form.people_names, today, form.local_systems, collapse=True)
        )

    actions: list[Action] = []
    if section is Section.SUMMARY:
        label = "Finish" if form.reference else "Submit"
        actions.append(_submit(form, label, SUBMIT, style="positive"))
    elif section is Section.EMERGENCY:
        actions.append(_submit(form, "Next: tell the consultant now", NEXT, style="positive"))
    else:
        actions.append(_submit(form, "Next", NEXT, style="positive"))
    actions.append(_submit(form, "Save draft", SAVE))
    if step > 1 and not (form.reference and section is FIRST_AFTER_EMERGENCY):
        actions.append(_submit(form, "Back", BACK, associated_inputs="none"))
    if not form.reference:
        # An urgent contact that exists is with the consultants: it cannot be cancelled from here.
        actions.append(_submit(form, "Cancel", CANCEL, associated_inputs="none", style="destructive"))
    name = SECTION_TITLES[section]
    return to_dict(AdaptiveCard(body=body, actions=actions, fallback_text=f"{title}: {name}"))


def _submit(form: SectionForm, title: str, action: str, **options: Any) -> SubmitAction:
    return SubmitAction(title=title, data=_data(form, action), **options)


def history_checks_card(form: SectionForm, reference: str) -> dict[str, Any]:
    """The history checks of an urgent contact created without them, to record now (SPEC §3). Its
    button names the contact's reference and version; who records is the activity's sender."""
    body: list[CardElement] = [
        text_block(f"Urgent contact {reference}", is_subtle=True, size="Small"),
        text_block(f"Record the history checks: {reference}", size="Medium", weight="Bolder"),
    ]
    if form.notice:
        body.append(banner(form.notice, "accent"))
    body.extend(_fields_body(form))
    save = SubmitAction(
        title="Save history checks",
        style="positive",
        data={ACTION_KEY: HISTORY_SAVE, REFERENCE_KEY: reference, VERSION_KEY: form.version},
    )
    return to_dict(AdaptiveCard(body=body, actions=[save], fallback_text=f"History checks: {reference}"))


def set_aside_card(title: str, note: str) -> dict[str, Any]:
    """What a card that has been answered turns into, so it cannot be pressed again by mistake."""
    body: list[CardElement] = [text_block(title, weight="Bolder"), text_block(note, is_subtle=True)]
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
    body: list[CardElement] = [text_block("Your drafts", size="Medium", weight="Bolder")]
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
                                data={ACTION_KEY: OPEN, CONTACT_KEY: line.contact_id},
                            )
                        ]
                    ),
                ],
            )
        )
    return to_dict(AdaptiveCard(body=body, fallback_text="Your drafts"))


# -- a contact in full ---------------------------------------------------------------------------


# -- the receipt ---------------------------------------------------------------------------------


def receipt_card(result: SubmissionResult, now: datetime, outcomes: Sequence[str]) -> dict[str, Any]:
    """What the officer gets on submitting: the reference, when the clock started and runs out, and
    what was done with the contact (``outcomes``: one line per channel post or message); the
    script's card turns into it. It names nobody: it stays in the chat after the contact has gone
    on (the full record is ``find``'s, audited)."""
    body = _receipt_body(result, now, outcomes)
    return to_dict(AdaptiveCard(body=body, fallback_text=f"{_receipt_title(result)}: {result.reference}"))


def _receipt_title(result: SubmissionResult) -> str:
    if result.completed:
        return "Urgent contact finished"
    if result.contact.completing:
        return "Urgent contact created"
    return "Contact submitted"


def _receipt_body(result: SubmissionResult, now: datetime, outcomes: Sequence[str]) -> list[CardElement]:
    body: list[CardElement] = [
        text_block(_receipt_title(result), is_subtle=True, size="Small"),
        text_block(result.reference, size="Large", weight="Bolder"),
    ]
    if result.urgent:
        body.append(banner("Urgent: immediate risk", "attention"))
    if result.completed:
        # the consultants may have acted on it while the officer completed it
        body.append(text_block(f"Where it is now: {STATE_TITLES[result.contact.state]}."))
    else:
        body.append(text_block(_ROUTE_TEXT[result.route]))
    if result.urgent and not result.contact.history.recorded and not result.contact.completing:
        outstanding = "History checks: outstanding. Record them from the contact's record (find it)."
        body.append(text_block(outstanding))
    facts = [("Received", format_local(result.received_at)), *open_clock_facts(result.deadlines, now)]
    if result.repeat_of:
        facts.append(("Earlier contacts (12 months)", ", ".join(result.repeat_of)))
    body.append(fact_set(facts))
    body.extend(text_block(f"- {line}", spacing="None") for line in outcomes)
    return body


def _answered(
    contact: Contact, sections: Sequence[Section], local_systems: Sequence[ScriptChoice]
) -> list[CardElement]:
    """One line per section in ``sections`` (the ones answered), for the officer's own cards."""
    facts = [(title, plain(line)) for title, line in answer_lines(contact, sections, local_systems)]
    return [fact_set(facts)] if facts else []
