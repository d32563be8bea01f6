"""Threshold decisions of SPEC §3: the consultant's screening routes I–IV, the duty manager's
re-referral decision, allocation to a social worker under the caseload cap, and what every
decision use case shares (outcomes, refusals, "someone else acted first", the event data codec).

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

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType

from frontdoor.calendar import LONDON, WorkingCalendar, require_aware
from frontdoor.clocks import due_at
from frontdoor.contact import Consent, Contact, ContactEvent, ContactState
from frontdoor.handover import OPEN_STATES, WorkerLoad
from frontdoor.lifecycle import Action, transition
from frontdoor.policy import Policy
from frontdoor.ports import StaleVersionError
from frontdoor.records import AuditEvent, ClockKind, Deadline, DeadlineState
from frontdoor.roles import ROLE_TITLES, Permission, Role, may
from frontdoor.unit_of_work import UnitOfWork
from frontdoor.views import ChannelSummary, channel_summary

__all__ = [
    "AGENCY_TITLES",
    "OUTCOME_TITLES",
    "PROCEEDING_ROUTES",
    "ROUTE_ACTIONS",
    "ROUTE_TITLES",
    "SERVICE_CONSENT_TITLES",
    "WITHOUT_CONSENT",
    "Agency",
    "AlreadyDecided",
    "DataValue",
    "Outcome",
    "OutcomeKind",
    "RecordedOutcome",
    "Refusal",
    "RefusalReason",
    "RereferralChoice",
    "RereferralDecided",
    "RereferralDecision",
    "ScreeningDecided",
    "ScreeningDecision",
    "ScreeningRoute",
    "ServiceConsent",
    "WorkerChoice",
    "add_event_data",
    "already_decided",
    "audit_event",
    "close_clocks",
    "current_outcome",
    "decide_rereferral",
    "decide_screening",
    "event_data",
    "load_contact",
    "may_stay_with_early_help",
    "not_permitted",
    "note",
    "open_deadlines",
    "outcome_data",
    "read_event_data",
    "reassign_clocks",
    "save_or_race",
    "start_clock",
    "state_title",
    "without_consent_problem",
    "worker_loads",
    "wrong_state",
]


# -- results shared by every decision use case ----------------------------------------------------


class RefusalReason(StrEnum):
    NOT_PERMITTED = "not_permitted"
    NOT_FOUND = "not_found"
    #: the contact is not in a state where this can be done (and the card was not simply stale)
    WRONG_STATE = "wrong_state"
    #: the work belongs to someone else (another worker's allocation)
    NOT_YOURS = "not_yours"
    INVALID = "invalid"
    #: the chosen social worker is at the caseload cap
    OVER_CAP = "over_cap"
    #: outside the time this may be done in (the challenge window)
    OUTSIDE_WINDOW = "outside_window"
    #: a scheduled step whose time has not come (a parent letter that has not lapsed yet)
    NOT_DUE = "not_due"
    #: nobody signs off, or settles, their own decision or challenge
    OWN_DECISION = "own_decision"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request was not carried out; nothing was changed. ``message`` is safe to show and to
    log: it names staff and references, never a child, a family or a referrer."""

    reason: RefusalReason
    message: str
    #: for ``OVER_CAP``: the worker's load that stopped the allocation
    load: WorkerLoad | None = None


@dataclass(frozen=True, slots=True)
class AlreadyDecided:
    """The card was out of date: someone acted on the contact first (or this card was sent
    already). Nothing was changed; ``contact`` is the contact as it is now, to redraw the card."""

    contact: Contact
    #: the person who made the last change, from the contact's last event
    by: str
    #: their display name from the role directory, when known
    by_name: str
    #: the last event's action (a ``lifecycle.Action`` or ``casework.CaseworkAction`` value)
    action: str
    at: datetime | None
    #: the last change was this actor's own: a replayed or double-clicked card
    replay: bool

    @property
    def message(self) -> str:
        reference = self.contact.reference or "This contact"
        what = self.action.replace("_", " ")
        when = f" at {self.at.astimezone(LONDON):%H:%M on %d %b}" if self.at is not None else ""
        if self.replay:
            return f"You have already done this: {reference} ({what}{when}). Nothing more was changed."
        if self.contact.completing and self.contact.state is ContactState.AWAITING_SCREENING:
            # An urgent contact's officer saved another card while this one was open.
            return (
                f"{reference} was updated by the officer completing it, so nothing was changed: decide again."
            )
        who = self.by_name or self.by
        return f"{reference} was already decided by {who} ({what}{when}), so nothing was changed."


