"""Deadline alerts (SPEC §7): the dispatcher that sends them. The tick that plans them is
``frontdoor.alert_tick``; "I've got this" is ``frontdoor.alert_taking``.

**The dispatcher** (``Dispatcher.dispatch_due``), run by every process, claims due rows with a lease,
finds each recipient's conversation (a person's personal chat with the bot, or the registered
channel of a purpose), has the ``AlertSender`` (the Teams side) render and post it, and records the
result in a second unit of work:

- sent: ``mark_sent`` with the conversation and message ids, so the card can be updated in place;
- 429: retried after ``Retry-After``, and the conversation is held until then, for as long as Teams
  throttles (never given up); 412, 502, 503, 504 and no answer: retried with exponential backoff and
  jitter, up to ``RetryPolicy.max_attempts``, then given up and escalated
  (``frontdoor.delivery.RetryPolicy``);
- 400, 401, 403, 404, no usable conversation (no personal chat, channel not registered, reference
  dead): given up at once (the ``Notifier`` marks a 403/404 conversation dead);
- a row given up is marked failed (``status`` shows it) and, unless it was already for the duty
  channel or was itself a reroute, sent to the duty channel instead (``alerts.reroute_message``,
  enqueued in the same transaction as the failure); a rerouted row that fails just fails.

The second route (SPEC §10): when a clock alert is given up on, or Teams has not taken it for
``continuity.email_after_minutes`` after its time, an e-mail copy for the duty manager is enqueued
(``alerts.email_message``; once per alert, by key) in the same transaction, and the ``AlertMailer``
sends it, retried on the mail route's own slower schedule (``delivery.MAIL_RETRY``: a relay
restart takes minutes). In urgent-only mode (``frontdoor.continuity``) rows that are not
about a child-protection clock are held instead of sent.

Teams' per-conversation limits are kept with ``ConversationRateLimiter``: a send that would break
them waits a little (up to ``longest_wait``) or, if the conversation is held for longer, the row is
deferred (``AlertOutbox.defer``) without using up an attempt. The limiter runs on real time
(``rate_clock``), the rows on the injected clock.

Delivery is at least once: a crash between sending and ``mark_sent`` leaves the lease to expire and
the row is sent again. An alert that goes out more than ``alerts.LATE_GRACE`` after its own time
says so on the card.

Logs carry references, keys, conversation ids and status codes: never names or content.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

from frontdoor.alerts import (
    AlertKey,
    AlertKind,
    OutboxItem,
    OutboxState,
    Recipient,
    RecipientKind,
    email_message,
    reroute_message,
)
from frontdoor.continuity import HELD_REASON, STRAY_HOLD_REASON, holds, urgent_only
from frontdoor.delivery import MAIL_RETRY, ConversationRateLimiter, FailureKind, RetryPolicy, SendFailure
from frontdoor.ports import Clock
from frontdoor.systemclock import SystemClock
from frontdoor.unit_of_work import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "ACKNOWLEDGEABLE",
    "TAKEABLE",
    "AlertMailer",
    "AlertNotice",
    "AlertSender",
    "Destination",
    "DispatchReport",
    "Dispatcher",
    "SendReport",
    "destination",
]

log = logging.getLogger(__name__)

#: The alerts that can be taken with "I've got this": those about a running clock, which are
#: withdrawn rather than sent once the clock has stopped.
ACKNOWLEDGEABLE: Final = frozenset(
    {AlertKind.DUE_SOON, AlertKind.BREACHED, AlertKind.REPEAT, AlertKind.ESCALATION}
)

#: The alerts "I've got this" is offered on: a due-soon alert informs and stops nothing (SPEC §7).
TAKEABLE: Final = ACKNOWLEDGEABLE - {AlertKind.DUE_SOON}

#: The alerts that go by e-mail too when Teams cannot deliver them (SPEC §10: the second route).
_EMAILED: Final = ACKNOWLEDGEABLE | {AlertKind.URGENT_OUT_OF_HOURS}

#: How long a claimed row is leased to one dispatcher before another may take it (and how long a
#: row claimed by a process that died waits to be sent by another, or by it after a restart).
DEFAULT_LEASE: Final = timedelta(seconds=60)
#: Rows claimed at a time.
DEFAULT_BATCH: Final = 10
#: The longest a send waits for a conversation's rate limit; a longer wait defers the row instead.
LONGEST_WAIT: Final = timedelta(seconds=2)
#: How long one send may take before it counts as "no answer" (retried).
SEND_TIMEOUT: Final = timedelta(seconds=20)
#: A send is not started unless it can finish this long before the lease runs out.
LEASE_MARGIN: Final = timedelta(seconds=5)
#: How long one ``dispatch_due`` keeps claiming before leaving the rest to the next run.
DISPATCH_BUDGET: Final = timedelta(seconds=60)


# -- what a row says ------------------------------------------------------------------------------


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else None


@dataclass(frozen=True, slots=True)
class AlertNotice:
    """What an alert row says, read from its payload into typed values: the alert, who it is for,
    the assignee and the people to @mention (ids), its own time and, for a lapsed letter, when the
    review is due; for a rerouted row, whom it was meant for and why it could not reach them."""

    key: AlertKey
    recipient: Recipient
    at: datetime
    assignee_id: str | None = None
    people: tuple[str, ...] = ()
    started_at: datetime | None = None
    review_due: datetime | None = None
    rerouted_from: Recipient | None = None
    reroute_reason: str = ""
    #: the MASH partners among its recipients (their copy informs; taking it is the front door's)
    partners: tuple[str, ...] = ()

    @property
    def for_partner(self) -> bool:
        """Whether this copy is a MASH partner's: no "I've got this", no late reason to record."""
        return self.recipient.person_id is not None and self.recipient.person_id in self.partners

    @classmethod
    def of(cls, item: OutboxItem) -> AlertNotice:
        """Raises ``ValueError`` for a row whose payload is not an alert's."""
        key = item.alert_key
        data = json.loads(item.payload)
        if not isinstance(data, dict):
            raise ValueError("an alert payload is a JSON object")
        assignee = data.get("assignee_id")
        people = data.get("people")
        rerouted_from: Recipient | None = None
        if isinstance(data.get("rerouted_from"), str) and data["rerouted_from"]:
            rerouted_from = Recipient.parse(data["rerouted_from"])
        reason = data.get("reroute_reason")
        partners = data.get("partners")
        return cls(
            key=key,
            recipient=item.recipient,
            at=_time(data.get("at")) or item.due_at,
            assignee_id=assignee if isinstance(assignee, str) and assignee else None,
            people=tuple(p for p in people if isinstance(p, str) and p) if isinstance(people, list) else (),
            started_at=_time(data.get("started_at")),
            review_due=_time(data.get("review_due")),
            rerouted_from=rerouted_from,
            reroute_reason=reason if isinstance(reason, str) else "",
            partners=tuple(p for p in partners if isinstance(p, str)) if isinstance(partners, list) else (),
        )

    @classmethod
    def of_key(cls, key: AlertKey, recipient: Recipient) -> AlertNotice:
        """What can be said from the key alone (when the row itself is not at hand)."""
        return cls(key=key, recipient=recipient, at=key.due_at)


