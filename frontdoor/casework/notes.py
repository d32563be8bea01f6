"""Casework notes and consent: what the allocated social worker or officer records while working
a contact."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from frontdoor.acting import Who
from frontdoor.calendar import require_aware
from frontdoor.casework.rules import WORKERS, assigned_work, audit_contact, invalid
from frontdoor.casework.values import CaseworkAction, CaseworkRecorded, WorkKind
from frontdoor.contact import Consent, Contact, ContactState
from frontdoor.outcomes import note
from frontdoor.records import ClockKind
from frontdoor.roles import Permission, may
from frontdoor.unit_of_work import UnitOfWork
from frontdoor.usecase import (
    AlreadyDecided,
    Refusal,
    close_clocks,
    load_contact,
    not_permitted,
    open_deadlines,
    save_or_race,
    wrong_state,
)


async def record_work(
    uow: UnitOfWork,
    contact_id: str,
    kind: WorkKind,
    text: str,
    expected_version: int,
    *,
    who: Who,
    now: datetime,
) -> CaseworkRecorded | Refusal | AlreadyDecided:
    """Record contact with the referrer, contact with the parents, or (route III) the officer's
    work, with what was done. A parent contact closes a waiting parent letter's clock as met."""
    require_aware(now, "now")
    if not (may(who.roles, Permission.WORK_ALLOCATED) or may(who.roles, Permission.OFFICER_WORK)):
        return not_permitted(WORKERS, "record work on an allocated contact")
    if not text.strip():
        return invalid("Notes: say what was done")
    async with uow:
        loaded = await load_contact(uow, contact_id, who.actor_id, expected_version)
        if not isinstance(loaded, Contact):
            return loaded
        if refused := assigned_work(loaded, who.actor_id, who.roles, "worked on"):
            return refused
        if kind is WorkKind.OFFICER_WORK and loaded.state is not ContactState.OFFICER_WORK:
            return wrong_state(loaded, "given route III officer work")
        subject = loaded.reference or ""
        saved = await save_or_race(
            uow, note(loaded, who.actor_id, now, kind.value, text), expected_version, who.actor_id
        )
        if isinstance(saved, AlreadyDecided):
            return saved
        if kind is WorkKind.PARENT_CONTACT:
            await close_clocks(uow, subject, [ClockKind.PARENT_LETTER], now, by=who.actor_id)
        await audit_contact(uow, now, who.actor_id, kind.value, subject)
        deadlines = await open_deadlines(uow, subject)
        await uow.commit()
    return CaseworkRecorded(saved, kind.value, deadlines)


async def record_consent(
    uow: UnitOfWork,
    contact_id: str,
    consent: Consent,
    reason: str,
    expected_version: int,
    *,
    who: Who,
    now: datetime,
) -> CaseworkRecorded | Refusal | AlreadyDecided:
    """Record the parents' consent to further enquiries on the contact (its ``consent`` field);
    "refused" and "not sought" need the reason, as at intake."""
    require_aware(now, "now")
    if not (may(who.roles, Permission.WORK_ALLOCATED) or may(who.roles, Permission.OFFICER_WORK)):
        return not_permitted(WORKERS, "record consent")
    if consent is Consent.NOT_SOUGHT and not reason.strip():
        return invalid("Why consent was not sought: say why seeking consent would place the child at risk")
    if consent is Consent.REFUSED and not reason.strip():
        return invalid("Why consent was refused: record the reason the parents gave")
    async with uow:
        loaded = await load_contact(uow, contact_id, who.actor_id, expected_version)
        if not isinstance(loaded, Contact):
            return loaded
        if refused := assigned_work(loaded, who.actor_id, who.roles, "given consent"):
            return refused
        subject = loaded.reference or ""
        changed = replace(loaded, consent=consent, consent_reason=reason.strip())
        changed = note(changed, who.actor_id, now, CaseworkAction.CONSENT, reason, {"consent": consent.value})
        saved = await save_or_race(uow, changed, expected_version, who.actor_id)
        if isinstance(saved, AlreadyDecided):
            return saved
        await audit_contact(
            uow, now, who.actor_id, CaseworkAction.CONSENT.value, subject, f"consent={consent.value}"
        )
        deadlines = await open_deadlines(uow, subject)
        await uow.commit()
    return CaseworkRecorded(saved, CaseworkAction.CONSENT.value, deadlines)
