"""Outcomes of a contact and the codec of the data its events carry (SPEC §3).

Decision particulars (the outcome, the receiving team, the agency, the assignee) are kept in the
``data`` of the contact's events, as a JSON object (``event_data``/``read_event_data``), so the
contact's current outcome is read from its history (``current_outcome``) rather than held in a
column of its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType

from frontdoor.calendar import require_aware
from frontdoor.contact import Consent, Contact, ContactEvent, ContactState


class OutcomeKind(StrEnum):
    """The outcomes of SPEC §3, recorded on every route that ends."""

    ACCEPTED = "accepted_for_assessment"
    ADVICE = "advice_and_guidance"
    OTHER_AGENCY = "referral_to_other_agency"
    NO_FURTHER_ACTION = "no_further_action"


OUTCOME_TITLES: Mapping[OutcomeKind, str] = MappingProxyType(
    {
        OutcomeKind.ACCEPTED: "Accepted for a statutory assessment",
        OutcomeKind.ADVICE: "Advice and guidance / signposting",
        OutcomeKind.OTHER_AGENCY: "Referral to another agency",
        OutcomeKind.NO_FURTHER_ACTION: "No further action",
    }
)


class Agency(StrEnum):
    """Where a contact may be referred on (SPEC §3)."""

    EARLY_HELP = "early_help"
    DOMESTIC_ABUSE = "domestic_abuse_service"
    DRUG_AND_ALCOHOL = "drug_and_alcohol_service"
    VOLUNTARY_SECTOR = "voluntary_sector"
    PARENTING_SUPPORT = "parenting_support"
    PROBATION = "probation"
    HEALTH = "health"


AGENCY_TITLES: Mapping[Agency, str] = MappingProxyType(
    {
        Agency.EARLY_HELP: "Early help",
        Agency.DOMESTIC_ABUSE: "Domestic abuse service",
        Agency.DRUG_AND_ALCOHOL: "Drug and alcohol service",
        Agency.VOLUNTARY_SECTOR: "Voluntary sector",
        Agency.PARENTING_SUPPORT: "Parenting support",
        Agency.PROBATION: "Probation",
        Agency.HEALTH: "Health",
    }
)


class ServiceConsent(StrEnum):
    """Whether there is consent for a service, recorded with every outcome (SPEC §3)."""

    GIVEN = "given"
    NOT_GIVEN = "not_given"


SERVICE_CONSENT_TITLES: Mapping[ServiceConsent, str] = MappingProxyType(
    {
        ServiceConsent.GIVEN: "Consent for a service: given",
        ServiceConsent.NOT_GIVEN: "Consent for a service: not given",
    }
)

#: The consents on a contact that mean a decider proceeding with enquiries does so without consent.
WITHOUT_CONSENT: frozenset[Consent] = frozenset({Consent.REFUSED, Consent.NOT_SOUGHT})


def without_consent(contact: Contact, *, cp_decision: bool = False) -> bool:
    """Whether a decider proceeding with enquiries on ``contact`` does so without the parents' consent
    (SPEC §3): consent refused or not sought, or not recorded yet (an urgent contact whose officer has
    not reached the consent card). The one exception is ``cp_decision``, route I's 2-hour
    child-protection decision, which is never held up for the consent card: consent not recorded yet
    is not consent refused, and the accepted outcome that follows confirms it if consent is still not
    given by then."""
    if contact.consent is None:
        return not cp_decision
    return contact.consent in WITHOUT_CONSENT


def without_consent_problem(contact: Contact, risk_of_harm: str, *, cp_decision: bool = False) -> str | None:
    """What to fix when a decider proceeds on ``contact`` without consent and has not confirmed, with
    a sentence, that the evidence suggests a risk of harm (SPEC §3); None when nothing is missing. The
    one rule for every decision that proceeds: routes I and IV, the duty manager's re-referral
    decisions, an accepted outcome and a social worker's recommendation to progress to referral."""
    if not without_consent(contact, cp_decision=cp_decision) or risk_of_harm.strip():
        return None
    return (
        "Without consent: consent was refused, not sought or is not recorded yet, so tick that the "
        "evidence suggests a risk of harm and say why in a sentence"
    )


