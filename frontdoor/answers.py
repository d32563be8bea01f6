"""A contact-form card's answers once read and checked (``frontdoor.validation.parse_section``): one
type per section of the script, and ``ParsedSection``, any of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from frontdoor.contact import (
    Child,
    Consent,
    ContactType,
    EmergencyDetails,
    HistoryChecks,
    ImmediateRisk,
    Parent,
    PresentingNeed,
    Referrer,
    Source,
)

__all__ = [
    "ChildrenAnswers",
    "EmergencyAnswers",
    "HistoryAnswers",
    "ParentsAnswers",
    "ParsedSection",
    "ReferrerAnswers",
    "RiskAnswers",
    "SourceAnswers",
    "SummaryAnswers",
    "WorriesAnswers",
]


@dataclass(frozen=True, slots=True)
class SourceAnswers:
    source: Source | None
    contact_type: ContactType | None
    #: None: not given, so the contact is received when it is submitted
    received_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReferrerAnswers:
    referrer: Referrer | None


@dataclass(frozen=True, slots=True)
class ChildrenAnswers:
    children: tuple[Child, ...]


@dataclass(frozen=True, slots=True)
class ParentsAnswers:
    parents: tuple[Parent, ...]
    consent: Consent | None
    consent_reason: str


@dataclass(frozen=True, slots=True)
class WorriesAnswers:
    worries: str
    working_well: str
    needs_to_happen: str
    presenting_needs: frozenset[PresentingNeed]


@dataclass(frozen=True, slots=True)
class RiskAnswers:
    #: the questions answered yes; any makes the contact urgent
    immediate_risks: frozenset[ImmediateRisk]


@dataclass(frozen=True, slots=True)
class EmergencyAnswers:
    emergency: EmergencyDetails


@dataclass(frozen=True, slots=True)
class HistoryAnswers:
    history: HistoryChecks


@dataclass(frozen=True, slots=True)
class SummaryAnswers:
    """The summary card asks nothing; it is here so every section parses."""


ParsedSection = (
    SourceAnswers
    | ReferrerAnswers
    | ChildrenAnswers
    | ParentsAnswers
    | WorriesAnswers
    | RiskAnswers
    | EmergencyAnswers
    | HistoryAnswers
    | SummaryAnswers
)
