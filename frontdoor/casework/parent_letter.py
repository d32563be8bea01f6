"""The parent letter (route IV and re-referrals): recorded when the parents could not be reached,
with its ``parent_letter`` clock, and its lapse."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from frontdoor.acting import Rules, Who
from frontdoor.calendar import require_aware
from frontdoor.casework.rules import WORKERS, assigned_work, audit_contact, invalid
from frontdoor.casework.values import PARENT_LETTER_ACTOR, CaseworkAction, LetterLapsed, ParentLetterSent
from frontdoor.contact import Contact, ContactState
from frontdoor.outcomes import note
from frontdoor.records import ClockKind, Deadline, DeadlineState
from frontdoor.roles import Permission, may
from frontdoor.timefmt import format_time_on
from frontdoor.unit_of_work import UnitOfWork
from frontdoor.usecase import (
    AlreadyDecided,
    Refusal,
    RefusalReason,
    close_clocks,
    load_contact,
    not_permitted,
    open_deadlines,
    save_or_race,
    start_clock,
)


async def record_parents_unreachable(
    uow: UnitOfWork, contact_id: str, expected_version: int, text: str = "", *, who: Who, rules: Rules
) -> ParentLetterSent | Refusal | AlreadyDecided:
    """The parents could not be reached, so a letter was sent. On route IV and re-referrals it asks
    them to make contact within 3 working days and starts the lapse clock; on route III it advises
    them of the contact and signposts (the outcome letter to the professional follows sign-off)."""
    require_aware(rules.now, "now")
    if not (may(who.roles, Permission.WORK_ALLOCATED) or may(who.roles, Permission.OFFICER_WORK)):
        return not_permitted(WORKERS, "record a letter to parents")
    async with uow:
        loaded = await load_contact(uow, contact_id, who.actor_id, expected_version)
        if not isinstance(loaded, Contact):
            return loaded
        if refused := assigned_work(loaded, who.actor_id, who.roles, "given a parent letter"):
            return refused
        subject = loaded.reference or ""
        waiting = [d for d in await open_deadlines(uow, subject) if d.clock is ClockKind.PARENT_LETTER]
        if waiting:
            until = waiting[0].due_at
            return invalid(
                f"a letter to the parents is already waiting for a reply until {format_time_on(until)}"
            )
        saved = await save_or_race(
            uow,
            note(loaded, who.actor_id, rules.now, CaseworkAction.PARENT_LETTER_SENT, text),
            expected_version,
            who.actor_id,
        )
        if isinstance(saved, AlreadyDecided):
            return saved
        lapses_at = None
        if saved.state is ContactState.SW_ASSESSMENT:
            clock = await start_clock(
                uow, subject, ClockKind.PARENT_LETTER, rules.now, rules.calendar, rules.policy, who.actor_id
            )
            lapses_at = clock.due_at
        await audit_contact(uow, rules.now, who.actor_id, CaseworkAction.PARENT_LETTER_SENT.value, subject)
        await uow.commit()
    return ParentLetterSent(saved, lapses_at)


def due_parent_letters(deadlines: Iterable[Deadline], now: datetime) -> tuple[str, ...]:
    """The subjects (references) whose parent letter has lapsed by ``now``: what the scheduler
    passes to ``lapse_parent_letter``."""
    now = require_aware(now, "now")
    return tuple(
        dict.fromkeys(
            d.subject
            for d in deadlines
            if d.clock is ClockKind.PARENT_LETTER and d.state is DeadlineState.OPEN and d.due_at <= now
        )
    )


async def lapse_parent_letter(
    uow: UnitOfWork, reference: str, actor_id: str = PARENT_LETTER_ACTOR, *, rules: Rules
) -> LetterLapsed | Refusal | AlreadyDecided:
    """The parents did not answer the letter in time: the contact comes back to its worker to
    review and re-apply the threshold, with a ``letter_review`` clock (1 working day). Run by the scheduler; a
    second run for the same letter finds nothing waiting and changes nothing."""
    require_aware(rules.now, "now")
    async with uow:
        contact = await uow.contacts.get_by_reference(reference)
        if contact is None:
            return Refusal(RefusalReason.NOT_FOUND, f"No contact {reference}.")
        waiting = [d for d in await open_deadlines(uow, reference) if d.clock is ClockKind.PARENT_LETTER]
        if not waiting or contact.state is not ContactState.SW_ASSESSMENT:
            return Refusal(
                RefusalReason.WRONG_STATE, f"{reference} has no parent letter waiting; nothing was changed."
            )
        if min(d.due_at for d in waiting) > rules.now:
            return Refusal(RefusalReason.NOT_DUE, f"The parent letter on {reference} has not lapsed yet.")
        worker = contact.assignee_id
        lapsed = note(contact, actor_id, rules.now, CaseworkAction.PARENT_LETTER_LAPSED)
        saved = await save_or_race(uow, lapsed, contact.version, actor_id)
        if isinstance(saved, AlreadyDecided):
            return saved
        # The letter's window ran out without the parents making contact: not met, whenever the
        # scheduler runs. The review is the worker's clock, not a screening decision (SPEC §11).
        await close_clocks(
            uow, reference, [ClockKind.PARENT_LETTER], rules.now, DeadlineState.LATE, by=actor_id
        )
        review = await start_clock(
            uow, reference, ClockKind.LETTER_REVIEW, rules.now, rules.calendar, rules.policy, worker
        )
        detail = f"worker={worker or '-'}; review_due={review.due_at.isoformat()}"
        await audit_contact(
            uow, rules.now, actor_id, CaseworkAction.PARENT_LETTER_LAPSED.value, reference, detail
        )
        await uow.commit()
    return LetterLapsed(saved, worker, review.due_at)
