"""The contact script is ONE card in the officer's chat (issue: the script left a card per step):
``new contact`` posts it, and every button redraws it in place (the Bot Connector's
``updateActivity`` on the message the ``Action.Submit`` replied to) until it is the receipt. The
loopback Teams channel records each redraw, and checks every state of the card against Microsoft's
Adaptive Cards SDK; here each state must also fit a Teams message."""

from __future__ import annotations

from bot.cards.intake import BACK, NEXT, SAVE, SUBMIT
from frontdoor.roles import Role
from frontdoor.script import Section
from tests.bot.conftest import StartBot
from tests.bot.intake_script import (
    ALL_NO,
    CONSULTANT_2,
    EMERGENCY,
    OFFICER,
    ROUTINE,
    TEAMS_MESSAGE_LIMIT,
    clock,
    inputs,
    message_size,
    on_rota,
    only_contact,
    press,
    register_channels,
    section_of_card,
    staff,
    start,
    texts_of,
    walk,
)
from tests.harness.recordings import cards_in
from tests.harness.teams import Conversation, SentActivity, TeamsChannel


def _script_card(teams_channel: TeamsChannel, chat: Conversation) -> tuple[SentActivity, list[SentActivity]]:
    """The one card posted to the chat, and its redraws: every redraw is of that card."""
    [posted] = [activity for activity in teams_channel.sent_to(chat) if activity.cards]
    updates = teams_channel.updates_to(chat)
    assert {update.activity_id for update in updates} <= {posted.activity_id}
    assert all(message_size(state.body) < TEAMS_MESSAGE_LIMIT for state in [posted, *updates])
    return posted, updates


def _shown(teams_channel: TeamsChannel, activity: SentActivity) -> str:
    """What the chat shows in that message now."""
    message = teams_channel.message(activity.activity_id)
    assert message is not None
    [card] = cards_in(message)
    return texts_of(card)


async def test_the_urgent_script_is_one_card_from_new_contact_to_finished(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    await on_rota(bot, CONSULTANT_2, Role.CONSULTANT)
    await register_channels(teams_channel)
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    await press(teams_channel, chat, OFFICER, NEXT, ROUTINE[Section.SOURCE])
    await press(teams_channel, chat, OFFICER, NEXT, {**ALL_NO, "risk_injury": "yes"})
    await press(teams_channel, chat, OFFICER, NEXT, EMERGENCY)

    # the urgent contact exists: the same card is now its receipt, with the next step below it
    posted, updates = _script_card(teams_channel, chat)
    now = _shown(teams_channel, posted)
    assert "Urgent contact created" in now and "CT-26-000001" in now
    assert "The consultant on duty was @mentioned there." in now
    assert section_of_card(updates[-1].card or {}) is Section.REFERRER
    # what to do next is said once, of this card (the script no longer puts a card below)
    assert now.count("Carry on with the rest of the contact") == 1
    assert "Carry on with the rest of the contact on this card" in now and "below" not in now
    # the three steps before it are answered: the count agrees with itself in number
    assert "Answered so far (3 steps)" in now

    await walk(teams_channel, chat, OFFICER, until=Section.SUMMARY)
    await press(teams_channel, chat, OFFICER, SUBMIT)

    posted, updates = _script_card(teams_channel, chat)
    # Next on source, risk, emergency, referrer, children, parents, worries, history; then Finish
    assert len(updates) == 9
    assert [section_of_card(update.card or {}) for update in updates[:-1]] == [
        Section.RISK,
        Section.EMERGENCY,
        Section.REFERRER,
        Section.CHILDREN,
        Section.PARENTS,
        Section.WORRIES,
        Section.HISTORY,
        Section.SUMMARY,
    ]
    final = _shown(teams_channel, posted)
    assert "Urgent contact finished" in final and "CT-26-000001" in final
    assert "Finish" not in final and "Save draft" not in final  # nothing left to press
    assert not any(text for text in teams_channel.texts(chat) if "next step is below" in text)


async def test_a_refused_answer_shows_on_the_same_card_with_what_was_typed(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    await walk(teams_channel, chat, OFFICER, until=Section.REFERRER)
    typed = {**ROUTINE[Section.REFERRER], "referrer_phone": "call the school office"}

    reply = await press(teams_channel, chat, OFFICER, NEXT, typed)

    _, updates = _script_card(teams_channel, chat)
    assert reply.sent_to(chat.id) == [updates[-1]]  # no new message: the same card, redrawn
    card = updates[-1].card or {}
    assert section_of_card(card) is Section.REFERRER
    assert "Please check" in texts_of(card)
    assert inputs(card)["referrer_phone"]["value"] == "call the school office"
    assert inputs(card)["referrer_name"]["value"] == ROUTINE[Section.REFERRER]["referrer_name"]
    assert (await only_contact(bot)).referrer is None  # nothing of the card was saved


async def test_back_and_save_draft_redraw_the_same_card(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    await walk(teams_channel, chat, OFFICER, until=Section.CHILDREN)

    await press(teams_channel, chat, OFFICER, BACK)
    _, updates = _script_card(teams_channel, chat)
    assert section_of_card(updates[-1].card or {}) is Section.REFERRER
    await press(teams_channel, chat, OFFICER, SAVE)
    _, updates = _script_card(teams_channel, chat)
    saved = updates[-1].card or {}
    assert section_of_card(saved) is Section.REFERRER
    assert "Draft saved at 10:00" in texts_of(saved)
    # the steps answered before this one are on the card, folded away under one line
    assert "Answered so far (2 steps)" in texts_of(saved) and "No immediate risk" in texts_of(saved)
    assert (await only_contact(bot)).draft_section == "referrer"
    await press(teams_channel, chat, OFFICER, BACK)
    _, updates = _script_card(teams_channel, chat)
    assert section_of_card(updates[-1].card or {}) is Section.RISK
    assert "Answered so far (1 step)" in texts_of(updates[-1].card or {})
