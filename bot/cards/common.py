"""Shared pieces for card builders: serialisation to the Adaptive Card dict Teams receives."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from microsoft_teams.cards import AdaptiveCard, TextColor

from frontdoor.rag import Rag

CARD_VERSION: Final = "1.5"

#: How a RAG rating is shown: its word and the colour of its text.
RAG_STYLES: Mapping[Rag, tuple[str, TextColor]] = {
    Rag.RED: ("Red", "Attention"),
    Rag.AMBER: ("Amber", "Warning"),
    Rag.GREEN: ("Green", "Good"),
}


def to_dict(card: AdaptiveCard) -> dict[str, Any]:
    """The card as JSON-ready data, Adaptive Cards 1.5, without empty properties."""
    card.version = CARD_VERSION
    data: dict[str, Any] = card.model_dump(by_alias=True, exclude_none=True)
    return data
