"""What is recorded about a contact, drawn for the people who may see it (``contact_details``: the
full record's parts in the script's order), the titles of its states, and the small drawing
helpers the contact's cards share (the script, the receipt, the full record, the worker's card)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from microsoft_teams.cards import (
    CardElement,
    Container,
    ContainerStyle,
    Fact,
    FactSet,
    TextBlock,
)

from bot.cards.clocks import CLOCK_TITLES
from bot.cards.collapse import collapsible
from frontdoor.contact import Contact, ContactState, ImmediateRisk, PresentingNeed
from frontdoor.records import Deadline, DeadlineState
from frontdoor.script import (
    CONSENT_TITLES,
    CONTACT_TYPE_TITLES,
    DEFAULT_LOCAL_SYSTEMS,
    GENDER_CHOICES,
    NEED_TITLES,
    RISK_QUESTIONS,
    SECTION_TITLES,
    SOURCE_TITLES,
    Section,
)
from frontdoor.script import Choice as ScriptChoice
from frontdoor.timefmt import format_due, format_local
from frontdoor.views import child_summary, format_phone, referrer_label

__all__ = [
    "STATE_TITLES",
    "banner",
    "contact_details",
    "fact_set",
    "open_clock_facts",
    "part_heading",
    "plain",
    "text_block",
    "text_section",
]

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

_MARKDOWN = re.compile(r"([\\`*_\[\]()#>~|])")


def plain(text: str) -> str:
    """``text`` with Markdown's special characters escaped, for a TextBlock or a fact."""
    return _MARKDOWN.sub(r"\\\1", text)


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def text_block(text: str, **options: Any) -> TextBlock:
    """A TextBlock that wraps."""
    return TextBlock(text=text, wrap=True, **options)


def banner(text: str, style: ContainerStyle) -> Container:
    """A bold line in a coloured container (urgent, sent back…)."""
    return Container(style=style, items=[text_block(text, weight="Bolder")])


def fact_set(pairs: Sequence[tuple[str, str]]) -> FactSet:
    """The facts with a value (an empty one is left out)."""
    return FactSet(facts=[Fact(title=title, value=value) for title, value in pairs if value])


def text_section(title: str, text: str) -> list[CardElement]:
    """A bold title and the free text under it (Markdown escaped); nothing when it is empty."""
    if not text.strip():
        return []
    return [text_block(title, weight="Bolder", spacing="Small"), text_block(plain(text), spacing="None")]


def part_heading(title: str) -> TextBlock:
    """A part's heading, with a line above it."""
    return text_block(title, size="Medium", weight="Bolder", separator=True)


def contact_details(
    contact: Contact,
    people_names: Mapping[str, str],
    today: date,
    local_systems: Sequence[ScriptChoice] = DEFAULT_LOCAL_SYSTEMS,
    *,
    collapse: bool = False,
) -> list[CardElement]:
    """Everything recorded about ``contact``, in the script's order (the contact's own view), with
    children's ages on ``today``. With ``collapse``, what comes after the immediate risk (referrer,
    children, parents, worries, history) is folded behind a "Show" line per part."""
    parts = _detail_parts(contact, people_names, today, local_systems)
    body: list[CardElement] = []
    for index, (title, items) in enumerate(parts):
        if collapse and title in _FOLDED:
            body += collapsible(f"details-{index}", title, items, separator=True)
        else:
            body += [part_heading(title), *items]
    return body


#: The parts of a contact folded away on the summary and the full record.
_FOLDED = frozenset(
    {
        SECTION_TITLES[Section.REFERRER],
        SECTION_TITLES[Section.CHILDREN],
        SECTION_TITLES[Section.PARENTS],
        "Worries and needs",
        SECTION_TITLES[Section.HISTORY],
    }
)


