"""The figures cards (SPEC §11): the ``figures`` card with Teams' native chart elements, and the
weekly card to the duty channel.

The ``figures`` card shows, for a period and a narrowing: a line chart of open contacts each day
against the target band, grouped bars of timeliness by week and clock, a gauge of this week's
screening decisions within one working day, a donut of contacts by source and bars by presenting
need; and the same numbers in tables (with the clocks' median and 90th-percentile times, the
re-referral measure and consultations), for people who prefer to read. Buttons (``Action.Execute``,
verb ``FIGURES_VERB``) narrow it by route, team or worker, and the card is replaced in place.
Counts, shares, times, clock and route titles, team and staff names only: never anything about a
child.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

from microsoft_teams.cards import (
    Action,
    ActionSet,
    AdaptiveCard,
    CardElement,
    ChoiceSetInput,
    ColumnDefinition,
    DonutChart,
    DonutChartData,
    ExecuteAction,
    GaugeChart,
    GaugeChartLegend,
    GroupedVerticalBarChart,
    GroupedVerticalBarChartData,
    HorizontalBarChart,
    HorizontalBarChartDataValue,
    LineChart,
    LineChartData,
    LineChartValue,
    Table,
    TableCell,
    TableRow,
    TextBlock,
)
from microsoft_teams.cards import BarChartDataValue as BarValue
from microsoft_teams.cards import Choice as CardChoice

from bot.cards.collapse import collapsible
from bot.cards.common import to_dict
from bot.cards.rendered import Rendered
from frontdoor.alerts import OutboxItem
from frontdoor.contact import ContactType, PresentingNeed, Source
from frontdoor.figures import (
    CLOCK_SHORT_TITLES,
    ROUTES,
    ClockTally,
    ClockTimes,
    Figures,
    Narrowing,
    Volumes,
    WeeklyFigures,
)
from frontdoor.script import CONTACT_TYPE_TITLES, NEED_TITLES, SOURCE_TITLES

__all__ = [
    "FIGURES_ELSEWHERE",
    "FIGURES_VERB",
    "MOST_WORKERS",
    "PERIOD_KEY",
    "PICKED",
    "ROUTE_KEY",
    "TEAM_INPUT",
    "TEAM_KEY",
    "WORKER_INPUT",
    "WORKER_KEY",
    "WORKER_PICKED",
    "figures_card",
    "render_weekly_figures",
    "weekly_figures_card",
]

FIGURES_VERB: Final = "figures.show"
#: What someone asking for the figures in another kind of conversation is told.
FIGURES_ELSEWHERE: Final = "I show the figures in a personal chat with me, or in the duty channel."
#: The card data: the period as typed ("2026-11", "last week", …), the route ("i" … "iv") and the
#: worker's Azure AD object id; "" for none.
PERIOD_KEY: Final = "period"
ROUTE_KEY: Final = "route"
WORKER_KEY: Final = "worker"
TEAM_KEY: Final = "team"
#: The worker and team choices' input ids. Teams sends every input with every button, so only the
#: "Show this worker" ("Show this team") button, whose worker (team) is ``PICKED``, reads it.
WORKER_INPUT: Final = "figures_worker"
TEAM_INPUT: Final = "figures_team"
PICKED: Final = "picked"
WORKER_PICKED: Final = PICKED

#: Most bars shown for presenting needs (the table lists them all).
_MOST_NEEDS = 8
#: Most workers offered in the card's choice: a long directory must not take the card over Teams'
#: ~28 KB. The rest are counted ("and N more"); the CSV by worker has everyone.
MOST_WORKERS: Final = 40


def _text(text: str, **options: Any) -> TextBlock:
    return TextBlock(text=text, wrap=True, **options)


def _day_label(day: date) -> str:
    return f"{day.day} {day:%b}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    def row(cells: Sequence[str], bold: bool = False) -> TableRow:
        return TableRow(
            cells=[TableCell(items=[_text(cell, weight="Bolder" if bold else None)]) for cell in cells]
        )

    # Without column definitions Teams' renderer draws no cell at all.
    return Table(
        columns=[ColumnDefinition(width=1) for _ in header],
        first_row_as_headers=True,
        rows=[row(header, bold=True), *(row(r) for r in rows)],
    )


def _tally_row(title: str, tally: ClockTally) -> list[str]:
    return [title, str(tally.met), str(tally.late), tally.percent_text()]


def _duration_text(seconds: float | None) -> str:
    """A clock's running time, read at a glance: minutes under an hour, else hours (one decimal)
    under two days, else days."""
    if seconds is None:
        return "–"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _times_row(title: str, times: ClockTimes) -> list[str]:
    return [title, str(times.count), _duration_text(times.median), _duration_text(times.p90)]


def _open_chart(figures: Figures) -> LineChart:
    # The days are numbered from the period's first: a number axis is labelled at a few round
    # numbers, where a label on each of a month's days piles up into an unreadable row.
    days = list(range(1, len(figures.open_by_day) + 1))
    first, last = figures.open_by_day[0][0], figures.open_by_day[-1][0]

    def series(legend: str, values: Sequence[int], color: Any) -> LineChartData:
        return LineChartData(
            legend=legend,
            color=color,
            values=[LineChartValue(x=x, y=y) for x, y in zip(days, values, strict=True)],
        )

    count = len(days)
    return LineChart(
        title="Open contacts each day against the target band (the whole front door)",
        x_axis_title=f"Day (1 = {first:%a} {_day_label(first)}, {count} = {last:%a} {_day_label(last)})",
        y_axis_title="Open contacts",
        data=[
            series("Open contacts", [n for _, n in figures.open_by_day], "categoricalBlue"),
            series(f"Band low ({figures.band_low})", [figures.band_low] * count, "good"),
            series(f"Band high ({figures.band_high})", [figures.band_high] * count, "attention"),
        ],
    )


def _on_time_bars(
    title: str,
    series: Sequence[tuple[str, Sequence[tuple[str, ClockTally]]]],
    x_axis_title: str | None = None,
    y_axis_title: str | None = None,
) -> list[CardElement]:
    """A grouped bar chart of shares on time, one series per (legend, [(x, tally)]): a bar only
    where something was timed, since a 0% bar would read as every clock missed. A series with no
    bar is left out (Teams wants values in every series); with no bar at all, a line says so."""
    data = [
        GroupedVerticalBarChartData(
            legend=legend,
            values=[BarValue(x=x, y=round(t.share * 100)) for x, t in points if t.share is not None],
        )
        for legend, points in series
    ]
    data = [item for item in data if item.values]
    if not data:
        return [_text(f"{title}: nothing was timed, so no bars.")]
    chart = GroupedVerticalBarChart(
        title=title,
        x_axis_title=x_axis_title,
        y_axis_title=y_axis_title,
        y_min=0,
        y_max=100,
        data=data,
    )
    if all(t.share is not None for _, points in series for _, t in points):
        return [chart]
    return [chart, _text(NO_BAR, is_subtle=True, size="Small")]


#: Under a bar chart with a week (or clock) left without a bar.
NO_BAR: Final = "No bar where nothing was timed that week (– in the tables)."


def _timeliness_chart(figures: Figures) -> list[CardElement]:
    return _on_time_bars(
        "On time by week and clock (%)",
        [
            (
                CLOCK_SHORT_TITLES[clock],
                [(_day_label(week), tallies[index]) for week, tallies in figures.weeks],
            )
            for index, clock in enumerate(CLOCK_SHORT_TITLES)
        ],
        x_axis_title="Week beginning",
        y_axis_title="% on time",
    )


#: The gauge's title; when nothing was decided this week, the line shown instead of it.
GAUGE_TITLE: Final = "Screening decisions within one working day, this week"


def _gauge(tally: ClockTally) -> CardElement:
    share = tally.share
    if share is None:
        # A gauge needs a value, and 0% would read as every decision late: a line instead.
        return _text(f"{GAUGE_TITLE}: none decided yet.")
    return GaugeChart(
        title=GAUGE_TITLE,
        min=0,
        max=100,
        value=round(share * 100),
        value_format="Percentage",
        sub_label=f"{tally.met} of {tally.total}",
        segments=[
            GaugeChartLegend(size=60, legend="Below 60%", color="attention"),
            GaugeChartLegend(size=20, legend="60-80%", color="warning"),
            GaugeChartLegend(size=20, legend="80% and over", color="good"),
        ],
    )


def _source_rows(volumes: Volumes) -> list[tuple[str, int]]:
    return [
        (SOURCE_TITLES[s], volumes.by_source.get(s.value, 0))
        for s in Source
        if volumes.by_source.get(s.value)
    ]


def _need_rows(volumes: Volumes) -> list[tuple[str, int]]:
    rows = [
        (NEED_TITLES[n], volumes.by_need.get(n.value, 0))
        for n in PresentingNeed
        if volumes.by_need.get(n.value)
    ]
    return sorted(rows, key=lambda row: -row[1])


def _type_rows(volumes: Volumes) -> list[tuple[str, int]]:
    return [
        (CONTACT_TYPE_TITLES[t], volumes.by_type.get(t.value, 0))
        for t in ContactType
        if volumes.by_type.get(t.value)
    ]


def _volume_charts(volumes: Volumes) -> list[CardElement]:
    charts: list[CardElement] = []
    if sources := _source_rows(volumes):
        charts.append(
            DonutChart(
                title="Contacts by source",
                data=[DonutChartData(legend=title, value=n) for title, n in sources],
            )
        )
    if needs := _need_rows(volumes):
        charts.append(
            HorizontalBarChart(
                title="Contacts by presenting need",
                data=[HorizontalBarChartDataValue(x=title, y=n) for title, n in needs[:_MOST_NEEDS]],
            )
        )
    return charts


def _buttons(
    period_text: str, workers: Sequence[tuple[str, str]], teams: Sequence[str], narrowing: Narrowing
) -> list[CardElement]:
    def show(
        title: str, route_value: str = "", worker_value: str = "", team_value: str = ""
    ) -> ExecuteAction:
        data = {
            PERIOD_KEY: period_text,
            ROUTE_KEY: route_value,
            WORKER_KEY: worker_value,
            TEAM_KEY: team_value,
        }
        return ExecuteAction(title=title, verb=FIGURES_VERB, data=data)

    route, worker = narrowing.route, narrowing.worker_id
    routes: list[Action] = [show("All contacts")]
    routes += [show(f"Route {r.upper()}", route_value=r) for r in ROUTES if r != route]
    elements: list[CardElement] = []
    if teams:
        elements.append(
            ChoiceSetInput(
                id=TEAM_INPUT,
                label="Or one team (its workers' clocks)",
                value=narrowing.team,
                choices=[CardChoice(title=team, value=team) for team in teams],
            )
        )
        elements.append(ActionSet(actions=[show("Show this team", team_value=PICKED)]))
    if workers:
        listed = list(workers[:MOST_WORKERS])
        if worker and worker not in {person for person, _ in listed}:
            listed += [(person, name) for person, name in workers if person == worker]
        elements.append(
            ChoiceSetInput(
                id=WORKER_INPUT,
                label="Or one worker",
                value=worker or None,
                choices=[CardChoice(title=name, value=person) for person, name in listed],
            )
        )
        if more := len(workers) - len(listed):
            elements.append(
                _text(
                    f"and {more} more not listed here: the CSV export by worker has everyone.",
                    is_subtle=True,
                    size="Small",
                )
            )
        elements.append(ActionSet(actions=[show("Show this worker", worker_value=PICKED)]))
    # The team and worker lists are long: folded, like the tables.
    return [ActionSet(actions=routes), *collapsible("figures-narrow", "Show one team or worker", elements)]


def figures_card(
    figures: Figures,
    period_text: str,
    workers: Sequence[tuple[str, str]],
    names: Mapping[str, str],
    notice: str = "",
    teams: Sequence[str] = (),
) -> dict[str, Any]:
    """The ``figures`` card. ``workers``: (id, name) of the people it may be narrowed to;
    ``teams``: the teams it may be narrowed to."""
    narrowing = figures.narrowing
    who = narrowing.label
    if narrowing.worker_id is not None:
        who = names.get(narrowing.worker_id) or "one worker"
    volumes = figures.volumes
    body: list[CardElement] = [
        _text("Front door figures", is_subtle=True, size="Small"),
        _text(f"{figures.period.label}: {who}", size="Large", weight="Bolder"),
    ]
    if notice:
        body.append(_text(notice, color="Attention"))
    screening = figures.total(figures.screening_this_week.clock)
    on_time = (
        f"{screening.percent_text()} ({screening.met} of {screening.total})"
        if screening.total
        else "none due yet"
    )
    body += [
        _text(
            f"{volumes.received} contacts received, {volumes.urgent} urgent. Screening decisions within "
            f"one working day over the period: {on_time}.",
            weight="Bolder",
        ),
        _open_chart(figures),
        *_timeliness_chart(figures),
        _gauge(figures.screening_this_week),
        *_volume_charts(volumes),
        *collapsible(
            "figures-clocks",
            "Show on time and late by clock",
            [
                _table(
                    ["Clock", "On time", "Late", "Share on time"],
                    [_tally_row(CLOCK_SHORT_TITLES[t.clock], t) for t in figures.totals],
                ),
                _text(
                    "A clock counts when it closed; one still open after its due time counts as late "
                    "(and has no time yet). Worker: who made the decision (screening, CP), else whom "
                    "the clock was with when it closed.",
                    is_subtle=True,
                    size="Small",
                ),
            ],
            separator=True,
        ),
        *collapsible(
            "figures-times",
            "Show times from start to close",
            [
                _table(
                    ["Time from start to close", "Clocks closed", "Median", "90th percentile"],
                    [_times_row(CLOCK_SHORT_TITLES[t.clock], t) for t in figures.times],
                )
            ],
        ),
        *collapsible(
            "figures-reasons",
            "Show why clocks ran late",
            [_table(["Why clocks ran late", "Late"], [[title, str(n)] for title, n in figures.reasons])],
        ),
        *collapsible(
            "figures-volumes",
            "Show volumes",
            [
                _table(
                    ["Received", "Number"],
                    [
                        ["Contacts received", str(volumes.received)],
                        ["Urgent (immediate risk)", str(volumes.urgent)],
                        ["Re-referrals to the duty manager", str(volumes.rereferrals)],
                        *(
                            [f"Child's case closed within {months} months before", str(n)]
                            for months, n in volumes.returning
                        ),
                        ["Consultations (the whole front door)", str(volumes.consultations)],
                        *([title, str(n)] for title, n in _type_rows(volumes)),
                        *([title, str(n)] for title, n in _source_rows(volumes)),
                        *([title, str(n)] for title, n in _need_rows(volumes)),
                    ],
                )
            ],
        ),
        *_buttons(period_text, workers, teams, narrowing),
    ]
    return to_dict(AdaptiveCard(body=body, fallback_text=f"Front door figures: {figures.period.label}"))


def weekly_figures_card(weekly: WeeklyFigures, *, late: bool) -> dict[str, Any]:
    """The Monday card to the duty channel: last week against the week before."""
    last_monday = weekly.week.toordinal() - 7
    last = date.fromordinal(last_monday)
    before = date.fromordinal(last_monday - 7)
    header = ["Clock", f"w/c {_day_label(last)}", f"w/c {_day_label(before)}"]
    rows = [
        [
            CLOCK_SHORT_TITLES[now.clock],
            f"{now.percent_text()} ({now.met}/{now.total})",
            f"{then.percent_text()} ({then.met}/{then.total})",
        ]
        for now, then in zip(weekly.last, weekly.before, strict=True)
    ]
    volumes = [
        ["Contacts received", str(weekly.last_volumes.received), str(weekly.before_volumes.received)],
        ["Urgent", str(weekly.last_volumes.urgent), str(weekly.before_volumes.urgent)],
        ["Re-referrals", str(weekly.last_volumes.rereferrals), str(weekly.before_volumes.rereferrals)],
    ]
    body: list[CardElement] = [
        _text("Weekly figures", is_subtle=True, size="Small"),
        _text(f"Last week (from {_day_label(last)}) against the week before", size="Large", weight="Bolder"),
        *_on_time_bars(
            "On time (%)",
            [
                (label, [(CLOCK_SHORT_TITLES[t.clock], t) for t in tallies])
                for label, tallies in (
                    (f"w/c {_day_label(before)}", weekly.before),
                    (f"w/c {_day_label(last)}", weekly.last),
                )
            ],
        ),
        _table(header, rows),
        _table(["Volume", *header[1:]], volumes),
        _text(f"Open contacts now: {weekly.open_now}."),
        _text('Say "figures last week" to me for the charts in full.', is_subtle=True),
    ]
    if late:
        body.append(_text("Sent late: the bot was not running at the opening.", is_subtle=True))
    return to_dict(AdaptiveCard(body=body, fallback_text="Weekly figures: last week against the week before"))


def render_weekly_figures(item: OutboxItem, now: datetime, names: Mapping[str, str]) -> Rendered:
    """The outbox renderer of the weekly card (listed in ``bot.outbox_cards``)."""
    weekly = WeeklyFigures.from_payload(item.payload)
    return Rendered(
        card=weekly_figures_card(weekly, late=item.late(now)),
        text="Weekly figures: last week against the week before.",
    )
