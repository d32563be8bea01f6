"""``make bench``: our turns against a bare botbuilder echo bot, both served in the same run.

Each bot runs in a process of its own (``frontdoor-bot serve`` on a fresh SQLite database with
the scheduler off, and ``tests.bench_echo``: ``CloudAdapter`` with the same start-up fixes), so
the CPU per turn is the bot process's own (``/proc/<pid>/stat``), not the Teams channel's. The
loopback Teams channel (``tests.harness``) drives both over HTTP:

- **help**: a text turn (ours: ``help``; echo: the text echoed back);
- **contact script**: ``new contact``, a Next on each card of the script with the routine answers
  and Submit, every turn timed (echo: the same number of turns, a text then card submissions);
- **decision**: a consultant decides route II on the decision card (``Action.Execute``; echo: an
  ``Action.Execute`` answered with a card);

each with one person (sequential), 8 and 32 people at once; and the contact script (echo: its
counterpart) at an offered load of 100 turns a second for 10 s, 20 people each starting a turn
every 0.2 s, staggered, each at a different card of the script (``script 100/s``). Resident
memory is read after warm-up and after the turns. Figures are printed, never asserted.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import aiohttp

from bot.cards.decisions import DECIDE_VERB, REFRESH_VERB
from bot.cards.intake import NEXT, SUBMIT
from frontdoor.roles import Role
from frontdoor.script import Section
from frontdoor.unit_of_work import Store
from store.migrate import upgrade
from store.sql import SqlStore
from tests.bot.intake_script import ROUTINE, actions, press, section_of_card
from tests.harness.teams import Conversation, SentActivity, TeamsChannel, TeamsUser
from tests.reliability.harness import free_port

HELP_TURNS: Final = 200
SEQUENTIAL_CONTACTS: Final = 12
LOADS: Final = (8, 32)
#: Text turns each person makes when several talk at once.
TURNS_PER_PERSON: Final = {8: 25, 32: 8}
#: Contacts each person makes when several work through the script at once.
CONTACT_LOADS: Final = {8: 5, 32: 2}
#: The offered load of the paced run: script turns a second, for how long, by how many people.
PACED_RATE: Final = 100
PACED_SECONDS: Final = 10
PACED_PEOPLE: Final = 20
PACED: Final = f"script {PACED_RATE}/s"
RATIONALE: Final = "Needs met by universal services after checks with school"
#: What a consultant fills in on the decision card for route II (as ``tests.bot.decision_helpers``).
#: What the decision card says once the decision is made (a refusal keeps the card as it was).
DECIDED: Final = "Decided: route II"
DECISION_INPUTS: Final = {
    "rationale": RATIONALE,
    "outcome": "advice_and_guidance",
    "service_consent": "given",
}
TEAM: Final = "team-bench"
DECISIONS_CHANNEL_ID: Final = "19:bench-decisions@thread.tacv2"
PEOPLE: Final = max(LOADS)

ADMIN = TeamsUser("aad-bench-admin", "Ada Benchadmin")
OFFICERS = [TeamsUser(f"aad-bench-officer-{n:03d}", f"Olu Benchofficer {n:03d}") for n in range(PEOPLE)]
CONSULTANTS = [
    TeamsUser(f"aad-bench-consultant-{n:03d}", f"Cora Benchconsultant {n:03d}") for n in range(PEOPLE)
]

Turn = Callable[[], Awaitable[None]]


# -- the processes ------------------------------------------------------------------------------


@dataclass
class Served:
    name: str
    process: asyncio.subprocess.Process
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/messages"

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()


async def _spawn(name: str, argv: list[str], env: dict[str, str], port: int, log: Path) -> Served:
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(*argv, env=env, stdout=out, stderr=out)
    served = Served(name, process, port)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        for _ in range(600):
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return served
            except (aiohttp.ClientError, TimeoutError):
                pass
            if process.returncode is not None:
                break
            await asyncio.sleep(0.05)
    await served.stop()
    raise RuntimeError(f"{name} did not start; see {log}")


async def grant_roles(store: Store) -> None:
    """The bench's people their roles: the administrator, the officers and the consultants."""
    async with store.unit_of_work() as uow:
        await uow.roles.grant(ADMIN.aad_object_id, Role.ADMIN)
        for officer in OFFICERS:
            await uow.roles.grant(officer.aad_object_id, Role.OFFICER)
        for consultant in CONSULTANTS:
            await uow.roles.grant(consultant.aad_object_id, Role.CONSULTANT)
        await uow.commit()