def _detail_parts(
    contact: Contact,
    people_names: Mapping[str, str],
    today: date,
    local_systems: Sequence[ScriptChoice],
) -> list[tuple[str, list[CardElement]]]:
    """``contact_details``' parts: (heading, what is under it)."""
    referrer = contact.referrer
    received = format_local(contact.received_at) if contact.received_at else "when submitted"
    yes = [RISK_QUESTIONS[risk] for risk in ImmediateRisk if risk in contact.immediate_risks]
    parts: list[tuple[str, list[CardElement]]] = [
        (
            SECTION_TITLES[Section.SOURCE],
            [
                fact_set(
                    [
                        ("Source", SOURCE_TITLES[contact.source] if contact.source else "not recorded"),
                        (
                            "Contact type",
                            CONTACT_TYPE_TITLES[contact.contact_type]
                            if contact.contact_type
                            else "not recorded",
                        ),
                        ("Received", received),
                    ]
                )
            ],
        ),
        (
            SECTION_TITLES[Section.RISK],
            [text_block("\n".join(f"- Yes: {q}" for q in yes) if yes else "No immediate risk.")],
        ),
    ]
    emergency = contact.emergency
    if emergency.child or emergency.whereabouts or emergency.phone:
        emergency_facts = [
            ("Child", plain(emergency.child)),
            ("Where the child is now", plain(emergency.whereabouts)),
            ("Referrer's phone", format_phone(emergency.phone)),
        ]
        parts.append((SECTION_TITLES[Section.EMERGENCY], [fact_set(emergency_facts)]))
    referrer_facts = [
        ("Referrer", plain(referrer_label(referrer, own_view=True))),
        ("Phone", format_phone(referrer.phone) if referrer else ""),
        ("E-mail", plain(referrer.email) if referrer else ""),
    ]
    parts.append((SECTION_TITLES[Section.REFERRER], [fact_set(referrer_facts)]))
    parts.append((SECTION_TITLES[Section.CHILDREN], _children_details(contact, today)))
    parts.append((SECTION_TITLES[Section.PARENTS], _parents_details(contact)))
    needs = ", ".join(NEED_TITLES[need] for need in PresentingNeed if need in contact.presenting_needs)
    worries: list[CardElement] = [fact_set([("Presenting needs", needs or "none chosen")])]
    worries.extend(text_section("What are we worried about", contact.worries))
    worries.extend(text_section("What is working well", contact.working_well))
    worries.extend(text_section("What needs to happen", contact.needs_to_happen))
    parts.append(("Worries and needs", worries))
    parts.append((SECTION_TITLES[Section.HISTORY], _history_details(contact, people_names, local_systems)))
    return parts


def _children_details(contact: Contact, today: date) -> list[CardElement]:
    children: list[CardElement] = []
    genders = dict(GENDER_CHOICES)
    for index, child in enumerate(contact.children):
        born = _day(child.date_of_birth) if child.date_of_birth else ""
        due = f"expected {_day(child.expected_date)}" if child.expected_date else ""
        children.append(
            fact_set(
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
        children.append(text_block("No children recorded yet.", is_subtle=True))
    return children


def _parents_details(contact: Contact) -> list[CardElement]:
    parents: list[CardElement] = []
    for index, parent in enumerate(contact.parents):
        parents.append(
            fact_set(
                [
                    (f"Parent or carer {index + 1}", plain(parent.name)),
                    ("Relationship", plain(parent.relationship)),
                    ("Address", plain(parent.address.replace("\n", ", "))),
                    ("Phone", format_phone(parent.phone)),
                ]
            )
        )
    parents.append(
        fact_set([("Consent", CONSENT_TITLES[contact.consent] if contact.consent else "not recorded")])
    )
    parents.extend(text_section("Why consent was not sought", contact.consent_reason))
    return parents


def _history_details(
    contact: Contact, people_names: Mapping[str, str], local_systems: Sequence[ScriptChoice]
) -> list[CardElement]:
    history = contact.history
    if contact.urgent and not history.recorded:
        return [
            banner(
                "History checks: outstanding. This urgent contact was created before they were done; "
                "an officer or a consultant records them.",
                "warning",
            )
        ]
    systems = dict(local_systems)
    worker = history.allocated_worker_id
    last = history.last_worker_id
    early = history.early_help_worker_id
    body: list[CardElement] = [
        fact_set(
            [
                ("Open case", "Yes" if history.open_case else "No"),
                ("Allocated worker", plain(people_names.get(worker) or worker) if worker else ""),
                ("Open to early help", "Yes" if history.open_to_early_help else "No"),
                ("Early help worker", plain(people_names.get(early) or early) if early else ""),
                ("Last case closed", _day(history.closed_on) if history.closed_on else "No closure recorded"),
                ("Last worker", plain(people_names.get(last) or last) if last else ""),
                (
                    "Checks done",
                    ", ".join(systems.get(value, value) for value in history.systems_checked) or "none",
                ),
            ]
        )
    ]
    body.extend(text_section("Chronology", history.chronology))
    return body


def open_clock_facts(deadlines: Sequence[Deadline], now: datetime) -> list[tuple[str, str]]:
    """Each open clock's title and due time (and how long from ``now``), soonest first."""
    open_ones = sorted(
        (d for d in deadlines if d.state is DeadlineState.OPEN), key=lambda d: (d.due_at, d.clock.value)
    )
    return [
        (CLOCK_TITLES[d.clock], f"{format_local(d.due_at)} ({format_due(d.due_at, now)})") for d in open_ones
    ]
