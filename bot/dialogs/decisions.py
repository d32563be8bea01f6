"""Threshold decisions and sign-off on the decisions channel's card (SPEC §3, §6).

The card posted at submission carries a ``refresh`` for the consultants and team managers; Teams
asks for their view with an ``adaptiveCard/action`` of verb ``refresh`` and shows the routes I–IV
(``decider_card``), or the sign-off for a route II contact (``signoff_card``); anyone else gets the
status card. A route button (``DECIDE_VERB``) calls ``decide_screening`` and "Sign off"
(``SIGN_OFF_VERB``) calls ``sign_off`` with the activity's sender and the roles the directory gives
them; the card's data names only the contact and its version, and anything else in it is ignored.

The invoke is answered with the updated card straight after the database work: nothing outbound
happens before the answer. The channel message is then updated for everyone
(``bot.dialogs.decision_channel``, which also posts the card at submission), and the people a
decision or a sign-off concerns are told (``bot.dialogs.decision_notices``), each in a task of its
own (``run_later``).

The same card follows the contact after the decision: after route I (or a re-referral whose
child-protection threshold is met) the deciders' view has "Progress to referral" and "Record the
outcome" (``cp_outcome_card``); an accepted outcome shows the receiving team's challenge until the
end of its working day (``followup_card``). Those actions, and the assignee's personal card
(``bot.dialogs.personal``), are handled in ``bot.dialogs.casework``. The sign-off view says whom
signing off will tell (``DecisionNotices.receivers``), and the signer's answer who was not told.
Nobody signs off their own decision. "Send back" on the sign-off view, and the social worker's
return for a threshold decision, are ``bot.dialogs.quality``'s.

Someone acting on an out-of-date card (another decider was first, or the same press arrived twice)
changes nothing and gets the card as it is now with a line naming who acted. Logs carry ids only.

Who may act on the card and its status lines are in ``bot.dialogs.decision_status``; reading a
decision from the card's data in ``bot.dialogs.decision_data``.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine, Mapping
from typing import Any

from botbuilder.core import TurnContext

from bot.access import Place
from bot.cards.common import with_typed
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
from bot.dialogs.decision_channel import DecisionChannel, refresh_user_ids_of
from bot.dialogs.decision_data import _decision, risk_of_harm
from bot.dialogs.decision_notices import DecisionNotices
from bot.dialogs.decision_status import _CP_STATES, _audience, _kind, _lines, _may_decide_cp
from bot.dialogs.personal import PersonalCards
from bot.replies import refusal
from bot.routing import Actor, CardAction, InvokeReply, Router
from frontdoor.allocation import worker_loads
from frontdoor.casework import SignedOff, challenge_window, sign_off
from frontdoor.contact import Contact, ContactState
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
from frontdoor.outcomes import current_outcome, without_consent
from frontdoor.repeats import recorded_repeat_of
from frontdoor.roles import Permission, Role
from frontdoor.usecase import AlreadyDecided, Refusal, open_deadlines
from frontdoor.views import channel_summary

log = logging.getLogger(__name__)

_UNREADABLE = "This card could not be read, so nothing was changed."


class DecisionsFeature:
    """The decision card's user-specific views, the routes I–IV and sign-off."""

    def __init__(self, context: FeatureContext) -> None:
        self._context = context
        self._records = ContactRecords(context.store, context.clock)
        #: channel updates and letters, after an invoke was answered
        self._later = Later(log, "work after a decision failed")
        #: the personal card about a contact (assignees, outcome letters), shared with casework
        self.personal = PersonalCards(context.store, context.clock, context.calendar, context.policy)
        #: the contact's card on the channel: posted at submission, redrawn for everyone
        self.channel = DecisionChannel(context, self.card_for, self._later)
        #: who is told after a decision or sign-off, and the outcome letter
        self.notices = DecisionNotices(context, self.personal, self.card_for)

    def register(self, router: Router) -> None:
        router.execution(REFRESH_VERB, self.on_refresh)
        router.execution(DECIDE_VERB, self.on_decide)
        router.execution(SIGN_OFF_VERB, self.on_sign_off)
        router.execution(REREFERRAL_VERB, self.on_rereferral)

    # -- the card as people see it ---------------------------------------------------------------

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
            refresh_ids = await refresh_user_ids_of(uow, entries, audience) if audience else ()
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
            receiving = (
                (await self.notices.receivers(contact)).note() if sign and highlight is not None else ""
            )
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

    def run_later(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` after the invoke is answered; a failure is logged (type only), never raised."""
        self._later(work)

    async def on_refresh(self, _: TurnContext, actor: Actor, action: CardAction) -> InvokeReply:
        reference = card_reference(action.data)
        contact = await self._records.contact(reference)
        if contact is None:
            return InvokeReply(message=_UNREADABLE)
        return InvokeReply(card=await self.channel.marked(await self.card_for(contact, actor)))

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
        self.channel.update(reference, card)
        if actor.place is Place.PERSONAL:
            # decided from the personal chat: the card there is the status without the channel's parts
            card = await self.card_for(result.contact, None, in_chat=True)
        if isinstance(result, SignedOff) and result.letter is not None:
            self._later(self.notices.send_letter(result.contact, result.decided_by, actor.aad_object_id))
        if isinstance(result, SignedOff) and result.outcome.accepted:
            receivers = await self.notices.receivers(result.contact)
            self._later(self.notices.tell_receiving_manager(result, actor, receivers))
            if receivers.reason:
                # the signer's own answer says who was not told and why; the channel card does not
                card = await self.card_for(
                    result.contact, None, receivers.not_told(), in_chat=actor.place is Place.PERSONAL
                )
        if isinstance(result, ScreeningDecided) and result.assignee_id is not None:
            what = "further work" if result.route is ScreeningRoute.III else "a social-work assessment"
            route = f"route {ROUTE_TITLES[result.route]}"
            self._later(
                self.notices.tell_assignee(
                    result.contact, result.deadlines, result.assignee_id, actor, what, route
                )
            )
        if isinstance(result, ScreeningDecided) and result.early_help_worker is not None:
            self._later(self.notices.tell_early_help(result.contact, result.early_help_worker, actor))
        if isinstance(result, RereferralDecided) and result.worker_id is not None:
            what = "a recommendation within 48 hours"
            self._later(
                self.notices.tell_assignee(
                    result.contact, result.deadlines, result.worker_id, actor, what, "re-referral"
                )
            )
        return InvokeReply(card=card)
