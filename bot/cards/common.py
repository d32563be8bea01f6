"""Shared pieces for card builders: serialisation to the Adaptive Card dict Teams receives."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from microsoft_teams.cards import AdaptiveCard, Container, ContainerStyle, Spacing, TextBlock

from frontdoor.rag import Rag

CARD_VERSION: Final = "1.5"

#: How a RAG rating is shown: its word, always, and Teams' container colour for it (``flag``).
RAG_STYLES: Mapping[Rag, tuple[str, ContainerStyle]] = {
    Rag.RED: ("Red", "attention"),
    Rag.AMBER: ("Amber", "warning"),
    Rag.GREEN: ("Green", "good"),
}


def flag(text: str, style: ContainerStyle, *, spacing: Spacing | None = None) -> Container:
    """``text`` in bold in the default text colour, on Teams' ``style`` background (``attention``,
    ``warning``, ``good``). The words carry the meaning and the colour only repeats it, and the text
    stays readable in the light and dark themes: amber or yellow text on white is not."""
    return Container(style=style, spacing=spacing, items=[TextBlock(text=text, weight="Bolder", wrap=True)])


def rag_flag(rag: Rag, *, spacing: Spacing | None = None) -> Container:
    """ "RAG: Amber" and so on, on the rating's colour."""
    label, style = RAG_STYLES[rag]
    return flag(f"RAG: {label}", style, spacing=spacing)


def to_dict(card: AdaptiveCard) -> dict[str, Any]:
    """The card as JSON-ready data, Adaptive Cards 1.5, without empty properties."""
    card.version = CARD_VERSION
    data: dict[str, Any] = card.model_dump(by_alias=True, exclude_none=True)
    return data


def with_typed(card: dict[str, Any], typed: Mapping[str, Any]) -> dict[str, Any]:
    """``card`` (a freshly built one: changed in place) with what the person had typed or chosen
    put back into its inputs, by input id: a card redrawn with an error loses nothing typed."""

    def fill(node: Any) -> None:
        if isinstance(node, dict):
            value = typed.get(str(node.get("id", "")))
            if str(node.get("type", "")).startswith("Input.") and isinstance(value, str):
                node["value"] = value
            for child in node.values():
                fill(child)
        elif isinstance(node, list):
            for child in node:
                fill(child)

    fill(card)
    return card
