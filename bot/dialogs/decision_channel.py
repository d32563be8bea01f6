"""The contact's card on the decisions channel, as everyone sees it there (SPEC §3, §6, §10).

Intake posts the card for a contact just submitted (``posted_card``): to the decisions channel, or
to the duty channel for a re-referral, with a ``refresh`` whose ``userIds`` are the Teams ids of the
consultants and team managers (the duty managers on a re-referral's) who have a chat with the bot
(``refresh_user_ids``), and the urgent-only banner while that mode is on (``marked``).

After a decision, a sign-off, a send-back or a casework step, the invoke is answered first; the
channel message is then updated in place for everyone in a task of its own (``redraw``,
``update``), using the conversation and message ids audited when the card was posted
(``contact.posted``), never the ids the invoke claims. A card whose post named no message is
posted afresh, and later redraws update that one. A contact back awaiting screening is shown to the
consultants (``place_for_screening``): a re-referral, whose only card is on the duty channel, also
gets one of its own on the decisions channel. An urgent contact whose officer saved another card
is redrawn from that message turn (``redraw_now``).

What the card shows is ``bot.dialogs.decisions``'s (``DecisionsFeature.card_for``). Logs carry ids
only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.cards.continuity import with_urgent_only_banner
from bot.cards.decisions import CardState, status_card
from bot.dialogs.background import Later
from bot.dialogs.contacts import ContactRecords
from bot.dialogs.context import FeatureContext
from bot.dialogs.decision_status import _DECIDERS, _kind, _lines
from bot.routing import Actor
from frontdoor.contact import Contact, ContactState
from frontdoor.continuity import urgent_only
from frontdoor.installation import SYSTEM_ACTOR
from frontdoor.records import ChannelPurpose, DirectoryEntry
from frontdoor.roles import Role
from frontdoor.unit_of_work import UnitOfWork
from frontdoor.views import ChannelSummary

__all__ = ["CardFor", "DecisionChannel"]

log = logging.getLogger(__name__)

#: the card a person (None: everyone on the channel) should see for a contact now
CardFor = Callable[[Contact, Actor | None], Awaitable[dict[str, Any]]]

_DETAIL = re.compile(r"(?P<key>[a-z_]+)=(?P<value>[^;]*)")


async def refresh_user_ids_of(
    uow: UnitOfWork, entries: Sequence[DirectoryEntry], roles: Sequence[Role]
) -> tuple[str, ...]:
    """The Teams ids of the holders of ``roles`` in directory ``entries`` (already read) who have a
    chat with the bot (``DecisionChannel.refresh_user_ids``)."""
    people = {entry.aad_object_id for entry in entries if entry.roles & set(roles)}
    chats = await uow.conversations.personal_chats_of(people)
    found: list[str] = []
    for person in sorted(people):
        record = chats.get(person)
        user_id = _teams_user_id(record.reference) if record is not None else None
        if user_id is not None:
            found.append(user_id)
    return tuple(found)


def _teams_user_id(reference: str) -> str | None:
    """The ``29:`` id of the person in a stored personal-chat reference."""
    try:
        data = json.loads(reference)
    except ValueError:
        return None
    user = data.get("user") if isinstance(data, dict) else None
    user_id = user.get("id") if isinstance(user, dict) else None
    return user_id if isinstance(user_id, str) and user_id else None


class DecisionChannel:
    """The contact's channel card: posting it, and redrawing it for everyone after the answer."""

    def __init__(self, context: FeatureContext, card_for: CardFor, later: Later) -> None:
        self._context = context
        self._card_for = card_for
        self._later = later
        self._records = ContactRecords(context.store, context.clock)

    async def refresh_user_ids(self, roles: Sequence[Role] = _DECIDERS) -> tuple[str, ...]:
        """The Teams ids of the holders of ``roles`` (by default the consultants and team managers)
        who have a chat with the bot (Teams names people by those in ``refresh.userIds``); the
        others press "Decide or sign off"."""
        async with self._context.store.unit_of_work() as uow:  # two reads, however many people
            return await refresh_user_ids_of(uow, await uow.roles.entries(), roles)

    async def posted_card(
        self, summary: ChannelSummary, contact: Contact, repeat_of: Sequence[str], now: datetime
    ) -> dict[str, Any]:
        """The card intake posts for a contact just submitted: to the decisions channel, or to the
        duty channel for a re-referral."""
        review = contact.state is ContactState.DUTY_MANAGER_REVIEW
        state = CardState(
            reference=contact.reference or "",
            version=contact.version,
            lines=_lines(contact, {}),
            refresh_user_ids=await self.refresh_user_ids((Role.DUTY_MANAGER,) if review else _DECIDERS),
            kind=_kind(contact),
        )
        return await self.marked(status_card(summary, now, state, repeat_of))

    async def marked(self, card: dict[str, Any]) -> dict[str, Any]:
        """The card with the urgent-only banner while that mode is on (SPEC §10)."""
        async with self._context.store.unit_of_work() as uow:
            mode = await urgent_only(uow)
        return with_urgent_only_banner(card, mode)

    def redraw(self, contact: Contact) -> None:
        """Redraw the contact's channel card for everyone, after the invoke is answered."""

        async def redraw() -> None:
            await asyncio.sleep(0)  # let the invoke's answer go first
            await self._update_message(contact.reference or "", await self._card_for(contact, None))

        self._later(redraw())

    async def redraw_now(self, contact: Contact) -> None:
        """Redraw the contact's channel card for everyone now (from a message turn, not an invoke):
        an urgent contact whose officer saved another card."""
        await self._update_message(contact.reference or "", await self._card_for(contact, None))

    def update(self, reference: str, card: dict[str, Any]) -> None:
        """Update the channel message for everyone, after the invoke is answered."""
        self._later(self._update_message(reference, card))

    def place_for_screening(self, contact: Contact, actor_id: str) -> None:
        """After the invoke is answered: show a contact that is back awaiting screening to the
        consultants. Its channel card is redrawn; a re-referral, whose only card is on the duty
        channel, also gets a card of its own on the decisions channel, which later redraws use."""

        async def place() -> None:
            await asyncio.sleep(0)  # let the invoke's answer go first
            reference = contact.reference or ""
            card = await self._card_for(contact, None)
            last = await self._last_post(reference)
            await self._update_message(reference, card, last)
            if last is not None and last.get("purpose") == "decisions":
                return
            async with self._context.store.unit_of_work() as uow:
                registration = await uow.channels.get(ChannelPurpose.DECISIONS)
            detail = "purpose=decisions; reason=no_channel"
            action = "contact.not_posted"
            if registration is not None:
                delivery = await self._context.notifier.send_card(registration.conversation_id, card)
                action = "contact.posted" if delivery.ok else "contact.post_failed"
                where = f"purpose=decisions; conversation={delivery.conversation_id}"
                detail = (
                    f"{where}; activity={delivery.activity_id}; mentioned=0"
                    if delivery.ok
                    else f"{where}; code={delivery.error_code}"
                )
            await self._records.audit(actor_id, action, reference, detail)

        self._later(place())

    async def _last_post(self, reference: str) -> dict[str, str] | None:
        """Where the contact's channel card was last posted (the decisions or the duty channel)."""
        async with self._context.store.unit_of_work() as uow:
            rows = await uow.audit.for_subject(reference)
        posted = [
            dict(_DETAIL.findall(row.event.detail))
            for row in rows
            if row.event.action == "contact.posted"
            and ("purpose=decisions" in row.event.detail or "purpose=duty" in row.event.detail)
        ]
        return posted[-1] if posted else None

    async def _update_message(
        self, reference: str, card: dict[str, Any], where: dict[str, str] | None = None
    ) -> None:
        """Update the contact's channel card where it was last posted (``where``, when known)."""
        await asyncio.sleep(0)  # let the invoke's answer go first
        where = where or await self._last_post(reference)
        if where is None or not where.get("conversation"):
            log.info("decision card not updated in the channel", extra={"reference": reference})
            return
        if not where.get("activity"):
            await self._post_again(reference, where, card)
            return
        delivery = await self._context.notifier.update_card(where["conversation"], where["activity"], card)
        if not delivery.ok:
            log.warning(
                "decision card update failed",
                extra={"reference": reference, "error_code": delivery.error_code or ""},
            )

    async def _post_again(self, reference: str, where: Mapping[str, str], card: dict[str, Any]) -> None:
        """The card was posted, but the channel never said which message it is (a host that shows a
        post's text and its card as two messages, as Microsoft 365 Agents Playground does, answers
        with no id), so it cannot be updated: post the card afresh, and later redraws update that."""
        conversation = where["conversation"]
        delivery = await self._context.notifier.send_card(conversation, card)
        if not delivery.ok:
            log.warning(
                "decision card not posted again",
                extra={"reference": reference, "error_code": delivery.error_code or ""},
            )
            return
        purpose = where.get("purpose", "decisions")
        detail = f"purpose={purpose}; conversation={conversation}; activity={delivery.activity_id}"
        await self._records.audit(
            SYSTEM_ACTOR, "contact.posted", reference, f"{detail}; mentioned=0; reason=no_message_id"
        )
        log.info("decision card posted again", extra={"reference": reference})
