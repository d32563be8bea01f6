"""The ``frontdoor-bot`` command line, run as a real process: migrations, the role directory, the
duty rota, and ``serve`` answering ``help`` on loopback with SQLite — what ``make run`` does."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from frontdoor.agencies import Agency
from frontdoor.installation import INSTALLATION_SUBJECT
from frontdoor.roles import Role
from store.sql import SqlStore
from tests.harness.teams import TeamsChannel, TeamsUser

EXE = str(Path(sys.executable).with_name("frontdoor-bot"))


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    ours = ("FRONTDOOR_", "Microsoft", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path}/var/frontdoor.db"
    return env


def test_db_upgrade_creates_the_database_and_is_repeatable(cli_env: dict[str, str], tmp_path: Path) -> None:
    first = _run(cli_env, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "var" / "frontdoor.db").exists()
    second = _run(cli_env, "db", "upgrade")
    assert second.returncode == 0, second.stderr


async def test_roles_and_duty_commands_change_the_directory_and_are_audited(cli_env: dict[str, str]) -> None:
    assert _run(cli_env, "db", "upgrade").returncode == 0
    granted = _run(cli_env, "roles", "grant", "aad-cli-0001", "consultant")
    assert granted.returncode == 0 and "consultant granted" in granted.stdout
    again = _run(cli_env, "roles", "grant", "aad-cli-0001", "Consultant")
    assert "no change" in again.stdout
    assert "aad-cli-0001\tconsultant" in _run(cli_env, "roles", "list").stdout
    assert _run(cli_env, "duty", "set", "2026-11-23", "consultant", "aad-cli-0001").returncode == 0
    assert "consultant\taad-cli-0001" in _run(cli_env, "duty", "show", "2026-11-23").stdout
    assert _run(cli_env, "roles", "revoke", "aad-cli-0001", "consultant").returncode == 0

    store = SqlStore(cli_env["DATABASE_URL"])
    try:
        async with store.unit_of_work() as uow:
            assert await uow.roles.roles_of("aad-cli-0001") == frozenset()
            actions = [stored.event.action for stored in await uow.audit.for_subject("person:aad-cli-0001")]
            assert actions == ["role.grant", "role.revoke"]
            assert [e.role for e in await uow.rota.on(date(2026, 11, 23))] == [Role.CONSULTANT]
    finally:
        await store.close()


async def test_a_service_manager_is_granted_from_the_command_line(cli_env: dict[str, str]) -> None:
    assert _run(cli_env, "db", "upgrade").returncode == 0
    granted = _run(cli_env, "roles", "grant", "aad-cli-0002", "service-manager")
    assert granted.returncode == 0 and "service_manager granted" in granted.stdout, granted.stderr
    store = SqlStore(cli_env["DATABASE_URL"])
    try:
        async with store.unit_of_work() as uow:
            assert await uow.roles.roles_of("aad-cli-0002") == frozenset({Role.SERVICE_MANAGER})
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("roles", "grant", "aad-x", "wizard"), "unknown role 'wizard'"),
        (("duty", "set", "2026-13-01", "consultant", "aad-x"), "is not a date"),
        (("roles",), "required"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(
    cli_env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    result = _run(cli_env, *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_bad_settings_exit_2_naming_the_variable(cli_env: dict[str, str]) -> None:
    result = _run({**cli_env, "FRONTDOOR_ENV": "production"}, "db", "upgrade")
    assert result.returncode == 2
    assert "MicrosoftAppId" in result.stderr


def test_production_refuses_to_serve_with_a_clock_setting(cli_env: dict[str, str]) -> None:
    """``FRONTDOOR_CLOCK_START`` can never be switched on in production by accident: the process
    refuses to start, naming it."""
    env = {
        **cli_env,
        "FRONTDOOR_ENV": "production",
        "MicrosoftAppId": "00000000-0000-0000-0000-000000000001",
        "MicrosoftAppPassword": "not-a-real-secret",
        "MicrosoftAppTenantId": "00000000-0000-0000-0000-0000000000aa",
        "FRONTDOOR_PORT": str(_free_port()),
        "FRONTDOOR_CLOCK_START": "2026-12-07T08:35:00+00:00",
    }
    result = _run(env, "serve")
    assert result.returncode == 2
    assert "FRONTDOOR_CLOCK_START" in result.stderr and "production" in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_serve_answers_help_on_loopback(cli_env: dict[str, str], teams_channel: TeamsChannel) -> None:
    assert _run(cli_env, "db", "upgrade").returncode == 0
    port = _free_port()
    env = {
        **cli_env,
        "FRONTDOOR_PORT": str(port),
        "FRONTDOOR_AUTH": "off",
        "FRONTDOOR_CLOCK_START": "2026-03-17T10:00:00+00:00",
    }
    process = await asyncio.create_subprocess_exec(
        EXE, "serve", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                try:
                    async with session.get(f"{base}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                pytest.fail("the bot did not start")
        teams_channel.attach(f"{base}/api/messages")
        user = TeamsUser("aad-cli-0002", "Testy McTestface")
        reply = await teams_channel.say(teams_channel.personal(user), user, "help")
        assert reply.status in (200, 201)
        assert len(reply.cards) == 1
    finally:
        process.terminate()
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    assert b"authentication is off" in stderr
    assert b"Testy McTestface" not in stderr


#: Monday 7 December 2026, 08:20 in London (GMT), before the front door opens at 08:30: until then
#: the handover of the Friday before, 4 December, would be caught up (and escalated at 08:30).
MONDAY_MORNING = datetime(2026, 12, 7, 8, 20, tzinfo=UTC)


async def test_a_fresh_database_served_from_a_monday_morning_posts_nothing_for_the_friday_before(
    cli_env: dict[str, str],
) -> None:
    """``frontdoor-bot serve`` on a brand-new database, its clock starting at 08:20 on a Monday
    (``FRONTDOOR_CLOCK_START``), with the scheduler on: the start-up catch-up of the handover and
    MARAC jobs runs, the first start is recorded at that instant, and nothing is enqueued for the
    Friday before, when the service did not exist."""
    assert _run(cli_env, "db", "upgrade").returncode == 0
    env = {
        **cli_env,
        "FRONTDOOR_PORT": str(_free_port()),
        "FRONTDOOR_CLOCK_START": MONDAY_MORNING.isoformat(),
        "FRONTDOOR_SCHEDULER": "on",
        "FRONTDOOR_AUTH": "off",
    }
    process = await asyncio.create_subprocess_exec(
        EXE, "serve", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert process.stderr is not None
    ran: set[str] = set()
    try:
        async with asyncio.timeout(60):
            # Each job's first run is the start-up catch-up (the next one is a tick, 30 s, later).
            while not {"handover", "marac_reminders"} <= ran:
                line = await process.stderr.readline()
                if not line:
                    pytest.fail("the bot stopped")
                event = json.loads(line)
                if event.get("event") == "scheduled job ran":
                    ran.add(event["key"])
    finally:
        process.terminate()
        await asyncio.wait_for(process.communicate(), timeout=20)

    store = SqlStore(cli_env["DATABASE_URL"])
    try:
        async with store.unit_of_work() as uow:
            assert await uow.alerts.counts() == dict.fromkeys(await uow.alerts.counts(), 0)
            [first] = await uow.audit.for_subject(INSTALLATION_SUBJECT)
    finally:
        await store.close()
    # The process's clock started at the setting and ran at real speed.
    assert MONDAY_MORNING <= first.event.at < MONDAY_MORNING + timedelta(seconds=30)


async def test_a_partner_is_granted_with_their_agency(cli_env: dict[str, str]) -> None:
    assert _run(cli_env, "db", "upgrade").returncode == 0
    without = _run(cli_env, "roles", "grant", "aad-cli-0002", "partner")
    assert without.returncode == 2 and "--agency" in without.stderr
    wrong = _run(cli_env, "roles", "grant", "aad-cli-0002", "partner", "--agency", "fire")
    assert wrong.returncode == 2 and "unknown agency" in wrong.stderr
    granted = _run(cli_env, "roles", "grant", "aad-cli-0002", "partner", "--agency", "police")
    assert granted.returncode == 0 and "partner granted" in granted.stdout

    store = SqlStore(cli_env["DATABASE_URL"])
    try:
        async with store.unit_of_work() as uow:
            assert await uow.mash.agency_of("aad-cli-0002") is Agency.POLICE
        assert _run(cli_env, "roles", "revoke", "aad-cli-0002", "partner").returncode == 0
        async with store.unit_of_work() as uow:
            assert await uow.mash.agency_of("aad-cli-0002") is None
            actions = [stored.event.action for stored in await uow.audit.for_subject("person:aad-cli-0002")]
        assert actions == ["role.grant", "partner.agency", "role.revoke", "partner.agency"]
    finally:
        await store.close()


def test_a_dot_env_file_in_the_working_directory_is_read_and_the_environment_wins(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("FRONTDOOR_LOG_LEVEL=LOUDLY\n", encoding="utf-8")
    run = [EXE, "roles", "list"]
    result = subprocess.run(run, env=cli_env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "FRONTDOOR_LOG_LEVEL" in result.stderr
    env = {**cli_env, "FRONTDOOR_LOG_LEVEL": "INFO"}
    (tmp_path / "var").mkdir(exist_ok=True)
    subprocess.run([EXE, "db", "upgrade"], env=env, cwd=tmp_path, capture_output=True, timeout=60, check=True)
    result = subprocess.run(run, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "the role directory is empty" in result.stdout
