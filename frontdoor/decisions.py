"""Threshold decisions of SPEC §3: the consultant's screening routes I–IV, the duty manager's
re-referral decision and allocation to a social worker under the caseload cap. What every use case
shares (refusals, "someone else acted first", loading and saving, clocks) is ``frontdoor.usecase``;
outcomes and the event data codec are ``frontdoor.outcomes``; workers' loads and the checks on a
chosen worker are ``frontdoor.allocation``.

Each use case takes a fresh ``UnitOfWork`` and commits once: the contact's move, the deadlines it
starts or closes and its audit rows are saved together or not at all. The actor's roles are passed
in by the caller, who derives them from the role directory (never from card data); a chosen officer
or social worker is checked against the directory here. A card carries the contact's version:

- a request from a card whose version is no longer current (someone else acted first, or the same
  card was sent twice) returns ``AlreadyDecided`` naming who made the last change, from the
  contact's last ``ContactEvent``; the same happens when another decision lands between our read
  and our save (``StaleVersionError``);
- any other request that must not go ahead returns a ``Refusal``.

Neither changes anything. Infrastructure failures propagate; leaving the unit of work rolls back.

Clocks (SPEC §4), closed as *met* when the decision they time is made:

========================  =================================================================
route I                   child-protection decision, 2 hours from the decision (an urgent
                          contact keeps the one started at submission); completion 24 hours
                          from received-at
route II                  completion 24 hours from received-at; the outcome is recorded with
                          the decision, so the contact goes straight to sign-off
stays with early help     route II for a child open to early help (SPEC §3), its outcome a
                          referral to early help, the early help worker named (the procedure:
                          the consultant determines whether the child "remains appropriate to
                          send a referral to Early Help"); not for an urgent contact
route III                 completion 48 hours from received-at, assigned to the officer
route IV                  completion 48 hours from received-at, assigned to the social worker
re-referral, CP met       as route I (the seed procedure words it as route I)
re-referral, reassigned   re-referral recommendation, 48 hours from the reassignment, assigned
                          to the social worker
========================  =================================================================

Every decision closes the screening clock (the duty manager's decision is a re-referral's
screening decision); routes II–IV close an urgent contact's child-protection clock too, because
deciding that the child-protection threshold is not met *is* the child-protection decision.

Decision particulars (the outcome, the receiving team, the agency, the assignee) are kept in the
``data`` of the contact's events, as a JSON object (``event_data``/``read_event_data``), so the
contact's current outcome is read from its history (``current_outcome``) rather than held in a
column of its own. Audit rows carry references, person ids and closed-vocabulary values only: never
rationales, team names or anything else typed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType

from frontdoor.acting import Rules, Who
from frontdoor.allocation import check_holder, over_cap
from frontdoor.calendar import WorkingCalendar, require_aware
from frontdoor.contact import Contact, ContactState
from frontdoor.lifecycle import Action, transition
from frontdoor.outcomes import (
    Agency,
    DataValue,
    Outcome,
    OutcomeKind,
    ServiceConsent,
    add_event_data,
    outcome_data,
    without_consent_data,
    without_consent_problem,
)
from frontdoor.policy import Policy
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
from frontdoor.views import ChannelSummary, channel_summary

__all__ = [
    "PROCEEDING_ROUTES",
    "ROUTE_ACTIONS",
    "ROUTE_TITLES",
    "RereferralChoice",
    "RereferralDecided",
    "RereferralDecision",
    "ScreeningDecided",
    "ScreeningDecision",
    "ScreeningRoute",
    "decide_rereferral",
    "decide_screening",
    "may_stay_with_early_help",
]


def _summary(
    contact: Contact, deadlines: Sequence[Deadline], now: datetime, calendar: WorkingCalendar, policy: Policy
) -> ChannelSummary:
    return channel_summary(contact, deadlines, now, calendar, policy)


# -- screening ------------------------------------------------------------------------------------


class ScreeningRoute(StrEnum):
    """The consultant's routes of SPEC §3."""

    I = "i"  # noqa: E741 - the procedure's own numbering
    II = "ii"
    III = "iii"
    IV = "iv"


