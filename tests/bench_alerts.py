"""``make bench``: figures for the deadline-alert pipeline, printed, never asserted.

Called from ``tests.bench``'s ``main``. Each scenario gets a fresh migrated database; the clock is
a ``SettableClock`` at Monday 16 March 2026, so the figures do not depend on when the bench runs.

1. **Planning**: one tick's ``plan_alerts`` with 1,000 and 5,000 open deadlines of which a tenth
   have an alert due (half due soon, half just breached): the first tick, which enqueues them, and
   the steady tick every ``tick_seconds`` after it, which finds them all planned. SQLite, and
   PostgreSQL when its server binaries are installed (``make postgres-binaries``).
2. **Dispatch**: the real app served over HTTP with its scheduler's ``DeadlineAlerts``
   (``app[ALERTS].dispatch()``), the Teams sender and the loopback channel with no latency:
   due-soon alerts spread over many personal chats, once through the app's own dispatcher (with
   the app-wide cap of ``GLOBAL_WINDOWS``) and once through a dispatcher without that cap (what
   the pipeline itself can do); then a burst of alerts all to one chat, where Teams' limits per
   conversation (7 a second, 8 in 2 seconds) must hold the rate down: the arrivals are counted.
3. **Handover**: the end-of-day handover with 85 and 300 open contacts: building it from the
   tables (``current_handover``), rendering its card, its size, and the activity actually posted.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import statistics
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from bot.alerting import TeamsAlertSender
from bot.app import ALERTS, CALENDAR, NOTIFIER, SETTINGS, create_app, working_calendar
from bot.outbox_cards import render
from bot.settings import DEVELOPMENT, Settings
from frontdoor.acting import Rules
from frontdoor.alert_tick import plan_alerts
from frontdoor.alerts import OutboxItem, OutboxState
from frontdoor.calendar import WorkingCalendar
from frontdoor.clocks import due_at
from frontdoor.contact import ContactState
from frontdoor.delivery import ConversationRateLimiter
from frontdoor.dispatch import Dispatcher, DispatchReport
from frontdoor.duty import current_handover, post_due_handover
from frontdoor.handover import handover_message
from frontdoor.policy import Policy, parse_policy
from frontdoor.records import ClockKind, Deadline, RotaEntry
from frontdoor.roles import Role
from frontdoor.systemclock import SettableClock
from store.deadlines import alerts_due_statement
from store.migrate import upgrade
from store.sql import SqlStore
from tests.harness.teams import Conversation, SentActivity, TeamsChannel, TeamsUser
from tests.postgres import PostgresServer, running_postgres_server
from tests.store.deadline_rows import add_closed_contacts, add_open_deadlines
from tests.store.samples import full_contact

#: Monday 16 March 2026, 10:00 in London (GMT): a working day, inside office hours.
MONDAY_10AM: Final = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
#: The bench times its completion clocks in elapsed hours (the policy's option), so their alerts fall
#: where the scenarios below put them at any hour.
ELAPSED: Final = parse_policy('[timescales]\ncompletion_clock = "hours"\n')
#: The same Monday's handover time (16:30 London, GMT).
MONDAY_HANDOVER: Final = datetime(2026, 3, 16, 16, 30, tzinfo=UTC)

#: Open deadlines beside the closed contacts in the tick's figures, a tenth of them due.
TICK_OPEN: Final = 10_000
#: Closed contacts (two closed deadlines each) for the tick, per database.
TICK_CLOSED: Final = (100_000, 1_000_000)
STEADY_TICKS: Final = 5
#: Personal chats the spread-out dispatch goes to, one due-soon alert each.
CHATS: Final = 300
#: Breaches all for the duty channel at once.
ONE_CONVERSATION: Final = 32
HANDOVER_SIZES: Final = (300, 4000)
HANDOVER_RUNS: Final = 10
#: Teams refuses messages over about 28 KB.
TEAMS_LIMIT_KB: Final = 28.0

ADMIN = TeamsUser("aad-bench-admin-0001", "Ada Benchadmin")
TEAM = "team-bench-front-door"
DUTY_CHANNEL_ID = "19:bench-duty@thread.tacv2"

UrlFactory = Callable[[], Awaitable[str]]
#: What the bench measured, written to ``bench/results.json``.
Results = dict[str, Any]


def _ms(seconds: float) -> float:
    return seconds * 1000


def _median_ms(samples: Sequence[float]) -> float:
    return _ms(statistics.median(samples))


def _worker(n: int) -> TeamsUser:
    return TeamsUser(f"aad-bench-worker-{n:04d}", f"Bench Workerperson {n:04d}")


def _reference(n: int) -> str:
    return f"CT-26-{n:06d}"


# -- databases ----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _sqlite_urls() -> AsyncIterator[UrlFactory]:
    """Fresh migrated SQLite databases in a temporary directory."""
    with tempfile.TemporaryDirectory() as folder:
        made = 0

        async def fresh() -> str:
            nonlocal made
            made += 1
            url = f"sqlite+aiosqlite:///{Path(folder) / f'alerts-{made}.db'}"
            await asyncio.to_thread(upgrade, url)
            return url

        yield fresh


@contextlib.asynccontextmanager
async def _postgres_urls(server: PostgresServer) -> AsyncIterator[UrlFactory]:
    """Fresh migrated databases on ``server``, copied from one migrated template."""
    template = "bench_alerts_template"
    await asyncio.to_thread(server.drop_database, template)
    await asyncio.to_thread(upgrade, await asyncio.to_thread(server.create_database, template))
    made: list[str] = []

    async def fresh() -> str:
        name = f"bench_alerts_{len(made) + 1}"
        made.append(name)
        await asyncio.to_thread(server.drop_database, name)
        return await asyncio.to_thread(server.create_database, name, template)

    try:
        yield fresh
    finally:
        for name in [*made, template]:
            await asyncio.to_thread(server.drop_database, name)


# -- seeding ------------------------------------------------------------------------------------


async def _staff(store: SqlStore, workers: int, day: datetime, calendar: WorkingCalendar) -> list[str]:
    """``workers`` social workers with names, a consultant and a duty manager on the rota of ``day``
    and the next working day, and a team manager. Returns the social workers' ids."""
    ids = [_worker(n).aad_object_id for n in range(workers)]
    cast = [
        ("aad-bench-consultant", "Cora Benchconsultant", Role.CONSULTANT),
        ("aad-bench-duty", "Dara Benchduty", Role.DUTY_MANAGER),
        ("aad-bench-teammanager", "Tam Benchmanager", Role.TEAM_MANAGER),
    ]
    today = day.astimezone(calendar.tz).date()
    async with store.unit_of_work() as uow:
        for n, person in enumerate(ids):
            await uow.roles.grant(person, Role.SOCIAL_WORKER)
            await uow.roles.set_display_name(person, _worker(n).name)
        for person, name, role in cast:
            await uow.roles.grant(person, role)
            await uow.roles.set_display_name(person, name)
            for rota_day in (today, calendar.next_working_day(today)):
                await uow.rota.set(RotaEntry(rota_day, role, person))
        await uow.commit()
    return ids


