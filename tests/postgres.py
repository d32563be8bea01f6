"""The test databases (a pytest plugin, listed in ``tests/conftest.py``).

A real PostgreSQL server runs for the test session: ``initdb`` into a temporary directory, started
on a free loopback port with durability switched off (the data is thrown away), stopped and
removed at the end. The server binaries come from the Debian ``postgresql`` package
(``make postgres-binaries``); initdb refuses to run as root, so as root the server commands run as
the ``postgres`` system user.

Fixtures:

- ``postgres_server`` (session): the running ``PostgresServer``.
- ``postgres_url`` (session): ``postgresql+asyncpg://…/frontdoor_test``, migrated, shared by the
  session.
- ``fresh_postgres_url`` (function): an empty migrated database for one test alone (databases
  are emptied after use and handed out again, see ``DatabasePool``).
- ``sqlite_url`` (function): a migrated SQLite file in the test's ``tmp_path``.
- ``store_backend`` / ``store`` (function, parametrized ``memory``, ``sqlite``, ``postgres``): an
  empty, migrated ``frontdoor.ports.Store``, closed afterwards. The ``postgres`` case is marked
  ``postgres``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from frontdoor.unit_of_work import Store
from store.migrate import upgrade
from store.sql import SqlStore
from store.tables import metadata
from tests.fakes import InMemoryStore

TEST_DATABASE = "frontdoor_test"
TEMPLATE_DATABASE = "frontdoor_template"
_SUPERUSER = "postgres"
_MISSING = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or under /usr/lib/postgresql/*/bin: "
    "run `make postgres-binaries` (it installs the Debian postgresql package)"
)


def _run_in_thread(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run ``coroutine`` on its own event loop, whether or not one is running here."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(asyncio.run, coroutine).result()


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    #: the server's major version
    version: int
    #: seconds from initdb to accepting connections
    started_in: float

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{_SUPERUSER}@{self.host}:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        """Run an administrative statement (CREATE/DROP DATABASE) on the ``postgres`` database."""

        async def run() -> None:
            connection = await asyncpg.connect(
                host=self.host, port=self.port, user=_SUPERUSER, database="postgres"
            )
            try:
                await connection.execute(sql)
            finally:
                await connection.close()

        _run_in_thread(run())

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create database ``name`` (a copy of ``template`` if given) and return its URL."""
        copy = ""
        if template:
            # A file copy is several times faster than the WAL-logged default when fsync is off.
            copy = (
                f" TEMPLATE {template} STRATEGY FILE_COPY" if self.version >= 15 else f" TEMPLATE {template}"
            )
        self.execute(f'CREATE DATABASE "{name}"{copy}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _binaries() -> Path | None:
    initdb = shutil.which("initdb")
    if initdb is not None and shutil.which("pg_ctl") is not None:
        return Path(initdb).resolve().parent
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
        reverse=True,
    )
    for candidate in candidates:
        if (candidate.parent / "pg_ctl").exists():
            return candidate.parent
    return None


