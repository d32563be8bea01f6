"""The weekly figures card through the Teams endpoint on SQLite and PostgreSQL (SPEC §11): at
opening on Monday to the duty channel, last week against the week before; on a bank-holiday Monday
not then but at the next working day's opening; once a week however often the job runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.alerting import TeamsAlertSender
from bot.app import CALENDAR, NOTIFIER
from frontdoor.dispatch import Dispatcher
from frontdoor.figures import INSPECTED_CLOCKS, GroupBy, Narrowing
from frontdoor.installation import FIRST_START, INSTALLATION_SUBJECT, SYSTEM_ACTOR
from frontdoor.policy import default_policy
from frontdoor.records import AuditEvent
from frontdoor.systemclock import SettableClock
from scheduler.daily_jobs import run_weekly_figures
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.intake_script import duty_channel, register_channels, staff, texts_of
from tests.figures_seed import seed_month
from tests.harness.teams import SentActivity, TeamsChannel

LONDON = ZoneInfo("Europe/London")


def local(day: date, h: int, mi: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, h, mi, tzinfo=LONDON)


async def _jobs(bot: RunningBot, clock: SettableClock) -> None:
    """One run of the weekly job, then the dispatcher, as the scheduler would."""
    await run_weekly_figures(bot.store.unit_of_work, clock, bot.app[CALENDAR])
    await Dispatcher(
        bot.store.unit_of_work, TeamsAlertSender(bot.app[NOTIFIER], bot.store), clock
    ).dispatch_due()


def _weekly(teams_channel: TeamsChannel) -> list[SentActivity]:
    duty = duty_channel(teams_channel)
    return [p for p in teams_channel.sent_to(duty) if p.card and "Weekly figures" in texts_of(p.card)]


async def _ready(
    start_bot: StartBot, teams_channel: TeamsChannel, at: datetime
) -> tuple[RunningBot, SettableClock]:
    clock = SettableClock(at)
    bot = await start_bot(clock=clock, scheduler_enabled=False)
    async with bot.store.unit_of_work() as uow:  # the service has run for weeks already
        first = AuditEvent(at - timedelta(days=21), SYSTEM_ACTOR, FIRST_START, INSTALLATION_SUBJECT, "")
        await uow.audit.append(first)
        await uow.commit()
    await staff(bot)
    await register_channels(teams_channel)
    return bot, clock


async def test_the_weekly_card_goes_at_mondays_opening_once(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    monday = date(2026, 8, 24)
    bot, clock = await _ready(start_bot, teams_channel, local(monday, 8, 0))
    # Contacts over the fortnight before: 10-21 August.
    await seed_month(bot.store, date(2026, 8, 10), date(2026, 8, 20), 40, bot.app[CALENDAR], default_policy())
    clock.set(local(monday, 8, 29))
    await _jobs(bot, clock)
    assert _weekly(teams_channel) == []
    clock.set(local(monday, 8, 30))
    await _jobs(bot, clock)
    for minutes in (1, 15, 90):  # the job runs every tick: nothing twice
        clock.set(local(monday, 8, 30) + timedelta(minutes=minutes))
        await _jobs(bot, clock)
    [post] = _weekly(teams_channel)
    assert post.card is not None
    text = texts_of(post.card)
    assert "Last week (from 17 Aug) against the week before" in text and "Sent late" not in text
    assert "Chart.VerticalBar.Grouped" in text

    # The card's numbers are the figures of those two weeks.
    async with bot.store.unit_of_work() as uow:
        bounds = [local(date(2026, 8, 10), 0), local(date(2026, 8, 17), 0), local(monday, 0)]
        rows = await uow.figures.timeliness(bounds, clock.now(), Narrowing(), GroupBy.WEEK)
    cells = [
        [cell["items"][0]["text"] for cell in row["cells"]]
        for item in post.card["body"]
        if item["type"] == "Table"
        for row in item["rows"]
    ]
    screening = {r.group: r for r in rows if r.clock is INSPECTED_CLOCKS[0]}
    last, before = screening["1"], screening["0"]
    assert last.met + last.late > 0 and before.met + before.late > 0
    assert cells[1][0] == "Screening in 1 working day"
    assert cells[1][1].endswith(f"({last.met}/{last.met + last.late})")
    assert cells[1][2].endswith(f"({before.met}/{before.met + before.late})")


async def test_on_a_bank_holiday_monday_the_card_waits_for_tuesday(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    holiday = date(2026, 8, 31)  # the summer bank holiday in England and Wales
    bot, clock = await _ready(start_bot, teams_channel, local(holiday, 8, 30))
    assert not bot.app[CALENDAR].is_working_day(holiday)
    await _jobs(bot, clock)
    clock.set(local(holiday, 12, 0))
    await _jobs(bot, clock)
    assert _weekly(teams_channel) == []
    tuesday = date(2026, 9, 1)
    clock.set(local(tuesday, 8, 29))
    await _jobs(bot, clock)
    assert _weekly(teams_channel) == []
    clock.set(local(tuesday, 8, 30))
    await _jobs(bot, clock)
    [post] = _weekly(teams_channel)
    assert post.card is not None and "Last week (from 24 Aug)" in texts_of(post.card)
    # Nothing was timed in either week: no bars (a 0% bar would read as every clock missed), a
    # line saying so, and "–" in the table.
    assert "Chart.VerticalBar.Grouped" not in texts_of(post.card)
    assert "On time (%): nothing was timed, so no bars." in texts_of(post.card)
    assert "– (0/0)" in texts_of(post.card)
    # Wednesday is not the week's first working day: nothing more.
    clock.set(local(date(2026, 9, 2), 8, 30))
    await _jobs(bot, clock)
    assert len(_weekly(teams_channel)) == 1
    assert clock.now().astimezone(UTC).date() == date(2026, 9, 2)
