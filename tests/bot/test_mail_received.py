"""A contact started from an e-mail keeps the e-mail's received time (SPEC §5a: "received-at = the
message's received time (the clock starts then, not when an officer opens it)"), through the Teams
endpoint: the source card shows it (to the second) instead of asking for it, a card that sends a
date and time anyway changes nothing, and an e-mail 20 days old (a backlog after a closure) is
submitted with its true time, its clocks started then, though a typed time may go back at most 14
days."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from bot.cards.intake import NEXT, SUBMIT
from bot.cards.mail import START, TAKE
from frontdoor.contact import Contact, Source
from frontdoor.mail import item_from, parse_mail, take_in
from frontdoor.records import ClockKind
from frontdoor.script import Section
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.intake_script import (
    ALL_NO,
    EMERGENCY,
    MONDAY_10AM,
    OFFICER,
    OTHER_OFFICER,
    audit,
    clock,
    contacts,
    decisions_channel,
    inputs,
    introduce,
    press,
    receipt_reference,
    register_channels,
    script,
    section_of_card,
    staff,
    texts_of,
    walk,
)
from tests.harness.teams import TeamsChannel
from tests.mail import messages

#: 20 days before the bot's clock, with seconds: Tuesday 24 February 2026, 09:12:07 (GMT).
RECEIVED = MONDAY_10AM - timedelta(days=20, minutes=47, seconds=53)
SOURCE = {"source": "email", "contact_type": "referral"}
#: What a card from before this change (or a forged one) would send: today, a minute ago.
TYPED_TIME = {"received_date": "2026-03-16", "received_time": "09:59"}


async def _started(start_bot: StartBot, teams_channel: TeamsChannel) -> tuple[RunningBot, dict[str, object]]:
    bot = await start_bot(clock=clock())
    await staff(bot)
    await register_channels(teams_channel)
    raw = messages.html()
    item = item_from(
        parse_mail(raw), mailbox="frontdoor@council.example/INBOX", uid_validity=7, uid=1,
        received_at=RECEIVED, size=len(raw),
    )  # fmt: skip
    assert await take_in(bot.store.unit_of_work(), item, MONDAY_10AM)
    chat = await introduce(teams_channel, OFFICER)
    await teams_channel.say(chat, OFFICER, "mail")
    await press(teams_channel, chat, OFFICER, TAKE)
    started = await press(teams_channel, chat, OFFICER, START)
    return bot, started.cards[-1]


async def _contact(bot: RunningBot, reference: str) -> Contact:
    [contact] = [c for c in await contacts(bot) if c.reference == reference]
    return contact


async def _clocks(bot: RunningBot, reference: str) -> dict[ClockKind, datetime]:
    async with bot.store.unit_of_work() as uow:
        return {d.clock: d.started_at for d in await uow.deadlines.for_subject(reference)}


async def test_an_e_mail_20_days_old_is_submitted_with_its_own_received_time(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, card = await _started(start_bot, teams_channel)
    chat = teams_channel.personal(OFFICER)
    assert section_of_card(card) is Section.SOURCE
    # shown, to the second, and not an input
    assert "Tue 24 Feb 2026 09:12:07" in texts_of(card)
    assert "received_date" not in inputs(card) and "received_time" not in inputs(card)

    reply = await press(teams_channel, chat, OFFICER, NEXT, SOURCE | TYPED_TIME)
    assert section_of_card(reply.cards[-1]) is Section.RISK, texts_of(reply.cards[-1])
    await walk(teams_channel, chat, OFFICER, script(source=SOURCE))
    reference = receipt_reference(await press(teams_channel, chat, OFFICER, SUBMIT))

    contact = await _contact(bot, reference)
    assert contact.received_at == RECEIVED  # the seconds kept; the typed time ignored
    assert (await _clocks(bot, reference))[ClockKind.SCREENING] == RECEIVED


async def test_an_urgent_contact_from_an_old_e_mail_is_created_with_its_clock_from_the_e_mail(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, _ = await _started(start_bot, teams_channel)
    chat = teams_channel.personal(OFFICER)
    await press(teams_channel, chat, OFFICER, NEXT, SOURCE)
    await press(teams_channel, chat, OFFICER, NEXT, {**ALL_NO, "risk_injury": "yes"})
    reply = await press(teams_channel, chat, OFFICER, NEXT, EMERGENCY)

    assert section_of_card(reply.cards[-1]) is Section.REFERRER, texts_of(reply.cards[-1])
    reference = receipt_reference(reply)
    assert [p for p in teams_channel.sent_to(decisions_channel(teams_channel)) if p.card is not None]
    assert (await _contact(bot, reference)).received_at == RECEIVED
    assert (await _clocks(bot, reference))[ClockKind.CP_DECISION] == RECEIVED


async def test_a_typed_time_still_goes_back_at_most_14_days(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = await introduce(teams_channel, OFFICER)
    reply = await teams_channel.say(chat, OFFICER, "new contact")
    assert "received_date" in inputs(reply.cards[-1])
    reply = await press(
        teams_channel, chat, OFFICER, NEXT, SOURCE | {"received_date": "2026-02-24", "received_time": "09:12"}
    )
    assert section_of_card(reply.cards[-1]) is Section.SOURCE
    assert "Date received: can be back-dated at most 14 days" in texts_of(reply.cards[-1])


# -- the sender as referrer "where it matches" (SPEC §5a) ---------------------------------------


def _forward(sender: str, message_id: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "frontdoor@council.example"
    message["Subject"] = "FW: Concern about a pupil (fictional)"
    message["Date"] = format_datetime(MONDAY_10AM - timedelta(hours=1))
    message["Message-ID"] = message_id
    message.set_content("Forwarding the school's e-mail below.\n")
    return message.as_bytes()


async def test_a_colleague_forwarding_an_e_mail_is_not_made_its_referrer(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    # the colleague is in the role directory under the name Teams (and so Outlook) gives them
    await introduce(teams_channel, OTHER_OFFICER)
    raw = _forward(f'"{OTHER_OFFICER.name}" <ola.otherofficer@council.example>', "<fw-1@council.example>")
    item = item_from(
        parse_mail(raw), mailbox="frontdoor@council.example/INBOX", uid_validity=7, uid=3,
        received_at=MONDAY_10AM - timedelta(hours=1), size=len(raw),
    )  # fmt: skip
    assert await take_in(bot.store.unit_of_work(), item, MONDAY_10AM)
    chat = await introduce(teams_channel, OFFICER)
    await teams_channel.say(chat, OFFICER, "mail")
    await press(teams_channel, chat, OFFICER, TAKE)

    started = await press(teams_channel, chat, OFFICER, START)

    assert "the referrer is left for you to fill in" in texts_of(started.cards[-1])
    [draft] = await contacts(bot)
    assert draft.referrer is None and draft.source is Source.EMAIL
    [event] = [e for e in await audit(bot) if e.action == "contact.started"]
    assert event.detail == f"mail={item.id}; referrer=none (sender is front-door staff)"
    # the referrer card asks for the referrer rather than showing the colleague
    await press(teams_channel, chat, OFFICER, NEXT, SOURCE)
    reply = await press(teams_channel, chat, OFFICER, NEXT, ALL_NO)
    fields = inputs(reply.cards[-1])
    assert section_of_card(reply.cards[-1]) is Section.REFERRER
    assert not fields["referrer_name"].get("value") and not fields["referrer_email"].get("value")
