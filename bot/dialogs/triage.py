"""The daily domestic-abuse triage in Teams: ``triage`` shows today's list with what is undecided,
the list's form adds an incident, **Decide** opens one incident's outcome form and the outcome is
recorded (for (b) and (c) the contact is submitted on intake's path and posted like any other).

Personal chat only: the outcome form of (b) and (c) names a child. Handlers are thin; the use cases
are in ``frontdoor.triage``. Logs carry police references and outcomes only.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext

from bot.cards.triage import (
    ADD,
    AUTHORITY_INPUT,
    CHILD_DOB_INPUT,
    CHILD_NAME_INPUT,
    CONSENT_INPUT,
    CONSENT_REASON_INPUT,
    DECIDE,
    INCIDENT_KEY,
    OCCURRED_INPUT,
    OUTCOME_INPUT,
    PICK,
    POLICE_REFERENCE_INPUT,
    RISKS_INPUT,
    SUMMARY_INPUT,
    SYSTEMS_INPUT,
    TOLD_INPUT,
    outcome_card,
    triage_card,
)
from bot.dialogs.carddata import choices, text_input
from bot.dialogs.context import FeatureContext
from bot.routing import Actor, CardAction, Router
from frontdoor.agencies import TriageOutcome
from frontdoor.commands import CommandName, ParsedCommand
from frontdoor.contact import Consent, ImmediateRisk
from frontdoor.intake import SubmissionResult
from frontdoor.script import DEFAULT_LOCAL_SYSTEMS
from frontdoor.triage import ChildKnown, OutcomeForm, decide_incident, meeting_day, record_incident
from frontdoor.usecase import Refusal, RefusalReason

log = logging.getLogger(__name__)

UNREADABLE = "That card is no longer active. Type **triage** to see today's list."


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


class TriageFeature:
    def __init__(
        self, context: FeatureContext, dispatch: Callable[[SubmissionResult, Actor], Awaitable[list[str]]]
    ) -> None:
        """``dispatch`` posts a contact the triage made as intake posts its own."""
        self._context = context
        self._dispatch = dispatch

    def register(self, router: Router) -> None:
        router.command(CommandName.TRIAGE, self.on_triage)
        router.submission(ADD, self.on_add)
        router.submission(PICK, self.on_pick)
        router.submission(DECIDE, self.on_decide)

    async def _card(self, turn_context: TurnContext, card: dict[str, Any]) -> None:
        await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(card)))

    async def _list(self, notice: str = "", error: str = "") -> dict[str, Any]:
        day = meeting_day(self._context.clock.now())
        async with self._context.store.unit_of_work() as uow:
            incidents = await uow.triage.on(day)
            names = {e.aad_object_id: e.display_name for e in await uow.roles.entries()}
        return triage_card(day, incidents, names, notice=notice, error=error)

    async def on_triage(self, turn_context: TurnContext, actor: Actor, parsed: ParsedCommand) -> None:
        await self._card(turn_context, await self._list())

    async def on_add(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        async with self._context.store.unit_of_work() as uow:
            result = await record_incident(
                uow,
                text_input(action.data, POLICE_REFERENCE_INPUT),
                _date(text_input(action.data, OCCURRED_INPUT)),
                text_input(action.data, SUMMARY_INPUT),
                who=actor.who,
                now=self._context.clock.now(),
            )
        if isinstance(result, Refusal):
            await self._card(turn_context, await self._list(error=result.message))
            return
        await self._card(turn_context, await self._list(notice=f"{result.police_reference} added."))

    async def on_pick(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        async with self._context.store.unit_of_work() as uow:
            incident = await uow.triage.get(text_input(action.data, INCIDENT_KEY))
        if incident is None or incident.decision is not None:
            await self._card(turn_context, await self._list(error="That incident has its outcome already."))
            return
        await self._card(turn_context, outcome_card(incident, DEFAULT_LOCAL_SYSTEMS))

    async def on_decide(self, turn_context: TurnContext, actor: Actor, action: CardAction) -> None:
        data = action.data
        incident_id = text_input(data, INCIDENT_KEY)
        outcome = choices(data, OUTCOME_INPUT, TriageOutcome)
        consent = choices(data, CONSENT_INPUT, Consent)
        risks = choices(data, RISKS_INPUT, ImmediateRisk)
        if not incident_id or outcome is None or consent is None or risks is None or len(consent) > 1:
            await turn_context.send_activity(UNREADABLE)
            return
        if len(outcome) != 1:
            await turn_context.send_activity("Choose exactly one outcome.")
            return
        systems = tuple(s.strip() for s in text_input(data, SYSTEMS_INPUT).split(",") if s.strip())
        known = {value for value, _ in DEFAULT_LOCAL_SYSTEMS}
        child = ChildKnown(
            text_input(data, CHILD_NAME_INPUT),
            _date(text_input(data, CHILD_DOB_INPUT)),
            consent[0] if consent else None,
            text_input(data, CONSENT_REASON_INPUT),
            tuple(s for s in systems if s in known),
            frozenset(risks),
        )
        form = OutcomeForm(
            outcome[0],
            child if child.name else None,
            text_input(data, AUTHORITY_INPUT),
            text_input(data, TOLD_INPUT),
        )
        result = await decide_incident(
            self._context.store.unit_of_work,
            incident_id,
            form,
            who=actor.who,
            rules=self._context.rules(),
        )
        if isinstance(result, Refusal):
            async with self._context.store.unit_of_work() as uow:
                incident = await uow.triage.get(incident_id)
            if result.reason is RefusalReason.INVALID and incident is not None:
                await self._card(
                    turn_context, outcome_card(incident, DEFAULT_LOCAL_SYSTEMS, error=result.message)
                )
            else:
                await self._card(turn_context, await self._list(error=result.message))
            return
        incident, submitted = result
        made = ""
        if submitted is not None:
            posted = await self._dispatch(submitted, actor)
            made = f" Contact {submitted.reference} created: {' '.join(posted)}"
        await self._card(
            turn_context, await self._list(notice=f"{incident.police_reference}: outcome recorded.{made}")
        )
