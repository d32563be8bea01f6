"""Deadline alerts (SPEC §7): "I've got this" (``acknowledge_alert``). A member of staff who may view
contacts takes the breach; it is recorded as an audit event, which stops the repeats and the
escalation of that clock. Two people pressing at once: the first wins, the second is told who has
it.

Logs carry references, keys and ids: never names or content.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from frontdoor.acting import Who
from frontdoor.alert_schedule import Acknowledgement, acknowledgement_event, acknowledgement_from_event
from frontdoor.alerts import AlertKey, AlertKind, OutboxItem
from frontdoor.calendar import require_aware
from frontdoor.dispatch import ACKNOWLEDGEABLE
from frontdoor.records import AuditEvent, ClockKind, Deadline, DeadlineState
from frontdoor.roles import MANAGERS, Permission, Role, may
from frontdoor.unit_of_work import UnitOfWork
from frontdoor.usecase import Refusal, RefusalReason

__all__ = [
    "ACK_REFUSED_ACTION",
    "DECISION_CLOCKS",
    "AlertTaken",
    "acknowledge_alert",
    "alert_clock",
    "alert_copies",
    "may_take",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AlertTaken:
    """Who has the breach (or due-soon clock) an alert is about."""

    key: AlertKey
    acknowledgement: Acknowledgement
    #: False: someone had taken it already, and ``acknowledgement`` is theirs
    new: bool


def _the_deadline(deadlines: Sequence[Deadline], key: AlertKey) -> Deadline | None:
    matching = [d for d in deadlines if d.clock is key.clock and d.due_at == key.due_at]
    return max(matching, key=lambda d: d.id or 0) if matching else None


async def _first_taker(
    uow: UnitOfWork, deadline: Deadline, before_seq: int | None = None
) -> Acknowledgement | None:
    for stored in await uow.audit.for_subject(deadline.subject):
        if before_seq is not None and stored.seq >= before_seq:
            break
        ack = acknowledgement_from_event(stored.event)
        if ack is not None and ack.covers(deadline):
            return ack
    return None


async def acknowledge_alert(
    uow: UnitOfWork, key: AlertKey, *, who: Who, now: datetime
) -> AlertTaken | Refusal:
    """``actor_id`` takes the clock ``key`` is about ("I've got this"): recorded as an
    ``alert.acknowledged`` audit event, which stops the repeats and the escalation of its breach.
    The first to take it keeps it: a later press (or one that lost a race) gets ``new=False`` naming
    who has it, and changes nothing."""
    require_aware(now, "now")
    if not may(who.roles, Permission.VIEW_CONTACTS):
        # Not front-door staff (a MASH partner, say, whose copy of a chase has no button): refused,
        # and audited like every other refusal to take an alert.
        async with uow:
            await uow.audit.append(
                refused_on_clock(ACK_REFUSED_ACTION, who.actor_id, key.subject, key.clock, now)
            )
            await uow.commit()
        return Refusal(RefusalReason.NOT_PERMITTED, "Sorry, only front-door staff can take an alert.")
    if key.kind is AlertKind.DUE_SOON:
        return Refusal(
            RefusalReason.INVALID,
            "A due-soon alert is for information: there is nothing to take, and nothing was changed.",
        )
    if key.clock is None or key.kind not in ACKNOWLEDGEABLE:
        return Refusal(RefusalReason.INVALID, "This message is not about a running clock: nothing to take.")
    async with uow:
        deadline = _the_deadline(await uow.deadlines.for_subject(key.subject), key)
        if deadline is None:
            return Refusal(RefusalReason.NOT_FOUND, f"No such clock on {key.subject}.")
        taker = await _first_taker(uow, deadline)
        if taker is not None:
            return AlertTaken(key, taker, new=False)
        recipients = {item.recipient.person_id for item in await alert_copies(uow, key)}
        if not may_take(deadline, who.actor_id, who.roles, recipients):
            await uow.audit.append(
                refused_on_clock(ACK_REFUSED_ACTION, who.actor_id, key.subject, deadline.clock, now)
            )
            await uow.commit()
            return Refusal(RefusalReason.NOT_PERMITTED, _NOT_YOURS[deadline.clock in DECISION_CLOCKS])
        if deadline.state is not DeadlineState.OPEN:
            return Refusal(
                RefusalReason.WRONG_STATE,
                f"The clock on {key.subject} has stopped ({deadline.state.value}): there is nothing to take.",
            )
        ack = Acknowledgement(key.subject, key.clock, who.actor_id, now)
        stored = await uow.audit.append(acknowledgement_event(ack))
        # Appending holds the audit chain's write lock to commit, so anyone who took it first has
        # committed by now and is seen here: the first taker wins.
        earlier = await _first_taker(uow, deadline, before_seq=stored.seq)
        if earlier is not None:
            await uow.rollback()
            return AlertTaken(key, earlier, new=False)
        await uow.commit()
    log.info("alert taken", extra={"key": key.text, "reference": key.subject})
    return AlertTaken(key, ack, new=True)


#: The clocks that time a threshold decision: consultants and managers may act on them.
DECISION_CLOCKS: Final = frozenset({ClockKind.SCREENING, ClockKind.CP_DECISION})
#: The audit action of an "I've got this" refused.
ACK_REFUSED_ACTION: Final = "alert.ack_refused"


def refused_on_clock(
    action: str, actor_id: str, subject: str, clock: ClockKind | None, now: datetime
) -> AuditEvent:
    """The audit event of ``actor_id`` refused ``action`` on ``subject``'s clock: not permitted."""
    return AuditEvent(
        at=now,
        actor_id=actor_id,
        action=action,
        subject=subject,
        detail=f"clock={clock.value if clock else '-'}; reason=not_permitted",
    )


