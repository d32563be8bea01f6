"""Management information (SPEC §11): timeliness and volumes from the honest clock records.

The figures are counted by the store (``FiguresQueries``: SQL aggregates over the deadlines, the
contacts and their events, never contacts loaded one by one) and put together here.

- *Timeliness*: a clock counts in the period in which it closed, met (by its due time) or late; a
  clock still open after its due time counts as late in the period of its due time, so a backlog
  never flatters the share. Cancelled clocks timed nothing and do not count. The screening,
  child-protection and completion clocks are the ones inspected.
- *Open contacts* at an instant: contacts submitted to the front door (to screening, or a
  re-referral to the duty manager) before it, less those signed off and closed before it.
- *Volumes*: contacts received in the period (by received-at), by source, type and presenting need;
  urgent contacts; re-referrals sent to the duty manager.

A narrowing (route, team, worker) applies to timeliness, times and volumes: the route a contact was
last screened to, the worker a clock counts for (the person it was assigned to when it closed, if
anyone, else whoever closed it: the decider of a screening or child-protection clock, the
consultant who signed off a completion; an open clock, its assignee; for volumes, the contact's
current assignee), and the team the role directory puts that worker in. Open contacts and
consultations are always the whole front door's.

*Times*: the median and 90th percentile of how long closed clocks ran (SQL ``percentile_cont`` or
its window-function equivalent). *Re-referral measure*: contacts whose child's case had closed
within 3 and 12 months before (the history checks' closure date, the re-referral rule's months).
"""

from __future__ import annotations

import calendar as month_calendar
import csv
import io
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from frontdoor.acting import Rules
from frontdoor.calendar import WorkingCalendar, months_before, require_aware
from frontdoor.contact import ContactType, PresentingNeed, Source
from frontdoor.figures_records import (
    INSPECTED_CLOCKS,
    REREFERRAL_MONTHS,
    ROUTES,
    ClockTally,
    ClockTimes,
    FiguresQueries,
    GroupBy,
    Narrowing,
    Period,
    ReasonRow,
    TimelinessRow,
    Volumes,
)
from frontdoor.late_reasons import LATE_REASON_TITLES, NO_REASON
from frontdoor.records import AuditEvent, ClockKind
from frontdoor.roles import Role
from frontdoor.script import CONTACT_TYPE_TITLES, NEED_TITLES, SOURCE_TITLES
from frontdoor.unit_of_work import UnitOfWorkFactory

__all__ = [
    "INSPECTED_CLOCKS",
    "REREFERRAL_MONTHS",
    "ROUTES",
    "ClockTally",
    "ClockTimes",
    "Figures",
    "FiguresExport",
    "FiguresQueries",
    "FiguresShown",
    "GroupBy",
    "Narrowing",
    "Period",
    "ReasonRow",
    "TimelinessRow",
    "Volumes",
    "WeeklyFigures",
    "compute_figures",
    "export_figures",
    "hours_text",
    "parse_period",
    "reason_measures",
    "rereferral_windows",
    "show_figures",
    "volume_measures",
    "volumes_between",
    "week_start",
    "weekly_figures",
]

# -- periods -----------------------------------------------------------------------------------------

_MONTH = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})")
_DAY = timedelta(days=1)


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def parse_period(text: str, now: datetime, calendar: WorkingCalendar) -> Period | str:
    """The period ``text`` names, or a message saying what is understood.

    "" (the default): the four weeks before this one and this week so far; "this week", "last
    week", "this month", "last month", or a month as ``2026-11``. Periods are local days.
    """
    tz = calendar.tz
    today = require_aware(now, "now").astimezone(tz).date()
    words = " ".join(text.lower().split())
    monday = week_start(today)
    tomorrow = today + _DAY
    if words in ("", "recent"):
        return Period(
            _midnight(monday - timedelta(weeks=4), tz),
            _midnight(tomorrow, tz),
            "the last 4 weeks and this week",
        )
    if words == "this week":
        return Period(
            _midnight(monday, tz),
            _midnight(tomorrow, tz),
            f"this week (from {monday:%a} {monday.day} {monday:%b})",
        )
    if words == "last week":
        start = monday - timedelta(weeks=1)
        return Period(
            _midnight(start, tz), _midnight(monday, tz), f"last week (from {start:%a} {start.day} {start:%b})"
        )
    first = today.replace(day=1)
    if words == "this month":
        return Period(_midnight(first, tz), _midnight(tomorrow, tz), f"{first:%B %Y} so far")
    if words == "last month":
        first = (first - _DAY).replace(day=1)
    elif match := _MONTH.fullmatch(words):
        year, month = int(match["year"]), int(match["month"])
        if not 1 <= month <= 12 or not 2000 <= year <= 2100:
            return _PERIOD_HELP
        first = date(year, month, 1)
        if first > today:
            return f"{first:%B %Y} has not started yet. " + _PERIOD_HELP
    else:
        return _PERIOD_HELP
    days = month_calendar.monthrange(first.year, first.month)[1]
    end = min(first + timedelta(days=days), tomorrow)
    return Period(_midnight(first, tz), _midnight(end, tz), f"{first:%B %Y}")


