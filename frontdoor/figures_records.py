"""The figures' records and the store's port for them (``FiguresQueries``): what the unit of work
gathers, apart from the use cases in ``frontdoor.figures`` that open units of work."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from frontdoor.calendar import require_aware
from frontdoor.records import ClockKind, LateReason

__all__ = [
    "INSPECTED_CLOCKS",
    "REREFERRAL_MONTHS",
    "ROUTES",
    "ClockTally",
    "ClockTimes",
    "FiguresQueries",
    "GroupBy",
    "Narrowing",
    "Period",
    "ReasonRow",
    "TimelinessRow",
    "Volumes",
]

#: The clocks an inspection asks about, in the order the figures show them.
INSPECTED_CLOCKS: tuple[ClockKind, ...] = (
    ClockKind.SCREENING,
    ClockKind.CP_DECISION,
    ClockKind.COMPLETION_24H,
    ClockKind.COMPLETION_48H,
)

#: Routes a contact can be narrowed to: the screening routes of SPEC §3 ("i" … "iv").
ROUTES: tuple[str, ...] = ("i", "ii", "iii", "iv")


#: The re-referral measure's windows (SPEC §11: "re-referrals within 3 and 12 months"), in months.
REREFERRAL_MONTHS: tuple[int, ...] = (3, 12)


class GroupBy(StrEnum):
    """How timeliness is split: by week (Monday to Sunday), by worker, by the worker's team (the
    role directory's) or by route."""

    WEEK = "week"
    WORKER = "worker"
    TEAM = "team"
    ROUTE = "route"


@dataclass(frozen=True, slots=True)
class Narrowing:
    """Which contacts the figures are about: all of them, or one route's, one worker's, or one
    team's (the people the role directory puts in that team)."""

    route: str | None = None
    worker_id: str | None = None
    team: str | None = None

    def __post_init__(self) -> None:
        if self.route is not None and self.route not in ROUTES:
            raise ValueError(f"unknown route {self.route!r}")

    @property
    def label(self) -> str:
        if self.route is not None:
            return f"route {self.route.upper()}"
        if self.worker_id is not None:
            return "one worker"
        if self.team is not None:
            return f"team {self.team}"
        return "all contacts"


@dataclass(frozen=True, slots=True)
class Period:
    """From ``start`` (inclusive) to ``end`` (exclusive), UTC, with how people name it."""

    start: datetime
    end: datetime
    label: str

    def __post_init__(self) -> None:
        require_aware(self.start, "period start")
        require_aware(self.end, "period end")
        if self.end <= self.start:
            raise ValueError("a period must end after it starts")


@dataclass(frozen=True, slots=True)
class TimelinessRow:
    """One group's count of one clock: how many met and how many late."""

    group: str
    clock: ClockKind
    met: int
    late: int


@dataclass(frozen=True, slots=True)
class ReasonRow:
    """How many of one group's late clocks have one reason (None: no reason recorded)."""

    group: str
    reason: LateReason | None
    count: int


@dataclass(frozen=True, slots=True)
class ClockTimes:
    """How long one group's closed clocks of one kind ran, from start to close, in seconds: the
    median and the 90th percentile (continuous, interpolated like PostgreSQL's
    ``percentile_cont``); None when no clock closed."""

    group: str
    clock: ClockKind
    count: int = 0
    median: float | None = None
    p90: float | None = None


@dataclass(frozen=True, slots=True)
class ClockTally:
    clock: ClockKind
    met: int = 0
    late: int = 0

    @property
    def total(self) -> int:
        return self.met + self.late

    @property
    def share(self) -> float | None:
        """The share met, 0–1; None when nothing was timed."""
        return self.met / self.total if self.total else None

    def percent_text(self) -> str:
        share = self.share
        return "–" if share is None else f"{round(share * 100)}%"


@dataclass(frozen=True, slots=True)
class Volumes:
    received: int = 0
    urgent: int = 0
    rereferrals: int = 0
    by_source: Mapping[str, int] = field(default_factory=dict)
    by_type: Mapping[str, int] = field(default_factory=dict)
    by_need: Mapping[str, int] = field(default_factory=dict)
    #: consultations logged (SPEC §2), the whole front door's: they belong to no route or worker
    consultations: int = 0
    #: (months, contacts received whose child's case had closed within that many months before,
    #: by the history checks) for each of ``REREFERRAL_MONTHS``
    returning: tuple[tuple[int, int], ...] = ()


class FiguresQueries(Protocol):
    """The store's aggregate queries (SQL on the real store). Times are UTC instants."""

    async def timeliness(
        self,
        bounds: Sequence[datetime],
        now: datetime,
        narrowing: Narrowing,
        by: GroupBy,
        clocks: Sequence[ClockKind] = INSPECTED_CLOCKS,
    ) -> list[TimelinessRow]:
        """Met and late counts per group and clock, over ``[bounds[0], bounds[-1])``. By week,
        the group is the index of the bucket ``[bounds[i], bounds[i+1])`` as text; by worker, the
        clock's assignee ("" for none); by team, the assignee's team ("" for none); by route, the
        route the contact was last screened to."""
        ...

    async def breach_reasons(
        self,
        bounds: Sequence[datetime],
        now: datetime,
        narrowing: Narrowing,
        by: GroupBy,
        clocks: Sequence[ClockKind] = INSPECTED_CLOCKS,
    ) -> list[ReasonRow]:
        """The late clocks of ``timeliness`` (closed late, or open past their due time), counted
        per group and reason recorded on them (None: none), over all ``clocks`` together."""
        ...

    async def times(
        self,
        bounds: Sequence[datetime],
        narrowing: Narrowing,
        by: GroupBy,
        clocks: Sequence[ClockKind] = INSPECTED_CLOCKS,
    ) -> list[ClockTimes]:
        """The median and 90th-percentile time from start to close of the clocks closed (met or
        late) in ``[bounds[0], bounds[-1])``, per group and clock, grouped as ``timeliness``.
        Clocks still open have no time yet and are not in it."""
        ...

    async def returning(
        self, days: Sequence[datetime], opens: Sequence[Sequence[date]], narrowing: Narrowing
    ) -> list[int]:
        """Contacts received from ``days[0]`` to ``days[-1]`` whose history checks record that the
        child's case closed on or after a window's opening day: ``days`` are the local midnights
        that cut the period into days, and ``opens[w][i]`` the day window ``w`` opens for contacts
        received on day ``i``. One count per window."""
        ...

    async def open_contacts(self, instants: Sequence[datetime]) -> list[int]:
        """How many contacts were open at the front door at each of ``instants`` (ascending).
        Not narrowed: the band it is read against is the whole front door's."""
        ...

    async def volumes(self, start: datetime, end: datetime, narrowing: Narrowing) -> Volumes:
        """What was received from ``start`` to ``end``."""
        ...
