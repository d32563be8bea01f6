"""The figures' times, re-referral measure and consultations (SPEC §11) on the in-memory store,
SQLite and PostgreSQL, over a handful of records whose figures are worked out by hand below.

November 2026 is in GMT, so London time is UTC and the hours below read the same in both."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from frontdoor.calendar import WorkingCalendar
from frontdoor.consultation import Consultation
from frontdoor.figures import (
    ClockTimes,
    GroupBy,
    Narrowing,
    Period,
    compute_figures,
    parse_period,
    volumes_between,
)
from frontdoor.records import ClockKind, Deadline
from frontdoor.roles import Role
from frontdoor.unit_of_work import Store
from tests.store.figures_builders import measured_contact

CALENDAR = WorkingCalendar()
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
K = ClockKind
HOUR = timedelta(hours=1)


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


async def _clock(
    store: Store,
    subject: str,
    kind: ClockKind,
    start: datetime,
    took: timedelta | None,
    worker: str | None,
    due: timedelta = timedelta(days=3),
    *,
    by: str = "consultant-fig",
) -> None:
    """A clock started at ``start`` and closed ``took`` later by ``by`` (left open when None)."""
    async with store.unit_of_work() as uow:
        await uow.deadlines.add(Deadline(subject, kind, start, start + due, assignee_id=worker))
        if took is not None:
            await uow.deadlines.close(subject, kind.value, "met", start + took, closed_by=by)
        await uow.commit()


async def _seed_times(store: Store) -> None:
    # Screening clocks in November, closed after 1, 2, 3, 4 and 10 hours (the last one late, its
    # due time 5 hours after the start): sorted 1, 2, 3, 4, 10.
    #   median: rank 0.5 × 4 = 2 → 3 hours; 90th: rank 0.9 × 4 = 3.6 → 4 + 0.6 × (10 − 4) = 7.6 hours.
    # As intake starts them, with no one assigned: each counts for whoever closed it by screening
    # the contact (sw-a the first three, sw-b the others).
    for number, hours in enumerate((3, 1, 10, 4, 2)):
        received = _at(2 + number, 9)
        worker = "sw-a" if number < 3 else "sw-b"
        route = "iv" if number == 2 else "ii"
        subject = await measured_contact(
            store, number, received, route=route, decider=worker, decided=hours * HOUR
        )
        due = timedelta(hours=5) if hours == 10 else timedelta(days=3)
        await _clock(store, subject, K.SCREENING, received, hours * HOUR, None, due, by=worker)
    # Child-protection clocks closed after 30 and 90 minutes, assigned to sw-a and closed by someone
    # else (consultant-fig): they count for their assignee.
    #   median: rank 0.5 → 30 + 0.5 × 60 = 60 minutes; 90th: rank 0.9 → 30 + 0.9 × 60 = 84 minutes.
    await _clock(store, "CT-26-700000", K.CP_DECISION, _at(2, 9), timedelta(minutes=90), "sw-a")
    await _clock(store, "CT-26-700001", K.CP_DECISION, _at(3, 9), timedelta(minutes=30), "sw-a")
    # Not timed: a clock still open, one closed in December, one closed before November.
    await _clock(store, "CT-26-700003", K.COMPLETION_24H, _at(5, 9), None, "sw-b")
    await _clock(store, "CT-26-700004", K.COMPLETION_48H, _at(30, 20), 5 * HOUR, "sw-b")
    await _clock(store, "CT-26-700004", K.COMPLETION_24H, datetime(2026, 10, 30, 9, tzinfo=UTC), HOUR, "sw-b")


async def test_median_and_90th_percentile_times_worked_out_by_hand(store: Store) -> None:
    await _seed_times(store)
    period = parse_period("2026-11", NOW, CALENDAR)
    assert isinstance(period, Period)
    async with store.unit_of_work() as uow:
        figures = await compute_figures(uow.figures, period, Narrowing(), NOW, CALENDAR, (50, 85))
        by_worker = await uow.figures.times([period.start, period.end], Narrowing(), GroupBy.WORKER)
        route_iv = await uow.figures.times([period.start, period.end], Narrowing(route="iv"), GroupBy.WEEK)
        by_week = await uow.figures.times(
            [period.start, _at(4, 0), period.end], Narrowing(worker_id="sw-a"), GroupBy.WEEK, [K.SCREENING]
        )

    screening = figures.time(K.SCREENING)
    assert screening.count == 5
    assert screening.median == pytest.approx(3 * 3600)
    assert screening.p90 == pytest.approx(7.6 * 3600)
    cp = figures.time(K.CP_DECISION)
    assert (cp.count, cp.median, cp.p90) == (2, pytest.approx(60 * 60), pytest.approx(84 * 60))
    # Nothing closed in November on the completion clocks: no times.
    assert figures.time(K.COMPLETION_24H) == ClockTimes("0", K.COMPLETION_24H)
    assert figures.time(K.COMPLETION_48H).count == 0
    # The late one is late, and still timed.
    assert figures.total(K.SCREENING).late == 1

    # sw-a: screening 3, 1, 10 hours → median 3, 90th: rank 1.8 → 3 + 0.8 × 7 = 8.6 hours; sw-b: 4, 2.
    found = {(t.group, t.clock): t for t in by_worker}
    assert found[("sw-a", K.SCREENING)].median == pytest.approx(3 * 3600)
    assert found[("sw-a", K.SCREENING)].p90 == pytest.approx(8.6 * 3600)
    assert found[("sw-b", K.SCREENING)].median == pytest.approx(3 * 3600)
    assert found[("sw-b", K.SCREENING)].p90 == pytest.approx(3.8 * 3600)
    assert found[("sw-a", K.CP_DECISION)].count == 2
    # Route IV: the one contact (10 hours).
    assert [(t.clock, t.count, t.median, t.p90) for t in route_iv] == [(K.SCREENING, 1, 36000.0, 36000.0)]
    # sw-a by bucket: up to 4 November its clocks closed after 3 and 1 hours (median 2, 90th 2.8);
    # afterwards the 10-hour one.
    weeks = sorted((t.group, t.count, t.median, t.p90) for t in by_week)
    assert weeks == [
        ("0", 2, pytest.approx(2 * 3600), pytest.approx(2.8 * 3600)),
        ("1", 1, pytest.approx(10 * 3600), pytest.approx(10 * 3600)),
    ]


async def test_rereferrals_within_3_and_12_months_and_consultations(store: Store) -> None:
    # Received 2 November: the windows open on 2 August 2026 (3 months) and 2 November 2025 (12).
    await measured_contact(store, 10, _at(2, 9), date(2026, 8, 2))  # both: the opening day counts
    await measured_contact(store, 11, _at(2, 10), date(2026, 8, 1))  # 12 months only
    await measured_contact(store, 12, _at(2, 11), date(2025, 11, 2))  # 12 months only
    await measured_contact(store, 13, _at(2, 12), date(2025, 11, 1))  # neither
    await measured_contact(store, 14, _at(2, 13))  # never open before
    # Received 30 November: the windows open on 30 August 2026 and 30 November 2025.
    await measured_contact(store, 15, _at(30, 16), date(2026, 8, 30))  # both
    await measured_contact(store, 16, _at(30, 16, 30), date(2026, 8, 29))  # 12 only (on 2 November: both)
    # Received in December: not in November's figures.
    await measured_contact(store, 17, datetime(2026, 12, 1, 9, tzinfo=UTC), date(2026, 11, 30))
    async with store.unit_of_work() as uow:
        for number, created in enumerate(
            (
                _at(3, 11),
                _at(27, 15),
                datetime(2026, 12, 1, 9, tzinfo=UTC),
                datetime(2026, 10, 31, 23, tzinfo=UTC),
            )
        ):
            await uow.consultations.add(
                Consultation(
                    id=f"consult-{number}",
                    reference=f"PC-26-{90000 + number:05d}",
                    author_id="pro-fig",
                    on_behalf=False,
                    professional_name="Ada Example",
                    agency="Example Primary School",
                    professional_role="Designated safeguarding lead",
                    worry="A worry described without names.",
                    advice="Advice given.",
                    advised_by="consultant-fig",
                    created_at=created,
                )
            )
        await uow.commit()
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    async with store.unit_of_work() as uow:
        november = await volumes_between(uow.figures, start, end, Narrowing(), CALENDAR.tz)
        route_iv = await volumes_between(uow.figures, start, end, Narrowing(route="iv"), CALENDAR.tz)
        december = await volumes_between(uow.figures, end, end + timedelta(days=7), Narrowing(), CALENDAR.tz)
    # 3 months: contacts 10 and 15; 12 months: 10, 11, 12, 15, 16.
    assert november.returning == ((3, 2), (12, 5))
    assert november.received == 7
    assert november.consultations == 2
    assert route_iv.returning == ((3, 0), (12, 0))
    assert december.returning == ((3, 1), (12, 1))
    assert december.consultations == 1


async def test_narrowing_and_grouping_by_the_workers_team(store: Store) -> None:
    await _seed_times(store)
    async with store.unit_of_work() as uow:
        assert not await uow.roles.set_team("sw-a", "North")  # not in the directory yet
        for person, team in (("sw-a", "North"), ("sw-b", "South"), ("sw-c", "North")):
            await uow.roles.grant(person, Role.SOCIAL_WORKER)
            assert await uow.roles.set_team(person, team)
        await uow.commit()
    async with store.unit_of_work() as uow:
        # A team changed, then one cleared: only the last is kept.
        assert await uow.roles.set_team("sw-c", "")
        assert await uow.roles.set_team("sw-b", "South")
        await uow.commit()
    period = parse_period("2026-11", NOW, CALENDAR)
    assert isinstance(period, Period)
    bounds = [period.start, period.end]
    async with store.unit_of_work() as uow:
        entries = {e.aad_object_id: e.team for e in await uow.roles.entries()}
        north = await compute_figures(uow.figures, period, Narrowing(team="North"), NOW, CALENDAR, (50, 85))
        nobody = await compute_figures(uow.figures, period, Narrowing(team="East"), NOW, CALENDAR, (50, 85))
        by_team = await uow.figures.timeliness(bounds, NOW, Narrowing(), GroupBy.TEAM, [K.SCREENING])
        times = await uow.figures.times(bounds, Narrowing(), GroupBy.TEAM, [K.SCREENING])
    assert entries == {"sw-a": "North", "sw-b": "South", "sw-c": ""}
    # North is sw-a: screening after 3, 1 and 10 hours, the 10-hour one late; both CP clocks.
    assert (north.total(K.SCREENING).met, north.total(K.SCREENING).late) == (2, 1)
    assert north.total(K.CP_DECISION).total == 2
    assert north.time(K.SCREENING).median == pytest.approx(3 * 3600)
    assert nobody.total(K.SCREENING).total == 0
    assert sorted((r.group, r.met, r.late) for r in by_team) == [("North", 2, 1), ("South", 2, 0)]
    assert sorted((t.group, t.count) for t in times) == [("North", 3), ("South", 2)]
