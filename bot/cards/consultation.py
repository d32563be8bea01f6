"""Consultation cards: the form (with the server's errors and the guard's findings), the receipt,
a found consultation, and what a cancelled or finished form turns into.

The form is one card from start to save: an error re-shows it with everything typed kept and a
message beside each field that needs changing. Text the guard flagged is never repeated as it
was: the card names what was found and shows the text with each finding replaced by a
placeholder such as ``[postcode]``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from microsoft_teams.cards import (
    Action,
    AdaptiveCard,
    Fact,
    FactSet,
    InputTextStyle,
    SubmitAction,
    TextBlock,
    TextInput,
    ToggleInput,
)

from bot.cards.common import flag, to_dict
from bot.cards.keys import ACTION_KEY, FORM_KEY
from frontdoor.consultation import (
    MAX_OVERRIDE_REASON_CHARS,
    MAX_PHONE_CHARS,
    MAX_SHORT_FIELD_CHARS,
    Consultation,
    ConsultationDraft,
    ConsultationField,
    FieldFindings,
)
from frontdoor.guard import summarise
from frontdoor.timefmt import format_local

#: ``fd`` values of the form's buttons (see ``bot.routing.ACTION_KEY``).
SAVE: Final = "consultation.save"
OVERRIDE: Final = "consultation.override"
CANCEL: Final = "consultation.cancel"

F = ConsultationField

_INTRO = (
    "Talk through a worry **without identifying the child or family**: no names of children or "
    "family members, dates of birth, addresses, postcodes, phone numbers or NHS numbers."
)


# Teams renders a TextBlock's text as Markdown: what people typed is shown as typed, not as links.
_MARKDOWN = re.compile(r"([\\`*_\[\]()#>~|])")


def plain(text: str) -> str:
    """``text`` with Markdown's special characters escaped, for a TextBlock."""
    return _MARKDOWN.sub(r"\\\1", text)


@dataclass(frozen=True, slots=True)
class ConsultationForm:
    """Everything the form card shows."""

    form_id: str
    draft: ConsultationDraft
    #: front-door staff see the advice, "on behalf of a caller" and, when offered, the override
    staff: bool
    max_text_chars: int
    message: str = ""
    #: field name → what is wrong with it
    errors: Mapping[str, str] = field(default_factory=dict)
    findings: Sequence[FieldFindings] = ()
    can_override: bool = False
    override_reason: str = ""


def _shown(form: ConsultationForm) -> frozenset[str]:
    """The fields the form card shows."""
    shown = {F.PROFESSIONAL_NAME, F.AGENCY, F.PROFESSIONAL_ROLE, F.CONTACT_PHONE, F.WORRY}
    if form.staff:
        shown |= {F.ON_BEHALF, F.ADVICE}
    if form.can_override:
        shown.add(F.OVERRIDE_REASON)
    return frozenset(name.value for name in shown)


def _error(text: str) -> TextBlock:
    return TextBlock(text=plain(text), color="Attention", size="Small", spacing="None", wrap=True)


def _findings_of(form: ConsultationForm, name: ConsultationField) -> list[Any]:
    found = next((f for f in form.findings if f.field is name), None)
    if found is None:
        return []
    label = "The worry" if name is F.WORRY else "The advice"
    return [
        _error(f"{label} seems to contain {summarise(found.findings)}. Remove it, or say it another way:"),
        TextBlock(text=plain(found.preview), is_subtle=True, size="Small", spacing="None", wrap=True),
    ]


def _text_input(
    form: ConsultationForm,
    name: ConsultationField,
    label: str,
    *,
    max_length: int,
    required_message: str | None = None,
    multiline: bool = False,
    placeholder: str | None = None,
    style: InputTextStyle | None = None,
) -> list[Any]:
    value = form.override_reason if name is F.OVERRIDE_REASON else form.draft.text_of(name)
    element = TextInput(
        id=name.value,
        label=label,
        value=value or None,
        max_length=max_length,
        is_multiline=multiline or None,
        placeholder=placeholder,
        is_required=True if required_message else None,
        error_message=required_message,
        style=style,
    )
    items: list[Any] = [element]
    if message := form.errors.get(name.value):
        items.append(_error(message))
    return items


def _submit(title: str, action: str, form_id: str, **options: Any) -> SubmitAction:
    return SubmitAction(title=title, data={ACTION_KEY: action, FORM_KEY: form_id}, **options)


