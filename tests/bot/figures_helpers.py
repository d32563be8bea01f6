"""Reading the figures card: its tables' rows as cell texts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def _tables(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        if item["type"] == "Table":
            yield item
        yield from _tables(item.get("items", []))


def table_rows(card: dict[str, Any]) -> list[list[str]]:
    """Every table row's cell texts, the folded tables' too (in their hidden containers)."""
    return [
        [cell["items"][0]["text"] for cell in row["cells"]]
        for table in _tables(card["body"])
        for row in table["rows"]
    ]
