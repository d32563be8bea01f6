"""Information requests from other bodies (SPEC §9): CAFCASS safeguarding requests and Ofsted checks
on childminder and foster-carer applicants. They need no threshold route: they are logged with the
body's reference, the subject and the due date the body gave, a clock runs to the end of that
working day, and they close when the response is recorded (met, or late after the due time).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from frontdoor.acting import Rules, Who
from frontdoor.agencies import BodyRequest, RequestingBody, Response
from frontdoor.calendar import LONDON, WorkingCalendar, require_aware
from frontdoor.consultation_retention import due_for_deletion
from frontdoor.records import RETENTION_ACTOR, AuditEvent, ClockKind, Deadline
from frontdoor.references import ReferenceKind, format_reference
from frontdoor.roles import Permission, may
from frontdoor.unit_of_work import UnitOfWork
from frontdoor.usecase import Refusal, RefusalReason, close_clocks

log = logging.getLogger(__name__)

LOGGED = "body_request.logged"
RESPONDED = "body_request.responded"
VIEWED = "body_request.viewed"
DELETED = "body_request.deleted"
MAX_FIELD_CHARS = 200

_ONLY_STAFF = "Sorry, only First Contact officers, consultants or team managers log information requests."


@dataclass(frozen=True, slots=True)
class BodyRequestForm:
    body: RequestingBody
    body_reference: str
    subject_name: str
    subject_date_of_birth: date | None
    subject_address: str
    due_on: date | None
    #: the card's id: a second press of the same card (a repeat, or a stale copy) logs nothing
    form_id: str | None = None

    def problems(self, today: date) -> list[str]:
        found = []
        if not self.body_reference.strip():
            found.append("Their reference: required.")
        if not self.subject_name.strip():
            found.append("The subject's name: required.")
        if self.due_on is None or self.due_on < today:
            found.append("Due date: a date, today or later.")
        if max(len(self.body_reference), len(self.subject_name), len(self.subject_address)) > MAX_FIELD_CHARS:
            found.append(f"At most {MAX_FIELD_CHARS} characters a field.")
        return found


def due_time(due_on: date, calendar: WorkingCalendar) -> datetime:
    """The end of the working day on ``due_on`` (the next working day's, if it is not one)."""
    opening = datetime.combine(due_on, time(0, 0), tzinfo=LONDON)
    return calendar.end_of_working_day(opening)


async def _audit(
    uow: UnitOfWork, at: datetime, actor_id: str, action: str, subject: str, detail: str
) -> None:
    await uow.audit.append(AuditEvent(at.astimezone(UTC), actor_id, action, subject, detail))


async def log_request(
    uow: UnitOfWork, form: BodyRequestForm, *, who: Who, now: datetime, calendar: WorkingCalendar
) -> BodyRequest | Refusal:
    now = require_aware(now, "now").astimezone(UTC)
    if not may(who.roles, Permission.START_CONTACT):
        return Refusal(RefusalReason.NOT_PERMITTED, _ONLY_STAFF)
    problems = form.problems(now.astimezone(LONDON).date())
    if problems or form.due_on is None:
        return Refusal(RefusalReason.INVALID, " ".join(problems))
    async with uow:
        number = await uow.references.allocate(ReferenceKind.BODY_REQUEST.value, now.year)
        # After the allocation, which waits for another logging to commit: of two presses of one
        # card at once the second sees the first's request. Not committing rolls the number back.
        if form.form_id is not None and (earlier := await uow.body_requests.from_form(form.form_id)):
            return Refusal(
                RefusalReason.WRONG_STATE,
                f"This card logged {earlier.reference} already: nothing was logged again. "
                f"Type find {earlier.reference} to see it.",
            )
        reference = format_reference(ReferenceKind.BODY_REQUEST, now.year, number)
        request = BodyRequest(
            reference,
            form.body,
            form.body_reference.strip(),
            form.subject_name.strip(),
            form.subject_date_of_birth,
            form.subject_address.strip(),
            due_time(form.due_on, calendar),
            who.actor_id,
            now,
            form_id=form.form_id,
        )
        await uow.body_requests.add(request)
        await uow.deadlines.add(
            Deadline(reference, ClockKind.BODY_REQUEST, now, request.due_at, assignee_id=who.actor_id)
        )
        await _audit(uow, now, who.actor_id, LOGGED, reference, f"body={form.body.value}")
        await uow.commit()
    log.info("information request logged", extra={"reference": reference})
    return request


async def respond(
    uow: UnitOfWork, reference: str, text: str, *, who: Who, rules: Rules
) -> BodyRequest | Refusal:
    """Record the response and close the clock (met; the audit says whether it was in time)."""
    now = require_aware(rules.now, "now").astimezone(UTC)
    if not may(who.roles, Permission.START_CONTACT):
        return Refusal(RefusalReason.NOT_PERMITTED, _ONLY_STAFF)
    if not text.strip() or len(text) > rules.policy.limits.max_free_text_chars:
        return Refusal(RefusalReason.INVALID, "Write the response that was sent.")
    async with uow:
        request = await uow.body_requests.get(reference)
        if request is None:
            return Refusal(RefusalReason.NOT_FOUND, f"No information request {reference}.")
        if not await uow.body_requests.respond(reference, Response(text.strip(), who.actor_id, now)):
            return Refusal(RefusalReason.WRONG_STATE, f"{reference} has its response already.")
        await close_clocks(uow, reference, [ClockKind.BODY_REQUEST], now, by=who.actor_id)
        timing = "late" if now > request.due_at else "in_time"
        await _audit(uow, now, who.actor_id, RESPONDED, reference, timing)
        await uow.commit()
        answered = await uow.body_requests.get(reference)
    log.info("information request answered", extra={"reference": reference, "status": timing})
    assert answered is not None
    return answered


async def read_request(uow: UnitOfWork, reference: str, *, who: Who, now: datetime) -> BodyRequest | Refusal:
    """Front-door staff read a request (audited)."""
    if not may(who.roles, Permission.VIEW_CONTACTS):
        return Refusal(RefusalReason.NOT_PERMITTED, "Sorry, only front-door staff can see that.")
    async with uow:
        request = await uow.body_requests.get(reference)
        if request is None:
            return Refusal(RefusalReason.NOT_FOUND, f"No information request {reference}.")
        await _audit(uow, require_aware(now, "now"), who.actor_id, VIEWED, reference, "full")
        await uow.commit()
    return request


async def purge_expired_requests(uow: UnitOfWork, *, rules: Rules) -> tuple[str, ...]:
    """Delete requests answered more than ``retention.information_requests_months`` ago."""
    at = require_aware(rules.now, "now").astimezone(UTC)
    cutoff = due_for_deletion(at, rules.policy, rules.policy.retention.information_requests_months)
    deleted = await uow.body_requests.delete_responded_before(cutoff)
    for reference in deleted:
        await _audit(uow, at, RETENTION_ACTOR, DELETED, reference, "retention")
    await uow.commit()
    return tuple(deleted)
