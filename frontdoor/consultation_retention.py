"""Retention of the consultations of SPEC §2: deleted after ``retention.consultations_months``.

The scheduler's retention job runs ``purge_expired_consultations`` nightly: every consultation
created before the cutoff is deleted and each deletion is audited, by reference, as
``system:retention``. ``due_for_deletion`` is that cutoff, in calendar months on the
Europe/London wall clock; the retention of other records (MASH episodes, triage incidents, MARAC
and MAPPA cases, information requests) uses it with their own number of months.

The consultations themselves, and the unit of work this deletes them through, are in
``frontdoor.consultation``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from frontdoor.acting import Rules
from frontdoor.calendar import months_before, require_aware
from frontdoor.consultation import ConsultationUnitOfWork
from frontdoor.policy import Policy
from frontdoor.records import RETENTION_ACTOR, AuditEvent

__all__ = ["due_for_deletion", "purge_expired_consultations"]

#: The audit action of a deletion; the detail never carries free text.
ACTION_DELETE = "consultation.delete"


def due_for_deletion(now: datetime, policy: Policy, months: int | None = None) -> datetime:
    """The cutoff (UTC): consultations created before it are past retention (or, given ``months``,
    whatever record is kept that many months).

    Calendar months on the Europe/London wall clock: on 31 August 14:00 with 6 months it is
    28 (or 29) February 14:00 local, whatever the clocks did in between.
    """
    kept = policy.retention.consultations_months if months is None else months
    return months_before(require_aware(now, "now"), kept)


async def purge_expired_consultations(
    uow: ConsultationUnitOfWork, *, rules: Rules, actor_id: str = RETENTION_ACTOR
) -> tuple[str, ...]:
    """Delete the consultations past retention, audit each deletion, commit; the references deleted."""
    cutoff = due_for_deletion(rules.now, rules.policy)
    deleted = await uow.consultations.delete_older_than(cutoff)
    at = require_aware(rules.now, "now").astimezone(UTC)
    for reference in deleted:
        await uow.audit.append(AuditEvent(at, actor_id, ACTION_DELETE, reference, "retention"))
    await uow.commit()
    return tuple(deleted)
