"""Sending to Teams: what each failure means, how long to wait before retrying, and keeping every
conversation (and the app as a whole) under Teams' rate limits, whatever the send times."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontdoor.delivery import (
    GLOBAL_WINDOWS,
    MAIL_RETRY,
    TEAMS_CONVERSATION_WINDOWS,
    Backoff,
    ConversationRateLimiter,
    FailureKind,
    RateWindow,
    RetryPolicy,
    SendFailure,
    classify,
    parse_retry_after,
)

NOW = datetime(2026, 6, 8, 12, 0, tzinfo=UTC)
F = FailureKind
SECOND = timedelta(seconds=1)


def fixed(value: float) -> Backoff:
    return Backoff(random=lambda: value)


# -- classification -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "kind", "retryable", "mark_dead", "reroute", "alarm"),
    [
        (429, "Throttled", F.THROTTLED, True, False, False, False),
        (412, "PreconditionFailed", F.TRANSIENT, True, False, False, False),
        (502, "ServiceError", F.TRANSIENT, True, False, False, False),
        (503, "ServiceUnavailable", F.TRANSIENT, True, False, False, False),
        (504, "GatewayTimeout", F.TRANSIENT, True, False, False, False),
        (None, "", F.TRANSIENT, True, False, False, False),
        (403, "BotNotInConversationRoster", F.CONVERSATION_GONE, False, True, True, False),
        (403, "ConversationBlockedByUser", F.CONVERSATION_GONE, False, True, True, False),
        (403, "BotDisabledByAdmin", F.CONVERSATION_GONE, False, True, True, False),
        (403, "", F.CONVERSATION_GONE, False, True, True, False),
        (404, "ConversationNotFound", F.CONVERSATION_GONE, False, True, True, False),
        (404, "ActivityNotFoundInConversation", F.ACTIVITY_GONE, False, False, True, False),
        (400, "BadArgument", F.REJECTED, False, False, True, True),
        (413, "MessageSizeTooBig", F.REJECTED, False, False, True, True),
        (409, "", F.REJECTED, False, False, True, True),
        (401, "BotNotRegistered", F.BOT_UNAUTHORISED, False, False, False, True),
        (500, "ServiceError", F.SERVICE_ERROR, False, False, True, True),
        (501, "", F.SERVICE_ERROR, False, False, True, True),
    ],
)
def test_classification(
    status: int | None,
    code: str,
    kind: FailureKind,
    retryable: bool,
    mark_dead: bool,
    reroute: bool,
    alarm: bool,
) -> None:
    found = classify(SendFailure(status, code))
    assert (found.kind, found.retryable, found.mark_dead, found.reroute, found.alarm) == (
        kind,
        retryable,
        mark_dead,
        reroute,
        alarm,
    )


def test_a_failure_describes_itself_without_content() -> None:
    assert SendFailure(403, "BotNotInConversationRoster").describe() == "HTTP 403 BotNotInConversationRoster"
    assert SendFailure(None).describe() == "no response"


# -- decisions ------------------------------------------------------------------------------------


def test_a_429_waits_as_long_as_retry_after_says() -> None:
    decision = RetryPolicy(backoff=fixed(0.9)).decide(SendFailure(429, "Throttled", 7 * SECOND), 1, NOW)
    assert decision.retry and decision.retry_at == NOW + 7 * SECOND
    assert not (decision.mark_dead or decision.reroute or decision.alarm)


def test_a_429_without_retry_after_backs_off() -> None:
    decision = RetryPolicy(backoff=fixed(0.5)).decide(SendFailure(429), 3, NOW)
    # half of the 20 s cap: a throttle's attempt is given back, so the count says nothing of how
    # long Teams has been throttling
    assert decision.retry_at == NOW + 10 * SECOND


def test_a_very_long_retry_after_is_cut_to_the_maximum() -> None:
    decision = RetryPolicy().decide(SendFailure(429, retry_after=timedelta(hours=3)), 1, NOW)
    assert decision.retry_at == NOW + timedelta(minutes=10)


def test_a_503_retries_up_to_five_attempts_then_escalates() -> None:
    policy = RetryPolicy(backoff=fixed(0.999))
    waits = []
    for attempt in range(1, 5):
        decision = policy.decide(SendFailure(503), attempt, NOW)
        assert decision.retry_at is not None, attempt
        waits.append(decision.retry_at - NOW)
    assert [round(wait.total_seconds()) for wait in waits] == [2, 4, 8, 16]
    last = policy.decide(SendFailure(503, "ServiceUnavailable"), 5, NOW)
    assert not last.retry
    assert (last.mark_dead, last.reroute, last.alarm) == (False, True, True)
    assert last.reason == "HTTP 503 ServiceUnavailable: gave up after 5 attempts (transient)"


def test_a_429_is_retried_for_as_long_as_teams_throttles_never_given_up() -> None:
    """SPEC §7: the outbox retries on 429; only 403 and 404 are permanent. The attempts cap is for
    transient failures, so the hundredth 429 still waits as long as Retry-After says."""
    policy = RetryPolicy(backoff=fixed(0.5))
    for attempt in (4, 5, 6, 100):
        decision = policy.decide(SendFailure(429, "Throttled", 7 * SECOND), attempt, NOW)
        assert decision.retry_at == NOW + 7 * SECOND, attempt
        assert not (decision.mark_dead or decision.reroute or decision.alarm)
        assert decision.reason == "HTTP 429 Throttled: retried until Teams takes it"
    # Without Retry-After: the backoff, at its cap, even on the first (a throttle's attempt is given
    # back, so the row's count does not grow with the throttling).
    for attempt in (1, 40):
        assert policy.decide(SendFailure(429), attempt, NOW).retry_at == NOW + 10 * SECOND


def test_the_mail_route_waits_long_enough_to_outlast_a_relay_restart() -> None:
    waits: list[timedelta] = []
    for attempt in range(1, MAIL_RETRY.max_attempts):
        decision = MAIL_RETRY.decide(SendFailure(None, "SMTPConnectError"), attempt, NOW)
        assert decision.retry_at is not None, attempt
        waits.append(decision.retry_at - NOW)
    assert [round(wait.total_seconds() / 60, 1) for wait in waits] == [0.5, 1, 2, 4, 8] + [15] * 6
    assert sum(waits[:4], timedelta()) > timedelta(minutes=5)  # four attempts cover a 5-minute restart
    assert not MAIL_RETRY.decide(SendFailure(None), MAIL_RETRY.max_attempts, NOW).retry


def test_a_503_with_retry_after_honours_it() -> None:
    decision = RetryPolicy(backoff=fixed(0.1)).decide(SendFailure(503, retry_after=30 * SECOND), 2, NOW)
    assert decision.retry_at == NOW + 30 * SECOND


def test_a_403_marks_the_conversation_dead_and_reroutes_at_once() -> None:
    decision = RetryPolicy().decide(SendFailure(403, "ConversationBlockedByUser"), 1, NOW)
    assert not decision.retry
    assert (decision.mark_dead, decision.reroute, decision.alarm) == (True, True, False)
    assert decision.reason == "HTTP 403 ConversationBlockedByUser (conversation_gone)"


def test_a_permanent_failure_in_the_duty_channel_raises_the_alarm_instead_of_rerouting() -> None:
    decision = RetryPolicy().decide(SendFailure(404, "ConversationNotFound"), 1, NOW, to_duty_channel=True)
    assert (decision.retry, decision.mark_dead, decision.reroute, decision.alarm) == (
        False,
        True,
        False,
        True,
    )
    exhausted = RetryPolicy().decide(SendFailure(502), 5, NOW, to_duty_channel=True)
    assert (exhausted.retry, exhausted.reroute, exhausted.alarm) == (False, False, True)


def test_a_401_fails_loudly_and_marks_nothing_dead() -> None:
    decision = RetryPolicy().decide(SendFailure(401, "BotNotRegistered"), 1, NOW)
    assert (decision.retry, decision.mark_dead, decision.reroute, decision.alarm) == (
        False,
        False,
        False,
        True,
    )


def test_a_500_is_not_retried_but_rerouted() -> None:
    decision = RetryPolicy().decide(SendFailure(500, "ServiceError"), 1, NOW)
    assert (decision.retry, decision.mark_dead, decision.reroute, decision.alarm) == (
        False,
        False,
        True,
        True,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5 * SECOND),
        (" 12 ", 12 * SECOND),
        ("0", timedelta(0)),
        (format_datetime(NOW + 30 * SECOND, usegmt=True), 30 * SECOND),
        (format_datetime(NOW - 30 * SECOND, usegmt=True), timedelta(0)),
        ("soon", None),
        ("-3", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after(value: str | None, expected: timedelta | None) -> None:
    assert parse_retry_after(value, NOW) == expected


# -- backoff --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempt", "ceiling"), [(1, 2), (2, 4), (3, 8), (4, 16), (5, 20), (6, 20), (33, 20), (10_000, 20)]
)
def test_the_backoff_ceiling_doubles_up_to_the_cap(attempt: int, ceiling: int) -> None:
    assert Backoff().ceiling(attempt) == ceiling * SECOND


@given(
    attempt=st.integers(min_value=1, max_value=10_000),
    share=st.floats(min_value=0, max_value=1, exclude_max=True),
    base_ms=st.integers(min_value=1, max_value=10_000),
    extra_ms=st.integers(min_value=0, max_value=100_000),
)
def test_backoff_stays_within_zero_and_the_ceiling(
    attempt: int, share: float, base_ms: int, extra_ms: int
) -> None:
    base = timedelta(milliseconds=base_ms)
    cap = base + timedelta(milliseconds=extra_ms)
    backoff = Backoff(base, cap, random=lambda: share)
    ceiling = backoff.ceiling(attempt)
    assert base <= ceiling <= cap
    assert ceiling == min(cap, base * 2 ** min(attempt - 1, 40))
    delay = backoff.delay(attempt)
    assert timedelta(0) <= delay <= ceiling
    if attempt > 1:
        assert backoff.ceiling(attempt - 1) <= ceiling


def test_backoff_uses_the_random_source_for_full_jitter() -> None:
    values = iter([0.0, 0.25, 0.999999])
    backoff = Backoff(random=lambda: next(values))
    assert [backoff.delay(4) for _ in range(3)] == [timedelta(0), 4 * SECOND, 16 * SECOND * 0.999999]
    assert Backoff(random=lambda: 7.0).delay(1) == 2 * SECOND  # a bad source cannot exceed the ceiling


def test_backoff_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        Backoff(base=timedelta(0))
    with pytest.raises(ValueError):
        Backoff(base=10 * SECOND, cap=SECOND)
    with pytest.raises(ValueError):
        Backoff().ceiling(0)


# -- rate limits ----------------------------------------------------------------------------------


def most_in_any_window(times: Sequence[datetime], span: timedelta) -> int:
    """The most sends in any half-open window of length ``span``."""
    ordered = sorted(times)
    return max((bisect.bisect_left(ordered, t + span) - i for i, t in enumerate(ordered)), default=0)


def send_asap(
    limiter: ConversationRateLimiter, wanted: Sequence[tuple[str, datetime]]
) -> dict[str, list[datetime]]:
    """Send each (conversation, wanted time) in order, as soon as the limiter allows; a sender
    cannot go back in time, so each send is at or after the one before."""
    sent: dict[str, list[datetime]] = {}
    clock = wanted[0][1] if wanted else NOW
    for conversation, at in wanted:
        clock = max(clock, at)
        wait = limiter.delay_before_send(conversation, clock)
        assert wait >= timedelta(0)
        clock += wait
        assert limiter.delay_before_send(conversation, clock) == timedelta(0)
        limiter.record_send(conversation, clock)
        sent.setdefault(conversation, []).append(clock)
    return sent


def test_seven_sends_a_second_then_a_wait() -> None:
    limiter = ConversationRateLimiter()
    for _ in range(7):
        assert limiter.delay_before_send("conv-1", NOW) == timedelta(0)
        limiter.record_send("conv-1", NOW)
    assert limiter.delay_before_send("conv-1", NOW) == SECOND
    assert limiter.delay_before_send("conv-2", NOW) == timedelta(0)  # another conversation


def test_the_sixty_in_thirty_seconds_limit() -> None:
    limiter = ConversationRateLimiter()
    sent = send_asap(limiter, [("conv-1", NOW)] * 61)["conv-1"]
    assert sent[59] < NOW + 30 * SECOND
    assert sent[60] == sent[0] + 30 * SECOND
    assert most_in_any_window(sent, SECOND) == 7
    assert most_in_any_window(sent, 2 * SECOND) == 8


def test_the_hourly_limit_holds_over_a_long_burst() -> None:
    limiter = ConversationRateLimiter()
    sent = send_asap(limiter, [("conv-1", NOW)] * 1850)["conv-1"]
    for window in TEAMS_CONVERSATION_WINDOWS:
        assert most_in_any_window(sent, window.span) == window.limit, window
    assert sent[1800] >= sent[0] + timedelta(hours=1)


def test_the_global_cap_spans_conversations() -> None:
    limiter = ConversationRateLimiter()
    for index in range(30):
        limiter.record_send(f"conv-{index}", NOW)
    assert limiter.delay_before_send("conv-new", NOW) == SECOND
    assert [window.limit for window in GLOBAL_WINDOWS] == [30]


def test_a_held_conversation_waits_until_the_hold_ends() -> None:
    limiter = ConversationRateLimiter()
    limiter.hold("conv-1", NOW + 5 * SECOND)
    limiter.hold("conv-1", NOW + 2 * SECOND)  # a shorter hold does not cut a longer one
    assert limiter.delay_before_send("conv-1", NOW) == 5 * SECOND
    assert limiter.delay_before_send("conv-1", NOW + 6 * SECOND) == timedelta(0)
    assert limiter.delay_before_send("conv-2", NOW) == timedelta(0)


def test_idle_conversations_are_forgotten() -> None:
    limiter = ConversationRateLimiter()
    limiter.record_send("conv-1", NOW)
    limiter.record_send("conv-2", NOW + timedelta(minutes=30))
    assert limiter.forget_idle(NOW + timedelta(hours=1)) == 1
    assert limiter.tracked == 1


SMALL_WINDOWS = (RateWindow(SECOND, 3), RateWindow(5 * SECOND, 5), RateWindow(60 * SECOND, 12))
SMALL_GLOBAL = (RateWindow(SECOND, 4),)


@settings(max_examples=200, deadline=None)
@given(
    wanted=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(min_value=0, max_value=120_000)),
        min_size=1,
        max_size=120,
    )
)
def test_no_window_is_ever_exceeded_whatever_the_send_times(wanted: list[tuple[str, int]]) -> None:
    limiter = ConversationRateLimiter(SMALL_WINDOWS, SMALL_GLOBAL)
    times = sorted(
        ((conv, NOW + timedelta(milliseconds=ms)) for conv, ms in wanted), key=lambda item: item[1]
    )
    sent = send_asap(limiter, times)
    for conversation_times in sent.values():
        for window in SMALL_WINDOWS:
            assert most_in_any_window(conversation_times, window.span) <= window.limit
    everything = [moment for conversation_times in sent.values() for moment in conversation_times]
    assert len(everything) == len(wanted)
    for window in SMALL_GLOBAL:
        assert most_in_any_window(everything, window.span) <= window.limit


@settings(max_examples=100, deadline=None)
@given(
    wanted=st.lists(st.integers(min_value=0, max_value=20_000), min_size=1, max_size=60),
)
def test_the_limiter_waits_no_longer_than_it_must(wanted: list[int]) -> None:
    """Sending a microsecond before the time it gives would break a window."""
    limiter = ConversationRateLimiter(SMALL_WINDOWS, ())
    sent: list[datetime] = []
    clock = NOW
    for ms in sorted(wanted):
        clock = max(clock, NOW + timedelta(milliseconds=ms))
        wait = limiter.delay_before_send("a", clock)
        if wait > timedelta(0):
            early = clock + wait - timedelta(microseconds=1)
            assert any(
                most_in_any_window([*sent, early], window.span) > window.limit for window in SMALL_WINDOWS
            )
        clock += wait
        limiter.record_send("a", clock)
        sent.append(clock)
