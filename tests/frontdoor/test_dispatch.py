"""The alert use cases against the in-memory store, SQLite and PostgreSQL: planning exactly once,
the parent-letter lapse before planning, the dispatcher's retries, reroutes, deferrals and rate
limits (with a scripted ``AlertSender`` in place of Teams, and a fake time the dispatcher sleeps
on), and "I've got this" with the first taker winning. The Teams side is tested end to end in
``tests/bot/test_alerts.py``."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.mail import SmtpAlertMailer
from bot.settings import SmtpSettings
from frontdoor.acting import Rules, Who
from frontdoor.alert_taking import AlertTaken, acknowledge_alert, alert_copies, may_take
from frontdoor.alert_tick import deadline_horizon, plan_alerts, run_tick
from frontdoor.alerts import (
    DUTY_CHANNEL,
    AlertKey,
    AlertKind,
    OutboxItem,
    OutboxState,
    Recipient,
)
from frontdoor.calendar import WorkingCalendar
from frontdoor.casework import ParentLetterSent, record_parents_unreachable
from frontdoor.delivery import Backoff, RetryPolicy, SendFailure
from frontdoor.dispatch import AlertMail, AlertNotice, Dispatcher, DispatchLimits, SendReport
from frontdoor.policy import default_policy
from frontdoor.records import (
    ChannelPurpose,
    ChannelRegistration,
    ClockKind,
    ConversationKind,
    ConversationRecord,
    Deadline,
    RotaEntry,
)
from frontdoor.roles import Role
from frontdoor.unit_of_work import Store
from frontdoor.usecase import Refusal, RefusalReason
from store.sql import SqlStore
from store.tables import AlertOutboxRow
from tests.fakes import InMemoryStore
from tests.frontdoor.decision_builders import ROLES, ROUTE_IV, SW, screened, seat, submitted
from tests.smtp_server import HOST, LocalSmtp

POLICY = default_policy()
CALENDAR = WorkingCalendar()
T0 = datetime(2026, 6, 8, 9, 0, tzinfo=UTC)  # Monday 8 June 2026, 10:00 in London
CP_DUE = T0 + timedelta(hours=2)
DUTY_CONVERSATION = "19:duty@thread.tacv2"
WORKER = "aad-worker-1"
CONSULTANT = "aad-consultant-1"
DM_MAIL = "duty.manager@example.org"


class FakeTime:
    """A clock the dispatcher also sleeps on: sleeping moves it on at once."""

    def __init__(self, start: datetime) -> None:
        self.moment = start
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.moment

    def advance(self, delta: timedelta) -> None:
        self.moment += delta

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.moment += timedelta(seconds=seconds)


@dataclass
class ScriptedSender:
    """Teams as a script: per conversation, the next answers (then success); each send takes
    ``latency`` of the fake time."""

    time: FakeTime
    script: dict[str, list[SendFailure | str]] = field(default_factory=dict)
    latency: timedelta = timedelta(milliseconds=40)
    #: (conversation, alert key text, outbox key, when the send started)
    sends: list[tuple[str, str, str, datetime]] = field(default_factory=list)

    async def send(self, item: OutboxItem, conversation_id: str, now: datetime) -> SendReport:
        AlertNotice.of(item)  # a row the dispatcher hands over is always readable
        self.sends.append((conversation_id, item.alert_key.text, item.key, self.time.now()))
        self.time.advance(self.latency)
        answers = self.script.get(conversation_id, [])
        answer = answers.pop(0) if answers else None
        if isinstance(answer, SendFailure):
            return SendReport(conversation_id=conversation_id, failure=answer)
        if isinstance(answer, str):
            return SendReport(conversation_id=conversation_id, unreachable=answer)
        return SendReport(activity_id=f"activity-{len(self.sends)}", conversation_id=conversation_id)

    def to(self, conversation_id: str) -> list[tuple[str, str, str, datetime]]:
        return [send for send in self.sends if send[0] == conversation_id]


def dispatcher(store: Store, time: FakeTime, sender: ScriptedSender, **options: object) -> Dispatcher:
    return Dispatcher(store.unit_of_work, sender, time, rate_clock=time, sleep=time.sleep, **options)  # type: ignore[arg-type]


async def places(store: Store, *people: str, duty: bool = True) -> None:
    """Personal chats for ``people`` and, unless told not to, a registered duty channel."""
    async with store.unit_of_work() as uow:
        for person in people:
            await uow.conversations.upsert(
                ConversationRecord(
                    f"a:chat-{person}",
                    ConversationKind.PERSONAL,
                    "tenant",
                    "https://x/",
                    "{}",
                    T0,
                    user_id=person,
                )
            )
        if duty:
            await uow.conversations.upsert(
                ConversationRecord(
                    DUTY_CONVERSATION, ConversationKind.CHANNEL, "tenant", "https://x/", "{}", T0
                )
            )
            await uow.channels.register(
                ChannelRegistration(ChannelPurpose.DUTY, DUTY_CONVERSATION, "admin", T0)
            )
        await uow.commit()


async def clocks(
    store: Store, count: int = 1, *, assignee: str | None = WORKER, start: datetime = T0
) -> None:
    async with store.unit_of_work() as uow:
        for index in range(count):
            await uow.deadlines.add(
                Deadline(
                    f"CT-26-{index + 1:06d}",
                    ClockKind.CP_DECISION,
                    start,
                    start + timedelta(hours=2),
                    assignee_id=assignee,
                )
            )
        await uow.commit()


async def rows(store: Store) -> list[OutboxItem]:
    """Every outbox row, oldest first."""
    if isinstance(store, InMemoryStore):
        return sorted(store.outbox.rows.values(), key=lambda item: item.id)
    assert isinstance(store, SqlStore)
    async with store.unit_of_work() as uow:
        ids = list(
            (await uow.session.execute(select(AlertOutboxRow.id).order_by(AlertOutboxRow.id))).scalars()
        )
        return [item for row_id in ids if (item := await uow.alerts.get(row_id)) is not None]


# -- planning ---------------------------------------------------------------------------------------


def test_the_tick_reads_far_enough_ahead_for_every_clock() -> None:
    horizon = deadline_horizon(POLICY)
    assert horizon >= timedelta(hours=POLICY.timescales.completion_48h_hours)
    assert horizon >= timedelta(days=7 * POLICY.timescales.parent_letter_working_days)


async def test_planning_enqueues_each_alert_once_however_often_and_however_concurrently_it_runs(
    store: Store,
) -> None:
    await clocks(store, 6)
    moment, runs = T0, 0
    while moment <= CP_DUE + timedelta(hours=2):
        await asyncio.gather(
            *(plan_alerts(store.unit_of_work, rules=Rules(moment, CALENDAR, POLICY)) for _ in range(3))
        )
        moment += timedelta(minutes=5)
        runs += 3
    found = Counter(
        (item.subject, item.alert_key.kind, item.alert_key.sequence, item.recipient)
        for item in await rows(store)
    )
    assert set(found.values()) == {1}
    per_clock = Counter((kind, sequence) for (_, kind, sequence, _) in found)
    # Each goes to its worker, and the breach and its repeats to the channel too.
    assert per_clock == {
        (AlertKind.DUE_SOON, 0): 6,
        (AlertKind.BREACHED, 0): 12,
        (AlertKind.REPEAT, 1): 12,
        (AlertKind.REPEAT, 2): 12,
        (AlertKind.ESCALATION, 0): 6,  # nobody is a team manager: the duty channel alone
    }
    print(f"\n{len(found)} rows for 6 clocks after {runs} planning runs, 3 at a time")


async def test_planning_runs_the_letter_lapse_first_and_tells_the_worker_once(store: Store) -> None:
    await seat(store)
    easter = WorkingCalendar(non_working_dates=frozenset({date(2026, 4, 3), date(2026, 4, 6)}))
    start = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
    contact = await screened(store, await submitted(store, now=start), ROUTE_IV)
    sent = await record_parents_unreachable(
        store.unit_of_work(),
        contact.id,
        contact.version,
        who=Who(SW, ROLES[SW]),
        rules=Rules(start, easter, POLICY),
    )
    assert isinstance(sent, ParentLetterSent) and sent.lapses_at == datetime(2026, 4, 9, 9, 0, tzinfo=UTC)
    reference = contact.reference or ""

    first = await run_tick(store.unit_of_work, rules=Rules(sent.lapses_at, easter, POLICY))
    again = await run_tick(
        store.unit_of_work,
        rules=Rules(sent.lapses_at + timedelta(minutes=1), easter, POLICY),
    )
    assert first.lapsed == (reference,) and again.lapsed == ()
    lapsed = [item for item in await rows(store) if item.kind is AlertKind.LETTER_LAPSED]
    assert [(item.subject, item.recipient) for item in lapsed] == [(reference, Recipient.person(SW))]
    notice = AlertNotice.of(lapsed[0])
    assert notice.review_due == datetime(2026, 4, 10, 9, 0, tzinfo=UTC) and notice.assignee_id == SW
    assert lapsed[0].due_at == sent.lapses_at  # its own time is the lapse
    # The letter's clock was closed before planning looked at it: no breach of it.
    assert not [
        item
        for item in await rows(store)
        if item.clock is ClockKind.PARENT_LETTER and item.kind is AlertKind.BREACHED
    ]


# -- the dispatcher ---------------------------------------------------------------------------------


async def test_a_retryable_failure_that_never_clears_is_rerouted_and_a_failing_reroute_just_fails(
    store: Store,
) -> None:
    await places(store, WORKER)
    await clocks(store)
    time = FakeTime(CP_DUE)
    unavailable = SendFailure(503, "ServiceUnavailable")
    sender = ScriptedSender(time, {f"a:chat-{WORKER}": [unavailable] * 10})
    await plan_alerts(store.unit_of_work, rules=Rules(CP_DUE, CALENDAR, POLICY))
    retry = RetryPolicy(max_attempts=3, backoff=Backoff(random=lambda: 0.5))
    send = dispatcher(store, time, sender, retry=retry)
    # The channel's own copy of the breach goes; the worker's waits: 2 s base, jitter at a half.
    report = await send.dispatch_due()
    assert (report.sent, report.retried) == (1, 1)
    [waiting] = [item for item in await rows(store) if item.state is OutboxState.PENDING]
    assert waiting.next_attempt_at == CP_DUE + timedelta(seconds=1)
    # From now on the duty channel fails too.
    sender.script[DUTY_CONVERSATION] = [unavailable] * 10
    for _ in range(10):
        time.advance(timedelta(seconds=30))
        await send.dispatch_due()

    found = await rows(store)
    worker_row = next(item for item in found if item.recipient == Recipient.person(WORKER))
    rerouted = next(item for item in found if item.rerouted)
    assert (worker_row.state, worker_row.attempts) == (OutboxState.FAILED, 3)
    assert worker_row.last_error == "HTTP 503 ServiceUnavailable: gave up after 3 attempts (transient)"
    assert (rerouted.state, rerouted.attempts, rerouted.recipient) == (OutboxState.FAILED, 3, DUTY_CHANNEL)
    assert AlertNotice.of(rerouted).rerouted_from == Recipient.person(WORKER)
    assert len([item for item in found if item.rerouted]) == 1  # a failed reroute is not rerouted again
    assert len(sender.to(f"a:chat-{WORKER}")) == 3
    assert len(sender.to(DUTY_CONVERSATION)) == 1 + 3


@pytest.mark.parametrize(
    ("failure", "rerouted"),
    [
        (SendFailure(400, "BadArgument"), True),
        (SendFailure(403, "BotNotInConversationRoster"), True),
        (SendFailure(404, "ConversationNotFound"), True),
        (SendFailure(500, "InternalServerError"), True),
        # The bot's credentials are wrong for every conversation: rerouting would fail the same way.
        (SendFailure(401, "BotNotRegistered"), False),
    ],
    ids=["400", "403", "404", "500", "401"],
)
async def test_a_permanent_failure_is_given_up_at_once(
    store: Store, failure: SendFailure, rerouted: bool
) -> None:
    await places(store, WORKER)
    await clocks(store)
    time = FakeTime(CP_DUE)
    sender = ScriptedSender(time, {f"a:chat-{WORKER}": [failure]})
    await plan_alerts(store.unit_of_work, rules=Rules(CP_DUE, CALENDAR, POLICY))
    report = await dispatcher(store, time, sender).dispatch_due()
    assert (report.failed, report.rerouted, report.retried) == (1, int(rerouted), 0)
    [failed] = [item for item in await rows(store) if item.state is OutboxState.FAILED]
    assert failed.attempts == 1 and failed.last_error.startswith(failure.describe())
    assert len(sender.to(DUTY_CONVERSATION)) == 1 + int(rerouted)


async def test_an_alert_waiting_for_a_retry_is_withdrawn_once_its_clock_stops(store: Store) -> None:
    """A breach held back by a 503 is not sent after the decision that met its clock: withdrawn,
    not failed (nothing to reroute), while the other clock's alerts still go."""
    await places(store, WORKER)
    await clocks(store, 2)
    time = FakeTime(CP_DUE)
    unavailable = SendFailure(503, "ServiceUnavailable")
    sender = ScriptedSender(time, {f"a:chat-{WORKER}": [unavailable, unavailable]})
    await plan_alerts(store.unit_of_work, rules=Rules(CP_DUE, CALENDAR, POLICY))
    first = await dispatcher(store, time, sender).dispatch_due()
    assert (first.sent, first.retried) == (2, 2)  # the duty channel's copies went; the worker's wait
    sends_before = len(sender.sends)
    async with store.unit_of_work() as uow:
        cp = ClockKind.CP_DECISION.value
        assert await uow.deadlines.close("CT-26-000001", cp, "met", CP_DUE, closed_by=CONSULTANT) == 1
        await uow.commit()
    time.advance(timedelta(minutes=5))
    second = await dispatcher(store, time, sender).dispatch_due()
    assert (second.claimed, second.sent, second.withdrawn, second.failed) == (2, 1, 1, 0)
    withdrawn = [item for item in await rows(store) if item.state is OutboxState.WITHDRAWN]
    assert [item.subject for item in withdrawn] == ["CT-26-000001"]
    [(conversation, key, *_)] = sender.sends[sends_before:]
    assert conversation == f"a:chat-{WORKER}" and "CT-26-000002" in key
    async with store.unit_of_work() as uow:
        assert (await uow.alerts.counts())[OutboxState.WITHDRAWN] == 1
        assert await uow.alerts.failed() == []


