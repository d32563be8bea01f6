"""Who is told after a threshold decision or a sign-off on the decisions channel's card (SPEC §3),
each in a task of its own once the invoke was answered, and every message audited.

- Routes III and IV, and a re-referral reassigned to a worker: the assignee gets the full record on
  their personal card (``bot.dialogs.personal``) in their personal chat (``tell_assignee``); if the
  bot cannot reach them there, the decider is told in theirs to tell them.
- "Stays with early help": the early help worker is told in their personal chat (``tell_early_help``),
  with the full record if their role lets them see contacts, else the channel's minimised card.
- After sign-off the outcome letter goes to whoever recorded the outcome, or to the signer if they
  cannot be reached (``send_letter``), and an accepted contact is told to its receiving team manager
  (``tell_receiving_manager``): only the saved sign-off does that, marked URGENT when the signer
  ticked the immediate-risk highlight (@mentioned on the decisions channel when their personal chat
  cannot be reached), and only while that manager is still a team manager (``receivers``; otherwise
  the signer is told on their card who was not told, and nobody is sent anything).

Logs carry ids only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from bot.cards.decision import ChannelCardKind, channel_card
from bot.dialogs.contacts import ContactRecords
from bot.dialogs.context import FeatureContext
from bot.dialogs.decision_channel import CardFor
from bot.dialogs.personal import PersonalCards
from bot.notify import Mentioned
from bot.routing import Actor
from frontdoor.casework import SignedOff, challenge_window
from frontdoor.casework.receiving import Receivers, receivers
from frontdoor.channels import channel_conversation
from frontdoor.contact import Contact
from frontdoor.records import ChannelPurpose, Deadline
from frontdoor.roles import Permission, Role, may
from frontdoor.timefmt import format_time_on
from frontdoor.usecase import open_deadlines
from frontdoor.views import channel_summary

__all__ = ["DecisionNotices"]

log = logging.getLogger(__name__)


class DecisionNotices:
    """The messages after a decision or a sign-off: assignees, early help, letters, receiving teams."""

    def __init__(self, context: FeatureContext, personal: PersonalCards, card_for: CardFor) -> None:
        self._context = context
        self._personal = personal
        self._card_for = card_for
        self._records = ContactRecords(context.store, context.clock)

    async def receivers(self, contact: Contact) -> Receivers:
        """Who hears of ``contact``'s accepted outcome when it is signed off (``receivers``)."""
        async with self._context.store.unit_of_work() as uow:
            return await receivers(uow, contact)

    async def tell_receiving_manager(self, result: SignedOff, actor: Actor, receivers: Receivers) -> None:
        """After the sign-off of an accepted contact, and only then (SPEC §3): each of ``receivers``
        gets the contact in their personal chat, with the time they may challenge it until; with the
        highlight ticked, marked URGENT, and if the bot cannot reach them there, @mentioned on the
        decisions channel. Anyone left out (``receivers.not_told``) is audited, never sent anything."""
        await asyncio.sleep(0)  # let the invoke's answer go first
        outcome, contact = result.outcome, result.contact
        reference = contact.reference or ""
        async with self._context.store.unit_of_work() as uow:
            managers = {e.aad_object_id: e.display_name for e in await uow.roles.holders(Role.TEAM_MANAGER)}
            names = {e.aad_object_id: e.display_name for e in await uow.roles.entries()}
        urgent = result.highlight
        targets = receivers.told
        if not targets:
            if urgent:
                log.warning(
                    "no team manager to highlight an urgent contact to", extra={"reference": reference}
                )
            detail = f"reason={receivers.reason}"
            if receivers.named:
                detail = f"manager={receivers.named}; {detail}"
            await self._records.audit(
                actor.aad_object_id, "contact.receiving_manager_not_told", reference, detail
            )
            return
        until = challenge_window(contact, self._context.calendar, self._context.policy)
        by = names.get(actor.aad_object_id) or actor.name or "the front door"
        team = outcome.receiving_team.strip() or "your team"
        window = f" You may challenge the threshold until {format_time_on(until)}." if until else ""
        if urgent:
            heading = (
                f"URGENT: {reference} has immediate risk and was accepted for a statutory assessment by "
                f"{team}, signed off by {by}. Please prioritise the child and family now.{window}"
            )
        else:
            heading = (
                f"{reference} was accepted for a statutory assessment by {team}, signed off by {by}.{window}"
            )
        for manager in targets:
            card = await self._personal.card_for(
                contact, manager, await self._personal.roles_of(manager), heading=heading
            )
            delivery = await self._context.notifier.send_card_to_person(manager, card)
            via = "personal_chat" if delivery.ok else "none"
            if not delivery.ok and urgent:
                via = await self._mention_in_channel(
                    contact, manager, managers.get(manager) or "Team manager"
                )
            action = "contact.highlighted" if urgent else "contact.receiving_manager_told"
            await self._records.audit(actor.aad_object_id, action, reference, f"manager={manager}; via={via}")
            if via == "none":
                log.info(
                    "receiving team manager not reached",
                    extra={"reference": reference, "error_code": delivery.error_code or ""},
                )

    async def _mention_in_channel(self, contact: Contact, manager: str, name: str) -> str:
        async with self._context.store.unit_of_work() as uow:
            channel = await channel_conversation(uow, ChannelPurpose.DECISIONS)
        if channel is None:
            return "none"
        card = await self._card_for(contact, None)
        posted = await self._context.notifier.send_card(
            channel.conversation_id,
            card,
            [Mentioned(manager, name)],
            f"urgent contact {contact.reference} accepted for assessment with immediate risk: "
            "please prioritise it.",
        )
        return "decisions_channel" if posted.ok else "none"

    async def tell_assignee(
        self,
        contact: Contact,
        deadlines: Sequence[Deadline],
        assignee: str,
        actor: Actor,
        what: str,
        why: str,
    ) -> None:
        """The officer (route III) or social worker (route IV, re-referral) gets the full record in
        their personal chat; if they have none, the decider is told in theirs."""
        await asyncio.sleep(0)  # let the invoke's answer go first
        reference = contact.reference or ""
        async with self._context.store.unit_of_work() as uow:
            names = {entry.aad_object_id: entry.display_name for entry in await uow.roles.entries()}
        card = await self._personal.card_for(
            contact,
            assignee,
            await self._personal.roles_of(assignee),
            heading=f"Assigned to you for {what} by {names.get(actor.aad_object_id) or actor.name} ({why}).",
        )
        delivery = await self._context.notifier.send_card_to_person(assignee, card)
        detail = f"assignee={assignee}; via={'personal_chat' if delivery.ok else 'none'}"
        if delivery.ok:
            detail += f"; activity={delivery.activity_id}"
        await self._records.audit(
            actor.aad_object_id,
            "contact.assignee_told" if delivery.ok else "contact.assignee_not_told",
            reference,
            detail,
        )
        if not delivery.ok:
            log.info(
                "assignee not reached",
                extra={"reference": reference, "error_code": delivery.error_code or ""},
            )
            chat = await self._context.notifier.personal_chat_of(actor.aad_object_id)
            if chat is not None:
                who = names.get(assignee) or "the person chosen"
                await self._context.notifier.send_text(
                    chat, f"I could not message {who} about {reference}: please tell them it is theirs."
                )

    async def tell_early_help(self, contact: Contact, worker: str, actor: Actor) -> None:
        """ "Stays with early help": the early help worker is told in their personal chat (the full
        record if their role lets them see contacts, else the channel's minimised card); without a
        chat, it stays recorded on the decision, and the decider is told to let them know."""
        await asyncio.sleep(0)  # let the invoke's answer go first
        reference = contact.reference or ""
        roles = await self._personal.roles_of(worker) if worker else frozenset()
        heading = (
            f"{reference}: the front door's consultant decided that the child stays with early help, with "
            "you as their early help worker. The decision is awaiting sign-off at the front door."
        )
        if may(roles, Permission.VIEW_CONTACTS):
            card = await self._personal.card_for(contact, worker, roles, heading=heading)
        else:
            async with self._context.store.unit_of_work() as uow:
                deadlines = await open_deadlines(uow, reference)
            summary = channel_summary(
                contact, deadlines, self._context.clock.now(), self._context.calendar, self._context.policy
            )
            card = channel_card(summary, self._context.clock.now(), ChannelCardKind.DECISION, note=heading)
        delivery = await self._context.notifier.send_card_to_person(worker, card) if worker else None
        told = delivery is not None and delivery.ok
        detail = f"worker={worker}; via={'personal_chat' if told else 'none'}"
        await self._records.audit(
            actor.aad_object_id,
            "contact.early_help_told" if told else "contact.early_help_not_told",
            reference,
            detail,
        )
        if not told:
            chat = await self._context.notifier.personal_chat_of(actor.aad_object_id)
            if chat is not None:
                await self._context.notifier.send_text(
                    chat,
                    f"I could not message the early help worker about {reference}: it is recorded on the "
                    "decision; please let them know.",
                )

    async def send_letter(self, contact: Contact, recipient: str, signer: str) -> None:
        """Send the outcome letter (on the personal card) to ``recipient``, who recorded the outcome,
        to send to the referrer; if they cannot be reached, to ``signer`` instead."""
        await asyncio.sleep(0)  # let the invoke's answer go first
        reference = contact.reference or ""
        via = "none"
        for person in dict.fromkeys((recipient, signer)):
            roles = await self._personal.roles_of(person)
            if not may(roles, Permission.VIEW_CONTACTS):
                continue
            heading = (
                f"{reference} is signed off. The outcome letter to the referrer is below for you to send."
                if person == recipient
                else f"{reference} is signed off, but I could not send its outcome letter to the person who "
                "recorded the outcome: it is below, please see that it is sent."
            )
            card = await self._personal.card_for(contact, person, roles, heading=heading)
            delivery = await self._context.notifier.send_card_to_person(person, card)
            if delivery.ok:
                via = "recorder" if person == recipient else "signer"
                break
        await self._records.audit(
            signer,
            "contact.letter_delivered" if via != "none" else "contact.letter_not_delivered",
            reference,
            f"recipient={recipient}; via={via}",
        )
