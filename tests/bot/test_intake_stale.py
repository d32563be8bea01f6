"""Card submissions that must change nothing: an earlier step's card, another person's draft, a
contact that has moved on, a card that cannot be read, and a person who may no longer record."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.cards.intake import CANCEL, NEXT, SAVE, SUBMIT
from frontdoor.contact import Contact
from frontdoor.roles import Role
from frontdoor.script import Section
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.intake_script import (
    OFFICER,
    OTHER_OFFICER,
    ROUTINE,
    action,
    audit,
    clock,
    contacts,
    decisions_channel,
    only_contact,
    press,
    register_channels,
    section_of_card,
    staff,
    start,
    walk,
)
from tests.harness.teams import TeamsChannel


async def _snapshot(bot: RunningBot) -> tuple[list[Contact], int]:
    return await contacts(bot), len(await audit(bot))


async def test_a_card_from_an_earlier_step_is_refused_and_the_current_card_shown(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = teams_channel.personal(OFFICER)
    first = await start(teams_channel, chat, OFFICER)
    first_card, first_id = first.cards[-1], first.sent[-1].activity_id
    await walk(teams_channel, chat, OFFICER, until=Section.CHILDREN)
    before = await _snapshot(bot)

    reply = await press(
        teams_channel,
        chat,
        OFFICER,
        NEXT,
        {"source": "email", "contact_type": "advice"},
        card=first_card,
        card_activity_id=first_id,
    )

    assert any("earlier step" in text and "Children and household" in text for text in reply.texts)
    assert section_of_card(reply.cards[-1]) is Section.CHILDREN
    assert await _snapshot(bot) == before


@pytest.mark.parametrize("fd", [NEXT, SAVE, CANCEL])
async def test_a_card_of_another_persons_draft_is_refused(
    start_bot: StartBot, teams_channel: TeamsChannel, fd: str
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = teams_channel.personal(OFFICER)
    card = (await start(teams_channel, chat, OFFICER)).cards[-1]
    before = await _snapshot(bot)
    # the card's data as it would arrive from another officer's chat (a forwarded or copied card)
    stolen: dict[str, Any] = {**ROUTINE[Section.SOURCE], **action(card, fd)["data"]}
    reply = await teams_channel.submit(teams_channel.personal(OTHER_OFFICER), OTHER_OFFICER, stolen)
    assert any("someone else started" in text for text in reply.texts)
    assert reply.cards == []
    assert await _snapshot(bot) == before


async def test_cards_of_a_submitted_contact_change_nothing(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    await register_channels(teams_channel, duty=False)
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    summary = await walk(teams_channel, chat, OFFICER)
    await press(teams_channel, chat, OFFICER, SUBMIT, card=summary)
    before = await _snapshot(bot)
    posts = len(teams_channel.sent_to(decisions_channel(teams_channel)))

    for fd in (SUBMIT, SAVE, CANCEL):  # Submit pressed twice, then the other buttons
        reply = await press(teams_channel, chat, OFFICER, fd, card=summary)
        assert any("already been submitted as CT-26-000001" in text for text in reply.texts), fd

    assert await _snapshot(bot) == before
    assert len(teams_channel.sent_to(decisions_channel(teams_channel))) == posts


@pytest.mark.parametrize(
    "data",
    [
        {"fd": NEXT},
        {"fd": NEXT, "contact_id": "x", "version": "not a number", "section": "source"},
        {"fd": NEXT, "contact_id": "x", "version": 0, "section": "no-such-section"},
        {"fd": NEXT, "contact_id": "../../etc", "version": 0, "section": "source"},
        {"fd": NEXT, "contact_id": "x", "version": True, "section": "source"},
        {"fd": NEXT, "contact_id": ["x"], "version": 0, "section": "source"},
    ],
)
async def test_a_card_that_cannot_be_read_is_answered_and_changes_nothing(
    start_bot: StartBot, teams_channel: TeamsChannel, data: dict[str, Any]
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    before = await _snapshot(bot)
    reply = await teams_channel.submit(chat, OFFICER, data)
    assert reply.status in (200, 201)
    assert any("could not be read" in text for text in reply.texts)
    assert await _snapshot(bot) == before


async def test_a_card_for_a_draft_that_no_longer_exists(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = teams_channel.personal(OFFICER)
    card = (await start(teams_channel, chat, OFFICER)).cards[-1]
    await teams_channel.say(chat, OFFICER, "cancel")
    reply = await press(teams_channel, chat, OFFICER, NEXT, ROUTINE[Section.SOURCE], card=card)
    assert any("no longer exists" in text for text in reply.texts)
    assert await contacts(bot) == []


async def test_someone_whose_role_was_taken_away_cannot_carry_on(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    async with bot.store.unit_of_work() as uow:
        await uow.roles.revoke(OFFICER.aad_object_id, Role.OFFICER)
        await uow.commit()
    drafts, audited = await _snapshot(bot)
    reply = await press(teams_channel, chat, OFFICER, NEXT, ROUTINE[Section.SOURCE])
    assert any(text.startswith("Sorry, only First Contact officers") for text in reply.texts)
    # nothing changed: the refusal itself is the one row added to the audit trail
    assert await _snapshot(bot) == (drafts, audited + 1)
    [refused] = (await audit(bot))[audited:]
    assert (refused.action, refused.actor_id) == ("access.refused", OFFICER.aad_object_id)
    reply = await teams_channel.say(chat, OFFICER, "resume")
    assert any(text.startswith("Sorry, only") for text in reply.texts)


async def test_submit_pressed_twice_at_once_gives_one_reference_and_one_decision_card(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    await register_channels(teams_channel, duty=False)
    chat = teams_channel.personal(OFFICER)
    await start(teams_channel, chat, OFFICER)
    summary = await walk(teams_channel, chat, OFFICER)

    replies = await asyncio.gather(
        *(press(teams_channel, chat, OFFICER, SUBMIT, card=summary) for _ in range(2))
    )

    assert all(reply.status in (200, 201) for reply in replies)
    contact = await only_contact(bot)
    assert contact.reference == "CT-26-000001"
    posts = [post for post in teams_channel.sent_to(decisions_channel(teams_channel)) if post.card]
    assert len(posts) == 1
    # (overlapping turns share their ``sent``; the chat's own record tells them apart)
    refused = [text for text in teams_channel.texts(chat) if "submitted" in text or "same time" in text]
    assert len(refused) == 1
