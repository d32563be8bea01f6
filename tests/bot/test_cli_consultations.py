"""``frontdoor-bot consultations export`` run as a real process, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from frontdoor.acting import Rules, Who
from frontdoor.calendar import WorkingCalendar
from frontdoor.consultation import ConsultationDraft, link_consultation, save_consultation
from frontdoor.policy import default_policy
from frontdoor.roles import Role
from store.sql import SqlStore
from tests.store.samples import full_contact

EXE = str(Path(sys.executable).with_name("frontdoor-bot"))
POLICY = default_policy()
#: When the consultation is linked to its contact: after every save.
LINKED_AT = datetime(2026, 6, 9, 9, 0, tzinfo=UTC)


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def cli_env(database_url: str) -> dict[str, str]:
    ours = ("FRONTDOOR_", "Microsoft", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env["DATABASE_URL"] = database_url
    return env


def _draft(worry: str, **changes: object) -> ConsultationDraft:
    values: dict[str, object] = {
        "professional_name": "Testy McTestface",
        "agency": "Example Primary School",
        "professional_role": "DSL",
        "worry": worry,
        **changes,
    }
    return ConsultationDraft(**values)  # type: ignore[arg-type]


async def _seed(url: str) -> None:
    store = SqlStore(url)
    try:
        async with store.unit_of_work() as uow:
            await uow.roles.grant("aad-officer-0601", Role.OFFICER)
            await uow.roles.set_display_name("aad-officer-0601", "Ollie Officerperson")
            await uow.contacts.add(full_contact("c-1", reference="CT-26-000001"))
            await uow.commit()
        saves = [
            # 31 May 23:30 London: the day before the period
            (
                _draft("Before the period."),
                "aad-prof-0602",
                {Role.PROFESSIONAL},
                datetime(2026, 5, 31, 22, 30),
            ),
            (
                _draft("First in the period."),
                "aad-prof-0602",
                {Role.PROFESSIONAL},
                datetime(2026, 5, 31, 23, 0),
            ),
            (
                _draft("Logged for a caller.", advice="Ring back tomorrow.", on_behalf=True),
                "aad-officer-0601",
                {Role.OFFICER},
                datetime(2026, 6, 3, 10, 0),
            ),
            # 8 June 23:59 London is in; 9 June 00:00 London is out
            (
                _draft("Last in the period."),
                "aad-prof-0603",
                {Role.PROFESSIONAL},
                datetime(2026, 6, 8, 22, 59),
            ),
            (_draft("After the period."), "aad-prof-0603", {Role.PROFESSIONAL}, datetime(2026, 6, 8, 23, 0)),
        ]
        for draft, actor, roles, at in saves:
            async with store.unit_of_work() as uow:
                result = await save_consultation(
                    uow,
                    draft,
                    who=Who(actor, frozenset(roles)),
                    rules=Rules(at.replace(tzinfo=UTC), WorkingCalendar(), POLICY),
                )
                assert result.consultation is not None
        async with store.unit_of_work() as uow:
            await link_consultation(
                uow,
                "PC-26-00003",
                "CT-26-000001",
                who=Who("aad-officer-0601", frozenset({Role.OFFICER})),
                now=LINKED_AT,
            )
    finally:
        await store.close()


async def _exports(url: str) -> list[tuple[str, str]]:
    store = SqlStore(url)
    try:
        async with store.unit_of_work() as uow:
            return [(s.event.actor_id, s.event.detail) for s in await uow.audit.for_subject("consultations")]
    finally:
        await store.close()


async def test_export_writes_csv_without_free_text_by_default(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    await _seed(cli_env["DATABASE_URL"])
    result = _run(cli_env, "consultations", "export", "--from", "2026-06-01", "--to", "2026-06-08")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == [
        "reference",
        "created (Europe/London)",
        "agency",
        "role",
        "logged on behalf",
        "logged by",
        "advised by",
        "linked contact",
        "saved despite warnings",
    ]
    assert [row[:2] for row in rows[1:]] == [
        ["PC-26-00002", "2026-06-01 00:00"],
        ["PC-26-00003", "2026-06-03 11:00"],
        ["PC-26-00004", "2026-06-08 23:59"],
    ]
    assert rows[2][4:8] == ["yes", "Ollie Officerperson", "Ollie Officerperson", "CT-26-000001"]
    for text in ("Testy", "period", "caller", "Ring back"):
        assert text not in result.stdout

    output = tmp_path / "export.csv"
    result = _run(
        cli_env,
        "consultations",
        "export",
        "--from",
        "2026-06-01",
        "--to",
        "2026-06-08",
        "--with-text",
        "--output",
        str(output),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"3 consultations written to {output}"
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    rows = list(csv.reader(io.StringIO(output.read_text(encoding="utf-8"))))
    assert rows[0][9:] == ["professional name", "phone", "worry", "advice", "override reason"]
    assert [row[11] for row in rows[1:]] == [
        "First in the period.",
        "Logged for a caller.",
        "Last in the period.",
    ]
    assert rows[2][12] == "Ring back tomorrow."

    audited = await _exports(cli_env["DATABASE_URL"])
    assert len(audited) == 2 and all(actor.startswith("cli:") for actor, _ in audited)
    assert audited[0][1].startswith("3 from 2026-05-31T23:00:00+00:00 to 2026-06-08T23:00:00+00:00")
    assert audited[1][1].endswith(" with text") and not audited[0][1].endswith(" with text")


async def test_export_refuses_bad_arguments(cli_env: dict[str, str], tmp_path: Path) -> None:
    existing = tmp_path / "kept.csv"
    existing.write_text("someone's earlier export\n", encoding="utf-8")
    cases = [
        (("--from", "2026-06-08", "--to", "2026-06-01"), "--to is before --from"),
        (("--from", "2026-06-31", "--to", "2026-07-01"), "is not a date"),
        (("--to", "2026-07-01"), "required"),
        (
            ("--from", "2026-06-01", "--to", "2026-06-08", "--output", str(existing)),
            "exists; choose a new file",
        ),
    ]
    for args, message in cases:
        result = _run(cli_env, "consultations", "export", *args)
        assert result.returncode == 2, args
        assert message in result.stderr, (args, result.stderr)
    assert existing.read_text(encoding="utf-8") == "someone's earlier export\n"
    assert await _exports(cli_env["DATABASE_URL"]) == []
