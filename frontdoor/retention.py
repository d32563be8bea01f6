"""Retention of referrals not accepted (SPEC §7): personal data goes, the figures stay.

A contact that closed without being accepted (no further action, advice and signposting, referral
to another agency) keeps its personal data for ``retention.referrals_not_accepted_months`` after it
closed; then ``remove_expired_personal_data`` (run nightly by the scheduler) removes it:

- gone: the children's names, dates of birth and expected dates, addresses and schools; the parents;
  the referrer's name, role, phone and e-mail; the urgent path's emergency details (the child's name
  or description, where the child was, the caller's phone); every free text (worries, what is
  working well, what needs to happen, the consent reason, the chronology, every rationale and note,
  the outcome letter, the receiving team's name);
- kept, for the management information: the reference, the dates (received, each event's time), the
  source and contact type, the referrer's type and agency, the route and every decision's closed
  vocabulary (outcome kind, agency, recommendation, results), who acted, the presenting needs and
  immediate-risk answers (categories), and the clock rows, which live in their own table untouched.

The removal is recorded on the contact (an event ``personal_data_removed``, so it is never done
twice) and audited per contact (``contact.personal_data_removed``, with the outcome kind only).

The e-mails of the queue (SPEC §5a) follow the same rule (``purge_expired_mail``, run after it): the
stored data of an e-mail received before the cutoff goes when it was marked not a referral, could
not be read, or started a contact that closed without being accepted before the cutoff. One rule
says what "closed without being accepted" is, for both: ``closed_without_acceptance``. An accepted
contact (every signed-off contact ends closed, accepted ones too), a contact passed on to the
allocated worker of an open case, and one still open keep theirs.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Final

from frontdoor.acting import Rules
from frontdoor.calendar import months_before, require_aware
from frontdoor.contact import Child, Contact, ContactEvent, ContactState, EmergencyDetails, Referrer
from frontdoor.mail_records import MailState
from frontdoor.outcomes import current_outcome, event_data, note, read_event_data
from frontdoor.records import RETENTION_ACTOR, AuditEvent
from frontdoor.unit_of_work import UnitOfWork, UnitOfWorkFactory
from frontdoor.usecase import audit_event

__all__ = [
    "FIGURES_DATA_KEYS",
    "PERSONAL_DATA_REMOVED",
    "anonymised",
    "closed_without_acceptance",
    "purge_expired_mail",
    "remove_expired_personal_data",
]

log = logging.getLogger("frontdoor.retention")

#: The event (and, prefixed ``contact.``, the audit action) recording the removal.
PERSONAL_DATA_REMOVED: Final = "personal_data_removed"
#: The event data kept: closed vocabulary and staff ids only, never anything typed.
FIGURES_DATA_KEYS: Final = frozenset(
    {
        "outcome",
        "agency",
        "route",
        "assignee",
        "recommendation",
        "result",
        "consent",
        "strategy_discussion",
        "receiving_manager",
        "service_consent",
        "stage",
        "without_consent",
        "highlight",
    }
)


def _figures_only(event: ContactEvent) -> ContactEvent:
    data = {key: value for key, value in read_event_data(event).items() if key in FIGURES_DATA_KEYS}
    return replace(event, rationale="", data=event_data(data))


def anonymised(contact: Contact) -> Contact:
    """``contact`` without its personal data (see the module's docstring)."""
    referrer = contact.referrer
    if referrer is not None:
        referrer = Referrer(type=referrer.type, agency=referrer.agency)
    return replace(
        contact,
        referrer=referrer,
        children=tuple(Child(name="", gender=child.gender) for child in contact.children),
        parents=(),
        consent_reason="",
        worries="",
        working_well="",
        needs_to_happen="",
        history=replace(contact.history, chronology=""),
        emergency=EmergencyDetails(),
        events=tuple(_figures_only(event) for event in contact.events),
    )


def closed_without_acceptance(contact: Contact) -> datetime | None:
    """When ``contact`` closed without being accepted (no further action, advice and signposting,
    another agency): the time of the event that closed it last. None when it is not closed, its
    outcome is acceptance for assessment, or it has no outcome (a contact passed on to the allocated
    worker of an open case is ``PASSED_ON``, never closed; a cancelled draft is ``CANCELLED``)."""
    if contact.state is not ContactState.CLOSED:
        return None
    recorded = current_outcome(contact)
    if recorded is None or recorded.outcome.accepted:
        return None
    return max((event.at for event in contact.events if event.to_state is ContactState.CLOSED), default=None)


def _removed(contact: Contact) -> bool:
    return any(event.action == PERSONAL_DATA_REMOVED for event in contact.events)


async def _remove(uow: UnitOfWork, contact: Contact, now: datetime, months: int) -> str | None:
    recorded = current_outcome(contact)
    if recorded is None or _removed(contact):
        return None
    changed = note(anonymised(contact), RETENTION_ACTOR, now, PERSONAL_DATA_REMOVED)
    await uow.contacts.save(changed, contact.version)
    reference = contact.reference or ""
    detail = f"outcome={recorded.outcome.kind.value}; months={months}"
    await uow.audit.append(
        audit_event(now, RETENTION_ACTOR, f"contact.{PERSONAL_DATA_REMOVED}", reference, detail)
    )
    return reference


async def remove_expired_personal_data(unit_of_work: UnitOfWorkFactory, *, rules: Rules) -> tuple[str, ...]:
    """Remove the personal data of every contact closed without being accepted more than
    ``retention.referrals_not_accepted_months`` ago; the references done. One unit of work per
    contact, so a contact changed meanwhile (a stale version) is left for the next run."""
    require_aware(rules.now, "now")
    months = rules.policy.retention.referrals_not_accepted_months
    cutoff = months_before(rules.now, months)
    async with unit_of_work() as uow:
        candidates = await uow.contacts.closed_before(cutoff)
    done: list[str] = []
    for candidate in candidates:
        async with unit_of_work() as uow:
            current = await uow.contacts.get(candidate.id)
            closed_at = closed_without_acceptance(current) if current is not None else None
            if current is None or closed_at is None or closed_at > cutoff:
                continue
            reference = await _remove(uow, current, rules.now, months)
            if reference is not None:
                await uow.commit()
                done.append(reference)
    log.info("personal data removed", extra={"count": len(done)})
    return tuple(done)


async def purge_expired_mail(uow: UnitOfWork, *, rules: Rules) -> list[str]:
    """Delete the stored data of every e-mail received more than
    ``retention.referrals_not_accepted_months`` ago that was marked not a referral, could not be read,
    or started a contact that closed without being accepted (``closed_without_acceptance``) as long
    ago; each deletion audited. E-mails still waiting or taken are never deleted unseen. The ids
    deleted."""
    require_aware(rules.now, "now")
    cutoff = months_before(rules.now, rules.policy.retention.referrals_not_accepted_months)
    deleted: list[str] = []
    async with uow:
        for item in await uow.mail.received_before(cutoff):
            if item.state in (MailState.WAITING, MailState.TAKEN):
                continue
            if item.state is MailState.STARTED and item.contact_id is not None:
                contact = await uow.contacts.get(item.contact_id)
                if contact is not None:
                    closed_at = closed_without_acceptance(contact)
                    if closed_at is None or closed_at > cutoff:
                        continue
            await uow.mail.delete(item.id)
            await uow.audit.append(
                AuditEvent(rules.now, RETENTION_ACTOR, "mail.deleted", item.subject_key, "retention")
            )
            deleted.append(item.id)
        await uow.commit()
    return deleted
