"""Validation of Teams' chart elements, which Microsoft's ``adaptivecards`` npm SDK does not know.

Teams renders ``Chart.*`` elements (Microsoft Teams documentation, "Charts in Adaptive Cards");
the SDK would report each one as an unknown element type. So before a card goes to the SDK, every
chart in it is checked here against the schema that ``microsoft-teams-cards`` is generated from:

- the element's type must be one of Teams' chart types, and the whole element must validate as
  that type's pydantic model (property types, enums such as colours and ``valueFormat``), with no
  property the model does not know (the models accept extra keys, so those are looked for);
- what Teams' documentation marks required: ``data`` on every chart, not empty (and every series
  of a line or grouped bar chart with values), ``value`` on a gauge, within its ``min``–``max``;

and is then replaced by a placeholder ``TextBlock`` so the SDK validates the rest of the card (the
elements around the chart, its actions and inputs) as usual. Problems start ``chart:``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from microsoft_teams.cards import (
    DonutChart,
    GaugeChart,
    GroupedVerticalBarChart,
    HorizontalBarChart,
    LineChart,
    PieChart,
    StackedHorizontalBarChart,
    VerticalBarChart,
)
from pydantic import BaseModel, ValidationError

CHART_MODELS: Mapping[str, type[BaseModel]] = {
    "Chart.Donut": DonutChart,
    "Chart.Gauge": GaugeChart,
    "Chart.VerticalBar.Grouped": GroupedVerticalBarChart,
    "Chart.HorizontalBar": HorizontalBarChart,
    "Chart.HorizontalBar.Stacked": StackedHorizontalBarChart,
    "Chart.Line": LineChart,
    "Chart.Pie": PieChart,
    "Chart.VerticalBar": VerticalBarChart,
}
#: Series whose points are in ``values`` (the others' data items are the points themselves).
_SERIES_CHARTS = frozenset({"Chart.Line", "Chart.VerticalBar.Grouped", "Chart.HorizontalBar.Stacked"})


def _unknown_properties(model: Any, path: str) -> list[str]:
    problems: list[str] = []
    if isinstance(model, BaseModel):
        extra = model.model_extra or {}
        problems += [f"chart: {path}: unknown property {key!r}" for key in sorted(extra)]
        for name in type(model).model_fields:
            problems += _unknown_properties(getattr(model, name), f"{path}.{name}")
    elif isinstance(model, list):
        for index, item in enumerate(model):
            problems += _unknown_properties(item, f"{path}[{index}]")
    return problems


def chart_problems(node: Mapping[str, Any], path: str) -> list[str]:
    """What is wrong with the chart element ``node`` at ``path``; [] when Teams would render it."""
    kind = node.get("type")
    model = CHART_MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        return [
            f"chart: {path}: {kind!r} is not one of Teams' chart types ({', '.join(sorted(CHART_MODELS))})"
        ]
    try:
        chart = model.model_validate(dict(node))
    except ValidationError as error:
        return [f"chart: {path} ({kind}): {e['loc']}: {e['msg']}" for e in error.errors()]
    problems = _unknown_properties(chart, f"{path} ({kind})")
    if kind == "Chart.Gauge":
        value, low, high = node.get("value"), node.get("min", 0), node.get("max", 100)
        if not isinstance(value, int | float):
            problems.append(f"chart: {path} (Chart.Gauge): a gauge needs a value")
        elif not low <= value <= high:
            problems.append(f"chart: {path} (Chart.Gauge): value {value} is outside {low}-{high}")
        return problems
    data = node.get("data")
    if not isinstance(data, list) or not data:
        problems.append(f"chart: {path} ({kind}): a chart needs data, not empty")
    elif kind in _SERIES_CHARTS:
        for index, series in enumerate(data):
            if not isinstance(series, Mapping) or not series.get("values"):
                problems.append(f"chart: {path}.data[{index}] ({kind}): a series needs values")
    return problems


def without_charts(card: Any, path: str = "$") -> tuple[Any, list[str]]:
    """``card`` with each chart replaced by a placeholder TextBlock, and the charts' problems."""
    if isinstance(card, list):
        items, problems = [], []
        for index, item in enumerate(card):
            replaced, found = without_charts(item, f"{path}[{index}]")
            items.append(replaced)
            problems += found
        return items, problems
    if not isinstance(card, Mapping):
        return card, []
    kind = card.get("type")
    if isinstance(kind, str) and kind.startswith("Chart."):
        return {"type": "TextBlock", "text": f"[{kind}]"}, chart_problems(card, path)
    replaced_card: dict[str, Any] = {}
    problems = []
    for key, value in card.items():
        # Card data is opaque: a chart-like dict in an action's data is not a chart.
        if key in ("data", "msteams", "metadata"):
            replaced_card[key] = value
            continue
        replaced_card[key], found = without_charts(value, f"{path}.{key}")
        problems += found
    return replaced_card, problems