def _open_deadlines(
    count: int, now: datetime, calendar: WorkingCalendar, policy: Policy, assignees: Sequence[str]
) -> list[Deadline]:
    """``count`` open deadlines, one a contact: every tenth has an alert due at ``now`` (by turns
    due soon or breached ten minutes ago, on 24-hour, 48-hour and child-protection clocks); the
    rest started within the last hour and are nowhere near due, but inside the tick's horizon."""
    due_kinds = (
        (ClockKind.COMPLETION_24H, 24.0),
        (ClockKind.COMPLETION_48H, 48.0),
        (ClockKind.CP_DECISION, 2.0),
    )
    quiet_kinds = (
        ClockKind.SCREENING,
        ClockKind.COMPLETION_24H,
        ClockKind.COMPLETION_48H,
        ClockKind.REREFERRAL_RECOMMENDATION,
    )
    deadlines: list[Deadline] = []
    for n in range(count):
        if n % 10 == 0:
            turn = n // 10
            kind, hours = due_kinds[turn % 3]
            if turn % 2 == 0:  # due soon: 15% of the window left
                start = now - timedelta(hours=hours * 0.85)
            else:  # breached ten minutes ago
                start = now - timedelta(hours=hours, minutes=10)
        else:
            kind = quiet_kinds[n % len(quiet_kinds)]
            start = now - timedelta(minutes=n % 60)
        due = due_at(kind, start, calendar, policy)
        deadlines.append(
            Deadline(_reference(n + 1), kind, start, due, assignee_id=assignees[n % len(assignees)])
        )
    return deadlines


