"""The ``frontdoor-bot`` command line, run as a real process: migrations, the role directory, the
duty rota, and ``serve`` answering ``help`` on loopback with SQLite — what ``make run`` does."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

import aiohttp
import pytest

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_serve_answers_help_on_loopback(cli_env: dict[str, str], teams_channel: TeamsChannel) -> None:
    assert _run(cli_env, "db", "upgrade").returncode == 0
    port = _free_port()
    env = {**cli_env, "FRONTDOOR_PORT": str(port)}
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
