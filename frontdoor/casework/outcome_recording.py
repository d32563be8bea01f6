"""Recording a contact's outcome: the child-protection decision (progress to referral), the outcome
itself, and a social worker's recommendation. The outcomes and their event data are in
``frontdoor.outcomes``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from frontdoor.acting import Rules, Who
from frontdoor.calendar import require_aware
from frontdoor.casework.rules import DECIDERS, WORKERS, assigned_work, audit_contact, invalid, may_decide_cp
from frontdoor.casework.values import CaseworkRecorded, OutcomeRecorded, Recommendation
from frontdoor.contact import Contact, ContactState
from frontdoor.lifecycle import Action, transition
from frontdoor.outcomes import DataValue, Outcome, add_event_data, outcome_data, without_consent_problem
from frontdoor.records import ClockKind, DeadlineState
from frontdoor.roles import Permission, Role, may
from frontdoor.unit_of_work import UnitOfWork
from frontdoor.usecase import (
    AlreadyDecided,
    Refusal,
    close_clocks,
    load_contact,
    not_permitted,
    open_deadlines,
    reassign_clocks,
    save_or_race,
    wrong_state,
)


async def accept_referral(
    uow: UnitOfWork, contact_id: str, rationale: str, expected_version: int, *, who: Who, now: datetime
) -> CaseworkRecorded | Refusal | AlreadyDecided:
    """The child-protection decision: progress to referral (``cp_decision`` -> ``referral_accepted``),
    closing the 2-hour clock as met. The outcome, with the receiving team, follows."""
    require_aware(now, "now")
    if not rationale.strip():
        return invalid("Rationale: the decision to progress to referral needs a rationale")
    async with uow:
        loaded = await load_contact(uow, contact_id, who.actor_id, expected_version)
        if not isinstance(loaded, Contact):
            return loaded
        if not may_decide_cp(loaded, who.roles):
            return not_permitted(DECIDERS, "make the child-protection decision")
        if loaded.state is not ContactState.CP_DECISION:
            return wrong_state(loaded, "progressed to referral")
        subject = loaded.reference or ""
        moved = transition(
            loaded, ContactState.REFERRAL_ACCEPTED, who.actor_id, now, Action.ACCEPT_REFERRAL, rationale
        )
        saved = await save_or_race(uow, moved, expected_version, who.actor_id)
        if isinstance(saved, AlreadyDecided):
            return saved
        await close_clocks(uow, subject, [ClockKind.CP_DECISION], now, by=who.actor_id)
        await audit_contact(uow, now, who.actor_id, Action.ACCEPT_REFERRAL.value, subject)
        deadlines = await open_deadlines(uow, subject)
        await uow.commit()
    return CaseworkRecorded(saved, Action.ACCEPT_REFERRAL.value, deadlines)


def _outcome_permission(
    contact: Contact, outcome: Outcome, actor_id: str, roles: frozenset[Role]
) -> Refusal | None:
    match contact.state:
        case ContactState.SW_ASSESSMENT:
            return assigned_work(contact, actor_id, roles, "given a recommendation")
        case ContactState.OFFICER_WORK:
            if may(roles, Permission.THRESHOLD_DECISION):
                return None
            if refused := assigned_work(contact, actor_id, roles, "given an outcome"):
                return refused
            if outcome.accepted:
                return not_permitted(DECIDERS, "accept a contact for assessment (a threshold decision)")
            return None
        case ContactState.CP_DECISION | ContactState.REFERRAL_ACCEPTED:
            if not may_decide_cp(contact, roles):
                return not_permitted(DECIDERS, "record this outcome")
            if contact.state is ContactState.REFERRAL_ACCEPTED and not outcome.accepted:
                return invalid("the referral was accepted: record it as accepted, with the receiving team")
            return None
        case _:
            return wrong_state(contact, "given an outcome")


async def record_outcome(
    uow: UnitOfWork,
    contact_id: str,
    outcome: Outcome,
    expected_version: int,
    *,
    who: Who,
    rules: Rules,
    only_from: ContactState | None = None,
) -> OutcomeRecorded | Refusal | AlreadyDecided:
    """Record the outcome of a route that ends, and send the contact for sign-off.

    From ``cp_decision`` an accepted outcome is the decision to progress to referral and the outcome
    at once (two events); any other outcome there is the child-protection decision that the
    threshold is not met after all. From ``sw_assessment`` it is the social worker's recommendation.
    ``only_from`` refuses any other state (a card made for one step).
    """
    require_aware(rules.now, "now")
    if not (
        may(who.roles, Permission.THRESHOLD_DECISION)
        or may(who.roles, Permission.DECIDE_REREFERRAL)
        or may(who.roles, Permission.WORK_ALLOCATED)
        or may(who.roles, Permission.OFFICER_WORK)
    ):
        return not_permitted((*DECIDERS, *WORKERS), "record an outcome")
    if problems := outcome.problems():
        return invalid(*problems)
    async with uow:
        loaded = await load_contact(uow, contact_id, who.actor_id, expected_version)
        if not isinstance(loaded, Contact):
            return loaded
        if only_from is not None and loaded.state is not only_from:
            return wrong_state(loaded, "given a recommendation")
        if refused := _outcome_permission(loaded, outcome, who.actor_id, who.roles):
            return refused
        # Accepting the contact proceeds with enquiries: without consent, whoever accepts it (or, on
        # a social worker's recommendation to progress to referral, recommends it) confirms that the
        # evidence suggests a risk of harm, with the same tick and sentence as routes I and IV.
        if outcome.accepted and (problem := without_consent_problem(loaded, outcome.risk_of_harm)):
            return invalid(problem)
        manager = outcome.receiving_manager_id.strip()
        if manager and manager not in {e.aad_object_id for e in await uow.roles.holders(Role.TEAM_MANAGER)}:
            return invalid("Receiving team manager: choose one of the team managers in the directory")
        subject = loaded.reference or ""
        from_state = loaded.state
        moved = loaded
        accepting = from_state is ContactState.CP_DECISION and outcome.accepted
        if accepting:
            moved = transition(
                moved,
                ContactState.REFERRAL_ACCEPTED,
                who.actor_id,
                rules.now,
                Action.ACCEPT_REFERRAL,
                outcome.rationale,
            )
        action = Action.RECOMMEND if from_state is ContactState.SW_ASSESSMENT else Action.RECORD_OUTCOME
        moved = transition(
            moved, ContactState.AWAITING_SIGNOFF, who.actor_id, rules.now, action, outcome.rationale
        )
        data: dict[str, DataValue] = outcome_data(outcome)
        recommendation = Recommendation.of(outcome) if action is Action.RECOMMEND else None
        if recommendation is not None:
            data["recommendation"] = recommendation.value
        moved = replace(add_event_data(moved, data), assignee_id=None)
        saved = await save_or_race(uow, moved, expected_version, who.actor_id)
        if isinstance(saved, AlreadyDecided):
            return saved

        if from_state is ContactState.CP_DECISION:
            await close_clocks(uow, subject, [ClockKind.CP_DECISION], rules.now, by=who.actor_id)
        if from_state is ContactState.SW_ASSESSMENT:
            # The recommendation is what the re-referral clock and a lapsed letter's review clock time.
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
        await reassign_clocks(uow, subject, [ClockKind.COMPLETION_24H, ClockKind.COMPLETION_48H], None)

        if accepting:
            await audit_contact(uow, rules.now, who.actor_id, Action.ACCEPT_REFERRAL.value, subject)
        detail = outcome.audit_detail()
        if recommendation is not None:
            detail += f"; recommendation={recommendation.value}"
        if saved.urgent:
            detail += "; urgent=yes"
        await audit_contact(uow, rules.now, who.actor_id, action.value, subject, detail)
        deadlines = await open_deadlines(uow, subject)
        await uow.commit()

    return OutcomeRecorded(
        contact=saved,
        outcome=outcome,
        decided_by=who.actor_id,
        recommendation=recommendation,
        deadlines=deadlines,
    )


async def recommend(
    uow: UnitOfWork, contact_id: str, outcome: Outcome, expected_version: int, *, who: Who, rules: Rules
) -> OutcomeRecorded | Refusal | AlreadyDecided:
    """The social worker's recommendation (``sw_assessment`` -> ``awaiting_signoff``): *progress
    to referral for single assessment* is an accepted outcome (with the receiving team), *no further
    involvement* any other outcome."""
    if not may(who.roles, Permission.WORK_ALLOCATED):
        return not_permitted((Role.SOCIAL_WORKER,), "make a recommendation")
    return await record_outcome(
        uow, contact_id, outcome, expected_version, only_from=ContactState.SW_ASSESSMENT, who=who, rules=rules
    )