async def _add_deadlines(store: SqlStore, deadlines: Sequence[Deadline]) -> None:
    async with store.unit_of_work() as uow:
        for deadline in deadlines:
            await uow.deadlines.add(deadline)
        await uow.commit()


# -- 1. planning --------------------------------------------------------------------------------


async def _timed_plan(
    store: SqlStore, now: datetime, calendar: WorkingCalendar, policy: Policy
) -> tuple[float, int, int]:
    started = time.perf_counter()
    report = await plan_alerts(store.unit_of_work, rules=Rules(now, calendar, policy))
    return time.perf_counter() - started, len(report.alerts), report.enqueued


async def _plan_query_plan(store: SqlStore, now: datetime) -> str:
    """PostgreSQL's plan for the tick's query, as ``EXPLAIN`` prints it."""
    compiled = alerts_due_statement(now).compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    async with store.engine.connect() as connection:
        return "\n".join((await connection.execute(text(f"EXPLAIN {compiled}"))).scalars())


async def _planning(label: str, fresh: UrlFactory, closed_sizes: Sequence[int], results: Results) -> None:
    """The tick with ``TICK_OPEN`` open deadlines beside each of ``closed_sizes`` closed contacts."""
    for closed in closed_sizes:
        url = await fresh()
        settings = dataclasses.replace(
            Settings.from_env({**DEVELOPMENT, "DATABASE_URL": url}), policy=ELAPSED
        )
        calendar = working_calendar(settings, SettableClock(MONDAY_10AM))
        store = SqlStore(url)
        try:
            workers = await _staff(store, 20, MONDAY_10AM, calendar)
            started = time.perf_counter()
            await add_closed_contacts(store, closed, MONDAY_10AM)
            generated = time.perf_counter() - started
            opened = _open_deadlines(TICK_OPEN, MONDAY_10AM, calendar, settings.policy, workers)
            await add_open_deadlines(store, opened)
            first, alerts, enqueued = await _timed_plan(store, MONDAY_10AM, calendar, settings.policy)
            steady = [
                (
                    await _timed_plan(
                        store, MONDAY_10AM + timedelta(seconds=30 * (i + 1)), calendar, settings.policy
                    )
                )
                for i in range(STEADY_TICKS)
            ]
            plan = (
                await _plan_query_plan(store, MONDAY_10AM)
                if store.engine.dialect.name == "postgresql"
                else ""
            )
        finally:
            await store.close()
        steady_ms = _median_ms([s[0] for s in steady])
        print(
            f"{label:<10} tick {TICK_OPEN:>6} open, {closed:>9,} closed contacts "
            f"(generated in {generated:5.1f} s)   "
            f"first tick {_ms(first):7.1f} ms ({alerts} alerts, {enqueued} rows)   "
            f"steady tick p50 {steady_ms:6.2f} ms ({sum(s[2] for s in steady)} rows)"
        )
        results.setdefault("tick", []).append(
            {
                "database": label,
                "open": TICK_OPEN,
                "closed_contacts": closed,
                "first_tick_ms": round(_ms(first), 2),
                "first_tick_alerts": alerts,
                "steady_tick_p50_ms": round(steady_ms, 3),
            }
        )
        if plan:
            print("  EXPLAIN (the tick's query):\n    " + plan.replace("\n", "\n    "))
            results.setdefault("explain", {})[str(closed)] = plan


# -- 2. dispatch --------------------------------------------------------------------------------


@dataclass
class _Bot:
    app: web.Application
    server: TestServer
    store: SqlStore
    channel: TeamsChannel


