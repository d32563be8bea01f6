"""The outcome form (SPEC §3), shared by the personal card (``bot.cards.work``) and the decisions
channel card: the outcome and its rationale, whether there is consent for a service, the tick and
sentence of a decider proceeding without consent, and for an accepted contact the receiving team,
strategy discussion and receiving team manager.
"""

from __future__ import annotations

from collections.abc import Sequence

from microsoft_teams.cards import CardElement, ChoiceSetInput, TextBlock, TextInput, ToggleInput
from microsoft_teams.cards import Choice as CardChoice

from bot.cards.work_inputs import _MAX_TEXT, Input, _agency_choice, _notes
from frontdoor.outcomes import OUTCOME_TITLES, SERVICE_CONSENT_TITLES, OutcomeKind

__all__ = [
    "outcome_form",
    "risk_of_harm_inputs",
    "service_consent_choice",
]


def service_consent_choice(*, required: bool, label: str = "Consent for a service") -> ChoiceSetInput:
    """Whether there is consent for a service, recorded with the outcome (SPEC §3)."""
    return ChoiceSetInput(
        id=Input.SERVICE_CONSENT.value,
        label=label + (" (required)" if required else ""),
        choices=[CardChoice(title=title, value=kind.value) for kind, title in SERVICE_CONSENT_TITLES.items()],
        is_required=required,
        error_message="Record whether there is consent for a service" if required else None,
    )


def risk_of_harm_inputs(when: str) -> list[CardElement]:
    """The tick and the sentence of a decider proceeding without consent (SPEC §3)."""
    return [
        ToggleInput(
            id=Input.RISK_CONFIRMED.value,
            title=f"{when}: consent was refused, not sought or is not recorded yet, and the evidence "
            "suggests a risk of harm",
            value="false",
            value_on="true",
            value_off="false",
        ),
        TextInput(
            id=Input.RISK_OF_HARM.value,
            label=f"{when}: why the evidence suggests a risk of harm (one sentence)",
            max_length=_MAX_TEXT,
        ),
    ]


def _outcome_title(kind: OutcomeKind, recommendation: bool) -> str:
    if not recommendation:
        return OUTCOME_TITLES[kind]
    if kind is OutcomeKind.ACCEPTED:
        return f"Progress to referral for single assessment ({OUTCOME_TITLES[kind].lower()})"
    return f"No further involvement: {OUTCOME_TITLES[kind].lower()}"


def outcome_form(
    kinds: Sequence[OutcomeKind],
    managers: Sequence[tuple[str, str]],
    *,
    recommendation: bool = False,
    urgent: bool = False,
    without_consent: bool = False,
) -> list[CardElement]:
    """The inputs of an outcome (SPEC §3): the outcome, its rationale, whether there is consent for a
    service, and for an accepted contact the receiving team, whether a strategy discussion is needed
    and the receiving team manager; for a referral to another agency, the agency. ``managers`` are
    (directory id, name) of team managers. ``without_consent``: the parents' consent was refused or not
    sought, so a decider accepting confirms the evidence suggests a risk of harm."""
    elements: list[CardElement] = [
        ChoiceSetInput(
            id=Input.OUTCOME.value,
            label="The recommendation" if recommendation else "The outcome",
            choices=[
                CardChoice(title=_outcome_title(kind, recommendation), value=kind.value) for kind in kinds
            ],
            value=kinds[0].value if len(kinds) == 1 else None,
            is_required=True,
            error_message="Choose the outcome",
        ),
        _notes(Input.OUTCOME_RATIONALE, "Rationale (required)", error="Every outcome needs a rationale"),
        service_consent_choice(required=True),
    ]
    if OutcomeKind.ACCEPTED in kinds and without_consent:
        elements += risk_of_harm_inputs("If accepted")
    if OutcomeKind.ACCEPTED in kinds:
        highlight = (
            "told when it is signed off; urgent contacts can be highlighted to them then"
            if urgent
            else "told when it is signed off; they may challenge the threshold until the end of that day"
        )
        elements += [
            TextInput(id=Input.RECEIVING_TEAM.value, label="If accepted: the receiving team", max_length=200),
            ToggleInput(
                id=Input.STRATEGY.value,
                title="If accepted: a strategy discussion is needed",
                value="false",
                value_on="true",
                value_off="false",
            ),
        ]
        if managers:
            # Required whenever the contact is accepted; the card can insist only when accepted is
            # the one choice, and the server refuses an accepted outcome without one either way.
            elements.append(
                ChoiceSetInput(
                    id=Input.RECEIVING_MANAGER.value,
                    label=f"If accepted: the receiving team manager (required; {highlight})",
                    choices=[CardChoice(title=name, value=person) for person, name in managers],
                    is_required=len(kinds) == 1,
                    error_message="Choose the receiving team manager",
                )
            )
        else:
            elements.append(
                TextBlock(
                    text="No team manager is in the role directory, so a contact cannot be accepted "
                    "yet: an accepted outcome names the receiving team manager. Ask an administrator "
                    "to add them.",
                    wrap=True,
                    color="Attention",
                )
            )
    if OutcomeKind.OTHER_AGENCY in kinds:
        elements.append(_agency_choice(Input.AGENCY, "If referred to another agency: the agency"))
    return elements
