"""Retention of referrals not accepted (SPEC §7): personal data goes, the figures stay.

A contact that closed without being accepted (no further action, advice and signposting, referral
to another agency) keeps its personal data for ``retention.referrals_not_accepted_months`` after it
closed; then ``remove_expired_personal_data`` (run nightly by the scheduler) removes it:

- gone: the children's names, dates of birth and expected dates, addresses and schools; the parents;
  the referrer's name, phone and e-mail; every free text (worries, what is working well, what needs
  to happen, the consent reason, the chronology, every rationale and note, the outcome letter, the
  receiving team's name);
- kept, for the management information: the reference, the dates (received, each event's time), the
  source and contact type, the referrer's type and agency, the route and every decision's closed
  vocabulary (outcome kind, agency, recommendation, results), who acted, the presenting needs and
  immediate-risk answers (categories), and the clock rows, which live in their own table untouched.

The removal is recorded on the contact (an event ``personal_data_removed``, so it is never done
twice) and audited per contact (``contact.personal_data_removed``, with the outcome kind only).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Final

from frontdoor.acting import Rules
from frontdoor.calendar import require_aware
from frontdoor.contact import Child, Contact, ContactEvent, ContactState, Referrer
from frontdoor.intake import months_before
from frontdoor.outcomes import current_outcome, event_data, note, read_event_data
from frontdoor.unit_of_work import UnitOfWork, UnitOfWorkFactory
from frontdoor.usecase import audit_event

__all__ = [
    "FIGURES_DATA_KEYS",
    "PERSONAL_DATA_REMOVED",
    "RETENTION_ACTOR",
    "anonymised",
    "remove_expired_personal_data",
]

log = logging.getLogger("frontdoor.retention")

#: Who the removal is recorded as.
RETENTION_ACTOR: Final = "system:retention"
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
        events=tuple(_figures_only(event) for event in contact.events),
    )


def _closed_at(contact: Contact) -> datetime | None:
    return max((event.at for event in contact.events), default=None)


def _removed(contact: Contact) -> bool:
    return any(event.action == PERSONAL_DATA_REMOVED for event in contact.events)


async def _remove(uow: UnitOfWork, contact: Contact, now: datetime, months: int) -> str | None:
    recorded = current_outcome(contact)
    if recorded is None or recorded.outcome.accepted or _removed(contact):
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
            closed_at = _closed_at(current) if current is not None else None
            if current is None or current.state is not ContactState.CLOSED or closed_at is None:
                continue
            if closed_at > cutoff:
                continue
            reference = await _remove(uow, current, rules.now, months)
            if reference is not None:
                await uow.commit()
                done.append(reference)
    log.info("personal data removed", extra={"count": len(done)})
    return tuple(done)
