"""``figures`` through the Teams endpoint on SQLite and PostgreSQL (SPEC §11): the chart card for a
seeded month, valid (charts against their schema, the rest with Microsoft's SDK) and under Teams'
28 KB; narrowing by route and worker in place; who may see it, and where."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from bot.cards.figures import (
    FIGURES_ELSEWHERE,
    FIGURES_VERB,
    MOST_WORKERS,
    PERIOD_KEY,
    PICKED,
    ROUTE_KEY,
    TEAM_INPUT,
    TEAM_KEY,
    WORKER_INPUT,
    WORKER_KEY,
    WORKER_PICKED,
)
from frontdoor.calendar import WorkingCalendar
from frontdoor.figures import GroupBy, Narrowing
from frontdoor.policy import default_policy
from frontdoor.records import ClockKind as K
from frontdoor.roles import Role
from frontdoor.systemclock import SettableClock
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.figures_helpers import table_rows
from tests.bot.intake_script import (
    CONSULTANT,
    CONSULTANT_2,
    DUTY_MANAGER,
    OFFICER,
    SOCIAL_WORKER,
    actions,
    audit,
    decisions_channel,
    duty_channel,
    inputs,
    register_channels,
    staff,
    texts_of,
)
from tests.figures_seed import seed_month
from tests.harness.teams import TeamsChannel

MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
#: Teams refuses a card larger than about 28 KB.
TEAMS_CARD_LIMIT = 28 * 1024


def _types(card: dict[str, Any]) -> list[str]:
    return [item["type"] for item in card["body"]]


async def _ready(
    start_bot: StartBot, teams_channel: TeamsChannel, clock: SettableClock | None = None
) -> RunningBot:
    bot = await start_bot(clock=clock or SettableClock(MONDAY))
    await staff(bot)
    await register_channels(teams_channel)
    for person in (SOCIAL_WORKER, CONSULTANT_2):
        await teams_channel.say(teams_channel.personal(person), person, "help")  # their name
    workers = (SOCIAL_WORKER.aad_object_id, OFFICER.aad_object_id, CONSULTANT.aad_object_id)
    deciders = (CONSULTANT.aad_object_id, CONSULTANT_2.aad_object_id)
    await seed_month(
        bot.store,
        date(2026, 11, 2),
        date(2026, 11, 25),
        120,
        WorkingCalendar(),
        default_policy(),
        workers,
        deciders,
    )
    return bot


async def test_a_month_of_figures_as_charts_narrowed_in_place(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    chat = teams_channel.personal(CONSULTANT)
    reply = await teams_channel.say(chat, CONSULTANT, "figures 2026-11")
    [card] = reply.cards
    assert len(json.dumps(card, separators=(",", ":")).encode()) < TEAMS_CARD_LIMIT
    types = _types(card)
    for chart in (
        "Chart.Line",
        "Chart.VerticalBar.Grouped",
        "Chart.Donut",
        "Chart.HorizontalBar",
    ):
        assert chart in types
    # Nothing was decided this week (it is Monday morning, the seeded contacts are November's): no
    # gauge, whose 0% would read as every screening decision late, but a line saying so.
    assert "Chart.Gauge" not in types
    assert "Screening decisions within one working day, this week: none decided yet." in texts_of(card)
    assert "November 2026: all contacts" in texts_of(card)
    rows = table_rows(card)
    # The shares worked out by hand in tests/store/test_figures.py.
    assert ["Screening in 1 working day", "96", "24", "80%"] in rows
    assert ["CP decision in 2 hours", "8", "4", "67%"] in rows
    assert ["Completed in 24h (routes I-II)", "37", "11", "77%"] in rows
    assert ["Completed in 48h (routes III-IV)", "50", "22", "69%"] in rows
    assert ["Contacts received", "120"] in rows and ["Urgent (immediate risk)", "12"] in rows
    [line] = [item for item in card["body"] if item["type"] == "Chart.Line"]
    assert [point["y"] for point in line["data"][0]["values"]][-1] == 4  # open on 30 November
    assert {point["y"] for point in line["data"][1]["values"]} == {50}  # the band
    # The days are numbered (a number axis is labelled at a few points, not at each of 30 days).
    assert [point["x"] for point in line["data"][0]["values"]] == list(range(1, 31))
    assert line["xAxisTitle"] == "Day (1 = Sun 1 Nov, 30 = Mon 30 Nov)"
    # The weeks are short dates under "Week beginning", so Teams does not cut them off.
    [weeks] = [item for item in card["body"] if item["type"] == "Chart.VerticalBar.Grouped"]
    assert weeks["xAxisTitle"] == "Week beginning"
    # A bar only where something was timed that week: the partial weeks at either end (Sunday 1 and
    # Monday 30 November) timed no screening decision, so they have no bar, not a 0% one.
    assert [value["x"] for value in weeks["data"][0]["values"]] == ["2 Nov", "9 Nov", "16 Nov", "23 Nov"]
    assert weeks["data"][0]["legend"] == "Screening in 1 working day"
    assert all(value["y"] > 0 for series in weeks["data"] for value in series["values"])
    assert "No bar where nothing was timed that week (– in the tables)." in texts_of(card)
    # The headline and the charts are shown; the tables are folded behind "Show" lines.
    assert (
        "120 contacts received, 12 urgent. Screening decisions within one working day over the "
        "period: 80% (96 of 120)." in texts_of(card)
    )
    assert not [item for item in card["body"] if item["type"] == "Table"]
    folded = [item for item in card["body"] if item.get("isVisible") is False]
    assert [item["id"] for item in folded] == [
        "figures-clocks-body",
        "figures-times-body",
        "figures-reasons-body",
        "figures-volumes-body",
        "figures-narrow-body",
    ]
    assert all(item["items"][0]["type"] == "Table" for item in folded[:4])
    assert WORKER_INPUT in {item.get("id") for item in folded[4]["items"]}

    # Route II, in place.
    [route_ii] = [a for a in actions(card) if a.get("verb") == FIGURES_VERB and a["data"][ROUTE_KEY] == "ii"]
    narrowed = await teams_channel.execute(
        chat, CONSULTANT, FIGURES_VERB, route_ii["data"], card_activity_id=reply.sent[-1].activity_id
    )
    assert narrowed.card is not None, narrowed.text
    assert "November 2026: route II" in texts_of(narrowed.card)
    assert ["Screening in 1 working day", "28", "8", "78%"] in table_rows(narrowed.card)

    # One worker, picked from the list: the second decider screened every other contact (12 of 60
    # late) and made every child-protection decision (tests/store/test_figures.py).
    picked = {
        PERIOD_KEY: "2026-11",
        ROUTE_KEY: "",
        WORKER_KEY: WORKER_PICKED,
        WORKER_INPUT: CONSULTANT_2.aad_object_id,
    }
    worker = await teams_channel.execute(chat, CONSULTANT, FIGURES_VERB, picked)
    assert worker.card is not None, worker.text
    assert f"November 2026: {CONSULTANT_2.name}" in texts_of(worker.card)
    assert ["Screening in 1 working day", "48", "12", "80%"] in table_rows(worker.card)
    assert ["CP decision in 2 hours", "8", "4", "67%"] in table_rows(worker.card)

    viewed = [e.detail for e in await audit(bot) if e.action == "figures.viewed"]
    assert (
        len(viewed) == 3 and "route=ii" in viewed[1] and f"worker={CONSULTANT_2.aad_object_id}" in viewed[2]
    )


async def test_who_may_see_the_figures_and_where(start_bot: StartBot, teams_channel: TeamsChannel) -> None:
    bot = await _ready(start_bot, teams_channel)
    refused = await teams_channel.say(teams_channel.personal(OFFICER), OFFICER, "figures")
    assert refused.cards == [] and any(text.startswith("Sorry, only") for text in refused.texts)
    elsewhere = await teams_channel.say(decisions_channel(teams_channel), CONSULTANT, "figures")
    assert FIGURES_ELSEWHERE in elsewhere.texts
    duty = await teams_channel.say(duty_channel(teams_channel), DUTY_MANAGER, "figures last week")
    [card] = duty.cards
    assert "last week (from Mon 30 Nov)" in texts_of(card)
    unknown = await teams_channel.say(teams_channel.personal(CONSULTANT), CONSULTANT, "figures yesterday")
    assert unknown.cards == [] and any("figures 2026-11" in text for text in unknown.texts)
    forged = await teams_channel.execute(
        teams_channel.personal(OFFICER), OFFICER, FIGURES_VERB, {PERIOD_KEY: ""}
    )
    assert forged.card is None and forged.json["value"].startswith("Sorry, only")
    assert [e.actor_id for e in await audit(bot) if e.action == "figures.viewed"] == [
        DUTY_MANAGER.aad_object_id
    ]


async def test_a_long_directory_is_capped_on_the_card(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel)
    async with bot.store.unit_of_work() as uow:
        for n in range(400):
            person = f"00000000-0000-4000-8000-{n:012d}"
            await uow.roles.grant(person, Role.SOCIAL_WORKER)
            await uow.roles.set_display_name(person, f"Fictional Example Worker With A Long Name {n:03d}")
        await uow.commit()
    chat = teams_channel.personal(CONSULTANT)
    reply = await teams_channel.say(chat, CONSULTANT, "figures 2026-11")
    [card] = reply.cards
    assert len(json.dumps(card, separators=(",", ":")).encode()) < TEAMS_CARD_LIMIT
    choice = inputs(card)[WORKER_INPUT]
    # 400 and the usual cast's six whose roles clocks go to (two officers, two consultants, the social
    # worker, the duty manager): 406, of which the first 40 by name are listed.
    assert len(choice["choices"]) == MOST_WORKERS
    assert "and 366 more not listed here: the CSV export by worker has everyone." in texts_of(card)
    # The times and the further volumes are in the tables.
    rows = table_rows(card)
    assert ["Time from start to close", "Clocks closed", "Median", "90th percentile"] in rows
    assert any(row[0] == "Screening in 1 working day" and row[1] == "120" for row in rows)
    assert ["Consultations (the whole front door)", "0"] in rows
    assert ["Child's case closed within 12 months before", "0"] in rows

    # A worker beyond the cap, once picked, stays in the list of the updated card.
    last = "00000000-0000-4000-8000-000000000399"
    picked = {PERIOD_KEY: "2026-11", ROUTE_KEY: "", WORKER_KEY: WORKER_PICKED, WORKER_INPUT: last}
    narrowed = await teams_channel.execute(chat, CONSULTANT, FIGURES_VERB, picked)
    assert narrowed.card is not None, narrowed.text
    assert len(json.dumps(narrowed.card, separators=(",", ":")).encode()) < TEAMS_CARD_LIMIT
    choice = inputs(narrowed.card)[WORKER_INPUT]
    assert choice["value"] == last and choice["choices"][-1]["value"] == last
    assert "November 2026: Fictional Example Worker With A Long Name 399" in texts_of(narrowed.card)
    # listed now, so one fewer not listed
    assert "and 365 more not listed here: the CSV export by worker has everyone." in texts_of(narrowed.card)


async def test_narrowing_to_a_team_in_place(start_bot: StartBot, teams_channel: TeamsChannel) -> None:
    bot = await _ready(start_bot, teams_channel)
    async with bot.store.unit_of_work() as uow:
        assert await uow.roles.set_team(SOCIAL_WORKER.aad_object_id, "Assessment North")
        assert await uow.roles.set_team(CONSULTANT_2.aad_object_id, "Assessment North")
        assert await uow.roles.set_team(OFFICER.aad_object_id, "First Contact")
        await uow.commit()
    chat = teams_channel.personal(CONSULTANT)
    reply = await teams_channel.say(chat, CONSULTANT, "figures 2026-11")
    [card] = reply.cards
    choice = inputs(card)[TEAM_INPUT]
    assert [c["value"] for c in choice["choices"]] == ["Assessment North", "First Contact"]
    [button] = [a for a in actions(card) if a.get("title") == "Show this team"]
    assert button["data"][TEAM_KEY] == PICKED

    picked = {**button["data"], TEAM_INPUT: "Assessment North", WORKER_INPUT: OFFICER.aad_object_id}
    team = await teams_channel.execute(
        chat, CONSULTANT, FIGURES_VERB, picked, card_activity_id=reply.sent[-1].activity_id
    )
    assert team.card is not None, team.text
    assert "November 2026: team Assessment North" in texts_of(team.card)
    # The team: the social worker (every third contact's completion) and the second decider (every
    # other contact's screening, every child-protection decision).
    assert ["Screening in 1 working day", "48", "12", "80%"] in table_rows(team.card)
    assert ["CP decision in 2 hours", "8", "4", "67%"] in table_rows(team.card)
    completion = [
        row for row in table_rows(team.card) if row[0].startswith("Completed in") and row[-1].endswith("%")
    ]
    assert sum(int(row[1]) + int(row[2]) for row in completion) == 40
    choice = inputs(team.card)[TEAM_INPUT]
    assert choice["value"] == "Assessment North"

    unknown = await teams_channel.execute(chat, CONSULTANT, FIGURES_VERB, {**picked, TEAM_INPUT: "Nowhere"})
    assert unknown.card is None and "No one in the directory is in that team." in unknown.json["value"]
    viewed = [e.detail for e in await audit(bot) if e.action == "figures.viewed"]
    assert len(viewed) == 2 and "team=Assessment North" in viewed[1]


async def test_the_gauge_shows_this_weeks_screening_decisions(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    wednesday = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    bot = await _ready(start_bot, teams_channel, SettableClock(wednesday))
    reply = await teams_channel.say(teams_channel.personal(CONSULTANT), CONSULTANT, "figures this week")
    [card] = reply.cards
    [gauge] = [item for item in card["body"] if item["type"] == "Chart.Gauge"]
    async with bot.store.unit_of_work() as uow:
        rows = await uow.figures.timeliness(
            [datetime(2026, 11, 16, tzinfo=UTC), wednesday],
            wednesday,
            Narrowing(),
            GroupBy.WEEK,
            [K.SCREENING],
        )
    [week] = rows
    assert week.met + week.late > 0
    assert gauge["value"] == round(100 * week.met / (week.met + week.late))
    assert gauge["subLabel"] == f"{week.met} of {week.met + week.late}"