async def _ours(folder: Path) -> Served:
    url = f"sqlite+aiosqlite:///{folder / 'turns.db'}"
    await asyncio.to_thread(upgrade, url)
    store = SqlStore(url)
    await grant_roles(store)
    await store.close()
    port = free_port()
    keep = {
        k: v for k, v in os.environ.items() if not k.startswith(("FRONTDOOR_", "Microsoft", "DATABASE_URL"))
    }
    env = keep | {
        "DATABASE_URL": url,
        "FRONTDOOR_PORT": str(port),
        "FRONTDOOR_SCHEDULER": "off",
        "FRONTDOOR_LOG_LEVEL": "WARNING",
        "FRONTDOOR_AUTH": "off",  # loopback, no credentials
    }
    exe = str(Path(sys.executable).with_name("frontdoor-bot"))
    return await _spawn("ours", [exe, "serve"], env, port, folder / "ours.log")


async def _echo(folder: Path) -> Served:
    port = free_port()
    argv = [sys.executable, "-m", "tests.bench_echo", str(port)]
    return await _spawn("echo", argv, dict(os.environ), port, folder / "echo.log")


# -- measuring ----------------------------------------------------------------------------------


def _settle() -> None:
    """Before each measured run: this process (the Teams channel, which keeps every activity it
    was sent) collects and freezes its heap, so its own full collections do not land in the bots'
    latencies."""
    gc.collect()
    gc.freeze()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class Row:
    bot: str
    scenario: str
    people: int
    turns: int
    p50_ms: float
    p99_ms: float
    cpu_ms_per_turn: float
    turns_per_s: float
    ratio: dict[str, float | None] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "bot": self.bot,
            "scenario": self.scenario,
            "people": self.people,
            "turns": self.turns,
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "cpu_ms_per_turn": round(self.cpu_ms_per_turn, 2),
            "turns_per_s": round(self.turns_per_s, 1),
            "ratio_to_echo": {k: None if v is None else round(v, 2) for k, v in self.ratio.items()},
        }


async def _measured(
    served: Served,
    scenario: str,
    people: int,
    latencies: list[float],
    run: Callable[[], Awaitable[object]],
) -> Row:
    """``run`` timed as a whole, with the bot's CPU over it; ``run`` fills ``latencies``, a turn's
    latency each (after this process settles its heap)."""
    _settle()
    cpu_before, wall_before = served.cpu_seconds(), time.perf_counter()
    await run()
    wall, cpu = time.perf_counter() - wall_before, served.cpu_seconds() - cpu_before
    return Row(
        served.name,
        scenario,
        people,
        len(latencies),
        statistics.median(latencies),
        _percentile(latencies, 0.99),
        cpu / len(latencies) * 1000,
        len(latencies) / wall,
    )


async def _run(served: Served, scenario: str, people: list[list[Turn]]) -> Row:
    """Each person's turns in order, all the people at once; every turn timed."""
    latencies: list[float] = []

    async def person(turns: list[Turn]) -> None:
        for turn in turns:
            started = time.perf_counter()
            await turn()
            latencies.append((time.perf_counter() - started) * 1000)

    return await _measured(
        served, scenario, len(people), latencies, lambda: asyncio.gather(*(person(t) for t in people))
    )


# -- the scenarios ------------------------------------------------------------------------------


def _help_turns(channel: TeamsChannel, user: TeamsUser, count: int) -> list[Turn]:
    chat = channel.personal(user)

    async def turn() -> None:
        await channel.say(chat, user, "help")

    return [turn] * count