_STATE_TITLES: Mapping[ContactState, str] = MappingProxyType(
    {
        ContactState.DRAFT: "a draft",
        ContactState.AWAITING_SCREENING: "awaiting screening",
        ContactState.CP_DECISION: "awaiting the child-protection decision",
        ContactState.REFERRAL_ACCEPTED: "accepted for referral, awaiting its outcome",
        ContactState.OFFICER_WORK: "with an officer for further work",
        ContactState.SW_ASSESSMENT: "with a social worker",
        ContactState.DUTY_MANAGER_REVIEW: "with the duty manager (re-referral)",
        ContactState.AWAITING_SIGNOFF: "awaiting sign-off",
        ContactState.PASSED_ON: "passed to the allocated worker",
        ContactState.CLOSED: "closed",
        ContactState.CANCELLED: "cancelled",
    }
)


def state_title(state: ContactState) -> str:
    """Where a contact is, in words that follow "CT-26-000001 is …" and "Contact …"."""
    return _STATE_TITLES[state]


# -- outcomes -------------------------------------------------------------------------------------


class OutcomeKind(StrEnum):
    """The outcomes of SPEC §3, recorded on every route that ends."""

    ACCEPTED = "accepted_for_assessment"
    ADVICE = "advice_and_guidance"
    OTHER_AGENCY = "referral_to_other_agency"
    NO_FURTHER_ACTION = "no_further_action"


OUTCOME_TITLES: Mapping[OutcomeKind, str] = MappingProxyType(
    {
        OutcomeKind.ACCEPTED: "Accepted for a statutory assessment",
        OutcomeKind.ADVICE: "Advice and guidance / signposting",
        OutcomeKind.OTHER_AGENCY: "Referral to another agency",
        OutcomeKind.NO_FURTHER_ACTION: "No further action",
    }
)


class Agency(StrEnum):
    """Where a contact may be referred on (SPEC §3)."""

    EARLY_HELP = "early_help"
    DOMESTIC_ABUSE = "domestic_abuse_service"
    DRUG_AND_ALCOHOL = "drug_and_alcohol_service"
    VOLUNTARY_SECTOR = "voluntary_sector"
    PARENTING_SUPPORT = "parenting_support"
    PROBATION = "probation"
    HEALTH = "health"


AGENCY_TITLES: Mapping[Agency, str] = MappingProxyType(
    {
        Agency.EARLY_HELP: "Early help",
        Agency.DOMESTIC_ABUSE: "Domestic abuse service",
        Agency.DRUG_AND_ALCOHOL: "Drug and alcohol service",
        Agency.VOLUNTARY_SECTOR: "Voluntary sector",
        Agency.PARENTING_SUPPORT: "Parenting support",
        Agency.PROBATION: "Probation",
        Agency.HEALTH: "Health",
    }
)


class ServiceConsent(StrEnum):
    """Whether there is consent for a service, recorded with every outcome (SPEC §3)."""

    GIVEN = "given"
    NOT_GIVEN = "not_given"


SERVICE_CONSENT_TITLES: Mapping[ServiceConsent, str] = MappingProxyType(
    {
        ServiceConsent.GIVEN: "Consent for a service: given",
        ServiceConsent.NOT_GIVEN: "Consent for a service: not given",
    }
)

#: The consents on a contact that mean a decider proceeding with enquiries does so without consent.
WITHOUT_CONSENT: frozenset[Consent] = frozenset({Consent.REFUSED, Consent.NOT_SOUGHT})


