"""Test modules share helpers through builder and helper modules, never by importing another
``test_*.py`` (which couples one test module's set-up to another's tests)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def imports_of_test_modules(path: Path, root: Path) -> list[str]:
    """Each ``from tests.….test_x import …`` in ``path``, as ``file:line imports module``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.relative_to(root)}:{node.lineno} imports {node.module}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module
        and node.module.startswith("tests.")
        and node.module.rsplit(".", 1)[-1].startswith("test_")
    ]


def test_no_test_module_imports_another() -> None:
    offenders = [
        line for path in sorted(TESTS.rglob("*.py")) for line in imports_of_test_modules(path, TESTS)
    ]
    assert offenders == []


def test_the_check_finds_such_an_import(tmp_path: Path) -> None:
    (tmp_path / "test_one.py").write_text(
        "from tests.bot.alert_helpers import REFERENCE\nfrom tests.bot.test_alerts import tick_at\n",
        encoding="utf-8",
    )
    assert imports_of_test_modules(tmp_path / "test_one.py", tmp_path) == [
        "test_one.py:2 imports tests.bot.test_alerts"
    ]
