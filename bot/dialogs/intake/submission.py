"""What submitting a contact posts (SPEC §3, §6): the decision card to the decisions channel (with
the consultants on duty @mentioned when urgent), an open case to its allocated worker, a
re-referral to the duty channel; and, on an urgent contact being completed, its channel card
redrawn and what its history checks reveal told at once. Each post is audited with ids only; what
was done comes back as lines for the officer's receipt.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.cards.decision import (
    ChannelCardKind,
    channel_card,
    decision_card,
    open_case_card,
    rereferral_card,
)
from bot.cards.record import record_card
from bot.dialogs.contacts import ContactRecords
from bot.dialogs.intake.forms import STAFF
from bot.notify import Delivery, Mentioned, Notifier
from bot.routing import Actor
from frontdoor.calendar import WorkingCalendar
from frontdoor.channels import channel_conversation
from frontdoor.contact import Contact
from frontdoor.intake import SubmissionResult
from frontdoor.policy import Policy
from frontdoor.ports import Clock
from frontdoor.records import ChannelPurpose, ConversationRecord, Deadline
from frontdoor.roles import Permission, Role, may
from frontdoor.script import Choice
from frontdoor.submission_routing import Route, is_rereferral
from frontdoor.unit_of_work import Store
from frontdoor.views import ChannelSummary, channel_summary

#: Builds the decisions or duty channel's card for a submitted contact: (summary, contact,
#: repeat_of, now).
DecisionCardMaker = Callable[[ChannelSummary, Contact, Sequence[str], datetime], Awaitable[dict[str, Any]]]
#: Redraws a contact's channel card in place for everyone (an urgent contact being completed).
ChannelUpdater = Callable[[Contact], Awaitable[None]]


class SubmissionPosts:
    """Posts a submitted contact where its route sends it."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        calendar: WorkingCalendar,
        policy: Policy,
        notifier: Notifier,
        local_systems: Sequence[Choice],
        decision_card: DecisionCardMaker | None = None,
        channel_update: ChannelUpdater | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._calendar = calendar
        self._policy = policy
        self._notifier = notifier
        self._local_systems = tuple(local_systems)
        self._records = ContactRecords(store, clock)
        #: builds the decisions (or duty) channel's card, with the decision's refresh, if set
        self._decision_card = decision_card
        #: redraws a contact's channel card, if set
        self._channel_update = channel_update

    async def urgent_saved(self, before: Contact, after: Contact, actor: Actor, now: datetime) -> None:
        """A card saved on an urgent contact that exists: its channel card shows it, and the history
        checks, once they say so, tell the allocated worker or the duty manager."""
        await self.update_channel(after)
        await self.history_handoffs(before, after, actor, now)

    async def update_channel(self, contact: Contact) -> None:
        if self._channel_update is not None:
            await self._channel_update(contact)

    async def history_handoffs(
        self, before: Contact, after: Contact, actor: Actor, now: datetime
    ) -> list[str]:
        """What the history checks of an urgent contact reveal, told at once (SPEC §3): an open
        case to its allocated worker, a re-referral to the duty manager (the consultant on duty has
        it already). Each only when it is new on this save."""
        lines: list[str] = []
        received = after.received_at or now
        async with self._store.unit_of_work() as uow:
            decisions = await channel_conversation(uow, ChannelPurpose.DECISIONS)
            duty = await channel_conversation(uow, ChannelPurpose.DUTY)
            names = {entry.aad_object_id: entry.display_name for entry in await uow.roles.entries()}
            deadlines = await uow.deadlines.for_subject(after.reference or "")
        worker = after.history.allocated_worker_id if after.history.open_case else None
        previous = before.history.allocated_worker_id if before.history.open_case else None
        summary = channel_summary(after, deadlines, now, self._calendar, self._policy)
        if worker and worker != previous:
            async with self._store.unit_of_work() as uow:
                worker_roles = await uow.roles.roles_of(worker)
            heading = (
                "Urgent: an immediate risk about a child whose case is open to you. It is with the "
                "consultant on duty at the front door now."
            )
            lines += await self._pass_to_worker(
                after, summary, deadlines, worker, actor, decisions, names, worker_roles, now, heading
            )
        if is_rereferral(after, received, self._policy) and not is_rereferral(before, received, self._policy):
            lines += await self._show_to_duty(after, summary, actor, duty, now)
        return lines

    async def _show_to_duty(
        self,
        contact: Contact,
        summary: ChannelSummary,
        actor: Actor,
        duty: ConversationRecord | None,
        now: datetime,
    ) -> list[str]:
        """An urgent re-referral stays with the consultant on duty; the duty manager is shown it."""
        reference = contact.reference or ""
        if duty is None:
            await self._records.audit(
                actor.aad_object_id, "contact.not_shown_to_duty", reference, "reason=no_channel"
            )
            return ["It is a re-referral, but no duty channel is set: tell the duty manager."]
        card = channel_card(
            summary,
            now,
            ChannelCardKind.REREFERRAL,
            note="Urgent re-referral: the consultant on duty is screening it now. Shown here so the duty "
            "manager knows.",
        )
        delivery = await self._notifier.send_card(
            duty.conversation_id, card, text=f"Urgent re-referral {reference}: with the consultant on duty."
        )
        if not delivery.ok:
            await self._post_failed(actor, reference, "duty", delivery)
            return [
                f"I could not show the re-referral on the duty channel ({delivery.error_code}): "
                "tell the duty manager."
            ]
        detail = f"conversation={delivery.conversation_id}; activity={delivery.activity_id}"
        # Not "contact.posted": the contact's own channel card stays the decisions channel's.
        await self._records.audit(actor.aad_object_id, "contact.shown_to_duty", reference, detail)
        return ["It is a re-referral: shown to the duty manager on the duty channel."]

    async def dispatch(self, result: SubmissionResult, actor: Actor, now: datetime) -> list[str]:
        """Post the submitted contact where its route sends it; what was done, for the receipt."""
        async with self._store.unit_of_work() as uow:
            decisions = await channel_conversation(uow, ChannelPurpose.DECISIONS)
            duty = await channel_conversation(uow, ChannelPurpose.DUTY)
            names = {entry.aad_object_id: entry.display_name for entry in await uow.roles.entries()}
            worker = result.worker_to_notify
            worker_roles = await uow.roles.roles_of(worker) if worker else frozenset()
        match result.route:
            case Route.SCREENING:
                return await self._post_decision(result, actor, decisions, now)
            case Route.OPEN_CASE:
                heading = (
                    "Significant information about a child whose case is open to you. It is closed "
                    "at the front door and passed to you."
                )
                return await self._pass_to_worker(
                    result.contact,
                    result.summary,
                    result.deadlines,
                    result.worker_to_notify or "",
                    actor,
                    decisions,
                    names,
                    worker_roles,
                    now,
                    heading,
                )
            case Route.REREFERRAL:
                return await self._post_rereferral(result, actor, duty, now)

    async def _post_decision(
        self, result: SubmissionResult, actor: Actor, decisions: ConversationRecord | None, now: datetime
    ) -> list[str]:
        reference = result.reference
        urgent_call = " It is urgent: phone the consultant on duty now." if result.urgent else ""
        edt = _edt_lines(result)
        if decisions is None:
            await self._records.audit(
                actor.aad_object_id, "contact.not_posted", reference, "purpose=decisions; reason=no_channel"
            )
            return [
                "No decisions channel is set, so no decision card was posted: ask an administrator to "
                "say **register decisions channel** in the consultants' channel. The contact is saved "
                "and waiting for screening." + urgent_call,
                *edt,
            ]
        mentions = [
            Mentioned(target.person_id, target.display_name or "Consultant on duty")
            for target in result.mention_targets
        ]
        text = f"Urgent contact {reference}: please screen it now." if result.urgent else None
        if self._decision_card is not None:
            card = await self._decision_card(result.summary, result.contact, result.repeat_of, now)
        else:
            card = decision_card(result.summary, now, repeat_of=result.repeat_of)
        delivery = await self._notifier.send_card(decisions.conversation_id, card, mentions, text)
        if not delivery.ok:
            await self._post_failed(actor, reference, "decisions", delivery)
            return [
                f"I could not post to the decisions channel ({delivery.error_code}). The contact is saved "
                "and waiting for screening; tell the consultants." + urgent_call,
                *edt,
            ]
        await self._posted(actor, reference, "decisions", delivery, len(mentions))
        lines = ["Posted to the decisions channel."]
        if result.urgent:
            if mentions:
                who = "consultant on duty was" if len(mentions) == 1 else f"{len(mentions)} consultants were"
                lines.append(f"The {who} @mentioned there.")
            else:
                lines.append(
                    "No consultant is in the role directory to @mention: phone the consultant on duty now."
                )
        return [*lines, *edt]

    async def _pass_to_worker(
        self,
        contact: Contact,
        summary: ChannelSummary,
        deadlines: Sequence[Deadline],
        worker: str,
        actor: Actor,
        decisions: ConversationRecord | None,
        names: Mapping[str, str],
        worker_roles: frozenset[Role],
        now: datetime,
        heading: str,
    ) -> list[str]:
        reference = contact.reference or ""
        worker = worker
        if not worker_roles & frozenset(STAFF):
            # Not (or no longer) staff in the directory: nobody is messaged on the card's word.
            await self._records.audit(
                actor.aad_object_id,
                "contact.passed_to_worker",
                reference,
                f"worker={worker}; via=none; reason=not_staff",
            )
            return [
                "The allocated worker named is not a member of staff in the role directory, so I sent it to "
                f"nobody: please pass it on to the worker yourself, quoting {reference}."
            ]
        # The worker gets the full record only if their role lets them see contacts at all.
        if may(worker_roles, Permission.VIEW_CONTACTS):
            card = record_card(
                contact, deadlines, now, names, heading=heading, local_systems=self._local_systems
            )
        else:
            card = channel_card(summary, now, ChannelCardKind.OPEN_CASE)
        delivery = await self._notifier.send_card_to_person(worker, card)
        if delivery.ok:
            await self._records.audit(
                actor.aad_object_id,
                "contact.passed_to_worker",
                reference,
                f"worker={worker}; via=personal_chat; activity={delivery.activity_id}",
            )
            return ["Sent to the allocated worker in their personal chat with me."]
        if decisions is not None:
            mention = Mentioned(worker, names.get(worker) or "Allocated worker")
            posted = await self._notifier.send_card(
                decisions.conversation_id,
                open_case_card(summary, now),
                [mention],
                f"significant information on an open case of yours: {reference}.",
            )
            if posted.ok:
                await self._records.audit(
                    actor.aad_object_id,
                    "contact.passed_to_worker",
                    reference,
                    f"worker={worker}; via=decisions_channel; activity={posted.activity_id}",
                )
                return [
                    "The allocated worker has no chat with me, so it was posted to the decisions channel "
                    "with an @mention for them."
                ]
            await self._post_failed(actor, reference, "decisions", posted)
        await self._records.audit(
            actor.aad_object_id, "contact.passed_to_worker", reference, f"worker={worker}; via=none"
        )
        return [
            "I could not reach the allocated worker (no chat with me, and no decisions channel I could "
            f"post to): please pass it on to them yourself, quoting {reference}."
        ]

    async def _post_rereferral(
        self, result: SubmissionResult, actor: Actor, duty: ConversationRecord | None, now: datetime
    ) -> list[str]:
        reference = result.reference
        if duty is None:
            await self._records.audit(
                actor.aad_object_id, "contact.not_posted", reference, "purpose=duty; reason=no_channel"
            )
            return [
                "No duty channel is set, so the re-referral card was not posted: tell the duty manager, and "
                "ask an administrator to say **register duty channel** in the duty managers' channel."
            ]
        if self._decision_card is not None:
            card = await self._decision_card(result.summary, result.contact, result.repeat_of, now)
        else:
            card = rereferral_card(result.summary, now, repeat_of=result.repeat_of)
        delivery = await self._notifier.send_card(duty.conversation_id, card)
        if not delivery.ok:
            await self._post_failed(actor, reference, "duty", delivery)
            return [f"I could not post to the duty channel ({delivery.error_code}): tell the duty manager."]
        await self._posted(actor, reference, "duty", delivery, 0)
        return ["Posted to the duty channel for the duty manager."]

    async def _posted(
        self, actor: Actor, reference: str, purpose: str, delivery: Delivery, mentioned: int
    ) -> None:
        # No message id (a channel that answered without one): none is recorded, and the first
        # redraw posts the card afresh (``DecisionChannel._update_message``).
        activity = f"activity={delivery.activity_id}; " if delivery.activity_id else ""
        where = f"purpose={purpose}; conversation={delivery.conversation_id}"
        detail = f"{where}; {activity}mentioned={mentioned}"
        await self._records.audit(actor.aad_object_id, "contact.posted", reference, detail)

    async def _post_failed(self, actor: Actor, reference: str, purpose: str, delivery: Delivery) -> None:
        detail = f"purpose={purpose}; conversation={delivery.conversation_id}; code={delivery.error_code}"
        await self._records.audit(actor.aad_object_id, "contact.post_failed", reference, detail)


def _edt_lines(result: SubmissionResult) -> list[str]:
    """What the officer is told about the emergency duty team, for an urgent contact out of hours."""
    if result.edt_told is None:
        return []
    if result.edt_told:
        return ["It is out of office hours: the emergency duty team has been told in the EDT channel."]
    return ["It is out of office hours and no EDT channel is registered: phone the emergency duty team now."]
