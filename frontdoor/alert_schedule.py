"""Which deadline alerts are due at a moment (SPEC §7): the acknowledgements ("I've got this") that
stop a breach's repeats and escalation, recorded as audit events and read back from them; the
planned alert and the outbox messages it becomes; ``alerts_due``, and ``next_alert_at``, when a
deadline's next alert falls.

The tick calls ``alerts_due`` with the open deadlines, the time, the alerts already enqueued
(from the outbox) and the acknowledgements; it gets back ``PlannedAlert`` values and enqueues
their ``messages()`` in the outbox, one row per recipient, each under a unique key, so an alert is
enqueued exactly once however often the tick runs, and however many processes run it.

The schedule of one clock, with the default policy:

- *due soon* when a quarter of its window is left (at least 15 minutes before due; see
  ``clocks.due_soon_at``), to the assignee, or the consultants on duty when unassigned;
- *breached* at the due time, to the same people and the duty channel;
- a breached child-protection clock (``cp_decision``) that nobody has acknowledged is *repeated*
  every ``alerts.cp_breach_repeat_minutes`` (sequence 1, 2, …), and one interval after the last of
  ``alerts.cp_breach_repeats_before_escalation`` repeats it is *escalated* once to the team
  manager on the rota and the duty channel. Acknowledging ("I've got this") stops both; a met or
  cancelled deadline stops everything. After the escalation nothing more is sent automatically:
  the clock stays red in queues, ``status`` and the end-of-day handover.

The schedule is fixed by the deadline, not by when alerts happened to go out, so a bot that was
down does not push an escalation later. After a gap, superseded alerts are collapsed rather than
sent in a burst: a due-soon alert whose clock has since breached is not sent, a repeat is skipped
when a notice of the same breach went out at or after its time, and repeats give way to the
escalation once it is due. Whatever is sent after its own time by more than ``LATE_GRACE`` is
flagged late, so the card can say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from frontdoor.alert_recipients import Staffing, recipients_for
from frontdoor.alerts import (
    LATE_GRACE,
    AlertKey,
    AlertKind,
    OutboxMessage,
    Recipient,
    RecipientKind,
    is_late,
    outbox_key,
    utc_text,
)
from frontdoor.calendar import WorkingCalendar, require_aware
from frontdoor.clocks import due_soon_at
from frontdoor.policy import Policy
from frontdoor.records import AuditEvent, ClockKind, Deadline, DeadlineState

__all__ = [
    "ACKNOWLEDGED_ACTION",
    "Acknowledgement",
    "PlannedAlert",
    "acknowledgement_event",
    "acknowledgement_from_event",
    "alerts_due",
    "next_alert_at",
]


#: The audit action that records an "I've got this" on an alert card.
ACKNOWLEDGED_ACTION = "alert.acknowledged"


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """Someone said "I've got this" on an alert about ``subject``'s ``clock`` at ``at``.

    It stops the repeats and the escalation of that clock's breach, if it was made after the clock
    started (so an acknowledgement of an earlier clock of the same kind does not silence a new
    one). It is recorded as an audit event (``acknowledgement_event``), which the tick reads back.
    """

    subject: str
    clock: ClockKind
    person_id: str
    at: datetime

    def covers(self, deadline: Deadline) -> bool:
        return (
            self.subject == deadline.subject
            and self.clock is deadline.clock
            and require_aware(self.at) >= deadline.started_at
        )


def acknowledgement_event(ack: Acknowledgement) -> AuditEvent:
    """The audit event that records ``ack``."""
    return AuditEvent(
        at=ack.at,
        actor_id=ack.person_id,
        action=ACKNOWLEDGED_ACTION,
        subject=ack.subject,
        detail=f"clock={ack.clock.value}",
    )


def acknowledgement_from_event(event: AuditEvent) -> Acknowledgement | None:
    """The acknowledgement an audit event records, or None if it records something else."""
    if event.action != ACKNOWLEDGED_ACTION or not event.detail.startswith("clock="):
        return None
    try:
        clock = ClockKind(event.detail.removeprefix("clock="))
    except ValueError:
        return None
    return Acknowledgement(event.subject, clock, event.actor_id, event.at)


@dataclass(frozen=True, slots=True)
class PlannedAlert:
    """An alert whose time has come: what, when it was due to go out, and to whom."""

    key: AlertKey
    #: the alert's own time (due-soon time, due time, repeat time, escalation time)
    at: datetime
    started_at: datetime
    assignee_id: str | None
    recipients: tuple[Recipient, ...]
    #: planned more than ``LATE_GRACE`` after ``at``
    late: bool
    deadline_id: int | None = None
    #: the MASH partners among the recipients (chased about their agency's request): their copy
    #: informs, and is not theirs to take ("I've got this" is the front door's)
    partners: tuple[str, ...] = ()

    @property
    def kind(self) -> AlertKind:
        return self.key.kind

    @property
    def subject(self) -> str:
        return self.key.subject

    @property
    def due_at(self) -> datetime:
        return self.key.due_at

    def body(self) -> dict[str, object]:
        """The payload fields shared by every recipient: ids, clock and times only."""
        return {
            "alert": self.key.text,
            "subject": self.key.subject,
            "clock": self.key.clock.value if self.key.clock is not None else None,
            "kind": self.key.kind.value,
            "sequence": self.key.sequence,
            "due_at": utc_text(self.key.due_at),
            "started_at": utc_text(self.started_at),
            "at": utc_text(self.at),
            "assignee_id": self.assignee_id,
            "deadline_id": self.deadline_id,
            "partners": list(self.partners),
            # who it goes to in person, so the channel's copy can @mention them
            "people": [r.address for r in self.recipients if r.kind is RecipientKind.PERSON],
        }

    def messages(self) -> tuple[OutboxMessage, ...]:
        """One outbox message per recipient, each under ``<alert key>#<recipient>``."""
        body = self.body()
        return tuple(
            OutboxMessage.create(outbox_key(self.key, recipient), self.key, recipient, self.at, body)
            for recipient in self.recipients
        )