async def test_someone_without_a_chat_with_the_bot_is_reached_through_the_duty_channel(store: Store) -> None:
    await places(store)  # the worker never opened a chat with the bot
    await clocks(store)
    time = FakeTime(CP_DUE)
    sender = ScriptedSender(time)
    await plan_alerts(store.unit_of_work, rules=Rules(CP_DUE, CALENDAR, POLICY))
    report = await dispatcher(store, time, sender).dispatch_due()
    assert (report.claimed, report.sent, report.failed, report.rerouted) == (3, 2, 1, 1)
    failed = [item for item in await rows(store) if item.state is OutboxState.FAILED]
    assert [item.last_error for item in failed] == ["NoPersonalChat: no conversation to send to"]
    assert [conversation for conversation, *_ in sender.sends] == [DUTY_CONVERSATION] * 2


async def test_without_a_duty_channel_an_alert_for_it_fails_visibly(store: Store) -> None:
    await places(store, WORKER, duty=False)
    await clocks(store)
    time = FakeTime(CP_DUE)
    await plan_alerts(store.unit_of_work, rules=Rules(CP_DUE, CALENDAR, POLICY))
    report = await dispatcher(store, time, ScriptedSender(time)).dispatch_due()
    assert (report.sent, report.failed, report.rerouted) == (1, 1, 0)
    async with store.unit_of_work() as uow:
        [failed] = await uow.alerts.failed()
    assert failed.recipient == DUTY_CHANNEL and failed.last_error.startswith("NoChannel")