_NOT_YOURS: Final = {
    True: "Sorry, only the people this alert was sent to, consultants and managers (and, for a "
    "child-protection clock, the emergency duty team) can take it. Nothing was changed.",
    False: "Sorry, only the people this alert was sent to, the person the work is with and managers can "
    "take it. Nothing was changed.",
}


def may_take(
    deadline: Deadline, person_id: str, roles: Iterable[Role], recipients: Iterable[str | None] = ()
) -> bool:
    """Who may say "I've got this" on a breach of ``deadline`` (SPEC §7): the people it was sent to,
    and those whose role can act on the clock: consultants and managers for the screening and
    child-protection clocks, and the emergency duty team for the child-protection clock (they get
    its alerts out of hours; a screening clock waits for day staff); the assignee and managers for
    the casework clocks. (Staff only: ``acknowledge_alert`` refuses anyone who may not view
    contacts, such as a MASH partner, first.)"""
    roles = frozenset(roles)
    if person_id in set(recipients) or roles & MANAGERS:
        return True
    if deadline.clock is ClockKind.CP_DECISION:
        return bool(roles & {Role.CONSULTANT, Role.EDT})
    if deadline.clock in DECISION_CLOCKS:
        return Role.CONSULTANT in roles
    return deadline.assignee_id is not None and deadline.assignee_id == person_id


async def alert_clock(uow: UnitOfWork, key: AlertKey) -> tuple[Deadline | None, Acknowledgement | None]:
    """The clock an alert is about (None if there is none) and who took it (None: nobody yet)."""
    deadline = _the_deadline(await uow.deadlines.for_subject(key.subject), key)
    return deadline, (await _first_taker(uow, deadline) if deadline is not None else None)


async def alert_copies(uow: UnitOfWork, key: AlertKey) -> list[OutboxItem]:
    """The sent messages about the same clock as ``key`` (due soon, breached, repeats, escalation,
    reroutes, to every recipient) that can be updated in place."""
    found: list[OutboxItem] = []
    for item in await uow.alerts.sent_about(key.subject):
        try:
            other = item.alert_key
        except ValueError:
            continue
        if other.clock is key.clock and other.due_at == key.due_at and other.kind in ACKNOWLEDGEABLE:
            found.append(item)
    return found
