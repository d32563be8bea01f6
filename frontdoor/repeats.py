"""Repeat contacts (SPEC §2, the repeat flag): the earlier contacts about the same child, found
when a contact is submitted and recorded on its submission event. "The same child" is the same
normalised name and date of birth; an unborn baby (placeholder name, expected date) is nobody's
repeat."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

from frontdoor.calendar import months_before
from frontdoor.contact import Child, Contact, ContactState
from frontdoor.outcomes import read_event_data
from frontdoor.policy import Policy
from frontdoor.unit_of_work import UnitOfWork

__all__ = [
    "NON_DRAFT_STATES",
    "REPEAT_OF_KEY",
    "child_key",
    "child_key_of",
    "recorded_repeat_of",
    "repeat_of",
]

#: Every state a contact can be in once submitted (cancelled drafts are deleted, but a cancelled
#: state would not be a contact anyone made either).
NON_DRAFT_STATES: tuple[ContactState, ...] = tuple(
    state for state in ContactState if state not in (ContactState.DRAFT, ContactState.CANCELLED)
)


def _normal_name(name: str) -> str:
    # Case, accents' composition, stray spaces and punctuation are how the same name differs
    # between two calls; they are not what tells two children apart.
    folded = unicodedata.normalize("NFKC", name).casefold()
    kept = "".join(ch if ch.isalnum() else " " for ch in folded)
    return " ".join(kept.split())


def child_key(child: Child) -> tuple[str, date] | None:
    """What identifies "the same child" for the repeat flag: normalised name and date of birth.
    None for an unborn baby, whose placeholder name and expected date identify nobody."""
    if child.date_of_birth is None:
        return None
    return child_key_of(child.name, child.date_of_birth)


def child_key_of(name: str, date_of_birth: date) -> tuple[str, date]:
    """``child_key`` of a child with this name and date of birth."""
    return (_normal_name(name), date_of_birth)


#: The key of the submission event's data that lists the earlier contacts about the same child.
REPEAT_OF_KEY = "repeat_of"


def recorded_repeat_of(contact: Contact) -> tuple[str, ...]:
    """The earlier contacts about the same child found when ``contact`` was submitted (empty if
    none, or if it was submitted before submissions recorded them)."""
    submission = next(
        (e for e in contact.events if e.from_state is ContactState.DRAFT and e.to_state is not None), None
    )
    if submission is None:
        return ()
    value = read_event_data(submission).get(REPEAT_OF_KEY)
    return tuple(value.split()) if isinstance(value, str) else ()


async def repeat_of(
    uow: UnitOfWork, contact: Contact, received_at: datetime, policy: Policy
) -> tuple[str, ...]:
    """The earlier contacts (references, oldest first) about a child of ``contact``: the same
    normalised name and date of birth, received in the ``windows.repeat_contact_months`` before
    ``received_at``."""
    keys = {key for child in contact.children if (key := child_key(child)) is not None}
    if not keys:
        return ()
    since = months_before(received_at, policy.windows.repeat_contact_months)
    born = {born for _, born in keys}
    found: dict[str, tuple[datetime, str]] = {}
    for child in await uow.contacts.children_born_on(born, since, NON_DRAFT_STATES):
        if child.contact_id != contact.id and child_key_of(child.name, child.date_of_birth) in keys:
            found[child.contact_id] = (child.received_at, child.reference)
    return tuple(reference for _, reference in sorted(found.values()))
