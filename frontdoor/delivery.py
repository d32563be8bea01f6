"""Sending to Teams without losing alerts or being throttled: what a failed send means, when to try
again, and how fast one conversation may be written to.

**Failures** (the Teams status-code table, ``research/perf_rel_sec.md`` §B2). The SDK does not
retry proactive sends, so the dispatcher does:

- 429 (Throttled): retry after ``Retry-After`` (the backoff at its cap if it is absent), for as
  long as Teams keeps throttling: throttling is never a permanent failure and uses up no attempts
  (the dispatcher gives the claim's attempt back), so four throttles and then a 503 still leave
  the 503 its retries (an alert throttled for longer than ``continuity.email_after_minutes`` also
  goes by e-mail).
- 412, 502, 503, 504, or no response at all (network error, timeout): retry with backoff; a send
  that got no answer may not have reached Teams.
- 403, 404 (BotNotInConversationRoster, ConversationBlockedByUser, BotDisabledByAdmin,
  ConversationNotFound…): the conversation is dead; mark it and reroute the alert to the duty
  channel.
- 404 ActivityNotFoundInConversation: the message to update is gone, not the conversation:
  reroute, do not mark dead.
- 400, 413 and other 4xx (BadArgument, MessageSizeTooBig): the message itself is refused:
  reroute a notice and raise the alarm.
- 401 (BotNotRegistered): the bot's registration or credentials are wrong for every
  conversation: give up and raise the alarm; mark nothing dead, reroute nothing (it would fail
  the same way).
- 500 and other 5xx: not retried. Teams lists 500 ServiceError as not retryable and says "bot
  must avoid retrying status codes that aren't specified"; rather than hammer a failing service,
  the alert is rerouted to the duty channel and the alarm raised, so it is still not lost.

Deviations from "400/401/403/404 are permanent: mark dead, reroute", and why: a 400 or 413 says
the card is wrong, not the conversation, and a 401 says the bot is misconfigured everywhere;
marking the conversation dead for either would wreck good references. A transient failure (412,
502, 503, 504, no answer) that runs out of attempts (5 by default) is escalated like a permanent
one: rerouted, alarm raised. A 429 is not: Teams is answering, and asks us to slow down.
"Reroute" means: send to the duty channel instead; when the failed send *was* to the duty channel
there is nowhere further in Teams, so the alarm is raised and the row shows as failed in
``status`` (SPEC §9 names e-mail as the later second route).

**Backoff**: exponential with full jitter (a random delay between 0 and ``base·2ⁿ⁻¹``, capped),
from an injectable random source.

**The e-mail route** (``MAIL_RETRY``) has its own, slower schedule: a relay being restarted is
down for minutes, not seconds, and the e-mail is the last copy of an alert Teams could not take.
It waits 30 s, 1, 2, 4, 8 minutes, then every 15 minutes, for 12 attempts in all (about 1 h 45 min
from the first), without jitter (one process sends the mail).

**Rate limits** (Teams, per bot per conversation): 7 sends a second, 8 in 2 seconds, 60 in 30
seconds, 1,800 an hour; and a global cap of 30 a second for the whole app. ``ConversationRateLimiter``
is pure bookkeeping over times it is given. It is per process: with several dispatcher processes
give each a share of the limits.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Final

from frontdoor.calendar import require_aware

__all__ = [
    "DEFAULT_BACKOFF",
    "GLOBAL_WINDOWS",
    "MAIL_RETRY",
    "TEAMS_CONVERSATION_WINDOWS",
    "Backoff",
    "Classification",
    "ConversationRateLimiter",
    "FailureKind",
    "RateWindow",
    "RetryPolicy",
    "SendDecision",
    "SendFailure",
    "classify",
    "parse_retry_after",
]


class FailureKind(StrEnum):
    #: 429: too many requests; wait as long as Teams says
    THROTTLED = "throttled"
    #: 412, 502, 503, 504, or no response at all: try again later
    TRANSIENT = "transient"
    #: 403, 404: the bot can no longer post in this conversation
    CONVERSATION_GONE = "conversation_gone"
    #: 404 ActivityNotFoundInConversation: the message to update no longer exists
    ACTIVITY_GONE = "activity_gone"
    #: 400, 413 and other 4xx: the message itself is refused
    REJECTED = "rejected"
    #: 401: the bot is not registered or its credentials are wrong, for every conversation
    BOT_UNAUTHORISED = "bot_unauthorised"
    #: 500 and 5xx not listed as retryable
    SERVICE_ERROR = "service_error"


@dataclass(frozen=True, slots=True)
class SendFailure:
    """What a failed send told us: the HTTP status (None when there was no response), the Teams
    error code if any, and the ``Retry-After`` wait if the response had one."""

    status: int | None
    code: str = ""
    retry_after: timedelta | None = None

    def describe(self) -> str:
        """E.g. ``HTTP 403 BotNotInConversationRoster``: safe to log and store (no content)."""
        head = "no response" if self.status is None else f"HTTP {self.status}"
        return f"{head} {self.code}".strip()


@dataclass(frozen=True, slots=True)
class Classification:
    kind: FailureKind
    retryable: bool
    #: mark the conversation reference dead (it shows in ``status``; a new message from the user
    #: or an installation update revives it)
    mark_dead: bool
    #: send the alert to the duty channel instead
    reroute: bool
    #: log at error level and show in ``status``: someone has to act
    alarm: bool


_RETRYABLE_STATUSES = frozenset({412, 502, 503, 504})
_ACTIVITY_GONE = "activitynotfoundinconversation"


def classify(failure: SendFailure) -> Classification:
    """What a failed send means (see the module docstring's table)."""
    status, code = failure.status, failure.code.strip().lower()
    if status is None or status in _RETRYABLE_STATUSES:
        return Classification(FailureKind.TRANSIENT, True, False, False, False)
    if status == 429:
        return Classification(FailureKind.THROTTLED, True, False, False, False)
    if status == 404 and code == _ACTIVITY_GONE:
        return Classification(FailureKind.ACTIVITY_GONE, False, False, True, False)
    if status in (403, 404):
        return Classification(FailureKind.CONVERSATION_GONE, False, True, True, False)
    if status == 401:
        return Classification(FailureKind.BOT_UNAUTHORISED, False, False, False, True)
    if 400 <= status < 500:
        return Classification(FailureKind.REJECTED, False, False, True, True)
    if status >= 500:
        return Classification(FailureKind.SERVICE_ERROR, False, False, True, True)
    # A 1xx-3xx reported as a failure: nothing says it may be retried, so do not.
    return Classification(FailureKind.SERVICE_ERROR, False, False, True, True)


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """A ``Retry-After`` header as a wait: delay-seconds (``"5"``) or an HTTP date; None when
    absent or unreadable. A date in the past is no wait."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - require_aware(now), timedelta(0))


# -- backoff --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter: before retry ``n`` (1, 2, …) wait a uniformly random
    time between 0 and ``min(cap, base · 2ⁿ⁻¹)``. ``random`` returns a float in [0, 1)."""

    base: timedelta = timedelta(seconds=2)
    cap: timedelta = timedelta(seconds=20)
    random: Callable[[], float] = field(default=random.random)

    def __post_init__(self) -> None:
        if self.base <= timedelta(0) or self.cap < self.base:
            raise ValueError("backoff needs 0 < base <= cap")

    def ceiling(self, attempt: int) -> timedelta:
        """The longest wait before retry ``attempt``."""
        if attempt < 1:
            raise ValueError(f"retries are counted from 1, got {attempt}")
        # 2**k overflows timedelta long before it matters: past the cap, it is the cap.
        if attempt > 32:
            return self.cap
        return min(self.cap, self.base * (1 << (attempt - 1)))

    def delay(self, attempt: int | None = None) -> timedelta:
        """The wait before retry ``attempt``; None: a retry past the cap (a throttled send, whose
        attempts are not counted)."""
        share = min(max(self.random(), 0.0), 1.0)
        return (self.cap if attempt is None else self.ceiling(attempt)) * share


DEFAULT_BACKOFF = Backoff()


@dataclass(frozen=True, slots=True)
class SendDecision:
    """What to do with an outbox row after a failed send."""

    classification: Classification
    #: when to try again; None: give up (mark the row failed)
    retry_at: datetime | None
    mark_dead: bool
    reroute: bool
    alarm: bool
    #: for the row's ``last_error`` and the log: status, code and why; never content
    reason: str

    @property
    def retry(self) -> bool:
        return self.retry_at is not None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry. ``max_attempts`` counts every attempt, the first
    included, so 5 means 4 retries."""

    max_attempts: int = 5
    backoff: Backoff = DEFAULT_BACKOFF
    #: a longer ``Retry-After`` is cut to this, so one odd header cannot park an alert for hours
    max_retry_after: timedelta = timedelta(minutes=10)

    def decide(
        self, failure: SendFailure, attempts: int, now: datetime, *, to_duty_channel: bool = False
    ) -> SendDecision:
        """The decision after attempt number ``attempts`` (1 for the first) failed at ``now``.
        ``to_duty_channel``: the failed send was to the duty channel, so rerouting there is
        pointless and the alarm is raised instead."""
        require_aware(now, "now")
        found = classify(failure)
        described = failure.describe()
        throttled = found.kind is FailureKind.THROTTLED
        if found.retryable and (throttled or attempts < self.max_attempts):
            # A throttled try gives its attempt back (the row's count does not grow), so without a
            # Retry-After it waits as a retry past the backoff's cap, not as the first retry.
            wait = self.backoff.delay(None if throttled else attempts)
            if failure.retry_after is not None:
                wait = min(failure.retry_after, self.max_retry_after)
            # Throttling is retried for as long as it lasts (SPEC §7): Teams is up and answering.
            retry = f"retry {attempts} of {self.max_attempts - 1}"
            if throttled:
                retry = "retried until Teams takes it"
            return SendDecision(found, now + wait, False, False, False, f"{described}: {retry}")
        reroute, alarm = found.reroute, found.alarm
        if found.retryable:
            reroute, alarm = True, True
            described = f"{described}: gave up after {attempts} attempts"
        if to_duty_channel and reroute:
            reroute, alarm = False, True
        return SendDecision(found, None, found.mark_dead, reroute, alarm, f"{described} ({found.kind.value})")


def _no_jitter() -> float:
    return 1.0


#: The e-mail route's retries (see the module docstring): 30 s, 1, 2, 4, 8 min, then every 15 min,
#: 12 attempts in all, so a relay restarted or down for well over an hour loses nothing.
MAIL_RETRY: Final = RetryPolicy(
    max_attempts=12,
    backoff=Backoff(base=timedelta(seconds=30), cap=timedelta(minutes=15), random=_no_jitter),
)


# -- rate limits ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateWindow:
    """At most ``limit`` sends in any ``span``."""

    span: timedelta
    limit: int

    def __post_init__(self) -> None:
        if self.span <= timedelta(0) or self.limit < 1:
            raise ValueError("a rate window needs a positive span and limit")


#: Teams' per-bot, per-conversation limits for sending.
TEAMS_CONVERSATION_WINDOWS: tuple[RateWindow, ...] = (
    RateWindow(timedelta(seconds=1), 7),
    RateWindow(timedelta(seconds=2), 8),
    RateWindow(timedelta(seconds=30), 60),
    RateWindow(timedelta(hours=1), 1800),
)
#: The whole app, across conversations (Teams documents 30 or 50 per second; plan for 30).
GLOBAL_WINDOWS: tuple[RateWindow, ...] = (RateWindow(timedelta(seconds=1), 30),)


class _SendLog:
    """Send times, sorted, trimmed to what the longest window can still see."""

    def __init__(self, windows: Sequence[RateWindow]) -> None:
        self._windows = tuple(windows)
        self._longest = max((w.span for w in self._windows), default=timedelta(0))
        self._keep = max((w.limit for w in self._windows), default=0)
        self.times: list[datetime] = []

    def earliest(self) -> datetime | None:
        """The earliest time the next send keeps every window (None: any time)."""
        earliest: datetime | None = None
        for window in self._windows:
            if len(self.times) >= window.limit:
                # The ``limit``-th most recent send must have left the window.
                candidate = self.times[-window.limit] + window.span
                earliest = candidate if earliest is None else max(earliest, candidate)
        return earliest

    def add(self, at: datetime) -> None:
        bisect.insort(self.times, at)
        horizon = self.times[-1] - self._longest
        drop = bisect.bisect_right(self.times, horizon)
        # Only the most recent ``_keep`` sends can matter to any window.
        drop = max(drop, len(self.times) - self._keep)
        if drop > 0:
            del self.times[:drop]

    def last(self) -> datetime | None:
        return self.times[-1] if self.times else None


class ConversationRateLimiter:
    """Keeps one process's sends under Teams' limits per conversation and in total.

    Ask ``delay_before_send`` before each send, wait that long, send, then ``record_send`` with
    the time of the attempt (a throttled attempt counts too). ``hold`` a conversation until a
    ``Retry-After`` has passed. Times must be timezone-aware and, across calls, not go backwards
    by more than the longest window.
    """

    def __init__(
        self,
        per_conversation: Sequence[RateWindow] = TEAMS_CONVERSATION_WINDOWS,
        overall: Sequence[RateWindow] = GLOBAL_WINDOWS,
    ) -> None:
        self._per_conversation = tuple(per_conversation)
        self._overall = _SendLog(overall)
        self._logs: dict[str, _SendLog] = {}
        self._held: dict[str, datetime] = {}
        self._idle_after = max((w.span for w in self._per_conversation), default=timedelta(0))

    def delay_before_send(self, conversation_id: str, now: datetime) -> timedelta:
        """How long to wait from ``now`` before sending to ``conversation_id`` (zero: send now)."""
        now = require_aware(now, "now").astimezone(UTC)
        candidates = [self._overall.earliest(), self._held.get(conversation_id)]
        log = self._logs.get(conversation_id)
        if log is not None:
            candidates.append(log.earliest())
        earliest = max((moment for moment in candidates if moment is not None), default=now)
        return max(earliest - now, timedelta(0))

    def record_send(self, conversation_id: str, at: datetime) -> None:
        at = require_aware(at, "at").astimezone(UTC)
        log = self._logs.get(conversation_id)
        if log is None:
            log = self._logs[conversation_id] = _SendLog(self._per_conversation)
        log.add(at)
        self._overall.add(at)

    def hold(self, conversation_id: str, until: datetime) -> None:
        """Send nothing more to ``conversation_id`` before ``until`` (after a 429)."""
        until = require_aware(until, "until").astimezone(UTC)
        self._held[conversation_id] = max(until, self._held.get(conversation_id, until))

    def forget_idle(self, now: datetime) -> int:
        """Drop what is known about conversations idle for longer than the longest window (it can
        no longer delay anything); returns how many were dropped."""
        now = require_aware(now, "now").astimezone(UTC)
        idle = [
            cid
            for cid, log in self._logs.items()
            if (last := log.last()) is None or last + self._idle_after <= now
        ]
        for cid in idle:
            del self._logs[cid]
        for cid in [cid for cid, until in self._held.items() if until <= now]:
            del self._held[cid]
        return len(idle)

    @property
    def memory(self) -> timedelta:
        """How far back a send can still delay the next one (the longest per-conversation window)."""
        return self._idle_after

    @property
    def tracked(self) -> int:
        """How many conversations are being tracked (for tests and status)."""
        return len(self._logs)
