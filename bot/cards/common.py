"""Shared pieces for card builders: serialisation to the Adaptive Card dict Teams receives."""

from __future__ import annotations

from typing import Any, Final

from microsoft_teams.cards import AdaptiveCard

CARD_VERSION: Final = "1.5"


def to_dict(card: AdaptiveCard) -> dict[str, Any]:
    """The card as JSON-ready data, Adaptive Cards 1.5, without empty properties."""
    card.version = CARD_VERSION
    data: dict[str, Any] = card.model_dump(by_alias=True, exclude_none=True)
    return data
