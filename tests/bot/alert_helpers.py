"""Reading the alert cards the bot posted: each names its alert key in its reference line's id, and a
breach alert not yet taken carries it in its "I've got this" data too."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bot.cards.alerts import ACK_VERB, ALERT_ID_PREFIX, ALERT_KEY
from frontdoor.alerts import AlertKey
from tests.harness.teams import Conversation, SentActivity, TeamsChannel


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _walk(item)
    elif isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)


def alert_key_of(card: Mapping[str, Any]) -> str | None:
    """The alert key in the card's "I've got this" data (None: not an alert card, or taken)."""
    for node in _walk(card):
        if node.get("type") == "Action.Execute" and node.get("verb") == ACK_VERB:
            data = node.get("data")
            if isinstance(data, dict) and isinstance(data.get(ALERT_KEY), str):
                return str(data[ALERT_KEY])
    return None


def alert_named_by(card: Mapping[str, Any]) -> str | None:
    """The alert key a card names in its reference line's id (due-soon cards have no button)."""
    for node in _walk(card):
        element_id = node.get("id")
        if isinstance(element_id, str) and element_id.startswith(ALERT_ID_PREFIX):
            return element_id.removeprefix(ALERT_ID_PREFIX)
    return None


def deliveries(teams: TeamsChannel, conversation: Conversation | str) -> list[tuple[AlertKey, SentActivity]]:
    """The alert cards posted to a conversation, with their keys, in order."""
    found: list[tuple[AlertKey, SentActivity]] = []
    for record in teams.sent_to(conversation):
        for card in record.cards:
            key = alert_named_by(card)
            if key is not None:
                found.append((AlertKey.parse(key), record))
    return found
