"""When the service first started on its database: the earliest moment a catch-up may reach back to.

The daily jobs (the end-of-day handover, MARAC reminders) catch up at start-up on what fell due
while the bot was down. On a brand-new database nothing fell due "while it was down": the service
did not exist yet. So the first start is recorded once, as an audit event (action
``service.first_start`` on subject ``service:installation``, by ``system:frontdoor-bot``), and
nothing is caught up whose own time came before it: a database created on a Monday morning posts
no handover for the Friday before.

Two processes starting together on one database may both record a first start; the earliest
recorded one counts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from frontdoor.calendar import require_aware
from frontdoor.records import AuditEvent
from frontdoor.unit_of_work import UnitOfWork, UnitOfWorkFactory

__all__ = ["FIRST_START", "INSTALLATION_SUBJECT", "SYSTEM_ACTOR", "installed_at"]

#: The audit action recording the first start of the service on its database.
FIRST_START: Final = "service.first_start"
INSTALLATION_SUBJECT: Final = "service:installation"
SYSTEM_ACTOR: Final = "system:frontdoor-bot"


async def installed_at(unit_of_work: UnitOfWorkFactory, now: datetime) -> datetime:
    """The first start recorded in the database; if none is, ``now`` is recorded as the first
    start (and returned)."""
    now = require_aware(now, "now").astimezone(UTC)
    async with unit_of_work() as uow:
        found = await _first(uow)
        if found is not None:
            return found
        await uow.audit.append(AuditEvent(now, SYSTEM_ACTOR, FIRST_START, INSTALLATION_SUBJECT, ""))
        await uow.commit()
    async with unit_of_work() as uow:
        # Another process may have recorded an earlier first start at the same time.
        return await _first(uow) or now


async def _first(uow: UnitOfWork) -> datetime | None:
    stored = await uow.audit.for_subject(INSTALLATION_SUBJECT)
    moments = [item.event.at for item in stored if item.event.action == FIRST_START]
    return min((require_aware(moment).astimezone(UTC) for moment in moments), default=None)