# -- sending --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendReport:
    """What became of one send, as the ``AlertSender`` saw it."""

    #: the id Teams gave the posted message
    activity_id: str | None = None
    #: the conversation it went to (a channel's id, not a thread's)
    conversation_id: str | None = None
    #: the refusal or the lack of an answer, if it failed
    failure: SendFailure | None = None
    #: nothing was sent because the conversation cannot be used (e.g. ``ConversationDead``)
    unreachable: str = ""

    @property
    def ok(self) -> bool:
        return self.failure is None and not self.unreachable and self.activity_id is not None


class AlertMailer(Protocol):
    """Sends an outbox row addressed to an e-mail recipient (``bot.mail`` implements it with SMTP):
    the second route of SPEC §10. Reports a refusal or an unreachable server rather than raising:
    ``failure`` with status None for no answer (retried), 503 for a temporary refusal (retried),
    400 for a permanent one (given up, shown in ``status``)."""

    async def send(self, item: OutboxItem, now: datetime) -> SendReport: ...


class AlertSender(Protocol):
    """Posts an outbox row to Teams (``bot.alerting`` implements it with the ``Notifier``)."""

    async def send(self, item: OutboxItem, conversation_id: str, now: datetime) -> SendReport:
        """Render ``item`` as it should read at ``now`` (late or not) and post it to
        ``conversation_id``. Reports a refusal from Teams rather than raising."""
        ...


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a recipient is reached: a conversation, or why there is none."""

    conversation_id: str | None
    #: ``NoPersonalChat``, ``NoChannel`` or ``ConversationDead`` when there is no conversation
    problem: str = ""


async def destination(uow: UnitOfWork, recipient: Recipient) -> Destination:
    """A person's personal chat with the bot, or the conversation registered for a channel purpose."""
    if recipient.kind is RecipientKind.PERSON:
        record = await uow.conversations.personal_chat_of(recipient.address)
        if record is None:
            return Destination(None, "NoPersonalChat")
    else:
        purpose = recipient.purpose
        registration = await uow.channels.get(purpose) if purpose is not None else None
        record = await uow.conversations.get(registration.conversation_id) if registration else None
        if record is None:
            return Destination(None, "NoChannel")
    if record.dead:
        return Destination(None, "ConversationDead")
    return Destination(record.conversation_id)