ROUTE_TITLES: Mapping[ScreeningRoute, str] = MappingProxyType(
    {
        ScreeningRoute.I: "I: child-protection threshold met",
        ScreeningRoute.II: "II: no further social care involvement",
        ScreeningRoute.III: "III: back to an officer for further work",
        ScreeningRoute.IV: "IV: allocate to a social worker",
    }
)

#: The routes that proceed with enquiries about the family: without consent, the decider confirms
#: that the evidence suggests a risk of harm.
PROCEEDING_ROUTES: frozenset[ScreeningRoute] = frozenset({ScreeningRoute.I, ScreeningRoute.IV})

_ROUTE_MOVES: Mapping[ScreeningRoute, tuple[ContactState, Action]] = MappingProxyType(
    {
        ScreeningRoute.I: (ContactState.CP_DECISION, Action.ROUTE_I),
        ScreeningRoute.II: (ContactState.AWAITING_SIGNOFF, Action.ROUTE_II),
        ScreeningRoute.III: (ContactState.OFFICER_WORK, Action.ROUTE_III),
        ScreeningRoute.IV: (ContactState.SW_ASSESSMENT, Action.ROUTE_IV),
    }
)
#: The lifecycle action each route records: the contact's history reads a route back through it.
ROUTE_ACTIONS: Mapping[ScreeningRoute, Action] = MappingProxyType(
    {route: action for route, (_, action) in _ROUTE_MOVES.items()}
)


@dataclass(frozen=True, slots=True)
class ScreeningDecision:
    """What the consultant chose on the decision card."""

    route: ScreeningRoute
    rationale: str
    #: route III: the officer; route IV: the social worker
    assignee_id: str | None = None
    #: route II: the outcome recorded with the decision (any but "accepted")
    outcome: OutcomeKind = OutcomeKind.NO_FURTHER_ACTION
    agency: Agency | None = None
    #: route II: whether there is consent for a service
    service_consent: ServiceConsent | None = None
    #: routes I and IV on a contact without consent: the sentence confirming the evidence suggests a
    #: risk of harm (given only with the tick)
    risk_of_harm: str = ""
    #: "stays with early help": route II, a referral to early help, for a child open to it
    stays_with_early_help: bool = False

    def route_ii_outcome(self) -> Outcome:
        if self.stays_with_early_help:
            return Outcome(
                OutcomeKind.OTHER_AGENCY,
                self.rationale,
                agency=Agency.EARLY_HELP,
                service_consent=self.service_consent,
            )
        return Outcome(self.outcome, self.rationale, agency=self.agency, service_consent=self.service_consent)

    def problems(self) -> tuple[str, ...]:
        found: list[str] = []
        if self.stays_with_early_help and self.route is not ScreeningRoute.II:
            found.append("Stays with early help: that is a route II decision")
        if not self.rationale.strip():
            found.append("Rationale: every screening decision needs a rationale")
        if self.route in (ScreeningRoute.III, ScreeningRoute.IV) and not (self.assignee_id or "").strip():
            who = "officer" if self.route is ScreeningRoute.III else "social worker"
            found.append(f"Route {self.route.value.upper()}: choose the {who}")
        if self.route is ScreeningRoute.II:
            if self.service_consent is None:
                found.append("Route II: record whether there is consent for a service")
            if self.outcome is OutcomeKind.ACCEPTED:
                found.append("Route II: a contact accepted for assessment is route I, not route II")
            else:
                found.extend(p for p in self.route_ii_outcome().problems() if not p.startswith("Rationale"))
        return tuple(found)