async def _walk_contact(channel: TeamsChannel, user: TeamsUser, timed: list[float]) -> None:
    """``user`` makes a contact through the whole script: each turn's latency goes to ``timed``."""
    chat = channel.personal(user)

    async def timed_turn(turn: Awaitable[object]) -> None:
        started = time.perf_counter()
        await turn
        timed.append((time.perf_counter() - started) * 1000)

    await timed_turn(channel.say(chat, user, "new contact"))
    for _ in range(len(Section) + 1):
        card = channel.last_card(chat)
        section = section_of_card(card)
        if section is Section.SUMMARY:
            await timed_turn(press(channel, chat, user, SUBMIT, card=card))
            return
        await timed_turn(press(channel, chat, user, NEXT, ROUTINE[section], card=card))
    raise RuntimeError("the contact script did not reach its summary")


async def _contacts(served: Served, channel: TeamsChannel, people: int, contacts_each: int) -> Row:
    latencies: list[float] = []

    async def person(user: TeamsUser) -> None:
        for _ in range(contacts_each):
            await _walk_contact(channel, user, latencies)

    return await _measured(
        served,
        "contact script",
        people,
        latencies,
        lambda: asyncio.gather(*(person(OFFICERS[n]) for n in range(people))),
    )


async def _paced(
    served: Served, people: list[Callable[[], Awaitable[None]]], rate: float, seconds: float
) -> Row:
    """An offered load of ``rate`` turns a second for ``seconds``: person ``n`` of ``len(people)``
    starts a turn every ``len(people) / rate`` seconds, staggered, and the next turn as soon as
    the last one answered if it is late. Each element of ``people`` makes that person's next turn."""
    latencies: list[float] = []
    interval = len(people) / rate

    async def person(n: int, turn: Callable[[], Awaitable[None]], started: float) -> None:
        due = started + n / rate
        while due < started + seconds:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            begun = time.perf_counter()
            await turn()
            latencies.append((time.perf_counter() - begun) * 1000)
            due += interval

    async def everyone() -> None:
        started = time.perf_counter()
        await asyncio.gather(*(person(n, turn, started) for n, turn in enumerate(people)))

    return await _measured(served, PACED, len(people), latencies, everyone)


def _script_stepper(channel: TeamsChannel, user: TeamsUser) -> Callable[[], Awaitable[None]]:
    """Each call is ``user``'s next turn of the contact script, contact after contact."""
    chat = channel.personal(user)
    state = {"next": "new"}

    async def step() -> None:
        if state["next"] == "new":
            await channel.say(chat, user, "new contact")
            state["next"] = "card"
            return
        card = channel.last_card(chat)
        section = section_of_card(card)
        if section is Section.SUMMARY:
            await press(channel, chat, user, SUBMIT, card=card)
            state["next"] = "new"
        else:
            await press(channel, chat, user, NEXT, ROUTINE[section], card=card)

    return step


#: Turns a routine contact takes: ``new contact``, then one on each card of the routine path (every
#: section but the emergency one, which only an urgent contact shows), the last of them Submit.
CONTACT_TURNS: Final = 1 + sum(section is not Section.EMERGENCY for section in Section)


async def _staggered(channel: TeamsChannel, people: list[TeamsUser]) -> list[Callable[[], Awaitable[None]]]:
    """A script stepper for each of ``people``, person ``n`` moved ``n`` turns into the script
    first (untimed), so that the paced run's people are at different cards, as people working
    independently are, rather than all submitting in the same tenth of a second."""
    steppers = [_script_stepper(channel, person) for person in people]
    for n, step in enumerate(steppers):
        for _ in range(n % CONTACT_TURNS):
            await step()
    return steppers


def _echo_stepper(channel: TeamsChannel, user: TeamsUser) -> Callable[[], Awaitable[None]]:
    """The echo bot's counterpart of ``_script_stepper``: a text, then card submissions."""
    turns = _echo_contact_turns(channel, user, len(Section) + 1)
    count = {"n": 0}

    async def step() -> None:
        await turns[count["n"] % len(turns)]()
        count["n"] += 1

    return step


def _echo_contact_turns(channel: TeamsChannel, user: TeamsUser, turns: int) -> list[Turn]:
    chat = channel.personal(user)
    answers = list(ROUTINE.values())

    async def text() -> None:
        await channel.say(chat, user, "new contact")

    def submission(n: int) -> Turn:
        async def turn() -> None:
            await channel.submit(chat, user, {**answers[n % len(answers)], "fd": NEXT})

        return turn

    return [text, *(submission(n) for n in range(turns - 1))]