async def test_a_throttled_conversation_is_held_and_its_other_rows_deferred_not_slept_on(
    store: Store,
) -> None:
    await places(store, WORKER)
    await clocks(store, 3)
    time = FakeTime(CP_DUE)
    throttled = SendFailure(429, "Throttled", retry_after=timedelta(seconds=60))
    sender = ScriptedSender(time, {DUTY_CONVERSATION: [throttled]})
    await plan_alerts(store.unit_of_work, rules=Rules(CP_DUE, CALENDAR, POLICY))
    send = dispatcher(store, time, sender)
    report = await send.dispatch_due()
    assert (report.sent, report.retried, report.deferred) == (3, 1, 2)
    assert max(time.sleeps, default=0) <= 2
    waiting = [item for item in await rows(store) if item.state is OutboxState.PENDING]
    assert len(waiting) == 3
    # Neither the deferred ones nor the throttled one used an attempt; the throttled one waits for
    # Retry-After.
    assert sorted(item.attempts for item in waiting) == [0, 0, 0]
    throttled_row = next(item for item in waiting if item.last_error.startswith("HTTP 429"))
    assert throttled_row.next_attempt_at == CP_DUE + sender.latency + timedelta(seconds=60)

    time.advance(timedelta(seconds=61))
    report = await send.dispatch_due()
    assert report.sent == 3
    assert [item.attempts for item in await rows(store) if item.recipient == DUTY_CHANNEL] == [1, 1, 1]