@contextlib.asynccontextmanager
async def _serving(url: str, clock: SettableClock, *, scheduler: bool) -> AsyncIterator[_Bot]:
    """The real app on ``url`` over loopback HTTP, attached to a loopback Teams channel with no
    latency. With the scheduler, its ticks are an hour apart: the bench drives them."""
    settings = dataclasses.replace(
        Settings.from_env({**DEVELOPMENT, "DATABASE_URL": url}),
        scheduler_enabled=scheduler,
        tick_seconds=3600.0,
        policy=ELAPSED,
    )
    store = SqlStore(url)
    server = TestServer(create_app(settings, store=store, clock=clock), host="127.0.0.1")
    await server.start_server()
    channel = TeamsChannel()
    await channel.start()
    channel.attach(str(server.make_url("/api/messages")))
    try:
        yield _Bot(server.app, server, store, channel)
    finally:
        await channel.stop()
        await server.close()


def _duty_channel(channel: TeamsChannel) -> Conversation:
    return channel.channel(TEAM, DUTY_CHANNEL_ID, "Duty", members=[ADMIN])


async def _register_duty_channel(bot: _Bot) -> Conversation:
    async with bot.store.unit_of_work() as uow:
        await uow.roles.grant(ADMIN.aad_object_id, Role.ADMIN)
        await uow.commit()
    duty = _duty_channel(bot.channel)
    reply = await bot.channel.say(duty, ADMIN, "register duty channel")
    if not any("now the duty channel" in text for text in reply.texts):
        raise RuntimeError(f"the duty channel was not registered: {reply.texts}")
    return duty