_PERIOD_HELP = (
    'Say "figures" for the last four weeks, or "figures this week", "figures last week", '
    '"figures this month", "figures last month" or "figures 2026-11" for a month.'
)


def _day_bounds(period: Period, tz: tzinfo) -> list[datetime]:
    """Local midnights from the period's start to its end (the period's days as buckets)."""
    day = period.start.astimezone(tz).date()
    bounds = []
    while (moment := _midnight(day, tz)) < period.end:
        bounds.append(moment)
        day += _DAY
    return [*bounds, period.end]


def _week_bounds(period: Period, tz: tzinfo) -> list[datetime]:
    """The period cut at each Monday's midnight: its weeks (the first and last maybe partial)."""
    day = week_start(period.start.astimezone(tz).date()) + timedelta(weeks=1)
    bounds = [period.start]
    while (moment := _midnight(day, tz)) < period.end:
        bounds.append(moment)
        day += timedelta(weeks=1)
    return [*bounds, period.end]


# -- the figures -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figures:
    """Everything the ``figures`` card and the CSV show for one period and narrowing."""

    period: Period
    narrowing: Narrowing
    #: (day, open contacts at the end of that day, or now for today)
    open_by_day: tuple[tuple[date, int], ...]
    band_low: int
    band_high: int
    #: (Monday of the week, the clocks' tallies in the period's part of that week)
    weeks: tuple[tuple[date, tuple[ClockTally, ...]], ...]
    totals: tuple[ClockTally, ...]
    #: screening decisions within one working day, this week so far (the gauge)
    screening_this_week: ClockTally
    volumes: Volumes
    #: how long the clocks closed in the period ran: median and 90th percentile, per clock
    times: tuple[ClockTimes, ...] = ()
    #: the late clocks by the reason recorded (SPEC §11 "breaches with reasons"), titled
    reasons: tuple[tuple[str, int], ...] = ()

    def total(self, clock: ClockKind) -> ClockTally:
        return next(t for t in self.totals if t.clock is clock)

    def time(self, clock: ClockKind) -> ClockTimes:
        return next((t for t in self.times if t.clock is clock), ClockTimes("0", clock))


def _tallies(rows: Sequence[TimelinessRow], group: str) -> tuple[ClockTally, ...]:
    found = {row.clock: row for row in rows if row.group == group}
    return tuple(
        ClockTally(clock, found[clock].met, found[clock].late) if clock in found else ClockTally(clock)
        for clock in INSPECTED_CLOCKS
    )


def _summed(rows: Sequence[TimelinessRow]) -> tuple[ClockTally, ...]:
    return tuple(
        ClockTally(
            clock,
            sum(r.met for r in rows if r.clock is clock),
            sum(r.late for r in rows if r.clock is clock),
        )
        for clock in INSPECTED_CLOCKS
    )


def _months_earlier(day: date, months: int, tz: tzinfo) -> date:
    """The day a window of ``months`` opens for a contact received on ``day``: the re-referral
    rule's own arithmetic (``frontdoor.calendar.months_before``), so the measure agrees with it."""
    return months_before(_midnight(day, tz), months).astimezone(tz).date()


