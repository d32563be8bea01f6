"""The card rendering check: Microsoft's Adaptive Cards JS renderer in headless Chromium.

Every card the loopback Teams channel records is also rendered by the renderer Teams' web client is
built on (npm ``adaptivecards``), with Microsoft's Teams host configs, light and dark (npm
``adaptivecards-designer``), into a Teams card's width. A card fails when an element or action of its
JSON is not in the rendered card (the renderer drops what it does not know, silently) or when the
rendered card is wider than a Teams card (``CARD_WIDTH``). See docs/testing.md.

One ``node render_card.js`` process per test process keeps one browser and one page per theme open;
the cards a channel recorded go to it in one batch. Answers are cached by the card's canonical JSON.

Teams' chart elements (``Chart.*``) are unknown to the JS renderer. They are checked against their
schema by the validator (``charts.py``) and rendered here as the same placeholder ``TextBlock`` the
validator gives the SDK, so the rest of the card is still rendered and measured.
"""

from __future__ import annotations

import atexit
import functools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.harness.cards import PROJECT_ROOT, NodeWorker
from tests.harness.charts import without_charts

SCRIPT = Path(__file__).with_name("render_card.js")
#: The width of a Teams card, in CSS pixels: the narrowest width Microsoft's Adaptive Cards designer
#: lays a Teams card out at (``.teams-inner-frame { min-width: 400px }`` in adaptivecards-designer's
#: dist/containers/teams-container-light.css and -dark.css). Kept in step with render_card.js.
CARD_WIDTH = 400
#: Starting Chromium on a busy machine takes a few seconds; a batch of cards well under one.
DEFAULT_TIMEOUT_SECONDS = 60.0


class CardRendererUnavailable(RuntimeError):
    """Node.js, the renderer packages or Chromium are not installed, or the worker died."""


class CardRenderer(NodeWorker):
    """A client for the rendering worker. Thread-safe; caches answers by the card's canonical JSON."""

    unavailable = CardRendererUnavailable
    what = "the card rendering check"

    def __init__(
        self,
        *,
        node: str | None = None,
        script: Path = SCRIPT,
        cwd: Path = PROJECT_ROOT,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(node=node, script=script, cwd=cwd, timeout=timeout)
        self.rendered = 0

    def render_problems(self, cards: Sequence[Mapping[str, Any]]) -> list[list[str]]:
        """For each card, what rendering it in Teams' light and dark themes shows wrong; [] if none."""
        keys = [self.canonical(card) for card in cards]
        with self._lock:
            missing = list(dict.fromkeys(key for key in keys if key not in self._cache))
            if missing:
                batch = [without_charts(json.loads(key))[0] for key in missing]
                answer = self._request({"cards": batch})
                results = answer.get("results")
                if not isinstance(results, list) or len(results) != len(missing):
                    error = answer.get("error", answer)
                    raise CardRendererUnavailable(f"the card rendering check failed: {error!r}")
                for key, problems in zip(missing, results, strict=True):
                    self._cache[key] = [str(problem) for problem in problems]
                self.rendered += len(missing)
            return [list(self._cache[key]) for key in keys]


@functools.cache
def shared_renderer() -> CardRenderer:
    """The one renderer of this test process (the ``card_renderer`` fixture hands out the same)."""
    renderer = CardRenderer()
    atexit.register(renderer.close)
    return renderer


def render_problems(card: Mapping[str, Any]) -> list[str]:
    """What rendering ``card`` with Microsoft's renderer and Teams' host configs shows wrong."""
    return shared_renderer().render_problems([card])[0]