async def test_a_conversation_throttled_for_long_is_retried_until_teams_takes_it_and_e_mailed_once(
    store: Store,
) -> None:
    """A 429 is never a permanent failure (SPEC §7): twelve in a row are twelve retries, each after
    Retry-After, with no reroute and no alarm; once Teams has not taken the alert for
    ``continuity.email_after`` the duty manager gets it by e-mail too (once), and it is still sent
    to Teams when the throttling ends."""
    await places(store, WORKER)
    await clocks(store)
    time = FakeTime(CP_DUE)
    chat = f"a:chat-{WORKER}"
    throttled = SendFailure(429, "Throttled", retry_after=timedelta(seconds=60))
    sender = ScriptedSender(time, {chat: [throttled] * 12})
    server = LocalSmtp().start()
    try:
        settings = SmtpSettings(
            HOST, server.port, starttls=False, sender="bot@example.org", duty_manager=DM_MAIL
        )
        mail = AlertMail(SmtpAlertMailer(settings), copy_after=timedelta(minutes=5))
        send = dispatcher(store, time, sender, mail=mail)
        await plan_alerts(store.unit_of_work, rules=Rules(CP_DUE, CALENDAR, POLICY))
        for _ in range(12):
            await send.dispatch_due()
            time.advance(timedelta(seconds=61))
        found = await rows(store)
        [worker_row] = [item for item in found if item.recipient == Recipient.person(WORKER)]
        # each throttled try gave its attempt back
        assert (worker_row.state, worker_row.attempts) == (OutboxState.PENDING, 0)
        assert worker_row.last_error == "HTTP 429 Throttled: retried until Teams takes it"
        assert not [item for item in found if item.rerouted or item.state is OutboxState.FAILED]
        [copy] = [item for item in found if item.kind is AlertKind.EMAIL]
        assert copy.state is OutboxState.SENT
        [received] = server.received
        assert received.recipients == (DM_MAIL,) and "HTTP 429" in received.text

        await send.dispatch_due()  # the throttling is over
        [worker_row] = [item for item in await rows(store) if item.recipient == Recipient.person(WORKER)]
        assert (worker_row.state, worker_row.attempts) == (OutboxState.SENT, 1)
        assert len(sender.to(chat)) == 13 and len(server.received) == 1
    finally:
        server.stop()