def without_consent_problem(contact: Contact, risk_of_harm: str) -> str | None:
    """What to fix when a decider proceeds on ``contact`` without consent and has not confirmed, with
    a sentence, that the evidence suggests a risk of harm (SPEC §3); None when nothing is missing."""
    if contact.consent not in WITHOUT_CONSENT or risk_of_harm.strip():
        return None
    return (
        "Without consent: consent was refused or not sought, so tick that the evidence suggests a risk of "
        "harm and say why in a sentence"
    )


#: Longest receiving-team name accepted: a team name, not a note.
TEAM_NAME_MAX_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Outcome:
    """An outcome with its rationale. ``receiving_team`` and ``strategy_discussion`` belong to an
    accepted contact only, ``agency`` to a referral to another agency only (see ``problems``)."""

    kind: OutcomeKind
    rationale: str
    receiving_team: str = ""
    strategy_discussion: bool = False
    agency: Agency | None = None
    #: an accepted contact: the receiving team's manager (a team manager's directory id) to highlight
    #: it to and who may challenge it; "" when none was named
    receiving_manager_id: str = ""
    #: whether there is consent for a service (None: not recorded, as on outcomes from before it was asked)
    service_consent: ServiceConsent | None = None
    #: a decider accepting without the parents' consent: the sentence confirming the evidence
    #: suggests a risk of harm (given only with the tick); "" otherwise
    risk_of_harm: str = ""

    @property
    def accepted(self) -> bool:
        return self.kind is OutcomeKind.ACCEPTED

    @property
    def title(self) -> str:
        if self.kind is OutcomeKind.OTHER_AGENCY and self.agency is not None:
            return f"{OUTCOME_TITLES[self.kind]}: {AGENCY_TITLES[self.agency]}"
        return OUTCOME_TITLES[self.kind]

    def problems(self) -> tuple[str, ...]:
        """What is wrong with this outcome, as messages fit to show; empty when it may be recorded."""
        found: list[str] = []
        if not self.rationale.strip():
            found.append("Rationale: every outcome needs a rationale")
        team = self.receiving_team.strip()
        if self.accepted:
            if not team:
                found.append("Receiving team: name the team the contact is accepted by")
            elif len(team) > TEAM_NAME_MAX_LENGTH or "\n" in team:
                found.append(f"Receiving team: a team name of at most {TEAM_NAME_MAX_LENGTH} characters")
        elif team or self.strategy_discussion or self.receiving_manager_id.strip():
            found.append(
                "Receiving team, its manager and strategy discussion belong to an accepted contact only"
            )
        if self.kind is OutcomeKind.OTHER_AGENCY and self.agency is None:
            found.append("Agency: choose the agency the contact is referred to")
        if self.kind is not OutcomeKind.OTHER_AGENCY and self.agency is not None:
            found.append("Agency: only a referral to another agency names an agency")
        return tuple(found)

    def audit_detail(self) -> str:
        """The outcome as an audit detail: closed vocabulary only (no team name, no rationale)."""
        parts = [f"outcome={self.kind.value}"]
        if self.accepted:
            parts.append(f"strategy_discussion={'yes' if self.strategy_discussion else 'no'}")
            if self.receiving_manager_id.strip():
                parts.append(f"receiving_manager={self.receiving_manager_id.strip()}")
        if self.agency is not None:
            parts.append(f"agency={self.agency.value}")
        if self.service_consent is not None:
            parts.append(f"service_consent={self.service_consent.value}")
        if self.risk_of_harm.strip():
            parts.append("without_consent=yes")
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class RecordedOutcome:
    """The outcome a contact carries now, who recorded it and when."""

    outcome: Outcome
    decided_by: str
    at: datetime


# -- event data -----------------------------------------------------------------------------------

DataValue = str | bool