async def _timed_dispatch(
    run: Callable[[], Awaitable[DispatchReport]],
) -> tuple[DispatchReport, float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    report = await run()
    return report, time.perf_counter() - wall, time.process_time() - cpu


def _dispatch_line(label: str, report: DispatchReport, wall: float, cpu: float, note: str) -> None:
    sent = max(report.sent, 1)
    print(
        f"{label:<34} {report.sent:>4} sent in {wall:6.2f} s   {report.sent / wall:6.1f} alerts/s   "
        f"CPU/alert (bot+channel) {_ms(cpu) / sent:5.2f} ms   {note}"
    )


def _most_in(arrivals: Sequence[datetime], span: timedelta) -> int:
    ordered = sorted(arrivals)
    most, first = 0, 0
    for last, moment in enumerate(ordered):
        while moment - ordered[first] >= span:
            first += 1
        most = max(most, last - first + 1)
    return most


async def _dispatch(fresh: UrlFactory) -> None:
    clock = SettableClock(MONDAY_10AM)
    async with _serving(await fresh(), clock, scheduler=True) as bot:
        calendar, policy = bot.app[CALENDAR], bot.app[SETTINGS].policy
        workers = await _staff(bot.store, CHATS, MONDAY_10AM, calendar)
        for n in range(CHATS):
            user = _worker(n)
            await bot.channel.installation_update(bot.channel.personal(user), user)
        # Two rounds of due-soon alerts, one a chat each: a 24-hour clock is due soon 18 hours in.
        rounds = (MONDAY_10AM, MONDAY_10AM + timedelta(minutes=5))
        deadlines = [
            Deadline(
                _reference(r * CHATS + n + 1),
                ClockKind.COMPLETION_24H,
                start - timedelta(hours=18, seconds=1),
                due_at(ClockKind.COMPLETION_24H, start - timedelta(hours=18, seconds=1), calendar, policy),
                assignee_id=person,
            )
            for r, start in enumerate(rounds)
            for n, person in enumerate(workers)
        ]
        await _add_deadlines(bot.store, deadlines)

        alerts = bot.app[ALERTS]
        await plan_alerts(bot.store.unit_of_work, rules=Rules(clock.now(), calendar, policy))
        report, wall, cpu = await _timed_dispatch(alerts.dispatch)
        _dispatch_line(f"{CHATS} chats, app[ALERTS].dispatch", report, wall, cpu, "(app-wide cap 30/s)")

        clock.set(rounds[1])
        await plan_alerts(bot.store.unit_of_work, rules=Rules(clock.now(), calendar, policy))
        uncapped = Dispatcher(
            bot.store.unit_of_work,
            TeamsAlertSender(bot.app[NOTIFIER], bot.store),
            clock,
            limiter=ConversationRateLimiter(overall=()),
        )
        report, wall, cpu = await _timed_dispatch(uncapped.dispatch_due)
        _dispatch_line(f"{CHATS} chats, no app-wide cap", report, wall, cpu, "(the pipeline's own ceiling)")

        # A burst of due-soon alerts all for one person (say, after the bot was down): one chat.
        burst_at = rounds[1] + timedelta(minutes=5)
        start = burst_at - timedelta(hours=18, seconds=1)
        await _add_deadlines(
            bot.store,
            [
                Deadline(
                    _reference(900_000 + n),
                    ClockKind.COMPLETION_24H,
                    start,
                    due_at(ClockKind.COMPLETION_24H, start, calendar, policy),
                    assignee_id=workers[0],
                )
                for n in range(ONE_CONVERSATION)
            ],
        )
        clock.set(burst_at)
        await plan_alerts(bot.store.unit_of_work, rules=Rules(clock.now(), calendar, policy))
        chat = bot.channel.personal(_worker(0))
        before = {post.seq for post in bot.channel.sent_to(chat)}
        report, wall, cpu = await _timed_dispatch(alerts.dispatch)
        arrivals = [post.at for post in bot.channel.sent_to(chat) if post.seq not in before]
        _dispatch_line(
            "1 chat, app[ALERTS].dispatch",
            report,
            wall,
            cpu,
            f"(most in any 1 s: {_most_in(arrivals, timedelta(seconds=1))}, Teams 7; "
            f"in any 2 s: {_most_in(arrivals, timedelta(seconds=2))}, Teams 8)",
        )


# -- 3. handover --------------------------------------------------------------------------------

#: Open states, and the clock each is on.
_HANDOVER_STATES: Final = (
    (ContactState.SW_ASSESSMENT, ClockKind.COMPLETION_48H),
    (ContactState.SW_ASSESSMENT, ClockKind.COMPLETION_24H),
    (ContactState.AWAITING_SCREENING, ClockKind.SCREENING),
    (ContactState.CP_DECISION, ClockKind.CP_DECISION),
    (ContactState.REFERRAL_ACCEPTED, ClockKind.COMPLETION_24H),
    (ContactState.OFFICER_WORK, ClockKind.COMPLETION_48H),
    (ContactState.DUTY_MANAGER_REVIEW, ClockKind.REREFERRAL_RECOMMENDATION),
    (ContactState.AWAITING_SIGNOFF, ClockKind.COMPLETION_48H),
)


async def _seed_contacts(bot: _Bot, count: int, now: datetime, workers: Sequence[str]) -> None:
    """``count`` open contacts received over the last three days, a third of them with social
    workers, each with its running clock (some breached, some at risk, some due overnight)."""
    calendar, policy = bot.app[CALENDAR], bot.app[SETTINGS].policy
    async with bot.store.unit_of_work() as uow:
        for n in range(count):
            state, kind = _HANDOVER_STATES[n % len(_HANDOVER_STATES)]
            received = now - timedelta(minutes=37 * n % (72 * 60))
            assignee = workers[n % len(workers)] if state is ContactState.SW_ASSESSMENT else None
            reference = _reference(n + 1)
            contact = dataclasses.replace(
                full_contact(f"c-bench-{n}", reference=reference),
                state=state,
                assignee_id=assignee,
                received_at=received,
            )
            await uow.contacts.add(contact)
            await uow.deadlines.add(
                Deadline(
                    reference, kind, received, due_at(kind, received, calendar, policy), assignee_id=assignee
                )
            )
        await uow.commit()


async def _handover(fresh: UrlFactory, results: Results) -> None:
    for count in HANDOVER_SIZES:
        clock = SettableClock(MONDAY_HANDOVER)
        async with _serving(await fresh(), clock, scheduler=False) as bot:
            calendar, policy = bot.app[CALENDAR], bot.app[SETTINGS].policy
            workers = await _staff(bot.store, 12, MONDAY_HANDOVER, calendar)
            duty = await _register_duty_channel(bot)
            await _seed_contacts(bot, count, MONDAY_HANDOVER, workers)

            builds: list[float] = []
            build_cpu: list[float] = []  # the process's CPU (the database driver's thread too)
            for _ in range(HANDOVER_RUNS):
                started, cpu = time.perf_counter(), time.process_time()
                handover = await current_handover(
                    bot.store.unit_of_work(),
                    rules=Rules(MONDAY_HANDOVER, calendar, policy),
                )
                builds.append(time.perf_counter() - started)
                build_cpu.append(time.process_time() - cpu)
            message = handover_message(handover, calendar, policy)
            item = OutboxItem(
                id=1,
                key=message.key,
                subject=message.subject,
                clock=message.clock,
                kind=message.kind,
                conversation_id=None,
                payload=message.payload,
                due_at=message.send_at,
                created_at=message.send_at,
                state=OutboxState.LEASED,
                attempts=1,
                next_attempt_at=message.send_at,
            )
            async with bot.store.unit_of_work() as uow:
                names = {e.aad_object_id: e.display_name for e in await uow.roles.entries() if e.display_name}
            renders: list[float] = []
            for _ in range(HANDOVER_RUNS):
                started = time.perf_counter()
                rendered = render(item, MONDAY_HANDOVER, names)
                renders.append(time.perf_counter() - started)
            card_kb = len(json.dumps(rendered.card).encode()) / 1024

            # As the scheduler posts it: the job enqueues it, the dispatcher sends it.
            before = {post.seq for post in bot.channel.sent_to(duty)}
            started = time.perf_counter()
            posted = await post_due_handover(
                bot.store.unit_of_work, rules=Rules(MONDAY_HANDOVER, calendar, policy)
            )
            enqueue = time.perf_counter() - started
            sender = TeamsAlertSender(bot.app[NOTIFIER], bot.store)
            await Dispatcher(bot.store.unit_of_work, sender, clock).dispatch_due()
            sent: list[SentActivity] = [p for p in bot.channel.sent_to(duty) if p.seq not in before]
            activity_kb = max((len(json.dumps(p.body).encode()) / 1024 for p in sent), default=0.0)
        print(
            f"handover {count:>3} open contacts   build (read+compute) p50 {_median_ms(builds):6.1f} ms "
            f"(CPU {_median_ms(build_cpu):6.1f} ms)   "
            f"render p50 {_median_ms(renders):5.1f} ms   job (build+enqueue) {_ms(enqueue):6.1f} ms   "
            f"card {card_kb:4.1f} KB, posted activity {activity_kb:4.1f} KB (Teams ~{TEAMS_LIMIT_KB:.0f} KB)"
            + ("" if posted is not None and len(sent) == 1 else "   NOT POSTED")
        )
        results.setdefault("handover", []).append(
            {
                "open_contacts": count,
                "build_p50_ms": round(_median_ms(builds), 2),
                "build_cpu_p50_ms": round(_median_ms(build_cpu), 2),
                "render_p50_ms": round(_median_ms(renders), 2),
                "card_kb": round(card_kb, 1),
                "posted_kb": round(activity_kb, 1),
            }
        )


# -- main -----------------------------------------------------------------------------------------


async def main(results: Results) -> None:
    print()
    print(f"Deadline alerts: the tick (median of {STEADY_TICKS} steady ticks), dispatch, handover")
    async with _sqlite_urls() as fresh:
        await _planning("SQLite", fresh, TICK_CLOSED, results)
        try:
            server_context = running_postgres_server()
            server = await asyncio.to_thread(server_context.__enter__)
        except (pytest.fail.Exception, RuntimeError, OSError, subprocess.SubprocessError) as error:
            print(f"PostgreSQL skipped: {str(error).splitlines()[0]}")
        else:
            try:
                async with _postgres_urls(server) as postgres:
                    await _planning(f"PG {server.version}", postgres, TICK_CLOSED, results)
            finally:
                await asyncio.to_thread(server_context.__exit__, None, None, None)
        await _dispatch(fresh)
        await _handover(fresh, results)