async def test_throttling_uses_up_none_of_the_attempts_a_failing_service_has(store: Store) -> None:
    """Four 429s and then a 503: the 503 is the first real attempt, retried, not given up."""
    await places(store, WORKER)
    await clocks(store)
    time = FakeTime(CP_DUE)
    chat = f"a:chat-{WORKER}"
    throttled = SendFailure(429, "Throttled", retry_after=timedelta(seconds=5))
    sender = ScriptedSender(time, {chat: [throttled] * 4 + [SendFailure(503, "ServiceUnavailable")]})
    send = dispatcher(store, time, sender, retry=RetryPolicy(max_attempts=2))
    await plan_alerts(store.unit_of_work, rules=Rules(CP_DUE, CALENDAR, POLICY))
    for _ in range(5):
        await send.dispatch_due()
        time.advance(timedelta(seconds=30))
    [worker_row] = [item for item in await rows(store) if item.recipient == Recipient.person(WORKER)]
    assert (worker_row.state, worker_row.attempts) == (OutboxState.PENDING, 1)
    assert worker_row.last_error.startswith("HTTP 503 ServiceUnavailable: retry 1 of 1")
    await send.dispatch_due()
    [worker_row] = [item for item in await rows(store) if item.recipient == Recipient.person(WORKER)]
    assert worker_row.state is OutboxState.SENT and len(sender.to(chat)) == 6


async def test_many_alerts_to_one_conversation_keep_every_teams_limit(store: Store) -> None:
    await places(store)
    await clocks(store, 130, assignee=None)  # no consultants: every breach goes to the duty channel
    time = FakeTime(CP_DUE)
    sender = ScriptedSender(time)
    await plan_alerts(store.unit_of_work, rules=Rules(CP_DUE, CALENDAR, POLICY))
    send = dispatcher(store, time, sender)
    runs = 0
    while len(sender.sends) < 130 and runs < 500:
        await send.dispatch_due()
        time.advance(timedelta(seconds=1))
        runs += 1
    starts = sorted(at for *_, at in sender.sends)
    assert len(starts) == 130 and len({key for _, _, key, _ in sender.sends}) == 130
    for count, span in ((7, 1), (8, 2), (60, 30)):
        assert all(
            starts[i + count] - starts[i] >= timedelta(seconds=span) for i in range(len(starts) - count)
        )
    # Short waits are slept; a conversation held longer is deferred, without using up attempts.
    assert max(time.sleeps) <= 2
    assert all(item.attempts == 1 and item.state is OutboxState.SENT for item in await rows(store))
    print(f"\n130 alerts to one channel over {(starts[-1] - starts[0]).total_seconds():.0f} s in {runs} runs")


async def test_a_dispatcher_taking_over_counts_what_the_last_leader_just_sent(store: Store) -> None:
    """A leader dies right after filling the duty channel's window; the process that takes over
    starts with an empty limiter, so it must count those sends first (from the outbox), or the
    channel gets more than Teams allows."""
    await places(store)
    await clocks(store, 16, assignee=None)
    time = FakeTime(CP_DUE)
    sender = ScriptedSender(time)
    await plan_alerts(store.unit_of_work, rules=Rules(CP_DUE, CALENDAR, POLICY))
    # One batch of 7, then it is gone (a zero budget: no second batch).
    await dispatcher(store, time, sender, limits=DispatchLimits(batch=7, budget=timedelta(0))).dispatch_due()
    assert len(sender.sends) == 7
    survivor = dispatcher(store, time, sender)
    assert await survivor.remember_recent_sends() == 7
    await survivor.dispatch_due()
    starts = sorted(at for *_, at in sender.sends)
    assert len(starts) == 16
    for count, span in ((7, 1), (8, 2)):
        assert all(
            starts[i + count] - starts[i] >= timedelta(seconds=span) for i in range(len(starts) - count)
        ), f"{count + 1} sends within {span} s"


async def test_a_send_that_gets_no_answer_in_time_is_retried(store: Store) -> None:
    await places(store, WORKER)
    await clocks(store)
    time = FakeTime(CP_DUE)

    class Hanging(ScriptedSender):
        async def send(self, item: OutboxItem, conversation_id: str, now: datetime) -> SendReport:
            if conversation_id == DUTY_CONVERSATION:
                await asyncio.sleep(5)
            return await super().send(item, conversation_id, now)

    await plan_alerts(store.unit_of_work, rules=Rules(CP_DUE, CALENDAR, POLICY))
    send = dispatcher(store, time, Hanging(time), limits=DispatchLimits(send_timeout=timedelta(seconds=0.05)))
    report = await send.dispatch_due()
    assert (report.sent, report.retried) == (1, 1)
    [waiting] = [item for item in await rows(store) if item.state is OutboxState.PENDING]
    assert waiting.recipient == DUTY_CHANNEL and waiting.last_error.startswith("no response Timeout")


