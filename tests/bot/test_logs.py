"""Logs carry ids and references only: a script full of fictional names leaves none in the logs."""

from __future__ import annotations

import asyncio
import io
import json
import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.logs import JsonFormatter
from tests.bot.conftest import StartBot
from tests.harness.teams import TeamsChannel, TeamsUser

SECRETS = [
    "Testy McTestface",
    "Zebedee Example",
    "Wilhelmina Fictionchild",
    "42 Imaginary Lane",
    "ZZ99 9ZZ",
    "worried about bruises",
]

OFFICER = TeamsUser("aad-officer-0300", "Testy McTestface")
PARENT = TeamsUser("aad-public-0301", "Zebedee Example")


async def test_no_name_or_free_text_reaches_the_logs(
    start_bot: StartBot, teams_channel: TeamsChannel, captured_logs: io.StringIO
) -> None:
    await start_bot()
    chat = teams_channel.personal(OFFICER)
    await teams_channel.install(chat, OFFICER)
    for text in [
        "help",
        "new contact about Wilhelmina Fictionchild at 42 Imaginary Lane ZZ99 9ZZ",
        "I am worried about bruises on Wilhelmina Fictionchild",
    ]:
        await teams_channel.say(chat, OFFICER, text)
    await teams_channel.submit(
        chat, OFFICER, {"child_name": "Wilhelmina Fictionchild", "address": "42 Imaginary Lane"}
    )
    await teams_channel.execute(
        chat, OFFICER, "decide", {"note": "worried about bruises", "name": "Zebedee Example"}
    )
    group = teams_channel.group_chat(OFFICER, PARENT, name="Zebedee Example and Testy McTestface")
    await teams_channel.say(group, PARENT, "Wilhelmina Fictionchild lives at 42 Imaginary Lane")

    lines = captured_logs.getvalue().splitlines()
    assert len(lines) >= 8, "the script should have produced log lines to check"
    for line in lines:
        json.loads(line)  # every line is structured
        for secret in SECRETS:
            assert secret not in line, f"{secret!r} leaked into a log line"


def test_an_exception_is_logged_by_type_and_location_never_its_message() -> None:
    formatter = JsonFormatter()
    try:
        raise ValueError("Wilhelmina Fictionchild, 42 Imaginary Lane")
    except ValueError as error:
        record = logging.LogRecord("frontdoor.test", logging.ERROR, __file__, 1, "failed", None, None)
        record.exc_info = (type(error), error, error.__traceback__)
    line = json.loads(formatter.format(record))
    assert line["exception"] == "ValueError"
    assert line["stack"][0].endswith(".py:" + line["stack"][0].rsplit(":", 1)[1])
    assert "Fictionchild" not in json.dumps(line)


def test_only_allowed_fields_are_written() -> None:
    record = logging.LogRecord("frontdoor.test", logging.INFO, __file__, 1, "message", None, None)
    record.reference = "CT-26-000001"
    record.child_name = "Wilhelmina Fictionchild"
    line = json.loads(JsonFormatter().format(record))
    assert line["reference"] == "CT-26-000001"
    assert "child_name" not in line


def test_third_party_arguments_are_withheld() -> None:
    record = logging.LogRecord(
        "botbuilder.x", logging.INFO, __file__, 1, "sent %s", ("Zebedee Example",), None
    )
    line = JsonFormatter().format(record)
    assert "Zebedee" not in line
    assert "arguments withheld" in line


async def test_the_scheduler_says_what_it_did_and_not_every_tick(captured_logs: io.StringIO) -> None:
    """APScheduler's lines keep their arguments (job ids and stores, never personal data); its
    per-run lines are dropped, its errors kept (by type, as every exception)."""
    ran = asyncio.Event()

    async def handover() -> None:
        ran.set()

    async def marac_reminders() -> None:
        raise ValueError("Wilhelmina Fictionchild")

    scheduler = AsyncIOScheduler()
    scheduler.add_job(handover, id="handover", name="handover")
    scheduler.add_job(marac_reminders, id="marac_reminders", name="marac_reminders")
    scheduler.start()
    try:
        await asyncio.wait_for(ran.wait(), 10)
        for _ in range(200):
            if "Job" in captured_logs.getvalue() and "marac_reminders" in captured_logs.getvalue():
                break
            await asyncio.sleep(0.01)
    finally:
        scheduler.shutdown(wait=False)
    lines = [json.loads(line) for line in captured_logs.getvalue().splitlines()]
    scheduler_lines = [line for line in lines if line["logger"].startswith("apscheduler")]
    events = [line["event"] for line in scheduler_lines]
    assert 'Added job "handover" to job store "default"' in events
    assert not any("withheld" in event or "%s" in event for event in events), events
    assert not any(event.startswith(("Running job", 'Job "handover" executed')) for event in events), events
    [failed] = [line for line in scheduler_lines if line["level"] == "ERROR"]
    assert "marac_reminders" in failed["event"] and failed["exception"] == "ValueError"
    assert "Fictionchild" not in captured_logs.getvalue()
