"""Reading the figures card: its tables' rows as cell texts."""

from __future__ import annotations

from typing import Any


def table_rows(card: dict[str, Any]) -> list[list[str]]:
    """Every table row's cell texts."""
    return [
        [cell["items"][0]["text"] for cell in row["cells"]]
        for item in card["body"]
        if item["type"] == "Table"
        for row in item["rows"]
    ]
