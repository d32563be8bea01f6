"""Reading a screening decision from the decisions channel card's data (``_decision``): the route, the
rationale, the worker or officer chosen, the outcome and agency, consent for a service, whether the
contact stays with early help, and the sentence of a decider proceeding without consent
(``risk_of_harm``, also read by the casework's outcome). Anything the card cannot say is None.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.cards.decisions import (
    AGENCY_INPUT,
    EARLY_HELP_KEY,
    EARLY_HELP_STAYS,
    OFFICER_INPUT,
    OUTCOME_INPUT,
    RATIONALE_INPUT,
    ROUTE_KEY,
    WORKER_INPUT,
)
from bot.cards.work_inputs import Input
from bot.dialogs.carddata import text_input as _text
from frontdoor.decisions import ScreeningDecision, ScreeningRoute
from frontdoor.outcomes import Agency, OutcomeKind, ServiceConsent

__all__ = [
    "risk_of_harm",
]


def _decision(data: Mapping[str, Any]) -> ScreeningDecision | None:
    """The decision the card's button and inputs describe; None if the card cannot be read."""
    try:
        route = ScreeningRoute(_text(data, ROUTE_KEY))
        outcome = OutcomeKind(_text(data, OUTCOME_INPUT) or OutcomeKind.NO_FURTHER_ACTION.value)
        agency_text = _text(data, AGENCY_INPUT)
        agency = Agency(agency_text) if agency_text else None
    except ValueError:
        return None
    assignee = {ScreeningRoute.III: OFFICER_INPUT, ScreeningRoute.IV: WORKER_INPUT}.get(route)
    service = _text(data, Input.SERVICE_CONSENT.value)
    service_consent = ServiceConsent(service) if service in ServiceConsent.__members__.values() else None
    if _text(data, EARLY_HELP_KEY) == EARLY_HELP_STAYS:
        # the outcome is the decision's own (a referral to early help): the card's outcome and agency
        # choices are ignored; consent for a service is recorded as for any route II outcome
        return ScreeningDecision(
            route=route,
            rationale=_text(data, RATIONALE_INPUT),
            stays_with_early_help=True,
            service_consent=service_consent,
        )
    return ScreeningDecision(
        route=route,
        rationale=_text(data, RATIONALE_INPUT),
        assignee_id=_text(data, assignee) or None if assignee else None,
        outcome=outcome,
        # an agency belongs to a referral to another agency only; a leftover choice is ignored
        agency=agency if outcome is OutcomeKind.OTHER_AGENCY else None,
        service_consent=service_consent,
        risk_of_harm=risk_of_harm(data),
    )


def risk_of_harm(data: Mapping[str, Any]) -> str:
    """The sentence of a decider proceeding without consent, only when its tick is on."""
    return _text(data, Input.RISK_OF_HARM.value) if _text(data, Input.RISK_CONFIRMED.value) == "true" else ""
