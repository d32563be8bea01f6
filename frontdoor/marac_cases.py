"""MARAC cases and MAPPA invitations (SPEC §9).

A MARAC meeting (``marac.days`` at ``marac.at``) gets its cases, each with the MARAC's own case
reference. For each case staff record the linked children found in the checks, with the team each
is open to and the allocated worker: an information request goes to that worker, due back before
the meeting, with a clock (``ClockKind.MARAC_REQUEST``) that chases them (due soon, breached) through
the alert pipeline. The day's MARAC reminder lists the requests still outstanding.

MAPPA invitations are logged with the team they were forwarded to, or the front door when no child
is identified.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from frontdoor.acting import Rules, Who
from frontdoor.agencies import MappaInvitation, MaracAction, MaracCase, MaracRequest, Response
from frontdoor.calendar import WorkingCalendar, require_aware
from frontdoor.consultation_retention import due_for_deletion
from frontdoor.marac import marac_meeting_at
from frontdoor.policy import Policy
from frontdoor.records import RETENTION_ACTOR, AuditEvent, ClockKind, Deadline
from frontdoor.roles import Permission, may
from frontdoor.unit_of_work import UnitOfWork
from frontdoor.usecase import Refusal, RefusalReason, close_clocks

log = logging.getLogger(__name__)

CASE_ADDED = "marac.case_added"
CHILD_LINKED = "marac.request_sent"
ANSWERED = "marac.answered"
ACTION_RECORDED = "marac.action_recorded"
MAPPA_LOGGED = "mappa.logged"
DELETED = "marac.deleted"
MAX_FIELD_CHARS = 200
#: How far ahead of its meeting an action may fall due, and how far back a linked child's date of
#: birth may go (a sanity bound on a typed or forged date: 0001-01-01 or 9999-12-31 are not dates
#: anyone meant).
ACTION_HORIZON = timedelta(days=366)
OLDEST_CHILD = timedelta(days=25 * 366)
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/\-]{2,31}")
_ONLY_STAFF = "Sorry, only First Contact officers, consultants or team managers administer MARAC and MAPPA."


def next_meeting(now: datetime, calendar: WorkingCalendar, policy: Policy) -> tuple[date, datetime] | None:
    """Today's meeting if it has not started, else the next one within a fortnight."""
    now = require_aware(now, "now").astimezone(UTC)
    today = now.astimezone(calendar.tz).date()
    for offset in range(15):
        day = today + timedelta(days=offset)
        meeting = marac_meeting_at(day, calendar, policy)
        if meeting is not None and meeting > now:
            return day, meeting
    return None


def last_meeting(now: datetime, calendar: WorkingCalendar, policy: Policy) -> tuple[date, datetime] | None:
    """The meeting that started most recently (today's once it has started), within a fortnight:
    where the actions it agreed are recorded, until the next meeting starts."""
    now = require_aware(now, "now").astimezone(UTC)
    today = now.astimezone(calendar.tz).date()
    for offset in range(15):
        day = today - timedelta(days=offset)
        meeting = marac_meeting_at(day, calendar, policy)
        if meeting is not None and meeting <= now:
            return day, meeting
    return None


async def _audit(
    uow: UnitOfWork, at: datetime, actor_id: str, action: str, subject: str, detail: str
) -> None:
    await uow.audit.append(AuditEvent(at.astimezone(UTC), actor_id, action, subject, detail))


async def add_case(uow: UnitOfWork, case_reference: str, *, who: Who, rules: Rules) -> MaracCase | Refusal:
    """Put a case on the next MARAC meeting."""
    now = require_aware(rules.now, "now").astimezone(UTC)
    if not may(who.roles, Permission.START_CONTACT):
        return Refusal(RefusalReason.NOT_PERMITTED, _ONLY_STAFF)
    case_reference = case_reference.strip().upper()
    if not _REFERENCE.fullmatch(case_reference):
        return Refusal(RefusalReason.INVALID, "MARAC case reference: 3 to 32 letters, digits, / or -.")
    meeting = next_meeting(now, rules.calendar, rules.policy)
    if meeting is None:
        return Refusal(RefusalReason.WRONG_STATE, "There is no MARAC meeting in the next fortnight.")
    async with uow:
        if any(c.case_reference == case_reference for c in await uow.marac.cases_on(meeting[0])):
            return Refusal(RefusalReason.INVALID, f"{case_reference} is on that meeting already.")
        case = MaracCase(str(uuid.uuid4()), meeting[0], case_reference, who.actor_id, now)
        await uow.marac.add_case(case)
        await _audit(uow, now, who.actor_id, CASE_ADDED, case_reference, f"meeting={meeting[0].isoformat()}")
        await uow.commit()
    return case


