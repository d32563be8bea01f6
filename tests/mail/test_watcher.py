"""The mailbox watcher against a real Dovecot (``tests/imap.py``) and the real stores: each message
delivered becomes one queue item with what the queue shows; a malformed one is logged by id and
skipped without stopping the watcher; a restart and two processes take nothing twice; only the
leader reads; IDLE brings a new message in without waiting for the next poll; a 20 MB message; a
contact started from an e-mail has the e-mail's received time as received-at; switching the watcher
on queues none of the mail already in the mailbox (``mail.first_read_hours`` of it when the policy
says so), and a mailbox renumbered by its server brings back nothing queued or deleted."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from frontdoor.acting import Rules, Who
from frontdoor.calendar import WorkingCalendar
from frontdoor.contact import Source
from frontdoor.mail import alert_untaken, item_from, parse_mail, start_from_mail, take, take_in
from frontdoor.mail_records import MailItem, MailState
from frontdoor.policy import default_policy, parse_policy
from frontdoor.retention import purge_expired_mail
from frontdoor.roles import Role
from frontdoor.unit_of_work import Store
from scheduler.leadership import SoleLeadership
from scheduler.mailbox import MailboxWatcher, SyncResult
from store.sql import SqlStore
from tests.imap import TestMailbox
from tests.mail import messages

T0 = datetime(2026, 3, 16, 9, 30, tzinfo=UTC)
OFFICER = "aad-officer-mail-1"


class Clock:
    def __init__(self, moment: datetime = T0) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


class NotLeader:
    exclusive = False

    async def try_acquire(self) -> bool:
        return False

    async def release(self) -> None:
        return None


#: The tests deliver their messages in the hour and a half before the watcher's clock: as if the
#: service had chosen to queue the last day's mail when switching on (``mail.first_read_hours``).
A_DAY = timedelta(hours=24)


def watcher(
    mailbox: TestMailbox, store: Store, leadership: object | None = None, *, first_read: timedelta = A_DAY
) -> MailboxWatcher:
    return MailboxWatcher(
        mailbox.address,
        store.unit_of_work,
        Clock(),
        leadership or SoleLeadership(),  # type: ignore[arg-type]
        poll_seconds=2,
        first_read=first_read,
    )


async def items(store: Store) -> list[MailItem]:
    async with store.unit_of_work() as uow:
        found = await uow.mail.received_before(datetime(2100, 1, 1, tzinfo=UTC))
    return found


def received(minutes: int) -> datetime:
    return datetime(2026, 3, 16, 8, 0, tzinfo=UTC) + timedelta(minutes=minutes)


async def test_each_message_becomes_one_queue_item(
    imap_mailbox: TestMailbox, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    imap_mailbox.deliver(messages.plain(), received(0))
    imap_mailbox.deliver(messages.html(), received(1))
    imap_mailbox.deliver(messages.malformed(), received(2))
    imap_mailbox.deliver(messages.attached(), received(3))
    imap_mailbox.deliver(messages.unicode_subject(), received(4))
    imap_mailbox.deliver(messages.no_message_id(), received(5))
    # The same message delivered twice (sent to two of the front door's addresses): taken once.
    imap_mailbox.deliver(messages.plain(), received(6))

    caplog.set_level(logging.DEBUG)
    watcher_again = watcher(imap_mailbox, store)
    result = await watcher_again.sync()

    assert (result.taken, result.unreadable, result.already) == (5, 1, 1)
    stored = await items(store)
    assert [item.uid for item in stored] == [1, 2, 3, 4, 5, 6]  # the repeat (UID 7) stores nothing
    by_uid = {item.uid: item for item in stored}
    async with store.unit_of_work() as uow:
        waiting = await uow.mail.waiting()
    # Oldest first; the unreadable one and the repeat are not in the queue.
    assert [item.uid for item in waiting] == [1, 2, 4, 5, 6]

    plain, html, broken, attached, unicode, no_id = (by_uid[uid] for uid in (1, 2, 3, 4, 5, 6))
    assert plain.received_at == received(0)
    assert (plain.sender_name, plain.sender_address) == (messages.SENDER_NAME, messages.SENDER)
    assert plain.subject == messages.SUBJECT_PLAIN
    assert plain.preview.startswith("Dear front door, I am worried about a pupil")
    assert plain.attachments == ()
    assert "<" not in html.preview and "alert(1)" not in html.preview and "color:red" not in html.preview
    assert "Officer attended." in html.preview
    assert "https://" not in html.preview and "https[:]//portal[.]example/x?y=1" in html.preview
    assert "evil" not in html.preview  # an HTML link's target is dropped with its tag
    assert broken.state is MailState.UNREADABLE and broken.message_id == "<broken-1@example.org>"
    assert attached.attachments == (messages.ATTACHMENT, "chronology.csv")
    assert unicode.subject == messages.SUBJECT_UNICODE
    assert unicode.sender_name == "Zoë Exampleová"
    assert no_id.message_id.startswith("<uid-") and no_id.state is MailState.WAITING

    # The malformed message is logged by its ids, and nothing any message says reaches the logs.
    skipped = [r for r in caplog.records if r.getMessage() == "unreadable e-mail skipped"]
    assert [(r.uid, r.message_id) for r in skipped] == [(3, "<broken-1@example.org>")]  # type: ignore[attr-defined]
    # (The SQL drivers' own DEBUG lines are silenced by ``bot.logs`` in the bot; ours and the IMAP
    # client's are checked here.)
    ours = [
        r
        for r in caplog.records
        if r.name.startswith(("frontdoor", "scheduler", "store", "bot", "aioimaplib"))
    ]
    assert any(r.name == "scheduler.mailbox" for r in ours)
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in ours)
    for secret in (messages.SENDER, messages.SENDER_NAME, messages.SUBJECT_PLAIN, "worried", "Łódź", "Zoë"):
        assert secret not in logged

    # The messages stay in the mailbox; the next poll reads nothing again.
    assert imap_mailbox.count() == 7
    assert (await watcher_again.sync()) == SyncResult()


async def test_a_restart_takes_nothing_twice(imap_mailbox: TestMailbox, sqlite_url: str) -> None:
    imap_mailbox.deliver(messages.plain(), received(0))
    imap_mailbox.deliver(messages.malformed(), received(1))
    first = SqlStore(sqlite_url)
    try:
        assert (await watcher(imap_mailbox, first).sync()).taken == 1
    finally:
        await first.close()

    imap_mailbox.deliver(messages.attached(), received(2))
    again = SqlStore(sqlite_url)  # a new process on the same database
    try:
        restarted = watcher(imap_mailbox, again)
        result = await restarted.sync()
        assert (result.taken, result.unreadable, result.already) == (1, 0, 0)
        assert (await restarted.sync()).taken == 0
        assert [item.uid for item in await items(again)] == [1, 2, 3]
        await restarted.stop()
    finally:
        await again.close()


@pytest.mark.postgres
async def test_two_processes_take_nothing_twice(imap_mailbox: TestMailbox, fresh_postgres_url: str) -> None:
    for number in range(12):
        imap_mailbox.deliver(messages.plain(f"<race-{number}@school.example>"), received(number))
    one, two = SqlStore(fresh_postgres_url), SqlStore(fresh_postgres_url)
    try:
        # Both believe they lead (the moment a leader changes): they read the same messages at once.
        first, second = await asyncio.gather(
            watcher(imap_mailbox, one).sync(), watcher(imap_mailbox, two).sync()
        )
        assert first.taken + second.taken == 12
        assert first.taken + first.already + second.taken + second.already >= 12
        stored = await items(one)
        assert sorted(item.uid for item in stored) == list(range(1, 13))
        assert len({item.message_id for item in stored}) == 12
    finally:
        await one.close()
        await two.close()


async def test_only_the_leader_reads(imap_mailbox: TestMailbox, sqlite_url: str) -> None:
    imap_mailbox.deliver(messages.plain(), received(0))
    store = SqlStore(sqlite_url)
    try:
        follower = watcher(imap_mailbox, store, NotLeader())
        assert await follower.poll() is None
        assert await items(store) == []
    finally:
        await store.close()


async def test_idle_brings_a_new_message_in_without_a_poll(
    imap_mailbox: TestMailbox, sqlite_url: str
) -> None:
    store = SqlStore(sqlite_url)
    leader = watcher(imap_mailbox, store)
    leader.poll_seconds = 30  # longer than the test: only IDLE can bring the message in
    try:
        result = await leader.poll()
        assert result is not None and result.taken == 0
        assert leader.idle_offered
        await asyncio.sleep(0.2)  # the listener is in IDLE
        await asyncio.to_thread(imap_mailbox.deliver, messages.plain(), received(0))
        deadline = time.monotonic() + 10
        while not await items(store):
            assert time.monotonic() < deadline, "IDLE did not bring the message in"
            await asyncio.sleep(0.05)
        assert await leader.poll() is None  # the listener is still running: the poll leaves it be
    finally:
        await leader.stop()
        await store.close()


async def test_a_20_mb_message(imap_mailbox: TestMailbox, sqlite_url: str) -> None:
    raw = messages.attached("<big-1@nspcc.example>", size=15 * 1024 * 1024)
    assert len(raw) > 20 * 1000 * 1000
    imap_mailbox.deliver(raw, received(0))
    imap_mailbox.deliver(messages.plain(), received(1))
    store = SqlStore(sqlite_url)
    try:
        began = time.monotonic()
        result = await watcher(imap_mailbox, store).sync()
        elapsed = time.monotonic() - began
        assert result.taken == 2
        big = (await items(store))[0]
        assert big.attachments == (messages.ATTACHMENT, "chronology.csv")
        assert big.size >= len(raw)  # the server stores CRLF line ends
        assert elapsed < 60
        print(f"20 MB message taken in {elapsed:.2f} s")
    finally:
        await store.close()


async def test_a_contact_from_an_e_mail_is_received_when_the_e_mail_was(
    imap_mailbox: TestMailbox, store: Store
) -> None:
    imap_mailbox.deliver(messages.plain(), received(0))
    await watcher(imap_mailbox, store).sync()
    [item] = await items(store)
    taken = await take(store.unit_of_work(), item.id, who=Who(OFFICER, frozenset({Role.OFFICER})), now=T0)
    assert isinstance(taken, MailItem)
    started = await start_from_mail(
        store.unit_of_work(),
        item.id,
        "source",
        who=Who(OFFICER, frozenset({Role.OFFICER})),
        now=T0,
    )
    assert not hasattr(started, "message")
    _, contact = started  # type: ignore[misc]
    async with store.unit_of_work() as uow:
        saved = await uow.contacts.get(contact.id)
        linked = await uow.mail.for_contact(contact.id)
    assert saved is not None and saved.received_at == received(0)
    assert saved.source is Source.EMAIL
    assert saved.referrer is not None and saved.referrer.email == messages.SENDER
    assert linked is not None and linked.id == item.id and linked.state is MailState.STARTED


_OTHER_PROCESS = """
import asyncio, json, sys
from frontdoor.mail import MailboxAddress
from frontdoor.systemclock import SettableClock
from datetime import datetime, timedelta
from scheduler.leadership import SoleLeadership
from scheduler.mailbox import MailboxWatcher
from store.sql import SqlStore

