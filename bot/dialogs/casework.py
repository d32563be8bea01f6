"""The work after a screening decision, in Teams (SPEC §3): the officer's and the social worker's
personal card, the child-protection decision and outcome after route I on the decisions card, the
outcome letter, and the receiving team's challenge.

- ``WORK_VERB`` (personal card): contact with the referrer and the parents, the officer's further
  work, consent, "parents not reached: letter sent" (on route IV and re-referrals this starts the
  3-working-day lapse clock), and the outcome (officer, route III) or the recommendation (social
  worker, route IV and re-referrals), which sends the contact for sign-off on the decisions card.
- ``OUTCOME_VERB`` (decisions or duty channel card after route I, or a re-referral whose
  child-protection threshold is met): "Progress to referral" (the 2-hour decision) and the outcome.
- ``CHALLENGE_VERB`` (decisions card, or the receiving team manager's personal card): the challenge,
  its discussion and its result.
- ``LETTER_SENT_VERB`` (personal card): the outcome letter was sent.

Every action is the activity's sender's, with the roles the directory gives them; the card's data
names only the contact, its version and the step, and anything else in it is ignored. A stale or
replayed card, or someone else's, changes nothing: the answer is the card as it is now with a line
saying why. The invoke is answered straight after the database work; the channel card's update, the
receiving team manager's highlight and the letter go out afterwards. Logs carry ids only.

The highlight (SPEC §3, "an accepted contact with immediate risk is highlighted to the receiving
team manager at once"): the outcome names the receiving team manager from the directory; they get
the contact in their personal chat (with the challenge), or, if the bot cannot reach them there, an
@mention in the decisions channel. An urgent contact accepted without a manager named goes to every
team manager in the directory rather than to nobody. A non-urgent accepted contact with a manager
named is sent to them too, so that they can challenge the threshold the same day.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, TypeVar

from botbuilder.core import TurnContext

from bot.cards.work import (
    CHALLENGE_VERB,
    LETTER_SENT_VERB,
    NOTE_INPUTS,
    OUTCOME_VERB,
    STEP_KEY,
    WORK_VERB,
    ChallengeStep,
    Input,
    OutcomeStep,
    WorkStep,
)
from bot.dialogs.carddata import card_reference, card_version
from bot.dialogs.carddata import text_input as _text
from bot.dialogs.contacts import ContactRecords
from bot.dialogs.decisions import DecisionsFeature
from bot.notify import Mentioned, Notifier
from bot.replies import refusal
from bot.routing import Actor, CardAction, InvokeReply, Router
from frontdoor.calendar import LONDON, WorkingCalendar
from frontdoor.casework import (
    CaseworkAction,
    CaseworkRecorded,
    ChallengeRecorded,
    ChallengeResult,
    OutcomeRecorded,
    ParentLetterSent,
    WorkKind,
    accept_referral,
    raise_challenge,
    recommend,
    record_challenge_discussion,
    record_consent,
    record_outcome,
    record_outcome_letter_sent,
    record_parents_unreachable,
    record_work,
    resolve_challenge,
)
from frontdoor.channels import channel_conversation
from frontdoor.commands import Scope
from frontdoor.contact import Consent, Contact, ContactState
from frontdoor.decisions import (
    Agency,
    AlreadyDecided,
    Outcome,
    OutcomeKind,
    Refusal,
    RefusalReason,
    current_outcome,
)
from frontdoor.policy import Policy
from frontdoor.ports import Clock
from frontdoor.records import ChannelPurpose
from frontdoor.roles import Permission, Role
from frontdoor.unit_of_work import Store

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

Result = CaseworkRecorded | ParentLetterSent | OutcomeRecorded | ChallengeRecorded | Refusal | AlreadyDecided


# -- reading the card's data ----------------------------------------------------------------------


E = TypeVar("E", WorkStep, OutcomeStep, ChallengeStep, Consent, OutcomeKind, Agency, ChallengeResult)


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
    if kind is OutcomeKind.ACCEPTED:
        return Outcome(
            kind,
            _text(data, Input.OUTCOME_RATIONALE.value),
            receiving_team=_text(data, Input.RECEIVING_TEAM.value),
            strategy_discussion=_text(data, Input.STRATEGY.value) == "true",
            receiving_manager_id=_text(data, Input.RECEIVING_MANAGER.value),
        )
    agency = _choice(data, Input.AGENCY.value, Agency) if kind is OutcomeKind.OTHER_AGENCY else None
    return Outcome(kind, _text(data, Input.OUTCOME_RATIONALE.value), agency=agency)


class CaseworkFeature:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        calendar: WorkingCalendar,
        policy: Policy,
        notifier: Notifier,
        decisions: DecisionsFeature,
    ) -> None:
        self._store = store
        self._clock = clock
        self._calendar = calendar
        self._policy = policy
        self._notifier = notifier
        self._decisions = decisions
        self._records = ContactRecords(store, clock)
        self._personal = decisions.personal

    def register(self, router: Router) -> None:
        router.execution(WORK_VERB, self.on_work)
        router.execution(OUTCOME_VERB, self.on_outcome)
        router.execution(CHALLENGE_VERB, self.on_challenge)
        router.execution(LETTER_SENT_VERB, self.on_letter_sent)

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
        return await self._answer(result, contact, actor, _done(step, result))

    async def _work(
        self, contact: Contact, step: WorkStep, data: Mapping[str, Any], actor: Actor, version: int
    ) -> Result | str:
        uow, now = self._store.unit_of_work(), self._clock.now()
        who, roles = actor.aad_object_id, actor.roles
        if step in _WORK_KINDS:
            text = _text(data, NOTE_INPUTS[step].value)
            return await record_work(uow, contact.id, _WORK_KINDS[step], text, who, roles, version, now)
        if step is WorkStep.CONSENT:
            consent = _choice(data, Input.CONSENT.value, Consent)
            if consent is None:
                return "Please choose the consent. Nothing was changed."
            reason = _text(data, Input.CONSENT_REASON.value) if consent is Consent.NOT_SOUGHT else ""
            return await record_consent(uow, contact.id, consent, reason, who, roles, version, now)
        if step is WorkStep.PARENTS_UNREACHABLE:
            notes = _text(data, Input.LETTER_NOTES.value)
            return await record_parents_unreachable(
                uow, contact.id, who, roles, version, now, self._calendar, self._policy, notes
            )
        outcome = outcome_from(data)
        if isinstance(outcome, str):
            return outcome
        if contact.state is ContactState.SW_ASSESSMENT:
            return await recommend(
                uow, contact.id, outcome, who, roles, version, now, self._calendar, self._policy
            )
        return await record_outcome(
            uow,
            contact.id,
            outcome,
            who,
            roles,
            version,
            now,
            self._calendar,
            self._policy,
            only_from=ContactState.OFFICER_WORK,
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
            self._store.unit_of_work(),
            contact.id,
            actor.aad_object_id,
            actor.roles,
            version,
            self._clock.now(),
        )
        return await self._answer(result, contact, actor, "Recorded: the outcome letter was sent.")

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
        uow, now = self._store.unit_of_work(), self._clock.now()
        result: Result
        if step is OutcomeStep.ACCEPT:
            rationale = _text(action.data, Input.CP_RATIONALE.value)
            result = await accept_referral(
                uow, contact.id, rationale, actor.aad_object_id, actor.roles, version, now
            )
            done = "Recorded: progress to referral. Record the outcome with the receiving team next."
        else:
            outcome = outcome_from(action.data)
            if isinstance(outcome, str):
                return InvokeReply(card=await self._decisions.card_for(contact, actor, notice=outcome))
            result = await record_outcome(
                uow,
                contact.id,
                outcome,
                actor.aad_object_id,
                actor.roles,
                version,
                now,
                self._calendar,
                self._policy,
            )
            done = "Recorded: the outcome. It now waits for sign-off."
        return await self._answer(result, contact, actor, done)

    # -- the challenge ---------------------------------------------------------------------------

    async def on_challenge(self, _: TurnContext, actor: Actor, action: CardAction) -> InvokeReply:
        reference, version = card_reference(action.data), card_version(action.data)
        step = _choice(action.data, STEP_KEY, ChallengeStep)
        contact = await self._records.contact(reference) if reference is not None else None
        if contact is None or version is None or step is None:
            log.info("unreadable challenge card", extra={"verb": action.action})
            return InvokeReply(message=_UNREADABLE)
        needed = Permission.CHALLENGE_THRESHOLD
        allowed = actor.may(needed) or (
            step is not ChallengeStep.RAISE and actor.may(Permission.THRESHOLD_DECISION)
        )
        if not allowed:
            await self._records.refused(actor, contact, action.action)
            return InvokeReply(
                message=refusal(needed if step is ChallengeStep.RAISE else Permission.THRESHOLD_DECISION)
            )
        uow, now, who, roles = self._store.unit_of_work(), self._clock.now(), actor.aad_object_id, actor.roles
        result: Result
        if step is ChallengeStep.RAISE:
            grounds = _text(action.data, Input.GROUNDS.value)
            result = await raise_challenge(
                uow, contact.id, grounds, who, roles, version, now, self._calendar, self._policy
            )
            done = "Recorded: your challenge. The front door's consultants are told on the decisions card."
        elif step is ChallengeStep.DISCUSS:
            text = _text(action.data, Input.DISCUSSION.value)
            result = await record_challenge_discussion(uow, contact.id, text, who, roles, version, now)
            done = "Recorded: the discussion."
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
                who,
                roles,
                version,
                now,
                revised_outcome=revised,
                agency=agency,
            )
            done = f"Recorded: the challenge is {chosen.value}."
        return await self._answer(result, contact, actor, done)

    # -- answering -------------------------------------------------------------------------------

    async def _reply(self, contact: Contact, actor: Actor, notice: str, *, ok: bool = False) -> InvokeReply:
        """The card the actor sees: the channel's card in a channel, their personal card in their
        personal chat, and only the notice anywhere else (a group chat never gets the record)."""
        if actor.scope is Scope.TEAM:
            return InvokeReply(card=await self._decisions.card_for(contact, actor, notice=notice))
        if actor.scope is not Scope.PERSONAL:
            return InvokeReply(message=notice)
        return InvokeReply(card=await self._personal.shown_to(contact, actor, notice=notice, notice_ok=ok))

    async def _answer(self, result: Result, contact: Contact, actor: Actor, done: str) -> InvokeReply:
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
            return await self._reply(current, actor, result.message)
        log.info("casework recorded", extra={"reference": reference, "status": result.contact.state.value})
        if result.contact.state is not contact.state or isinstance(result, ChallengeRecorded):
            self._decisions.redraw_channel(result.contact)
        if isinstance(result, OutcomeRecorded):
            self._decisions.run_later(self._tell_receiving_manager(result, actor))
            done = _outcome_done(result, done)
        if isinstance(result, ChallengeRecorded):
            self._decisions.run_later(self._after_challenge(result, actor))
        return await self._reply(result.contact, actor, done, ok=True)

    # -- after the answer ------------------------------------------------------------------------

    async def _tell_receiving_manager(self, result: OutcomeRecorded, actor: Actor) -> None:
        outcome, contact = result.outcome, result.contact
        if not outcome.accepted:
            return
        reference = contact.reference or ""
        async with self._store.unit_of_work() as uow:
            managers = {e.aad_object_id: e.display_name for e in await uow.roles.holders(Role.TEAM_MANAGER)}
            names = {e.aad_object_id: e.display_name for e in await uow.roles.entries()}
        if outcome.receiving_manager_id:
            targets = [outcome.receiving_manager_id]
        elif result.highlight_to_receiving_team:
            targets = sorted(managers)
            if not targets:
                log.warning(
                    "no team manager to highlight an urgent contact to", extra={"reference": reference}
                )
                await self._records.audit(
                    actor.aad_object_id, "contact.not_highlighted", reference, "reason=no_team_manager"
                )
                return
        else:
            return
        urgent = result.highlight_to_receiving_team
        until = result.challenge_until
        by = names.get(actor.aad_object_id) or actor.name or "the front door"
        team = outcome.receiving_team.strip() or "your team"
        window = (
            f" You may challenge the threshold until {until.astimezone(LONDON):%H:%M on %a %d %b}."
            if until
            else ""
        )
        if urgent:
            heading = (
                f"URGENT: {reference} has immediate risk and was accepted for a statutory assessment by "
                f"{team}, recorded by {by}. Please prioritise the child and family now.{window}"
            )
        else:
            heading = (
                f"{reference} was accepted for a statutory assessment by {team}, recorded by {by}.{window}"
            )
        for manager in targets:
            card = await self._personal.card_for(
                contact, manager, await self._personal.roles_of(manager), heading=heading
            )
            delivery = await self._notifier.send_card_to_person(manager, card)
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
        async with self._store.unit_of_work() as uow:
            channel = await channel_conversation(uow, ChannelPurpose.DECISIONS)
        if channel is None:
            return "none"
        card = await self._decisions.card_for(contact, None)
        posted = await self._notifier.send_card(
            channel.conversation_id,
            card,
            [Mentioned(manager, name)],
            f"urgent contact {contact.reference} accepted for assessment with immediate risk: "
            "please prioritise it.",
        )
        return "decisions_channel" if posted.ok else "none"

    async def _after_challenge(self, result: ChallengeRecorded, actor: Actor) -> None:
        """A challenge raised is told to whoever recorded the outcome; a result that produced a fresh
        outcome letter sends it to the person who recorded the result (unless they have it already)."""
        contact, reference = result.contact, result.contact.reference or ""
        if result.action is CaseworkAction.CHALLENGE_RAISED:
            recorded = current_outcome(contact)
            recorder = recorded.decided_by if recorded is not None else None
            if recorder is not None and recorder != actor.aad_object_id:
                chat = await self._notifier.personal_chat_of(recorder)
                if chat is not None:
                    await self._notifier.send_text(
                        chat,
                        f"The threshold decision on {reference} was challenged by the receiving team "
                        f"({actor.name or 'a team manager'}). Record the discussion and its result on the "
                        "decisions card.",
                    )
        if result.letter is not None and actor.scope is not Scope.PERSONAL:
            await self._decisions.send_letter(contact, actor.aad_object_id, actor.aad_object_id)

    # -- helpers ---------------------------------------------------------------------------------


def _done(step: WorkStep, result: Result) -> str:
    if isinstance(result, ParentLetterSent):
        if result.lapses_at is not None:
            return (
                "Recorded: the letter to the parents. They have until "
                f"{result.lapses_at.astimezone(LONDON):%H:%M on %a %d %b} to make contact; if they do not, "
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


def _outcome_done(result: OutcomeRecorded, done: str) -> str:
    if result.highlight_to_receiving_team:
        return done + " It is urgent: it is being highlighted to the receiving team manager now."
    return done
