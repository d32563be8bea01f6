"""The e-mail queue end to end: the loopback Teams channel, the real app over HTTP, SQLite and
PostgreSQL. ``mail`` lists the untaken e-mails oldest first with what an officer needs to choose;
"I'll take it" is first-wins and the second is told who; "Start contact" opens the contact script on
a draft from the e-mail, and the submitted contact is received when the e-mail was; "Not a referral"
records a reason; ``queue`` says how many e-mails wait; who may ask, and where.

The e-mails are taken in through the domain (the IMAP watcher has its own tests against Dovecot).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from bot.app import ALERTS
from bot.cards.intake import SUBMIT
from bot.cards.mail import NOT_REFERRAL, PERSONAL_ONLY, REASON_INPUT, START, TAKE
from bot.dialogs.mail import NOTHING_WAITING
from bot.dialogs.worklists import mail_waiting
from frontdoor.calendar import WorkingCalendar
from frontdoor.contact import ContactState, Source
from frontdoor.mail import item_from, parse_mail, take_in
from frontdoor.mail_records import MailItem, MailState, NotReferralReason
from frontdoor.policy import default_policy, parse_policy
from frontdoor.records import ClockKind
from frontdoor.roles import Role
from frontdoor.script import Section
from scheduler.jobs import run_mail_untaken
from tests.bot.conftest import RunningBot, StartBot
from tests.bot.intake_script import (
    CONSULTANT,
    DUTY_MANAGER,
    MONDAY_10AM,
    OFFICER,
    OTHER_OFFICER,
    SOCIAL_WORKER,
    actions,
    audit,
    clock,
    contacts,
    decisions_channel,
    grant,
    introduce,
    on_rota,
    press,
    receipt_reference,
    register_channels,
    script,
    section_of_card,
    staff,
    texts_of,
    walk,
)
from tests.harness.teams import TeamsChannel, cards_in
from tests.imap import TestMailbox
from tests.mail import messages
from tests.store.samples import full_contact

#: The e-mails arrived before the bot's clock (10:00): at 09:12 and 09:40 that Monday.
POLICY = default_policy()
#: March 2026 has no bank holiday in England and Wales.
CALENDAR = WorkingCalendar()
FIRST_RECEIVED = datetime(2026, 3, 16, 9, 12, tzinfo=UTC)
SECOND_RECEIVED = datetime(2026, 3, 16, 9, 40, tzinfo=UTC)


async def _mail(bot: RunningBot, raw: bytes, uid: int, received_at: datetime) -> MailItem:
    item = item_from(
        parse_mail(raw), mailbox="frontdoor@council.example/INBOX", uid_validity=7, uid=uid,
        received_at=received_at, size=len(raw),
    )  # fmt: skip
    assert await take_in(bot.store.unit_of_work(), item, MONDAY_10AM)
    return item


async def _ready(start_bot: StartBot, teams_channel: TeamsChannel) -> tuple[RunningBot, MailItem, MailItem]:
    bot = await start_bot(clock=clock())
    await staff(bot)
    await register_channels(teams_channel)
    # Delivered out of order: the queue is by received time.
    second = await _mail(bot, messages.attached(), 2, SECOND_RECEIVED)
    first = await _mail(bot, messages.html(), 1, FIRST_RECEIVED)
    return bot, first, second


async def _item(bot: RunningBot, item_id: str) -> MailItem:
    async with bot.store.unit_of_work() as uow:
        found = await uow.mail.get(item_id)
    assert found is not None
    return found


async def test_mail_lists_waiting_e_mails_oldest_first(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, first, second = await _ready(start_bot, teams_channel)
    chat = await introduce(teams_channel, OFFICER)

    reply = await teams_channel.say(chat, OFFICER, "mail")

    [card] = reply.cards
    text = texts_of(card)
    assert "E-mail queue: 2 waiting" in text
    assert text.index(messages.SUBJECT_HTML) < text.index(messages.SUBJECT_ATTACHED)
    assert "pc.example@police.example" in text and "helpline@nspcc.example" in text
    assert "Mon 16 Mar 2026 09:12" in text and "Mon 16 Mar 2026 09:40" in text
    assert messages.ATTACHMENT in text and "chronology.csv" in text
    assert "Officer attended." in text and "Please find the referral form attached." in text
    # Links are not links: no scheme a client would follow, no Markdown link syntax left active.
    assert "https://" not in text and "evil" not in text and "](" not in text
    takes = [a for a in actions(card) if a["data"]["fd"] == TAKE]
    assert [a["data"]["mail"] for a in takes] == [first.id, second.id]
    viewed = [(e.actor_id, e.action, e.detail) for e in await audit(bot) if e.subject == "mail:queue"]
    assert viewed == [(OFFICER.aad_object_id, "mail.queue_viewed", "count=2")]


async def test_the_first_to_take_an_e_mail_gets_it_and_the_second_is_told_who(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, first, _ = await _ready(start_bot, teams_channel)
    chat, other_chat = await introduce(teams_channel, OFFICER), await introduce(teams_channel, OTHER_OFFICER)
    await teams_channel.say(chat, OFFICER, "mail")
    await teams_channel.say(other_chat, OTHER_OFFICER, "mail")
    theirs = teams_channel.last_card(other_chat)

    taken = await press(teams_channel, chat, OFFICER, TAKE)
    assert "You took this e-mail." in texts_of(taken.cards[-1])
    late = await press(teams_channel, other_chat, OTHER_OFFICER, TAKE, card=theirs)
    assert late.texts == ["Olu Officerperson took that e-mail first, so it is theirs to deal with."]
    assert late.cards == []

    stored = await _item(bot, first.id)
    assert (stored.state, stored.taken_by) == (MailState.TAKEN, OFFICER.aad_object_id)
    # The queue now lists one waiting, and the officer's taken e-mail under it.
    reply = await teams_channel.say(chat, OFFICER, "mail")
    assert "E-mail queue: 1 waiting" in texts_of(reply.cards[-1]) and "Taken by you: 1" in texts_of(
        reply.cards[-1]
    )
    assert ("mail.taken", f"mail:{first.id}") in [(e.action, e.subject) for e in await audit(bot)]


async def test_a_contact_started_from_an_e_mail_is_received_when_the_e_mail_was(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, first, _ = await _ready(start_bot, teams_channel)
    chat = await introduce(teams_channel, OFFICER)
    await teams_channel.say(chat, OFFICER, "mail")
    await press(teams_channel, chat, OFFICER, TAKE)

    started = await press(teams_channel, chat, OFFICER, START)

    card = started.cards[-1]
    assert section_of_card(card) is Section.SOURCE
    text = texts_of(card)
    assert "Started from the e-mail" in text
    # The source card shows the e-mail's source, ready to confirm, and its received time, which it
    # does not ask for (the clock starts when the e-mail arrived).
    assert '"value": "email"' in text and "Mon 16 Mar 2026 09:12:00" in text
    assert '"received_date"' not in text and '"received_time"' not in text
    answers = script(source={"source": "email", "contact_type": "referral"})
    answers[Section.REFERRER] = {"referrer_agency": "Example Police", "referrer_phone": "0191 498 0001"}
    await walk(teams_channel, chat, OFFICER, answers)
    submitted = await press(teams_channel, chat, OFFICER, SUBMIT)
    reference = receipt_reference(submitted)

    [contact] = [c for c in await contacts(bot) if c.reference == reference]
    assert contact.state is ContactState.AWAITING_SCREENING
    assert contact.source is Source.EMAIL
    assert contact.received_at == FIRST_RECEIVED
    assert contact.referrer is not None and contact.referrer.email == "pc.example@police.example"
    assert contact.referrer.name == "Constable Example"
    async with bot.store.unit_of_work() as uow:
        [screening] = [
            d for d in await uow.deadlines.for_subject(reference) if d.clock is ClockKind.SCREENING
        ]
        linked = await uow.mail.for_contact(contact.id)
    assert screening.started_at == FIRST_RECEIVED  # the clock started when the e-mail arrived
    assert linked is not None and linked.id == first.id and linked.state is MailState.STARTED

    # The record links its e-mail (subject, received time, reference), and attaches nothing.
    found = await teams_channel.say(chat, OFFICER, f"find {reference}")
    record = texts_of(found.cards[-1])
    assert "From e-mail" in record and messages.SUBJECT_HTML in record
    assert "Mon 16 Mar 2026 09:12" in record and f"mail:{first.id}" in record
    attached = [a for activity in found.sent for a in (activity.body or {}).get("attachments") or []]
    assert [a["contentType"] for a in attached] == ["application/vnd.microsoft.card.adaptive"]
    assert messages.ATTACHMENT not in record


async def test_not_a_referral_records_a_reason(start_bot: StartBot, teams_channel: TeamsChannel) -> None:
    bot, first, second = await _ready(start_bot, teams_channel)
    chat = await introduce(teams_channel, OFFICER)
    await teams_channel.say(chat, OFFICER, "mail")
    await press(teams_channel, chat, OFFICER, TAKE)
    reason = f"{REASON_INPUT}_{first.id}"

    refused = await press(
        teams_channel, chat, OFFICER, NOT_REFERRAL, {reason: NotReferralReason.DUPLICATE.value}
    )
    assert refused.texts == ["A duplicate needs the reference of the contact it repeats (CT-26-000123)."]
    assert (await _item(bot, first.id)).state is MailState.TAKEN

    # A reference of the right form that names no contact (mistyped) is refused: the e-mail would
    # leave the queue pointing at nothing.
    detail = f"mail_detail_{first.id}"
    mistyped = await press(
        teams_channel, chat, OFFICER, NOT_REFERRAL,
        {reason: NotReferralReason.DUPLICATE.value, detail: "same as ct-26-000041, see"},
    )  # fmt: skip
    assert mistyped.texts == [
        "There is no contact CT-26-000041: check the reference of the contact this e-mail repeats."
    ]
    assert (await _item(bot, first.id)).state is MailState.TAKEN
    async with bot.store.unit_of_work() as uow:
        await uow.contacts.add(full_contact("c-duplicated", reference="CT-26-000041"))
        await uow.commit()

    done = await press(
        teams_channel,
        chat,
        OFFICER,
        NOT_REFERRAL,
        {reason: NotReferralReason.DUPLICATE.value, detail: "same as ct-26-000041, see"},
    )
    assert done.texts == [
        "Recorded: not a referral, duplicate (CT-26-000041). The e-mail has left the queue."
    ]
    stored = await _item(bot, first.id)
    assert (stored.state, stored.reason, stored.reason_detail) == (
        MailState.NOT_REFERRAL,
        NotReferralReason.DUPLICATE,
        "CT-26-000041",
    )
    assert ("mail.not_referral", "reason=duplicate") in [(e.action, e.detail) for e in await audit(bot)]
    # Once dealt with, the card's buttons change nothing.
    again = await press(teams_channel, chat, OFFICER, START, card=teams_channel.last_card(chat))
    assert any("already been dealt with" in t or "no longer" in t for t in again.texts), again.texts
    assert second.id != first.id


async def test_queue_says_how_many_e_mails_wait_and_who_may_see_them(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    bot, _, _ = await _ready(start_bot, teams_channel)
    await grant(bot, DUTY_MANAGER, Role.DUTY_MANAGER)
    officer_chat = await introduce(teams_channel, OFFICER)
    reply = await teams_channel.say(officer_chat, OFFICER, "queue")
    assert mail_waiting(2) in reply.texts

    # A social worker sees contacts but not the mailbox.
    worker_chat = await introduce(teams_channel, SOCIAL_WORKER)
    assert mail_waiting(2) not in (await teams_channel.say(worker_chat, SOCIAL_WORKER, "queue")).texts
    refused = await teams_channel.say(worker_chat, SOCIAL_WORKER, "mail")
    assert refused.cards == [] and any("Sorry" in text for text in refused.texts)

    # A duty manager may look; a consultant may look and take.
    duty_chat = await introduce(teams_channel, DUTY_MANAGER)
    assert "E-mail queue: 2 waiting" in texts_of(
        (await teams_channel.say(duty_chat, DUTY_MANAGER, "mail")).cards[0]
    )
    denied = await press(teams_channel, duty_chat, DUTY_MANAGER, TAKE)
    assert denied.texts == [
        "Sorry, only First Contact officers, consultants or team managers can do that. If you think you "
        "should be able to, ask an administrator."
    ]
    consultant_chat = await introduce(teams_channel, CONSULTANT)
    await teams_channel.say(consultant_chat, CONSULTANT, "mail")
    assert "You took this e-mail." in texts_of(
        (await press(teams_channel, consultant_chat, CONSULTANT, TAKE)).cards[0]
    )

    # Never in a channel: the cards show senders and text.
    channel = decisions_channel(teams_channel)
    in_channel = await teams_channel.say(channel, CONSULTANT, "mail")
    assert all("E-mail queue" not in texts_of(card) for card in in_channel.cards)
    forged = await teams_channel.submit(channel, CONSULTANT, {"fd": TAKE, "mail": "anything"})
    assert forged.texts == [PERSONAL_ONLY]


async def test_an_empty_queue(start_bot: StartBot, teams_channel: TeamsChannel) -> None:
    bot = await start_bot(clock=clock())
    await staff(bot)
    chat = await introduce(teams_channel, OFFICER)
    assert (await teams_channel.say(chat, OFFICER, "mail")).texts == [NOTHING_WAITING]


async def test_the_handover_lists_untaken_e_mails(start_bot: StartBot, teams_channel: TeamsChannel) -> None:
    _, first, _ = await _ready(start_bot, teams_channel)
    officer_chat = await introduce(teams_channel, OFFICER)
    await teams_channel.say(officer_chat, OFFICER, "mail")
    await press(teams_channel, officer_chat, OFFICER, TAKE)  # the 09:12 one is taken
    chat = await introduce(teams_channel, DUTY_MANAGER)

    reply = await teams_channel.say(chat, DUTY_MANAGER, "handover")

    text = texts_of(reply.cards[-1])
    assert "E-mails waiting untaken (1)" in text
    assert "Received Mon 16 Mar 2026 09:40" in text and "waiting 20 min" in text
    assert "09:12" not in text and messages.SUBJECT_ATTACHED not in text and first.id not in text


async def test_the_bot_reads_its_mailbox_and_lists_what_came_in(
    start_bot: StartBot, teams_channel: TeamsChannel, imap_mailbox: TestMailbox
) -> None:
    """The composition: with ``FRONTDOOR_IMAP_URL`` set, the bot's scheduler reads the real mailbox
    (Dovecot) as the leader, and the e-mail is in ``mail``. Switched on at 10:00 with
    ``mail.first_read_hours = 1``, it queues the e-mail of 09:40 and passes over the one of 08:30."""
    imap_mailbox.deliver(
        messages.plain("<before-nine@school.example>"), datetime(2026, 3, 16, 8, 30, tzinfo=UTC)
    )
    imap_mailbox.deliver(messages.unicode_subject(), SECOND_RECEIVED)
    policy = parse_policy("[mail]\nfirst_read_hours = 1")
    bot = await start_bot(clock=clock(), mailbox=imap_mailbox.address, policy=policy)
    await staff(bot)
    deadline = time.monotonic() + 15
    while True:
        async with bot.store.unit_of_work() as uow:
            if await uow.mail.waiting():
                break
        assert time.monotonic() < deadline, "the bot did not read its mailbox"
        await asyncio.sleep(0.1)
    chat = await introduce(teams_channel, OFFICER)
    text = texts_of((await teams_channel.say(chat, OFFICER, "mail")).cards[-1])
    assert messages.SUBJECT_UNICODE in text and "Mon 16 Mar 2026 09:40" in text
    async with bot.store.unit_of_work() as uow:
        [item] = await uow.mail.received_before(datetime(2100, 1, 1, tzinfo=UTC))
    assert item.received_at == SECOND_RECEIVED
    assert "passed_over" in {e.action.split(".")[-1] for e in await audit(bot)}


async def test_an_untaken_e_mail_alerts_the_duty_manager_in_teams(
    start_bot: StartBot, teams_channel: TeamsChannel
) -> None:
    """Through the alert pipeline: the job enqueues, the dispatcher renders (the harness checks the
    card with Microsoft's SDK) and posts to the duty manager on the rota, once."""
    moving = clock()
    bot = await start_bot(clock=moving)
    await staff(bot)
    await on_rota(bot, DUTY_MANAGER, Role.DUTY_MANAGER)
    duty_chat = await introduce(teams_channel, DUTY_MANAGER)
    await _mail(bot, messages.plain(), 1, FIRST_RECEIVED)  # 09:12: an office hour runs out at 10:12

    assert await run_mail_untaken(bot.store.unit_of_work, moving, POLICY, CALENDAR) == 0
    moving.set(datetime(2026, 3, 16, 10, 12, tzinfo=UTC))
    assert await run_mail_untaken(bot.store.unit_of_work, moving, POLICY, CALENDAR) == 1
    assert await run_mail_untaken(bot.store.unit_of_work, moving, POLICY, CALENDAR) == 0
    await bot.app[ALERTS].dispatch()

    found = [c for a in teams_channel.sent_to(duty_chat) for c in cards_in(a)]
    [card] = [c for c in found if c.get("fallbackText") == "E-mail waiting untaken"]  # and the welcome
    text = texts_of(card)
    assert "E-mail waiting untaken" in text and "Mon 16 Mar 2026 09:12" in text and "1 h" in text
    assert messages.SENDER not in text and messages.SUBJECT_PLAIN not in text