def event_data(values: Mapping[str, DataValue]) -> str:
    """``values`` as the ``data`` of a ``ContactEvent``: compact JSON with sorted keys ("" if empty)."""
    if not values:
        return ""
    return json.dumps(dict(values), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def read_event_data(event: ContactEvent) -> dict[str, DataValue]:
    """An event's ``data`` back as a mapping; anything unreadable reads as nothing, so a damaged
    row never stops a contact from loading."""
    if not event.data:
        return {}
    try:
        raw = json.loads(event.data)
    except ValueError:
        return {}
    if not isinstance(raw, dict):
        return {}
    return {str(key): value for key, value in raw.items() if isinstance(value, str | bool)}


def outcome_data(outcome: Outcome) -> dict[str, DataValue]:
    """An outcome's particulars as event data; its rationale is the event's own rationale."""
    data: dict[str, DataValue] = {"outcome": outcome.kind.value}
    if outcome.accepted:
        data["receiving_team"] = outcome.receiving_team.strip()
        data["strategy_discussion"] = outcome.strategy_discussion
        if outcome.receiving_manager_id.strip():
            data["receiving_manager"] = outcome.receiving_manager_id.strip()
    if outcome.agency is not None:
        data["agency"] = outcome.agency.value
    if outcome.service_consent is not None:
        data["service_consent"] = outcome.service_consent.value
    if outcome.risk_of_harm.strip():
        data["without_consent"] = True
        data["risk_of_harm"] = outcome.risk_of_harm.strip()
    return data


def _outcome_of(event: ContactEvent) -> Outcome | None:
    data = read_event_data(event)
    kind, agency = data.get("outcome"), data.get("agency")
    if not isinstance(kind, str) or kind not in OutcomeKind.__members__.values():
        return None
    team = data.get("receiving_team", "")
    manager = data.get("receiving_manager", "")
    service, harm = data.get("service_consent"), data.get("risk_of_harm", "")
    return Outcome(
        kind=OutcomeKind(kind),
        rationale=event.rationale,
        receiving_team=team if isinstance(team, str) else "",
        strategy_discussion=data.get("strategy_discussion") is True,
        agency=Agency(agency) if isinstance(agency, str) and agency in Agency.__members__.values() else None,
        receiving_manager_id=manager if isinstance(manager, str) else "",
        service_consent=ServiceConsent(service)
        if isinstance(service, str) and service in ServiceConsent.__members__.values()
        else None,
        risk_of_harm=harm if isinstance(harm, str) else "",
    )


def current_outcome(contact: Contact) -> RecordedOutcome | None:
    """The outcome the contact carries now: the latest one recorded in its history, unless it has
    since gone back to screening for a fresh decision."""
    found: RecordedOutcome | None = None
    for event in contact.events:
        if event.to_state is ContactState.AWAITING_SCREENING:
            found = None
        outcome = _outcome_of(event)
        if outcome is not None:
            found = RecordedOutcome(outcome, event.actor_id, event.at)
    return found


def add_event_data(contact: Contact, values: Mapping[str, DataValue]) -> Contact:
    """``contact`` with ``values`` set as the data of its last event (the one just appended)."""
    if not contact.events:
        raise ValueError("the contact has no event to add data to")
    last = replace(contact.events[-1], data=event_data(values))
    return replace(contact, events=(*contact.events[:-1], last))


def note(
    contact: Contact,
    actor_id: str,
    at: datetime,
    action: str,
    rationale: str = "",
    values: Mapping[str, DataValue] | None = None,
) -> Contact:
    """``contact`` with an event recording work that does not move it (``to_state`` None)."""
    if not actor_id.strip():
        raise ValueError("an event needs the id of the person making it")
    event = ContactEvent(
        at=require_aware(at, "event time").astimezone(UTC),
        actor_id=actor_id,
        action=action,
        from_state=contact.state,
        to_state=None,
        rationale=rationale.strip(),
        data=event_data(values or {}),
    )
    return replace(contact, events=(*contact.events, event))


# -- building blocks for the use cases ------------------------------------------------------------


def audit_event(at: datetime, actor_id: str, action: str, subject: str, detail: str = "") -> AuditEvent:
    return AuditEvent(at=at, actor_id=actor_id, action=action, subject=subject, detail=detail)


async def _display_name(uow: UnitOfWork, person_id: str) -> str:
    entry = next((e for e in await uow.roles.entries() if e.aad_object_id == person_id), None)
    return entry.display_name if entry is not None else ""


async def already_decided(uow: UnitOfWork, contact: Contact, actor_id: str) -> AlreadyDecided:
    """The "someone else acted first" answer for ``contact`` as it is now."""
    last = contact.events[-1] if contact.events else None
    by = last.actor_id if last is not None else ""
    return AlreadyDecided(
        contact=contact,
        by=by,
        by_name=await _display_name(uow, by) if by else "",
        action=last.action if last is not None else "",
        at=last.at if last is not None else None,
        replay=bool(by) and by == actor_id,
    )


async def load_contact(
    uow: UnitOfWork, contact_id: str, actor_id: str, expected_version: int | None
) -> Contact | Refusal | AlreadyDecided:
    """The submitted contact at ``expected_version`` (None: whatever version is current)."""
    contact = await uow.contacts.get(contact_id)
    if contact is None or contact.reference is None:
        return Refusal(RefusalReason.NOT_FOUND, "That contact could not be found, so nothing was changed.")
    if expected_version is not None and contact.version != expected_version:
        return await already_decided(uow, contact, actor_id)
    return contact


async def save_or_race(
    uow: UnitOfWork, contact: Contact, expected_version: int, actor_id: str
) -> Contact | AlreadyDecided:
    """Save ``contact`` from ``expected_version``; if another decision was saved in between, the
    contact as that left it."""
    try:
        return await uow.contacts.save(contact, expected_version)
    except StaleVersionError:
        current = await uow.contacts.get(contact.id)
        return await already_decided(uow, current or contact, actor_id)


def wrong_state(contact: Contact, doing: str) -> Refusal:
    return Refusal(
        RefusalReason.WRONG_STATE,
        f"{contact.reference} is {state_title(contact.state)}, so it cannot be {doing} now. "
        "Nothing was changed.",
    )


def not_permitted(who: Iterable[Role], doing: str) -> Refusal:
    titles = " or ".join(ROLE_TITLES[role] for role in who)
    return Refusal(RefusalReason.NOT_PERMITTED, f"Sorry, only {titles} can {doing}.")


async def open_deadlines(uow: UnitOfWork, subject: str) -> tuple[Deadline, ...]:
    return tuple(d for d in await uow.deadlines.for_subject(subject) if d.state is DeadlineState.OPEN)


async def close_clocks(
    uow: UnitOfWork,
    subject: str,
    clocks: Iterable[ClockKind],
    at: datetime,
    state: DeadlineState = DeadlineState.MET,
) -> None:
    """Close the open ``clocks`` of ``subject`` at ``at`` (SPEC §3): as met when closed by their
    due time, else as late; or as ``state`` when that is not met (cancelled)."""
    for clock in dict.fromkeys(clocks):
        await uow.deadlines.close(subject, clock.value, state.value, at)


async def reassign_clocks(
    uow: UnitOfWork, subject: str, clocks: Iterable[ClockKind], assignee_id: str | None, now: datetime
) -> None:
    """Give the open ``clocks`` of ``subject`` to ``assignee_id`` (None: the consultants on duty).

    The port has no update, so the row is cancelled and added again with the same start and due
    time. Alert keys are made of the subject, clock and due time, so no alert is sent twice.
    """
    wanted = set(clocks)
    moving = [
        d for d in await open_deadlines(uow, subject) if d.clock in wanted and d.assignee_id != assignee_id
    ]
    await close_clocks(uow, subject, (d.clock for d in moving), now, DeadlineState.CANCELLED)
    for deadline in moving:
        await uow.deadlines.add(replace(deadline, id=None, assignee_id=assignee_id))


async def start_clock(
    uow: UnitOfWork,
    subject: str,
    clock: ClockKind,
    start: datetime,
    calendar: WorkingCalendar,
    policy: Policy,
    assignee_id: str | None = None,
) -> Deadline:
    start = require_aware(start, "clock start").astimezone(UTC)
    deadline = Deadline(
        subject, clock, start, due_at(clock, start, calendar, policy), assignee_id=assignee_id
    )
    return await uow.deadlines.add(deadline)


# -- social workers' loads ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkerChoice:
    """A social worker as the allocation picker and ``status`` show them: load against the cap."""

    worker_id: str
    display_name: str
    load: WorkerLoad

    @property
    def available(self) -> bool:
        return self.load.open_contacts < self.load.cap

    @property
    def label(self) -> str:
        return f"{self.display_name or self.worker_id} ({self.load.open_contacts}/{self.load.cap})"


async def _open_loads(uow: UnitOfWork) -> Counter[str]:
    """Open contacts per assignee. A contact counts against whoever it is assigned to while it is
    open; it is unassigned when it goes to sign-off, so the cap measures work in hand."""
    contacts = await uow.contacts.list_by_state(sorted(OPEN_STATES))
    return Counter(c.assignee_id for c in contacts if c.assignee_id is not None)


async def worker_loads(uow: UnitOfWork, policy: Policy) -> tuple[WorkerChoice, ...]:
    """Every social worker in the directory with their open load against the cap, by name."""
    async with uow:
        workers = await uow.roles.holders(Role.SOCIAL_WORKER)
        loads = await _open_loads(uow)
    cap = policy.caseload.cap
    choices = [
        WorkerChoice(
            entry.aad_object_id,
            entry.display_name,
            WorkerLoad(entry.aad_object_id, loads[entry.aad_object_id], cap),
        )
        for entry in workers
    ]
    choices.sort(key=lambda choice: ((choice.display_name or choice.worker_id).casefold(), choice.worker_id))
    return tuple(choices)


async def _check_holder(uow: UnitOfWork, person_id: str, role: Role) -> Refusal | str:
    """The person's display name if the directory says they hold ``role``, else why not."""
    entry = next((e for e in await uow.roles.holders(role) if e.aad_object_id == person_id), None)
    if entry is None:
        singular = ROLE_TITLES[role].removesuffix("s")
        return Refusal(
            RefusalReason.INVALID,
            f"The person chosen is not listed as one of the {ROLE_TITLES[role]}; choose a {singular}.",
        )
    return entry.display_name


async def _over_cap(uow: UnitOfWork, worker_id: str, name: str, policy: Policy) -> Refusal | None:
    """Checked after the allocation is saved, inside the same unit of work, so the count includes
    it. The worker's caseload is locked first (held until the unit of work ends), so two
    allocations to one worker at once are counted one after the other on any store, PostgreSQL's
    READ COMMITTED included, and cannot both slip under the cap. The refusal leaves the unit of
    work uncommitted: nothing is changed."""
    cap = policy.caseload.cap
    await uow.contacts.lock_worker(worker_id)
    after = (await _open_loads(uow))[worker_id]
    if after <= cap:
        return None
    load = WorkerLoad(worker_id, after - 1, cap)
    return Refusal(
        RefusalReason.OVER_CAP,
        f"{name or worker_id} already holds {load.open_contacts} open contacts (the cap is {cap}), "
        "so nothing was allocated. Choose another social worker.",
        load=load,
    )


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
    actor_id: str,
    roles: Iterable[Role],
    expected_version: int,
    now: datetime,
    calendar: WorkingCalendar,
    policy: Policy,
) -> ScreeningDecided | Refusal | AlreadyDecided:
    """Route a contact awaiting screening (consultants and team managers; route IV also needs the
    allocate permission, which both hold)."""
    require_aware(now, "now")
    roles = frozenset(roles)
    deciders = (Role.CONSULTANT, Role.TEAM_MANAGER)
    if not may(roles, Permission.THRESHOLD_DECISION):
        return not_permitted(deciders, "make a screening decision")
    if decision.route is ScreeningRoute.IV and not may(roles, Permission.ALLOCATE):
        return not_permitted(deciders, "allocate to a social worker")
    if problems := decision.problems():
        return Refusal(RefusalReason.INVALID, "Please check: " + "; ".join(problems))
    # Only routes III and IV assign anyone; an assignee sent with another route is ignored.
    assigning = decision.route in (ScreeningRoute.III, ScreeningRoute.IV)
    assignee = ((decision.assignee_id or "").strip() or None) if assigning else None

    async with uow:
        loaded = await load_contact(uow, contact_id, actor_id, expected_version)
        if not isinstance(loaded, Contact):
            return loaded
        if loaded.state is not ContactState.AWAITING_SCREENING:
            return wrong_state(loaded, "screened")
        if decision.route in PROCEEDING_ROUTES and (
            problem := without_consent_problem(loaded, decision.risk_of_harm)
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
        subject = loaded.reference or ""
        name = ""
        if assignee is not None:
            role = Role.OFFICER if decision.route is ScreeningRoute.III else Role.SOCIAL_WORKER
            checked = await _check_holder(uow, assignee, role)
            if isinstance(checked, Refusal):
                return checked
            name = checked

        to_state, action = _ROUTE_MOVES[decision.route]
        moved = transition(loaded, to_state, actor_id, now, action, decision.rationale)
        outcome = decision.route_ii_outcome() if decision.route is ScreeningRoute.II else None
        data: dict[str, DataValue] = {"route": decision.route.value}
        if assignee is not None:
            data["assignee"] = assignee
        proceeding_without = decision.route in PROCEEDING_ROUTES and loaded.consent in WITHOUT_CONSENT
        if proceeding_without:
            data |= {"without_consent": True, "risk_of_harm": decision.risk_of_harm.strip()}
        if outcome is not None:
            data |= outcome_data(outcome)
        early_help_worker = loaded.history.early_help_worker_id if decision.stays_with_early_help else None
        if decision.stays_with_early_help:
            data |= {"early_help": "stays", "early_help_worker": early_help_worker or ""}
        moved = replace(add_event_data(moved, data), assignee_id=assignee)
        saved = await save_or_race(uow, moved, expected_version, actor_id)
        if isinstance(saved, AlreadyDecided):
            return saved
        if decision.route is ScreeningRoute.IV and assignee is not None:
            over = await _over_cap(uow, assignee, name, policy)
            if over is not None:
                return over

        received = saved.received_at or now
        held = {d.clock for d in await open_deadlines(uow, subject)}
        closing = [ClockKind.SCREENING]
        if decision.route is ScreeningRoute.I:
            if ClockKind.CP_DECISION not in held:
                await start_clock(uow, subject, ClockKind.CP_DECISION, now, calendar, policy)
            completion = ClockKind.COMPLETION_24H
        else:
            closing.append(ClockKind.CP_DECISION)
            completion = (
                ClockKind.COMPLETION_24H if decision.route is ScreeningRoute.II else ClockKind.COMPLETION_48H
            )
        # A contact screened again (sent back from sign-off, or returned by its social worker) still
        # has the completion clock from received-at: it keeps it if the route's timescale is the
        # same, else the new route's replaces it, also from received-at. Sending back buys no time.
        others = [c for c in (ClockKind.COMPLETION_24H, ClockKind.COMPLETION_48H) if c is not completion]
        await close_clocks(uow, subject, [c for c in others if c in held], now, DeadlineState.CANCELLED)
        if completion in held:
            await reassign_clocks(uow, subject, [completion], assignee, now)
        else:
            await start_clock(uow, subject, completion, received, calendar, policy, assignee)
        await close_clocks(uow, subject, closing, now)

        detail = f"route={decision.route.value}"
        if assignee is not None:
            detail += f"; assignee={assignee}"
        if proceeding_without:
            detail += "; without_consent=yes"
        if outcome is not None:
            detail += f"; {outcome.audit_detail()}"
        audited = f"contact.{action.value}"
        if decision.stays_with_early_help:
            audited = "contact.stays_with_early_help"
            detail += f"; early_help_worker={early_help_worker or ''}"
        await uow.audit.append(audit_event(now, actor_id, audited, subject, detail))
        deadlines = await open_deadlines(uow, subject)
        await uow.commit()

    return ScreeningDecided(
        contact=saved,
        route=decision.route,
        decided_by=actor_id,
        decided_at=now.astimezone(UTC),
        assignee_id=assignee,
        outcome=outcome,
        deadlines=deadlines,
        summary=_summary(saved, deadlines, now, calendar, policy),
        early_help_worker=early_help_worker,
    )


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
    actor_id: str,
    roles: Iterable[Role],
    expected_version: int,
    now: datetime,
    calendar: WorkingCalendar,
    policy: Policy,
) -> RereferralDecided | Refusal | AlreadyDecided:
    """The duty manager's decision on a contact in ``duty_manager_review``: the child-protection
    threshold is met (2-hour clock, and 24-hour completion as route I), or reassignment to a social
    worker, by default the last allocated one, under the caseload cap, who must recommend within
    48 hours."""
    require_aware(now, "now")
    if not may(roles, Permission.DECIDE_REREFERRAL):
        return not_permitted((Role.DUTY_MANAGER,), "decide a re-referral")
    if not decision.rationale.strip():
        return Refusal(
            RefusalReason.INVALID, "Please check: Rationale: a re-referral decision needs a rationale"
        )

    async with uow:
        loaded = await load_contact(uow, contact_id, actor_id, expected_version)
        if not isinstance(loaded, Contact):
            return loaded
        if loaded.state is not ContactState.DUTY_MANAGER_REVIEW:
            return wrong_state(loaded, "decided as a re-referral")
        subject = loaded.reference or ""
        worker: str | None = None
        name = ""
        if decision.choice is RereferralChoice.REASSIGN:
            worker = (decision.worker_id or loaded.history.last_worker_id or "").strip() or None
            if worker is None:
                return Refusal(
                    RefusalReason.INVALID,
                    "Please choose a social worker: no last allocated worker is recorded for this contact.",
                )
            checked = await _check_holder(uow, worker, Role.SOCIAL_WORKER)
            if isinstance(checked, Refusal):
                return checked
            name = checked

        if decision.choice is RereferralChoice.CP_THRESHOLD_MET:
            moved = transition(
                loaded, ContactState.CP_DECISION, actor_id, now, Action.CP_THRESHOLD_MET, decision.rationale
            )
        else:
            moved = transition(
                loaded, ContactState.SW_ASSESSMENT, actor_id, now, Action.REASSIGN, decision.rationale
            )
            moved = add_event_data(moved, {"assignee": worker or ""})
        moved = replace(moved, assignee_id=worker)
        saved = await save_or_race(uow, moved, expected_version, actor_id)
        if isinstance(saved, AlreadyDecided):
            return saved
        if worker is not None:
            over = await _over_cap(uow, worker, name, policy)
            if over is not None:
                return over

        if decision.choice is RereferralChoice.CP_THRESHOLD_MET:
            held = {d.clock for d in await open_deadlines(uow, subject)}
            if ClockKind.CP_DECISION not in held:
                await start_clock(uow, subject, ClockKind.CP_DECISION, now, calendar, policy)
            await start_clock(
                uow, subject, ClockKind.COMPLETION_24H, saved.received_at or now, calendar, policy
            )
            detail = f"decision={decision.choice.value}"
        else:
            await start_clock(
                uow, subject, ClockKind.REREFERRAL_RECOMMENDATION, now, calendar, policy, worker
            )
            detail = f"decision={decision.choice.value}; assignee={worker}"
        await close_clocks(uow, subject, [ClockKind.SCREENING], now)
        action = Action.CP_THRESHOLD_MET if worker is None else Action.REASSIGN
        await uow.audit.append(audit_event(now, actor_id, f"contact.{action.value}", subject, detail))
        deadlines = await open_deadlines(uow, subject)
        await uow.commit()

    return RereferralDecided(
        contact=saved,
        choice=decision.choice,
        decided_by=actor_id,
        decided_at=now.astimezone(UTC),
        worker_id=worker,
        deadlines=deadlines,
        summary=_summary(saved, deadlines, now, calendar, policy),
    )
