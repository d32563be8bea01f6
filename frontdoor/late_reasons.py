"""Why a clock ran late (SPEC §11 "breaches with reasons").

The reason is one of a fixed list (``LateReason``), never free text, so the figures can count it and
the audit can hold it. It is recorded on the breach alert card (the card the scheduler sends to the
assignee and the duty channel when a clock breaches) by the people who can account for the breach:
the person the clock is with, consultants, duty managers and team managers (SPEC §1, §7). It can be
changed later: the last one recorded is the clock's reason, and every one is audited
(``clock.late_reason``, detail the clock and the code). A clock that ran late with no reason
recorded counts in the figures as "no reason recorded".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from frontdoor.acting import Who
from frontdoor.alert_taking import alert_clock, refused_on_clock
from frontdoor.alerts import AlertKey
from frontdoor.calendar import require_aware
from frontdoor.dispatch import TAKEABLE
from frontdoor.records import AuditEvent, Deadline, DeadlineState, LateReason
from frontdoor.roles import Role
from frontdoor.unit_of_work import UnitOfWork
from frontdoor.usecase import Refusal, RefusalReason

__all__ = [
    "LATE_REASON_ACTION",
    "LATE_REASON_REFUSED_ACTION",
    "LATE_REASON_TITLES",
    "NO_REASON",
    "REASON_ROLES",
    "LateReason",
    "LateReasonRecorded",
    "may_give_reason",
    "record_late_reason",
]

log = logging.getLogger(__name__)

#: How each reason reads, on the cards and in the CSV.
LATE_REASON_TITLES: Final[Mapping[LateReason, str]] = {
    LateReason.AGENCY_INFORMATION: "Waiting for information from an agency",
    LateReason.CONSENT: "Consent being sought",
    LateReason.VOLUME: "Volume of work or staffing",
    LateReason.OUT_OF_HOURS: "Arrived out of hours",
    LateReason.SYSTEM: "System or technical problem",
    LateReason.OTHER: "Other",
}
#: How a late clock with no reason reads in the figures.
NO_REASON: Final = "No reason recorded"
#: The audit actions: a reason recorded, and one refused.
LATE_REASON_ACTION: Final = "clock.late_reason"
LATE_REASON_REFUSED_ACTION: Final = "clock.late_reason_refused"
#: Who may record a reason on any breached clock; the clock's assignee may too.
REASON_ROLES: Final = frozenset({Role.CONSULTANT, Role.DUTY_MANAGER, Role.TEAM_MANAGER})
_NOT_PERMITTED: Final = (
    "Sorry, only the person the work is with, consultants, duty managers and team managers can record "
    "why a clock ran late. Nothing was changed."
)


@dataclass(frozen=True, slots=True)
class LateReasonRecorded:
    key: AlertKey
    deadline: Deadline
    reason: LateReason


def may_give_reason(deadline: Deadline, person_id: str, roles: Iterable[Role]) -> bool:
    """Who may say why ``deadline`` ran late: its assignee, consultants, duty and team managers."""
    return bool(frozenset(roles) & REASON_ROLES) or (
        deadline.assignee_id is not None and deadline.assignee_id == person_id
    )


async def record_late_reason(
    uow: UnitOfWork, key: AlertKey, reason: LateReason, *, who: Who, now: datetime
) -> LateReasonRecorded | Refusal:
    """Record ``reason`` on the breached clock the alert ``key`` is about (the last one wins),
    audited as ``clock.late_reason``; a refusal (audited when it is about who may) changes nothing."""
    require_aware(now, "now")
    if key.clock is None or key.kind not in TAKEABLE:
        return Refusal(
            RefusalReason.INVALID, "This message is not about a breached clock: nothing was changed."
        )
    async with uow:
        deadline, _ = await alert_clock(uow, key)
        if deadline is None or deadline.id is None:
            return Refusal(RefusalReason.NOT_FOUND, f"No such clock on {key.subject}: nothing was changed.")
        if not may_give_reason(deadline, who.actor_id, who.roles):
            await uow.audit.append(
                refused_on_clock(LATE_REASON_REFUSED_ACTION, who.actor_id, key.subject, deadline.clock, now)
            )
            await uow.commit()
            return Refusal(RefusalReason.NOT_PERMITTED, _NOT_PERMITTED)
        breached = deadline.state is DeadlineState.LATE or (
            deadline.state is DeadlineState.OPEN and deadline.due_at < now
        )
        if not breached:
            return Refusal(
                RefusalReason.WRONG_STATE,
                f"The clock on {key.subject} did not run late ({deadline.state.value}): there is no "
                "reason to record, and nothing was changed.",
            )
        await uow.deadlines.set_late_reason(deadline.id, reason)
        await uow.audit.append(
            AuditEvent(
                at=now,
                actor_id=who.actor_id,
                action=LATE_REASON_ACTION,
                subject=key.subject,
                detail=f"clock={deadline.clock.value}; reason={reason.value}",
            )
        )
        await uow.commit()
    log.info("late reason recorded", extra={"key": key.text, "reference": key.subject})
    return LateReasonRecorded(key, deadline, reason)
