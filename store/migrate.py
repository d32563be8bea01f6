"""Bring a database to the current schema with the Alembic migrations shipped in this package.

``upgrade(url)`` is what ``frontdoor-bot db upgrade`` runs before the bot starts; no
``alembic.ini`` is needed (``store/alembic.ini`` is only for writing new revisions).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

#: The Alembic script directory: ``env.py`` and ``versions/``.
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration for ``database_url`` and this package's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Config values are interpolated: a literal "%" (URL-escaped password) must be doubled.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The revision ``upgrade`` migrates to."""
    head = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite:///unused.db")).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations in {MIGRATIONS}")
    return head


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate ``database_url`` (``sqlite+aiosqlite:///…`` or ``postgresql+asyncpg://…``) to
    ``revision``. A SQLite file's directory is created if missing.

    Blocks until done. The migrations run on their own event loop in a worker thread, so this
    may also be called while an event loop is running (it blocks that loop meanwhile).
    """
    config = alembic_config(database_url)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="migrate") as worker:
        worker.submit(command.upgrade, config, revision).result()
