"""Every key of ``frontdoor/policy.toml`` is read by product code: a setting that does nothing is a
defect (a service would change it and see no effect).

The check reads the source, not a run: each dotted key ``table.key`` must appear as an attribute
read ``<…>.table.key`` (or ``t.key`` where ``t = <…>.table``) somewhere in ``frontdoor``, ``bot``,
``store`` or ``scheduler``, outside the dataclass that declares it. A property of the table's
dataclass that reads ``self.key`` (``alerts.tick`` for ``tick_seconds``) counts as the key when the
property is read.
"""

from __future__ import annotations

import ast
import inspect
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import fields
from importlib.resources import files
from pathlib import Path
from typing import get_type_hints

import pytest

from frontdoor.policy import Policy

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_PACKAGES = ("frontdoor", "bot", "store", "scheduler")


def policy_keys(text: str) -> list[str]:
    """The dotted keys of a policy TOML document."""
    return sorted(f"{table}.{key}" for table, values in tomllib.loads(text).items() for key in values)


def property_readers(cls: type) -> dict[str, set[str]]:
    """For each field of a policy table's dataclass, the names whose reading reads it: the field
    and the properties of the class that read ``self.<field>``."""
    readers = {f.name: {f.name} for f in fields(cls)}
    source = ast.parse(Path(inspect.getsourcefile(cls) or "").read_text(encoding="utf-8"))
    for node in ast.walk(source):
        if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    for inner in ast.walk(item):
                        if (
                            isinstance(inner, ast.Attribute)
                            and isinstance(inner.value, ast.Name)
                            and inner.value.id == "self"
                            and inner.attr in readers
                        ):
                            readers[inner.attr].add(item.name)
    return readers


def attribute_reads(sources: Iterable[str], tables: Iterable[str]) -> set[tuple[str, str]]:
    """Every (table, name) read as ``<…>.table.name``, or as ``alias.name`` after ``alias = <…>.table``."""
    tables = set(tables)
    found: set[tuple[str, str]] = set()
    for text in sources:
        tree = ast.parse(text)
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Attribute)
                and node.value.attr in tables
            ):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        aliases[target.id] = node.value.attr
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute):
                continue
            receiver = node.value
            if isinstance(receiver, ast.Attribute) and receiver.attr in tables:
                found.add((receiver.attr, node.attr))
            elif isinstance(receiver, ast.Name) and receiver.id in aliases:
                found.add((aliases[receiver.id], node.attr))
    return found


def unread_keys(
    keys: Iterable[str], readers: Mapping[str, Mapping[str, set[str]]], reads: set[tuple[str, str]]
) -> list[str]:
    """The dotted keys that nothing reads."""
    unread = []
    for dotted in keys:
        table, key = dotted.split(".", 1)
        names = readers.get(table, {}).get(key, {key})
        if not any((table, name) in reads for name in names):
            unread.append(dotted)
    return unread


def _product_sources() -> list[str]:
    return [
        path.read_text(encoding="utf-8")
        for package in PRODUCT_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def _tables() -> dict[str, type]:
    return {name: hint for name, hint in get_type_hints(Policy).items()}


DEFAULT_KEYS = policy_keys(files("frontdoor").joinpath("policy.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reads() -> set[tuple[str, str]]:
    return attribute_reads(_product_sources(), _tables())


@pytest.fixture(scope="module")
def readers() -> dict[str, dict[str, set[str]]]:
    return {name: property_readers(cls) for name, cls in _tables().items()}


@pytest.mark.parametrize("key", DEFAULT_KEYS)
def test_every_policy_key_is_read_by_product_code(
    key: str, reads: set[tuple[str, str]], readers: dict[str, dict[str, set[str]]]
) -> None:
    assert unread_keys([key], readers, reads) == [], f"{key} is read by no product code"


def test_the_check_finds_an_unread_key_and_accepts_reads_through_aliases_and_properties() -> None:
    keys = policy_keys(
        """
        [alerts]
        tick_seconds = 30
        due_soon_fraction = 0.25
        [caseload]
        cap = 10
        [retention]
        consultations_months = 6
        referrals_not_accepted_months = 6
        """
    )
    readers = {name: property_readers(cls) for name, cls in _tables().items()}
    code = [
        "def f(policy):\n    return policy.alerts.tick\n",  # through the property
        "def g(policy):\n    caseload = policy.caseload\n    return caseload.cap\n",  # an alias
        "def h(self):\n    return self._policy.retention.consultations_months\n",
        # the same name on another table does not count for this one
        "def i(policy):\n    return policy.rag.due_soon_fraction\n",
    ]
    reads = attribute_reads(code, _tables())
    assert unread_keys(keys, readers, reads) == [
        "alerts.due_soon_fraction",
        "retention.referrals_not_accepted_months",
    ]
    # The declaration of a field is not a read of it.
    declared = ["class Retention:\n    referrals_not_accepted_months: int = 6\n"]
    assert unread_keys(
        ["retention.referrals_not_accepted_months"], readers, attribute_reads(declared, _tables())
    )
