"""The two ways back to screening on the cards (SPEC §3): "Send back" beside "Sign off and close" on
the decisions channel card's sign-off view, and "Return for a threshold decision" on the allocated
social worker's personal card. Each is an ``Action.ShowCard`` holding a required reason and an
``Action.Execute`` whose data names the contact's reference and version only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from microsoft_teams.cards import AdaptiveCard, ExecuteAction, ShowCardAction, TextBlock, TextInput

__all__ = [
    "REFUSE_SIGN_OFF_VERB",
    "RETURN_INPUT",
    "RETURN_VERB",
    "SEND_BACK_INPUT",
    "return_action",
    "send_back_action",
]

#: "Send back" on the sign-off view: the outcome is not signed off and is decided again.
REFUSE_SIGN_OFF_VERB: Final = "contact.refuse_sign_off"
#: "Return for a threshold decision" on the social worker's personal card.
RETURN_VERB: Final = "contact.return_for_screening"
#: The reasons' input ids: unique across the cards they are added to.
SEND_BACK_INPUT: Final = "send_back_reason"
RETURN_INPUT: Final = "return_reason"

_MAX_TEXT = 4000


def _reason(input_id: str, label: str, error: str) -> TextInput:
    return TextInput(
        id=input_id,
        label=label,
        is_multiline=True,
        is_required=True,
        error_message=error,
        max_length=_MAX_TEXT,
    )


def send_back_action(data: Mapping[str, Any]) -> ShowCardAction:
    """The "Send back" action for a consultant or team manager quality-assuring an outcome; ``data`` is the
    card's reference and version."""
    return ShowCardAction(
        title="Send back",
        card=AdaptiveCard(
            body=[
                TextBlock(
                    text="The outcome is not signed off: the contact goes back to screening for the decision "
                    "to be made again, and whoever recorded the outcome is told why.",
                    wrap=True,
                    is_subtle=True,
                ),
                _reason(
                    SEND_BACK_INPUT,
                    "Why it is not signed off (required)",
                    "Say why the outcome is not signed off",
                ),
            ],
            actions=[
                ExecuteAction(
                    title="Send back for a fresh decision", verb=REFUSE_SIGN_OFF_VERB, data=dict(data)
                )
            ],
        ),
    )


def return_action(data: Mapping[str, Any]) -> ShowCardAction:
    """The "Return for a threshold decision" action for the allocated social worker; ``data`` is the
    card's reference and version."""
    return ShowCardAction(
        title="Return for a threshold decision",
        card=AdaptiveCard(
            body=[
                TextBlock(
                    text="A consultant needs to make a threshold decision: the contact goes back to the "
                    "screening queue and leaves your caseload.",
                    wrap=True,
                    is_subtle=True,
                ),
                _reason(
                    RETURN_INPUT,
                    "Why a threshold decision is needed (required)",
                    "Say why a threshold decision is needed",
                ),
            ],
            actions=[ExecuteAction(title="Return to the consultants", verb=RETURN_VERB, data=dict(data))],
        ),
    )
