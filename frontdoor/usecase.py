"""What every use case shares: the refusals and "someone else acted first" it returns, loading and
saving a contact under its version, audit rows, and opening and closing its clocks.

A use case takes a fresh ``UnitOfWork`` and commits once; a stale card or a race with another
change returns ``AlreadyDecided`` naming who made the last change, and any other request that must
not go ahead returns a ``Refusal``. Neither changes anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType

from frontdoor.calendar import WorkingCalendar, require_aware
from frontdoor.clocks import due_at
from frontdoor.contact import Contact, ContactState
from frontdoor.handover import WorkerLoad
from frontdoor.policy import Policy
from frontdoor.ports import StaleVersionError
from frontdoor.records import AuditEvent, ClockKind, Deadline, DeadlineState
from frontdoor.roles import ROLE_TITLES, Role
from frontdoor.script import HISTORY_RECORDED_ACTION
from frontdoor.timefmt import format_time_on
from frontdoor.unit_of_work import UnitOfWork


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
        when = f" at {format_time_on(self.at)}" if self.at is not None else ""
        if self.replay:
            return f"You have already done this: {reference} ({what}{when}). Nothing more was changed."
        who = self.by_name or self.by
        if self.action == HISTORY_RECORDED_ACTION:
            # an urgent contact's history checks, recorded from its record while this card was open
            return (
                f"{reference}'s history checks were recorded by {who}{when}, so nothing was changed: "
                "decide again."
            )
        if self.contact.completing and self.contact.state is ContactState.AWAITING_SCREENING:
            # An urgent contact's officer saved another card while this one was open.
            return (
                f"{reference} was updated by the officer completing it, so nothing was changed: decide again."
            )
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
    *,
    by: str,
) -> None:
    """Close the open ``clocks`` of ``subject`` at ``at`` (SPEC §3): as ``state`` (met, or cancelled
    when the clock stopped mattering) when closed by their due time, else as late: a breached
    clock is never recorded as met, and never disappears as cancelled. ``by`` is who closed them
    (the actor of the use case; a ``system:`` actor for the scheduler), kept on each clock: the
    figures count a clock nobody was assigned for whoever closed it (SPEC §11)."""
    for clock in dict.fromkeys(clocks):
        await uow.deadlines.close(subject, clock.value, state.value, at, closed_by=by)


async def reassign_clocks(
    uow: UnitOfWork, subject: str, clocks: Iterable[ClockKind], assignee_id: str | None
) -> None:
    """Give the open ``clocks`` of ``subject`` to ``assignee_id`` (None: the consultants on duty).

    Each clock keeps its row: its start, due time, id and any late reason recorded on it (SPEC §11
    "breaches with reasons"), so a breach stays counted with its reason after it moves on. Alert
    keys are made of the subject, clock and due time, so no alert is sent twice.
    """
    wanted = set(clocks)
    moving = {
        d.clock
        for d in await open_deadlines(uow, subject)
        if d.clock in wanted and d.assignee_id != assignee_id
    }
    for clock in sorted(moving):
        await uow.deadlines.reassign(subject, clock.value, assignee_id)


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
