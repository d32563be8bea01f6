"""The daily domestic-abuse triage (SPEC §9): Monday to Friday, staff record the meeting's police
incidents (a police reference, the date and a short description that names nobody) and give each
exactly one outcome (a)-(f) with who decided.

(b) and (c) become contacts on the normal path: a draft is built from what the meeting knows (the
child, consent, the incident as the worry, domestic abuse as the presenting need; for (c) the
immediate risks that make it urgent) and submitted with ``intake.submit_contact``, so its reference,
route, clocks and @mentions are intake's own. The contact carries the police reference in its
worry. (d) records the other authority; (e) and (f) record who was told.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from frontdoor.acting import Rules, Who
from frontdoor.agencies import (
    CONTACT_OUTCOMES,
    TOLD_OUTCOMES,
    TriageDecision,
    TriageIncident,
    TriageOutcome,
)
from frontdoor.calendar import LONDON, require_aware
from frontdoor.consultation_retention import due_for_deletion
from frontdoor.contact import (
    Child,
    Consent,
    Contact,
    ContactType,
    HistoryChecks,
    ImmediateRisk,
    PresentingNeed,
    Referrer,
    ReferrerType,
    Source,
)
from frontdoor.guard import scan, summarise
from frontdoor.intake import Refusal as IntakeRefusal
from frontdoor.intake import SubmissionResult, submit_whole_draft
from frontdoor.records import RETENTION_ACTOR, AuditEvent
from frontdoor.roles import Permission, may
from frontdoor.script import NAME_MAX_LENGTH, Section
from frontdoor.unit_of_work import UnitOfWork, UnitOfWorkFactory
from frontdoor.usecase import Refusal, RefusalReason

log = logging.getLogger(__name__)

RECORDED = "triage.recorded"
DECIDED = "triage.decided"
DELETED = "triage.deleted"
#: A short description: what happened, never who.
MAX_SUMMARY_CHARS = 280
MAX_DETAIL_CHARS = 200
_POLICE_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/\-]{2,31}")
#: Who referred a contact that came from the triage (a meeting, not a person).
TRIAGE_REFERRER = Referrer(ReferrerType.PROFESSIONAL, name="Domestic abuse triage meeting", agency="Police")
ONLY_STAFF = "Sorry, only First Contact officers, consultants or team managers record the triage."


def meeting_day(now: datetime) -> date:
    return require_aware(now, "now").astimezone(LONDON).date()


async def _audit(
    uow: UnitOfWork, at: datetime, actor_id: str, action: str, subject: str, detail: str
) -> None:
    await uow.audit.append(AuditEvent(at.astimezone(UTC), actor_id, action, subject, detail))


async def record_incident(
    uow: UnitOfWork, police_reference: str, occurred_on: date | None, summary: str, *, who: Who, now: datetime
) -> TriageIncident | Refusal:
    """Add a police incident to today's list (Monday to Friday)."""
    now = require_aware(now, "now").astimezone(UTC)
    day = meeting_day(now)
    if not may(who.roles, Permission.START_CONTACT):
        return Refusal(RefusalReason.NOT_PERMITTED, ONLY_STAFF)
    if day.weekday() >= 5:
        return Refusal(
            RefusalReason.WRONG_STATE, "The triage meets Monday to Friday: there is no list today."
        )
    police_reference = police_reference.strip().upper()
    problems = []
    if not _POLICE_REFERENCE.fullmatch(police_reference):
        problems.append("Police reference: 3 to 32 letters, digits, / or -.")
    if occurred_on is None or occurred_on > day:
        problems.append("Date of the incident: a date, not in the future.")
    if not summary.strip() or len(summary) > MAX_SUMMARY_CHARS:
        problems.append(f"Description: required, at most {MAX_SUMMARY_CHARS} characters.")
    findings = scan(summary, today=day)
    if findings:
        problems.append(f"Description: it must not identify anyone; remove {summarise(findings)}.")
    if problems or occurred_on is None:
        return Refusal(RefusalReason.INVALID, " ".join(problems))
    async with uow:
        if any(i.police_reference == police_reference for i in await uow.triage.on(day)):
            return Refusal(RefusalReason.INVALID, f"{police_reference} is on today's list already.")
        incident = TriageIncident(
            str(uuid.uuid4()), day, police_reference, occurred_on, summary.strip(), who.actor_id, now
        )
        await uow.triage.add(incident)
        await _audit(uow, now, who.actor_id, RECORDED, police_reference, f"incident={incident.id}; day={day}")
        await uow.commit()
    log.info("triage incident recorded", extra={"reference": police_reference})
    return incident


@dataclass(frozen=True, slots=True)
class ChildKnown:
    """What the meeting knows of the child for (b) and (c), to make the contact."""

    name: str
    date_of_birth: date | None
    consent: Consent | None
    consent_reason: str = ""
    systems_checked: tuple[str, ...] = ()
    risks: frozenset[ImmediateRisk] = frozenset()


@dataclass(frozen=True, slots=True)
class OutcomeForm:
    outcome: TriageOutcome
    child: ChildKnown | None = None
    other_authority: str = ""
    told: str = ""

    def problems(self) -> list[str]:
        found = []
        if self.outcome in CONTACT_OUTCOMES and (self.child is None or not self.child.name.strip()):
            found.append("The child's name: (b) and (c) become a contact about a named child.")
        if self.outcome is TriageOutcome.STATUTORY and self.child is not None and not self.child.risks:
            found.append("Immediate risks: (c) is an urgent contact; tick the risks the meeting found.")
        if self.outcome is TriageOutcome.OTHER_AUTHORITY and not self.other_authority.strip():
            found.append("The other authority: name it.")
        if self.outcome in TOLD_OUTCOMES and not self.told.strip():
            found.append("Who was told: name and role or service.")
        if max(len(self.other_authority), len(self.told)) > MAX_DETAIL_CHARS:
            found.append(f"At most {MAX_DETAIL_CHARS} characters.")
        if self.child is not None and len(self.child.name) > NAME_MAX_LENGTH:
            found.append(f"The child's name: at most {NAME_MAX_LENGTH} characters, as on the contact.")
        return found