async def _prepared_decisions(
    channel: TeamsChannel, decisions: Conversation, pairs: list[tuple[TeamsUser, SentActivity]]
) -> list[Turn]:
    """A decide turn (route II) for each (consultant, decision card posted): each consultant's view
    of the card is fetched first (its refresh), untimed, as Teams does when the card is shown."""
    turns: list[Turn] = []
    for consultant, post in pairs:
        card = post.card
        assert card is not None
        refresh = card["refresh"]["action"]["data"]
        view = await channel.execute(
            decisions, consultant, REFRESH_VERB, refresh, card_activity_id=post.activity_id
        )
        assert view.card is not None, view.text
        [button] = [
            node
            for node in actions(view.card)
            if node.get("verb") == DECIDE_VERB and node["data"].get("route") == "ii"
        ]
        data = {**button["data"], **DECISION_INPUTS}

        async def decide(
            who: TeamsUser = consultant, data: dict[str, Any] = data, aid: str = post.activity_id
        ) -> None:
            response = await channel.execute(decisions, who, DECIDE_VERB, data, card_activity_id=aid)
            if response.status != 200 or response.card is None:
                raise RuntimeError(f"a decision was not answered with a card: {response.status}")
            if DECIDED not in json.dumps(response.card):
                raise RuntimeError("a decision was refused: the bench measures decisions made")

        turns.append(decide)
    return turns


def _echo_execute_turns(channel: TeamsChannel, user: TeamsUser, count: int) -> list[Turn]:
    chat = channel.personal(user)

    async def turn() -> None:
        await channel.execute(chat, user, "accept", {"contact": "CT-000001"})

    return [turn] * count


# -- the run ------------------------------------------------------------------------------------


def _with_ratios(rows: list[Row]) -> None:
    echo = {(row.scenario, row.people): row for row in rows if row.bot == "echo"}
    for row in rows:
        base = echo.get((row.scenario, row.people))
        if base is None:
            continue
        row.ratio = {
            "p50": row.p50_ms / base.p50_ms,
            "p99": row.p99_ms / base.p99_ms,
            # the process's CPU counter ticks every 10 ms: a few fast turns may read as none
            "cpu": row.cpu_ms_per_turn / base.cpu_ms_per_turn if base.cpu_ms_per_turn else None,
            "turns_per_s": row.turns_per_s / base.turns_per_s,
        }


def _ratio_text(value: float | None) -> str:
    return "    -" if value is None else f"{value:5.2f}"


def _print(rows: list[Row]) -> None:
    print(
        f"{'scenario':<15} {'bot':<5} {'people':>6} {'turns':>5} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'CPU ms/turn':>11} {'turns/s':>8}   ratio to echo (p50, p99, CPU, turns/s)"
    )
    for row in rows:
        ratio = (
            " ".join(_ratio_text(row.ratio[k]) for k in ("p50", "p99", "cpu", "turns_per_s"))
            if row.ratio
            else ""
        )
        print(
            f"{row.scenario:<15} {row.bot:<5} {row.people:>6} {row.turns:>5} "
            f"{row.p50_ms:8.2f} {row.p99_ms:8.2f} {row.cpu_ms_per_turn:11.2f} {row.turns_per_s:8.1f}  {ratio}"
        )