def _major_version(bindir: Path) -> int:
    """The major version from ``pg_ctl --version``, e.g. "pg_ctl (PostgreSQL) 15.18 (Debian …)"."""
    output = subprocess.run(
        [str(bindir / "pg_ctl"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    return int(output.split(")")[1].split(".")[0])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def running_postgres_server() -> Iterator[PostgresServer]:
    """A throw-away PostgreSQL server for as long as the block runs (the ``postgres_server``
    fixture, and ``make bench`` outside pytest; there a missing binary raises ``pytest.fail``'s
    exception)."""
    bindir = _binaries()
    if bindir is None:
        pytest.fail(_MISSING, pytrace=False)
    root = Path(tempfile.mkdtemp(prefix="frontdoor-pg-"))
    as_root = os.geteuid() == 0
    if as_root:
        try:
            owner = pwd.getpwnam(_SUPERUSER)
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            pytest.fail(
                "running as root needs the `postgres` system user to run the test server", pytrace=False
            )
        os.chown(root, owner.pw_uid, owner.pw_gid)

    def run(*args: str | Path) -> None:
        command = [str(arg) for arg in args]
        if as_root:
            command = ["runuser", "-u", _SUPERUSER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            log = root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}\n{tail}")

    data = root / "data"
    pg_ctl = bindir / "pg_ctl"
    began = time.monotonic()
    started = False
    try:
        run(
            bindir / "initdb",
            "-D",
            data,
            "-U",
            _SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        for attempt in range(3):
            port = _free_port()
            options = (
                f"-p {port} -c listen_addresses=127.0.0.1 -k {root} -c fsync=off -c synchronous_commit=off "
                "-c full_page_writes=off -c max_connections=200"
            )
            try:
                run(pg_ctl, "start", "-w", "-t", "60", "-D", data, "-l", root / "server.log", "-o", options)
            except RuntimeError:
                if attempt == 2:
                    raise
                continue  # most likely the port was taken between probing and starting
            started = True
            break
        yield PostgresServer(
            host="127.0.0.1", port=port, version=_major_version(bindir), started_in=time.monotonic() - began
        )
    finally:
        try:
            if started:
                run(pg_ctl, "stop", "-m", "immediate", "-D", data)
        finally:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with running_postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """The name of a migrated database that tests copy and never connect to."""
    upgrade(postgres_server.create_database(TEMPLATE_DATABASE))
    return TEMPLATE_DATABASE


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer, postgres_template: str) -> str:
    return postgres_server.create_database(TEST_DATABASE, template=postgres_template)


class DatabasePool:
    """Migrated databases for one test each. Creating a database from the template takes about
    0.1 s (a checkpoint); emptying a used one takes a few milliseconds, so databases are emptied
    and handed out again. One whose tables no longer match the migrated set is dropped instead."""

    def __init__(self, server: PostgresServer, template: str) -> None:
        self._server = server
        self._template = template
        self._free: list[str] = []

    def take(self) -> str:
        if self._free:
            return self._free.pop()
        name = f"test_{uuid.uuid4().hex[:16]}"
        self._server.create_database(name, template=self._template)
        return name

    def give_back(self, name: str) -> None:
        try:
            _run_in_thread(self._empty(name))
        except (asyncpg.PostgresError, OSError, RuntimeError):
            self._server.drop_database(name)
            return
        self._free.append(name)

    async def _empty(self, name: str) -> None:
        connection = await asyncpg.connect(
            host=self._server.host, port=self._server.port, user=_SUPERUSER, database=name
        )
        try:
            tables = {
                record["tablename"]
                for record in await connection.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                )
            }
            if tables != set(metadata.tables) | {"alembic_version"}:
                raise RuntimeError(f"database {name} no longer has the migrated tables")
            sequences = [
                record["sequencename"]
                for record in await connection.fetch(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
                )
            ]
            async with connection.transaction():
                # A test that left a transaction open would block us: give up and drop instead.
                await connection.execute("SET LOCAL lock_timeout = '2s'")
                # As the superuser, skip triggers: the audit log's refuse DELETE (migration 0003).
                await connection.execute("SET LOCAL session_replication_role = replica")
                for table in reversed(metadata.sorted_tables):
                    await connection.execute(f'DELETE FROM "{table.name}"')
                for sequence in sequences:
                    await connection.execute(f'ALTER SEQUENCE "{sequence}" RESTART')
        finally:
            await connection.close()


@pytest.fixture(scope="session")
def postgres_databases(postgres_server: PostgresServer, postgres_template: str) -> DatabasePool:
    return DatabasePool(postgres_server, postgres_template)


@pytest.fixture
def fresh_postgres_url(postgres_server: PostgresServer, postgres_databases: DatabasePool) -> Iterator[str]:
    """An empty, migrated database for this test alone. Do not change its schema: make your own
    database with ``postgres_server.create_database`` for that."""
    name = postgres_databases.take()
    yield postgres_server.url(name)
    postgres_databases.give_back(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "frontdoor.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "frontdoor.db"
    source, target = sqlite3.connect(sqlite_template), sqlite3.connect(path)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return f"sqlite+aiosqlite:///{path}"


@dataclass(frozen=True)
class StoreBackend:
    name: str
    #: the database URL (None for the in-memory store)
    url: str | None


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def store_backend(request: pytest.FixtureRequest) -> StoreBackend:
    name: str = request.param
    if name == "sqlite":
        return StoreBackend(name, request.getfixturevalue("sqlite_url"))
    if name == "postgres":
        return StoreBackend(name, request.getfixturevalue("fresh_postgres_url"))
    return StoreBackend(name, None)


@pytest.fixture
async def store(store_backend: StoreBackend) -> AsyncIterator[Store]:
    opened: Store = InMemoryStore() if store_backend.url is None else SqlStore(store_backend.url)
    yield opened
    await opened.close()
