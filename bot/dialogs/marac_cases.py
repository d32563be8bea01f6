"""MARAC and MAPPA administration in Teams: ``marac`` shows the next meeting with its cases and the
state of each request, with the forms to add a case and link a child (whose allocated worker gets
the request card in their personal chat and is chased by the alert pipeline); the worker answers on
the card. Once a meeting has started (until the next one does), ``marac`` first shows it with the
form to record the actions it agreed. ``mappa`` logs invitations and where they were forwarded.
Personal chats only."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext

from bot.cards.marac_cases import (
    ADD_CASE,
    ANSWER,
    ANSWER_INPUT,
    CASE_INPUT,
    CASE_REFERENCE_INPUT,
    CHILD_DOB_INPUT,
    CHILD_NAME_INPUT,
    DUE_ON_INPUT,
    LINK_CHILD,
    LOG_MAPPA,
    MAPPA_REFERENCE_INPUT,
    MEETING_INPUT,
    OWNER_INPUT,
    RECORD_ACTION,
    REQUEST_KEY,
    TEAM_INPUT,
    WHAT_INPUT,
    WORKER_INPUT,
    mappa_card,
    meeting_card,
    request_card,
)
from bot.dialogs.carddata import form_id_of, new_form_id, text_input
from bot.dialogs.context import FeatureContext
from bot.routing import Actor, CardAction, Router
from frontdoor.commands import CommandName, ParsedCommand
from frontdoor.marac import marac_meeting_at
from frontdoor.marac_cases import (
    add_case,
    answer_request,
    last_meeting,
    link_child,
    log_mappa,
    next_meeting,
    record_action,
)
from frontdoor.roles import Role
from frontdoor.usecase import Refusal

log = logging.getLogger(__name__)

STALE = "That form is no longer active: type **marac** to see the meetings again."
_WORKER_ROLES = (Role.SOCIAL_WORKER, Role.CONSULTANT, Role.TEAM_MANAGER)


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


class MaracFeature:
    def __init__(self, context: FeatureContext) -> None:
        self._context = context

    def register(self, router: Router) -> None:
        router.command(CommandName.MARAC, self.on_marac)
        router.command(CommandName.MAPPA, self.on_mappa)
        router.submission(ADD_CASE, self.on_add_case)
        router.submission(LINK_CHILD, self.on_link_child)
        router.submission(RECORD_ACTION, self.on_record_action)
        router.submission(ANSWER, self.on_answer)
        router.submission(LOG_MAPPA, self.on_log_mappa)

    async def _card(self, turn_context: TurnContext, card: dict[str, Any]) -> None:
        await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(card)))

    async def _people(self) -> tuple[list[tuple[str, str]], dict[str, str]]:
        async with self._context.store.unit_of_work() as uow:
            entries = await uow.roles.entries()
        names = {e.aad_object_id: e.display_name for e in entries}
        workers = sorted(
            (
                (e.aad_object_id, e.display_name or e.aad_object_id)
                for e in entries
                if set(_WORKER_ROLES) & e.roles
            ),
            key=lambda pair: (pair[1].casefold(), pair[0]),
        )
        return workers, names

    async def _meeting_card(
        self, day: date, meeting_at: datetime, notice: str = "", error: str = ""
    ) -> dict[str, Any]:
        async with self._context.store.unit_of_work() as uow:
            cases = await uow.marac.cases_on(day)
        workers, names = await self._people()
        return meeting_card(
            day,
            meeting_at,
            cases,
            workers,
            names,
            self._context.clock.now(),
            form_id=new_form_id(),
            max_chars=self._context.policy.limits.max_free_text_chars,
            notice=notice,
            error=error,
        )

    async def _show_meeting(self, turn_context: TurnContext, notice: str = "", error: str = "") -> None:
        """The next meeting, where cases are added and children linked."""
        meeting = next_meeting(self._context.clock.now(), self._context.calendar, self._context.policy)
        if meeting is None:
            await turn_context.send_activity("There is no MARAC meeting in the next fortnight.")
            return
        await self._card(turn_context, await self._meeting_card(*meeting, notice=notice, error=error))

    async def on_marac(self, turn_context: TurnContext, actor: Actor, parsed: ParsedCommand) -> None:
        # The meeting that has started (today's after it begins), while it has cases: its actions
        # are recorded there. Then the next one.
        last = last_meeting(self._context.clock.now(), self._context.calendar, self._context.policy)
        if last is not None:
            async with self._context.store.unit_of_work() as uow:
                held = await uow.marac.cases_on(last[0])
            if held:
                await self._card(turn_context, await self._meeting_card(*last))
        await self._show_meeting(turn_context)

    async def on_add_case(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        async with self._context.store.unit_of_work() as uow:
            result = await add_case(
                uow,
                text_input(action.data, CASE_REFERENCE_INPUT),
                who=actor.who,
                rules=self._context.rules(),
            )
        if isinstance(result, Refusal):
            await self._show_meeting(turn_context, error=result.message)
            return
        await self._show_meeting(turn_context, notice=f"{result.case_reference} added.")

    async def on_link_child(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        workers, _ = await self._people()
        worker = text_input(action.data, WORKER_INPUT)
        if worker not in {person for person, _ in workers}:
            worker = ""
        form_id = form_id_of(action.data)
        if form_id is None:
            await turn_context.send_activity(STALE)
            return
        async with self._context.store.unit_of_work() as uow:
            result = await link_child(
                uow,
                text_input(action.data, CASE_INPUT),
                text_input(action.data, CHILD_NAME_INPUT),
                _date(text_input(action.data, CHILD_DOB_INPUT)),
                text_input(action.data, TEAM_INPUT),
                worker,
                who=actor.who,
                rules=self._context.rules(),
                form_id=form_id,
            )
        if isinstance(result, Refusal):
            await self._show_meeting(turn_context, error=result.message)
            return
        case, request = result
        delivery = await self._context.notifier.send_card_to_person(
            worker, request_card(case, request, self._context.clock.now())
        )
        sent = (
            "The request was sent to the worker."
            if delivery.ok
            else "The worker could not be reached: phone them."
        )
        await self._show_meeting(turn_context, notice=f"Child linked to {case.case_reference}. {sent}")

    async def on_record_action(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        form_id = form_id_of(action.data)
        async with self._context.store.unit_of_work() as uow:
            case = await uow.marac.get_case(text_input(action.data, CASE_INPUT))
        meeting = (
            marac_meeting_at(case.meeting_day, self._context.calendar, self._context.policy) if case else None
        )
        if case is None or meeting is None or form_id is None:
            await turn_context.send_activity(STALE)
            return
        async with self._context.store.unit_of_work() as uow:
            result = await record_action(
                uow,
                case.id,
                text_input(action.data, WHAT_INPUT),
                text_input(action.data, OWNER_INPUT),
                _date(text_input(action.data, DUE_ON_INPUT)),
                who=actor.who,
                rules=self._context.rules(),
                form_id=form_id,
            )
        if isinstance(result, Refusal):
            card = await self._meeting_card(case.meeting_day, meeting, error=result.message)
        else:
            card = await self._meeting_card(
                case.meeting_day, meeting, notice=f"Action recorded on {case.case_reference}."
            )
        await self._card(turn_context, card)

    async def on_answer(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        request_id = text_input(action.data, REQUEST_KEY)
        async with self._context.store.unit_of_work() as uow:
            result = await answer_request(
                uow,
                request_id,
                text_input(action.data, ANSWER_INPUT),
                who=actor.who,
                rules=self._context.rules(),
            )
        if isinstance(result, Refusal):
            await turn_context.send_activity(result.message)
            return
        async with self._context.store.unit_of_work() as uow:
            case = await uow.marac.get_case(result.case_id)
        if case is not None:
            await self._card(
                turn_context,
                request_card(
                    case, result, self._context.clock.now(), notice="Thank you: your answer is recorded."
                ),
            )

    async def _mappa(self, notice: str = "", error: str = "") -> dict[str, Any]:
        since: datetime = self._context.clock.now() - timedelta(days=30)
        async with self._context.store.unit_of_work() as uow:
            invitations = await uow.marac.invitations_since(since)
        workers, names = await self._people()
        return mappa_card(invitations, workers, names, notice=notice, error=error)

    async def on_mappa(self, turn_context: TurnContext, actor: Actor, parsed: ParsedCommand) -> None:
        await self._card(turn_context, await self._mappa())

    async def on_log_mappa(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        team = text_input(action.data, TEAM_INPUT)
        workers, _ = await self._people()
        worker = text_input(action.data, WORKER_INPUT) if team else ""
        if worker and worker not in {person for person, _ in workers}:
            worker = ""
        async with self._context.store.unit_of_work() as uow:
            result = await log_mappa(
                uow,
                text_input(action.data, MAPPA_REFERENCE_INPUT),
                _date(text_input(action.data, MEETING_INPUT)),
                team,
                worker or None,
                who=actor.who,
                now=self._context.clock.now(),
            )
        if isinstance(result, Refusal):
            await self._card(turn_context, await self._mappa(error=result.message))
            return
        if result.worker_id:
            chat = await self._context.notifier.personal_chat_of(result.worker_id)
            if chat is not None:
                await self._context.notifier.send_text(
                    chat,
                    f"MAPPA invitation {result.mappa_reference} (meeting {result.meeting_day:%d/%m/%Y}) "
                    "has been forwarded to your team.",
                )
        where = "the front door" if result.to_front_door else result.team
        await self._card(
            turn_context, await self._mappa(notice=f"{result.mappa_reference} logged: forwarded to {where}.")
        )
