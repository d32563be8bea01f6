"""Back to screening (SPEC §3): the quality-assurer refuses to sign an outcome off, or the allocated
social worker finds that a threshold decision by a consultant is needed after all.

"Every outcome is quality-assured and signed off by a consultant or team manager before the
contact closes": ``sign_off`` (``frontdoor.casework``) is the yes; ``refuse_sign_off`` is the no.
The consultant or team manager says why, and the contact goes back to ``awaiting_screening`` for
the decision to be made again, by any route. Route IV asks a social worker *whether* a threshold
decision is required; social workers do not make one (SPEC §1), so when the answer is yes the
worker uses ``return_for_screening`` and the contact goes back to the consultants' queue.

Both follow ``frontdoor.decisions``: roles from the directory, the card's version checked
(``AlreadyDecided`` when someone acted first or the card was sent twice), a reason required
(the event's rationale, never copied into the audit row), one commit, and a ``Refusal`` that
changes nothing. The earlier decision and outcome stay in the contact's history; the contact's
*current* outcome (``current_outcome``) is cleared because it went back to screening.

Clocks. Sending a contact back never buys time and never loses a child from view:

- the statutory completion clock already running (24 or 48 hours from received-at) keeps running,
  handed to the consultants on duty; when the contact is screened again, ``decide_screening``
  keeps that clock if the new route has the same timescale, or replaces it with the new route's,
  still counted from received-at;
- the fresh decision is timed by a new 1-working-day ``screening`` clock from now, and an urgent
  contact gets a new 2-hour ``cp_decision`` clock too (the decision about a child at immediate
  risk is a child-protection decision again);
- a returned allocation closes the worker's own clocks: the re-referral recommendation and the
  review after a lapsed parent letter as met (returning *is* the worker's answer), and a parent
  letter still waiting as cancelled. The worker is unassigned, so the contact stops counting
  against their caseload cap.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from frontdoor.acting import Rules, Who
from frontdoor.calendar import require_aware
from frontdoor.contact import Contact, ContactState
from frontdoor.lifecycle import Action, transition
from frontdoor.outcomes import Outcome, current_outcome
from frontdoor.records import ClockKind, Deadline, DeadlineState
from frontdoor.roles import Permission, Role, may
from frontdoor.unit_of_work import UnitOfWork
from frontdoor.usecase import (
    AlreadyDecided,
    Refusal,
    RefusalReason,
    audit_event,
    close_clocks,
    load_contact,
    not_permitted,
    open_deadlines,
    reassign_clocks,
    save_or_race,
    start_clock,
    wrong_state,
)

__all__ = ["SentBack", "refuse_sign_off", "return_for_screening"]

_DECIDERS = (Role.CONSULTANT, Role.TEAM_MANAGER)
_COMPLETION = (ClockKind.COMPLETION_24H, ClockKind.COMPLETION_48H)


@dataclass(frozen=True, slots=True)
class SentBack:
    """A contact sent back to ``awaiting_screening``, with who to tell."""

    contact: Contact
    #: ``Action.REFUSE_SIGN_OFF`` or ``Action.RETURN_FOR_SCREENING``
    action: Action
    by: str
    #: a refused sign-off: the outcome refused and who recorded it (to be told); else None
    refused_outcome: Outcome | None
    recorder_id: str | None
    #: a returned allocation: the social worker it was with; else None
    worker_id: str | None
    #: when the fresh screening decision is due
    screening_due: datetime
    #: the contact's open deadlines afterwards
    deadlines: tuple[Deadline, ...]


def _invalid(problem: str) -> Refusal:
    return Refusal(RefusalReason.INVALID, f"Please check: {problem}. Nothing was changed.")


async def _back_to_screening(uow: UnitOfWork, contact: Contact, actor_id: str, *, rules: Rules) -> Deadline:
    """The clocks of a contact just sent back to screening (see the module's docstring)."""
    subject = contact.reference or ""
    await reassign_clocks(uow, subject, _COMPLETION, None)
    held = {d.clock for d in await open_deadlines(uow, subject)}
    if contact.urgent and ClockKind.CP_DECISION not in held:
        await start_clock(uow, subject, ClockKind.CP_DECISION, rules.now, rules.calendar, rules.policy)
    # Nothing should still be timing a screening decision here; if something is, the new one replaces it.
    await close_clocks(uow, subject, [ClockKind.SCREENING], rules.now, DeadlineState.CANCELLED, by=actor_id)
    return await start_clock(uow, subject, ClockKind.SCREENING, rules.now, rules.calendar, rules.policy)


async def refuse_sign_off(
    uow: UnitOfWork, contact_id: str, expected_version: int, rationale: str, *, who: Who, rules: Rules
) -> SentBack | Refusal | AlreadyDecided:
    """The consultant or team manager quality-assuring an outcome does not sign it off: the contact
    goes back to ``awaiting_screening`` (``awaiting_signoff`` -> ``awaiting_screening``) with the
    reason, for the threshold decision to be made again. Anyone who may sign off may refuse, the
    outcome's own recorder included (who then decides again). The receiving team is never told: it
    hears of an accepted contact only when it is signed off."""
    require_aware(rules.now, "now")
    if not may(who.roles, Permission.SIGN_OFF):
        return not_permitted(_DECIDERS, "send an outcome back instead of signing it off")
    if not rationale.strip():
        return _invalid("Reason: say why the outcome is not signed off, so that it can be decided again")
    async with uow:
        loaded = await load_contact(uow, contact_id, who.actor_id, expected_version)
        if not isinstance(loaded, Contact):
            return loaded
        if loaded.state is not ContactState.AWAITING_SIGNOFF:
            return wrong_state(loaded, "sent back from sign-off")
        recorded = current_outcome(loaded)
        if recorded is None:
            return _invalid("no outcome is recorded on this contact to send back")
        subject = loaded.reference or ""
        moved = transition(
            loaded,
            ContactState.AWAITING_SCREENING,
            who.actor_id,
            rules.now,
            Action.REFUSE_SIGN_OFF,
            rationale,
        )
        moved = replace(moved, assignee_id=None)
        saved = await save_or_race(uow, moved, expected_version, who.actor_id)
        if isinstance(saved, AlreadyDecided):
            return saved
        screening = await _back_to_screening(uow, saved, who.actor_id, rules=rules)
        same = recorded.decided_by == who.actor_id
        detail = (
            f"{recorded.outcome.audit_detail()}; recorder={recorded.decided_by}; "
            f"refuser_is_decider={'yes' if same else 'no'}"
        )
        await uow.audit.append(
            audit_event(rules.now, who.actor_id, f"contact.{Action.REFUSE_SIGN_OFF.value}", subject, detail)
        )
        deadlines = await open_deadlines(uow, subject)
        await uow.commit()
    return SentBack(
        contact=saved,
        action=Action.REFUSE_SIGN_OFF,
        by=who.actor_id,
        refused_outcome=recorded.outcome,
        recorder_id=recorded.decided_by,
        worker_id=None,
        screening_due=screening.due_at,
        deadlines=deadlines,
    )


async def return_for_screening(
    uow: UnitOfWork, contact_id: str, expected_version: int, rationale: str, *, who: Who, rules: Rules
) -> SentBack | Refusal | AlreadyDecided:
    """The allocated social worker finds that a threshold decision by a consultant is needed: the
    contact goes back to the consultants' screening queue (``sw_assessment`` ->
    ``awaiting_screening``) with the reason, and leaves the worker's caseload."""
    require_aware(rules.now, "now")
    if not may(who.roles, Permission.WORK_ALLOCATED):
        return not_permitted((Role.SOCIAL_WORKER,), "return a contact for a threshold decision")
    if not rationale.strip():
        return _invalid("Reason: say why a threshold decision by a consultant is needed")
    async with uow:
        loaded = await load_contact(uow, contact_id, who.actor_id, expected_version)
        if not isinstance(loaded, Contact):
            return loaded
        if loaded.state is not ContactState.SW_ASSESSMENT:
            return wrong_state(loaded, "returned for a threshold decision")
        if loaded.assignee_id != who.actor_id:
            return Refusal(
                RefusalReason.NOT_YOURS,
                f"{loaded.reference} is allocated to someone else, so only they can return it for a "
                "threshold decision. Nothing was changed.",
            )
        subject = loaded.reference or ""
        moved = transition(
            loaded,
            ContactState.AWAITING_SCREENING,
            who.actor_id,
            rules.now,
            Action.RETURN_FOR_SCREENING,
            rationale,
        )
        moved = replace(moved, assignee_id=None)
        saved = await save_or_race(uow, moved, expected_version, who.actor_id)
        if isinstance(saved, AlreadyDecided):
            return saved
        # Returning is the worker's answer: it meets the re-referral recommendation clock and the
        # review after a lapsed letter; a letter still waiting for the parents has nothing to time.
        await close_clocks(
            uow,
            subject,
            [ClockKind.REREFERRAL_RECOMMENDATION, ClockKind.LETTER_REVIEW],
            rules.now,
            by=who.actor_id,
        )
        await close_clocks(
            uow, subject, [ClockKind.PARENT_LETTER], rules.now, DeadlineState.CANCELLED, by=who.actor_id
        )
        screening = await _back_to_screening(uow, saved, who.actor_id, rules=rules)
        await uow.audit.append(
            audit_event(
                rules.now,
                who.actor_id,
                f"contact.{Action.RETURN_FOR_SCREENING.value}",
                subject,
                f"worker={who.actor_id}",
            )
        )
        deadlines = await open_deadlines(uow, subject)
        await uow.commit()
    return SentBack(
        contact=saved,
        action=Action.RETURN_FOR_SCREENING,
        by=who.actor_id,
        refused_outcome=None,
        recorder_id=None,
        worker_id=who.actor_id,
        screening_due=screening.due_at,
        deadlines=deadlines,
    )
