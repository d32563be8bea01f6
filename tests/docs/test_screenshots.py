"""The user guide shows the cards `make screenshots` saves: every picture it links is in
docs/screenshots/, and every picture there is linked from it (so none is stale or unseen)."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _linked() -> set[str]:
    guide = (DOCS / "user-guide.md").read_text(encoding="utf-8")
    return set(re.findall(r"\]\((screenshots/[^)\s]+\.png)\)", guide))


def test_every_picture_the_user_guide_links_exists() -> None:
    linked = _linked()
    assert linked, "the user guide links no screenshots"
    missing = sorted(link for link in linked if not (DOCS / link).is_file())
    assert missing == []


def test_every_screenshot_is_in_the_user_guide() -> None:
    saved = {f"screenshots/{path.name}" for path in (DOCS / "screenshots").glob("*.png")}
    assert sorted(saved - _linked()) == []


def test_the_screenshots_are_pngs() -> None:
    for path in (DOCS / "screenshots").glob("*.png"):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path.name