async def main():
    host, port, user, password, url = sys.argv[1:6]
    store = SqlStore(url)
    address = MailboxAddress(host, int(port), False, user, "INBOX", password)
    clock = SettableClock(datetime.fromisoformat(sys.argv[6]))
    watcher = MailboxWatcher(
        address, store.unit_of_work, clock, SoleLeadership(), poll_seconds=2, first_read=timedelta(hours=24)
    )
    result = await watcher.sync()
    await watcher.stop()
    await store.close()
    print(json.dumps([result.taken, result.already]))

asyncio.run(main())
"""


@pytest.mark.postgres
async def test_two_operating_system_processes_take_nothing_twice(
    imap_mailbox: TestMailbox, fresh_postgres_url: str
) -> None:
    for number in range(20):
        imap_mailbox.deliver(messages.plain(f"<proc-{number}@school.example>"), received(number))
    address = imap_mailbox.address
    other = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _OTHER_PROCESS, address.host, str(address.port), address.user,
        address.password, fresh_postgres_url, T0.isoformat(),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    store = SqlStore(fresh_postgres_url)
    try:
        here = await watcher(imap_mailbox, store).sync()
        out, _ = await other.communicate()
        assert other.returncode == 0
        taken_there, _ = json.loads(out)
        assert here.taken + taken_there == 20
        stored = await items(store)
        assert sorted(item.uid for item in stored) == list(range(1, 21))
    finally:
        await store.close()


# -- switching the watcher on, and a mailbox renumbered --------------------------------------------


async def test_switching_on_queues_none_of_the_mail_already_in_the_mailbox(
    imap_mailbox: TestMailbox, store: Store
) -> None:
    for number in range(3):  # years of mail already in the front door's mailbox
        imap_mailbox.deliver(
            messages.plain(f"<old-{number}@school.example>"), T0 - timedelta(days=400 - number)
        )
    imap_mailbox.deliver(messages.html(), T0 - timedelta(minutes=5))  # dealt with in Outlook as before

    switched_on = watcher(imap_mailbox, store, first_read=timedelta(0))
    assert await switched_on.sync() == SyncResult(passed_over=4)
    assert await items(store) == []
    # Nothing waits, so nothing alerts the duty manager, however long after.
    later = Rules(T0 + timedelta(days=3), WorkingCalendar(), default_policy())
    assert await alert_untaken(store.unit_of_work, rules=later) == 0
    async with store.unit_of_work() as uow:
        events = await uow.audit.for_subject(f"mailbox:{imap_mailbox.address.key}")
    assert [(e.event.action, e.event.actor_id) for e in events] == [("mail.passed_over", "system:mailbox")]
    assert "count=4" in events[0].event.detail

    # From then on, what arrives is queued; what was passed over is never read again.
    imap_mailbox.deliver(messages.attached(), T0 + timedelta(minutes=1))
    assert await switched_on.sync() == SyncResult(taken=1)
    restarted = watcher(imap_mailbox, store, first_read=timedelta(0))
    assert await restarted.sync() == SyncResult()
    assert [item.uid for item in await items(store)] == [5]
    await switched_on.stop()
    await restarted.stop()


async def test_the_first_read_queues_the_mail_of_the_policy_s_last_hours(
    imap_mailbox: TestMailbox, store: Store
) -> None:
    policy = parse_policy("[mail]\nfirst_read_hours = 2")
    imap_mailbox.deliver(messages.plain("<three-hours@school.example>"), T0 - timedelta(hours=3))
    imap_mailbox.deliver(messages.plain("<one-hour@school.example>"), T0 - timedelta(hours=1))
    switched_on = watcher(imap_mailbox, store, first_read=policy.mail.first_read)
    assert await switched_on.sync() == SyncResult(taken=1, passed_over=1)
    assert [item.message_id for item in await items(store)] == ["<one-hour@school.example>"]
    await switched_on.stop()


async def test_a_renumbered_mailbox_brings_back_nothing_queued_or_deleted(
    imap_mailbox: TestMailbox, store: Store
) -> None:
    folder = "Referrals"
    imap_mailbox.create(folder)
    address = replace(imap_mailbox.address, mailbox=folder)
    clock = Clock(T0)

    def watching() -> MailboxWatcher:
        return MailboxWatcher(
            address, store.unit_of_work, clock, SoleLeadership(), poll_seconds=2, first_read=timedelta(0)
        )

    first = watching()
    assert await first.sync() == SyncResult()  # switched on with an empty folder
    imap_mailbox.deliver(messages.plain("<kept@school.example>"), T0 + timedelta(minutes=1), folder)
    imap_mailbox.deliver(messages.plain("<advice@school.example>"), T0 + timedelta(minutes=2), folder)
    clock.moment = T0 + timedelta(minutes=5)
    assert await first.sync() == SyncResult(taken=2)
    kept, advice = await items(store)
    assert kept.message_id == "<kept@school.example>"
    # Seven months on: the advice e-mail was marked not a referral and retention deleted its data.
    async with store.unit_of_work() as uow:
        await uow.mail.save(replace(advice, state=MailState.NOT_REFERRAL, taken_by=OFFICER), advice.version)
        await uow.commit()
    clock.moment = T0 + timedelta(days=213)
    rules = Rules(clock.moment, WorkingCalendar(), default_policy())
    assert await purge_expired_mail(store.unit_of_work(), rules=rules) == [advice.id]
    imap_mailbox.deliver(
        messages.attached("<lately@nspcc.example>"), clock.moment - timedelta(minutes=30), folder
    )
    assert await first.sync() == SyncResult(taken=1)
    await first.stop()

    before = imap_mailbox.uid_validity(folder)
    imap_mailbox.renumber(folder)
    assert imap_mailbox.uid_validity(folder) != before
    moved = "<during-the-move@police.example>"
    imap_mailbox.deliver(messages.html(moved), clock.moment + timedelta(minutes=10), folder)
    clock.moment += timedelta(minutes=20)
    again = watching()
    # The two old ones are passed over (one still queued, one deleted: neither comes back); the one
    # read half an hour before is matched by its Message-ID; only the new one is queued.
    assert await again.sync() == SyncResult(taken=1, already=1, passed_over=2)
    stored = await items(store)
    assert sorted(item.message_id for item in stored) == sorted(
        ["<kept@school.example>", "<lately@nspcc.example>", moved]
    )
    assert not any(item.message_id == "<advice@school.example>" for item in stored)
    assert await again.sync() == SyncResult()
    await again.stop()


async def test_a_mailbox_read_before_marks_were_kept_passes_nothing_over(
    imap_mailbox: TestMailbox, store: Store
) -> None:
    """An upgrade: the store holds what the watcher took in before it kept a mark; a message that
    arrived while the bot was down is new, not mail already there at a switch-on."""
    raw = messages.plain("<before-the-upgrade@school.example>")
    imap_mailbox.deliver(raw, T0 - timedelta(hours=3))
    taken_before = item_from(
        parse_mail(raw), mailbox=imap_mailbox.address.key, uid_validity=imap_mailbox.uid_validity("INBOX"),
        uid=1, received_at=T0 - timedelta(hours=3), size=len(raw),
    )  # fmt: skip
    assert await take_in(store.unit_of_work(), taken_before, T0 - timedelta(hours=3))
    imap_mailbox.deliver(messages.html(), T0 - timedelta(minutes=30))  # while the bot was down

    upgraded = watcher(imap_mailbox, store, first_read=timedelta(0))
    assert await upgraded.sync() == SyncResult(taken=1)
    assert [item.uid for item in await items(store)] == [1, 2]
    await upgraded.stop()
