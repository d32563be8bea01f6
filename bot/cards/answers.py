"""The contact script's answers in a line per section, for the officer's own cards: the steps
answered so far on the script's card, and the contact as submitted on the receipt. Names and
details appear as typed (the officer's own chat only); the card builder escapes them."""

from __future__ import annotations

from collections.abc import Sequence

from frontdoor.contact import Contact, ImmediateRisk, PresentingNeed
from frontdoor.script import (
    CONSENT_TITLES,
    CONTACT_TYPE_TITLES,
    DEFAULT_LOCAL_SYSTEMS,
    NEED_TITLES,
    SECTION_TITLES,
    SOURCE_TITLES,
    Choice,
    Section,
)
from frontdoor.views import referrer_label

#: How long one section's line may be before it is cut.
LINE = 90


def answer_lines(
    contact: Contact, sections: Sequence[Section], local_systems: Sequence[Choice] = ()
) -> list[tuple[str, str]]:
    """(section title, its answers in a line) for each of ``sections`` that has answers."""
    lines = [(SECTION_TITLES[section], _cut(_line(contact, section, local_systems))) for section in sections]
    return [(title, line) for title, line in lines if line]


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LINE else text[: LINE - 1].rstrip() + "…"


def _line(contact: Contact, section: Section, local_systems: Sequence[Choice]) -> str:
    match section:
        case Section.SOURCE:
            source = SOURCE_TITLES[contact.source] if contact.source else ""
            kind = CONTACT_TYPE_TITLES[contact.contact_type] if contact.contact_type else ""
            return ", ".join(part for part in (source, kind) if part)
        case Section.RISK:
            count = sum(1 for risk in ImmediateRisk if risk in contact.immediate_risks)
            return f"Urgent: {count} yes" if count else "No immediate risk"
        case Section.EMERGENCY:
            return contact.emergency.child
        case Section.REFERRER:
            return referrer_label(contact.referrer, own_view=True) if contact.referrer else ""
        case Section.CHILDREN:
            return "; ".join(child.name for child in contact.children)
        case Section.PARENTS:
            consent = f"consent {CONSENT_TITLES[contact.consent].lower()}" if contact.consent else ""
            return "; ".join([*(parent.name for parent in contact.parents), *([consent] if consent else [])])
        case Section.WORRIES:
            needs = [NEED_TITLES[need] for need in PresentingNeed if need in contact.presenting_needs]
            return ", ".join(needs) or contact.worries
        case Section.HISTORY:
            if contact.urgent and not contact.history.recorded:
                return "outstanding"
            systems = dict(local_systems or DEFAULT_LOCAL_SYSTEMS)
            checked = ", ".join(systems.get(value, value) for value in contact.history.systems_checked)
            open_case = "open case" if contact.history.open_case else ""
            return "; ".join(part for part in (open_case, f"checked {checked}" if checked else "") if part)
        case Section.SUMMARY:
            return ""