async def test_no_send_starts_that_could_outlast_the_lease(store: Store) -> None:
    """Sends so slow that the lease on the batch would run out mid-send: the rest of the batch waits
    for the next run (another dispatcher could take a row whose lease ran out, and send it twice)."""
    await places(store, WORKER)
    await clocks(store)
    time = FakeTime(CP_DUE)
    slow = ScriptedSender(time, latency=timedelta(seconds=40))  # past DispatchLimits().last_start (35 s)
    await plan_alerts(store.unit_of_work, rules=Rules(CP_DUE, CALENDAR, POLICY))
    report = await dispatcher(store, time, slow).dispatch_due()
    assert (report.claimed, report.sent, report.deferred) == (2, 1, 1)
    [waiting] = [item for item in await rows(store) if item.state is OutboxState.PENDING]
    assert waiting.attempts == 0  # deferring uses up no attempt
    assert (await dispatcher(store, time, slow).dispatch_due()).sent == 1


@dataclass
class DeposedSender(ScriptedSender):
    """The sender of a leader that loses its lock without dying: while its first send is on the
    wire, another process takes the lead (it releases every lease) and dispatches."""

    successor: Dispatcher | None = None
    store: Store | None = None

    async def send(self, item: OutboxItem, conversation_id: str, now: datetime) -> SendReport:
        report = await super().send(item, conversation_id, now)
        if len(self.sends) == 1 and self.successor is not None and self.store is not None:
            async with self.store.unit_of_work() as uow:
                await uow.alerts.release_leases()
                await uow.commit()
            await self.successor.dispatch_due()
        return report


async def test_a_leader_that_lost_its_lock_mid_batch_sends_none_of_what_its_successor_took(
    store: Store,
) -> None:
    """Only the send already on the wire when the successor released the leases goes twice (as
    after a crash, and its second card says it may be a repeat); the rest of the deposed leader's
    batch is the successor's alone."""
    await places(store, WORKER)
    await clocks(store, 3)
    time = FakeTime(CP_DUE)
    await plan_alerts(store.unit_of_work, rules=Rules(CP_DUE, CALENDAR, POLICY))
    successor_sender = ScriptedSender(time)
    deposed_sender = DeposedSender(time, successor=dispatcher(store, time, successor_sender), store=store)
    report = await dispatcher(store, time, deposed_sender).dispatch_due()
    everything = await rows(store)
    # its first lost row ends its batch: the rest are the successor's, untouched
    assert (report.claimed, report.sent, report.lost) == (len(everything), 1, 1)
    assert all(item.state is OutboxState.SENT for item in everything)
    [(_, _, repeated, _)] = deposed_sender.sends
    sent = Counter(key for _, _, key, _ in deposed_sender.sends + successor_sender.sends)
    assert sent == {item.key: 2 if item.key == repeated else 1 for item in everything}
    assert [item.interrupted for item in everything if item.key == repeated] == [True]


async def test_a_deposed_leader_claims_no_more_batches_once_it_has_lost_a_lease(store: Store) -> None:
    """Its successor takes the lead mid-batch and sends one batch; the deposed leader stops, and
    what is left is the successor's for its next run (two dispatchers at once would break Teams'
    per-conversation limits)."""
    await places(store, WORKER)
    await clocks(store, 3)  # six rows: the worker's and the duty channel's copy of each breach
    time = FakeTime(CP_DUE)
    await plan_alerts(store.unit_of_work, rules=Rules(CP_DUE, CALENDAR, POLICY))
    one_batch = DispatchLimits(batch=3, budget=timedelta(0))
    successor = dispatcher(store, time, ScriptedSender(time), limits=one_batch)
    deposed_sender = DeposedSender(time, successor=successor, store=store)
    report = await dispatcher(store, time, deposed_sender, limits=DispatchLimits(batch=3)).dispatch_due()
    assert (report.claimed, report.sent, report.lost) == (3, 1, 1)
    states = Counter(item.state for item in await rows(store))
    assert states == {OutboxState.SENT: 3, OutboxState.PENDING: 3}
    assert (await successor.dispatch_due()).sent == 3


@pytest.mark.parametrize(
    "limits",
    [
        {"batch": 0},
        {"lease": timedelta(seconds=25), "send_timeout": timedelta(seconds=20)},  # no time to start a send
    ],
)
def test_limits_that_could_never_send_are_refused(limits: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="positive batch, and a lease longer"):
        DispatchLimits(**limits)  # type: ignore[arg-type]


def test_a_send_may_start_until_it_could_still_end_before_the_lease_with_the_margin() -> None:
    limits = DispatchLimits(lease=timedelta(seconds=60), send_timeout=timedelta(seconds=20))
    assert limits.last_start == timedelta(seconds=35)