def without_consent_data(
    contact: Contact, risk_of_harm: str, *, cp_decision: bool = False
) -> dict[str, DataValue]:
    """The event data of a decision proceeding on ``contact``: the confirmation and its sentence when
    it proceeds without consent, else nothing."""
    if not without_consent(contact, cp_decision=cp_decision):
        return {}
    return {"without_consent": True, "risk_of_harm": risk_of_harm.strip()}


#: Why an accepted outcome must name its receiving team manager: the receiving team hears of the
#: contact through them when it is signed off, and only they may challenge the threshold (SPEC §3).
RECEIVING_MANAGER_NEEDED = (
    "Receiving team manager: choose the receiving team's manager, who is told when the contact is "
    "signed off and may challenge the threshold"
)

#: Longest receiving-team name accepted: a team name, not a note.
TEAM_NAME_MAX_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Outcome:
    """An outcome with its rationale. ``receiving_team`` and ``strategy_discussion`` belong to an
    accepted contact only, ``agency`` to a referral to another agency only (see ``problems``)."""

    kind: OutcomeKind
    rationale: str
    receiving_team: str = ""
    strategy_discussion: bool = False
    agency: Agency | None = None
    #: an accepted contact: the receiving team's manager (a team manager's directory id), who is told
    #: when it is signed off and may challenge it; required for an accepted outcome ("" only on
    #: outcomes recorded before it was, and on the others)
    receiving_manager_id: str = ""
    #: whether there is consent for a service (None: not recorded, as on outcomes from before it was asked)
    service_consent: ServiceConsent | None = None
    #: a decider accepting without the parents' consent: the sentence confirming the evidence
    #: suggests a risk of harm (given only with the tick); "" otherwise
    risk_of_harm: str = ""

    @property
    def accepted(self) -> bool:
        return self.kind is OutcomeKind.ACCEPTED

    @property
    def title(self) -> str:
        if self.kind is OutcomeKind.OTHER_AGENCY and self.agency is not None:
            return f"{OUTCOME_TITLES[self.kind]}: {AGENCY_TITLES[self.agency]}"
        return OUTCOME_TITLES[self.kind]

    def problems(self) -> tuple[str, ...]:
        """What is wrong with this outcome, as messages fit to show; empty when it may be recorded."""
        found: list[str] = []
        if not self.rationale.strip():
            found.append("Rationale: every outcome needs a rationale")
        team = self.receiving_team.strip()
        if self.accepted:
            if not team:
                found.append("Receiving team: name the team the contact is accepted by")
            elif len(team) > TEAM_NAME_MAX_LENGTH or "\n" in team:
                found.append(f"Receiving team: a team name of at most {TEAM_NAME_MAX_LENGTH} characters")
            if not self.receiving_manager_id.strip():
                found.append(RECEIVING_MANAGER_NEEDED)
        elif team or self.strategy_discussion or self.receiving_manager_id.strip():
            found.append(
                "Receiving team, its manager and strategy discussion belong to an accepted contact only"
            )
        if self.kind is OutcomeKind.OTHER_AGENCY and self.agency is None:
            found.append("Agency: choose the agency the contact is referred to")
        if self.kind is not OutcomeKind.OTHER_AGENCY and self.agency is not None:
            found.append("Agency: only a referral to another agency names an agency")
        return tuple(found)

    def audit_detail(self) -> str:
        """The outcome as an audit detail: closed vocabulary only (no team name, no rationale)."""
        parts = [f"outcome={self.kind.value}"]
        if self.accepted:
            parts.append(f"strategy_discussion={'yes' if self.strategy_discussion else 'no'}")
            if self.receiving_manager_id.strip():
                parts.append(f"receiving_manager={self.receiving_manager_id.strip()}")
        if self.agency is not None:
            parts.append(f"agency={self.agency.value}")
        if self.service_consent is not None:
            parts.append(f"service_consent={self.service_consent.value}")
        if self.risk_of_harm.strip():
            parts.append("without_consent=yes")
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class RecordedOutcome:
    """The outcome a contact carries now, who recorded it and when."""

    outcome: Outcome
    decided_by: str
    at: datetime


