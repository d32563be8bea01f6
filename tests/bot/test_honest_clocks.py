"""Clocks close honestly (SPEC §3, §4), through the Teams endpoint on SQLite and PostgreSQL: the
completion clock of a contact received on Friday at 16:55 is due on Monday at 16:55, and clocks
closed after their due time are recorded late, with when they closed, and read late on the record."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.cards.decision import VIEW_VERB
from bot.cards.decisions import SIGN_OFF_VERB
from frontdoor.records import ClockKind, Deadline, DeadlineState
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.decision_helpers import _executes, _posted, _route_ii, _view
from tests.bot.intake_script import (
    CONSULTANT,
    CONSULTANT_2,
    OFFICER,
    clock,
    decisions_channel,
    introduce,
    register_channels,
    script,
    staff,
    submit,
    texts_of,
)
from tests.harness.teams import TeamsChannel

#: Friday 13 March 2026, 16:55 in London (GMT, so also UTC).
FRIDAY_1655 = datetime(2026, 3, 13, 16, 55, tzinfo=UTC)
MONDAY_1655 = datetime(2026, 3, 16, 16, 55, tzinfo=UTC)


async def _clocks(bot: RunningBot) -> dict[ClockKind, list[Deadline]]:
    async with bot.store.unit_of_work() as uow:
        found = await uow.deadlines.for_subject("CT-26-000001")
    by_clock: dict[ClockKind, list[Deadline]] = {}
    for deadline in found:
        by_clock.setdefault(deadline.clock, []).append(deadline)
    return by_clock


async def test_friday_1655_is_due_monday_1655_and_breached_clocks_close_late(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    time = clock()  # Monday 16 March 2026, 10:00
    bot = await start_bot(clock=time)
    await staff(bot)
    await register_channels(teams_channel, duty=False)
    await introduce(teams_channel, CONSULTANT)
    consultant_2_chat = await introduce(teams_channel, CONSULTANT_2)
    answers = script(source={"received_date": "2026-03-13", "received_time": "16:55"})
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER, answers)
    [screening] = (await _clocks(bot))[ClockKind.SCREENING]
    assert (screening.started_at, screening.due_at) == (FRIDAY_1655, MONDAY_1655)

    # Decided at 16:50 on Monday: the screening clock closes met; route II starts the completion
    # clock from received-at, counted as one working day: Monday 16:55, not Saturday.
    time.set(datetime(2026, 3, 16, 16, 50, tzinfo=UTC))
    _, decided = await _route_ii(teams_channel)
    assert decided.card is not None, decided.text
    clocks = await _clocks(bot)
    [screening] = clocks[ClockKind.SCREENING]
    assert (screening.state, screening.closed_at) == (DeadlineState.MET, time.now())
    [completion] = clocks[ClockKind.COMPLETION_24H]
    assert (completion.state, completion.started_at, completion.due_at) == (
        DeadlineState.OPEN,
        FRIDAY_1655,
        MONDAY_1655,
    )

    # Signed off at 17:20, after the completion clock ran out: recorded late, never met.
    time.set(datetime(2026, 3, 16, 17, 20, tzinfo=UTC))
    activity_id, _ = _posted(teams_channel)
    view = await _view(teams_channel, CONSULTANT_2, decided.card, activity_id)
    [sign] = _executes(view, SIGN_OFF_VERB)
    signed = await teams_channel.execute(
        decisions_channel(teams_channel),
        CONSULTANT_2,
        SIGN_OFF_VERB,
        sign["data"],
        card_activity_id=activity_id,
    )
    assert signed.card is not None, signed.text
    [completion] = (await _clocks(bot))[ClockKind.COMPLETION_24H]
    assert (completion.state, completion.closed_at) == (DeadlineState.LATE, time.now())

    # The full record says so.
    response = await teams_channel.execute(
        decisions_channel(teams_channel), CONSULTANT_2, VIEW_VERB, {"reference": "CT-26-000001"}
    )
    assert response.status == 200
    [record] = [
        post
        for post in teams_channel.sent_to(consultant_2_chat)
        if post.card and "Clocks closed" in texts_of(post.card)
    ]
    assert record.card is not None
    facts = {
        fact["title"]: fact["value"]
        for item in record.card["body"]
        if item["type"] == "FactSet"
        for fact in item["facts"]
    }
    assert facts["Screening decision"] == "met: closed Mon 16 Mar 2026 16:50, due Mon 16 Mar 2026 16:55"
    assert facts["Completion (24 hours)"] == "late: closed Mon 16 Mar 2026 17:20, due Mon 16 Mar 2026 16:55"
