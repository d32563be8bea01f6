"""The history checks recorded later on an urgent contact that was created without them (SPEC §3:
"outstanding until recorded, by the officer or the consultant"): ``record_history_checks`` checks
and saves them, audits ``contact.history_recorded`` with whether they show an open case, early help
or a re-referral, and returns the contact before and after (``HistoryRecorded``) so the caller can
tell who must hear of what they reveal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from frontdoor.acting import Rules, Who
from frontdoor.answers import HistoryAnswers
from frontdoor.calendar import LONDON, require_aware
from frontdoor.contact import Contact, ContactState
from frontdoor.intake import Refusal, RefusalReason
from frontdoor.outcomes import note
from frontdoor.ports import StaleVersionError
from frontdoor.roles import Permission, may
from frontdoor.script import DEFAULT_LOCAL_SYSTEMS, HISTORY_RECORDED_ACTION, Choice, Section, section_of
from frontdoor.submission_routing import is_rereferral
from frontdoor.unit_of_work import UnitOfWork
from frontdoor.usecase import audit_event
from frontdoor.validation import check_history, parse_section

__all__ = [
    "HistoryRecorded",
    "record_history_checks",
]


@dataclass(frozen=True, slots=True)
class HistoryRecorded:
    """The history checks as recorded on an urgent contact, and the contact before (to tell who
    must hear of an open case or a re-referral they reveal)."""

    contact: Contact
    before: Contact


_RECORDERS = "First Contact officers, consultants and team managers"


async def record_history_checks(
    uow: UnitOfWork,
    reference: str,
    values: Mapping[str, object],
    expected_version: int,
    local_systems: Sequence[Choice] = DEFAULT_LOCAL_SYSTEMS,
    *,
    who: Who,
    rules: Rules,
) -> HistoryRecorded | Refusal:
    """Record the history checks an urgent contact was created without (SPEC §3: "outstanding until
    recorded, by the officer or the consultant"), whatever its officer's progress through the other
    cards: recorded here, they are a ``HISTORY_RECORDED_ACTION`` event, and the officer's draft skips
    its history card from then on (``frontdoor.script.next_section``). Refused for a contact that is
    not urgent, whose checks are recorded already, or that has closed, and to the officer still
    completing it, whose own card it is."""
    require_aware(rules.now, "now")
    if not may(who.roles, Permission.RECORD_HISTORY_CHECKS):
        return Refusal(RefusalReason.NOT_PERMITTED, f"Sorry, only {_RECORDERS} can record history checks.")
    async with uow:
        contact = await uow.contacts.get_by_reference(reference)
        if contact is None or contact.reference is None:
            return Refusal(RefusalReason.NOT_FOUND, f"I could not find {reference}.")
        # Anyone who may records them whatever the officer's progress (an officer taken ill mid-call
        # leaves them to the consultant); the officer still completing it uses their own card.
        own_card = contact.completing and contact.created_by == who.actor_id
        if not contact.urgent or contact.history.recorded or own_card:
            why = (
                "the history checks are one of your cards on it: record them there"
                if own_card
                else "its history checks are recorded already"
            )
            return Refusal(RefusalReason.MOVED_ON, f"{reference}: nothing was changed, {why}.")
        if contact.state in (ContactState.CLOSED, ContactState.PASSED_ON):
            return Refusal(RefusalReason.MOVED_ON, f"{reference} is closed, so nothing was changed.")
        if contact.version != expected_version:
            return Refusal(
                RefusalReason.STALE, f"{reference} changed since this card was sent; open it again."
            )
        parsed = parse_section(
            Section.HISTORY,
            values,
            rules.now.astimezone(LONDON).date(),
            rules.now,
            rules.policy,
            local_systems=local_systems,
        )
        if isinstance(parsed, list):
            names = "; ".join(error.message for error in parsed)
            return Refusal(RefusalReason.INVALID, f"Please check: {names}", tuple(parsed))
        if not isinstance(parsed, HistoryAnswers):  # what the history section parses to
            raise TypeError("the history checks card parsed to another section's answers")
        updated = note(
            replace(contact, history=parsed.history), who.actor_id, rules.now, HISTORY_RECORDED_ACTION
        )
        if section_of(updated) is Section.HISTORY and updated.completing:
            # the officer's draft is on its history card: it moves on, past checks now recorded
            updated = replace(updated, draft_section=Section.SUMMARY.value)
        errors = check_history(updated)
        if errors:
            names = "; ".join(error.message for error in errors)
            return Refusal(RefusalReason.INVALID, f"Please check: {names}", tuple(errors))
        try:
            saved = await uow.contacts.save(updated, expected_version)
        except StaleVersionError:
            return Refusal(
                RefusalReason.STALE, f"{reference} changed at the same time; nothing was changed here."
            )
        open_case = "yes" if parsed.history.open_case else "no"
        early_help = "yes" if parsed.history.open_to_early_help else "no"
        rereferral = "yes" if is_rereferral(saved, saved.received_at or rules.now, rules.policy) else "no"
        detail = f"open_case={open_case}; early_help={early_help}; rereferral={rereferral}"
        recorded = audit_event(rules.now, who.actor_id, "contact.history_recorded", reference, detail)
        await uow.audit.append(recorded)
        await uow.commit()
    return HistoryRecorded(saved, contact)