async def link_child(
    uow: UnitOfWork,
    case_id: str,
    child_name: str,
    child_date_of_birth: date | None,
    team: str,
    worker_id: str,
    *,
    who: Who,
    rules: Rules,
    form_id: str | None = None,
) -> tuple[MaracCase, MaracRequest] | Refusal:
    """Record a linked child and ask their allocated worker, due back before the meeting. A second
    press of the card ``form_id`` (a repeat, or a stale copy) records and sends nothing."""
    now = require_aware(rules.now, "now").astimezone(UTC)
    if not may(who.roles, Permission.START_CONTACT):
        return Refusal(RefusalReason.NOT_PERMITTED, _ONLY_STAFF)
    if not child_name.strip() or not team.strip() or not worker_id:
        return Refusal(
            RefusalReason.INVALID, "The child's name, their team and the allocated worker are required."
        )
    if max(len(child_name), len(team)) > MAX_FIELD_CHARS:
        return Refusal(RefusalReason.INVALID, f"At most {MAX_FIELD_CHARS} characters a field.")
    today = now.astimezone(rules.calendar.tz).date()
    if child_date_of_birth is not None and not today - OLDEST_CHILD <= child_date_of_birth <= today:
        return Refusal(RefusalReason.INVALID, "The child's date of birth: a date in the past 25 years.")
    async with uow:
        case = await uow.marac.get_case(case_id)
        if case is None:
            return Refusal(RefusalReason.NOT_FOUND, "That MARAC case is not on a meeting.")
        meeting = marac_meeting_at(case.meeting_day, rules.calendar, rules.policy)
        if meeting is None or meeting <= now:
            return Refusal(RefusalReason.WRONG_STATE, f"The meeting of {case.case_reference} has started.")
        request = MaracRequest(
            str(uuid.uuid4()),
            case.id,
            child_name.strip(),
            child_date_of_birth,
            team.strip(),
            worker_id,
            meeting,
            form_id=form_id,
        )
        if not await uow.marac.add_request(request):
            case = await uow.marac.get_case(case_id) or case
            earlier = next((r for r in case.requests if r.form_id == form_id), None)
            linked = f" ({earlier.child_name}, asked of {earlier.team})" if earlier else ""
            return Refusal(
                RefusalReason.WRONG_STATE,
                f"This card linked a child to {case.case_reference} already{linked}: nothing was "
                "linked or sent again.",
            )
        await uow.deadlines.add(
            Deadline(request.subject, ClockKind.MARAC_REQUEST, now, meeting, assignee_id=worker_id)
        )
        await _audit(
            uow,
            now,
            who.actor_id,
            CHILD_LINKED,
            case.case_reference,
            f"request={request.id}; worker={worker_id}",
        )
        await uow.commit()
    return replace(case, requests=(*case.requests, request)), request


async def answer_request(
    uow: UnitOfWork, request_id: str, text: str, *, who: Who, rules: Rules
) -> MaracRequest | Refusal:
    """The allocated worker answers (or staff record the answer for them); the clock closes."""
    now = require_aware(rules.now, "now").astimezone(UTC)
    async with uow:
        request = await uow.marac.get_request(request_id)
        if request is None or (
            who.actor_id != request.worker_id and not may(who.roles, Permission.START_CONTACT)
        ):
            return Refusal(RefusalReason.NOT_PERMITTED, "Sorry, that request is not yours to answer.")
        if not text.strip() or len(text) > rules.policy.limits.max_free_text_chars:
            return Refusal(RefusalReason.INVALID, "Write your team's answer.")
        if not await uow.marac.answer(request_id, Response(text.strip(), who.actor_id, now)):
            return Refusal(RefusalReason.WRONG_STATE, "That request was answered already.")
        await close_clocks(uow, request.subject, [ClockKind.MARAC_REQUEST], now, by=who.actor_id)
        case = await uow.marac.get_case(request.case_id)
        timing = "late" if now > request.due_at else "in_time"
        await _audit(
            uow, now, who.actor_id, ANSWERED, case.case_reference if case else request.subject, timing
        )
        await uow.commit()
        answered = await uow.marac.get_request(request_id)
    log.info("marac request answered", extra={"reference": request.subject, "status": timing})
    assert answered is not None
    return answered