# -- "I've got this" --------------------------------------------------------------------------------


async def test_the_first_to_take_an_alert_has_it_and_the_others_are_told(store: Store) -> None:
    await clocks(store)
    key = AlertKey("CT-26-000001", ClockKind.CP_DECISION, AlertKind.BREACHED, 0, CP_DUE)
    staff = frozenset({Role.CONSULTANT})
    results = await asyncio.gather(
        *(
            acknowledge_alert(
                store.unit_of_work(),
                key,
                who=Who(f"aad-c-{n}", staff),
                now=CP_DUE + timedelta(seconds=n),
            )
            for n in range(5)
        )
    )
    assert all(isinstance(result, AlertTaken) for result in results)
    taken = [result for result in results if isinstance(result, AlertTaken)]
    winners = [result for result in taken if result.new]
    assert len(winners) == 1
    assert {result.acknowledgement for result in taken} == {winners[0].acknowledgement}
    async with store.unit_of_work() as uow:
        events = [s.event for s in await uow.audit.for_subject("CT-26-000001")]
    assert [e.action for e in events] == ["alert.acknowledged"]

    # The taken breach is not repeated nor escalated.
    await plan_alerts(store.unit_of_work, rules=Rules(CP_DUE + timedelta(hours=3), CALENDAR, POLICY))
    assert {item.kind for item in await rows(store)} == {AlertKind.BREACHED}


_CP = Deadline("CT-26-000001", ClockKind.CP_DECISION, CP_DUE - timedelta(hours=2), CP_DUE)
_CASEWORK = Deadline(
    "CT-26-000001", ClockKind.COMPLETION_48H, CP_DUE, CP_DUE + timedelta(hours=48), assignee_id="aad-sw"
)


@pytest.mark.parametrize(
    ("deadline", "person", "roles", "recipients", "allowed"),
    [
        # screening and child-protection clocks: consultants and managers (the EDT for child
        # protection), and whoever it was sent to
        (_CP, "aad-o", {Role.OFFICER}, (), False),
        (_CP, "aad-sw", {Role.SOCIAL_WORKER}, (), False),
        (_CP, "aad-sw", {Role.SOCIAL_WORKER}, ("aad-sw",), True),
        (_CP, "aad-c", {Role.CONSULTANT}, (), True),
        (_CP, "aad-dm", {Role.DUTY_MANAGER}, (), True),
        (_CP, "aad-tm", {Role.TEAM_MANAGER}, (), True),
        (_CP, "aad-sm", {Role.SERVICE_MANAGER}, (), True),
        (_CP, "aad-edt", {Role.EDT}, (), True),
        (replace(_CP, clock=ClockKind.SCREENING), "aad-o", {Role.OFFICER}, (None,), False),
        # a screening clock waits for day staff: the EDT may not take it, unless it was sent to them
        (replace(_CP, clock=ClockKind.SCREENING), "aad-c", {Role.CONSULTANT}, (), True),
        (replace(_CP, clock=ClockKind.SCREENING), "aad-edt", {Role.EDT}, (), False),
        (replace(_CP, clock=ClockKind.SCREENING), "aad-edt", {Role.EDT}, ("aad-edt",), True),
        # casework clocks: the assignee and managers, and whoever it was sent to
        (_CASEWORK, "aad-sw", {Role.SOCIAL_WORKER}, (), True),
        (_CASEWORK, "aad-sw-2", {Role.SOCIAL_WORKER}, (), False),
        (_CASEWORK, "aad-c", {Role.CONSULTANT}, (), False),
        (_CASEWORK, "aad-c", {Role.CONSULTANT}, ("aad-c",), True),
        (_CASEWORK, "aad-dm", {Role.DUTY_MANAGER}, (), True),
        (_CASEWORK, "aad-edt", {Role.EDT}, (), False),
        (replace(_CASEWORK, assignee_id=None), "aad-o", {Role.OFFICER}, (), False),
    ],
)
def test_who_may_take_a_breach(
    deadline: Deadline, person: str, roles: set[Role], recipients: tuple[str | None, ...], allowed: bool
) -> None:
    assert may_take(deadline, person, roles, recipients) is allowed


async def test_someone_who_may_not_view_contacts_is_refused_an_alert_and_the_refusal_is_audited(
    store: Store,
) -> None:
    """A MASH partner chased about their agency's request is not front-door staff: refused, nothing
    taken, and the refusal audited like any other (``alert.ack_refused``)."""
    await clocks(store)
    breach = AlertKey("CT-26-000001", ClockKind.CP_DECISION, AlertKind.BREACHED, 0, CP_DUE)
    refused = await acknowledge_alert(
        store.unit_of_work(), breach, who=Who("aad-partner", frozenset({Role.PARTNER})), now=CP_DUE
    )
    assert isinstance(refused, Refusal) and refused.reason is RefusalReason.NOT_PERMITTED
    async with store.unit_of_work() as uow:
        events = [s.event for s in await uow.audit.for_subject("CT-26-000001")]
    assert [(e.action, e.actor_id, e.detail) for e in events] == [
        ("alert.ack_refused", "aad-partner", "clock=cp_decision; reason=not_permitted")
    ]


