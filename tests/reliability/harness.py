"""The reliability harness: the bot as real ``frontdoor-bot serve`` processes that can be killed,
a database seeded directly, and alerts counted where they land, at the loopback Teams channel.

- ``BotProcess``: one bot process on the test database with the scheduler on and a short tick;
  ``start`` (on a new free port each time, waiting for ``/healthz``), ``kill`` (SIGKILL), ``stop``
  (SIGTERM, a graceful shutdown). Its JSON log lines go to one file across restarts. Its clock is
  the test's (``FRONTDOOR_CLOCK_START`` is the test clock's reading at each start), so what the
  bot believes "now" is never depends on the real date or time.
- ``seed_world``: staff in the role directory and on today's rota, conversation references for
  each person's personal chat and for the registered duty channel, built from Teams-shaped
  activities exactly as the bot builds them when it hears from a chat (``bot.teams``), with the
  loopback channel's ``serviceUrl``.
- ``due_soon`` / ``breached`` / ``add_deadlines``: open deadlines whose alerts are due at once.
- ``deliveries``: every alert card the channel received, by (conversation, ``alert`` key from the
  card's action data); ``outbox``: the alert outbox rows; ``expected_deliveries``: where each row
  should have landed; ``settle``: wait until the outbox and the channel are quiet.

People are obvious fictions; nothing here reads the bot's internals beyond its tables.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from botbuilder.schema import Activity
from sqlalchemy import select

from bot.cards.alerts import ALERT_ID_PREFIX
from bot.teams import conversation_record
from frontdoor.alerts import AlertKey, Recipient, RecipientKind
from frontdoor.calendar import LONDON
from frontdoor.ports import Clock
from frontdoor.records import ChannelPurpose, ChannelRegistration, ClockKind, Deadline, RotaEntry
from frontdoor.roles import Role
from store.sql import SqlStore
from store.tables import AlertOutboxRow, ConversationRefRow
from tests.harness.teams import Conversation, Operation, TeamsChannel, TeamsUser, cards_in

EXE = str(Path(sys.executable).with_name("frontdoor-bot"))
TEAM = "team-reliability"
DUTY_CHANNEL_ID = "19:reliability-duty@thread.tacv2"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# -- the bot process ------------------------------------------------------------------------------


class BotProcess:
    """``frontdoor-bot serve`` on the test database, with the scheduler on."""

    def __init__(
        self,
        name: str,
        database_url: str,
        log_path: Path,
        *,
        tick_seconds: float,
        clock: Clock,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.clock = clock
        self.database_url = database_url
        self.log_path = log_path
        self.tick_seconds = tick_seconds
        self.extra_env = dict(env or {})
        self.process: asyncio.subprocess.Process | None = None
        self.port = 0
        self.starts = 0
        self.kills = 0
        #: seconds from spawning to a healthy ``/healthz``, per start
        self.start_times: list[float] = []

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        ours = ("FRONTDOOR_", "Microsoft", "DATABASE_URL")
        env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
        env.update(
            DATABASE_URL=self.database_url,
            FRONTDOOR_PORT=str(self.port),
            FRONTDOOR_SCHEDULER="on",
            FRONTDOOR_TICK_SECONDS=f"{self.tick_seconds:g}",
            FRONTDOOR_LOG_LEVEL="INFO",
            FRONTDOOR_AUTH="off",  # local development on loopback, no credentials
            FRONTDOOR_CLOCK_START=self.clock.now().isoformat(),
        )
        env.update(self.extra_env)
        return env

    async def start(self, *, within: float = 30.0) -> None:
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        self.port = free_port()
        began = time.monotonic()
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                EXE, "serve", env=self._env(), stdout=log, stderr=log
            )
        self.starts += 1
        deadline = began + within
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while time.monotonic() < deadline:
                try:
                    async with session.get(f"{self.base_url}/healthz") as response:
                        if response.status == 200:
                            self.start_times.append(time.monotonic() - began)
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass
                if self.process.returncode is not None:
                    break
                await asyncio.sleep(0.03)
        await self.kill()
        raise AssertionError(f"{self.name} did not start:\n{self.tail()}")

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when the machine or the container dies."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGKILL)
        await process.wait()
        self.kills += 1

    async def stop(self, *, grace: float = 20.0) -> None:
        """SIGTERM, and wait for the graceful shutdown (SIGKILL after ``grace`` seconds)."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            async with asyncio.timeout(grace):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
            raise AssertionError(f"{self.name} did not stop within {grace:g}s of SIGTERM") from None

    def tail(self, chars: int = 4000) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return self.log_path.read_text(errors="replace")[-chars:]

    def log_lines(self) -> list[dict[str, Any]]:
        """The JSON log lines written so far (anything else, e.g. a traceback, is skipped)."""
        if not self.log_path.exists():
            return []
        lines: list[dict[str, Any]] = []
        for raw in self.log_path.read_text(errors="replace").splitlines():
            try:
                parsed = json.loads(raw)
            except ValueError:
                continue
            if isinstance(parsed, dict):
                lines.append(parsed)
        return lines

    def count_events(self, event: str, **fields: object) -> int:
        """Log lines of ``event`` whose fields have the values given."""
        return sum(
            1
            for line in self.log_lines()
            if line.get("event") == event and all(line.get(name) == value for name, value in fields.items())
        )

    def problems(self) -> list[str]:
        """Log lines at ERROR or above, and tracebacks that did not go through the JSON logger."""
        found = [
            f"{line.get('logger')}: {line.get('event')} {line.get('exception', '')}".strip()
            for line in self.log_lines()
            if line.get("level") in ("ERROR", "CRITICAL")
        ]
        if self.log_path.exists() and "Traceback (most recent call last)" in self.log_path.read_text(
            errors="replace"
        ):
            found.append("a traceback outside the JSON log")
        return found


