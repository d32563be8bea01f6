"""MARAC and MAPPA end to end (SPEC §9): the real app over HTTP on SQLite and PostgreSQL, the
loopback Teams channel, an injected clock, the MARAC reminder job and the alert tick. A case on
Tuesday's meeting has a linked child; their allocated worker is asked, does not answer before the
meeting, is chased once, and answers late. MAPPA invitations are logged to a team or the front door."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.app import ALERTS, CALENDAR, SETTINGS
from bot.cards.keys import ACTION_KEY
from bot.cards.marac_cases import (
    ADD_CASE,
    ANSWER,
    ANSWER_INPUT,
    CASE_INPUT,
    CASE_REFERENCE_INPUT,
    CHILD_DOB_INPUT,
    CHILD_NAME_INPUT,
    DUE_ON_INPUT,
    LINK_CHILD,
    LOG_MAPPA,
    MAPPA_REFERENCE_INPUT,
    MEETING_INPUT,
    OWNER_INPUT,
    RECORD_ACTION,
    REQUEST_KEY,
    TEAM_INPUT,
    WHAT_INPUT,
    WORKER_INPUT,
)
from frontdoor.alerts import AlertKind
from frontdoor.records import DeadlineState
from frontdoor.systemclock import SettableClock
from scheduler.daily_jobs import run_marac
from tests.bot.alert_helpers import deliveries
from tests.bot.conftest import StartBot
from tests.bot.intake_script import (
    MONDAY_10AM,
    OFFICER,
    SOCIAL_WORKER,
    action,
    actions,
    audit,
    duty_channel,
    inputs,
    introduce,
    register_channels,
    staff,
    texts_of,
)
from tests.harness.teams import TeamsChannel, TeamsUser, TurnResponse

CHILD = "Wilma Maracchild"
TEAM = "Families First North"
STRANGER = TeamsUser("aad-stranger-0501", "Sam Strangerperson")
TUESDAY_1PM = MONDAY_10AM + timedelta(days=1, hours=3)


def _card(response: TurnResponse) -> dict[str, Any]:
    assert response.cards, response.texts
    return response.cards[-1]


async def test_a_marac_case_whose_linked_childs_team_answers_late_after_a_chase(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    teams = teams_channel
    clock = SettableClock(MONDAY_10AM)
    bot = await start_bot(clock=clock)
    await staff(bot)
    await register_channels(teams)
    chat = await introduce(teams, OFFICER)
    worker_chat = await introduce(teams, SOCIAL_WORKER)

    meeting = _card(await teams.say(chat, OFFICER, "marac"))
    assert "MARAC meeting Tue 17 Mar" in texts_of(meeting) or "17/03/2026 13:00" in texts_of(meeting), (
        texts_of(meeting)
    )
    added = _card(
        await teams.submit(chat, OFFICER, {ACTION_KEY: ADD_CASE, CASE_REFERENCE_INPUT: "MARAC-0042"})
    )
    case_id = inputs(added)[CASE_INPUT]["value"]
    link = {
        **action(added, LINK_CHILD)["data"],
        CASE_INPUT: case_id,
        CHILD_NAME_INPUT: CHILD,
        CHILD_DOB_INPUT: "2017-09-09",
        TEAM_INPUT: TEAM,
        WORKER_INPUT: SOCIAL_WORKER.aad_object_id,
    }
    linked = _card(await teams.submit(chat, OFFICER, dict(link)))
    assert "The request was sent to the worker" in texts_of(linked)
    assert "1 cases, 1 requests outstanding" in texts_of(linked)
    # The same card pressed again links and sends nothing (the worker has one request card below).
    repeat = _card(await teams.submit(chat, OFFICER, dict(link)))
    assert f"This card linked a child to MARAC-0042 already ({CHILD}, asked of {TEAM})" in texts_of(repeat)
    assert "1 cases, 1 requests outstanding" in texts_of(repeat)
    [request_post] = [
        p for p in teams.sent_to(worker_chat) if p.card and "MARAC information request" in texts_of(p.card)
    ]
    assert request_post.card is not None and CHILD in texts_of(request_post.card)
    request_id = action(request_post.card, ANSWER)["data"][REQUEST_KEY]

    # Tuesday 09:30: the reminder lists what is outstanding, without the child's name.
    clock.set(MONDAY_10AM + timedelta(days=1, minutes=-30))
    await run_marac(bot.store.unit_of_work, clock, bot.app[SETTINGS].policy, bot.app[CALENDAR])
    await bot.app[ALERTS].dispatch()
    [reminder] = [
        p for p in teams.sent_to(duty_channel(teams)) if p.card and "MARAC reminder" in texts_of(p.card)
    ]
    assert reminder.card is not None
    text = texts_of(reminder.card)
    assert (
        "Still outstanding (1)" in text
        and "MARAC-0042" in text
        and TEAM in text
        and SOCIAL_WORKER.name in text
    )
    assert CHILD not in text

    # Not answered by the meeting: chased once, to the worker (and the duty channel).
    for moment in (TUESDAY_1PM + timedelta(minutes=1), TUESDAY_1PM + timedelta(minutes=45)):
        clock.set(moment)
        await bot.app[ALERTS].tick()
    chased = [k for k, _ in deliveries(teams, worker_chat) if k.subject == f"marac-request:{request_id}"]
    assert [k.kind for k in chased] == [AlertKind.BREACHED]
    assert CHILD not in " ".join(texts_of(p.card) for p in teams.sent_to(duty_channel(teams)) if p.card)

    # Someone else cannot answer for the worker; the worker answers late.
    refused = await teams.submit(
        await introduce(teams, STRANGER),
        STRANGER,
        {ACTION_KEY: ANSWER, REQUEST_KEY: request_id, ANSWER_INPUT: "x"},
    )
    assert refused.texts[0].startswith("Sorry"), refused.texts
    late = _card(
        await teams.submit(
            worker_chat,
            SOCIAL_WORKER,
            {ACTION_KEY: ANSWER, REQUEST_KEY: request_id, ANSWER_INPUT: "Open child in need plan"},
        )
    )
    assert "your answer is recorded" in texts_of(late) and "(late)" in texts_of(late)
    async with bot.store.unit_of_work() as uow:
        # answered after its due time: the clock closes late, never met
        assert [d.state for d in await uow.deadlines.for_subject(f"marac-request:{request_id}")] == [
            DeadlineState.LATE
        ]
    events = [(e.action, e.detail) for e in await audit(bot) if e.subject == "MARAC-0042"]
    assert ("marac.answered", "late") in events and events[0][0] == "marac.case_added"

    # MAPPA: one invitation to a team and its worker, one to the front door.
    mappa = _card(await teams.say(chat, OFFICER, "mappa"))
    to_team = await teams.submit(
        chat,
        OFFICER,
        {
            **action(mappa, LOG_MAPPA)["data"],
            MAPPA_REFERENCE_INPUT: "MAPPA-7",
            MEETING_INPUT: "2026-03-20",
            TEAM_INPUT: TEAM,
            WORKER_INPUT: SOCIAL_WORKER.aad_object_id,
        },
    )
    assert f"MAPPA-7 logged: forwarded to {TEAM}" in texts_of(_card(to_team))
    assert any("MAPPA invitation MAPPA-7" in (p.text or "") for p in teams.sent_to(worker_chat))
    to_front_door = await teams.submit(
        chat, OFFICER, {ACTION_KEY: LOG_MAPPA, MAPPA_REFERENCE_INPUT: "MAPPA-8", MEETING_INPUT: "2026-03-20"}
    )
    text = texts_of(_card(to_front_door))
    assert "MAPPA-8 logged: forwarded to the front door" in text and "no child identified" in text
    assert ("mappa.logged", "forwarded=front_door") in [(e.action, e.detail) for e in await audit(bot)]


async def test_the_actions_agreed_at_a_meeting_are_recorded_on_its_case_after_it_starts(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    teams = teams_channel
    clock = SettableClock(MONDAY_10AM)
    bot = await start_bot(clock=clock)
    await staff(bot)
    await register_channels(teams)
    chat = await introduce(teams, OFFICER)
    await teams.submit(chat, OFFICER, {ACTION_KEY: ADD_CASE, CASE_REFERENCE_INPUT: "MARAC-0042"})

    # Before the meeting: one card, today's meeting, to prepare; no action form.
    clock.set(TUESDAY_1PM - timedelta(minutes=1))
    before = await teams.say(chat, OFFICER, "marac")
    assert len(before.cards) == 1 and "(started)" not in texts_of(before.cards[0])
    assert all(a.get("data", {}).get(ACTION_KEY) != RECORD_ACTION for a in actions(before.cards[0]))

    # After 13:00: the started meeting with its case and the action form, then Thursday's.
    clock.set(TUESDAY_1PM + timedelta(hours=1))
    shown = await teams.say(chat, OFFICER, "marac")
    assert len(shown.cards) == 2, shown.texts
    held, upcoming = shown.cards
    assert "(started)" in texts_of(held) and "MARAC-0042" in texts_of(held)
    assert "19/03/2026 13:00" in texts_of(upcoming) or "Thu 19 Mar" in texts_of(upcoming)
    assert all(a.get("data", {}).get(ACTION_KEY) != LINK_CHILD for a in actions(held))
    press = {
        **action(held, RECORD_ACTION)["data"],
        CASE_INPUT: inputs(held)[CASE_INPUT]["value"],
        WHAT_INPUT: "Refer the victim to the IDVA service",
        OWNER_INPUT: "Example domestic abuse service",
        DUE_ON_INPUT: "2026-03-24",
    }
    recorded = _card(await teams.submit(chat, OFFICER, dict(press)))
    text = texts_of(recorded)
    assert "Action recorded on MARAC-0042" in text
    assert (
        "Action: Refer the victim to the IDVA service (Example domestic abuse service, by 24/03/2026)" in text
    )
    # The same card again records nothing; a card without its form id is not read.
    repeat = _card(await teams.submit(chat, OFFICER, dict(press)))
    assert "This card recorded an action on MARAC-0042 already" in texts_of(repeat)
    forged = await teams.submit(chat, OFFICER, {k: v for k, v in press.items() if k != "form"})
    assert "no longer active" in " ".join(forged.texts)
    # The next day the meeting is still there, with its action.
    clock.set(TUESDAY_1PM + timedelta(days=1))
    again = await teams.say(chat, OFFICER, "marac")
    assert texts_of(again.cards[0]).count("Action: Refer the victim") == 1
    events = [e for e in await audit(bot) if e.action == "marac.action_recorded"]
    assert [(e.subject, e.actor_id) for e in events] == [("MARAC-0042", OFFICER.aad_object_id)]
    assert "IDVA" not in events[0].detail

    # Control characters in a form (NUL, which PostgreSQL refuses in text) are dropped, not a crash.
    nul = {
        **action(again.cards[0], RECORD_ACTION)["data"],
        CASE_INPUT: inputs(again.cards[0])[CASE_INPUT]["value"] + "\x00",
        WHAT_INPUT: "Safety\x00 plan",
        OWNER_INPUT: "Example police\x07",
        DUE_ON_INPUT: "2026-03-25",
    }
    saved = await teams.submit(chat, OFFICER, nul)
    assert saved.status in (200, 201)
    assert "Action: Safety plan (Example police, by 25/03/2026)" in texts_of(_card(saved))