@dataclass(frozen=True, slots=True)
class ScreeningDecided:
    """A screening decision as saved, with what the decision card shows next."""

    contact: Contact
    route: ScreeningRoute
    decided_by: str
    decided_at: datetime
    #: the officer (III) or social worker (IV) to send a personal card to
    assignee_id: str | None
    #: route II's outcome
    outcome: Outcome | None
    #: the contact's open deadlines after the decision
    deadlines: tuple[Deadline, ...]
    summary: ChannelSummary
    #: "stays with early help": the early help worker to tell (None: not that decision)
    early_help_worker: str | None = None

    @property
    def next_due(self) -> datetime | None:
        return self.summary.due_at


async def decide_screening(
    uow: UnitOfWork,
    contact_id: str,
    decision: ScreeningDecision,
    expected_version: int,
    *,
    who: Who,
    rules: Rules,
) -> ScreeningDecided | Refusal | AlreadyDecided:
    """Route a contact awaiting screening (consultants and team managers; route IV also needs the
    allocate permission, which both hold)."""
    require_aware(rules.now, "now")
    if (refused := _screening_refusal(decision, who)) is not None:
        return refused
    # Only routes III and IV assign anyone; an assignee sent with another route is ignored.
    assigning = decision.route in (ScreeningRoute.III, ScreeningRoute.IV)
    assignee = ((decision.assignee_id or "").strip() or None) if assigning else None

    async with uow:
        loaded = await load_contact(uow, contact_id, who.actor_id, expected_version)
        if not isinstance(loaded, Contact):
            return loaded
        if (refused := _contact_refusal(loaded, decision)) is not None:
            return refused
        name = ""
        if assignee is not None:
            role = Role.OFFICER if decision.route is ScreeningRoute.III else Role.SOCIAL_WORKER
            checked = await check_holder(uow, assignee, role)
            if isinstance(checked, Refusal):
                return checked
            name = checked
        screened = _screened(loaded, decision, assignee, who, rules)
        saved = await save_or_race(uow, screened.contact, expected_version, who.actor_id)
        if isinstance(saved, AlreadyDecided):
            return saved
        if decision.route is ScreeningRoute.IV and assignee is not None:
            over = await over_cap(uow, assignee, name, rules.policy)
            if over is not None:
                return over
        subject = loaded.reference or ""
        await _move_screening_clocks(uow, saved, decision.route, assignee, who.actor_id, rules)
        await uow.audit.append(
            audit_event(rules.now, who.actor_id, screened.audit_action, subject, screened.audit_detail)
        )
        deadlines = await open_deadlines(uow, subject)
        await uow.commit()

    return ScreeningDecided(
        contact=saved,
        route=decision.route,
        decided_by=who.actor_id,
        decided_at=rules.now.astimezone(UTC),
        assignee_id=assignee,
        outcome=screened.outcome,
        deadlines=deadlines,
        summary=_summary(saved, deadlines, rules.now, rules.calendar, rules.policy),
        early_help_worker=screened.early_help_worker,
    )


def _screening_refusal(decision: ScreeningDecision, who: Who) -> Refusal | None:
    """Whether ``who`` may make ``decision`` at all, and whether the form is complete."""
    deciders = (Role.CONSULTANT, Role.TEAM_MANAGER)
    if not may(who.roles, Permission.THRESHOLD_DECISION):
        return not_permitted(deciders, "make a screening decision")
    if decision.route is ScreeningRoute.IV and not may(who.roles, Permission.ALLOCATE):
        return not_permitted(deciders, "allocate to a social worker")
    if problems := decision.problems():
        return Refusal(RefusalReason.INVALID, "Please check: " + "; ".join(problems))
    return None