@dataclass(frozen=True, slots=True)
class DispatchReport:
    """What one dispatch run did, in rows."""

    claimed: int = 0
    sent: int = 0
    #: sent more than ``LATE_GRACE`` after their own time
    late: int = 0
    retried: int = 0
    #: held back for a conversation's rate limit, without using up an attempt
    deferred: int = 0
    failed: int = 0
    #: failed rows sent to the duty channel instead
    rerouted: int = 0
    #: not sent: the clock they were about stopped first
    withdrawn: int = 0
    #: held back by urgent-only mode
    held: int = 0
    #: e-mail copies enqueued for alerts Teams could not deliver
    emailed: int = 0
    #: not sent: the lease was gone by the time of the send (a new leader released the row)
    lost: int = 0

    def __add__(self, other: DispatchReport) -> DispatchReport:
        return DispatchReport(
            *(getattr(self, name) + getattr(other, name) for name in DispatchReport.__slots__)
        )


@dataclass(frozen=True, slots=True)
class DispatchLimits:
    """How a dispatcher paces itself: its lease on the rows it claims, how many it claims at a time,
    and how long it lets a rate-limit wait, one send and one run take."""

    lease: timedelta = DEFAULT_LEASE
    batch: int = DEFAULT_BATCH
    longest_wait: timedelta = LONGEST_WAIT
    send_timeout: timedelta = SEND_TIMEOUT
    budget: timedelta = DISPATCH_BUDGET

    def __post_init__(self) -> None:
        if self.batch < 1 or self.lease <= self.send_timeout + LEASE_MARGIN:
            raise ValueError("a dispatcher needs a positive batch, and a lease longer than a send may take")

    @property
    def last_start(self) -> timedelta:
        """How long after its claim a send may still start and finish before the lease runs out."""
        return self.lease - self.send_timeout - LEASE_MARGIN


@dataclass(frozen=True, slots=True)
class AlertMail:
    """E-mail for a dispatcher: the mailer that sends rows addressed to e-mail, how long a clock
    alert Teams has not taken may wait before an e-mail copy goes too (None: no copies), and how a
    mail the server did not take is retried."""

    mailer: AlertMailer
    copy_after: timedelta | None = None
    retry: RetryPolicy = MAIL_RETRY


_SENT = DispatchReport(sent=1)
_SENT_LATE = DispatchReport(sent=1, late=1)
_RETRIED = DispatchReport(retried=1)
_DEFERRED = DispatchReport(deferred=1)
_LOST = DispatchReport(lost=1)


async def _running_clocks(uow: UnitOfWork, items: Sequence[OutboxItem]) -> set[tuple[str, str, datetime]]:
    """(subject, clock, due time) of the open deadlines the clock alerts among ``items`` are about."""
    subjects = sorted({item.subject for item in items if item.kind in ACKNOWLEDGEABLE})
    if not subjects:
        return set()
    return {
        (deadline.subject, deadline.clock.value, deadline.due_at.astimezone(UTC))
        for deadline in await uow.deadlines.open_for_subjects(subjects)
    }


def _overtaken(item: OutboxItem, running: set[tuple[str, str, datetime]]) -> bool:
    """Whether ``item`` alerts about a clock that has stopped since it was planned (a decision met
    it while a retry or a rate-limit hold kept the alert waiting): then it is withdrawn, not sent."""
    if item.kind not in ACKNOWLEDGEABLE or item.clock is None:
        return False
    try:
        key = item.alert_key
    except ValueError:
        return False
    return (key.subject, item.clock.value, key.due_at.astimezone(UTC)) not in running


