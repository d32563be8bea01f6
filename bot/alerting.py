"""The Teams side of the alert dispatcher: ``frontdoor.dispatch.AlertSender`` with the ``Notifier``.

The dispatcher has already found the conversation (a person's personal chat with the bot, or the
registered channel); this renders the outbox row with its kind's renderer (``bot.outbox_cards``),
@mentions the people the renderer names (display names from the role directory; someone without one
is not @mentioned) and posts it, then turns the ``Delivery`` into a ``SendReport``: Teams' status,
error code and ``Retry-After`` for the retry policy, or "unreachable" when the conversation turned
out to be unusable without any request being made. The ``Notifier`` marks a conversation dead on a
403 or 404 for it.
"""

from __future__ import annotations

import time
from datetime import datetime

from bot.notify import Delivery, Mentioned, Notifier
from bot.outbox_cards import render
from frontdoor.alerts import OutboxItem
from frontdoor.delivery import SendFailure, parse_retry_after
from frontdoor.dispatch import SendReport
from frontdoor.unit_of_work import Store

#: The ``Notifier``'s own codes for a send it did not attempt because the conversation is unusable.
_UNREACHABLE = frozenset({"NoConversation", "ConversationDead", "BadReference", "NoPersonalChat"})


def report_of(delivery: Delivery, now: datetime) -> SendReport:
    """A ``Notifier`` delivery as the dispatcher reads it."""
    if delivery.ok:
        return SendReport(activity_id=delivery.activity_id, conversation_id=delivery.conversation_id)
    code = delivery.error_code or ""
    if delivery.status is None and code in _UNREACHABLE:
        return SendReport(conversation_id=delivery.conversation_id, unreachable=code)
    failure = SendFailure(delivery.status, code, parse_retry_after(delivery.retry_after, now))
    return SendReport(conversation_id=delivery.conversation_id, failure=failure)


#: How long the staff directory's display names are reused between sends: a burst of alerts reads
#: it once, and a renamed person shows up within seconds.
NAMES_TTL_SECONDS = 10.0


class TeamsAlertSender:
    def __init__(self, notifier: Notifier, store: Store) -> None:
        self._notifier = notifier
        self._store = store
        self._names: dict[str, str] = {}
        self._names_read_at: float | None = None

    async def _display_names(self) -> dict[str, str]:
        moment = time.monotonic()
        if self._names_read_at is None or moment - self._names_read_at > NAMES_TTL_SECONDS:
            async with self._store.unit_of_work() as uow:
                entries = await uow.roles.entries()
            self._names = {e.aad_object_id: e.display_name for e in entries if e.display_name}
            self._names_read_at = moment
        return self._names

    async def send(self, item: OutboxItem, conversation_id: str, now: datetime) -> SendReport:
        names = await self._display_names()
        rendered = render(item, now, names)
        mentions = [Mentioned(person, names[person]) for person in rendered.mention_ids if person in names]
        delivery = await self._notifier.send_card(conversation_id, rendered.card, mentions, rendered.text)
        return report_of(delivery, now)