def _draft(
    incident: TriageIncident, child: ChildKnown, urgent: bool, actor_id: str, now: datetime
) -> Contact:
    worry = (
        f"Police reference {incident.police_reference}: domestic abuse incident on "
        f"{incident.occurred_on:%d/%m/%Y}. {incident.summary}"
    )
    return Contact(
        id=str(uuid.uuid4()),
        created_by=actor_id,
        created_at=now,
        source=Source.POLICE_FORM,
        contact_type=ContactType.REFERRAL,
        referrer=TRIAGE_REFERRER,
        children=(Child(child.name.strip(), child.date_of_birth),),
        consent=child.consent,
        consent_reason=child.consent_reason.strip(),
        worries=worry,
        presenting_needs=frozenset({PresentingNeed.DOMESTIC_ABUSE}),
        immediate_risks=child.risks if urgent else frozenset(),
        history=HistoryChecks(systems_checked=child.systems_checked),
        draft_section=Section.SUMMARY.value,
    )


async def decide_incident(
    unit_of_work: UnitOfWorkFactory, incident_id: str, form: OutcomeForm, *, who: Who, rules: Rules
) -> tuple[TriageIncident, SubmissionResult | None] | Refusal:
    """Give an incident its one outcome. For (b) and (c) the contact is submitted in the same unit
    of work as the outcome that names it: of two outcomes pressed at once exactly one is recorded,
    and the other leaves nothing behind (no contact, reference or clock). A contact that cannot be
    submitted leaves the incident undecided."""
    now = require_aware(rules.now, "now").astimezone(UTC)
    if not may(who.roles, Permission.START_CONTACT):
        return Refusal(RefusalReason.NOT_PERMITTED, ONLY_STAFF)
    problems = form.problems()
    if problems:
        return Refusal(RefusalReason.INVALID, " ".join(problems))
    async with unit_of_work() as uow:
        incident = await uow.triage.get(incident_id)
        if incident is None:
            return Refusal(RefusalReason.NOT_FOUND, "That incident is not on the list.")
        if incident.decision is not None:
            return _decided_already(incident)
        decision = TriageDecision(
            form.outcome,
            who.actor_id,
            now,
            other_authority=form.other_authority.strip(),
            told=form.told.strip(),
        )
        # The claim comes first: a conditional write, so a second press waits here for the first
        # to commit and then finds the outcome taken, holding nothing else. Waiting for the
        # incident after submitting a contact would hold the audit chain's lock (PostgreSQL) while
        # the first press, appending to the chain, waited for it: a deadlock.
        if not await uow.triage.decide(incident_id, decision):
            await uow.rollback()
            async with unit_of_work() as again:
                taken = await again.triage.get(incident_id)
            return _decided_already(taken or incident)
        submitted: SubmissionResult | None = None
        if form.outcome in CONTACT_OUTCOMES and form.child is not None:
            draft = _draft(incident, form.child, form.outcome is TriageOutcome.STATUTORY, who.actor_id, now)
            result = await submit_whole_draft(uow, draft, rules=Rules(now, rules.calendar, rules.policy))
            if isinstance(result, IntakeRefusal):
                return Refusal(RefusalReason.INVALID, result.message)  # leaving rolls the claim back
            submitted = result
            decision = replace(decision, contact_reference=submitted.reference)
            await uow.triage.name_contact(incident_id, submitted.reference)
        contact = f"; contact={decision.contact_reference}" if decision.contact_reference else ""
        await _audit(
            uow,
            now,
            who.actor_id,
            DECIDED,
            incident.police_reference,
            f"outcome={form.outcome.value}{contact}",
        )
        await uow.commit()
        decided = await uow.triage.get(incident_id)
    log.info("triage outcome", extra={"reference": incident.police_reference, "status": form.outcome.value})
    assert decided is not None
    return decided, submitted


def _decided_already(incident: TriageIncident) -> Refusal:
    """The reply to an outcome pressed on an incident that has one: which outcome it has."""
    taken = incident.decision
    if taken is None:
        return Refusal(RefusalReason.WRONG_STATE, f"{incident.police_reference} has its outcome already.")
    contact = f", contact {taken.contact_reference}" if taken.contact_reference else ""
    return Refusal(
        RefusalReason.WRONG_STATE,
        f"{incident.police_reference} has its outcome already: ({taken.outcome.value}){contact}. "
        "Nothing else was recorded.",
    )


async def purge_expired_incidents(uow: UnitOfWork, *, rules: Rules) -> tuple[str, ...]:
    """Delete triage incidents past ``retention.triage_incidents_months``, audit each, commit."""
    at = require_aware(rules.now, "now").astimezone(UTC)
    cutoff = due_for_deletion(at, rules.policy, rules.policy.retention.triage_incidents_months)
    deleted = await uow.triage.delete_recorded_before(cutoff)
    for reference in deleted:
        await _audit(uow, at, RETENTION_ACTOR, DELETED, reference, "retention")
    await uow.commit()
    return tuple(deleted)