def consultation_form_card(form: ConsultationForm) -> dict[str, Any]:
    draft = form.draft
    body: list[Any] = [
        TextBlock(text="Consultation", size="Large", weight="Bolder", wrap=True),
        TextBlock(text=_INTRO, wrap=True, is_subtle=True, spacing="Small"),
    ]
    if form.message:
        body.append(TextBlock(text=plain(form.message), color="Attention", weight="Bolder", wrap=True))
    # An error about a field this card does not show (a forged or outdated press) still says what.
    body += [_error(message) for name, message in form.errors.items() if name not in _shown(form)]
    if form.staff:
        body.append(
            ToggleInput(
                id=F.ON_BEHALF.value,
                title="I am logging this for a caller on the phone",
                value="true" if draft.on_behalf else "false",
                value_on="true",
                value_off="false",
                wrap=True,
            )
        )
        if message := form.errors.get(F.ON_BEHALF.value):
            body.append(_error(message))
        body.append(
            TextBlock(
                text="The professional: the caller, when you log it for them; otherwise you.",
                weight="Bolder",
                wrap=True,
            )
        )
    who = "the professional's" if form.staff else "your"
    body += _text_input(
        form,
        F.PROFESSIONAL_NAME,
        "Name",
        max_length=MAX_SHORT_FIELD_CHARS,
        required_message=f"Give {who} name: consultations are never anonymous.",
    )
    body += _text_input(
        form, F.AGENCY, "Agency", max_length=MAX_SHORT_FIELD_CHARS, required_message=f"Give {who} agency."
    )
    body += _text_input(form, F.PROFESSIONAL_ROLE, "Role (optional)", max_length=MAX_SHORT_FIELD_CHARS)
    body += _text_input(
        form,
        F.CONTACT_PHONE,
        "Phone number to call back (optional)",
        max_length=MAX_PHONE_CHARS,
        style="Tel",
    )
    body += _text_input(
        form,
        F.WORRY,
        "What is the worry?",
        max_length=form.max_text_chars,
        required_message="Describe the worry.",
        multiline=True,
        placeholder="What has happened, what you have seen or been told, and what is working well.",
    )
    body += _findings_of(form, F.WORRY)
    if form.staff:
        body += _text_input(form, F.ADVICE, "Advice given", max_length=form.max_text_chars, multiline=True)
        body += _findings_of(form, F.ADVICE)
    actions: list[Action] = [_submit("Save", SAVE, form.form_id, style="positive")]
    if form.can_override:
        body.append(
            TextBlock(
                text="Staff may save it as it is when the text is not about the family, for example "
                "a school's own number.",
                separator=True,
                is_subtle=True,
                wrap=True,
            )
        )
        body += _text_input(
            form,
            F.OVERRIDE_REASON,
            "To save it as it is, give the reason (it is recorded and audited)",
            max_length=MAX_OVERRIDE_REASON_CHARS,
            multiline=True,
        )
        actions.append(_submit("Save with this reason", OVERRIDE, form.form_id))
    actions.append(_submit("Cancel", CANCEL, form.form_id, associated_inputs="none"))
    card = AdaptiveCard(body=body, actions=actions, fallback_text="Consultation form")
    return to_dict(card)


#: Who gave advice when the directory has no name for them.
_STAFF = "front-door staff"


def _facts(consultation: Consultation, names: Mapping[str, str]) -> list[Fact]:
    c = consultation
    facts = [
        Fact(title="Reference", value=c.reference),
        Fact(title="Logged", value=format_local(c.created_at)),
        Fact(title="Professional", value=plain(c.professional_name)),
        Fact(title="Agency", value=plain(c.agency)),
    ]
    if c.professional_role:
        facts.append(Fact(title="Role", value=plain(c.professional_role)))
    if c.contact_phone:
        facts.append(Fact(title="Phone", value=plain(c.contact_phone)))
    if c.on_behalf:
        facts.append(Fact(title="Logged for them by", value=plain(names.get(c.author_id, _STAFF))))
    if c.advised_by:
        facts.append(Fact(title="Advice given by", value=plain(names.get(c.advised_by, _STAFF))))
    facts.append(Fact(title="Linked contact", value=c.linked_contact_reference or "none yet"))
    return facts


def _section(title: str, text: str) -> list[Any]:
    return [
        TextBlock(text=title, weight="Bolder", wrap=True, spacing="Medium"),
        TextBlock(text=plain(text), wrap=True, spacing="Small"),
    ]


def receipt_card(
    consultation: Consultation,
    names: Mapping[str, str],
    *,
    retention_months: int,
    staff: bool,
    repeated: bool = False,
) -> dict[str, Any]:
    """What the form turns into once saved: the reference, the advice, and how to quote it."""
    c = consultation
    body: list[Any] = [
        TextBlock(text=f"Consultation saved: {c.reference}", size="Large", weight="Bolder", wrap=True),
    ]
    if repeated:
        body.append(
            TextBlock(text=f"This form was already saved as {c.reference}.", is_subtle=True, wrap=True)
        )
    body.append(FactSet(facts=_facts(c, names)))
    body += _section("Advice", c.advice or "No advice was recorded with this consultation.")
    if c.override_reason:
        body.append(flag("Saved despite the identifying-data warnings; the reason is recorded.", "warning"))
    if staff:
        quote = (
            f"Ask the caller to quote {c.reference} if they make a referral. When a contact is taken, "
            f"link the two with link {c.reference} followed by the contact's CT- reference."
        )
    else:
        quote = (
            f"Quote {c.reference} when you make the referral, so the front door can link it to this "
            "consultation."
        )
    months = "month" if retention_months == 1 else "months"
    body += _section(
        "If the worry becomes a referral",
        f"{quote} Type find {c.reference} to see it again. Consultations are deleted "
        f"{retention_months} {months} after they are logged.",
    )
    return to_dict(AdaptiveCard(body=body, fallback_text=f"Consultation saved: {c.reference}"))


def consultation_card(consultation: Consultation, names: Mapping[str, str]) -> dict[str, Any]:
    """A consultation as ``find`` shows it."""
    c = consultation
    body: list[Any] = [
        TextBlock(text=f"Consultation {c.reference}", size="Large", weight="Bolder", wrap=True),
        FactSet(facts=_facts(c, names)),
        *_section("The worry", c.worry),
        *_section("Advice", c.advice or "No advice was recorded."),
    ]
    if c.override_reason:
        body += _section("Saved despite the identifying-data warnings, because", c.override_reason)
    return to_dict(AdaptiveCard(body=body, fallback_text=f"Consultation {c.reference}"))


def closed_form_card(text: str) -> dict[str, Any]:
    """What a cancelled form turns into: no inputs or buttons left to press."""
    return to_dict(
        AdaptiveCard(
            body=[
                TextBlock(text="Consultation", size="Large", weight="Bolder", wrap=True),
                TextBlock(text=text, wrap=True),
            ],
            fallback_text=text,
        )
    )
