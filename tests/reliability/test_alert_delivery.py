"""Deadline alerts under failure (issue 6, "Reliability tests"), end to end: the bot runs as real
``frontdoor-bot serve`` processes with the scheduler on, the database is seeded directly with open
deadlines whose alerts are due at once, and every alert is counted where it lands, at the loopback
Teams channel, by (conversation, the ``alert`` key in the card's "I've got this" data).

- SIGKILL mid-dispatch, again and again, with the channel answering slowly: afterwards every alert
  planned (the outbox rows) has arrived exactly once.
- Two processes on one PostgreSQL database, 200 deadlines: each alert exactly once.
- The bot down across a due time: the alert goes out on restart and the card says it is late.
- A channel answering 429 (``Retry-After``), then 503, then 403: the waits, the retries, the dead
  conversation and the alert rerouted to the duty channel.

Each test records its figures (``figures.report``); they are printed in pytest's terminal summary.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.outbox_cards import POSSIBLE_REPEAT
from frontdoor.alerts import AlertKey, AlertKind
from frontdoor.delivery import DEFAULT_BACKOFF
from frontdoor.records import Deadline
from frontdoor.systemclock import RunningClock
from store.sql import SqlStore
from tests.harness.teams import POSTS, TeamsChannel
from tests.reliability.figures import report
from tests.reliability.harness import (
    AlertWorld,
    Arrival,
    BotProcess,
    OutboxRow,
    add_deadlines,
    breached,
    busiest,
    dead_conversations,
    deliveries,
    due_soon,
    duplicates,
    expected_deliveries,
    latencies,
    percentile,
    seed_world,
    settle,
    subject,
)

#: The scheduler's tick in the bot processes (FRONTDOOR_TICK_SECONDS): short, so tests are quick.
TICK = 0.25

MakeBot = Callable[..., BotProcess]


@pytest.fixture
async def make_bot(tmp_path: Path, clock: RunningClock) -> AsyncIterator[MakeBot]:
    """``make_bot(name, database_url, tick_seconds=..., env=...)``: a bot process (not started) on
    the test's clock; every one still running at the end is killed."""
    made: list[BotProcess] = []

    def make(name: str, database_url: str, *, tick_seconds: float = TICK, **env: str) -> BotProcess:
        log = tmp_path / f"{name}.log"
        bot = BotProcess(name, database_url, log, tick_seconds=tick_seconds, clock=clock, env=env)
        made.append(bot)
        return bot

    yield make
    for bot in made:
        await bot.kill()


async def _wait_for(condition: Callable[[], bool], within: float, what: str, *, every: float = 0.05) -> None:
    """Poll ``condition`` every ``every`` seconds (the bots share the machine's two cores)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g}s waiting for {what}")
        await asyncio.sleep(every)


def _compare(
    world: AlertWorld, rows: list[OutboxRow], arrivals: list[Arrival]
) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    """(missing, extra): alerts planned that did not arrive, and arrivals beyond one per alert."""
    expected = expected_deliveries(world, rows)
    got = Counter((arrival.conversation_id, arrival.alert) for arrival in arrivals)
    return expected - got, got - expected


def _problems(*bots: BotProcess, expected: frozenset[str] = frozenset()) -> list[str]:
    """Errors in the bots' logs, less the ``expected`` events (e.g. the alarm of a failed alert)."""
    return [
        f"{bot.name}: {problem}"
        for bot in bots
        for problem in bot.problems()
        if problem.split(": ", 1)[-1].strip() not in expected
    ]


# -- SIGKILL mid-dispatch -------------------------------------------------------------------------

KILLS = 22
WORKERS = 30
#: The loopback channel's latency a post in this test: slow enough that kills land mid-send.
LATENCY = (0.05, 0.15)


