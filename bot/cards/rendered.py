"""The message a renderer makes of one outbox row: the card, who to @mention, the line beside it.

Card modules return it from their renderers and ``bot.outbox_cards`` lists those renderers, so
it lives here, below both, rather than in either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from frontdoor.alerts import OutboxItem


@dataclass(frozen=True, slots=True)
class Rendered:
    """The message for one outbox row."""

    card: dict[str, Any]
    #: Azure AD object ids of the people to @mention (the sender adds their display names)
    mention_ids: tuple[str, ...] = ()
    #: a line of text beside the card (the notification preview); ids and references only
    text: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


#: ``renderer(item, now, names)``: ``names`` maps Azure AD object ids to display names.
Renderer = Callable[[OutboxItem, datetime, Mapping[str, str]], Rendered]