async def test_an_officer_is_refused_a_cp_breach_and_a_due_soon_alert_cannot_be_taken(store: Store) -> None:
    await clocks(store)
    breach = AlertKey("CT-26-000001", ClockKind.CP_DECISION, AlertKind.BREACHED, 0, CP_DUE)
    refused = await acknowledge_alert(
        store.unit_of_work(), breach, who=Who("aad-o", frozenset({Role.OFFICER})), now=CP_DUE
    )
    assert isinstance(refused, Refusal) and refused.reason is RefusalReason.NOT_PERMITTED
    soon = AlertKey("CT-26-000001", ClockKind.CP_DECISION, AlertKind.DUE_SOON, 0, CP_DUE)
    informs = await acknowledge_alert(
        store.unit_of_work(), soon, who=Who("aad-c", frozenset({Role.CONSULTANT})), now=CP_DUE
    )
    assert isinstance(informs, Refusal) and informs.reason is RefusalReason.INVALID
    async with store.unit_of_work() as uow:
        events = [s.event for s in await uow.audit.for_subject("CT-26-000001")]
    # Refused and audited; nothing was taken (the Teams test shows the breach still repeating).
    assert [(e.action, e.actor_id) for e in events] == [("alert.ack_refused", "aad-o")]


async def test_taking_an_alert_is_refused_to_outsiders_and_for_clocks_that_have_stopped(store: Store) -> None:
    await clocks(store)
    key = AlertKey("CT-26-000001", ClockKind.CP_DECISION, AlertKind.BREACHED, 0, CP_DUE)
    for roles in (frozenset(), frozenset({Role.PROFESSIONAL}), frozenset({Role.ADMIN})):
        refused = await acknowledge_alert(store.unit_of_work(), key, who=Who("someone", roles), now=CP_DUE)
        assert isinstance(refused, Refusal) and refused.reason is RefusalReason.NOT_PERMITTED
    staff = frozenset({Role.CONSULTANT})
    unknown = AlertKey("CT-26-999999", ClockKind.CP_DECISION, AlertKind.BREACHED, 0, CP_DUE)
    missing = await acknowledge_alert(store.unit_of_work(), unknown, who=Who(CONSULTANT, staff), now=CP_DUE)
    assert isinstance(missing, Refusal) and missing.reason is RefusalReason.NOT_FOUND
    lapsed = key.but(AlertKind.LETTER_LAPSED)
    invalid = await acknowledge_alert(store.unit_of_work(), lapsed, who=Who(CONSULTANT, staff), now=CP_DUE)
    assert isinstance(invalid, Refusal) and invalid.reason is RefusalReason.INVALID
    async with store.unit_of_work() as uow:
        await uow.deadlines.close(
            "CT-26-000001", ClockKind.CP_DECISION.value, "met", CP_DUE, closed_by=CONSULTANT
        )
        await uow.commit()
    stopped = await acknowledge_alert(store.unit_of_work(), key, who=Who(CONSULTANT, staff), now=CP_DUE)
    assert isinstance(stopped, Refusal) and stopped.reason is RefusalReason.WRONG_STATE
    async with store.unit_of_work() as uow:
        events = [s.event for s in await uow.audit.for_subject("CT-26-000001")]
    # The outsiders' refusals are audited; nothing else was recorded.
    assert [(e.action, e.actor_id) for e in events] == [("alert.ack_refused", "someone")] * 3


async def test_the_copies_of_an_alert_are_every_sent_message_about_its_clock(store: Store) -> None:
    await places(store, WORKER)
    await clocks(store, 2)
    async with store.unit_of_work() as uow:
        await uow.rota.set(RotaEntry(T0.date(), Role.CONSULTANT, CONSULTANT))
        await uow.commit()
    time = FakeTime(CP_DUE - timedelta(minutes=30))
    send = dispatcher(store, time, ScriptedSender(time))
    for moment in (CP_DUE - timedelta(minutes=30), CP_DUE):
        time.moment = moment
        await plan_alerts(store.unit_of_work, rules=Rules(moment, CALENDAR, POLICY))
        await send.dispatch_due()
    key = AlertKey("CT-26-000001", ClockKind.CP_DECISION, AlertKind.BREACHED, 0, CP_DUE)
    async with store.unit_of_work() as uow:
        copies = await alert_copies(uow, key)
    # Due soon and breached to the worker, breached to the channel; not the other contact's.
    assert sorted((item.kind.value, item.recipient.text) for item in copies) == [
        ("breached", "channel:duty"),
        ("breached", f"person:{WORKER}"),
        ("due_soon", f"person:{WORKER}"),
    ]
    assert all(item.activity_id and item.conversation_id for item in copies)
