"""Threshold decisions and sign-off on the decisions channel's card (SPEC §3, §6).

The card posted at submission carries a ``refresh`` for the consultants and team managers; Teams
asks for their view with an ``adaptiveCard/action`` of verb ``refresh`` and shows the routes I–IV
(``decider_card``), or the sign-off for a route II contact (``signoff_card``); anyone else gets the
status card. A route button (``DECIDE_VERB``) calls ``decide_screening`` and "Sign off"
(``SIGN_OFF_VERB``) calls ``sign_off`` with the activity's sender and the roles the directory gives
them; the card's data names only the contact and its version, and anything else in it is ignored.

The invoke is answered with the updated card straight after the database work: nothing outbound
happens before the answer. The channel message is then updated in place for everyone in a task of
its own, using the conversation and message ids audited when the card was posted
(``contact.posted``), never the ids the invoke claims.

The same card follows the contact after the decision: after route I (or a re-referral whose
child-protection threshold is met) the deciders' view has "Progress to referral" and "Record the
outcome" (``cp_outcome_card``); an accepted outcome shows the receiving team's challenge until the
end of its working day (``followup_card``). Those actions, and the assignee's personal card (sent
here, with ``bot.dialogs.personal``), are handled in ``bot.dialogs.casework``; after sign-off the
outcome letter goes to whoever recorded the outcome (``send_letter``), and an accepted contact is
told to its receiving team manager (``_tell_receiving_manager``): only the saved sign-off does that,
marked URGENT when the signer ticked the immediate-risk highlight, and only while that manager is
still a team manager (``receivers``; otherwise the signer is told on their card who was not told).
Nobody signs off their own decision. "Send back" on the sign-off view, and the social worker's
return for a threshold decision, are ``bot.dialogs.quality``'s.

Someone acting on an out-of-date card (another decider was first, or the same press arrived twice)
changes nothing and gets the card as it is now with a line naming who acted. Logs carry ids only.

Who may act on the card and its status lines are in ``bot.dialogs.decision_status``; reading a
decision from the card's data in ``bot.dialogs.decision_data``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Coroutine, Mapping, Sequence
from datetime import datetime
from typing import Any

from botbuilder.core import TurnContext

from bot.access import Place
from bot.cards.common import with_typed
from bot.cards.continuity import with_urgent_only_banner
from bot.cards.decision import ChannelCardKind, channel_card
from bot.cards.decisions import (
    CHOICE_KEY,
    DECIDE_VERB,
    HIGHLIGHT_INPUT,
    RATIONALE_INPUT,
    REFRESH_VERB,
    REREFERRAL_VERB,
    SIGN_OFF_VERB,
    WORKER_INPUT,
    CardState,
    cp_outcome_card,
    decider_card,
    followup_card,
    rereferral_decider_card,
    signoff_card,
    status_card,
)
from bot.dialogs.background import Later
from bot.dialogs.carddata import card_reference, card_version
from bot.dialogs.carddata import text_input as _text
from bot.dialogs.contacts import ContactRecords
from bot.dialogs.context import FeatureContext
from bot.dialogs.decision_data import _decision, risk_of_harm
from bot.dialogs.decision_status import _CP_STATES, _DECIDERS, _audience, _kind, _lines, _may_decide_cp
from bot.dialogs.personal import PersonalCards
from bot.notify import Mentioned
from bot.replies import refusal
from bot.routing import Actor, CardAction, InvokeReply, Router
from frontdoor.allocation import worker_loads
from frontdoor.casework import SignedOff, challenge_window, sign_off
from frontdoor.casework.receiving import Receivers, receivers
from frontdoor.channels import channel_conversation
from frontdoor.contact import Contact, ContactState
from frontdoor.continuity import urgent_only
from frontdoor.decisions import (
    ROUTE_TITLES,
    RereferralChoice,
    RereferralDecided,
    RereferralDecision,
    ScreeningDecided,
    ScreeningRoute,
    decide_rereferral,
    decide_screening,
    may_stay_with_early_help,
)
from frontdoor.installation import SYSTEM_ACTOR
from frontdoor.outcomes import current_outcome, without_consent
from frontdoor.records import AuditEvent, ChannelPurpose, Deadline, DirectoryEntry
from frontdoor.repeats import recorded_repeat_of
from frontdoor.roles import Permission, Role, may
from frontdoor.timefmt import format_time_on
from frontdoor.unit_of_work import UnitOfWork
from frontdoor.usecase import AlreadyDecided, Refusal, open_deadlines
from frontdoor.views import ChannelSummary, channel_summary

log = logging.getLogger(__name__)

_DETAIL = re.compile(r"(?P<key>[a-z_]+)=(?P<value>[^;]*)")
_UNREADABLE = "This card could not be read, so nothing was changed."


async def _refresh_user_ids(
    uow: UnitOfWork, entries: Sequence[DirectoryEntry], roles: Sequence[Role]
) -> tuple[str, ...]:
    """``DecisionsFeature.refresh_user_ids`` from directory ``entries`` already read."""
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


class DecisionsFeature:
    """The decision card's user-specific views, the routes I–IV and sign-off."""

    def __init__(self, context: FeatureContext) -> None:
        self._context = context
        self._records = ContactRecords(context.store, context.clock)
        #: channel updates and letters, after an invoke was answered
        self._later = Later(log, "work after a decision failed")
        #: the personal card about a contact (assignees, outcome letters), shared with casework
        self.personal = PersonalCards(context.store, context.clock, context.calendar, context.policy)

    def register(self, router: Router) -> None:
        router.execution(REFRESH_VERB, self.on_refresh)
        router.execution(DECIDE_VERB, self.on_decide)
        router.execution(SIGN_OFF_VERB, self.on_sign_off)
        router.execution(REREFERRAL_VERB, self.on_rereferral)

    # -- the card as people see it ---------------------------------------------------------------

    async def refresh_user_ids(self, roles: Sequence[Role] = _DECIDERS) -> tuple[str, ...]:
        """The Teams ids of the holders of ``roles`` (by default the consultants and team managers)
        who have a chat with the bot (Teams names people by those in ``refresh.userIds``); the
        others press "Decide or sign off"."""
        async with self._context.store.unit_of_work() as uow:  # two reads, however many people
            return await _refresh_user_ids(uow, await uow.roles.entries(), roles)

    async def card_for(
        self, contact: Contact, actor: Actor | None, notice: str = "", *, in_chat: bool = False
    ) -> dict[str, Any]:
        """The card ``actor`` should see for ``contact`` now (None: the status card for everyone),
        shaped for the place it is shown: an actor in their personal chat, or ``in_chat``, gets it
        without the channel's View and note."""
        now = self._context.clock.now()
        until = challenge_window(contact, self._context.calendar, self._context.policy)
        audience = _audience(contact, until, now)
        async with self._context.store.unit_of_work() as uow:  # one unit of work for every read
            deadlines = await open_deadlines(uow, contact.reference or "")
            entries = await uow.roles.entries()
            refresh_ids = await _refresh_user_ids(uow, entries, audience) if audience else ()
        names = {entry.aad_object_id: entry.display_name for entry in entries}
        officers = [
            (e.aad_object_id, e.display_name or e.aad_object_id) for e in entries if Role.OFFICER in e.roles
        ]
        repeat_of = recorded_repeat_of(contact)
        summary = channel_summary(
            contact, deadlines, now, self._context.calendar, self._context.policy, repeat=bool(repeat_of)
        )
        review = contact.state is ContactState.DUTY_MANAGER_REVIEW
        state = CardState(
            reference=contact.reference or "",
            version=contact.version,
            lines=_lines(contact, names, window=until if audience else None, now=now),
            notice=notice,
            refresh_user_ids=refresh_ids,
            active=bool(audience),
            kind=_kind(contact),
            in_chat=in_chat or (actor is not None and actor.place is Place.PERSONAL),
        )
        if review and actor is not None and actor.may(Permission.DECIDE_REREFERRAL):
            workers = await worker_loads(self._context.store.unit_of_work(), self._context.policy)
            return rereferral_decider_card(
                summary,
                now,
                state,
                workers,
                contact.history.last_worker_id,
                repeat_of,
                without_consent=without_consent(contact),
            )
        if (
            actor is not None
            and contact.state is ContactState.AWAITING_SCREENING
            and actor.may(Permission.THRESHOLD_DECISION)
        ):
            workers = await worker_loads(self._context.store.unit_of_work(), self._context.policy)
            officers.sort(key=lambda pair: (pair[1].casefold(), pair[0]))
            early_help = ""
            if may_stay_with_early_help(contact):
                worker = contact.history.early_help_worker_id or ""
                early_help = names.get(worker) or "the early help worker"
            return decider_card(
                summary,
                now,
                state,
                officers,
                workers,
                repeat_of=repeat_of,
                without_consent=without_consent(contact),
                consent_recorded=contact.consent is not None,
                early_help_worker=early_help,
            )
        if actor is not None and contact.state in _CP_STATES and _may_decide_cp(contact, actor):
            held = await self._managers()
            managers = sorted(
                ((person, name or person) for person, name in names.items() if person in held),
                key=lambda pair: (pair[1].casefold(), pair[0]),
            )
            decided = contact.state is ContactState.REFERRAL_ACCEPTED
            return cp_outcome_card(
                summary,
                now,
                state,
                managers,
                decision_made=decided,
                repeat_of=repeat_of,
                without_consent=without_consent(contact),
            )
        if actor is not None and contact.state in (ContactState.AWAITING_SIGNOFF, ContactState.CLOSED):
            sign = contact.state is ContactState.AWAITING_SIGNOFF and actor.may(Permission.SIGN_OFF)
            recorded = current_outcome(contact)
            # The immediate-risk highlight is the signer's judgement, pre-ticked for urgent contacts.
            highlight = contact.urgent if recorded is not None and recorded.outcome.accepted else None
            receiving = (await self.receivers(contact)).note() if sign and highlight is not None else ""
            challenge = (
                self.personal.challenge_view(contact, actor.aad_object_id, actor.roles) if audience else None
            )
            if challenge is not None:
                return followup_card(
                    summary,
                    now,
                    state,
                    sign_off=sign,
                    challenge=challenge,
                    names=names,
                    repeat_of=repeat_of,
                    highlight=highlight,
                    receiving=receiving,
                )
            if sign:
                return signoff_card(summary, now, state, repeat_of, highlight=highlight, receiving=receiving)
        return status_card(summary, now, state, repeat_of)

    async def _managers(self) -> set[str]:
        async with self._context.store.unit_of_work() as uow:
            return {entry.aad_object_id for entry in await uow.roles.holders(Role.TEAM_MANAGER)}

    def redraw_channel(self, contact: Contact) -> None:
        """Redraw the contact's channel card for everyone, after the invoke is answered."""

        async def redraw() -> None:
            await asyncio.sleep(0)  # let the invoke's answer go first
            await self._update_message(contact.reference or "", await self.card_for(contact, None))

        self._later(redraw())

    async def update_channel_card(self, contact: Contact) -> None:
        """Redraw the contact's channel card for everyone now (from a message turn, not an invoke):
        an urgent contact whose officer saved another card."""
        await self._update_message(contact.reference or "", await self.card_for(contact, None))

    def place_for_screening(self, contact: Contact, actor_id: str) -> None:
        """After the invoke is answered: show a contact that is back awaiting screening to the
        consultants. Its channel card is redrawn; a re-referral, whose only card is on the duty
        channel, also gets a card of its own on the decisions channel, which later redraws use."""

        async def place() -> None:
            await asyncio.sleep(0)  # let the invoke's answer go first
            reference = contact.reference or ""
            card = await self.card_for(contact, None)
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
            async with self._context.store.unit_of_work() as uow:
                await uow.audit.append(
                    AuditEvent(
                        at=self._context.clock.now(),
                        actor_id=actor_id,
                        action=action,
                        subject=reference,
                        detail=detail,
                    )
                )
                await uow.commit()

        self._later(place())

    def run_later(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` after the invoke is answered; a failure is logged (type only), never raised."""
        self._later(work)

    async def send_letter(self, contact: Contact, recipient: str, signer: str) -> None:
        """Send the outcome letter (on the personal card) to ``recipient``, who recorded the outcome,
        to send to the referrer; if they cannot be reached, to ``signer`` instead."""
        await asyncio.sleep(0)  # let the invoke's answer go first
        reference = contact.reference or ""
        via = "none"
        for person in dict.fromkeys((recipient, signer)):
            roles = await self.personal.roles_of(person)
            if not may(roles, Permission.VIEW_CONTACTS):
                continue
            heading = (
                f"{reference} is signed off. The outcome letter to the referrer is below for you to send."
                if person == recipient
                else f"{reference} is signed off, but I could not send its outcome letter to the person who "
                "recorded the outcome: it is below, please see that it is sent."
            )
            card = await self.personal.card_for(contact, person, roles, heading=heading)
            delivery = await self._context.notifier.send_card_to_person(person, card)
            if delivery.ok:
                via = "recorder" if person == recipient else "signer"
                break
        async with self._context.store.unit_of_work() as uow:
            await uow.audit.append(
                AuditEvent(
                    at=self._context.clock.now(),
                    actor_id=signer,
                    action="contact.letter_delivered" if via != "none" else "contact.letter_not_delivered",
                    subject=reference,
                    detail=f"recipient={recipient}; via={via}",
                )
            )
            await uow.commit()

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
        return await self._marked(status_card(summary, now, state, repeat_of))

    async def _marked(self, card: dict[str, Any]) -> dict[str, Any]:
        """The card with the urgent-only banner while that mode is on (SPEC §10)."""
        async with self._context.store.unit_of_work() as uow:
            mode = await urgent_only(uow)
        return with_urgent_only_banner(card, mode)

    async def on_refresh(self, _: TurnContext, actor: Actor, action: CardAction) -> InvokeReply:
        reference = card_reference(action.data)
        contact = await self._records.contact(reference)
        if contact is None:
            return InvokeReply(message=_UNREADABLE)
        return InvokeReply(card=await self._marked(await self.card_for(contact, actor)))

    # -- deciding --------------------------------------------------------------------------------

    async def on_decide(self, _: TurnContext, actor: Actor, action: CardAction) -> InvokeReply:
        reference = card_reference(action.data)
        version = card_version(action.data)
        decision = _decision(action.data)
        contact = await self._records.contact(reference)
        if contact is None or version is None or decision is None:
            log.info("unreadable decision card", extra={"verb": action.action})
            return InvokeReply(message=_UNREADABLE)
        if not actor.may(Permission.THRESHOLD_DECISION):
            await self._records.audit(
                actor.aad_object_id,
                "contact.decision_refused",
                contact.reference or "",
                "reason=not_permitted",
            )
            return InvokeReply(message=refusal(Permission.THRESHOLD_DECISION))
        result = await decide_screening(
            self._context.store.unit_of_work(),
            contact.id,
            decision,
            version,
            who=actor.who,
            rules=self._context.rules(),
        )
        return await self._answer(result, contact, actor, action.data)

    async def on_rereferral(self, _: TurnContext, actor: Actor, action: CardAction) -> InvokeReply:
        reference = card_reference(action.data)
        version = card_version(action.data)
        try:
            choice = RereferralChoice(_text(action.data, CHOICE_KEY))
        except ValueError:
            choice = None
        contact = await self._records.contact(reference)
        if contact is None or version is None or choice is None:
            log.info("unreadable re-referral card", extra={"verb": action.action})
            return InvokeReply(message=_UNREADABLE)
        if not actor.may(Permission.DECIDE_REREFERRAL):
            return InvokeReply(message=refusal(Permission.DECIDE_REREFERRAL))
        decision = RereferralDecision(
            choice=choice,
            rationale=_text(action.data, RATIONALE_INPUT),
            worker_id=(_text(action.data, WORKER_INPUT) or None)
            if choice is RereferralChoice.REASSIGN
            else None,
            risk_of_harm=risk_of_harm(action.data),
        )
        result = await decide_rereferral(
            self._context.store.unit_of_work(),
            contact.id,
            decision,
            version,
            who=actor.who,
            rules=self._context.rules(),
        )
        return await self._answer(result, contact, actor, action.data)

    async def on_sign_off(self, _: TurnContext, actor: Actor, action: CardAction) -> InvokeReply:
        reference = card_reference(action.data)
        version = card_version(action.data)
        contact = await self._records.contact(reference)
        if contact is None or version is None:
            log.info("unreadable sign-off card", extra={"verb": action.action})
            return InvokeReply(message=_UNREADABLE)
        if not actor.may(Permission.SIGN_OFF):
            return InvokeReply(message=refusal(Permission.SIGN_OFF))
        result = await sign_off(
            self._context.store.unit_of_work(),
            contact.id,
            version,
            highlight=_text(action.data, HIGHLIGHT_INPUT) == "true",
            who=actor.who,
            now=self._context.clock.now(),
        )
        return await self._answer(result, contact, actor, action.data)

    async def _answer(
        self,
        result: ScreeningDecided | RereferralDecided | SignedOff | Refusal | AlreadyDecided,
        contact: Contact,
        actor: Actor,
        typed: Mapping[str, Any],
    ) -> InvokeReply:
        """The card in reply to a decision, a re-referral decision or a sign-off: refused, the same
        card again with the reason and with what ``typed`` holds (the card's inputs) put back."""
        reference = contact.reference or ""
        if isinstance(result, AlreadyDecided):
            log.info(
                "decision card out of date",
                extra={"reference": reference, "status": "replay" if result.replay else "stale"},
            )
            return InvokeReply(card=await self.card_for(result.contact, actor, notice=result.message))
        if isinstance(result, Refusal):
            log.info("decision refused", extra={"reference": reference, "status": result.reason.value})
            current = await self._records.contact(reference) or contact
            card = await self.card_for(current, actor, notice=result.message)
            return InvokeReply(card=with_typed(card, typed))
        log.info(
            "decision card acted on", extra={"reference": reference, "status": result.contact.state.value}
        )
        card = await self.card_for(result.contact, None)
        self._update_channel(reference, card)
        if actor.place is Place.PERSONAL:
            # decided from the personal chat: the card there is the status without the channel's parts
            card = await self.card_for(result.contact, None, in_chat=True)
        if isinstance(result, SignedOff) and result.letter is not None:
            self._later(self.send_letter(result.contact, result.decided_by, actor.aad_object_id))
        if isinstance(result, SignedOff) and result.outcome.accepted:
            receivers = await self.receivers(result.contact)
            self._later(self._tell_receiving_manager(result, actor, receivers))
            if receivers.reason:
                # the signer's own answer says who was not told and why; the channel card does not
                card = await self.card_for(
                    result.contact, None, receivers.not_told(), in_chat=actor.place is Place.PERSONAL
                )
        if isinstance(result, ScreeningDecided) and result.assignee_id is not None:
            what = "further work" if result.route is ScreeningRoute.III else "a social-work assessment"
            route = f"route {ROUTE_TITLES[result.route]}"
            self._later(
                self._tell_assignee(result.contact, result.deadlines, result.assignee_id, actor, what, route)
            )
        if isinstance(result, ScreeningDecided) and result.early_help_worker is not None:
            self._later(self._tell_early_help(result.contact, result.early_help_worker, actor))
        if isinstance(result, RereferralDecided) and result.worker_id is not None:
            what = "a recommendation within 48 hours"
            self._later(
                self._tell_assignee(
                    result.contact, result.deadlines, result.worker_id, actor, what, "re-referral"
                )
            )
        return InvokeReply(card=card)

    async def receivers(self, contact: Contact) -> Receivers:
        """Who hears of ``contact``'s accepted outcome when it is signed off (``receivers``)."""
        async with self._context.store.unit_of_work() as uow:
            return await receivers(uow, contact)

    async def _tell_receiving_manager(self, result: SignedOff, actor: Actor, receivers: Receivers) -> None:
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
            await self._audit(actor.aad_object_id, "contact.receiving_manager_not_told", reference, detail)
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
            card = await self.personal.card_for(
                contact, manager, await self.personal.roles_of(manager), heading=heading
            )
            delivery = await self._context.notifier.send_card_to_person(manager, card)
            via = "personal_chat" if delivery.ok else "none"
            if not delivery.ok and urgent:
                via = await self._mention_in_channel(
                    contact, manager, managers.get(manager) or "Team manager"
                )
            action = "contact.highlighted" if urgent else "contact.receiving_manager_told"
            await self._audit(actor.aad_object_id, action, reference, f"manager={manager}; via={via}")
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
        card = await self.card_for(contact, None)
        posted = await self._context.notifier.send_card(
            channel.conversation_id,
            card,
            [Mentioned(manager, name)],
            f"urgent contact {contact.reference} accepted for assessment with immediate risk: "
            "please prioritise it.",
        )
        return "decisions_channel" if posted.ok else "none"

    async def _audit(self, actor_id: str, action: str, reference: str, detail: str) -> None:
        async with self._context.store.unit_of_work() as uow:
            await uow.audit.append(
                AuditEvent(
                    at=self._context.clock.now(),
                    actor_id=actor_id,
                    action=action,
                    subject=reference,
                    detail=detail,
                )
            )
            await uow.commit()

    def _update_channel(self, reference: str, card: dict[str, Any]) -> None:
        """Update the channel message for everyone, after the invoke is answered."""
        self._later(self._update_message(reference, card))

    async def _tell_assignee(
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
        card = await self.personal.card_for(
            contact,
            assignee,
            await self.personal.roles_of(assignee),
            heading=f"Assigned to you for {what} by {names.get(actor.aad_object_id) or actor.name} ({why}).",
        )
        delivery = await self._context.notifier.send_card_to_person(assignee, card)
        async with self._context.store.unit_of_work() as uow:
            detail = f"assignee={assignee}; via={'personal_chat' if delivery.ok else 'none'}"
            if delivery.ok:
                detail += f"; activity={delivery.activity_id}"
            await uow.audit.append(
                AuditEvent(
                    at=self._context.clock.now(),
                    actor_id=actor.aad_object_id,
                    action="contact.assignee_told" if delivery.ok else "contact.assignee_not_told",
                    subject=reference,
                    detail=detail,
                )
            )
            await uow.commit()
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

    async def _tell_early_help(self, contact: Contact, worker: str, actor: Actor) -> None:
        """ "Stays with early help": the early help worker is told in their personal chat (the full
        record if their role lets them see contacts, else the channel's minimised card); without a
        chat, it stays recorded on the decision, and the decider is told to let them know."""
        await asyncio.sleep(0)  # let the invoke's answer go first
        reference = contact.reference or ""
        roles = await self.personal.roles_of(worker) if worker else frozenset()
        heading = (
            f"{reference}: the front door's consultant decided that the child stays with early help, with "
            "you as their early help worker. The decision is awaiting sign-off at the front door."
        )
        if may(roles, Permission.VIEW_CONTACTS):
            card = await self.personal.card_for(contact, worker, roles, heading=heading)
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
        async with self._context.store.unit_of_work() as uow:
            await uow.audit.append(
                AuditEvent(
                    at=self._context.clock.now(),
                    actor_id=SYSTEM_ACTOR,
                    action="contact.posted",
                    subject=reference,
                    detail=f"{detail}; mentioned=0; reason=no_message_id",
                )
            )
            await uow.commit()
        log.info("decision card posted again", extra={"reference": reference})
