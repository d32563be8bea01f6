"""Builders for the tests of sending a contact back to screening (frontdoor.quality)."""

from __future__ import annotations

from datetime import timedelta

from frontdoor.acting import Rules, Who
from frontdoor.contact import Contact
from frontdoor.quality import SentBack, refuse_sign_off, return_for_screening
from frontdoor.unit_of_work import Store
from frontdoor.usecase import AlreadyDecided, Refusal
from tests.frontdoor.casework_builders import (
    CALENDAR,
    POLICY,
)
from tests.frontdoor.decision_builders import (
    CONSULTANT_2,
    NOW,
    ROLES,
    SW,
)

REASON = "Rationale does not address the neglect concerns raised by the school"
LATER = NOW + timedelta(hours=1)  # Monday 11:00 in London


async def refuse(
    store: Store,
    contact: Contact,
    actor: str = CONSULTANT_2,
    reason: str = REASON,
    *,
    version: int | None = None,
) -> SentBack | Refusal | AlreadyDecided:
    return await refuse_sign_off(
        store.unit_of_work(),
        contact.id,
        contact.version if version is None else version,
        reason,
        who=Who(actor, ROLES[actor]),
        rules=Rules(LATER, CALENDAR, POLICY),
    )


async def give_back(
    store: Store, contact: Contact, actor: str = SW, reason: str = REASON, *, version: int | None = None
) -> SentBack | Refusal | AlreadyDecided:
    return await return_for_screening(
        store.unit_of_work(),
        contact.id,
        contact.version if version is None else version,
        reason,
        who=Who(actor, ROLES[actor]),
        rules=Rules(LATER, CALENDAR, POLICY),
    )
