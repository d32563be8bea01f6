"""Sign-off and the outcome letter."""

from __future__ import annotations

from datetime import datetime

from frontdoor.acting import Who
from frontdoor.calendar import require_aware
from frontdoor.casework.rules import DECIDERS, audit_contact, audit_letter, invalid, with_letter
from frontdoor.casework.values import CaseworkAction, CaseworkRecorded, SignedOff
from frontdoor.contact import Contact, ContactEvent, ContactState
from frontdoor.letters import DEFAULT_SERVICE_NAME
from frontdoor.lifecycle import Action, transition
from frontdoor.outcomes import add_event_data, current_outcome, note
from frontdoor.roles import Permission, Role, may
from frontdoor.unit_of_work import UnitOfWork
from frontdoor.usecase import (
    AlreadyDecided,
    Refusal,
    RefusalReason,
    close_clocks,
    load_contact,
    not_permitted,
    open_deadlines,
    save_or_race,
    wrong_state,
)

#: The threshold decisions behind an accepted outcome: whoever made one of them since the contact
#: was last screened decided it, with whoever recorded the outcome (SPEC §3: nobody signs off their
#: own decision or recommendation).
_THRESHOLD_ACTIONS = frozenset(
    action.value for action in (Action.ROUTE_I, Action.CP_THRESHOLD_MET, Action.ACCEPT_REFERRAL)
)


def deciders(contact: Contact) -> frozenset[str]:
    """Who made the decision or recommendation now awaiting sign-off: who recorded the outcome (the
    consultant on route II, the social worker's recommendation, the officer on route III), and for an
    accepted outcome who decided the threshold was met on the way to it."""
    recorded = current_outcome(contact)
    if recorded is None:
        return frozenset()
    found = {recorded.decided_by}
    if recorded.outcome.accepted:
        for event in contact.events:
            if event.to_state is ContactState.AWAITING_SCREENING:
                found = {recorded.decided_by}
            if event.action in _THRESHOLD_ACTIONS:
                found.add(event.actor_id)
    return frozenset(found)


async def sign_off(
    uow: UnitOfWork,
    contact_id: str,
    expected_version: int,
    *,
    who: Who,
    now: datetime,
    highlight: bool = False,
    service_name: str = DEFAULT_SERVICE_NAME,
) -> SignedOff | Refusal | AlreadyDecided:
    """Quality-assure and sign off the outcome: the contact closes, its open deadlines close as
    met, and the outcome letter is produced (or "referrer not told" recorded). Nobody signs off a
    decision or recommendation of their own. An accepted outcome is only now told to the receiving
    team (by the caller), with the immediate-risk highlight when ``highlight`` is ticked; its
    receiving team manager may challenge it until the end of this working day (``challenge_window``)."""
    require_aware(now, "now")
    if not may(who.roles, Permission.SIGN_OFF):
        return not_permitted(DECIDERS, "sign off a contact")
    async with uow:
        loaded = await load_contact(uow, contact_id, who.actor_id, expected_version)
        if not isinstance(loaded, Contact):
            return loaded
        if loaded.state is not ContactState.AWAITING_SIGNOFF:
            return wrong_state(loaded, "signed off")
        recorded = current_outcome(loaded)
        if recorded is None:
            return invalid("no outcome is recorded on this contact to sign off")
        if who.actor_id in deciders(loaded):
            return Refusal(
                RefusalReason.OWN_DECISION,
                f"You made the decision or recommendation on {loaded.reference}, so another consultant or "
                "team manager must sign it off. Nothing was changed.",
            )
        subject = loaded.reference or ""
        accepted = recorded.outcome.accepted
        highlight = highlight and accepted
        moved = transition(loaded, ContactState.CLOSED, who.actor_id, now, Action.SIGN_OFF)
        if accepted:
            moved = add_event_data(moved, {"highlight": highlight})
        moved, letter = with_letter(moved, recorded.outcome, who.actor_id, now, service_name)
        saved = await save_or_race(uow, moved, expected_version, who.actor_id)
        if isinstance(saved, AlreadyDecided):
            return saved
        await close_clocks(
            uow, subject, [d.clock for d in await open_deadlines(uow, subject)], now, by=who.actor_id
        )
        detail = recorded.outcome.audit_detail()
        if accepted:
            detail += f"; highlight={'yes' if highlight else 'no'}"
        await audit_contact(uow, now, who.actor_id, Action.SIGN_OFF.value, subject, detail)
        await audit_letter(uow, now, who.actor_id, subject, letter)
        await uow.commit()
    return SignedOff(saved, recorded.outcome, recorded.decided_by, who.actor_id, letter, highlight=highlight)


def _last(contact: Contact, action: CaseworkAction) -> ContactEvent | None:
    return next((e for e in reversed(contact.events) if e.action == action.value), None)


async def record_outcome_letter_sent(
    uow: UnitOfWork, contact_id: str, expected_version: int, *, who: Who, now: datetime
) -> CaseworkRecorded | Refusal | AlreadyDecided:
    """Record that the latest outcome letter was sent to the referrer: by an officer (who sends
    letters), or by the person who recorded the outcome it reports, to whom the letter is shown to
    send (the consultant on route II, the social worker after a recommendation)."""
    require_aware(now, "now")
    sends_letters = may(who.roles, Permission.SEND_LETTERS)
    if not (sends_letters or may(who.roles, Permission.VIEW_CONTACTS)):
        return not_permitted((Role.OFFICER,), "record letters sent")
    async with uow:
        loaded = await load_contact(uow, contact_id, who.actor_id, expected_version)
        if not isinstance(loaded, Contact):
            return loaded
        recorded = current_outcome(loaded)
        if not sends_letters and (recorded is None or recorded.decided_by != who.actor_id):
            return Refusal(
                RefusalReason.NOT_PERMITTED,
                "Sorry, only First Contact officers or the person who recorded the outcome can record "
                "its letter as sent.",
            )
        produced = _last(loaded, CaseworkAction.OUTCOME_LETTER_PRODUCED)
        not_told = _last(loaded, CaseworkAction.REFERRER_NOT_TOLD)
        sent = _last(loaded, CaseworkAction.OUTCOME_LETTER_SENT)
        if produced is None or (not_told is not None and not_told.at > produced.at):
            return invalid("there is no outcome letter to send for this contact")
        if sent is not None and sent.at >= produced.at:
            return invalid("this outcome letter is already recorded as sent")
        subject = loaded.reference or ""
        saved = await save_or_race(
            uow,
            note(loaded, who.actor_id, now, CaseworkAction.OUTCOME_LETTER_SENT),
            expected_version,
            who.actor_id,
        )
        if isinstance(saved, AlreadyDecided):
            return saved
        await audit_contact(uow, now, who.actor_id, CaseworkAction.OUTCOME_LETTER_SENT.value, subject)
        deadlines = await open_deadlines(uow, subject)
        await uow.commit()
    return CaseworkRecorded(saved, CaseworkAction.OUTCOME_LETTER_SENT.value, deadlines)