def rereferral_windows(start: datetime, end: datetime, tz: tzinfo) -> tuple[list[datetime], list[list[date]]]:
    """The local midnights cutting ``start``–``end`` into days, and for each of
    ``REREFERRAL_MONTHS`` the day its window opens for a contact received on each of those days."""
    days = _day_bounds(Period(start, end, ""), tz)
    local_days = [moment.astimezone(tz).date() for moment in days[:-1]]
    return days, [[_months_earlier(day, months, tz) for day in local_days] for months in REREFERRAL_MONTHS]


async def volumes_between(
    queries: FiguresQueries, start: datetime, end: datetime, narrowing: Narrowing, tz: tzinfo
) -> Volumes:
    """The volumes from ``start`` to ``end``, with the re-referral measure: contacts whose child's
    case had closed within 3 and within 12 months before (``REREFERRAL_MONTHS``), counted in SQL
    against the window's opening day for each day of the period."""
    days, opens = rereferral_windows(start, end, tz)
    counts = await queries.returning(days, opens, narrowing)
    volumes = await queries.volumes(start, end, narrowing)
    return replace(volumes, returning=tuple(zip(REREFERRAL_MONTHS, counts, strict=True)))


async def _open_by_day(
    queries: FiguresQueries, period: Period, now: datetime, tz: tzinfo
) -> tuple[tuple[date, int], ...]:
    """The open contacts at the end of each of the period's days begun by ``now`` (at ``now`` for
    a day not over yet): the card's line and the CSV's rows."""
    bounds = _day_bounds(period, tz)
    days = [moment for moment in bounds[:-1] if moment <= now] + [bounds[-1]]
    # Each day's figure is at its end (midnight), or now for a day not over yet.
    counts = await queries.open_contacts([min(moment, now) for moment in days[1:]])
    return tuple((moment.astimezone(tz).date(), n) for moment, n in zip(days[:-1], counts, strict=True))


async def compute_figures(
    queries: FiguresQueries,
    period: Period,
    narrowing: Narrowing,
    now: datetime,
    calendar: WorkingCalendar,
    band: tuple[int, int],
) -> Figures:
    """The figures of ``period`` under ``narrowing``, as they stand at ``now``."""
    tz = calendar.tz
    weeks = _week_bounds(period, tz)
    by_week = await queries.timeliness(weeks, now, narrowing, GroupBy.WEEK)
    monday = _midnight(week_start(now.astimezone(tz).date()), tz)
    this_week = await queries.timeliness(
        [monday, max(now, monday + timedelta(microseconds=1))],
        now,
        narrowing,
        GroupBy.WEEK,
        [ClockKind.SCREENING],
    )
    screening = _tallies(this_week, "0")[0]
    times = await queries.times([period.start, period.end], narrowing, GroupBy.WEEK)
    reasons = await queries.breach_reasons([period.start, period.end], now, narrowing, GroupBy.WEEK)
    return Figures(
        period=period,
        narrowing=narrowing,
        open_by_day=await _open_by_day(queries, period, now, tz),
        band_low=band[0],
        band_high=band[1],
        weeks=tuple(
            (week_start(start.astimezone(tz).date()), _tallies(by_week, str(index)))
            for index, start in enumerate(weeks[:-1])
        ),
        totals=_summed(by_week),
        screening_this_week=screening,
        volumes=await volumes_between(queries, period.start, period.end, narrowing, tz),
        times=tuple(
            next((t for t in times if t.clock is clock), ClockTimes("0", clock)) for clock in INSPECTED_CLOCKS
        ),
        reasons=reason_measures(reasons, "0"),
    )