class Dispatcher:
    """Sends what the outbox holds, for one process (see the module docstring).

    ``dispatch_due`` runs one call at a time per dispatcher (a lock), so the rate limiter sees
    every send of this process in order.
    """

    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        sender: AlertSender,
        clock: Clock,
        *,
        limits: DispatchLimits = DispatchLimits(),
        retry: RetryPolicy | None = None,
        limiter: ConversationRateLimiter | None = None,
        mail: AlertMail | None = None,
        rate_clock: Clock | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """``rate_clock`` and ``sleep`` are real time, which Teams' rate limits run on (tests give
        a fake); ``clock`` is the product's clock, which the rows' times are on."""
        self._unit_of_work = unit_of_work
        self._sender = sender
        self._clock = clock
        self._limits = limits
        self._retry = retry or RetryPolicy()
        self.limiter = limiter or ConversationRateLimiter()
        self._mailer = mail.mailer if mail is not None else None
        self._mail_retry = mail.retry if mail is not None else MAIL_RETRY
        self._email_after = mail.copy_after if mail is not None else None
        self._rate_clock = rate_clock or SystemClock()
        self._sleep = sleep
        self._lock = asyncio.Lock()

    async def remember_recent_sends(self) -> int:
        """Count what was sent lately, by any process, against Teams' per-conversation limits: a
        process taking over the dispatch from a leader that died must not send into a conversation
        the old leader has just filled. Returns how many sends were counted."""
        now, rate_now = self._clock.now(), self._rate_clock.now()
        async with self._unit_of_work() as uow:
            sends = await uow.alerts.sent_since(now - self.limiter.memory)
        for conversation, at in sends:
            # The rows' times are on the injected clock; the limiter runs on real time.
            self.limiter.record_send(conversation, rate_now - (now - at))
        return len(sends)

    async def dispatch_due(self) -> DispatchReport:
        """Claim and send what is due, batch after batch, until nothing due is left (or the
        budget of real time is spent)."""
        async with self._lock:
            await self._release_stray_holds()
            report = DispatchReport()
            started = self._rate_clock.now()
            while True:
                step = await self._dispatch_batch()
                report += step
                # A full batch may have left more behind; a reroute or an e-mail copy is due at once.
                # A lost lease says another process now leads: leave the rest to it.
                more = step.claimed == self._limits.batch or step.rerouted > 0 or step.emailed > 0
                if not more or step.lost or self._rate_clock.now() - started >= self._limits.budget:
                    break
            self.limiter.forget_idle(self._rate_clock.now())
            return report

    async def _release_stray_holds(self) -> int:
        """Once urgent-only mode is off, send any row still held. Switching it off lists and
        withdraws the rows held so far, but a batch that read the mode just before the switch holds
        its rows just after: without this they would stay held for ever. Returns how many."""
        async with self._unit_of_work() as uow:
            if await urgent_only(uow) is not None:
                return 0
            stray = await uow.alerts.listed(states=[OutboxState.HELD], limit=self._limits.batch)
            for item in stray:
                await uow.alerts.mark_retry(item.id, self._clock.now(), STRAY_HOLD_REASON)
            await uow.commit()
        if stray:
            log.warning("held alerts released: urgent-only mode had ended", extra={"count": len(stray)})
        return len(stray)

    async def _dispatch_batch(self) -> DispatchReport:
        async with self._unit_of_work() as uow:
            items = await uow.alerts.claim(self._clock.now(), self._limits.lease, self._limits.batch)
            await uow.commit()
        if not items:
            return DispatchReport()
        claimed_at = self._rate_clock.now()
        destinations: dict[int, Destination | None] = {}
        async with self._unit_of_work() as uow:
            running = await _running_clocks(uow, items)
            holding = await urgent_only(uow) is not None
            for item in items:
                try:
                    recipient = item.recipient
                except ValueError:
                    destinations[item.id] = None
                else:
                    if recipient.kind is RecipientKind.EMAIL:
                        destinations[item.id] = Destination(None, "Email")
                    else:
                        destinations[item.id] = await destination(uow, recipient)
        report = DispatchReport(claimed=len(items))
        for item in items:
            where = destinations[item.id]
            if _overtaken(item, running):
                report += await self._withdraw(item)
            elif holding and holds(item):
                report += await self._hold(item)
            elif where is not None and where.problem == "Email":
                report += await self._mail(item)
            elif where is None:
                report += await self._give_up(item, "BadPayload: the row names no recipient", reroute=False)
            elif self._rate_clock.now() - claimed_at > self._limits.last_start:
                # Never start a send that could outlast the lease: another dispatcher could take the row.
                report += await self._defer(item, timedelta(0))
            else:
                report += await self._deliver(item, where)
            if report.lost:
                # Another process leads and released this batch: touch none of the rest (a
                # deferral or hold would put back a row it may be sending).
                break
        return report

    async def _deliver(self, item: OutboxItem, where: Destination) -> DispatchReport:
        conversation = where.conversation_id
        if conversation is None:
            return await self._give_up(item, f"{where.problem}: no conversation to send to")
        wait = self.limiter.delay_before_send(conversation, self._rate_clock.now())
        if wait > self._limits.longest_wait:
            return await self._defer(item, wait)
        if wait > timedelta(0):
            await self._sleep(wait.total_seconds())
        if not await self._still_ours(item):
            return _LOST
        now = self._clock.now()
        try:
            async with asyncio.timeout(self._limits.send_timeout.total_seconds()):
                result = await self._sender.send(item, conversation, now)
        except TimeoutError:
            result = SendReport(conversation_id=conversation, failure=SendFailure(None, "Timeout"))
        except Exception as error:  # a card that cannot be built: retrying will not help
            log.error(
                "alert could not be rendered or sent",
                exc_info=(type(error), error, error.__traceback__),
                extra={"key": item.key, "error_code": type(error).__name__},
            )
            return await self._give_up(item, f"{type(error).__name__}: the message could not be built")
        finally:
            # Recorded when the send has finished, so the next send to this conversation leaves at
            # least a window after this one arrived (a throttled attempt counts too).
            self.limiter.record_send(conversation, self._rate_clock.now())
        if result.ok:
            return await self._sent(item, result, conversation, now)
        if result.unreachable:
            return await self._give_up(item, f"{result.unreachable}: no conversation to send to")
        failure = result.failure or SendFailure(None, "NotSent")
        decision = self._retry.decide(
            failure, item.attempts, now, to_duty_channel=item.recipient.is_duty_channel
        )
        if failure.status == 429:
            hold = failure.retry_after
            if hold is None and decision.retry_at is not None:
                hold = decision.retry_at - now
            if hold is not None:
                self.limiter.hold(conversation, self._rate_clock.now() + hold)
        if decision.retry_at is not None:
            # Teams unanswered for longer than the policy allows: the alert also goes by e-mail.
            mail_now = self._email_after is not None and now - item.due_at >= self._email_after
            emailed = 0
            async with self._unit_of_work() as uow:
                attempted = decision.classification.kind is not FailureKind.THROTTLED
                await uow.alerts.mark_retry(item.id, decision.retry_at, decision.reason, attempted=attempted)
                if mail_now:
                    emailed = await self._enqueue_email(uow, item, decision.reason, now)
                await uow.commit()
            log.info(
                "alert send will be retried",
                extra={
                    "key": item.key,
                    "conversation_id": conversation,
                    "status": failure.status or 0,
                    "error_code": failure.code,
                    "attempt": item.attempts,
                },
            )
            return DispatchReport(retried=1, emailed=emailed)
        return await self._give_up(item, decision.reason, reroute=decision.reroute)

    async def _sent(
        self, item: OutboxItem, result: SendReport, conversation: str, now: datetime
    ) -> DispatchReport:
        async with self._unit_of_work() as uow:
            await uow.alerts.mark_sent(
                item.id, result.activity_id, now, conversation_id=result.conversation_id or conversation
            )
            await uow.commit()
        late = item.late(now)
        log.info(
            "alert sent",
            extra={
                "key": item.key,
                "reference": item.subject,
                "conversation_id": result.conversation_id or conversation,
                "attempt": item.attempts,
                "status": "late" if late else "on_time",
            },
        )
        return _SENT_LATE if late else _SENT

    async def _still_ours(self, item: OutboxItem) -> bool:
        """Whether ``item`` is still leased as this dispatcher claimed it. A process that lost the
        lead without dying (its lock's connection dropped) keeps sending the batch it had claimed,
        while its successor releases every lease and sends those rows itself: asking just before
        each send leaves only a send already on the wire to be repeated (as after a crash, and
        marked so), not the rest of the batch."""
        if item.lease_until is None:
            return False
        async with self._unit_of_work() as uow:
            ours = await uow.alerts.holds_lease(item.id, item.lease_until)
        if not ours:
            log.warning("alert not sent: its lease went to another dispatcher", extra={"key": item.key})
        return ours

    async def _withdraw(self, item: OutboxItem) -> DispatchReport:
        async with self._unit_of_work() as uow:
            await uow.alerts.mark_withdrawn(item.id, "withdrawn: the clock stopped before it went out")
            await uow.commit()
        log.info("alert withdrawn: its clock stopped", extra={"key": item.key, "reference": item.subject})
        return DispatchReport(withdrawn=1)

    async def _hold(self, item: OutboxItem) -> DispatchReport:
        async with self._unit_of_work() as uow:
            await uow.alerts.mark_held(item.id, HELD_REASON)
            await uow.commit()
        log.info("alert held: urgent-only mode", extra={"key": item.key, "reference": item.subject})
        return DispatchReport(held=1)

    async def _enqueue_email(self, uow: UnitOfWork, item: OutboxItem, reason: str, now: datetime) -> int:
        """The alert's e-mail copy (once per alert, by key), if e-mail is set up and it is a clock alert
        or the EDT's notice of an urgent contact out of hours."""
        if self._mailer is None or item.kind not in _EMAILED:
            return 0
        return await uow.alerts.enqueue([email_message(item, reason)], now)

    async def _mail(self, item: OutboxItem) -> DispatchReport:
        """Send a row addressed to an e-mail recipient through the mailer; retried on the mail
        schedule (``AlertMail.retry``) when the server is down or refuses for now, given up (and
        shown in ``status``) otherwise."""
        if self._mailer is None:
            return await self._give_up(item, "NoMailer: e-mail is not set up", reroute=False)
        if not await self._still_ours(item):
            return _LOST
        now = self._clock.now()
        try:
            async with asyncio.timeout(self._limits.send_timeout.total_seconds()):
                result = await self._mailer.send(item, now)
        except TimeoutError:
            result = SendReport(failure=SendFailure(None, "SMTPTimeout"))
        if result.ok:
            async with self._unit_of_work() as uow:
                await uow.alerts.mark_sent(item.id, result.activity_id, now)
                await uow.commit()
            log.info(
                "alert e-mailed", extra={"key": item.key, "reference": item.subject, "attempt": item.attempts}
            )
            return _SENT_LATE if item.late(now) else _SENT
        failure = result.failure or SendFailure(None, "NotSent")
        decision = self._mail_retry.decide(failure, item.attempts, now, to_duty_channel=True)
        if decision.retry_at is None:
            return await self._give_up(item, decision.reason, reroute=False)
        async with self._unit_of_work() as uow:
            await uow.alerts.mark_retry(item.id, decision.retry_at, decision.reason)
            await uow.commit()
        log.warning(
            "alert e-mail will be retried",
            extra={"key": item.key, "error_code": failure.code, "attempt": item.attempts},
        )
        return _RETRIED

    async def _defer(self, item: OutboxItem, wait: timedelta) -> DispatchReport:
        async with self._unit_of_work() as uow:
            await uow.alerts.defer(item.id, self._clock.now() + wait)
            await uow.commit()
        return _DEFERRED

    async def _give_up(self, item: OutboxItem, reason: str, *, reroute: bool = True) -> DispatchReport:
        """Mark ``item`` failed and, unless it was for the duty channel or is itself a reroute,
        enqueue it for the duty channel in the same transaction. A clock alert that Teams could not
        deliver is also e-mailed to the duty manager (once per alert, whichever row failed)."""
        now = self._clock.now()
        try:
            for_duty_channel = item.recipient.is_duty_channel
            readable = True
        except ValueError:
            for_duty_channel, reroute, readable = False, False, False
        rerouted = emailed = 0
        async with self._unit_of_work() as uow:
            await uow.alerts.mark_failed(item.id, reason)
            if reroute and not item.rerouted and not for_duty_channel:
                rerouted = await uow.alerts.enqueue([reroute_message(item, reason)], now)
            if readable:
                emailed = await self._enqueue_email(uow, item, reason, now)
            await uow.commit()
        log.error(
            "alert not delivered",
            extra={
                "key": item.key,
                "reference": item.subject,
                "error_code": reason.split(":", 1)[0][:80],
                "attempt": item.attempts,
                "status": "rerouted" if rerouted else "failed",
            },
        )
        return DispatchReport(failed=1, rerouted=rerouted, emailed=emailed)