def chart(rows: list[dict[str, Any]], path: Path) -> None:
    """Median and 99th-percentile latency against the people talking at once, ours and echo."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # a scenario measured at one load only (the paced run) has no curve to draw
    scenarios = sorted(
        {
            r["scenario"]
            for r in rows
            if len({o["people"] for o in rows if o["scenario"] == r["scenario"]}) > 1
        }
    )
    figure, axes = plt.subplots(1, len(scenarios), figsize=(5 * len(scenarios), 4), squeeze=False)
    for axis, scenario in zip(axes[0], scenarios, strict=True):
        for bot, style in (("ours", "-"), ("echo", "--")):
            mine = sorted(
                (r for r in rows if r["scenario"] == scenario and r["bot"] == bot), key=lambda r: r["people"]
            )
            people = [r["people"] for r in mine]
            axis.plot(people, [r["p50_ms"] for r in mine], style, marker="o", label=f"{bot} p50")
            axis.plot(people, [r["p99_ms"] for r in mine], style, marker="x", label=f"{bot} p99")
        axis.set_title(scenario)
        axis.set_xlabel("people at once")
        axis.set_ylabel("latency per turn (ms)")
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.legend(fontsize="small")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


async def main(results: dict[str, Any], folder: Path) -> None:
    echo, ours = await _echo(folder), await _ours(folder)
    channels = {name: TeamsChannel(request_timeout=120) for name in ("echo", "ours")}
    try:
        for served in (echo, ours):
            await channels[served.name].start()
            channels[served.name].attach(served.url)
        for served in (echo, ours):
            for turn in _help_turns(channels[served.name], ADMIN, 20):
                await turn()
        memory: dict[str, dict[str, float]] = {
            "after warm-up": {s.name: round(s.rss_mb(), 1) for s in (echo, ours)}
        }
        ours_channel = channels["ours"]
        decisions = ours_channel.channel(
            TEAM, DECISIONS_CHANNEL_ID, "Decisions", members=[ADMIN, *CONSULTANTS]
        )
        await ours_channel.say(decisions, ADMIN, "register decisions channel")

        rows: list[Row] = []
        failures: list[str] = []
        for people in (1, *LOADS):
            count = HELP_TURNS if people == 1 else TURNS_PER_PERSON[people]
            for served in (echo, ours):
                plan = [_help_turns(channels[served.name], OFFICERS[n], count) for n in range(people)]
                rows.append(await _run(served, "help", plan))

        for people in (1, *CONTACT_LOADS):
            contacts_each = CONTACT_LOADS.get(people, SEQUENTIAL_CONTACTS)
            mine = await _contacts(ours, ours_channel, people, contacts_each)
            per_person = mine.turns // people
            plan = [_echo_contact_turns(channels["echo"], OFFICERS[n], per_person) for n in range(people)]
            rows.extend([await _run(echo, "contact script", plan), mine])

        paced_people = OFFICERS[:PACED_PEOPLE]
        rows.append(
            await _paced(
                echo, [_echo_stepper(channels["echo"], p) for p in paced_people], PACED_RATE, PACED_SECONDS
            )
        )
        staggered = await _staggered(ours_channel, paced_people)
        rows.append(await _paced(ours, staggered, PACED_RATE, PACED_SECONDS))

        posts = [
            post
            for post in ours_channel.sent_to(decisions)
            if post.card is not None and "refresh" in post.card
        ]
        first = 0
        for people in (1, *LOADS):
            count = SEQUENTIAL_CONTACTS if people == 1 else people
            batch = posts[first : first + count]
            first += count
            if len(batch) < count:
                print(f"decision, {people} people: only {len(batch)} decision cards left; not measured")
                continue
            pairs = [
                (CONSULTANTS[0] if people == 1 else CONSULTANTS[n], post) for n, post in enumerate(batch)
            ]
            decide = await _prepared_decisions(ours_channel, decisions, pairs)
            plan = [decide] if people == 1 else [[turn] for turn in decide]
            echo_plan = [
                _echo_execute_turns(channels["echo"], OFFICERS[n], len(plan[n])) for n in range(len(plan))
            ]
            try:
                rows.extend([await _run(echo, "decision", echo_plan), await _run(ours, "decision", plan)])
            except RuntimeError as error:  # reported, so the rest of the bench still runs
                print(f"decision, {people} people: not measured ({error})")
                failures.append(f"decision, {people} people: {error}")
        memory["after the turns"] = {s.name: round(s.rss_mb(), 1) for s in (echo, ours)}
    finally:
        for channel in channels.values():
            await channel.stop()
        await ours.stop()
        await echo.stop()

    _with_ratios(rows)
    _print(rows)
    print("resident memory (MB): " + "; ".join(f"{when}: {m}" for when, m in memory.items()))
    results["turns"] = [row.as_json() for row in rows]
    results["memory_mb"] = memory
    results["turns_not_measured"] = failures
