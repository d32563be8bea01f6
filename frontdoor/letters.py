"""The outcome letter to the referrer (SPEC §3 "Sign-off"): plain text an officer can send.

Who is written to: professional referrers only. Members of the public and family members are told
at the time of the call that they will not be informed of the outcome, and get no letter (SPEC §3);
nor does a child who called. For them ``outcome_letter`` returns None and the use case records that
the referrer was not told. An anonymous member of the public is never named (SPEC §8) either way.

What a letter says, and why no more:

- the front door's reference, the date, and the referrer's name and agency as the addressee;
- the date of the contact and the children's first names, so the referrer knows which call it
  answers (they gave us the names); an unborn baby is "an unborn baby";
- the outcome in plain words, with the receiving team or the agency, because a professional will
  work with them.

Never: surnames, dates of birth, addresses, parents' names, the worries or any other text typed on
the contact, the rationale, presenting needs, the strategy-discussion decision, or staff names.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from frontdoor.calendar import LONDON, require_aware
from frontdoor.contact import Child, Contact, Referrer, ReferrerType
from frontdoor.outcomes import Agency, Outcome, OutcomeKind
from frontdoor.script import UNBORN_NAME

__all__ = [
    "DEFAULT_SERVICE_NAME",
    "children_phrase",
    "letter_date",
    "outcome_in_plain_words",
    "outcome_letter",
    "referrer_is_told",
]

DEFAULT_SERVICE_NAME = "Children's Services Front Door"

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

#: How an agency is named to a professional in a sentence.
_AGENCY_IN_A_SENTENCE: dict[Agency, str] = {
    Agency.EARLY_HELP: "the early help service",
    Agency.DOMESTIC_ABUSE: "the domestic abuse service",
    Agency.DRUG_AND_ALCOHOL: "the drug and alcohol service",
    Agency.VOLUNTARY_SECTOR: "a voluntary sector organisation",
    Agency.PARENTING_SUPPORT: "the parenting support service",
    Agency.PROBATION: "the probation service",
    Agency.HEALTH: "health services",
}

_NOT_INVOLVED = "We have decided that children's social care does not need to be involved."


def referrer_is_told(referrer: Referrer | None) -> bool:
    """Whether the referrer gets an outcome letter: professionals only (SPEC §3). Members of the
    public and family members are told on the call that they will not hear the outcome."""
    return referrer is not None and referrer.type is ReferrerType.PROFESSIONAL


def letter_date(day: date) -> str:
    """``date(2026, 3, 16)`` -> ``"16 March 2026"``, whatever the server's locale."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _first_name(child: Child) -> str:
    if child.name.strip().casefold() == UNBORN_NAME.casefold():
        return "an unborn baby"
    words = child.name.split()
    return words[0] if words else "a child"


def children_phrase(children: Sequence[Child]) -> str:
    """``"Zebedee"``, ``"Zebedee and Amy"``, ``"Zebedee, Amy and an unborn baby"``."""
    names = [_first_name(child) for child in children] or ["a child"]
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"


def outcome_in_plain_words(outcome: Outcome, *, professional: bool) -> str:
    """The outcome as the letter says it."""
    match outcome.kind:
        case OutcomeKind.ACCEPTED:
            if professional and outcome.receiving_team.strip():
                return (
                    "We have decided that a social work assessment is needed. The referral has been "
                    f"passed to {outcome.receiving_team.strip()}, who may contact you for more information."
                )
            return "We have decided that a social worker needs to look into this further."
        case OutcomeKind.ADVICE:
            return f"{_NOT_INVOLVED} Advice and guidance have been given about services that may help."
        case OutcomeKind.OTHER_AGENCY:
            if professional and outcome.agency is not None:
                where = _AGENCY_IN_A_SENTENCE[outcome.agency]
                return (
                    f"{_NOT_INVOLVED} We have passed the information to {where}, "
                    "who are better placed to help."
                )
            return (
                f"{_NOT_INVOLVED} We have passed the information to another service that can offer support."
            )
        case OutcomeKind.NO_FURTHER_ACTION:
            return "We have decided that no further action by children's social care is needed at this time."


def outcome_letter(
    contact: Contact,
    outcome: Outcome,
    issued_at: datetime,
    *,
    service_name: str = DEFAULT_SERVICE_NAME,
) -> str | None:
    """The outcome letter to ``contact``'s referrer, or None when the referrer is not told."""
    referrer = contact.referrer
    if referrer is None or not referrer_is_told(referrer):
        return None
    issued = require_aware(issued_at, "letter date").astimezone(LONDON).date()
    addressee = [part.strip() for part in (referrer.name, referrer.agency) if part.strip()]
    greeting = referrer.name.strip() or "Sir or Madam"
    contacted = ""
    if contact.received_at is not None:
        contacted = f" on {letter_date(contact.received_at.astimezone(LONDON).date())}"
    opening = f"Thank you for contacting us{contacted} about {children_phrase(contact.children)}."

    lines = [
        service_name,
        f"Our reference: {contact.reference or ''}",
        letter_date(issued),
        "",
        *addressee,
        *([""] if addressee else []),
        f"Dear {greeting},",
        "",
        opening,
        "",
        outcome_in_plain_words(outcome, professional=True),
        "",
        "If you have new worries, please contact us again and quote the reference above. "
        "If a child is in immediate danger, call 999.",
        "",
        "Yours sincerely,",
        "",
        service_name,
    ]
    return "\n".join(lines) + "\n"
