"""The work after a screening decision, in Teams (SPEC §3): the officer's and the social worker's
personal card, the child-protection decision and outcome after route I on the decisions card, the
outcome letter, and the receiving team's challenge.

- ``WORK_VERB`` (personal card): contact with the referrer and the parents, the officer's further
  work, consent, "parents not reached: letter sent" (on route IV and re-referrals this starts the
  3-working-day lapse clock), and the outcome (officer, route III) or the recommendation (social
  worker, route IV and re-referrals), which sends the contact for sign-off on the decisions card.
- ``OUTCOME_VERB`` (decisions or duty channel card after route I, or a re-referral whose
  child-protection threshold is met): "Progress to referral" (the 2-hour decision) and the outcome.
- ``CHALLENGE_VERB`` (decisions card, or the personal card): the challenge, its discussion, "not
  agreed" (to the service manager) and its result or the service manager's final decision.
- ``REFERRER_CHALLENGE_VERB`` (personal card): a referrer's challenge and each step of it.
- ``LETTER_SENT_VERB`` (personal card): the outcome letter was sent.

Every action is the activity's sender's, with the roles the directory gives them; the card's data
names only the contact, its version and the step, and anything else in it is ignored. A stale or
replayed card, or someone else's, changes nothing: the answer is the card as it is now with a line
saying why. The invoke is answered straight after the database work; the channel card's update, the
receiving team manager's highlight and the letter go out afterwards. Logs carry ids only.

The receiving team hears of an accepted contact only when it is signed off
(``bot.dialogs.decision_notices``); recording the outcome tells nobody outside the front door. A challenge
raised is told to the decider; one not agreed goes to every service manager's personal chat, and a
referrer's challenge that remains goes to the team managers, then the service managers
(``REFERRER_CHALLENGE_VERB``, on the personal card, which staff open from ``find CT-…``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, TypeVar

from botbuilder.core import TurnContext

from bot.cards.common import with_typed
from bot.cards.work_inputs import (
    CHALLENGE_VERB,
    LETTER_SENT_VERB,
    NOTE_INPUTS,
    OUTCOME_VERB,
    REFERRER_CHALLENGE_VERB,
    STEP_KEY,
    WORK_VERB,
    ChallengeStep,
    Input,
    OutcomeStep,
    ReferrerChallengeStep,
    WorkStep,
)
from bot.dialogs.carddata import card_reference, card_version
from bot.dialogs.carddata import text_input as _text
from bot.dialogs.contacts import ContactRecords
from bot.dialogs.context import FeatureContext
from bot.dialogs.decision_data import risk_of_harm
from bot.dialogs.decisions import DecisionsFeature
from bot.replies import refusal
from bot.routing import Actor, CardAction, InvokeReply, Router
from frontdoor.casework import (
    CaseworkAction,
    CaseworkRecorded,
    ChallengeRecorded,
    ChallengeResult,
    OutcomeRecorded,
    ParentLetterSent,
    ReferrerChallengeRecorded,
    ReferrerResult,
    ReferrerStage,
    WorkKind,
    accept_referral,
    answerers,
    escalate_challenge,
    raise_challenge,
    recommend,
    record_challenge_discussion,
    record_consent,
    record_outcome,
    record_outcome_letter_sent,
    record_parents_unreachable,
    record_referrer_challenge,
    record_referrer_challenge_step,
    record_work,
    resolve_challenge,
)
from frontdoor.commands import Scope
from frontdoor.contact import Consent, Contact, ContactState
from frontdoor.outcomes import WITHOUT_CONSENT, Agency, Outcome, OutcomeKind, ServiceConsent
from frontdoor.roles import Permission, Role
from frontdoor.timefmt import format_time_on
from frontdoor.usecase import AlreadyDecided, Refusal, RefusalReason

log = logging.getLogger(__name__)

_UNREADABLE = "This card could not be read, so nothing was changed."
#: The personal card holds the full record: it is answered in a personal chat only, never where
#: others would see it (a card forwarded to a channel or group chat).
_PERSONAL_ONLY = "This card works only in your personal chat with me, so nothing was changed."

_WORK_KINDS: Mapping[WorkStep, WorkKind] = {
    WorkStep.REFERRER: WorkKind.REFERRER_CONTACT,
    WorkStep.PARENTS: WorkKind.PARENT_CONTACT,
    WorkStep.OFFICER_WORK: WorkKind.OFFICER_WORK,
}

_DONE: Mapping[WorkStep, str] = {
    WorkStep.REFERRER: "Recorded: contact with the referrer.",
    WorkStep.PARENTS: "Recorded: contact with the parents.",
    WorkStep.OFFICER_WORK: "Recorded: the further work.",
}

Result = (
    CaseworkRecorded
    | ParentLetterSent
    | OutcomeRecorded
    | ChallengeRecorded
    | ReferrerChallengeRecorded
    | Refusal
    | AlreadyDecided
)

#: Who is told that a referrer's challenge remains and comes to them.
_STAGE_ROLES: Mapping[ReferrerStage, Role] = {
    ReferrerStage.TEAM_MANAGER: Role.TEAM_MANAGER,
    ReferrerStage.SERVICE_MANAGER: Role.SERVICE_MANAGER,
}


# -- reading the card's data ----------------------------------------------------------------------


E = TypeVar(
    "E",
    WorkStep,
    OutcomeStep,
    ChallengeStep,
    Consent,
    OutcomeKind,
    Agency,
    ChallengeResult,
    ReferrerChallengeStep,
    ReferrerResult,
    ServiceConsent,
)


def _choice(data: Mapping[str, Any], key: str, kind: type[E]) -> E | None:
    try:
        return kind(_text(data, key))
    except ValueError:
        return None


def outcome_from(data: Mapping[str, Any]) -> Outcome | str:
    """The outcome the card's inputs describe, or what to fix. Particulars that belong to another
    kind of outcome (a receiving team left filled in before choosing "no further action") are
    ignored rather than refused."""
    kind = _choice(data, Input.OUTCOME.value, OutcomeKind)
    if kind is None:
        return "Please choose the outcome. Nothing was changed."
    service = _choice(data, Input.SERVICE_CONSENT.value, ServiceConsent)
    if service is None:
        return "Please record whether there is consent for a service. Nothing was changed."
    if kind is OutcomeKind.ACCEPTED:
        return Outcome(
            kind,
            _text(data, Input.OUTCOME_RATIONALE.value),
            receiving_team=_text(data, Input.RECEIVING_TEAM.value),
            strategy_discussion=_text(data, Input.STRATEGY.value) == "true",
            receiving_manager_id=_text(data, Input.RECEIVING_MANAGER.value),
            service_consent=service,
            risk_of_harm=risk_of_harm(data),
        )
    agency = _choice(data, Input.AGENCY.value, Agency) if kind is OutcomeKind.OTHER_AGENCY else None
    return Outcome(kind, _text(data, Input.OUTCOME_RATIONALE.value), agency=agency, service_consent=service)


class CaseworkFeature:
    def __init__(self, context: FeatureContext, decisions: DecisionsFeature) -> None:
        self._context = context
        self._decisions = decisions
        self._records = ContactRecords(context.store, context.clock)
        self._personal = decisions.personal

    def register(self, router: Router) -> None:
        router.execution(WORK_VERB, self.on_work)
        router.execution(OUTCOME_VERB, self.on_outcome)
        router.execution(CHALLENGE_VERB, self.on_challenge)
        router.execution(LETTER_SENT_VERB, self.on_letter_sent)
        router.execution(REFERRER_CHALLENGE_VERB, self.on_referrer_challenge)

    # -- the personal card -----------------------------------------------------------------------

    async def on_work(self, _: TurnContext, actor: Actor, action: CardAction) -> InvokeReply:
        reference, version = card_reference(action.data), card_version(action.data)
        step = _choice(action.data, STEP_KEY, WorkStep)
        contact = await self._records.contact(reference) if reference is not None else None
        if contact is None or version is None or step is None:
            log.info("unreadable work card", extra={"verb": action.action})
            return InvokeReply(message=_UNREADABLE)
        if actor.scope is not Scope.PERSONAL:
            return InvokeReply(message=_PERSONAL_ONLY)
        if not actor.may(Permission.VIEW_CONTACTS):
            await self._records.refused(actor, contact, action.action)
            return InvokeReply(message=refusal(Permission.VIEW_CONTACTS))
        if step is WorkStep.REFRESH:
            return InvokeReply(card=await self._personal.shown_to(contact, actor))
        result = await self._work(contact, step, action.data, actor, version)
        if isinstance(result, str):
            return InvokeReply(card=await self._personal.shown_to(contact, actor, notice=result))
        return await self._answer(result, contact, actor, action.data, _done(step, result))

    async def _work(
        self, contact: Contact, step: WorkStep, data: Mapping[str, Any], actor: Actor, version: int
    ) -> Result | str:
        uow, now = self._context.store.unit_of_work(), self._context.clock.now()
        who, rules = actor.who, self._context.rules(now)
        if step in _WORK_KINDS:
            text = _text(data, NOTE_INPUTS[step].value)
            return await record_work(uow, contact.id, _WORK_KINDS[step], text, version, who=who, now=now)
        if step is WorkStep.CONSENT:
            consent = _choice(data, Input.CONSENT.value, Consent)
            if consent is None:
                return "Please choose the consent. Nothing was changed."
            reason = _text(data, Input.CONSENT_REASON.value) if consent in WITHOUT_CONSENT else ""
            return await record_consent(uow, contact.id, consent, reason, version, who=who, now=now)
        if step is WorkStep.PARENTS_UNREACHABLE:
            notes = _text(data, Input.LETTER_NOTES.value)
            return await record_parents_unreachable(uow, contact.id, version, notes, who=who, rules=rules)
        outcome = outcome_from(data)
        if isinstance(outcome, str):
            return outcome
        if contact.state is ContactState.SW_ASSESSMENT:
            return await recommend(uow, contact.id, outcome, version, who=who, rules=rules)
        return await record_outcome(
            uow,
            contact.id,
            outcome,
            version,
            only_from=ContactState.OFFICER_WORK,
            who=who,
            rules=rules,
        )

    async def on_letter_sent(self, _: TurnContext, actor: Actor, action: CardAction) -> InvokeReply:
        reference, version = card_reference(action.data), card_version(action.data)
        contact = await self._records.contact(reference) if reference is not None else None
        if contact is None or version is None:
            log.info("unreadable letter card", extra={"verb": action.action})
            return InvokeReply(message=_UNREADABLE)
        if actor.scope is not Scope.PERSONAL:
            return InvokeReply(message=_PERSONAL_ONLY)
        if not actor.may(Permission.VIEW_CONTACTS):
            await self._records.refused(actor, contact, action.action)
            return InvokeReply(message=refusal(Permission.SEND_LETTERS))
        result = await record_outcome_letter_sent(
            self._context.store.unit_of_work(),
            contact.id,
            version,
            who=actor.who,
            now=self._context.clock.now(),
        )
        return await self._answer(
            result, contact, actor, action.data, "Recorded: the outcome letter was sent."
        )

    # -- the child-protection decision and outcome (channel card) --------------------------------

    async def on_outcome(self, _: TurnContext, actor: Actor, action: CardAction) -> InvokeReply:
        reference, version = card_reference(action.data), card_version(action.data)
        step = _choice(action.data, STEP_KEY, OutcomeStep)
        contact = await self._records.contact(reference) if reference is not None else None
        if contact is None or version is None or step is None:
            log.info("unreadable outcome card", extra={"verb": action.action})
            return InvokeReply(message=_UNREADABLE)
        if not (actor.may(Permission.THRESHOLD_DECISION) or actor.may(Permission.DECIDE_REREFERRAL)):
            await self._records.refused(actor, contact, action.action)
            return InvokeReply(message=refusal(Permission.THRESHOLD_DECISION))
        uow, now = self._context.store.unit_of_work(), self._context.clock.now()
        result: Result
        if step is OutcomeStep.ACCEPT:
            rationale = _text(action.data, Input.CP_RATIONALE.value)
            result = await accept_referral(uow, contact.id, rationale, version, who=actor.who, now=now)
            done = "Recorded: progress to referral. Record the outcome with the receiving team next."
        else:
            outcome = outcome_from(action.data)
            if isinstance(outcome, str):
                return InvokeReply(card=await self._decisions.card_for(contact, actor, notice=outcome))
            result = await record_outcome(
                uow,
                contact.id,
                outcome,
                version,
                who=actor.who,
                rules=self._context.rules(now),
            )
            done = "Recorded: the outcome. It now waits for sign-off."
        return await self._answer(result, contact, actor, action.data, done)

    # -- the challenge ---------------------------------------------------------------------------

    async def on_challenge(self, _: TurnContext, actor: Actor, action: CardAction) -> InvokeReply:
        reference, version = card_reference(action.data), card_version(action.data)
        step = _choice(action.data, STEP_KEY, ChallengeStep)
        contact = await self._records.contact(reference) if reference is not None else None
        if contact is None or version is None or step is None:
            log.info("unreadable challenge card", extra={"verb": action.action})
            return InvokeReply(message=_UNREADABLE)
        # Who exactly may take each step is the use case's; this keeps everyone else out of it.
        parties = (
            Permission.CHALLENGE_THRESHOLD,
            Permission.THRESHOLD_DECISION,
            Permission.SETTLE_ESCALATION,
        )
        allowed = actor.may(Permission.CHALLENGE_THRESHOLD) or (
            step is not ChallengeStep.RAISE and any(actor.may(p) for p in parties)
        )
        if not allowed:
            await self._records.refused(actor, contact, action.action)
            return InvokeReply(
                message=refusal(
                    Permission.CHALLENGE_THRESHOLD
                    if step is ChallengeStep.RAISE
                    else Permission.THRESHOLD_DECISION
                )
            )
        uow, now, who = self._context.store.unit_of_work(), self._context.clock.now(), actor.who
        rules = self._context.rules(now)
        result: Result
        if step is ChallengeStep.RAISE:
            grounds = _text(action.data, Input.GROUNDS.value)
            result = await raise_challenge(uow, contact.id, grounds, version, who=who, rules=rules)
            done = "Recorded: your challenge. The consultant or team manager who decided is told."
        elif step is ChallengeStep.DISCUSS:
            text = _text(action.data, Input.DISCUSSION.value)
            result = await record_challenge_discussion(uow, contact.id, text, version, who=who, now=now)
            done = "Recorded: the discussion."
        elif step is ChallengeStep.ESCALATE:
            reason = _text(action.data, Input.ESCALATE_REASON.value)
            result = await escalate_challenge(uow, contact.id, reason, version, who=who, now=now)
            done = "Recorded: not agreed. The service managers are told, to record the final decision."
        else:
            chosen = _choice(action.data, Input.RESULT.value, ChallengeResult)
            if chosen is None:
                return await self._reply(contact, actor, "Please choose the result. Nothing was changed.")
            revised = agency = None
            if chosen is ChallengeResult.OVERTURNED:
                revised = _choice(action.data, Input.REVISED_OUTCOME.value, OutcomeKind)
                if revised is OutcomeKind.OTHER_AGENCY:
                    agency = _choice(action.data, Input.REVISED_AGENCY.value, Agency)
            result = await resolve_challenge(
                uow,
                contact.id,
                chosen,
                _text(action.data, Input.RESULT_RATIONALE.value),
                version,
                revised_outcome=revised,
                agency=agency,
                who=who,
                now=now,
            )
            done = f"Recorded: the challenge is {chosen.value}."
        return await self._answer(result, contact, actor, action.data, done)

    # -- the referrer's challenge (personal card) ------------------------------------------------

    async def on_referrer_challenge(self, _: TurnContext, actor: Actor, action: CardAction) -> InvokeReply:
        reference = card_reference(action.data)
        step = _choice(action.data, STEP_KEY, ReferrerChallengeStep)
        contact = await self._records.contact(reference) if reference is not None else None
        if contact is None or step is None:
            log.info("unreadable referrer challenge card", extra={"verb": action.action})
            return InvokeReply(message=_UNREADABLE)
        if actor.scope is not Scope.PERSONAL:
            return InvokeReply(message=_PERSONAL_ONLY)
        if not actor.may(Permission.RECORD_REFERRER_CHALLENGE):
            await self._records.refused(actor, contact, action.action)
            return InvokeReply(message=refusal(Permission.RECORD_REFERRER_CHALLENGE))
        uow, now, who = self._context.store.unit_of_work(), self._context.clock.now(), actor.who
        result: ReferrerChallengeRecorded | Refusal | AlreadyDecided
        if step is ReferrerChallengeStep.RAISE:
            grounds = _text(action.data, Input.REFERRER_GROUNDS.value)
            result = await record_referrer_challenge(uow, contact.id, grounds, who=who, now=now)
            done = "Recorded: the referrer's challenge. A consultant or team manager discusses it next."
        else:
            chosen = _choice(action.data, Input.REFERRER_RESULT.value, ReferrerResult)
            if chosen is None:
                return await self._reply(contact, actor, "Please choose the result. Nothing was changed.")
            result = await record_referrer_challenge_step(
                uow,
                contact.id,
                chosen,
                _text(action.data, Input.REFERRER_STEP_NOTES.value),
                _text(action.data, Input.AGENCY_LEAD.value),
                who=who,
                now=now,
            )
            done = "Recorded: the step and its result."
        if isinstance(result, ReferrerChallengeRecorded):
            stage = result.challenge.next_stage
            if stage is not None and stage in _STAGE_ROLES and step is ReferrerChallengeStep.STEP:
                done += " The challenge remains: the people of the next step are told."
                self._decisions.run_later(self._tell_holders(result.contact, _STAGE_ROLES[stage], actor))
        return await self._answer(result, contact, actor, action.data, done)

    # -- answering -------------------------------------------------------------------------------

    async def _reply(
        self,
        contact: Contact,
        actor: Actor,
        notice: str,
        *,
        ok: bool = False,
        typed: Mapping[str, Any] | None = None,
    ) -> InvokeReply:
        """The card the actor sees: the channel's card in a channel, their personal card in their
        personal chat, and only the notice anywhere else (a group chat never gets the record); with
        ``typed``, the card's inputs filled with it again."""
        if actor.scope is Scope.TEAM:
            card = await self._decisions.card_for(contact, actor, notice=notice)
        elif actor.scope is Scope.PERSONAL:
            card = await self._personal.shown_to(contact, actor, notice=notice, notice_ok=ok)
        else:
            return InvokeReply(message=notice)
        return InvokeReply(card=with_typed(card, typed) if typed is not None else card)

    async def _answer(
        self, result: Result, contact: Contact, actor: Actor, typed: Mapping[str, Any], done: str
    ) -> InvokeReply:
        """The card after a casework action; a refusal redraws it with what ``typed`` (the card's
        inputs) held put back, so a missing field costs nothing already written."""
        reference = contact.reference or ""
        if isinstance(result, AlreadyDecided):
            log.info(
                "casework card out of date",
                extra={"reference": reference, "status": "replay" if result.replay else "stale"},
            )
            return await self._reply(result.contact, actor, result.message)
        if isinstance(result, Refusal):
            log.info("casework refused", extra={"reference": reference, "status": result.reason.value})
            if result.reason is RefusalReason.NOT_PERMITTED:
                await self._records.refused(actor, contact, "casework")
            current = await self._records.contact(reference) or contact
            return await self._reply(current, actor, result.message, typed=typed)
        log.info("casework recorded", extra={"reference": reference, "status": result.contact.state.value})
        if result.contact.state is not contact.state or isinstance(result, ChallengeRecorded):
            self._decisions.channel.redraw(result.contact)
        if isinstance(result, ChallengeRecorded):
            self._decisions.run_later(self._after_challenge(result, actor))
        return await self._reply(result.contact, actor, done, ok=True)

    # -- after the answer ------------------------------------------------------------------------

    async def _after_challenge(self, result: ChallengeRecorded, actor: Actor) -> None:
        """A challenge raised is told to the consultant or team manager who decided; one escalated,
        to every service manager (with the contact on their personal card); a result that produced a
        fresh outcome letter sends it to the person who recorded the result (unless they have it)."""
        contact, reference = result.contact, result.contact.reference or ""
        if result.action is CaseworkAction.CHALLENGE_RAISED:
            for person in sorted(answerers(contact) - {actor.aad_object_id}):
                chat = await self._context.notifier.personal_chat_of(person)
                if chat is not None:
                    await self._context.notifier.send_text(
                        chat,
                        f"The threshold decision on {reference} was challenged by the receiving team "
                        f"({actor.name or 'a team manager'}). Record the discussion and its result on the "
                        "decisions card.",
                    )
        if result.action is CaseworkAction.CHALLENGE_ESCALATED:
            await self._tell_holders(contact, Role.SERVICE_MANAGER, actor)
        if result.letter is not None and actor.scope is not Scope.PERSONAL:
            await self._decisions.notices.send_letter(contact, actor.aad_object_id, actor.aad_object_id)

    async def _tell_holders(self, contact: Contact, role: Role, actor: Actor) -> None:
        """Every holder of ``role`` gets the contact on their personal card: a challenge has come to
        them. Each is audited (``contact.escalation_told``), reached or not."""
        reference = contact.reference or ""
        async with self._context.store.unit_of_work() as uow:
            people = [entry.aad_object_id for entry in await uow.roles.holders(role)]
        heading = (
            f"{reference}: a challenge that could not be settled has come to you. Record the next step below."
        )
        for person in people:
            card = await self._personal.card_for(
                contact, person, await self._personal.roles_of(person), heading=heading
            )
            delivery = await self._context.notifier.send_card_to_person(person, card)
            via = "personal_chat" if delivery.ok else "none"
            await self._records.audit(
                actor.aad_object_id,
                "contact.escalation_told",
                reference,
                f"to={person}; role={role.value}; via={via}",
            )
        if not people:
            await self._records.audit(
                actor.aad_object_id,
                "contact.escalation_not_told",
                reference,
                f"role={role.value}; reason=nobody",
            )

    # -- helpers ---------------------------------------------------------------------------------


def _done(step: WorkStep, result: Result) -> str:
    if isinstance(result, ParentLetterSent):
        if result.lapses_at is not None:
            return (
                "Recorded: the letter to the parents. They have until "
                f"{format_time_on(result.lapses_at)} to make contact; if they do not, "
                "the contact comes back to you to review."
            )
        return "Recorded: the letter to the parents."
    if isinstance(result, CaseworkRecorded) and step is WorkStep.CONSENT:
        consent = result.contact.consent
        return f"Recorded: consent {consent.value.replace('_', ' ') if consent else 'recorded'}."
    if isinstance(result, OutcomeRecorded):
        what = "recommendation" if result.recommendation is not None else "outcome"
        return f"Recorded: the {what}. It now waits for sign-off by a consultant or team manager."
    return _DONE.get(step, "Recorded.")
