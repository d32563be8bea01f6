"""MASH episodes in Teams (SPEC §9): a consultant opens one from a contact's personal card, each
partner agency asked gets its request card in its partners' personal chats, partners answer on it,
staff record phone answers and close the episode with the multi-agency decision; ``find MA-…``
shows each person what they may see of an episode.

Everything happens in personal chats: an episode names children. Handlers are thin: they read the
card's data (untrusted: the reference and the choices only), call ``frontdoor.mash`` with the
actor's roles from the directory, and show the card it calls for. Logs carry references only.
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext

from bot.cards.keys import REFERENCE_KEY
from bot.cards.mash import (
    AGENCIES_INPUT,
    AGENCY_INPUT,
    ANSWER,
    ANSWER_INPUT,
    CLOSE,
    DECISION_INPUT,
    GIVEN_BY_INPUT,
    OPEN,
    PARTICIPANTS_INPUT,
    PHONE,
    QUESTION_INPUT,
    RATIONALE_INPUT,
    REASONS_INPUT,
    START,
    URGENCY_INPUT,
    episode_card,
    open_form_card,
    request_card,
)
from bot.dialogs.carddata import choices, form_id_of, new_form_id, reference_of, text_input
from bot.dialogs.context import FeatureContext
from bot.dialogs.find import Finders
from bot.routing import Actor, CardAction, Router
from frontdoor.agencies import PARTNER_TITLES, Agency, MashDecision, MashEpisode, MashReason, Urgency
from frontdoor.mash import (
    EpisodeForm,
    PartnerView,
    StaffView,
    close_episode,
    open_episode,
    partner_answer,
    partners_of,
    read_episode,
    record_phone_answer,
)
from frontdoor.records import AuditEvent
from frontdoor.references import Reference, ReferenceKind
from frontdoor.roles import Permission
from frontdoor.usecase import Refusal, RefusalReason

log = logging.getLogger(__name__)

UNREADABLE = "That card is no longer active. Type **help** to see what I can do."
REQUEST_SENT = "mash.request_sent"


class MashFeature:
    def __init__(self, context: FeatureContext) -> None:
        self._context = context

    def register(self, router: Router, finders: Finders) -> None:
        router.submission(START, self.on_start)
        router.submission(OPEN, self.on_open)
        router.submission(ANSWER, self.on_answer)
        router.submission(PHONE, self.on_phone)
        router.submission(CLOSE, self.on_close)
        finders.register(ReferenceKind.MASH_EPISODE, self.on_find, Permission.LOG_CONSULTATION)

    # -- helpers -------------------------------------------------------------------------------

    async def _card(self, turn_context: TurnContext, card: dict[str, Any]) -> None:
        await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(card)))

    async def _names(self) -> dict[str, str]:
        async with self._context.store.unit_of_work() as uow:
            return {e.aad_object_id: e.display_name for e in await uow.roles.entries()}

    async def _staff_card(
        self, actor: Actor, episode: MashEpisode, notice: str = "", error: str = ""
    ) -> dict[str, Any]:
        return episode_card(
            episode,
            await self._names(),
            self._context.clock.now(),
            may_close=actor.may(Permission.MASH_EPISODE),
            max_chars=self._context.policy.limits.max_free_text_chars,
            notice=notice,
            error=error,
        )

    async def _episode_reference(self, turn_context: TurnContext, action: CardAction) -> str | None:
        reference = reference_of(action.data, REFERENCE_KEY, ReferenceKind.MASH_EPISODE)
        if reference is None:
            await turn_context.send_activity(UNREADABLE)
        return reference

    # -- opening -------------------------------------------------------------------------------

    async def on_start(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        reference = reference_of(action.data, REFERENCE_KEY, ReferenceKind.CONTACT)
        if reference is None:
            await turn_context.send_activity(UNREADABLE)
            return
        await self._card(
            turn_context,
            open_form_card(reference, self._context.policy.limits.max_free_text_chars, new_form_id()),
        )

    async def on_open(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        contact = reference_of(action.data, REFERENCE_KEY, ReferenceKind.CONTACT)
        reasons = choices(action.data, REASONS_INPUT, MashReason)
        agencies = choices(action.data, AGENCIES_INPUT, Agency)
        urgency = choices(action.data, URGENCY_INPUT, Urgency)
        form_id = form_id_of(action.data)
        if (
            contact is None
            or form_id is None
            or reasons is None
            or agencies is None
            or urgency is None
            or len(urgency) > 1
        ):
            await turn_context.send_activity(UNREADABLE)
            return
        form = EpisodeForm(
            contact,
            urgency[0] if urgency else Urgency.STANDARD,
            reasons,
            agencies,
            text_input(action.data, QUESTION_INPUT),
            form_id,
        )
        async with self._context.store.unit_of_work() as uow:
            result = await open_episode(uow, form, who=actor.who, rules=self._context.rules())
        if isinstance(result, Refusal):
            if result.reason is RefusalReason.INVALID:
                max_chars = self._context.policy.limits.max_free_text_chars
                await self._card(
                    turn_context, open_form_card(contact, max_chars, form_id, error=result.message)
                )
            else:
                await turn_context.send_activity(result.message)
            return
        sent = [
            f"{PARTNER_TITLES[agency]}: {await self._send_request(result, agency)}"
            for agency in form.agencies
        ]
        await self._card(
            turn_context,
            await self._staff_card(
                actor, result, notice=f"Episode opened. Requests sent ({'; '.join(sent)})."
            ),
        )

    async def _send_request(self, episode: MashEpisode, agency: Agency) -> str:
        """Send the request card to each partner of ``agency``; what to tell the consultant."""
        view = PartnerView.of(episode, agency)
        async with self._context.store.unit_of_work() as uow:
            people = await partners_of(uow, agency)
        delivered = 0
        if view is not None:
            card = request_card(view, self._context.clock.now())
            for person in people:
                delivery = await self._context.notifier.send_card_to_person(person, card)
                delivered += 1 if delivery.ok else 0
        async with self._context.store.unit_of_work() as uow:
            await uow.audit.append(
                AuditEvent(
                    self._context.clock.now(),
                    episode.opened_by,
                    REQUEST_SENT,
                    episode.reference,
                    f"agency={agency.value}; partners={len(people)}; delivered={delivered}",
                )
            )
            await uow.commit()
        log.info("mash request sent", extra={"reference": episode.reference, "count": delivered})
        return (
            f"{delivered} of {len(people)} partners reached"
            if people
            else "no partner in the directory: phone them"
        )

    # -- answers and closing -------------------------------------------------------------------

    async def on_answer(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        reference = await self._episode_reference(turn_context, action)
        if reference is None:
            return
        async with self._context.store.unit_of_work() as uow:
            result = await partner_answer(
                uow,
                reference,
                text_input(action.data, ANSWER_INPUT),
                who=actor.who,
                rules=self._context.rules(),
            )
        if isinstance(result, Refusal):
            await turn_context.send_activity(result.message)
            return
        async with self._context.store.unit_of_work() as uow:
            agency = await uow.mash.agency_of(actor.aad_object_id)
        view = PartnerView.of(result, agency) if agency is not None else None
        if view is not None:
            await self._card(
                turn_context,
                request_card(view, self._context.clock.now(), notice="Thank you: your answer is sent."),
            )
            chat = await self._context.notifier.personal_chat_of(result.opened_by)
            if chat is not None:
                await self._context.notifier.send_text(
                    chat, f"{PARTNER_TITLES[view.agency]} answered on {reference}."
                )

    async def on_phone(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        reference = await self._episode_reference(turn_context, action)
        agency = choices(action.data, AGENCY_INPUT, Agency)
        if reference is None:
            return
        if not agency or len(agency) > 1:
            await turn_context.send_activity("Choose the agency that answered.")
            return
        async with self._context.store.unit_of_work() as uow:
            result = await record_phone_answer(
                uow,
                reference,
                agency[0],
                text_input(action.data, ANSWER_INPUT),
                text_input(action.data, GIVEN_BY_INPUT),
                who=actor.who,
                rules=self._context.rules(),
            )
        await self._after_staff_change(turn_context, actor, reference, result, "Phone answer recorded.")

    async def on_close(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        reference = await self._episode_reference(turn_context, action)
        decision = choices(action.data, DECISION_INPUT, MashDecision)
        participants = choices(action.data, PARTICIPANTS_INPUT, Agency)
        if reference is None:
            return
        if not decision or len(decision) > 1 or participants is None:
            await turn_context.send_activity("Choose the decision and the agencies that took part.")
            return
        async with self._context.store.unit_of_work() as uow:
            result = await close_episode(
                uow,
                reference,
                decision[0],
                text_input(action.data, RATIONALE_INPUT),
                participants,
                who=actor.who,
                rules=self._context.rules(),
            )
        await self._after_staff_change(turn_context, actor, reference, result, "Episode closed.")

    async def _after_staff_change(
        self,
        turn_context: TurnContext,
        actor: Actor,
        reference: str,
        result: MashEpisode | Refusal,
        notice: str,
    ) -> None:
        if isinstance(result, MashEpisode):
            await self._card(turn_context, await self._staff_card(actor, result, notice=notice))
            return
        if result.reason is RefusalReason.INVALID:
            async with self._context.store.unit_of_work() as uow:
                episode = await uow.mash.get(reference)
            if episode is not None:
                await self._card(turn_context, await self._staff_card(actor, episode, error=result.message))
                return
        await turn_context.send_activity(result.message)

    # -- find ----------------------------------------------------------------------------------

    async def on_find(self, turn_context: TurnContext, actor: Actor, reference: Reference) -> None:
        async with self._context.store.unit_of_work() as uow:
            seen = await read_episode(uow, str(reference), who=actor.who, now=self._context.clock.now())
        if isinstance(seen, StaffView):
            await self._card(turn_context, await self._staff_card(actor, seen.episode))
        elif isinstance(seen, PartnerView):
            await self._card(turn_context, request_card(seen, self._context.clock.now()))
        else:
            await turn_context.send_activity(seen.message)
