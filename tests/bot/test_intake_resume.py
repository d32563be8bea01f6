"""A draft survives a restart: ``resume`` carries on at the same card with every answer kept."""

from __future__ import annotations

from typing import Any

from bot.cards.intake import BACK, NEXT, OPEN, SUBMIT
from frontdoor.contact import ContactState
from frontdoor.script import Section
from tests.bot.conftest import StartBot
from tests.bot.intake_script import (
    CHILD_NAME,
    OFFICER,
    OTHER_OFFICER,
    REFERRER_NAME,
    ROUTINE,
    actions,
    clock,
    contacts,
    inputs,
    only_contact,
    press,
    receipt_reference,
    section_of_card,
    staff,
    start,
    texts_of,
    walk,
)
from tests.harness.teams import TeamsChannel


async def test_resume_after_a_restart_carries_on_at_the_same_card_with_every_answer_kept(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    await walk(teams_channel, chat, OFFICER, until=Section.PARENTS)

    bot = await start_bot(clock=clock())  # a new process on the same database

    reply = await teams_channel.say(chat, OFFICER, "resume")
    [card] = reply.cards
    assert section_of_card(card) is Section.PARENTS
    assert "Carrying on where you left off" in texts_of(card)
    reply = await press(teams_channel, chat, OFFICER, BACK)
    card = reply.cards[-1]
    assert section_of_card(card) is Section.CHILDREN
    assert inputs(card)["child_0_name"]["value"] == CHILD_NAME
    assert inputs(card)["child_0_dob"]["value"] == "2019-05-04"

    bot = await start_bot(clock=clock())  # and again, between two cards

    reply = await press(teams_channel, chat, OFFICER, NEXT)
    assert section_of_card(reply.cards[-1]) is Section.PARENTS
    await walk(teams_channel, chat, OFFICER)
    summary = teams_channel.last_card(chat)
    assert REFERRER_NAME in texts_of(summary) and CHILD_NAME in texts_of(summary)
    reply = await press(teams_channel, chat, OFFICER, SUBMIT)
    assert receipt_reference(reply) == "CT-26-000001"
    assert (await only_contact(bot)).state is ContactState.AWAITING_SCREENING


async def test_the_reminder_works_after_a_restart_too(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    await walk(teams_channel, chat, OFFICER, until=Section.WORRIES)
    await start_bot(clock=clock())
    reply = await teams_channel.say(chat, OFFICER, "hello?")
    assert section_of_card(reply.cards[-1]) is Section.WORRIES


async def test_resume_with_several_drafts_lists_them_and_continues_the_chosen_one(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    await walk(teams_channel, chat, OFFICER, until=Section.REFERRER)
    reply = await teams_channel.say(chat, OFFICER, "new contact")  # a second call comes in
    assert "1 other draft" in texts_of(reply.cards[-1])
    await press(teams_channel, chat, OFFICER, NEXT, ROUTINE[Section.SOURCE])

    reply = await teams_channel.say(chat, OFFICER, "resume")
    [listing] = reply.cards
    continues = [a for a in listing["body"] if a["type"] == "Container"]
    assert len(continues) == 2
    # both started at the same (fixed) time: the first is the one walked on to the referrer card
    [first] = [c for c in await contacts(bot) if c.draft_section == Section.REFERRER.value]
    reply = await teams_channel.submit(
        chat, OFFICER, {"fd": OPEN, "contact_id": first.id}, card_activity_id=None
    )
    card = reply.cards[-1]
    assert section_of_card(card) is Section.REFERRER
    assert action_contact(card) == first.id

    # someone else cannot open my draft from a list
    other_chat = teams_channel.personal(OTHER_OFFICER)
    reply = await teams_channel.submit(other_chat, OTHER_OFFICER, {"fd": OPEN, "contact_id": first.id})
    assert reply.cards == []
    assert any("not one of yours" in text for text in reply.texts)


async def test_resume_without_a_draft_says_so(start_bot: StartBot, teams_channel: TeamsChannel) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    reply = await teams_channel.say(teams_channel.personal(OFFICER), OFFICER, "resume")
    assert reply.texts == ["You have no draft contact. Say **new contact** to start one."]


def action_contact(card: dict[str, Any]) -> str:
    return str(next(a["data"]["contact_id"] for a in actions(card) if "contact_id" in a.get("data", {})))