# -- the weekly card ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WeeklyFigures:
    """Last week against the week before (SPEC §11's weekly card), as the outbox row carries it."""

    week: date
    last: tuple[ClockTally, ...]
    before: tuple[ClockTally, ...]
    last_volumes: Volumes
    before_volumes: Volumes
    open_now: int

    def body(self) -> dict[str, object]:
        def tallies(items: Sequence[ClockTally]) -> list[dict[str, object]]:
            return [{"clock": t.clock.value, "met": t.met, "late": t.late} for t in items]

        def volumes(v: Volumes) -> dict[str, object]:
            return {
                "received": v.received,
                "urgent": v.urgent,
                "rereferrals": v.rereferrals,
                "by_source": dict(v.by_source),
            }

        return {
            "week": self.week.isoformat(),
            "last": tallies(self.last),
            "before": tallies(self.before),
            "last_volumes": volumes(self.last_volumes),
            "before_volumes": volumes(self.before_volumes),
            "open_now": self.open_now,
        }

    @classmethod
    def from_payload(cls, payload: str) -> WeeklyFigures:
        """The figures an outbox row's payload holds; ``ValueError`` if it holds none."""
        try:
            data = json.loads(payload)["figures"]

            def tallies(items: list[dict[str, object]]) -> tuple[ClockTally, ...]:
                return tuple(
                    ClockTally(ClockKind(str(i["clock"])), int(str(i["met"])), int(str(i["late"])))
                    for i in items
                )

            def volumes(v: dict[str, object]) -> Volumes:
                sources = v["by_source"]
                if not isinstance(sources, dict):
                    raise ValueError("by_source")
                return Volumes(
                    received=int(str(v["received"])),
                    urgent=int(str(v["urgent"])),
                    rereferrals=int(str(v["rereferrals"])),
                    by_source={str(k): int(str(n)) for k, n in sources.items()},
                )

            return cls(
                week=date.fromisoformat(data["week"]),
                last=tallies(data["last"]),
                before=tallies(data["before"]),
                last_volumes=volumes(data["last_volumes"]),
                before_volumes=volumes(data["before_volumes"]),
                open_now=int(data["open_now"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a weekly figures payload: {error}") from None


async def weekly_figures(
    queries: FiguresQueries, week: date, now: datetime, calendar: WorkingCalendar
) -> WeeklyFigures:
    """The weekly card's figures for the week starting on Monday ``week``: the week before it
    ("last week") against the one before that."""
    tz = calendar.tz
    bounds = [
        _midnight(week - timedelta(weeks=2), tz),
        _midnight(week - timedelta(weeks=1), tz),
        _midnight(week, tz),
    ]
    rows = await queries.timeliness(bounds, now, Narrowing(), GroupBy.WEEK)
    everyone = Narrowing()
    [open_now] = await queries.open_contacts([now])
    return WeeklyFigures(
        week=week,
        last=_tallies(rows, "1"),
        before=_tallies(rows, "0"),
        last_volumes=await queries.volumes(bounds[1], bounds[2], everyone),
        before_volumes=await queries.volumes(bounds[0], bounds[1], everyone),
        open_now=open_now,
    )


#: Titles for the CSV and the cards: one home for each word.
CLOCK_SHORT_TITLES: Mapping[ClockKind, str] = {
    ClockKind.SCREENING: "Screening in 1 working day",
    ClockKind.CP_DECISION: "CP decision in 2 hours",
    ClockKind.COMPLETION_24H: "Completed in 24h (routes I-II)",
    ClockKind.COMPLETION_48H: "Completed in 48h (routes III-IV)",
}


def volume_measures(volumes: Volumes) -> list[tuple[str, int]]:
    """The volumes, titled: the CSV's volume rows. The single numbers, then contacts received by
    source, type and presenting need, every choice in its fixed order, zeros included (a contact
    may present several needs, so those add up to more than the contacts)."""
    return [
        ("contacts received", volumes.received),
        ("urgent contacts", volumes.urgent),
        ("re-referrals", volumes.rereferrals),
        *((f"re-referrals within {months} months", n) for months, n in volumes.returning),
        ("consultations", volumes.consultations),
        *((f"{BY_SOURCE}{SOURCE_TITLES[s]}", volumes.by_source.get(s.value, 0)) for s in Source),
        *((f"{BY_TYPE}{CONTACT_TYPE_TITLES[t]}", volumes.by_type.get(t.value, 0)) for t in ContactType),
        *((f"{BY_NEED}{NEED_TITLES[n]}", volumes.by_need.get(n.value, 0)) for n in PresentingNeed),
    ]


#: The CSV's measures of contacts received by source, type and need: the prefix, then the title.
BY_SOURCE = "contacts received by source: "
BY_TYPE = "contacts received by type: "
BY_NEED = "contacts received by presenting need: "
#: The CSV's open contacts at the end of a day: the prefix, then the day (YYYY-MM-DD).
OPEN_AT_END_OF = "open contacts end of "


def reason_measures(rows: Sequence[ReasonRow], group: str) -> tuple[tuple[str, int], ...]:
    """``group``'s late clocks by reason, titled, every reason in the list's order and then "No
    reason recorded" (zeros included): the card's table and the CSV's rows."""
    counts = {row.reason: row.count for row in rows if row.group == group}
    return (
        *((title, counts.get(reason, 0)) for reason, title in LATE_REASON_TITLES.items()),
        (NO_REASON, counts.get(None, 0)),
    )


#: Every choice the volumes are counted by, in a fixed order.
SOURCES: tuple[str, ...] = tuple(s.value for s in Source)
CONTACT_TYPES: tuple[str, ...] = tuple(t.value for t in ContactType)
NEEDS: tuple[str, ...] = tuple(n.value for n in PresentingNeed)


# -- the use case ------------------------------------------------------------------------------------

#: Whom the figures may be narrowed to: the people clocks are assigned to.
NARROWABLE_ROLES: frozenset[Role] = frozenset(
    {Role.OFFICER, Role.SOCIAL_WORKER, Role.CONSULTANT, Role.TEAM_MANAGER, Role.DUTY_MANAGER}
)


@dataclass(frozen=True, slots=True)
class FiguresShown:
    figures: Figures
    #: (id, display name) of the people the figures may be narrowed to, by name
    workers: tuple[tuple[str, str], ...]
    names: Mapping[str, str]
    #: the teams the role directory records, by name
    teams: tuple[str, ...] = ()


async def show_figures(
    unit_of_work: UnitOfWorkFactory,
    actor_id: str,
    period_text: str,
    route: str,
    worker: str,
    *,
    rules: Rules,
    team: str = "",
) -> FiguresShown | str:
    """The figures for ``period_text`` narrowed to ``route``, ``team`` or ``worker`` ("" for none;
    the first given wins), audited as ``figures.viewed``; or a message saying what was not
    understood. The caller has checked that the actor may see figures."""
    period = parse_period(period_text, rules.now, rules.calendar)
    if isinstance(period, str):
        return period
    if route and route not in ROUTES:
        return "That route is not one of I, II, III or IV."
    async with unit_of_work() as uow:
        entries = await uow.roles.entries()
        workers = tuple(
            sorted(
                (
                    (e.aad_object_id, e.display_name or e.aad_object_id)
                    for e in entries
                    if e.roles & NARROWABLE_ROLES
                ),
                key=lambda pair: pair[1].lower(),
            )
        )
        teams = tuple(sorted({e.team for e in entries if e.team}, key=str.lower))
        if route:
            team = worker = ""
        elif team:
            worker = ""
        if worker and worker not in {person for person, _ in workers}:
            return "That worker is not in the directory."
        if team and team not in teams:
            return "No one in the directory is in that team."
        narrowing = Narrowing(route=route or None, worker_id=worker or None, team=team or None)
        band = (rules.policy.open_contacts.band_low, rules.policy.open_contacts.band_high)
        figures = await compute_figures(uow.figures, period, narrowing, rules.now, rules.calendar, band)
        detail = (
            f"period={period.start.isoformat()}/{period.end.isoformat()}; "
            f"route={route or '-'}; team={team or '-'}; worker={worker or '-'}"
        )
        await uow.audit.append(
            AuditEvent(
                at=rules.now, actor_id=actor_id, action="figures.viewed", subject="figures", detail=detail
            )
        )
        await uow.commit()
    names = {e.aad_object_id: e.display_name for e in entries if e.display_name}
    return FiguresShown(figures, workers, names, teams)


# -- the CSV export --------------------------------------------------------------------------------

#: The export's columns (SPEC §11). ``group`` is named by ``--by``; no column holds personal data
#: (a worker is their directory id; look names up with ``frontdoor-bot roles list``).
CSV_GROUP_TITLES: Mapping[GroupBy, str] = {
    GroupBy.WEEK: "week beginning",
    GroupBy.WORKER: "worker id",
    GroupBy.TEAM: "team",
    GroupBy.ROUTE: "route",
}
#: The measure of a breaches-by-reason row is this and the reason ("late: Consent being sought").
BREACHES_PREFIX = "late: "
#: The team group of clocks whose worker the directory puts in no team.
NO_TEAM = "(no team)"
CSV_COLUMNS: tuple[str, ...] = (
    "measure",
    "count",
    "on time",
    "late",
    "share on time (%)",
    "median hours",
    "90th percentile hours",
)


def hours_text(seconds: float | None) -> str:
    """Seconds as hours, one decimal ("" for none): the CSV's times."""
    return "" if seconds is None else f"{seconds / 3600:.1f}"


@dataclass(frozen=True, slots=True)
class FiguresExport:
    csv_text: str
    rows: int


async def export_figures(
    unit_of_work: UnitOfWorkFactory,
    actor_id: str,
    start: datetime,
    end: datetime,
    by: GroupBy,
    now: datetime,
    calendar: WorkingCalendar,
    band: tuple[int, int],
) -> FiguresExport:
    """The figures from ``start`` to ``end`` as CSV, by week, worker or route; audited as
    ``figures.exported``. Timeliness rows per group and clock; by week, also each week's volumes
    and the open contacts at the end of each of its days, with the ``band`` (low, high)."""
    period = Period(start, end, "export")
    bounds = _week_bounds(period, calendar.tz) if by is GroupBy.WEEK else [start, end]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([CSV_GROUP_TITLES[by], *CSV_COLUMNS])
    count = 0
    async with unit_of_work() as uow:
        rows = await uow.figures.timeliness(bounds, now, Narrowing(), by)

        def label(group: str) -> str:
            if by is GroupBy.WEEK:
                return week_start(bounds[int(group)].astimezone(calendar.tz).date()).isoformat()
            if by is GroupBy.TEAM:
                return group or NO_TEAM
            return group.upper() if by is GroupBy.ROUTE else group

        times = {(t.group, t.clock): t for t in await uow.figures.times(bounds, Narrowing(), by)}
        order = {clock: index for index, clock in enumerate(INSPECTED_CLOCKS)}
        groups = sorted({row.group for row in rows}, key=lambda g: int(g) if by is GroupBy.WEEK else g)
        for group in groups:
            for row in sorted((r for r in rows if r.group == group), key=lambda r: order[r.clock]):
                tally = ClockTally(row.clock, row.met, row.late)
                share = "" if tally.share is None else f"{tally.share * 100:.1f}"
                took = times.get((group, row.clock), ClockTimes(group, row.clock))
                writer.writerow(
                    [
                        label(group),
                        CLOCK_SHORT_TITLES[row.clock],
                        tally.total,
                        row.met,
                        row.late,
                        share,
                        hours_text(took.median),
                        hours_text(took.p90),
                    ]
                )
                count += 1
        reasons = await uow.figures.breach_reasons(bounds, now, Narrowing(), by)
        for group in sorted(
            {row.group for row in reasons}, key=lambda g: int(g) if by is GroupBy.WEEK else g
        ):
            for title, number in reason_measures(reasons, group):
                writer.writerow([label(group), f"{BREACHES_PREFIX}{title}", number, "", "", "", "", ""])
                count += 1
        if by is GroupBy.WEEK:
            open_by_day = await _open_by_day(uow.figures, period, now, calendar.tz)
            for index, (lower, upper) in enumerate(itertools.pairwise(bounds)):
                week = label(str(index))
                volumes = await volumes_between(uow.figures, lower, upper, Narrowing(), calendar.tz)
                measures = [
                    *volume_measures(volumes),
                    *(
                        (f"{OPEN_AT_END_OF}{day.isoformat()}", n)
                        for day, n in open_by_day
                        if week_start(day).isoformat() == week
                    ),
                    ("open contacts band low", band[0]),
                    ("open contacts band high", band[1]),
                ]
                for measure, number in measures:
                    writer.writerow([week, measure, number, "", "", "", "", ""])
                    count += 1
        detail = f"period={start.isoformat()}/{end.isoformat()}; by={by.value}; rows={count}"
        await uow.audit.append(
            AuditEvent(at=now, actor_id=actor_id, action="figures.exported", subject="figures", detail=detail)
        )
        await uow.commit()
    return FiguresExport(buffer.getvalue(), count)
