"""CAFCASS and Ofsted information requests end to end (SPEC §9): the real app over HTTP on SQLite
and PostgreSQL, the loopback Teams channel, an injected clock and the real alert tick. A CAFCASS
request is logged with its due date, is due soon on the due day, and is answered by its due date:
its clock closes and no breach follows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.app import ALERTS
from bot.cards.body_requests import (
    ADDRESS_INPUT,
    BODY_INPUT,
    BODY_REFERENCE_INPUT,
    DOB_INPUT,
    DUE_INPUT,
    LOG,
    NAME_INPUT,
    RESPOND,
    RESPONSE_INPUT,
)
from bot.cards.keys import ACTION_KEY
from frontdoor.alerts import AlertKind
from frontdoor.records import ClockKind, DeadlineState
from frontdoor.systemclock import SettableClock
from tests.bot.alert_helpers import deliveries
from tests.bot.conftest import StartBot
from tests.bot.intake_script import (
    MONDAY_10AM,
    OFFICER,
    PROFESSIONAL,
    action,
    audit,
    introduce,
    register_channels,
    staff,
    texts_of,
)
from tests.harness.teams import TeamsChannel, TurnResponse

REQUEST = {
    BODY_INPUT: "cafcass",
    BODY_REFERENCE_INPUT: "CAF-EXAMPLE-0042",
    NAME_INPUT: "Quentin Requestsubject",
    DOB_INPUT: "1990-01-01",
    ADDRESS_INPUT: "2 Example Road",
}


def _card(response: TurnResponse) -> dict[str, Any]:
    assert response.cards, response.texts
    return response.cards[-1]


async def test_a_cafcass_request_answered_by_its_due_date(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    teams = teams_channel
    clock = SettableClock(MONDAY_10AM)
    bot = await start_bot(clock=clock)
    await staff(bot)
    await register_channels(teams)
    chat = await introduce(teams, OFFICER)

    form = _card(await teams.say(chat, OFFICER, "information request"))
    past = await teams.submit(
        chat, OFFICER, {**action(form, LOG)["data"], **REQUEST, DUE_INPUT: "2026-03-13"}
    )
    assert "Due date: a date, today or later" in texts_of(_card(past))
    logged = _card(
        await teams.submit(chat, OFFICER, {**action(form, LOG)["data"], **REQUEST, DUE_INPUT: "2026-03-18"})
    )
    text = texts_of(logged)
    assert "CAFCASS safeguarding request" in text and "IR-26-00001" in text and "CAF-EXAMPLE-0042" in text
    assert "18/03/2026 17:00" in text or "Wed 18 Mar" in text, text
    # The same card pressed again logs nothing (one request, one clock below) and says which exists.
    repeat = await teams.submit(
        chat, OFFICER, {**action(form, LOG)["data"], **REQUEST, DUE_INPUT: "2026-03-18"}
    )
    assert "This card logged IR-26-00001 already" in " ".join(repeat.texts), repeat.texts

    async with bot.store.unit_of_work() as uow:
        [clock_row] = await uow.deadlines.for_subject("IR-26-00001")
    assert clock_row.clock is ClockKind.BODY_REQUEST
    assert clock_row.due_at == MONDAY_10AM + timedelta(days=2, hours=7)  # Wednesday 17:00

    # On the due day it is due soon, to the officer who logged it.
    clock.set(MONDAY_10AM + timedelta(days=2, hours=1, minutes=30))
    await bot.app[ALERTS].tick()
    assert [(k.subject, k.kind) for k, _ in deliveries(teams, chat)] == [("IR-26-00001", AlertKind.DUE_SOON)]

    # The response is recorded before 17:00: the clock is met and nothing more is sent.
    clock.set(MONDAY_10AM + timedelta(days=2, hours=4))
    found = _card(await teams.say(chat, OFFICER, "find IR-26-00001"))
    answered = _card(
        await teams.submit(
            chat,
            OFFICER,
            {**action(found, RESPOND)["data"], RESPONSE_INPUT: "No records held on the subject"},
        )
    )
    assert "Response recorded" in texts_of(answered) and "(by the due date)" in texts_of(answered)
    again = await teams.submit(chat, OFFICER, {**action(found, RESPOND)["data"], RESPONSE_INPUT: "Twice"})
    assert "has its response already" in texts_of(_card(again))
    clock.set(MONDAY_10AM + timedelta(days=2, hours=8))
    await bot.app[ALERTS].tick()
    assert [k.kind for k, _ in deliveries(teams, chat)] == [AlertKind.DUE_SOON]
    async with bot.store.unit_of_work() as uow:
        assert [d.state for d in await uow.deadlines.for_subject("IR-26-00001")] == [DeadlineState.MET]

    events = [(e.action, e.detail) for e in await audit(bot) if e.subject == "IR-26-00001"]
    assert ("body_request.logged", "body=cafcass") in events and (
        "body_request.responded",
        "in_time",
    ) in events
    assert ("body_request.viewed", "full") in events

    # Not for a professional, nor by forged submission.
    refused = await teams.say(await introduce(teams, PROFESSIONAL), PROFESSIONAL, "find IR-26-00001")
    assert refused.texts[0].startswith("Sorry, only"), refused.texts
    forged = await teams.submit(
        teams.personal(PROFESSIONAL), PROFESSIONAL, {ACTION_KEY: LOG, **REQUEST, DUE_INPUT: "2026-03-20"}
    )
    assert forged.texts[0].startswith("Sorry, only"), forged.texts