async def record_action(
    uow: UnitOfWork,
    case_id: str,
    what: str,
    owner: str,
    due_on: date | None,
    *,
    who: Who,
    rules: Rules,
    form_id: str | None = None,
) -> tuple[MaracCase, MaracAction] | Refusal:
    """Record an action the meeting agreed on a case (once the meeting has started): what, the agency
    or team that does it, and by when. A second press of the card ``form_id`` records nothing."""
    now = require_aware(rules.now, "now").astimezone(UTC)
    if not may(who.roles, Permission.START_CONTACT):
        return Refusal(RefusalReason.NOT_PERMITTED, _ONLY_STAFF)
    problems = []
    if not what.strip() or len(what) > rules.policy.limits.max_free_text_chars:
        problems.append(
            f"What was agreed: required, at most {rules.policy.limits.max_free_text_chars} characters."
        )
    if not owner.strip() or len(owner) > MAX_FIELD_CHARS:
        problems.append(f"Who does it (an agency or team): required, at most {MAX_FIELD_CHARS} characters.")
    async with uow:
        case = await uow.marac.get_case(case_id)
        if case is None:
            return Refusal(RefusalReason.NOT_FOUND, "That MARAC case is not on a meeting.")
        if due_on is None or not case.meeting_day <= due_on <= case.meeting_day + ACTION_HORIZON:
            problems.append("By when: a date on or after the meeting, within a year of it.")
        if problems or due_on is None:
            return Refusal(RefusalReason.INVALID, " ".join(problems))
        meeting = marac_meeting_at(case.meeting_day, rules.calendar, rules.policy)
        if meeting is not None and meeting > now:
            return Refusal(
                RefusalReason.WRONG_STATE,
                f"The meeting of {case.case_reference} has not started: its actions are recorded "
                "once it has.",
            )
        action = MaracAction(
            str(uuid.uuid4()), case.id, what.strip(), owner.strip(), due_on, who.actor_id, now, form_id
        )
        if not await uow.marac.add_action(action):
            return Refusal(
                RefusalReason.WRONG_STATE,
                f"This card recorded an action on {case.case_reference} already: nothing was recorded again.",
            )
        await _audit(
            uow,
            now,
            who.actor_id,
            ACTION_RECORDED,
            case.case_reference,
            f"action={action.id}; due={due_on.isoformat()}",
        )
        await uow.commit()
    log.info("marac action recorded", extra={"reference": case.case_reference})
    return replace(case, actions=(*case.actions, action)), action


async def outstanding(uow: UnitOfWork, day: date) -> list[tuple[str, MaracRequest]]:
    """The requests of ``day``'s meeting still unanswered, with their case's reference."""
    return [
        (c.case_reference, r) for c in await uow.marac.cases_on(day) for r in c.requests if r.answer is None
    ]


async def log_mappa(
    uow: UnitOfWork,
    mappa_reference: str,
    meeting_day: date | None,
    team: str,
    worker_id: str | None,
    *,
    who: Who,
    now: datetime,
) -> MappaInvitation | Refusal:
    """Log a MAPPA invitation and where it was forwarded: a team (and its worker), or the front door."""
    now = require_aware(now, "now").astimezone(UTC)
    if not may(who.roles, Permission.START_CONTACT):
        return Refusal(RefusalReason.NOT_PERMITTED, _ONLY_STAFF)
    mappa_reference = mappa_reference.strip().upper()
    if not _REFERENCE.fullmatch(mappa_reference) or meeting_day is None or len(team) > MAX_FIELD_CHARS:
        return Refusal(
            RefusalReason.INVALID,
            "The MAPPA reference (3 to 32 letters, digits, / or -) and the meeting date.",
        )
    if bool(team.strip()) != bool(worker_id):
        return Refusal(
            RefusalReason.INVALID, "Give both the team and its worker, or neither (no child identified)."
        )
    invitation = MappaInvitation(
        str(uuid.uuid4()), mappa_reference, meeting_day, team.strip(), worker_id or None, who.actor_id, now
    )
    async with uow:
        await uow.marac.add_invitation(invitation)
        where = "front_door" if invitation.to_front_door else f"team; worker={worker_id}"
        await _audit(uow, now, who.actor_id, MAPPA_LOGGED, mappa_reference, f"forwarded={where}")
        await uow.commit()
    return invitation


async def purge_expired_marac(uow: UnitOfWork, *, rules: Rules) -> tuple[str, ...]:
    """Delete MARAC cases and MAPPA invitations older than ``retention.marac_mappa_months``."""
    at = require_aware(rules.now, "now").astimezone(UTC)
    cutoff = due_for_deletion(at, rules.policy, rules.policy.retention.marac_mappa_months)
    deleted = await uow.marac.delete_before(cutoff.date())
    for reference in deleted:
        await _audit(uow, at, RETENTION_ACTOR, DELETED, reference, "retention")
    await uow.commit()
    return tuple(deleted)
