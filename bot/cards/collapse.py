"""Long parts of a card folded away behind a "Show" line (``Action.ToggleVisibility``), so a card
fits the chat: Teams shows about 780 px of it at a time.

The heading line is the toggle: pressing it shows or hides the part and swaps "Show" for "Hide".
Nothing is sent to the bot, and a folded part is still in the card (its text is there for screen
readers' "expand" and for search), only not drawn until asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

from microsoft_teams.cards import CardElement, Container, TextBlock, ToggleVisibilityAction


def collapsible(
    key: str, title: str, items: Sequence[CardElement], *, separator: bool = False
) -> list[CardElement]:
    """``title`` as a line that shows or hides ``items`` (hidden at first). ``key`` makes the
    element ids, so it must be unique on the card (letters, digits and dashes)."""
    if not items:
        return []
    body, more, less = f"{key}-body", f"{key}-show", f"{key}-hide"
    toggle = ToggleVisibilityAction(title=f"Show or hide: {title}", target_elements=[body, more, less])
    heading = Container(
        separator=separator or None,
        select_action=toggle,
        items=[
            TextBlock(id=more, text=f"**{title}** ▸ Show", wrap=True, color="Accent"),
            TextBlock(id=less, text=f"**{title}** ▾ Hide", wrap=True, color="Accent", is_visible=False),
        ],
    )
    return [heading, Container(id=body, is_visible=False, spacing="Small", items=list(items))]
