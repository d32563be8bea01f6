"""The card validator checks Teams' chart elements against their schema (tests/harness/charts.py):
a good chart card passes, and each kind of mistake is reported, while the rest of the card still
goes to Microsoft's SDK."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.harness import cards
from tests.harness.cards import CardValidator

LINE = {
    "type": "Chart.Line",
    "title": "Open contacts",
    "data": [{"legend": "Open", "color": "good", "values": [{"x": "1 Nov", "y": 3}, {"x": "2 Nov", "y": 4}]}],
}
GAUGE = {"type": "Chart.Gauge", "min": 0, "max": 100, "value": 80, "valueFormat": "Percentage"}
DONUT = {"type": "Chart.Donut", "data": [{"legend": "Phone", "value": 3}]}
BARS = {
    "type": "Chart.VerticalBar.Grouped",
    "data": [{"legend": "Screening", "values": [{"x": "w/c 2 Nov", "y": 80}]}],
}


def _card(*elements: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": "Figures", "wrap": True}, *copy.deepcopy(list(elements))],
    }


def test_a_card_with_charts_passes(card_validator: CardValidator) -> None:
    assert card_validator.validate(_card(LINE, GAUGE, DONUT, BARS)) == []


def _changed(element: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(element)
    node: Any = changed
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return changed


@pytest.mark.parametrize(
    ("element", "expected"),
    [
        pytest.param({**LINE, "type": "Chart.Radar"}, "not one of Teams' chart types", id="unknown-chart"),
        pytest.param({**LINE, "colour": "good"}, "unknown property 'colour'", id="unknown-property"),
        pytest.param(
            _changed(LINE, ("data", 0, "color"), "pink"), "chart: $.body[1] (Chart.Line)", id="bad-colour"
        ),
        pytest.param(_changed(LINE, ("data", 0, "values", 0, "y"), "many"), "Chart.Line", id="bad-number"),
        pytest.param(
            _changed(LINE, ("data", 0, "valuez"), []), "unknown property 'valuez'", id="unknown-nested"
        ),
        pytest.param(_changed(LINE, ("data",), []), "a chart needs data", id="no-data"),
        pytest.param(_changed(BARS, ("data", 0, "values"), []), "a series needs values", id="empty-series"),
        pytest.param(_changed(GAUGE, ("value",), KeyError), "a gauge needs a value", id="gauge-no-value"),
        pytest.param(_changed(GAUGE, ("value",), 180), "outside 0-100", id="gauge-out-of-range"),
        pytest.param(_changed(GAUGE, ("valueFormat",), "Percent"), "Chart.Gauge", id="gauge-bad-format"),
    ],
)
def test_chart_mistakes_are_reported(
    card_validator: CardValidator, element: dict[str, Any], expected: str
) -> None:
    problems = card_validator.validate(_card(element))
    assert problems and any(expected in problem for problem in problems), problems
    assert all(problem.startswith("chart:") for problem in problems), problems


def test_the_rest_of_a_chart_card_still_goes_to_the_sdk(card_validator: CardValidator) -> None:
    card = _card(LINE)
    card["body"].append({"type": "Input.Text"})  # no id: the house checks and the SDK object
    problems = card_validator.validate(card)
    assert any("an input must have an id" in problem for problem in problems), problems


def test_without_the_chart_step_the_sdk_would_not_know_the_chart(monkeypatch: pytest.MonkeyPatch) -> None:
    """Why the chart step exists: Microsoft's SDK alone reports a chart as an unknown element."""
    monkeypatch.setattr(cards, "without_charts", lambda card: (card, []))
    validator = CardValidator()  # its own cache and worker
    try:
        problems = validator.validate(_card(LINE))
    finally:
        validator.close()
    assert any("Chart.Line" in problem and problem.startswith("sdk-parse") for problem in problems), problems
