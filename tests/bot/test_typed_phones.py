"""Phone numbers are kept as they were typed (once checked to be UK numbers): the summary and the
full record show them with their spaces. End to end: the loopback Teams channel, the real app over
HTTP, SQLite and PostgreSQL."""

from __future__ import annotations

from bot.cards.intake import SUBMIT
from frontdoor.script import Section
from tests.bot.conftest import StartBot
from tests.bot.intake_script import (
    CONSULTANT,
    OFFICER,
    ROUTINE,
    clock,
    only_contact,
    press,
    staff,
    start,
    texts_of,
    walk,
)
from tests.harness.teams import TeamsChannel

TYPED = "+44 (0)20 7946 0000"


async def test_the_summary_and_the_record_show_a_phone_number_as_typed(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = teams_channel.personal(OFFICER)
    answers = {
        **ROUTINE,
        Section.REFERRER: {**ROUTINE[Section.REFERRER], "referrer_phone": TYPED},
        Section.PARENTS: {**ROUTINE[Section.PARENTS], "parent_0_phone": "  07700   900123 "},
    }
    await start(teams_channel, chat, OFFICER)
    summary = texts_of(await walk(teams_channel, chat, OFFICER, answers))
    assert TYPED in summary and "07700 900123" in summary
    assert "02079460000" not in summary and "07700900123" not in summary

    await press(teams_channel, chat, OFFICER, SUBMIT)
    contact = await only_contact(bot)
    assert contact.referrer is not None and contact.referrer.phone == TYPED
    assert contact.parents[0].phone == "07700 900123"
    [record] = (
        await teams_channel.say(teams_channel.personal(CONSULTANT), CONSULTANT, "find CT-26-000001")
    ).cards
    assert TYPED in texts_of(record) and "07700 900123" in texts_of(record)