def alerts_due(
    deadlines: Iterable[Deadline],
    now: datetime,
    calendar: WorkingCalendar,
    policy: Policy,
    already: Mapping[AlertKey, datetime],
    *,
    acknowledged: Iterable[Acknowledgement] = (),
    staffing: Staffing | None = None,
    late_grace: timedelta = LATE_GRACE,
) -> list[PlannedAlert]:
    """The alerts whose time has come at ``now`` and that are not in ``already`` (the keys
    enqueued so far, with when each was enqueued), in time order. Only open deadlines alert.

    Pass every open deadline that could be due soon by ``now``; recipients are resolved for the
    local date of ``now`` from ``staffing``.
    """
    now = require_aware(now, "now").astimezone(UTC)
    acks = tuple(acknowledged)
    staffing = staffing or Staffing()
    day = now.astimezone(calendar.tz).date()
    out_of_hours = not calendar.in_office_hours(now)
    planned: list[PlannedAlert] = []
    for deadline in deadlines:
        if deadline.state is not DeadlineState.OPEN:
            continue
        is_acked = any(ack.covers(deadline) for ack in acks)
        partners = staffing.partners_asked(deadline)
        for key, at in _due_keys(deadline, now, calendar, policy, already, is_acked):
            planned.append(
                PlannedAlert(
                    key=key,
                    at=at,
                    started_at=deadline.started_at.astimezone(UTC),
                    assignee_id=deadline.assignee_id,
                    recipients=(
                        *partners,
                        *recipients_for(
                            key.kind,
                            deadline.assignee_id,
                            day,
                            staffing,
                            clock=deadline.clock,
                            out_of_hours=out_of_hours,
                        ),
                    ),
                    late=is_late(at, now, late_grace),
                    deadline_id=deadline.id,
                    partners=tuple(partner.address for partner in partners),
                )
            )
    planned.sort(key=lambda alert: (alert.at, alert.key.text))
    return planned


def next_alert_at(
    deadline: Deadline, now: datetime, calendar: WorkingCalendar, policy: Policy, acknowledged: bool
) -> datetime | None:
    """The earliest moment after ``now`` at which ``alerts_due`` could plan another alert for
    ``deadline``, once everything due by ``now`` has been planned; None when nothing more is
    automatic (closed, breached and not a child-protection clock, acknowledged, or escalated).

    The tick stores it on the deadline and reads only the deadlines whose moment has come, so a
    tick costs what is due rather than what is open. It follows ``_due_keys``: due soon, then the
    breach, then each repeat interval of an unacknowledged CP breach up to the escalation."""
    if deadline.state is not DeadlineState.OPEN:
        return None
    now = require_aware(now, "now").astimezone(UTC)
    due = require_aware(deadline.due_at, "due_at").astimezone(UTC)
    if now < due:
        soon = due_soon_at(deadline.clock, deadline.started_at, due, calendar, policy)
        return soon if now < soon else due
    if deadline.clock is not ClockKind.CP_DECISION or acknowledged:
        return None
    interval = policy.alerts.cp_breach_repeat
    intervals_passed = (now - due) // interval
    if intervals_passed > policy.alerts.cp_breach_repeats_before_escalation:
        return None
    return due + (intervals_passed + 1) * interval


def _due_keys(
    deadline: Deadline,
    now: datetime,
    calendar: WorkingCalendar,
    policy: Policy,
    already: Mapping[AlertKey, datetime],
    acknowledged: bool,
) -> list[tuple[AlertKey, datetime]]:
    due = require_aware(deadline.due_at, "due_at").astimezone(UTC)
    breached = AlertKey(deadline.subject, deadline.clock, AlertKind.BREACHED, 0, due)
    if now < due:
        soon = due_soon_at(deadline.clock, deadline.started_at, due, calendar, policy)
        key = breached.but(AlertKind.DUE_SOON)
        return [(key, soon)] if now >= soon and key not in already else []

    # Breached. A due-soon alert not sent by now is superseded by the breach and never sent.
    found: list[tuple[AlertKey, datetime]] = []
    if breached not in already:
        found.append((breached, due))
    if deadline.clock is not ClockKind.CP_DECISION or acknowledged:
        return found

    interval = policy.alerts.cp_breach_repeat
    repeats = policy.alerts.cp_breach_repeats_before_escalation
    intervals_passed = (now - due) // interval
    if intervals_passed > repeats:
        escalation = breached.but(AlertKind.ESCALATION)
        if escalation not in already:
            found.append((escalation, due + (repeats + 1) * interval))
        return found
    if intervals_passed < 1:
        return found
    repeat = breached.but(AlertKind.REPEAT, intervals_passed)
    repeat_at = due + intervals_passed * interval
    if repeat in already:
        return found
    # The latest notice of this breach so far (one planned now counts as sent now): a repeat
    # that would follow it within the interval, after a gap, is collapsed into it.
    notices = [already.get(breached.but(AlertKind.REPEAT, n)) for n in range(1, intervals_passed)]
    notices.append(already.get(breached, now))
    if max(moment for moment in notices if moment is not None) < repeat_at:
        found.append((repeat, repeat_at))
    return found