# -- the world: staff, chats, the duty channel ---------------------------------------------------


@dataclass(frozen=True)
class AlertWorld:
    channel: TeamsChannel
    duty: Conversation
    admin: TeamsUser
    consultant: TeamsUser
    manager: TeamsUser
    duty_manager: TeamsUser
    workers: tuple[TeamsUser, ...]
    chats: Mapping[str, Conversation] = field(default_factory=dict)

    def chat_of(self, user: TeamsUser | str) -> Conversation:
        person = user if isinstance(user, str) else user.aad_object_id
        return self.chats[person]

    def conversation_for(self, recipient: Recipient) -> str:
        """The conversation an alert for ``recipient`` must land in."""
        if recipient.kind is RecipientKind.CHANNEL:
            if recipient.purpose is not ChannelPurpose.DUTY:
                raise AssertionError(f"alerts go to the duty channel only, not {recipient.text}")
            return self.duty.id
        return self.chats[recipient.address].id


def worker(index: int) -> TeamsUser:
    return TeamsUser(f"aad-rel-worker-{index:04d}", f"Wynn Testworker{index}")


ADMIN = TeamsUser("aad-rel-admin-0001", "Ada Testadmin")
CONSULTANT = TeamsUser("aad-rel-consultant-0001", "Cole Testconsultant")
MANAGER = TeamsUser("aad-rel-manager-0001", "Mina Testmanager")
DUTY_MANAGER = TeamsUser("aad-rel-duty-0001", "Dev Testdutymanager")


def _record(channel: TeamsChannel, conversation: Conversation, user: TeamsUser, at: datetime) -> Any:
    body = channel.activity(conversation, user, "message", text="hello", textFormat="plain")
    record = conversation_record(Activity().deserialize(body), at)
    assert record is not None
    return record


async def seed_world(store: SqlStore, channel: TeamsChannel, *, workers: int, now: datetime) -> AlertWorld:
    """Staff with roles, yesterday's, today's and tomorrow's rota (London) as at ``now``, a
    personal chat with the bot for everyone and the registered duty channel, as if each had talked
    to the bot already."""
    people = tuple(worker(index) for index in range(workers))
    duty = channel.channel(TEAM, DUTY_CHANNEL_ID, "Duty", members=[ADMIN, DUTY_MANAGER, MANAGER])
    chats = {user.aad_object_id: channel.personal(user) for user in (*people, CONSULTANT, MANAGER)}
    today = now.astimezone(LONDON).date()
    async with store.unit_of_work() as uow:
        await uow.roles.grant(ADMIN.aad_object_id, Role.ADMIN)
        await uow.roles.grant(CONSULTANT.aad_object_id, Role.CONSULTANT)
        await uow.roles.grant(MANAGER.aad_object_id, Role.TEAM_MANAGER)
        await uow.roles.grant(DUTY_MANAGER.aad_object_id, Role.DUTY_MANAGER)
        for person in people:
            await uow.roles.grant(person.aad_object_id, Role.SOCIAL_WORKER)
        for day in (today - timedelta(days=1), today, today + timedelta(days=1)):
            await _rota(uow, day)
        for user in (*people, CONSULTANT, MANAGER):
            await uow.conversations.upsert(_record(channel, chats[user.aad_object_id], user, now))
        await uow.conversations.upsert(_record(channel, duty, ADMIN, now))
        await uow.channels.register(
            ChannelRegistration(ChannelPurpose.DUTY, duty.id, ADMIN.aad_object_id, now)
        )
        await uow.commit()
    return AlertWorld(
        channel=channel,
        duty=duty,
        admin=ADMIN,
        consultant=CONSULTANT,
        manager=MANAGER,
        duty_manager=DUTY_MANAGER,
        workers=people,
        chats=chats,
    )