def _contact_refusal(loaded: Contact, decision: ScreeningDecision) -> Refusal | None:
    """Whether ``decision`` fits the contact as it is: awaiting screening, a reason to proceed
    without consent, and early help only for a child open to it and not urgent."""
    if loaded.state is not ContactState.AWAITING_SCREENING:
        return wrong_state(loaded, "screened")
    if decision.route in PROCEEDING_ROUTES and (
        problem := without_consent_problem(
            loaded, decision.risk_of_harm, cp_decision=decision.route is ScreeningRoute.I
        )
    ):
        return Refusal(RefusalReason.INVALID, f"Please check: {problem}. Nothing was changed.")
    if decision.stays_with_early_help and (loaded.urgent or not loaded.history.open_to_early_help):
        why = (
            "it is urgent: an immediate safeguarding incident is dealt with by the front door"
            if loaded.urgent
            else "the history checks do not say the child is open to early help"
        )
        return Refusal(
            RefusalReason.INVALID,
            f"{loaded.reference} cannot stay with early help: {why}. Nothing was changed.",
        )
    return None


@dataclass(frozen=True, slots=True)
class _Screened:
    """The contact moved by a screening decision (not saved yet), and what its audit row says."""

    contact: Contact
    outcome: Outcome | None
    early_help_worker: str | None
    audit_action: str
    audit_detail: str


def _screened(
    loaded: Contact, decision: ScreeningDecision, assignee: str | None, who: Who, rules: Rules
) -> _Screened:
    """Move ``loaded`` along the decision's route, with the event data and audit row it needs."""
    to_state, action = _ROUTE_MOVES[decision.route]
    moved = transition(loaded, to_state, who.actor_id, rules.now, action, decision.rationale)
    outcome = decision.route_ii_outcome() if decision.route is ScreeningRoute.II else None
    data: dict[str, DataValue] = {"route": decision.route.value}
    detail = f"route={decision.route.value}"
    if assignee is not None:
        data["assignee"] = assignee
        detail += f"; assignee={assignee}"
    if decision.route in PROCEEDING_ROUTES and (
        confirmed := without_consent_data(
            loaded, decision.risk_of_harm, cp_decision=decision.route is ScreeningRoute.I
        )
    ):
        data |= confirmed
        detail += "; without_consent=yes"
    if outcome is not None:
        data |= outcome_data(outcome)
        detail += f"; {outcome.audit_detail()}"
    audited = f"contact.{action.value}"
    early_help_worker = None
    if decision.stays_with_early_help:
        early_help_worker = loaded.history.early_help_worker_id
        data |= {"early_help": "stays", "early_help_worker": early_help_worker or ""}
        audited = "contact.stays_with_early_help"
        detail += f"; early_help_worker={early_help_worker or ''}"
    return _Screened(
        contact=replace(add_event_data(moved, data), assignee_id=assignee),
        outcome=outcome,
        early_help_worker=early_help_worker,
        audit_action=audited,
        audit_detail=detail,
    )


async def _move_screening_clocks(
    uow: UnitOfWork, saved: Contact, route: ScreeningRoute, assignee: str | None, actor_id: str, rules: Rules
) -> None:
    """Close the screening clock, start (or keep) the route's completion clock from received-at
    and, for route I, the child-protection decision clock."""
    subject = saved.reference or ""
    received = saved.received_at or rules.now
    held = {d.clock for d in await open_deadlines(uow, subject)}
    closing = [ClockKind.SCREENING]
    if route is ScreeningRoute.I:
        if ClockKind.CP_DECISION not in held:
            await start_clock(uow, subject, ClockKind.CP_DECISION, rules.now, rules.calendar, rules.policy)
        completion = ClockKind.COMPLETION_24H
    else:
        closing.append(ClockKind.CP_DECISION)
        completion = ClockKind.COMPLETION_24H if route is ScreeningRoute.II else ClockKind.COMPLETION_48H
    # A contact screened again (sent back from sign-off, or returned by its social worker) still
    # has the completion clock from received-at: it keeps it if the route's timescale is the
    # same, else the new route's replaces it, also from received-at. Sending back buys no time.
    others = [c for c in (ClockKind.COMPLETION_24H, ClockKind.COMPLETION_48H) if c is not completion]
    await close_clocks(
        uow, subject, [c for c in others if c in held], rules.now, DeadlineState.CANCELLED, by=actor_id
    )
    if completion in held:
        await reassign_clocks(uow, subject, [completion], assignee)
    else:
        await start_clock(uow, subject, completion, received, rules.calendar, rules.policy, assignee)
    await close_clocks(uow, subject, closing, rules.now, by=actor_id)


