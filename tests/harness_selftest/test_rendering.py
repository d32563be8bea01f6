"""The card rendering check: Microsoft's JS renderer, Teams' host configs, headless Chromium."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from bot.cards.help import help_card
from frontdoor.commands import Scope
from frontdoor.roles import Role
from tests.harness.rendering import CARD_WIDTH, SCRIPT, CardRenderer, CardRendererUnavailable
from tests.harness_selftest.echo_bot import WIDE_CARD, decision_card


def card(*body: dict[str, Any], actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"type": "AdaptiveCard", "version": "1.5", "body": list(body), "actions": actions or []}


def text(words: str) -> dict[str, Any]:
    return {"type": "TextBlock", "text": words, "wrap": True}


def columns(*widths: str) -> dict[str, Any]:
    return {
        "type": "ColumnSet",
        "columns": [{"type": "Column", "width": width, "items": [text("cell")]} for width in widths],
    }


def submit(title: str) -> dict[str, Any]:
    return {"type": "Action.Submit", "title": title, "data": {"action": title}}


def test_cards_that_render_whole_pass(card_renderer: CardRenderer) -> None:
    good = [
        decision_card(),
        card(text("A long sentence that wraps " * 20), columns("auto", "stretch", "120px")),
        card(
            {"type": "Container", "isVisible": False, "id": "more", "items": [text("hidden until shown")]},
            {
                "type": "Table",
                "columns": [{"width": 1}, {"width": 2}],
                "rows": [
                    {
                        "type": "TableRow",
                        "cells": [{"type": "TableCell", "items": [text(word)]} for word in ("a", "b")],
                    }
                ],
            },
            actions=[{"type": "Action.ToggleVisibility", "title": "More", "targetElements": ["more"]}],
        ),
    ]

    assert card_renderer.render_problems(good) == [[], [], []]


def test_a_real_bot_card_passes(card_renderer: CardRenderer) -> None:
    every_role = help_card(list(Role), Scope.PERSONAL)

    assert card_renderer.render_problems([every_role]) == [[]]


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        pytest.param(
            card(text("before"), {"type": "Rating", "value": 3}),
            "render (light, dark): dropped: $.body[1] (Rating): the renderer does not know it "
            '(the renderer said: Unknown element type "Rating"',
            id="unknown element",
        ),
        pytest.param(
            card({"type": "TextBlock", "value": "text under a property the renderer does not know"}),
            "render (light, dark): dropped: $.body[0] (TextBlock): it renders as nothing",
            id="unknown property",
        ),
        pytest.param(
            card({"type": "FactSet", "items": [{"title": "Child", "value": "Sam"}]}),
            "render (light, dark): dropped: $.body[0] (FactSet): it renders as nothing",
            id="facts under the wrong key",
        ),
        pytest.param(
            card(
                {
                    "type": "Table",
                    "rows": [{"type": "TableRow", "cells": [{"type": "TableCell", "items": [text("a")]}]}],
                }
            ),
            "render (light, dark): dropped: $.body[0].rows[0].cells[0] (TableCell): it renders as nothing",
            id="a table without column definitions",
        ),
        pytest.param(
            card(text("seven actions"), actions=[submit(f"action {n}") for n in range(1, 8)]),
            "render (light, dark): dropped: $.actions[6] (Action.Submit): it renders as nothing",
            id="more actions than Teams shows",
        ),
        pytest.param(
            card(
                text("outer"),
                actions=[
                    {
                        "type": "Action.ShowCard",
                        "title": "Open",
                        "card": card({"type": "Sparkline", "values": [1]}),
                    }
                ],
            ),
            "render (light, dark): dropped: $.actions[0].card.body[0] (Sparkline): the renderer does not",
            id="inside a show card",
        ),
        pytest.param(
            WIDE_CARD,
            "render (light, dark): too wide: $: the card is 6",
            id="six fixed-width columns",
        ),
        pytest.param(
            card(columns("stretch", "500px")),
            f"a Teams card {CARD_WIDTH} px: $.body[0].columns[1].items[0] (TextBlock) ends at 5",
            id="one column wider than the card",
        ),
    ],
)
def test_a_card_that_does_not_render_whole_fails(
    card_renderer: CardRenderer, bad: dict[str, Any], expected: str
) -> None:
    [problems] = card_renderer.render_problems([bad])

    assert any(expected in problem for problem in problems), problems


def test_the_teams_host_config_is_used(card_renderer: CardRenderer) -> None:
    # Teams shows six actions (maxActions); the renderer's own default is five.
    [problems] = card_renderer.render_problems([card(actions=[submit(f"action {n}") for n in range(1, 8)])])

    assert [problem.split(" (Action")[0] for problem in problems] == [
        "render (light, dark): dropped: $.actions[6]"
    ]


def test_charts_are_rendered_as_their_placeholder(card_renderer: CardRenderer) -> None:
    series = {"legend": "contacts", "values": [{"x": 1, "y": 2}]}
    chart = {"type": "Chart.Line", "title": "Contacts", "data": [series]}

    assert card_renderer.render_problems([card(text("figures"), chart)]) == [[]]


def test_one_browser_renders_a_batch_quickly(card_renderer: CardRenderer) -> None:
    card_renderer.render_problems([card(text("warm up"))])
    cards = [card(text(f"card {n}"), columns("auto", "stretch")) for n in range(100)]
    started = time.perf_counter()

    results = card_renderer.render_problems(cards)

    assert results == [[]] * 100
    assert card_renderer.running
    assert time.perf_counter() - started < 10  # generous; about 0.5 s on a quiet machine


def test_answers_are_cached(card_renderer: CardRenderer) -> None:
    once = card(text("cached"))
    card_renderer.render_problems([once])
    rendered = card_renderer.rendered

    assert card_renderer.render_problems([once, once]) == [[], []]
    assert card_renderer.rendered == rendered


def test_missing_packages_fail_loudly(tmp_path: Path) -> None:
    # A copy of the script outside the project cannot find node_modules.
    script = tmp_path / SCRIPT.name
    shutil.copy(SCRIPT, script)
    renderer = CardRenderer(script=script, cwd=tmp_path)

    with pytest.raises(CardRendererUnavailable, match="cannot load Microsoft's Adaptive Cards renderer"):
        renderer.render_problems([card(text("x"))])
    renderer.close()


def test_a_missing_browser_fails_loudly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHROMIUM_PATH", str(tmp_path / "no-chromium"))
    renderer = CardRenderer()

    with pytest.raises(CardRendererUnavailable, match="cannot start headless Chromium"):
        renderer.render_problems([card(text("x"))])
    renderer.close()
