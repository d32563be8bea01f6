"""Contacts seeded for the figures measures: received at a moment, decided (an hour later by
default) by a route."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from frontdoor.contact import Contact, ContactEvent, ContactState, HistoryChecks
from frontdoor.lifecycle import Action
from frontdoor.unit_of_work import Store

HOUR = timedelta(hours=1)


async def measured_contact(
    store: Store,
    number: int,
    received: datetime,
    closed_on: date | None = None,
    route: str = "ii",
    *,
    decider: str = "consultant-fig",
    decided: timedelta = HOUR,
) -> str:
    reference = f"CT-26-{700000 + number:06d}"
    async with store.unit_of_work() as uow:
        await uow.contacts.add(
            Contact(
                id=f"measure-{number}",
                created_by="officer-fig",
                created_at=received,
                state=ContactState.AWAITING_SIGNOFF,
                reference=reference,
                received_at=received,
                history=HistoryChecks(systems_checked=("case system",), closed_on=closed_on),
                events=(
                    ContactEvent(
                        received,
                        "officer-fig",
                        Action.SUBMIT.value,
                        ContactState.DRAFT,
                        ContactState.AWAITING_SCREENING,
                    ),
                    ContactEvent(
                        received + decided,
                        decider,
                        f"route_{route}",
                        ContactState.AWAITING_SCREENING,
                        ContactState.AWAITING_SIGNOFF,
                        "seeded",
                    ),
                ),
            )
        )
        await uow.commit()
    return reference