def may_stay_with_early_help(contact: Contact) -> bool:
    """Whether the decision card offers "stays with early help" (SPEC §3): the history checks say
    the child is open to early help, and there is no immediate safeguarding incident."""
    return (
        contact.state is ContactState.AWAITING_SCREENING
        and contact.history.open_to_early_help
        and not contact.urgent
    )


# -- re-referrals ---------------------------------------------------------------------------------


class RereferralChoice(StrEnum):
    """The duty manager's decision on a re-referral (SPEC §3)."""

    CP_THRESHOLD_MET = "cp_threshold_met"
    REASSIGN = "reassign"


@dataclass(frozen=True, slots=True)
class RereferralDecision:
    choice: RereferralChoice
    rationale: str
    #: for a reassignment; None means the last allocated worker from the history checks
    worker_id: str | None = None
    #: on a contact without consent: the sentence confirming the evidence suggests a risk of harm
    #: (given only with the tick); both choices proceed with enquiries
    risk_of_harm: str = ""


@dataclass(frozen=True, slots=True)
class RereferralDecided:
    contact: Contact
    choice: RereferralChoice
    decided_by: str
    decided_at: datetime
    #: the social worker to send a personal card to (reassignment only)
    worker_id: str | None
    deadlines: tuple[Deadline, ...]
    summary: ChannelSummary

    @property
    def next_due(self) -> datetime | None:
        return self.summary.due_at


async def decide_rereferral(
    uow: UnitOfWork,
    contact_id: str,
    decision: RereferralDecision,
    expected_version: int,
    *,
    who: Who,
    rules: Rules,
) -> RereferralDecided | Refusal | AlreadyDecided:
    """The duty manager's decision on a contact in ``duty_manager_review``: the child-protection
    threshold is met (2-hour clock, and 24-hour completion as route I), or reassignment to a social
    worker, by default the last allocated one, under the caseload cap, who must recommend within
    48 hours. Either proceeds with enquiries: without consent, the duty manager confirms that the
    evidence suggests a risk of harm (``RereferralDecision.risk_of_harm``), as routes I and IV do."""
    require_aware(rules.now, "now")
    if not may(who.roles, Permission.DECIDE_REREFERRAL):
        return not_permitted((Role.DUTY_MANAGER,), "decide a re-referral")
    if not decision.rationale.strip():
        return Refusal(
            RefusalReason.INVALID, "Please check: Rationale: a re-referral decision needs a rationale"
        )

    async with uow:
        loaded = await load_contact(uow, contact_id, who.actor_id, expected_version)
        if not isinstance(loaded, Contact):
            return loaded
        if loaded.state is not ContactState.DUTY_MANAGER_REVIEW:
            return wrong_state(loaded, "decided as a re-referral")
        if problem := without_consent_problem(loaded, decision.risk_of_harm):
            return Refusal(RefusalReason.INVALID, f"Please check: {problem}. Nothing was changed.")
        subject = loaded.reference or ""
        chosen = await _rereferral_worker(uow, loaded, decision)
        if isinstance(chosen, Refusal):
            return chosen
        worker, name = chosen
        saved = await save_or_race(
            uow, _rereferred(loaded, decision, worker, who, rules), expected_version, who.actor_id
        )
        if isinstance(saved, AlreadyDecided):
            return saved
        if worker is not None:
            over = await over_cap(uow, worker, name, rules.policy)
            if over is not None:
                return over
        await _start_rereferral_clocks(uow, saved, worker, who.actor_id, rules)
        detail = f"decision={decision.choice.value}" + (f"; assignee={worker}" if worker is not None else "")
        if without_consent_data(loaded, decision.risk_of_harm):
            detail += "; without_consent=yes"
        action = Action.CP_THRESHOLD_MET if worker is None else Action.REASSIGN
        await uow.audit.append(
            audit_event(rules.now, who.actor_id, f"contact.{action.value}", subject, detail)
        )
        deadlines = await open_deadlines(uow, subject)
        await uow.commit()

    return RereferralDecided(
        contact=saved,
        choice=decision.choice,
        decided_by=who.actor_id,
        decided_at=rules.now.astimezone(UTC),
        worker_id=worker,
        deadlines=deadlines,
        summary=_summary(saved, deadlines, rules.now, rules.calendar, rules.policy),
    )