async def test_sigkill_mid_dispatch_every_alert_arrives_exactly_once(
    sqlite_url: str, teams_channel: TeamsChannel, make_bot: MakeBot, clock: RunningClock
) -> None:
    """22 SIGKILLs of the one bot process on a SQLite database, most of them while a send is on the
    wire (the channel takes 50-150 ms a post), with new deadlines coming due before each restart.

    The restarted process takes the lead and releases the rows its predecessor had leased at once
    (``release_leases``), so nothing waits out a lease.

    Afterwards every row is sent and every planned alert has arrived: none is lost. Every alert
    arrives exactly once, except one whose send a kill cut off after Teams had accepted the post
    and before the row was marked sent: the Bot Connector API takes no idempotency key and offers
    no way to ask whether a post landed, so that alert is sent again. The test holds each such
    repeat to account: it must come from a kill in that window (at most one repeat per kill) and
    its card must say it may be a repeat. The figures say how many kills landed there.
    """
    seed = int(os.environ.get("FRONTDOOR_RELIABILITY_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    store = SqlStore(sqlite_url)
    try:
        world = await seed_world(store, teams_channel, workers=WORKERS, now=clock.now())
        teams_channel.slow_down(LATENCY, seed=seed)
        bot = make_bot("sigkill", sqlite_url)
        now = clock.now()
        serial = iter(range(100_000))

        def batch(size: int, breaches: int) -> list[Deadline]:
            made = []
            for index in range(size):
                number = next(serial)
                assignee = world.workers[number % WORKERS]
                if index < breaches:
                    made.append(breached(subject(number), assignee, now, timedelta(minutes=10)))
                else:
                    made.append(due_soon(subject(number), assignee, now))
            return made

        await add_deadlines(store, batch(30, 4))
        kill_times: list[datetime] = []
        in_flight_at_kill: list[int] = []
        for cycle in range(KILLS):
            if cycle:
                await add_deadlines(store, batch(4, 1 if cycle % 3 == 0 else 0))
            await bot.start()
            # Most kills land while a send is on the wire: wait for one (the first, or one a little
            # later), then a random moment; the rest at any moment after start-up.
            draw = rng.random()
            if draw < 0.8:
                await asyncio.sleep(0 if draw < 0.4 else rng.uniform(0, 1.0))
                await _wait_for(lambda: teams_channel.in_flight > 0, 30, "a send to start", every=0.005)
                await asyncio.sleep(rng.uniform(0, LATENCY[1]))
            else:
                await asyncio.sleep(rng.uniform(0, 1.0))
            in_flight_at_kill.append(teams_channel.in_flight)
            kill_times.append(clock.now())
            await bot.kill()

        began = time.monotonic()
        await bot.start()
        rows = await settle(store, teams_channel, within=60)
        quiesced_in = time.monotonic() - began
        await bot.stop()
    finally:
        await store.close()

    arrivals = deliveries(teams_channel)
    missing, extra = _compare(world, rows, arrivals)
    doubled = duplicates(arrivals)
    windows, answer_to_kill = _duplicate_windows(doubled, arrivals, kill_times)
    waits = latencies(rows, world, arrivals)
    figures = report(
        "sigkill",
        seed=seed,
        kills=bot.kills,
        kills_with_a_send_in_flight=sum(1 for n in in_flight_at_kill if n),
        alerts=len(rows),
        deliveries=len(arrivals),
        duplicates=sum(count - 1 for count in doubled.values()),
        of_which_in_flight_at_the_kill=windows[IN_FLIGHT],
        of_which_answered_not_marked=windows[ANSWERED],
        unexplained=windows[UNEXPLAINED],
        longest_answer_to_kill_s=max(answer_to_kill, default=0.0),
        missing=sum(missing.values()),
        max_latency_s=max(waits, default=0.0),
        p50_latency_s=percentile(waits, 0.5),
        restart_s=percentile(bot.start_times, 0.5),
        settled_after_last_restart_s=quiesced_in,
    )
    states = Counter(row.state for row in rows)
    assert states == Counter({"sent": len(rows)}), f"{figures}\nrows not sent: {dict(states)}"
    assert not missing, f"{figures}\nplanned but never arrived: {sorted(missing)[:10]}"
    unplanned = {key for key in extra if key not in doubled}
    assert not unplanned, f"{figures}\narrived but never planned: {sorted(unplanned)[:10]}"
    assert not windows[UNEXPLAINED], f"{figures}\nduplicates no kill explains: {sorted(doubled)[:10]}"
    assert not _problems(bot), _problems(bot)
    # Exactly once at the channel, but for the sends a kill cut off (see the docstring): at most
    # one repeat per kill, and each repeat says on its card that it may be one.
    surplus = sum(count - 1 for count in doubled.values())
    assert surplus <= bot.kills, f"{figures}\nmore repeats than kills"
    unflagged = [
        key
        for key in doubled
        for copy in [arrival for arrival in arrivals if (arrival.conversation_id, arrival.alert) == key][1:]
        if POSSIBLE_REPEAT not in json.dumps(copy.card)
    ]
    assert not unflagged, f"{figures}\nrepeats whose card does not say so: {sorted(unflagged)[:10]}"


IN_FLIGHT = "in flight at the kill"
ANSWERED = "answered before the kill, not marked sent"
UNEXPLAINED = "unexplained"


def _duplicate_windows(
    doubled: dict[tuple[str, str], int], arrivals: list[Arrival], kill_times: list[datetime]
) -> tuple[Counter[str], list[float]]:
    """Which window each surplus copy of a duplicated alert fell in (every copy but the last, which
    is the one marked sent), and for those answered before the kill, how long before it.

    A copy was sent by the process alive when its request reached the channel (``LATENCY`` before
    the channel recorded it): the one killed next. If that kill came before the record, the post
    was on the wire when the process died and the bot never saw the answer; if after, the bot had
    the answer and died before marking the row sent. A surplus copy sent by the last process, which
    was never killed, is unexplained: a duplicate no crash accounts for."""
    windows: Counter[str] = Counter({IN_FLIGHT: 0, ANSWERED: 0, UNEXPLAINED: 0})
    answer_to_kill: list[float] = []
    for key in doubled:
        copies = [arrival for arrival in arrivals if (arrival.conversation_id, arrival.alert) == key]
        for copy in copies[:-1]:
            request_in = copy.at - timedelta(seconds=LATENCY[1] + 0.01)
            kill = next((moment for moment in kill_times if moment >= request_in), None)
            if kill is None:
                windows[UNEXPLAINED] += 1
            elif kill <= copy.at:
                windows[IN_FLIGHT] += 1
            else:
                windows[ANSWERED] += 1
                answer_to_kill.append((kill - copy.at).total_seconds())
    return windows, answer_to_kill


# -- two processes on one PostgreSQL database ------------------------------------------------------

DEADLINES = 200


@pytest.mark.postgres
async def test_two_processes_on_postgres_send_each_of_200_alerts_once_within_teams_limits(
    fresh_postgres_url: str, teams_channel: TeamsChannel, make_bot: MakeBot, clock: RunningClock
) -> None:
    """Two bot processes on one PostgreSQL database; the advisory-lock holder plans and dispatches
    (``scheduler.alert_jobs``: one dispatcher keeps Teams' per-conversation limits). 100 deadlines
    come due; once their alerts are out the leader is SIGKILLed (between sends, so no send is cut
    off) and 100 more come due: the survivor takes the lead, plans and sends them. Every one of the
    200 alerts arrives once; and the 40 that go to one chat arrive within Teams' limits."""
    store = SqlStore(fresh_postgres_url)
    half = DEADLINES // 2
    try:
        world = await seed_world(store, teams_channel, workers=40, now=clock.now())
        teams_channel.slow_down((0.01, 0.03), seed=2)
        bots = [make_bot(f"pg-{index}", fresh_postgres_url) for index in range(2)]
        await asyncio.gather(*(bot.start() for bot in bots))
        now = clock.now()
        # Every fifth one unassigned: its due-soon alert goes to the consultant on duty, so one
        # chat gets 40 alerts at once, from both processes (Teams allows 8 in any two seconds).
        deadlines = [
            due_soon(subject(index, series=8), None if index % 5 == 0 else world.workers[index % 40], now)
            for index in range(DEADLINES)
        ]
        began = time.monotonic()
        await add_deadlines(store, deadlines[:half])
        await _wait_for(lambda: len(deliveries(teams_channel)) >= half, 60, f"{half} alerts at the channel")
        first_half_in = time.monotonic() - began
        await settle(store, teams_channel, within=30, quiet=0.5)
        [leader] = [bot for bot in bots if bot.count_events("scheduler leadership acquired")]
        [survivor] = [bot for bot in bots if bot is not leader]
        planned_first = [bot.name for bot in bots if bot.count_events("deadline tick planned alerts")]
        sent_by_survivor_while_led = survivor.count_events("proactive message sent")
        await leader.kill()

        began = time.monotonic()
        await add_deadlines(store, deadlines[half:])
        await _wait_for(
            lambda: len(deliveries(teams_channel)) >= DEADLINES, 60, f"{DEADLINES} alerts at the channel"
        )
        second_half_in = time.monotonic() - began
        rows = await settle(store, teams_channel, within=30)
        await survivor.stop()
    finally:
        await store.close()

    arrivals = deliveries(teams_channel)
    missing, extra = _compare(world, rows, arrivals)
    sent_by = {bot.name: bot.count_events("proactive message sent") for bot in bots}
    consultant_chat = world.chat_of(world.consultant).id
    to_consultant = {bot: bot.count_events("alert sent", conversation_id=consultant_chat) for bot in bots}
    figures = report(
        "two processes, postgres",
        deadlines=DEADLINES,
        alerts=len(rows),
        deliveries=len(arrivals),
        duplicates=sum(extra.values()),
        missing=sum(missing.values()),
        sent_per_process=" / ".join(f"{name} {count}" for name, count in sent_by.items()),
        busiest_chat_in_1s=busiest(arrivals, timedelta(seconds=1))[0],
        in_2s=busiest(arrivals, timedelta(seconds=2))[0],
        in_30s=busiest(arrivals, timedelta(seconds=30))[0],
        consultant_chat_by_process=" / ".join(f"{bot.name} {count}" for bot, count in to_consultant.items()),
        first_100_delivered_in_s=first_half_in,
        next_100_after_killing_the_leader_in_s=second_half_in,
        total_s=first_half_in + second_half_in,
    )
    assert len(rows) == DEADLINES, figures
    assert Counter(row.state for row in rows) == Counter({"sent": DEADLINES}), figures
    assert not missing and not extra, f"{figures}\nmissing {sorted(missing)[:5]}, extra {sorted(extra)[:5]}"
    assert planned_first == [leader.name], f"{figures}: the first half was planned by {planned_first}"
    assert survivor.count_events("scheduler leadership acquired") == 1, "the survivor took the lead"
    assert survivor.count_events("deadline tick planned alerts") >= 1, "and planned the second half"
    assert sent_by_survivor_while_led == 0, f"{figures}: only the leader dispatches"
    assert all(sent_by.values()), f"{figures}: the survivor dispatched once it led"
    # Teams' limits a conversation: 7 a second, 8 in two seconds, 60 in thirty. The channel stamps
    # a post when it answers it, after 10-30 ms of latency; counting in windows 0.1 s shorter keeps
    # that jitter from making a sender that keeps the limits look as if it broke them.
    for span, limit in ((1, 7), (2, 8), (30, 60)):
        most, where = busiest(arrivals, timedelta(seconds=span - 0.1))
        assert most <= limit, (
            f"{figures}\n{most} alerts reached {where} within {span}s (Teams allows {limit})"
        )
    assert not _problems(*bots), _problems(*bots)


# -- down across a due time -------------------------------------------------------------------------


async def test_an_alert_due_while_the_bot_was_down_goes_out_on_restart_marked_late(
    sqlite_url: str, teams_channel: TeamsChannel, make_bot: MakeBot, clock: RunningClock
) -> None:
    """The bot runs, stops; meanwhile a clock passes its due-soon time and its due time (by the test
    clock). On restart, with the production 30 s tick, the breach goes out at once (the start-up
    catch-up), once to the assignee and once to the duty channel, each card saying it is late; the
    due-soon alert, superseded by the breach, is not sent."""
    store = SqlStore(sqlite_url)
    try:
        world = await seed_world(store, teams_channel, workers=1, now=clock.now())
        worker = world.workers[0]
        # The production tick (30 s): what goes out at once on restart is the start-up catch-up.
        bot = make_bot("downtime", sqlite_url, tick_seconds=30)
        await bot.start()
        await asyncio.sleep(1.0)
        await bot.stop()
        assert deliveries(teams_channel) == [], "nothing was due before the downtime"

        # While it was down, the clock became due soon (hours ago) and then breached (20 min ago).
        [deadline] = await add_deadlines(
            store, [breached(subject(1, series=7), worker, clock.now(), timedelta(minutes=20))]
        )
        began = time.monotonic()
        await bot.start()
        # Within the 30 s tick: what sends it is the catch-up run at start-up.
        await _wait_for(lambda: len(deliveries(teams_channel)) >= 2, 20, "the breach alerts")
        sent_in = time.monotonic() - began
        rows = await settle(store, teams_channel, within=30)
        await bot.stop()
    finally:
        await store.close()

    arrivals = deliveries(teams_channel)
    kinds = {AlertKey.parse(arrival.alert).kind for arrival in arrivals}
    report(
        "downtime",
        sent_after_restart_s=sent_in,
        alerts=len(rows),
        deliveries=len(arrivals),
        kinds=",".join(sorted(kind.value for kind in kinds)),
    )
    key = AlertKey(deadline.subject, deadline.clock, AlertKind.BREACHED, 0, deadline.due_at).text
    assert sorted((arrival.conversation_id, arrival.alert) for arrival in arrivals) == sorted(
        [(world.chat_of(worker).id, key), (world.duty.id, key)]
    ), "the breach, once to the assignee and once to the duty channel; the due-soon alert superseded"
    for arrival in arrivals:
        text = _card_text(arrival.card)
        assert re.search(r"\blate\b", text, re.IGNORECASE), f"the card does not say it is late: {text}"
    assert not _problems(bot), _problems(bot)


def _card_text(card: object) -> str:
    """The visible text of a card: every TextBlock and TextRun, and fact titles and values."""
    parts: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if node.get("type") in ("TextBlock", "TextRun") and isinstance(node.get("text"), str):
                parts.append(node["text"])
            if node.get("type") == "FactSet":
                for fact in node.get("facts", []):
                    parts.extend(str(fact.get(name, "")) for name in ("title", "value"))
            for name, value in node.items():
                if name not in ("data", "msteams"):
                    walk(value)

    walk(card)
    return " ".join(parts)


# -- 429, 503, 403 -------------------------------------------------------------------------------

RETRY_AFTER = 2


async def test_429_then_503_then_403_waits_retries_and_reroutes_to_the_duty_channel(
    sqlite_url: str, teams_channel: TeamsChannel, make_bot: MakeBot, clock: RunningClock
) -> None:
    """A worker's chat answers the alert with 429 (Retry-After: 2), then 503, then 403
    ConversationBlockedByUser. The retry after the 429 waits the Retry-After; the one after the 503
    waits a jittered backoff; the 403 marks the chat dead, fails the row (three attempts) and
    reroutes the alert to the duty channel, where it arrives once."""
    store = SqlStore(sqlite_url)
    try:
        world = await seed_world(store, teams_channel, workers=1, now=clock.now())
        worker = world.workers[0]
        chat = world.chat_of(worker)
        teams_channel.fail_next(chat.id, 429, headers={"Retry-After": str(RETRY_AFTER)})
        teams_channel.fail_next(chat.id, 503)
        teams_channel.fail_next(chat.id, 403, code="ConversationBlockedByUser")
        [deadline] = await add_deadlines(store, [due_soon(subject(1, series=6), worker, clock.now())])
        bot = make_bot("failures", sqlite_url)
        await bot.start()
        await _wait_for(
            lambda: any(arrival.conversation_id == world.duty.id for arrival in deliveries(teams_channel)),
            60,
            "the alert rerouted to the duty channel",
        )
        rows = await settle(store, teams_channel, within=30)
        dead = await dead_conversations(store)
        await bot.stop()
    finally:
        await store.close()

    calls = [
        call for call in teams_channel.calls if call.conversation_id == chat.id and call.operation in POSTS
    ]
    waits = [(later.at - earlier.at).total_seconds() for earlier, later in itertools.pairwise(calls)]
    arrivals = deliveries(teams_channel)
    report(
        "429/503/403",
        statuses="/".join(str(call.status) for call in calls),
        wait_after_429_s=waits[0] if waits else -1.0,
        wait_after_503_s=waits[1] if len(waits) > 1 else -1.0,
        rerouted_arrivals=len(arrivals),
    )
    assert [call.status for call in calls] == [429, 503, 403], "three attempts, then no more to a dead chat"
    # The bot counts Retry-After from just before its send, so the two sends' own few
    # milliseconds may come off the wait the channel sees.
    assert waits[0] >= RETRY_AFTER - 0.05, f"the retry after the 429 came {waits[0]:.2f}s later"
    # Full jitter: the retry after the 503 waits a random time up to the backoff's ceiling for a
    # first retry (the 429 gave its attempt back), then the next dispatcher run picks it up.
    ceiling = DEFAULT_BACKOFF.ceiling(1).total_seconds()
    assert 0 <= waits[1] <= ceiling + 3 * TICK, f"the retry after the 503 came {waits[1]:.2f}s later"
    assert dead == {chat.id: "ConversationBlockedByUser"}

    key = AlertKey(deadline.subject, deadline.clock, AlertKind.DUE_SOON, 0, deadline.due_at).text
    [original] = [row for row in rows if not row.rerouted]
    [rerouted] = [row for row in rows if row.rerouted]
    assert (original.state, original.attempts, original.alert) == ("failed", 2, key)
    assert "403" in original.last_error
    assert (rerouted.state, rerouted.alert, rerouted.recipient.is_duty_channel) == ("sent", key, True)
    assert [(arrival.conversation_id, arrival.alert) for arrival in arrivals] == [(world.duty.id, key)]
    # The one error logged is the alarm for the alert that could not reach its recipient.
    assert not _problems(bot, expected=frozenset({"alert not delivered"})), _problems(bot)