async def _rota(uow: Any, day: date) -> None:
    await uow.rota.set(RotaEntry(day, Role.CONSULTANT, CONSULTANT.aad_object_id))
    await uow.rota.set(RotaEntry(day, Role.TEAM_MANAGER, MANAGER.aad_object_id))
    await uow.rota.set(RotaEntry(day, Role.DUTY_MANAGER, DUTY_MANAGER.aad_object_id))


# -- deadlines -----------------------------------------------------------------------------------


def subject(index: int, series: int = 9) -> str:
    """A contact reference no intake will ever allocate in a test (``CT-26-9…``)."""
    return f"CT-26-{series}{index:05d}"


def due_soon(reference: str, assignee: TeamsUser | None, now: datetime) -> Deadline:
    """A 48-hour re-referral clock (elapsed hours at any time of day) with an hour left: due soon
    (a quarter of the window, twelve hours before), not breached. Due soon goes to the assignee
    only (the consultant when unassigned)."""
    return Deadline(
        subject=reference,
        clock=ClockKind.REREFERRAL_RECOMMENDATION,
        started_at=now - timedelta(hours=47),
        due_at=now + timedelta(hours=1),
        assignee_id=assignee.aad_object_id if assignee else None,
    )


def breached(reference: str, assignee: TeamsUser | None, now: datetime, ago: timedelta) -> Deadline:
    """A 48-hour re-referral clock that fell due ``ago``: breached, to the assignee and the duty
    channel (its due-soon alert is superseded). Not a child-protection clock, so no repeats."""
    due = now - ago
    return Deadline(
        subject=reference,
        clock=ClockKind.REREFERRAL_RECOMMENDATION,
        started_at=due - timedelta(hours=48),
        due_at=due,
        assignee_id=assignee.aad_object_id if assignee else None,
    )


async def add_deadlines(store: SqlStore, deadlines: Iterable[Deadline]) -> list[Deadline]:
    async with store.unit_of_work() as uow:
        added = [await uow.deadlines.add(deadline) for deadline in deadlines]
        await uow.commit()
    return added


# -- what was planned, what arrived -------------------------------------------------------------


@dataclass(frozen=True)
class OutboxRow:
    id: int
    key: str
    state: str
    attempts: int
    payload: dict[str, Any]
    created_at: datetime
    sent_at: datetime | None
    conversation_id: str | None
    last_error: str

    @property
    def alert(self) -> str:
        return AlertKey.parse(self.key).text

    @property
    def recipient(self) -> Recipient:
        return Recipient.parse(str(self.payload["recipient"]))

    @property
    def rerouted(self) -> bool:
        return self.key.endswith("~reroute")


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def outbox(store: SqlStore) -> list[OutboxRow]:
    """The outbox rows of deadline alerts. The scheduler's own daily posts (the handover, MARAC
    reminders, the weekly figures) follow the wall-clock day these processes run on, so they are
    left out: these tests are about the deadline alerts they make."""
    async with store.engine.connect() as connection:
        statement = (
            select(AlertOutboxRow).where(AlertOutboxRow.clock.is_not(None)).order_by(AlertOutboxRow.id)
        )
        rows = (await connection.execute(statement)).mappings()
        found = []
        for row in rows:
            created = _aware(row["created_at"])
            assert created is not None
            found.append(
                OutboxRow(
                    id=row["id"],
                    key=row["key"],
                    state=row["state"],
                    attempts=row["attempts"],
                    payload=json.loads(row["payload"]),
                    created_at=created,
                    sent_at=_aware(row["sent_at"]),
                    conversation_id=row["conversation_id"],
                    last_error=row["last_error"],
                )
            )
        return found