async def _rereferral_worker(
    uow: UnitOfWork, loaded: Contact, decision: RereferralDecision
) -> tuple[str | None, str] | Refusal:
    """The social worker a reassignment goes to (the chosen one, else the last allocated) and their
    name; ``(None, "")`` when the threshold is met instead."""
    if decision.choice is not RereferralChoice.REASSIGN:
        return None, ""
    worker = (decision.worker_id or loaded.history.last_worker_id or "").strip() or None
    if worker is None:
        return Refusal(
            RefusalReason.INVALID,
            "Please choose a social worker: no last allocated worker is recorded for this contact.",
        )
    checked = await check_holder(uow, worker, Role.SOCIAL_WORKER)
    if isinstance(checked, Refusal):
        return checked
    return worker, checked


def _rereferred(
    loaded: Contact, decision: RereferralDecision, worker: str | None, who: Who, rules: Rules
) -> Contact:
    """``loaded`` moved by the re-referral decision (not saved yet)."""
    confirmed = without_consent_data(loaded, decision.risk_of_harm)
    if decision.choice is RereferralChoice.CP_THRESHOLD_MET:
        moved = transition(
            loaded,
            ContactState.CP_DECISION,
            who.actor_id,
            rules.now,
            Action.CP_THRESHOLD_MET,
            decision.rationale,
        )
        if confirmed:
            moved = add_event_data(moved, confirmed)
    else:
        moved = transition(
            loaded, ContactState.SW_ASSESSMENT, who.actor_id, rules.now, Action.REASSIGN, decision.rationale
        )
        moved = add_event_data(moved, {"assignee": worker or "", **confirmed})
    return replace(moved, assignee_id=worker)


async def _start_rereferral_clocks(
    uow: UnitOfWork, saved: Contact, worker: str | None, actor_id: str, rules: Rules
) -> None:
    """Threshold met (no worker): the 2-hour child-protection clock and the 24-hour completion clock
    from received-at. Reassigned: the worker's 48-hour recommendation clock and, as for route IV
    (the procedure's "as per 3.4"), the 48-hour completion clock from received-at, which goes to
    the consultants with the recommendation to time its sign-off. Either way the screening clock
    closes."""
    subject = saved.reference or ""
    received = saved.received_at or rules.now
    if worker is None:
        held = {d.clock for d in await open_deadlines(uow, subject)}
        if ClockKind.CP_DECISION not in held:
            await start_clock(uow, subject, ClockKind.CP_DECISION, rules.now, rules.calendar, rules.policy)
        await start_clock(uow, subject, ClockKind.COMPLETION_24H, received, rules.calendar, rules.policy)
    else:
        await start_clock(
            uow, subject, ClockKind.REREFERRAL_RECOMMENDATION, rules.now, rules.calendar, rules.policy, worker
        )
        await start_clock(
            uow, subject, ClockKind.COMPLETION_48H, received, rules.calendar, rules.policy, worker
        )
    await close_clocks(uow, subject, [ClockKind.SCREENING], rules.now, by=actor_id)
