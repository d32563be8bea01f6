"""Screening from a personal chat (SPEC §8): the full record a consultant finds offers the same
deciders' view as the channel card, with the same first-wins rule, audited the same, and the channel
card updated when there is one. End to end: the loopback Teams channel, the real app over HTTP,
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.cards.decision import VIEW_VERB
from bot.cards.decisions import DECIDE_VERB, REFRESH_VERB, SIGN_OFF_VERB
from frontdoor.contact import ContactState
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.decision_helpers import RATIONALE, _decide, _executes, _posted, _route_data, _view
from tests.bot.intake_script import (
    CONSULTANT,
    CONSULTANT_2,
    OFFICER,
    SOCIAL_WORKER,
    audit,
    clock,
    decisions_channel,
    introduce,
    only_contact,
    register_channels,
    staff,
    submit,
    texts_of,
)
from tests.harness.teams import Conversation, TeamsChannel, TeamsUser, TurnResponse

REFERENCE = "CT-26-000001"
CHANNEL_NOTE = "Names and details are not shown in the channel"


async def _ready(start_bot: StartBot, teams_channel: TeamsChannel, *, channel: bool) -> RunningBot:
    bot = await start_bot(clock=clock())
    await staff(bot)
    await register_channels(teams_channel, decisions=channel, duty=False)
    for person in (CONSULTANT, CONSULTANT_2):
        await introduce(teams_channel, person)
    await submit(teams_channel, teams_channel.personal(OFFICER), OFFICER)
    return bot


async def _record(teams_channel: TeamsChannel, user: TeamsUser) -> tuple[Conversation, dict[str, Any]]:
    chat = teams_channel.personal(user)
    reply = await teams_channel.say(chat, user, f"find {REFERENCE}")
    [record] = reply.cards
    return chat, record


async def _deciders_view(teams_channel: TeamsChannel, user: TeamsUser) -> tuple[Conversation, dict[str, Any]]:
    """``user`` finds the contact in their personal chat and presses "Decide or sign off" on it."""
    chat, record = await _record(teams_channel, user)
    [button] = _executes(record, REFRESH_VERB)
    assert button["title"] == "Decide or sign off"
    response = await teams_channel.execute(chat, user, REFRESH_VERB, button["data"])
    assert response.card is not None, response.text
    return chat, response.card


async def _decide_personally(
    teams_channel: TeamsChannel, chat: Conversation, user: TeamsUser, card: dict[str, Any], route: str
) -> TurnResponse:
    data = {**_route_data(card, route), "rationale": RATIONALE}
    if route == "ii":
        data["service_consent"] = "given"
    return await teams_channel.execute(chat, user, DECIDE_VERB, data)


async def _channel_update(teams_channel: TeamsChannel) -> list[Any]:
    for _ in range(100):
        if updates := teams_channel.updates_to(decisions_channel(teams_channel)):
            return updates
        await asyncio.sleep(0.05)
    return []


async def test_without_a_decisions_channel_a_consultant_screens_and_another_signs_off_in_their_chats(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await _ready(start_bot, teams_channel, channel=False)
    chat, view = await _deciders_view(teams_channel, CONSULTANT)
    assert sorted(node["data"]["route"] for node in _executes(view, DECIDE_VERB)) == ["i", "ii", "iii", "iv"]

    decided = await _decide_personally(teams_channel, chat, CONSULTANT, view, "ii")

    assert decided.card is not None, decided.text
    assert "Decided: route II" in texts_of(decided.card) and _executes(decided.card, DECIDE_VERB) == []
    contact = await only_contact(bot)
    assert contact.state is ContactState.AWAITING_SIGNOFF
    events = await audit(bot)
    assert [(e.action, e.actor_id) for e in events if e.action.startswith("contact.route_")] == [
        ("contact.route_ii", CONSULTANT.aad_object_id)
    ]
    assert any(e.action == "contact.viewed" and e.actor_id == CONSULTANT.aad_object_id for e in events)

    # The other consultant signs off from their own chat.
    other_chat, signer_view = await _deciders_view(teams_channel, CONSULTANT_2)
    [sign] = _executes(signer_view, SIGN_OFF_VERB)
    signed = await teams_channel.execute(other_chat, CONSULTANT_2, SIGN_OFF_VERB, sign["data"])
    assert signed.card is not None and "Signed off and closed by Cai Consultantexample" in texts_of(
        signed.card
    )
    assert (await only_contact(bot)).state is ContactState.CLOSED
    # Once closed there is nothing left to decide: the record no longer offers it. (The outcome
    # letter comes to the decider, who recorded the outcome, after the sign-off: let it arrive first.)
    for _ in range(100):
        if any("is signed off" in texts_of(c) for p in teams_channel.sent_to(chat) for c in p.cards):
            break
        await asyncio.sleep(0.05)
    assert _executes((await _record(teams_channel, CONSULTANT))[1], REFRESH_VERB) == []


async def test_people_who_cannot_decide_get_no_deciding_view_on_the_record(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    await _ready(start_bot, teams_channel, channel=False)
    await introduce(teams_channel, SOCIAL_WORKER)
    for user in (OFFICER, SOCIAL_WORKER):
        chat, record = await _record(teams_channel, user)
        assert _executes(record, REFRESH_VERB) == []
        # pressing it anyway (an old card, a forged one) shows the status only
        status = await teams_channel.execute(chat, user, REFRESH_VERB, {"reference": REFERENCE, "version": 1})
        assert status.card is not None and _executes(status.card, DECIDE_VERB) == []
        refused = await teams_channel.execute(
            chat, user, DECIDE_VERB, {"reference": REFERENCE, "version": 1, "route": "i"}
        )
        assert refused.card is None and refused.json["value"].startswith("Sorry, only")


@pytest.mark.parametrize("personal_first", [True, False], ids=["personal_chat_first", "channel_first"])
async def test_a_personal_chat_and_the_channel_card_the_first_wins_and_the_other_is_told_who(
    start_bot: StartBot, teams_channel: TeamsChannel, personal_first: bool
) -> None:
    bot = await _ready(start_bot, teams_channel, channel=True)
    activity_id, card = _posted(teams_channel)
    chat, personal_view = await _deciders_view(teams_channel, CONSULTANT)
    channel_view = await _view(teams_channel, CONSULTANT_2, card, activity_id)
    # The channel's card keeps its note and View; in the personal chat, where the full record
    # already is, the same deciders' view has neither.
    assert CHANNEL_NOTE in texts_of(channel_view) and len(_executes(channel_view, VIEW_VERB)) == 1
    assert CHANNEL_NOTE not in texts_of(personal_view) and _executes(personal_view, VIEW_VERB) == []

    async def in_chat() -> TurnResponse:
        return await _decide_personally(teams_channel, chat, CONSULTANT, personal_view, "ii")

    async def on_channel() -> TurnResponse:
        return await _decide(
            teams_channel, CONSULTANT_2, _route_data(channel_view, "i"), activity_id, rationale=RATIONALE
        )

    if personal_first:
        won, lost = await in_chat(), await on_channel()
        winner, route = CONSULTANT, "II"
    else:
        won, lost = await on_channel(), await in_chat()
        winner, route = CONSULTANT_2, "I"

    assert won.card is not None and lost.card is not None
    text = texts_of(lost.card)
    assert f"already decided by {winner.name}" in text and "nothing was changed" in text
    assert f"Decided: route {route}:" in text and _executes(lost.card, DECIDE_VERB) == []
    # each answer is shaped for where it was pressed: the personal chat's without the channel's parts
    in_personal_chat = won if personal_first else lost
    for answer in (won, lost):
        shown_in_chat = answer is in_personal_chat
        assert (CHANNEL_NOTE in texts_of(answer.card or {})) is not shown_in_chat
        assert (_executes(answer.card or {}, VIEW_VERB) == []) is shown_in_chat
    routes = [e for e in await audit(bot) if e.action.startswith("contact.route_")]
    assert [(e.action, e.actor_id) for e in routes] == [
        (f"contact.route_{route.lower()}", winner.aad_object_id)
    ]
    # The channel message shows the decision for everyone, whichever place it was made in.
    updates = await _channel_update(teams_channel)
    assert updates and updates[-1].activity_id == activity_id and updates[-1].card is not None
    update_text = texts_of(updates[-1].card)
    assert f"Decided: route {route}:" in update_text and f"by {winner.name} at" in update_text
    assert CHANNEL_NOTE in update_text and len(_executes(updates[-1].card, VIEW_VERB)) == 1


async def test_both_at_once_exactly_one_wins(start_bot: StartBot, teams_channel: TeamsChannel) -> None:
    bot = await _ready(start_bot, teams_channel, channel=True)
    activity_id, card = _posted(teams_channel)
    chat, personal_view = await _deciders_view(teams_channel, CONSULTANT)
    channel_view = await _view(teams_channel, CONSULTANT_2, card, activity_id)

    answers = await asyncio.gather(
        _decide_personally(teams_channel, chat, CONSULTANT, personal_view, "ii"),
        _decide(
            teams_channel, CONSULTANT_2, _route_data(channel_view, "i"), activity_id, rationale=RATIONALE
        ),
    )

    routes = [e for e in await audit(bot) if e.action.startswith("contact.route_")]
    assert len(routes) == 1
    [winner] = [p for p in (CONSULTANT, CONSULTANT_2) if p.aad_object_id == routes[0].actor_id]
    told = [
        a for a in answers if a.card is not None and f"already decided by {winner.name}" in texts_of(a.card)
    ]
    assert len(told) == 1
    assert (await only_contact(bot)).state in (ContactState.AWAITING_SIGNOFF, ContactState.CP_DECISION)
