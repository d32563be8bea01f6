"""The receiving team's disagreement with the threshold, from raising it to its resolution."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from frontdoor.acting import Rules, Who
from frontdoor.calendar import WorkingCalendar, require_aware
from frontdoor.casework.rules import audit_contact, audit_letter, invalid, with_letter
from frontdoor.casework.sign_off import deciders
from frontdoor.casework.values import CaseworkAction, ChallengeRecorded, ChallengeResult, ChallengeStatus
from frontdoor.clocks import due_at
from frontdoor.contact import Contact, ContactEvent, ContactState
from frontdoor.letters import DEFAULT_SERVICE_NAME
from frontdoor.lifecycle import Action
from frontdoor.outcomes import (
    Agency,
    DataValue,
    Outcome,
    OutcomeKind,
    RecordedOutcome,
    current_outcome,
    note,
    outcome_data,
    read_event_data,
)
from frontdoor.policy import Policy
from frontdoor.records import ClockKind
from frontdoor.roles import Permission, Role, may
from frontdoor.timefmt import format_time_on
from frontdoor.unit_of_work import UnitOfWork
from frontdoor.usecase import (
    AlreadyDecided,
    Refusal,
    RefusalReason,
    load_contact,
    not_permitted,
    save_or_race,
    wrong_state,
)


def _signed_off(contact: Contact) -> ContactEvent | None:
    return next((e for e in reversed(contact.events) if e.action == Action.SIGN_OFF.value), None)


def challenge_window(contact: Contact, calendar: WorkingCalendar, policy: Policy) -> datetime | None:
    """Until when the receiving team manager may challenge the contact's threshold decision: the end
    of the working day it was signed off to them on. None unless it is signed off as accepted."""
    recorded: RecordedOutcome | None = current_outcome(contact)
    signed = _signed_off(contact)
    if recorded is None or not recorded.outcome.accepted or signed is None:
        return None
    return due_at(ClockKind.CHALLENGE, signed.at, calendar, policy)


def challenge_status(contact: Contact) -> ChallengeStatus | None:
    """The latest challenge on ``contact``, or None if it was never challenged."""
    status: ChallengeStatus | None = None
    for event in contact.events:
        if event.action == CaseworkAction.CHALLENGE_RAISED.value:
            status = ChallengeStatus(event.actor_id, event.at, 0)
        elif status is None:
            continue
        elif event.action == CaseworkAction.CHALLENGE_DISCUSSED.value:
            status = replace(status, discussions=status.discussions + 1)
        elif event.action == CaseworkAction.CHALLENGE_ESCALATED.value:
            status = replace(status, escalated_by=event.actor_id, escalated_at=event.at)
        elif event.action == CaseworkAction.CHALLENGE_RESOLVED.value:
            result = read_event_data(event).get("result")
            if isinstance(result, str) and result in ChallengeResult.__members__.values():
                status = replace(status, result=ChallengeResult(result), resolved_by=event.actor_id)
    return status


def answerers(contact: Contact) -> frozenset[str]:
    """Who answers the receiving team's challenge: the consultant or team manager who decided (the
    deciders of the outcome, and whoever signed it off, who decided a recommendation)."""
    signed = _signed_off(contact)
    return deciders(contact) | ({signed.actor_id} if signed is not None else set())


def _may_answer(contact: Contact, actor_id: str, roles: frozenset[Role]) -> bool:
    deciding = may(roles, Permission.THRESHOLD_DECISION) or may(roles, Permission.DECIDE_REREFERRAL)
    return deciding and actor_id in answerers(contact)


def _own_challenge(contact: Contact) -> Refusal:
    return Refusal(
        RefusalReason.OWN_DECISION,
        f"You raised the challenge on {contact.reference}, so you cannot settle it: the decider answers, "
        "or a service manager if you do not agree. Nothing was changed.",
    )


async def raise_challenge(
    uow: UnitOfWork, contact_id: str, grounds: str, expected_version: int | None, *, who: Who, rules: Rules
) -> ChallengeRecorded | Refusal | AlreadyDecided:
    """The receiving team manager named on the outcome challenges the threshold, until the end of the
    working day the contact was signed off to them on.

    A challenge does not compete with the front door's own steps, so a card may send
    ``expected_version`` None; with a version, a stale card is answered with ``AlreadyDecided``.
    """
    require_aware(rules.now, "now")
    if not may(who.roles, Permission.CHALLENGE_THRESHOLD):
        return not_permitted((Role.TEAM_MANAGER,), "challenge a threshold decision")
    if not grounds.strip():
        return invalid("Grounds: say why the threshold decision is challenged")
    async with uow:
        loaded = await load_contact(uow, contact_id, who.actor_id, expected_version)
        if not isinstance(loaded, Contact):
            return loaded
        until = challenge_window(loaded, rules.calendar, rules.policy)
        recorded = current_outcome(loaded)
        if until is None or recorded is None:
            return wrong_state(loaded, "challenged (only a contact signed off as accepted can be)")
        if recorded.outcome.receiving_manager_id != who.actor_id:
            return Refusal(
                RefusalReason.NOT_YOURS,
                f"Only the receiving team manager named on {loaded.reference}'s outcome may challenge its "
                "threshold. Nothing was changed.",
            )
        if rules.now > until:
            return Refusal(
                RefusalReason.OUTSIDE_WINDOW,
                f"{loaded.reference} could be challenged until {format_time_on(until)}; "
                "that time has passed, so nothing was recorded.",
            )
        current = challenge_status(loaded)
        if current is not None:
            return invalid("this contact's threshold has already been challenged")
        return await _challenge_event(
            uow, loaded, who.actor_id, rules.now, CaseworkAction.CHALLENGE_RAISED, grounds, detail=""
        )


async def _challenge_event(
    uow: UnitOfWork,
    loaded: Contact,
    actor_id: str,
    now: datetime,
    action: CaseworkAction,
    text: str,
    detail: str,
    values: dict[str, DataValue] | None = None,
    service_name: str = DEFAULT_SERVICE_NAME,
    revised: Outcome | None = None,
) -> ChallengeRecorded | AlreadyDecided:
    """Record one step of a challenge (inside the caller's unit of work) and commit."""
    subject = loaded.reference or ""
    changed = note(loaded, actor_id, now, action, text, values)
    letter = None
    if revised is not None and changed.state is ContactState.CLOSED:
        changed, letter = with_letter(changed, revised, actor_id, now, service_name)
    saved = await save_or_race(uow, changed, loaded.version, actor_id)
    if isinstance(saved, AlreadyDecided):
        return saved
    await audit_contact(uow, now, actor_id, action.value, subject, detail)
    if revised is not None and saved.state is ContactState.CLOSED:
        await audit_letter(uow, now, actor_id, subject, letter)
    await uow.commit()
    status = challenge_status(saved)
    assert status is not None
    return ChallengeRecorded(saved, action, status, letter)


async def _open_challenge(
    uow: UnitOfWork, contact_id: str, actor_id: str, expected_version: int | None
) -> tuple[Contact, ChallengeStatus] | Refusal | AlreadyDecided:
    loaded = await load_contact(uow, contact_id, actor_id, expected_version)
    if not isinstance(loaded, Contact):
        return loaded
    status = challenge_status(loaded)
    if status is None or not status.open:
        return wrong_state(loaded, "given a challenge discussion or result (there is no open challenge)")
    return loaded, status


async def record_challenge_discussion(
    uow: UnitOfWork, contact_id: str, text: str, expected_version: int | None, *, who: Who, now: datetime
) -> ChallengeRecorded | Refusal | AlreadyDecided:
    """Record the discussion of an open challenge: by the challenger, the decider who answers, or
    (once it escalated) a service manager."""
    require_aware(now, "now")
    if not text.strip():
        return invalid("Discussion: say what was discussed")
    async with uow:
        found = await _open_challenge(uow, contact_id, who.actor_id, expected_version)
        if not isinstance(found, tuple):
            return found
        loaded, status = found
        settling = status.escalated and may(who.roles, Permission.SETTLE_ESCALATION)
        if not (who.actor_id == status.raised_by or _may_answer(loaded, who.actor_id, who.roles) or settling):
            return _not_party(loaded)
        result = await _challenge_event(
            uow, loaded, who.actor_id, now, CaseworkAction.CHALLENGE_DISCUSSED, text, detail=""
        )
    return result


def _not_party(contact: Contact) -> Refusal:
    return Refusal(
        RefusalReason.NOT_PERMITTED,
        f"Sorry, only the receiving team manager who challenged {contact.reference}, the consultant or team "
        "manager who decided it, or (once it escalated) a service manager can do that. Nothing was changed.",
    )


async def escalate_challenge(
    uow: UnitOfWork, contact_id: str, rationale: str, expected_version: int | None, *, who: Who, now: datetime
) -> ChallengeRecorded | Refusal | AlreadyDecided:
    """The decider and the receiving team manager do not agree: the challenge escalates to the
    service manager, who records the final decision. Either of them may say so."""
    require_aware(now, "now")
    if not rationale.strip():
        return invalid("Why it is not agreed: say where the disagreement lies")
    async with uow:
        found = await _open_challenge(uow, contact_id, who.actor_id, expected_version)
        if not isinstance(found, tuple):
            return found
        loaded, status = found
        if not (who.actor_id == status.raised_by or _may_answer(loaded, who.actor_id, who.roles)):
            return _not_party(loaded)
        if status.escalated:
            return invalid("this challenge has already gone to the service manager")
        result = await _challenge_event(
            uow,
            loaded,
            who.actor_id,
            now,
            CaseworkAction.CHALLENGE_ESCALATED,
            rationale,
            detail="to=service_manager",
        )
    return result


async def resolve_challenge(
    uow: UnitOfWork,
    contact_id: str,
    result: ChallengeResult,
    rationale: str,
    expected_version: int | None,
    *,
    who: Who,
    now: datetime,
    revised_outcome: OutcomeKind | None = None,
    agency: Agency | None = None,
    service_name: str = DEFAULT_SERVICE_NAME,
) -> ChallengeRecorded | Refusal | AlreadyDecided:
    """Record a challenge's result, agreed either way: by the consultant or team manager who decided,
    or, once it escalated, by a service manager (the final decision). The challenger never settles
    their own challenge. *Overturned* needs the revised outcome (anything but accepted), which
    becomes the contact's outcome, with ``rationale`` as its rationale."""
    require_aware(now, "now")
    if not rationale.strip():
        return invalid("Rationale: say why the challenge ended this way")
    revised: Outcome | None = None
    if result is ChallengeResult.OVERTURNED:
        if revised_outcome is None or revised_outcome is OutcomeKind.ACCEPTED:
            return invalid(
                "Revised outcome: an overturned threshold decision needs the outcome that replaces it"
            )
        revised = Outcome(revised_outcome, rationale, agency=agency)
        if problems := revised.problems():
            return invalid(*problems)
    elif revised_outcome is not None or agency is not None:
        return invalid("an upheld decision keeps its outcome: give no revised outcome")
    async with uow:
        found = await _open_challenge(uow, contact_id, who.actor_id, expected_version)
        if not isinstance(found, tuple):
            return found
        loaded, status = found
        if who.actor_id == status.raised_by:
            return _own_challenge(loaded)
        if status.escalated and not may(who.roles, Permission.SETTLE_ESCALATION):
            return not_permitted(
                (Role.SERVICE_MANAGER,), "record the final decision on an escalated challenge"
            )
        if not status.escalated and not _may_answer(loaded, who.actor_id, who.roles):
            return _not_party(loaded)
        values: dict[str, DataValue] = {"result": result.value}
        if revised is not None:
            values |= outcome_data(revised)
        detail = f"result={result.value}; final={'yes' if status.escalated else 'no'}"
        if revised is not None:
            detail += f"; {revised.audit_detail()}"
        recorded = await _challenge_event(
            uow,
            loaded,
            who.actor_id,
            now,
            CaseworkAction.CHALLENGE_RESOLVED,
            rationale,
            detail,
            values,
            service_name,
            revised,
        )
    return recorded