# -- event data -----------------------------------------------------------------------------------

DataValue = str | bool


def event_data(values: Mapping[str, DataValue]) -> str:
    """``values`` as the ``data`` of a ``ContactEvent``: compact JSON with sorted keys ("" if empty)."""
    if not values:
        return ""
    return json.dumps(dict(values), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def read_event_data(event: ContactEvent) -> dict[str, DataValue]:
    """An event's ``data`` back as a mapping; anything unreadable reads as nothing, so a damaged
    row never stops a contact from loading."""
    if not event.data:
        return {}
    try:
        raw = json.loads(event.data)
    except ValueError:
        return {}
    if not isinstance(raw, dict):
        return {}
    return {str(key): value for key, value in raw.items() if isinstance(value, str | bool)}


def outcome_data(outcome: Outcome) -> dict[str, DataValue]:
    """An outcome's particulars as event data; its rationale is the event's own rationale."""
    data: dict[str, DataValue] = {"outcome": outcome.kind.value}
    if outcome.accepted:
        data["receiving_team"] = outcome.receiving_team.strip()
        data["strategy_discussion"] = outcome.strategy_discussion
        if outcome.receiving_manager_id.strip():
            data["receiving_manager"] = outcome.receiving_manager_id.strip()
    if outcome.agency is not None:
        data["agency"] = outcome.agency.value
    if outcome.service_consent is not None:
        data["service_consent"] = outcome.service_consent.value
    if outcome.risk_of_harm.strip():
        data["without_consent"] = True
        data["risk_of_harm"] = outcome.risk_of_harm.strip()
    return data


def _outcome_of(event: ContactEvent) -> Outcome | None:
    data = read_event_data(event)
    kind, agency = data.get("outcome"), data.get("agency")
    if not isinstance(kind, str) or kind not in OutcomeKind.__members__.values():
        return None
    team = data.get("receiving_team", "")
    manager = data.get("receiving_manager", "")
    service, harm = data.get("service_consent"), data.get("risk_of_harm", "")
    return Outcome(
        kind=OutcomeKind(kind),
        rationale=event.rationale,
        receiving_team=team if isinstance(team, str) else "",
        strategy_discussion=data.get("strategy_discussion") is True,
        agency=Agency(agency) if isinstance(agency, str) and agency in Agency.__members__.values() else None,
        receiving_manager_id=manager if isinstance(manager, str) else "",
        service_consent=ServiceConsent(service)
        if isinstance(service, str) and service in ServiceConsent.__members__.values()
        else None,
        risk_of_harm=harm if isinstance(harm, str) else "",
    )


def current_outcome(contact: Contact) -> RecordedOutcome | None:
    """The outcome the contact carries now: the latest one recorded in its history, unless it has
    since gone back to screening for a fresh decision."""
    found: RecordedOutcome | None = None
    for event in contact.events:
        if event.to_state is ContactState.AWAITING_SCREENING:
            found = None
        outcome = _outcome_of(event)
        if outcome is not None:
            found = RecordedOutcome(outcome, event.actor_id, event.at)
    return found


def add_event_data(contact: Contact, values: Mapping[str, DataValue]) -> Contact:
    """``contact`` with ``values`` set as the data of its last event (the one just appended)."""
    if not contact.events:
        raise ValueError("the contact has no event to add data to")
    last = replace(contact.events[-1], data=event_data(values))
    return replace(contact, events=(*contact.events[:-1], last))


def note(
    contact: Contact,
    actor_id: str,
    at: datetime,
    action: str,
    rationale: str = "",
    values: Mapping[str, DataValue] | None = None,
) -> Contact:
    """``contact`` with an event recording work that does not move it (``to_state`` None)."""
    if not actor_id.strip():
        raise ValueError("an event needs the id of the person making it")
    event = ContactEvent(
        at=require_aware(at, "event time").astimezone(UTC),
        actor_id=actor_id,
        action=action,
        from_state=contact.state,
        to_state=None,
        rationale=rationale.strip(),
        data=event_data(values or {}),
    )
    return replace(contact, events=(*contact.events, event))