async def dead_conversations(store: SqlStore) -> dict[str, str]:
    """Conversation id -> reason, for every reference marked dead."""
    async with store.engine.connect() as connection:
        rows = await connection.execute(
            select(ConversationRefRow.conversation_id, ConversationRefRow.dead_reason).where(
                ConversationRefRow.dead.is_(True)
            )
        )
        return {conversation: reason for conversation, reason in rows.all()}


def alert_keys_in(card: Mapping[str, Any]) -> set[str]:
    """The alert keys a card names: in its reference line's id, and in the "I've got this" data."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            element_id = node.get("id")
            if isinstance(element_id, str) and element_id.startswith(ALERT_ID_PREFIX):
                found.add(element_id.removeprefix(ALERT_ID_PREFIX))
            data = node.get("data")
            if str(node.get("type", "")).startswith("Action.") and isinstance(data, dict):
                key = data.get("alert")
                if isinstance(key, str):
                    found.add(key)
            for value in node.values():
                walk(value)

    walk(card)
    return found


@dataclass(frozen=True)
class Arrival:
    conversation_id: str
    alert: str
    at: datetime
    card: Mapping[str, Any]


def deliveries(channel: TeamsChannel) -> list[Arrival]:
    """Every alert card posted (not updated) to any conversation, in order."""
    found: list[Arrival] = []
    for record in channel.sent_to():
        for card in cards_in(record):
            for key in sorted(alert_keys_in(card)):
                found.append(Arrival(record.root_conversation_id, key, record.at, card))
    return found


def expected_deliveries(world: AlertWorld, rows: Sequence[OutboxRow]) -> Counter[tuple[str, str]]:
    """Where each sent outbox row should have landed, once."""
    return Counter((world.conversation_for(row.recipient), row.alert) for row in rows if row.state == "sent")


def duplicates(arrivals: Iterable[Arrival]) -> dict[tuple[str, str], int]:
    counts = Counter((arrival.conversation_id, arrival.alert) for arrival in arrivals)
    return {key: count for key, count in counts.items() if count > 1}


def failed_posts(channel: TeamsChannel) -> int:
    return sum(
        1
        for call in channel.calls
        if call.status >= 400 and call.operation in (Operation.SEND, Operation.REPLY)
    )


async def settle(
    store: SqlStore, channel: TeamsChannel, *, within: float, quiet: float = 1.5
) -> list[OutboxRow]:
    """Wait until no outbox row is pending or leased and nothing changed (rows, their states,
    posts at the channel) for ``quiet`` seconds; returns the rows. Fails after ``within``."""
    deadline = time.monotonic() + within
    last: tuple[object, ...] | None = None
    stable_since = time.monotonic()
    rows: list[OutboxRow] = []
    while time.monotonic() < deadline:
        rows = await outbox(store)
        snapshot = (tuple((row.id, row.state) for row in rows), len(channel.activities), channel.in_flight)
        busy = channel.in_flight > 0 or any(row.state in ("pending", "leased") for row in rows)
        if snapshot != last or busy:
            last, stable_since = snapshot, time.monotonic()
        elif time.monotonic() - stable_since >= quiet:
            return rows
        await asyncio.sleep(0.1)
    states = Counter(row.state for row in rows)
    raise AssertionError(f"the outbox did not settle within {within:g}s: {dict(states)}")


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def latencies(rows: Sequence[OutboxRow], world: AlertWorld, arrivals: Sequence[Arrival]) -> list[float]:
    """Seconds from each row's enqueueing to its first arrival at the channel."""
    first: dict[tuple[str, str], datetime] = {}
    for arrival in arrivals:
        first.setdefault((arrival.conversation_id, arrival.alert), arrival.at)
    found = []
    for row in rows:
        landed = first.get((world.conversation_for(row.recipient), row.alert))
        if landed is not None:
            found.append((landed - row.created_at).total_seconds())
    return found


def busiest(arrivals: Sequence[Arrival], span: timedelta) -> tuple[int, str]:
    """The most alerts that reached one conversation within any ``span``, and which conversation
    (to hold against Teams' limits: 7 a second, 8 in two seconds, 60 in thirty)."""
    by_conversation: dict[str, list[datetime]] = {}
    for arrival in arrivals:
        by_conversation.setdefault(arrival.conversation_id, []).append(arrival.at)
    most, where = 0, ""
    for conversation, times in by_conversation.items():
        times.sort()
        start = 0
        for end, moment in enumerate(times):
            while moment - times[start] >= span:
                start += 1
            if end - start + 1 > most:
                most, where = end - start + 1, conversation
    return most, where
